//! BIND 9.18 and Knot 3.2 as secondaries of the embedded DNS, each with a
//! TSIG transfer key, through the real binary on its defaults: records
//! made with `add`, changed by dyndns2 clients at public addresses through
//! a trusted proxy, removed with `remove`. Both secondaries must answer a
//! change within 2 s (NOTIFY, not their one-hour refresh), end a burst of
//! 500 changes with the primary's zone after a handful of transfers, and
//! keep following across a restart of the primary, whose serial never
//! goes back. Other addresses and other keys get no transfer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Spawned, admin, basic, get, server_command};
use ddns_testkit::dns::dig_short;
use ddns_testkit::secondaries::TRANSFER_KEY_NAME;
use ddns_testkit::servers::{DnsServer, free_port, random_secret};

/// host-0 is removed early; host-1 to host-50 take the burst.
const HOSTS: usize = 51;

struct Setup {
    dir: tempfile::TempDir,
    primary: SocketAddr,
    secret: String,
    secondaries: [u16; 2],
    passwords: Vec<String>,
}

fn host(i: usize) -> String {
    format!("host-{i}.example.com")
}

fn run(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["--config", "ddns.toml"];
    all.extend_from_slice(args);
    admin(dir, &all)
}

/// The primary's configuration (with `zone_extra` in `[zone]`), and
/// `HOSTS` records made with `add`.
fn setup(zone_extra: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let primary = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let secret = random_secret();
    let secondaries = [free_port(), free_port()];
    let mut config = format!(
        "[http]\nlisten = [\"127.0.0.1:0\"]\ntrusted_proxies = [\"127.0.0.1/32\"]\n\
         [dns]\nlisten = [\"{primary}\"]\n[zone]\nname = \"example.com\"\n{zone_extra}"
    );
    for port in secondaries {
        config.push_str(&format!(
            "[[zone.secondaries]]\naddress = \"127.0.0.1:{port}\"\nkey_name = \"{TRANSFER_KEY_NAME}\"\nkey_secret = \"{secret}\"\n"
        ));
    }
    config.push_str("[store]\nkind = \"sqlite\"\npath = \"ddns.sqlite3\"\n");
    std::fs::write(dir.path().join("ddns.toml"), config).unwrap();
    // It holds the transfer key: the owner's only, as the server asks.
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(
            dir.path().join("ddns.toml"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    let passwords = (0..HOSTS)
        .map(|i| common::printed_secret(&run(dir.path(), &["add", &host(i)])))
        .collect();
    Setup {
        dir,
        primary,
        secret,
        secondaries,
        passwords,
    }
}

fn start(setup: &Setup) -> Spawned {
    let mut command = server_command();
    command
        .current_dir(setup.dir.path())
        .args(["--config", "ddns.toml"]);
    Spawned::start(command)
}

/// A dyndns2 client's update of host `i` with `password` from `address`
/// (its public address, through the trusted proxy).
async fn update(http: SocketAddr, i: usize, password: &str, address: &str) {
    let reply = get(
        http,
        &format!("/nic/update?hostname={}", host(i)),
        &[
            ("Authorization", &basic(&host(i), password)),
            ("X-Forwarded-For", address),
        ],
    )
    .await;
    assert!(
        reply.body.starts_with("good") || reply.body.starts_with("nochg"),
        "update of {} to {address}: {} {}",
        host(i),
        reply.status,
        reply.body
    );
}

/// The zone's SOA serial at `addr`.
fn serial(addr: SocketAddr) -> Option<u32> {
    dig_short(addr, "example.com.", "SOA")?
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

/// Asks every server in `at` for `name`'s A (each round is real
/// queries) until all answer `expected` (empty: NXDOMAIN, nothing) or
/// `limit` passes; the time it took, or a panic naming who lags.
fn until_all_answer(at: &[&DnsServer], name: &str, expected: &str, limit: Duration) -> Duration {
    let begun = Instant::now();
    loop {
        let answers: Vec<String> = at
            .iter()
            .map(|s| dig_short(s.addr, name, "A").unwrap_or_default())
            .collect();
        if answers.iter().all(|a| a == expected) {
            return begun.elapsed();
        }
        if begun.elapsed() > limit {
            let lagging: Vec<String> = at
                .iter()
                .zip(&answers)
                .filter(|(_, a)| *a != expected)
                .map(|(s, a)| format!("{} answers {a:?}; its log:\n{}", s.name, s.log()))
                .collect();
            panic!(
                "{name} not {expected:?} on every secondary within {limit:?}:\n{}",
                lagging.join("\n")
            );
        }
    }
}

/// Waits (at most `limit`, querying) until every secondary holds `serial`.
fn until_serial(at: &[&DnsServer], serial_wanted: u32, limit: Duration) {
    let begun = Instant::now();
    while at.iter().any(|s| serial(s.addr) != Some(serial_wanted)) {
        assert!(
            begun.elapsed() < limit,
            "secondaries at {:?}, the primary at {serial_wanted}",
            at.iter().map(|s| serial(s.addr)).collect::<Vec<_>>()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_and_knot_follow_the_embedded_dns_by_notify_across_a_restart() {
    let setup = setup("");
    let mut server = start(&setup);
    let (Some(bind), Some(knot)) = (
        DnsServer::bind_secondary(setup.secondaries[0], setup.primary, &setup.secret),
        DnsServer::knot_secondary(setup.secondaries[1], setup.primary, &setup.secret),
    ) else {
        return;
    };
    let both = [&bind, &knot];
    let key = format!("hmac-sha256:{TRANSFER_KEY_NAME}:{}", setup.secret);

    // A set over HTTP: both secondaries answer it within 2 s.
    update(server.http, 0, &setup.passwords[0], "198.51.100.10").await;
    let took = until_all_answer(&both, &host(0), "198.51.100.10", Duration::from_secs(2));
    println!("a set reached both secondaries in {took:?}");
    update(server.http, 1, &setup.passwords[1], "198.51.100.11").await;
    let took = until_all_answer(&both, &host(1), "198.51.100.11", Duration::from_secs(2));
    println!("a second set reached both secondaries in {took:?}");

    // A remove too.
    let removed = run(setup.dir.path(), &["remove", &host(0)]);
    assert!(
        removed.contains(&format!("removed {}.", host(0))),
        "{removed}"
    );
    let took = until_all_answer(&both, &host(0), "", Duration::from_secs(2));
    println!("a remove reached both secondaries in {took:?}");

    // A burst of 500 changes from 50 clients (host-1 to host-50), 10
    // each, 25 at a time.
    let transfers_before = [bind.transfers_in(), knot.transfers_in()];
    let begun = Instant::now();
    for round in 0..10 {
        for half in [1..26, 26..HOSTS] {
            let mut clients = tokio::task::JoinSet::new();
            for i in half {
                let address = format!("203.0.113.{}", (i * 10 + round) % 250 + 1);
                let (http, password) = (server.http, setup.passwords[i].clone());
                clients.spawn(async move { update(http, i, &password, &address).await });
            }
            while let Some(done) = clients.join_next().await {
                done.unwrap();
            }
        }
    }
    let sent = begun.elapsed();
    let primary_serial = serial(setup.primary).unwrap();
    until_serial(&both, primary_serial, Duration::from_secs(10));
    println!(
        "500 changes sent in {sent:?}; both secondaries at the primary's serial after {:?}",
        begun.elapsed()
    );
    let primary_zone = DnsServer::zone_lines(setup.primary, Some(&key));
    assert!(primary_zone.len() > HOSTS, "{primary_zone:?}");
    assert_eq!(
        DnsServer::zone_lines(bind.addr, None),
        primary_zone,
        "BIND's copy"
    );
    assert_eq!(
        DnsServer::zone_lines(knot.addr, None),
        primary_zone,
        "Knot's copy"
    );
    let transfers = [
        bind.transfers_in() - transfers_before[0],
        knot.transfers_in() - transfers_before[1],
    ];
    println!(
        "500 changes cost {} transfers to BIND and {} to Knot",
        transfers[0], transfers[1]
    );
    assert!(
        transfers.iter().all(|&t| (1..=25).contains(&t)),
        "500 changes cost {transfers:?} transfers"
    );

    // No transfer for another address, another key or no key.
    let wrong = format!("hmac-sha256:{TRANSFER_KEY_NAME}:{}", random_secret());
    for (what, args) in [
        (
            "another address",
            vec!["-b", "127.0.0.2", "-y", key.as_str()],
        ),
        ("a wrong secret", vec!["-y", wrong.as_str()]),
        ("no key", vec![]),
    ] {
        let port = setup.primary.port().to_string();
        let mut all = vec!["@127.0.0.1", "-p", port.as_str(), "+time=3", "+tries=1"];
        all.extend(args);
        all.extend(["example.com.", "AXFR"]);
        let out = common::dig(&all).unwrap();
        assert!(!out.contains("203.0.113."), "{what} got the zone:\n{out}");
    }

    // A restart: the serial goes up, and the secondaries follow at once.
    server.stop();
    let server = start(&setup);
    let restarted = serial(setup.primary).unwrap();
    assert!(
        restarted > primary_serial,
        "{primary_serial} became {restarted}"
    );
    until_serial(&both, restarted, Duration::from_secs(5));
    update(server.http, 1, &setup.passwords[1], "198.51.100.99").await;
    let took = until_all_answer(&both, &host(1), "198.51.100.99", Duration::from_secs(2));
    println!("after the restart, a set reached both secondaries in {took:?}");
    assert!(
        server
            .log()
            .iter()
            .all(|l| !l.contains("NOTIFY unanswered")),
        "every NOTIFY was answered:\n{}",
        server.log().join("\n")
    );
}

/// Runs `program` with `args` (a zone checker); its output and whether it
/// succeeded; `None` (loudly) when it is missing.
fn check_zone(program: &str, package: &str, args: &[&str]) -> Option<(bool, String)> {
    let binary = ddns_testkit::tools::required(program, &format!("apt-get install {package}"))?;
    let out = std::process::Command::new(binary)
        .args(args)
        .output()
        .unwrap();
    Some((
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_zone_validates_on_the_embedded_dns_and_on_its_secondaries() {
    // Name servers outside the zone need no glue in it.
    let setup = setup("dnssec = true\nnameservers = [\"ns1.example.net\", \"ns2.example.org\"]\n");
    // The DS and DNSKEY are there before the first start.
    let ds = run(setup.dir.path(), &["ds"]);
    let anchor = ds
        .lines()
        .find(|l| l.contains(" DNSKEY 257 3 13 "))
        .unwrap_or_else(|| panic!("no DNSKEY in:\n{ds}"))
        .to_owned();
    assert!(
        ds.lines()
            .any(|l| l.starts_with("example.com. ") && l.contains(" DS ") && l.contains(" 13 2 ")),
        "{ds}"
    );
    let key_file = setup.dir.path().join("example.com.dnssec.key");
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the key file is the owner's only");
    }
    let server = start(&setup);
    let (Some(bind), Some(knot)) = (
        DnsServer::bind_secondary(setup.secondaries[0], setup.primary, &setup.secret),
        DnsServer::knot_secondary(setup.secondaries[1], setup.primary, &setup.secret),
    ) else {
        return;
    };
    update(server.http, 1, &setup.passwords[1], "198.51.100.11").await;
    until_all_answer(
        &[&bind, &knot],
        &host(1),
        "198.51.100.11",
        Duration::from_secs(2),
    );

    for (who, addr) in [("the embedded DNS", setup.primary), ("BIND", bind.addr)] {
        for (what, name, rtype) in [
            ("a positive answer", host(1), "A"),
            (
                "a name that does not exist",
                "missing.example.com".to_owned(),
                "A",
            ),
            ("a type that does not exist", host(1), "AAAA"),
            ("a host with no address yet", host(2), "A"),
        ] {
            let (anchor, name) = (anchor.clone(), name.clone());
            let out = tokio::task::spawn_blocking(move || {
                ddns_testkit::dns::delv(addr, &anchor, &name, rtype)
            })
            .await
            .unwrap()
            .unwrap();
            assert!(
                ddns_testkit::dns::fully_validated(&out),
                "{what} from {who} is not fully validated:\n{out}"
            );
        }
    }

    // The copies the secondaries keep are whole signed zones.
    let serial_now = serial(setup.primary).unwrap();
    until_serial(&[&bind, &knot], serial_now, Duration::from_secs(5));
    let bind_copy = bind.zone_file();
    let begun = Instant::now();
    while !std::fs::read_to_string(&bind_copy).is_ok_and(|t| t.contains("198.51.100.11")) {
        assert!(
            begun.elapsed() < Duration::from_secs(10),
            "BIND wrote no copy"
        );
        // BIND writes its copy after the transfer; each round reads it.
        std::thread::yield_now();
    }
    let path = bind_copy.display().to_string();
    if let Some((ok, out)) = check_zone(
        "kzonecheck",
        "knot-dnssecutils",
        &["-o", "example.com.", "-d", "on", &path],
    ) {
        assert!(
            ok,
            "kzonecheck refuses BIND's copy:\n{out}\n{}",
            std::fs::read_to_string(&bind_copy).unwrap()
        );
    }
    if let Some((ok, out)) = check_zone("ldns-verify-zone", "ldnsutils", &[&path]) {
        assert!(ok, "ldns-verify-zone refuses BIND's copy:\n{out}");
    }
    assert_eq!(
        DnsServer::zone_lines(knot.addr, None),
        DnsServer::zone_lines(bind.addr, None),
        "Knot holds the same signed zone"
    );
    // hickory's catalog warns on every positive answer of a zone that
    // declares NSEC; the embedded DNS must not flood its log so.
    let warned: Vec<String> = server
        .log()
        .into_iter()
        .filter(|l| l.contains("WARN") && !l.contains("a new DNSSEC key was made"))
        .collect();
    assert!(
        warned.is_empty(),
        "the signed zone's answers logged warnings:\n{}",
        warned.join("\n")
    );
}
