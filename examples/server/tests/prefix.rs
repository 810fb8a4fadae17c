//! Hosts behind a router follow its delegated IPv6 prefix, through the
//! real binary on its embedded defaults: records made with `add`, the
//! router's requests exactly as a FRITZ!Box sends them (its User-Agent,
//! Basic auth, raw `/` and `:` in the query) from a public address through
//! a trusted proxy, and `dig` against the embedded DNS. The batch counts
//! come from `ddns_dns_batches_total`, which counts the calls that change
//! DNS through the backend.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::Path;

use common::{Reply, Spawned, admin, basic, get, server_command};

const ROUTER: &str = "router.example.com";
const WAN_V4: &str = "198.51.100.7";
const WAN_V6: &str = "2001:db8:1:2300::1";
const FOLLOWERS: [(&str, &str); 3] = [
    ("nas.example.com", "::211:32ff:fe12:3456"),
    ("cam.example.com", "::2"),
    ("printer.example.com", "::a:b:c:d"),
];
const CONFIG: &str = "[http]\nlisten = [\"127.0.0.1:0\"]\ntrusted_proxies = [\"127.0.0.1/32\"]\n\
    [dns]\nlisten = [\"127.0.0.1:0\"]\n[store]\nkind = \"sqlite\"\npath = \"ddns.sqlite3\"\n";

/// A running server with the router and its three followers added with
/// the admin commands.
struct Home {
    dir: tempfile::TempDir,
    server: Spawned,
    secret: String,
}

fn run(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["--config", "ddns.toml"];
    all.extend_from_slice(args);
    admin(dir, &all)
}

fn home() -> Option<Home> {
    common::dig(&["-v"])?;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ddns.toml"), CONFIG).unwrap();
    let secret = common::printed_secret(&run(dir.path(), &["add", ROUTER]));
    for (host, id) in FOLLOWERS {
        let out = run(
            dir.path(),
            &[
                "add",
                host,
                "--ipv6-interface-id",
                id,
                "--prefix-from",
                ROUTER,
            ],
        );
        assert!(out.contains(&format!("added {host}. (AAAA)")), "{out}");
    }
    let mut command = server_command();
    command
        .current_dir(dir.path())
        .args(["--config", "ddns.toml"]);
    let server = Spawned::start(command);
    Some(Home {
        dir,
        server,
        secret,
    })
}

impl Home {
    fn dns(&self) -> SocketAddr {
        self.server.dns.expect("the embedded DNS")
    }

    /// A request as the FRITZ!Box sends it, `query` unescaped.
    async fn fritzbox(&self, query: &str, password: &str) -> Reply {
        let auth = basic(ROUTER, password);
        get(
            self.server.http,
            &format!("/nic/update?{query}"),
            &[
                ("User-Agent", "Fritz!Box DDNS/1.0.1"),
                ("Authorization", &auth),
                ("X-Forwarded-For", WAN_V4),
            ],
        )
        .await
    }

    /// `dig +short host rtype` at the embedded DNS.
    fn dig(&self, host: &str, rtype: &str) -> String {
        ddns_testkit::dns::dig_short(self.dns(), host, rtype).unwrap_or_default()
    }

    /// The one-URL FRITZ!Box report of `prefix` with the router's secret,
    /// and how many DNS batches it cost.
    async fn report(&self, prefix: &str) -> (Reply, u64) {
        let before = self.batches().await;
        let reply = self.fritzbox(&one_url(prefix), &self.secret).await;
        (reply, self.batches().await - before)
    }

    async fn batches(&self) -> u64 {
        let metrics = get(self.server.http, "/metrics", &[]).await.body;
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("ddns_dns_batches_total "))
            .unwrap_or_else(|| panic!("no ddns_dns_batches_total in:\n{metrics}"))
            .trim()
            .parse()
            .unwrap()
    }

    /// Every follower's AAAA in the embedded DNS is `prefix` + its id.
    fn assert_followers_at(&self, prefix: &str) {
        for (host, id) in FOLLOWERS {
            assert_eq!(
                self.dig(host, "AAAA"),
                in_prefix(prefix, id).to_string(),
                "{host} after {prefix}; server log:\n{}",
                self.server.log().join("\n")
            );
        }
    }

    /// Every name's A and AAAA as the embedded DNS answers them.
    fn snapshot(&self) -> Vec<String> {
        let mut names = vec![ROUTER];
        names.extend(FOLLOWERS.iter().map(|(h, _)| *h));
        names
            .iter()
            .flat_map(|h| ["A", "AAAA"].map(|t| format!("{h} {t} {}", self.dig(h, t))))
            .collect()
    }
}

fn in_prefix(prefix: &str, id: &str) -> IpAddr {
    let net: ipnet::Ipv6Net = prefix.parse().unwrap();
    let id: Ipv6Addr = id.parse().unwrap();
    IpAddr::V6((u128::from(net.network()) | u128::from(id)).into())
}

