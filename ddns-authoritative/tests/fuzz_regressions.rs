//! Every input kept for the `dns_update` and `dns_message` fuzz targets,
//! through the checks the targets run (`fuzz/src/dns_checks.rs`): their
//! seeds (real UPDATE messages; queries, transfers, NOTIFY and EDNS
//! extremes) and every crash found, fixed and kept.

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
fn dns_message_inputs() {
    replay::replay_with_seeds("dns_message", dns_checks::dns_message);
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

#[test]
fn the_transfer_seed_gives_the_open_secondary_the_signed_zone_and_others_nothing() {
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/dns_message");
    let axfr = std::fs::read(dir.join("axfr")).unwrap();
    let (runtime, responder, zone) = dns_checks::responder();
    let records = |source: std::net::SocketAddr, tcp: bool| -> (usize, u8) {
        let answers = runtime.block_on(responder.respond(axfr.clone(), source, tcp));
        let first = dns_checks::header(&answers[0]).unwrap();
        let records = answers
            .iter()
            .map(|a| usize::from(dns_checks::header(a).unwrap().4[1]))
            .sum();
        (records, first.3)
    };
    let secondary = (dns_checks::OPEN_SECONDARY, 40000).into();
    let (transferred, rcode) = records(secondary, true);
    // SOA, NS, DNSKEY, three A records, the NSEC of the apex and the
    // three hosts, each signed, and the closing SOA unsigned.
    assert_eq!(rcode, 0);
    assert_eq!(transferred, 2 * 10 + 1, "serial {}", zone.serial());
    // Refused (5) over UDP, and to another address.
    assert_eq!(records(secondary, false), (0, 5));
    assert_eq!(records(([198, 51, 100, 1], 40000).into(), true), (0, 5));
}
