//! Several zones through the real binary: two in the embedded DNS and one
//! on a real BIND primary (RFC 2136), records made with the admin CLI's
//! defaults, updates over HTTP from public addresses through a trusted
//! proxy, answers read with `dig`, and removals made from the command line
//! while the server runs.

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

use common::{Spawned, admin, dig, get, server_command};
use ddns_core::{HashToken, Hostname, Record, RecordConfig, RecordKey, RecordStore, RecordType};
use ddns_testkit::servers::{DnsServer, KEY_NAME};

const SECRET: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn hash(source: &str, host: &str) -> String {
    HashToken::compute_as_sent(
        source.parse().unwrap(),
        &ddns_core::SentName::parse(&format!("{host}.")),
        &ddns_core::SharedSecret::new(SECRET),
    )
    .to_hex()
}

/// `dig +short` of `name`/`rtype` at `server`, one value per line.
fn short(server: SocketAddr, name: &str, rtype: &str) -> Option<String> {
    ddns_testkit::dns::dig_short(server, name, rtype)
}

/// The status dig reports for `name` A at `server` (`NOERROR`, `NXDOMAIN`).
fn status(server: SocketAddr, name: &str) -> Option<String> {
    let out = dig(&[
        &format!("@{}", server.ip()),
        "-p",
        &server.port().to_string(),
        "+time=2",
        "+tries=1",
        name,
        "A",
    ])?;
    out.split("status: ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .map(str::to_owned)
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    server_command()
        .current_dir(dir)
        .args(["--config", "zones.toml"])
        .args(args)
        .output()
        .unwrap()
}

async fn set(http: SocketAddr, host: &str, source: &str) -> String {
    get(
        http,
        &format!("/?mode=set&hostname={host}&hash={}", hash(source, host)),
        &[("X-Forwarded-For", source)],
    )
    .await
    .body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_embedded_zones_and_a_bind_zone_answer_update_and_forget() {
    let Some(bind) = DnsServer::bind() else {
        return;
    };
    if dig(&["-v"]).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_key(&d.join("ddns.key"), &bind);
    std::fs::write(
        d.join("zones.toml"),
        format!(
            r#"[http]
listen = ["127.0.0.1:0"]
trusted_proxies = ["127.0.0.1/32"]
[dns]
listen = ["127.0.0.1:0"]
[service]
coalesce_window_ms = 5
[store]
kind = "sqlite"
path = "ddns.sqlite3"

[[zones]]
name = "example.net"
default_ttl = 90

[[zones]]
name = "example.org"

[[zones]]
name = "example.com"
provider = {{ kind = "rfc2136", server = "{}", key_file = "ddns.key" }}
"#,
            bind.addr
        ),
    )
    .unwrap();

    // Records with the defaults; a name in no zone is refused at add.
    for host in ["home.example.net", "home.example.org", "home.example.com"] {
        let out = run(d, &["add", host, "--secret", SECRET]);
        assert!(
            out.status.success(),
            "add {host}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let refused = run(d, &["add", "home.example.info", "--secret", SECRET]);
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "a name in no zone was added");
    assert!(
        message.contains("example.com., example.net., example.org."),
        "the refusal lists the zones: {message}"
    );

    let mut server = Spawned::start({
        let mut c = server_command();
        c.current_dir(d).args(["--config", "zones.toml"]);
        c
    });
    let embedded = server.dns.expect("the embedded DNS runs");
    let started = server
        .log()
        .into_iter()
        .find(|l| l.contains("started"))
        .unwrap();
    assert!(
        started.contains(r#"embedded=["example.net.", "example.org."]"#),
        "{started}"
    );

    // Each zone is updated through its own backend.
    let sources = [
        ("home.example.net", "198.51.100.21"),
        ("home.example.org", "198.51.100.22"),
        ("home.example.com", "198.51.100.23"),
    ];
    for (host, source) in sources {
        let body = set(server.http, host, source).await;
        assert!(body.contains("has been set to"), "{host}: {body}");
    }
    assert_eq!(
        short(embedded, "home.example.net", "A").as_deref(),
        Some("198.51.100.21")
    );
    assert_eq!(
        short(embedded, "home.example.org", "A").as_deref(),
        Some("198.51.100.22")
    );
    assert_eq!(
        short(bind.addr, "home.example.com", "A").as_deref(),
        Some("198.51.100.23"),
        "BIND holds the rfc2136 zone's record"
    );
    // The embedded DNS does not answer for the BIND zone, and each
    // embedded zone has its own SOA.
    assert_eq!(
        status(embedded, "home.example.com").as_deref(),
        Some("REFUSED")
    );
    for apex in ["example.net", "example.org"] {
        let soa = short(embedded, apex, "SOA").unwrap();
        assert!(
            soa.starts_with(&format!("ns1.{apex}. hostmaster.{apex}.")),
            "{soa}"
        );
    }
    // The zone's default TTL applies to its records.
    let full = dig(&[
        &format!("@{}", embedded.ip()),
        "-p",
        &embedded.port().to_string(),
        "+noall",
        "+answer",
        "home.example.net",
        "A",
    ])
    .unwrap();
    assert!(full.contains("\t90\tIN\tA\t198.51.100.21"), "{full}");

    // A record in no zone (written behind the CLI's back) is refused at
    // request time with the seed's message 2, and DNS is not touched.
    let store = ddns_sqlite::SqliteStore::open(d.join("ddns.sqlite3"))
        .await
        .unwrap();
    store
        .create(&Record::new(
            RecordKey::new(Hostname::parse("home.example.info").unwrap(), RecordType::A),
            RecordConfig::new(ddns_core::SharedSecret::new(SECRET)),
        ))
        .await
        .unwrap();
    let body = set(server.http, "home.example.info", "198.51.100.24").await;
    assert_eq!(
        body,
        r#"{"return_message": "There was an issue finding or reading the DyanmoDB config item for home.example.info.: A", "return_status": "fail"}"#
    );
    store
        .delete(&RecordKey::new(
            Hostname::parse("home.example.info").unwrap(),
            RecordType::A,
        ))
        .await
        .unwrap();

    // remove while the server runs: the embedded DNS forgets the name at
    // once; BIND's RRset is deleted.
    let removed = admin_in(d, &["remove", "home.example.net"]);
    assert!(removed.contains("removed home.example.net. A"), "{removed}");
    let begun = Instant::now();
    let gone = loop {
        let now = status(embedded, "home.example.net");
        if now.as_deref() == Some("NXDOMAIN") || begun.elapsed() > Duration::from_secs(1) {
            break now;
        }
        // Each round is a real query (dig waits for the answer).
    };
    assert_eq!(
        gone.as_deref(),
        Some("NXDOMAIN"),
        "the embedded DNS still answers a removed name after 1 s"
    );
    assert_eq!(
        short(embedded, "home.example.org", "A").as_deref(),
        Some("198.51.100.22"),
        "the other zone keeps its record"
    );
    let removed = admin_in(d, &["remove", "home.example.com"]);
    assert!(removed.contains("removed home.example.com. A"), "{removed}");
    assert_eq!(
        status(bind.addr, "home.example.com").as_deref(),
        Some("NXDOMAIN")
    );
    assert!(
        server
            .log()
            .iter()
            .any(|l| l.contains("control: request done")),
        "the removals went through the running server"
    );
    let listed = admin_in(d, &["list"]);
    assert!(
        !listed.contains("home.example.net") && !listed.contains("home.example.com"),
        "{listed}"
    );
    server.stop();
    assert!(
        !d.join("ddns.sqlite3.sock").exists(),
        "the control socket is removed at stop"
    );
}

/// An admin command with the test's configuration, which must succeed.
fn admin_in(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["--config", "zones.toml"];
    all.extend_from_slice(args);
    admin(dir, &all)
}

/// The values of `dig +short TXT`: one line per value, each in dig's
/// presentation form, sorted.
fn txt_lines(server: SocketAddr, name: &str) -> Vec<String> {
    let mut lines: Vec<String> = short(server, name, "TXT")
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

/// Writes `primary`'s TSIG key as a BIND key file at `path`.
fn write_key(path: &Path, primary: &DnsServer) {
    std::fs::write(
        path,
        format!(
            "key \"{KEY_NAME}\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{}\";\n}};\n",
            primary.secret
        ),
    )
    .unwrap();
}

/// A server config of one embedded zone and one rfc2136 zone on `primary`.
fn txt_config(dir: &Path, file: &str, db: &str, primary: &DnsServer) {
    write_key(&dir.join(format!("{file}.key")), primary);
    std::fs::write(
        dir.join(file),
        format!(
            r#"[http]
listen = ["127.0.0.1:0"]
[dns]
listen = ["127.0.0.1:0"]
[store]
kind = "sqlite"
path = "{db}"

[[zones]]
name = "example.net"

[[zones]]
name = "example.com"
provider = {{ kind = "rfc2136", server = "{}", key_file = "{file}.key" }}
"#,
            primary.addr
        ),
    )
    .unwrap();
}

fn cli(dir: &Path, config: &str, args: &[&str]) -> std::process::Output {
    server_command()
        .current_dir(dir)
        .args(["--config", config])
        .args(args)
        .output()
        .unwrap()
}

fn cli_ok(dir: &Path, config: &str, args: &[&str]) -> String {
    let out = cli(dir, config, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn txt_rrsets_with_two_values_through_the_cli_on_embedded_bind_and_knot() {
    let (Some(bind), Some(knot)) = (DnsServer::bind(), DnsServer::knot()) else {
        return;
    };
    if dig(&["-v"]).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    txt_config(d, "bind.toml", "bind.sqlite3", &bind);
    txt_config(d, "knot.toml", "knot.sqlite3", &knot);

    // An ACME token, and a value with quotes and a backslash that is longer
    // than one TXT string (255 bytes), so it goes out as two strings.
    let token = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
    let long = format!(r#"say "hi" \ {}"#, "x".repeat(260));
    let expected = {
        let mut lines: Vec<String> = [token, long.as_str()]
            .iter()
            .map(|t| ddns_core::TxtValue::new(t).unwrap().to_string())
            .collect();
        lines.sort();
        lines
    };
    assert!(
        expected
            .iter()
            .any(|l| l.contains(r#"\"hi\" \\ "#) && l.contains(r#"" ""#)),
        "the long value is quoted, escaped and split: {expected:?}"
    );

    // The BIND config's server runs (its embedded zone is example.net);
    // the Knot config is used by the CLI alone.
    let mut server = Spawned::start({
        let mut c = server_command();
        c.current_dir(d).args(["--config", "bind.toml"]);
        c
    });
    let embedded = server.dns.expect("the embedded DNS runs");
    let targets = [
        ("bind.toml", "_acme-challenge.home.example.net", embedded),
        ("bind.toml", "_acme-challenge.home.example.com", bind.addr),
        ("knot.toml", "_acme-challenge.nas.example.com", knot.addr),
    ];
    for (config, name, dns) in targets {
        let set = cli_ok(
            d,
            config,
            &["txt", "set", name, token, &long, "--ttl", "30"],
        );
        assert!(set.contains(&format!("set {name}. TXT")), "{set}");
        assert_eq!(txt_lines(dns, name), expected, "{name} at {dns}");
        let shown = cli_ok(d, config, &["show", name, "--type", "txt"]);
        assert!(shown.contains(&format!("\"{token}\"")), "{shown}");
        // Set again with one value: the RRset holds exactly that one.
        cli_ok(d, config, &["txt", "set", name, "only"]);
        assert_eq!(txt_lines(dns, name), ["\"only\""], "{name} at {dns}");
    }
    // The parent host's A record rules are not relaxed.
    let refused = cli(d, "bind.toml", &["add", "_acme-challenge.home.example.net"]);
    assert!(
        !refused.status.success(),
        "an A record at an underscore name"
    );
    // A bad value is refused with the rule, and changes nothing.
    let bad = cli(d, "bind.toml", &["txt", "set", targets[0].1, "tab\there"]);
    let message = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && message.contains("printable"),
        "{message}"
    );
    assert_eq!(txt_lines(embedded, targets[0].1), ["\"only\""]);
    // A name in no zone is refused.
    let outside = cli(d, "bind.toml", &["txt", "set", "_x.example.info", "v"]);
    assert!(!outside.status.success());

    for (config, name, dns) in targets {
        let deleted = cli_ok(d, config, &["txt", "delete", name]);
        assert!(
            deleted.contains(&format!("removed {name}. TXT")),
            "{deleted}"
        );
        assert!(txt_lines(dns, name).is_empty(), "{name} still at {dns}");
        assert_eq!(status(dns, name).as_deref(), Some("NXDOMAIN"), "{name}");
    }
    assert!(
        server
            .log()
            .iter()
            .any(|l| l.contains("control: request done") && l.contains("txt _acme-challenge")),
        "the embedded zone's TXT change went through the running server"
    );
    let listed = cli_ok(d, "bind.toml", &["list"]);
    assert!(!listed.contains("_acme-challenge"), "{listed}");
    server.stop();
}