fn one_url(prefix: &str) -> String {
    format!("hostname={ROUTER}&myip={WAN_V4},{WAN_V6}&ip6lanprefix={prefix}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fritzbox_moves_its_hosts_in_one_batch_and_an_unchanged_prefix_costs_nothing() {
    let Some(mut home) = home() else {
        return;
    };
    let show = run(home.dir.path(), &["show", "nas.example.com"]);
    assert!(
        show.contains("prefix_from     router.example.com.")
            && show.contains("interface_id    ::211:32ff:fe12:3456"),
        "{show}"
    );

    let r = home
        .fritzbox(&one_url("2001:db8:1:2300::/56"), &home.secret)
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "good 198.51.100.7 2001:db8:1:2300::1\n")
    );
    assert_eq!(home.dig(ROUTER, "A"), WAN_V4);
    assert_eq!(home.dig(ROUTER, "AAAA"), WAN_V6);
    home.assert_followers_at("2001:db8:1:2300::/56");

    // A new prefix: the three move in one batch (the router's own records
    // are unchanged and cost nothing).
    let (r, batches) = home.report("2001:db8:77:4400::/56").await;
    assert_eq!(r.body, "nochg 198.51.100.7 2001:db8:1:2300::1\n");
    assert_eq!(batches, 1, "one DNS batch for three hosts");
    home.assert_followers_at("2001:db8:77:4400::/56");

    // The same prefix again: no DNS call at all.
    let (r, batches) = home.report("2001:db8:77:4400::/56").await;
    assert_eq!(r.body, "nochg 198.51.100.7 2001:db8:1:2300::1\n");
    assert_eq!(batches, 0, "an unchanged prefix calls no provider");

    // The admin stops one host following: the next prefix leaves it.
    run(
        home.dir.path(),
        &["update", "cam.example.com", "--stop-following"],
    );
    home.report("2001:db8:99:100::/56").await;
    assert_eq!(
        home.dig("nas.example.com", "AAAA"),
        in_prefix("2001:db8:99:100::/56", "::211:32ff:fe12:3456").to_string()
    );
    assert_eq!(
        home.dig("cam.example.com", "AAAA"),
        in_prefix("2001:db8:77:4400::/56", "::2").to_string(),
        "a host that no longer follows keeps its address"
    );
    home.server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_is_answered_as_documented_and_changes_nothing() {
    let Some(mut home) = home() else {
        return;
    };
    // The dynv6 form sets them too.
    let r = home
        .fritzbox(
            &format!("hostname={ROUTER}&ipv6prefix=2001:db8:5:500::/56"),
            &home.secret,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    home.assert_followers_at("2001:db8:5:500::/56");
    let settled = home.snapshot();

    // A prefix of the wrong length, or none at all: HTTP 400, nothing set.
    for prefix in ["2001:db8::/40", "2001:db8:5:500:1::/80", "fritz"] {
        let r = home
            .fritzbox(
                &format!("hostname={ROUTER}&myip=198.51.100.99&ip6lanprefix={prefix}"),
                &home.secret,
            )
            .await;
        assert_eq!(r.status, 400, "{prefix}: {}", r.body);
        assert!(r.body.starts_with("badprefix "), "{prefix}: {}", r.body);
    }
    // A wrong password, and a follower's own password naming the router.
    let r = home
        .fritzbox(&one_url("2001:db8:6:600::/56"), "wrong")
        .await;
    assert_eq!((r.status, r.body.as_str()), (401, "badauth\n"));
    assert_eq!(home.snapshot(), settled, "nothing changed");

    // An interface id that does not fit a /64: that host stays, the
    // others move, and the router's answer is still good.
    run(
        home.dir.path(),
        &[
            "update",
            "printer.example.com",
            "--type",
            "aaaa",
            "--prefix-from",
            ROUTER,
            "--ipv6-interface-id",
            "::1:0:0:0:9",
        ],
    );
    let r = home
        .fritzbox(
            &format!("hostname={ROUTER}&myip={WAN_V6}&ip6lanprefix=2001:db8:8:800::/64"),
            &home.secret,
        )
        .await;
    assert_eq!(r.body, "good 2001:db8:1:2300::1\n");
    assert_eq!(
        home.dig("nas.example.com", "AAAA"),
        in_prefix("2001:db8:8:800::/64", "::211:32ff:fe12:3456").to_string()
    );
    assert_eq!(
        home.dig("printer.example.com", "AAAA"),
        in_prefix("2001:db8:5:500::/56", "::a:b:c:d").to_string(),
        "the id that does not fit leaves the printer where it was"
    );
    assert!(
        home.server
            .wait_for_log(
                "the reported prefix cannot move printer.example.com",
                std::time::Duration::from_secs(5)
            )
            .is_some(),
        "the refusal is logged for the operator"
    );

    // `-` removes the followers' AAAA (dynv6), not the router's.
    let r = home
        .fritzbox(
            &format!("hostname={ROUTER}&myip={WAN_V4}&ipv6prefix=-"),
            &home.secret,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (host, _) in FOLLOWERS {
        assert_eq!(home.dig(host, "AAAA"), "", "{host} removed");
    }
    assert_eq!(home.dig(ROUTER, "AAAA"), WAN_V6);
    home.server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_update_urls_end_like_one() {
    let (Some(mut one), Some(mut two)) = (home(), home()) else {
        return;
    };
    let prefix = "2001:db8:1:2300::/56";
    let r = one.fritzbox(&one_url(prefix), &one.secret).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The two-URL FRITZ!Box: IPv4 first, then IPv6 with the prefix.
    let r = two
        .fritzbox(&format!("hostname={ROUTER}&myip={WAN_V4}"), &two.secret)
        .await;
    assert_eq!(r.body, "good 198.51.100.7\n");
    // The box's spacing between its two URLs (not a wait for readiness:
    // the first answer came back already).
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let r = two
        .fritzbox(
            &format!("hostname={ROUTER}&myip={WAN_V6}&ip6lanprefix={prefix}"),
            &two.secret,
        )
        .await;
    assert_eq!(r.body, "good 2001:db8:1:2300::1\n");
    assert_eq!(one.snapshot(), two.snapshot());
    two.assert_followers_at(prefix);
    assert_eq!(
        (two.dig(ROUTER, "A"), two.dig(ROUTER, "AAAA")),
        (WAN_V4.to_owned(), WAN_V6.to_owned())
    );
    one.server.stop();
    two.server.stop();
}
