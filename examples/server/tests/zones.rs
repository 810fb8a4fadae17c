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
        &ddns_core::hostname::SentName::parse(&format!("{host}.")),
        &ddns_core::SharedSecret::new(SECRET),
    )
    .to_hex()
}

/// `dig +short` of `name`/`rtype` at `server`, one value per line.
fn short(server: SocketAddr, name: &str, rtype: &str) -> Option<String> {
    dig(&[
        &format!("@{}", server.ip()),
        "-p",
        &server.port().to_string(),
        "+short",
        "+time=2",
        "+tries=1",
        name,
        rtype,
    ])
    .map(|out| out.trim().to_owned())
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
    std::fs::write(
        d.join("ddns.key"),
        format!(
            "key \"{KEY_NAME}\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{}\";\n}};\n",
            bind.secret
        ),
    )
    .unwrap();
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
            .any(|l| l.contains("control: records removed")),
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
