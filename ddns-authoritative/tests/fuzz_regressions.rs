//! Every input kept for the `dns_update` fuzz target, through the check
//! the target runs (`fuzz/src/dns_checks.rs`): its seeds (real UPDATE
//! messages) and every crash found, fixed and kept.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

#[path = "../../fuzz/src/dns_checks.rs"]
#[allow(dead_code, unreachable_pub)]
mod dns_checks;

#[path = "../../fuzz/src/replay.rs"]
#[allow(dead_code, unreachable_pub)]
mod replay;

#[test]
fn dns_update_inputs() {
    replay::replay_with_seeds("dns_update", dns_checks::dns_update);
}

#[test]
fn the_seed_messages_plan_what_they_say() {
    use ddns_authoritative::plan_update;
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/dns_update");
    let seed = |name: &str| std::fs::read(dir.join(name)).unwrap();
    // dns_checks' fixture: home A 198.51.100.7, two challenge values.
    let zone = dns_checks::fixture();
    // The address it already holds: nothing to change.
    assert_eq!(plan_update(zone, &seed("set-address")), Ok(vec![]));
    // Two new values after the two held, with a prerequisite that holds.
    let planned = plan_update(zone, &seed("present-two")).unwrap();
    assert_eq!(planned.len(), 1);
    let texts: Vec<String> = planned[0].values.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        [
            "\"first\"",
            "\"second\"",
            "\"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0\"",
            "\"second-value\""
        ]
    );
    // Deletions of a value and a name that are not there change nothing.
    assert_eq!(plan_update(zone, &seed("cleanup")), Ok(vec![]));
    // A signed AAAA replace: the signature is not this function's concern.
    let planned = plan_update(zone, &seed("signed")).unwrap();
    assert_eq!(planned[0].key.to_string(), "home.example.com. AAAA");
}
