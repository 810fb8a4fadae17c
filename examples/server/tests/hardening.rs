//! The attacks of the hardening review, replayed against the real
//! `ddns-server` binary on its defaults (limits on, records made with plain
//! `add`), with clients at public documentation addresses through a trusted
//! loopback proxy (`X-Forwarded-For`): a stranger floods, guesses and
//! over-lists names, and the owner's updates still go through; dual-stack
//! routers set both families on a default record; the database stays
//! private; connection floods do not starve HTTP or DNS.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use common::{Spawned, admin, basic, get, home_hash, server_command};
use ddns_core::{HashToken, SharedSecret};
use hickory_net::proto::rr::RecordType;

const SECRET: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const OWNER_V4: &str = "198.51.100.7";
const SOURCE_LIMITED: &str = "Too many requests from this address; wait a minute and try again.";
const HOST_LIMITED: &str = "Too many requests for this host name; wait a minute and try again.";

const CONFIG: &str = r#"
[http]
listen = ["127.0.0.1:0"]
trusted_proxies = ["127.0.0.1/32"]
[dns]
listen = ["127.0.0.1:0"]
[zone]
name = "example.com"
[store]
kind = "sqlite"
path = "ddns.sqlite3"
"#;

/// A directory with `ddns.toml` (CONFIG plus `extra`) and the record
/// `home.example.com` made by plain `add` (A and AAAA, defaults).
fn setup(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), extra);
    admin(
        dir.path(),
        &[
            "--config",
            "ddns.toml",
            "add",
            "home.example.com",
            "--secret",
            SECRET,
        ],
    );
    dir
}

fn write_config(dir: &Path, extra: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("ddns.toml");
    std::fs::write(&path, format!("{CONFIG}\n{extra}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn serve(dir: &Path) -> Spawned {
    let mut command = server_command();
    command.current_dir(dir).args(["--config", "ddns.toml"]);
    Spawned::start(command)
}

/// The seed API's `return_message` of a GET from `source`.
async fn seed(http: SocketAddr, source: &str, query: &str) -> String {
    let r = get(http, &format!("/?{query}"), &[("X-Forwarded-For", source)]).await;
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    r.body
}

async fn set(http: SocketAddr, source: &str, secret: &str) -> String {
    seed(
        http,
        source,
        &format!(
            "mode=set&hostname=home.example.com&hash={}",
            home_hash(source, secret)
        ),
    )
    .await
}

/// A dyndns2 update from `source`: (status, body).
async fn nic(http: SocketAddr, source: &str, query: &str, auth: &str) -> (u16, String) {
    let r = get(
        http,
        &format!("/nic/update?{query}"),
        &[("X-Forwarded-For", source), ("Authorization", auth)],
    )
    .await;
    (r.status, r.body)
}

async fn dns_values(dns: SocketAddr, rtype: RecordType) -> Vec<IpAddr> {
    common::addresses(&common::query(dns, "home.example.com.", rtype).await)
        .into_iter()
        .map(|(a, _)| a)
        .collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_who_knows_the_name_cannot_lock_the_owner_out() {
    let dir = setup("");
    let server = serve(dir.path());
    let http = server.http;
    let wrong = basic("home.example.com", "not-the-password");
    // The stranger, from addresses of its own, at full speed: unauthenticated
    // sets, gets and list_hosts naming the host, wrong hashes, wrong
    // passwords, the name 25 times in one request, and 25 names at once.
    for i in 0..25 {
        let stranger = format!("203.0.113.{}", i % 5 + 1);
        seed(http, &stranger, "mode=set&hostname=home.example.com").await;
        seed(http, &stranger, "mode=get&hostname=home.example.com").await;
        seed(
            http,
            &stranger,
            "mode=list_hosts&hostname=home.example.com&hash=00",
        )
        .await;
    }
    for i in 0..2 {
        let stranger = format!("203.0.113.{}", 10 + i);
        let body = set(http, &stranger, "guessed-secret").await;
        assert!(body.contains("Validation hashes do not match."), "{body}");
    }
    for i in 0..5 {
        let (status, body) = nic(
            http,
            &format!("203.0.113.{}", 20 + i),
            "hostname=home.example.com",
            &wrong,
        )
        .await;
        assert_eq!((status, body.as_str()), (401, "badauth\n"));
    }
    let same_name_25 = vec!["home.example.com"; 25].join(",");
    let (status, body) = nic(
        http,
        "203.0.113.30",
        &format!("hostname={same_name_25}"),
        &wrong,
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (401, "badauth\n"),
        "one name repeated is one name"
    );
    let mut names: Vec<String> = (1..25).map(|i| format!("h{i}.example.com")).collect();
    names.push("home.example.com".into());
    let (status, body) = nic(
        http,
        "203.0.113.31",
        &format!("hostname={}", names.join(",")),
        &wrong,
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "numhost\n"));
    // The stranger's own addresses are what ran dry.
    let body = seed(http, "203.0.113.1", "mode=set&hostname=home.example.com").await;
    assert!(body.contains(SOURCE_LIMITED), "{body}");

    // The owner, from its own address: the seed set and a dual-stack
    // dyndns2 update both go through, and DNS follows.
    let body = set(http, OWNER_V4, SECRET).await;
    assert!(
        body.contains("has been set to 198.51.100.7"),
        "the owner was locked out: {body}"
    );
    let owner = basic("home.example.com", SECRET);
    let (status, body) = nic(
        http,
        OWNER_V4,
        "hostname=home.example.com&myip=198.51.100.7,2001:db8::7",
        &owner,
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (200, "good 198.51.100.7 2001:db8::7\n")
    );
    let dns = server.dns.unwrap();
    assert_eq!(dns_values(dns, RecordType::A).await, [ip("198.51.100.7")]);
    assert_eq!(dns_values(dns, RecordType::AAAA).await, [ip("2001:db8::7")]);

    // The host's budget is the owner's alone: of its burst of 20 the owner
    // spent 3 (one set, the A and the AAAA of the dyndns2 update), so 17
    // more proven requests pass before the host's own limit answers.
    for n in 0..17 {
        let body = set(http, OWNER_V4, SECRET).await;
        assert!(
            body.contains("matches the current Route53 DNS record"),
            "proven request {n}: {body}"
        );
    }
    let mut refused = false;
    for _ in 0..5 {
        if set(http, OWNER_V4, SECRET).await.contains(HOST_LIMITED) {
            refused = true;
            break;
        }
    }
    assert!(refused, "the owner's own requests spend the host budget");
    let metrics = get(http, "/metrics", &[]).await.body;
    assert!(
        metrics.contains(r#"outcome="host_rate_limited"} 1"#),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_from_one_64_are_limited_whatever_the_interface_id() {
    let dir = setup("");
    let server = serve(dir.path());
    let http = server.http;
    let mut refused = 0;
    let mut mismatched = 0;
    for i in 0..40u32 {
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).unwrap();
        let source = format!(
            "2001:db8:bad:1:{:x}:{:x}:{:x}:{:x}",
            u16::from_be_bytes([id[0], id[1]]),
            u16::from_be_bytes([id[2], id[3]]),
            u16::from_be_bytes([id[4], id[5]]),
            u16::from_be_bytes([id[6], id[7]]).wrapping_add(i as u16),
        );
        let body = set(http, &source, "guess").await;
        if body.contains(SOURCE_LIMITED) {
            refused += 1;
        } else {
            assert!(body.contains("Validation hashes do not match."), "{body}");
            mismatched += 1;
        }
    }
    // A burst of 60 tokens at 10 per failed guess: 6 guesses, perhaps one
    // more from the refill while the test runs.
    assert!(
        (6..=8).contains(&mismatched) && refused == 40 - mismatched,
        "{mismatched} guesses checked, {refused} refused"
    );
    // Another /64 is another source; the owner is not affected either.
    let body = set(http, "2001:db8:bad:2::1", "guess").await;
    assert!(body.contains("Validation hashes do not match."), "{body}");
    let body = set(http, "2001:db8::7", SECRET).await;
    assert!(body.contains("has been set to 2001:db8::7"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dual_stack_routers_set_both_families_on_a_default_record() {
    let dir = setup("");
    let server = serve(dir.path());
    let (http, dns) = (server.http, server.dns.unwrap());
    let owner = basic("home.example.com", SECRET);
    let cases = [
        (
            "myip=198.51.100.7,2001:db8::7",
            "good 198.51.100.7 2001:db8::7\n",
            Some("198.51.100.7"),
            Some("2001:db8::7"),
        ),
        (
            "myip=2001:db8::8,198.51.100.8",
            "good 198.51.100.8 2001:db8::8\n",
            Some("198.51.100.8"),
            Some("2001:db8::8"),
        ),
        (
            "myipv6=2001:db8::9",
            "good 2001:db8::9\n",
            Some("198.51.100.8"),
            Some("2001:db8::9"),
        ),
        (
            "myip=198.51.100.9",
            "good 198.51.100.9\n",
            Some("198.51.100.9"),
            Some("2001:db8::9"),
        ),
        (
            "myip=198.51.100.9&myipv6=2001:db8::9",
            "nochg 198.51.100.9 2001:db8::9\n",
            Some("198.51.100.9"),
            Some("2001:db8::9"),
        ),
        // Internal addresses still need allow_internal.
        (
            "myip=192.168.1.5",
            "abuse\n",
            Some("198.51.100.9"),
            Some("2001:db8::9"),
        ),
        (
            "myipv6=fd00::5",
            "abuse\n",
            Some("198.51.100.9"),
            Some("2001:db8::9"),
        ),
        // Never settable, also when an IPv4 address is embedded.
        (
            "myipv6=::e000:1",
            "abuse\n",
            Some("198.51.100.9"),
            Some("2001:db8::9"),
        ),
    ];
    for (query, expected, a, aaaa) in cases {
        let (status, body) = nic(
            http,
            OWNER_V4,
            &format!("hostname=home.example.com&{query}"),
            &owner,
        )
        .await;
        assert_eq!((status, body.as_str()), (200, expected), "{query}");
        assert_eq!(
            dns_values(dns, RecordType::A).await,
            a.map(ip).into_iter().collect::<Vec<_>>(),
            "{query}"
        );
        assert_eq!(
            dns_values(dns, RecordType::AAAA).await,
            aaaa.map(ip).into_iter().collect::<Vec<_>>(),
            "{query}"
        );
    }
    // The seed API keeps the original's rule, byte for byte: message 5.
    let source = OWNER_V4;
    let body = seed(
        http,
        source,
        &format!(
            "mode=set&hostname=home.example.com&hash={}&internalIp=2001:db8::10",
            HashToken::compute_as_sent(
                ip(source),
                &ddns_core::SentName::parse("home.example.com."),
                &SharedSecret::new(SECRET)
            )
            .to_hex()
        ),
    )
    .await;
    assert_eq!(
        body,
        r#"{"return_message": "DDB Permissions for home.example.com. disallow internal IPs, update denied.", "return_status": "fail"}"#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_is_private_whatever_the_umask_and_a_readable_one_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    // A permissive umask, as a careless service manager might leave it.
    let mut command = std::process::Command::new("sh");
    command
        .current_dir(dir.path())
        .arg("-c")
        .arg(r#"umask 000 && exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_ddns-server"))
        .args(["--config", "ddns.toml"]);
    let server = Spawned::start(command);
    // A write, so that the WAL and the shared-memory file exist.
    let body = seed(
        server.http,
        OWNER_V4,
        "mode=set&hostname=example-record.example.com&hash=00",
    )
    .await;
    assert!(body.contains("sha256"), "{body}");
    admin(
        dir.path(),
        &["--config", "ddns.toml", "add", "home.example.com"],
    );
    for name in ["ddns.sqlite3", "ddns.sqlite3-wal", "ddns.sqlite3-shm"] {
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{name} is {mode:o}");
    }
    drop(server);

    let db = dir.path().join("ddns.sqlite3");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = server_command()
        .current_dir(dir.path())
        .args(["--config", "ddns.toml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("ddns.sqlite3") && stderr.contains("chmod 600 ddns.sqlite3"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_with_an_empty_secret_opens_to_nobody_and_is_logged() {
    let dir = setup("");
    rusqlite::Connection::open(dir.path().join("ddns.sqlite3"))
        .unwrap()
        .execute(
            "UPDATE records SET shared_secret = '' WHERE hostname = 'home.example.com.'",
            [],
        )
        .unwrap();
    let server = serve(dir.path());
    // The hash of the address and the name alone, and an empty password.
    let body = set(server.http, OWNER_V4, "").await;
    assert_eq!(
        body,
        r#"{"return_message": "Validation hashes do not match.", "return_status": "fail"}"#
    );
    let (status, body) = nic(
        server.http,
        OWNER_V4,
        "hostname=home.example.com",
        &basic("home.example.com", ""),
    )
    .await;
    assert_eq!((status, body.as_str()), (401, "badauth\n"));
    let logged = server
        .wait_for_log("is unusable", Duration::from_secs(5))
        .expect("the refusal is logged");
    assert!(
        logged.contains("home.example.com.") && logged.contains("shared_secret is empty"),
        "{logged}"
    );
    let dns = server.dns.unwrap();
    assert!(
        dns_values(dns, RecordType::A).await.is_empty(),
        "nothing was set"
    );
    // The admin tool refuses to store an empty secret at all.
    let out = server_command()
        .current_dir(dir.path())
        .args([
            "--config",
            "ddns.toml",
            "update",
            "home.example.com",
            "--secret",
            "",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the secret cannot be empty"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_move_to_their_own_listener() {
    let dir = setup("[admin_http]\nlisten = [\"127.0.0.1:0\"]\n");
    let server = serve(dir.path());
    let admin_addr = server.admin.expect("the admin address is logged");
    for path in ["/healthz", "/metrics"] {
        assert_eq!(
            get(server.http, path, &[]).await.status,
            404,
            "{path} on the API"
        );
        assert_eq!(
            get(admin_addr, path, &[]).await.status,
            200,
            "{path} on admin"
        );
    }
    assert_eq!(
        get(admin_addr, "/healthz", &[]).await.body,
        r#"{"status": "ok"}"#
    );
    // The admin listener serves no seed API: `/` there is the admin
    // page's sign-in.
    let admin_root = get(admin_addr, "/?mode=get", &[]).await;
    assert!(
        !admin_root.body.contains("return_status") && admin_root.body.contains("Sign in"),
        "the admin listener serves no API: {}",
        admin_root.body
    );
    let body = seed(server.http, OWNER_V4, "mode=get").await;
    assert!(body.contains(OWNER_V4), "{body}");
}

/// Connects to `to` from the loopback address `from`.
async fn connect_from(from: [u8; 4], to: SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    socket.connect(to).await.unwrap()
}

/// True when the server closes `stream` within `limit` (EOF or reset).
async fn closed_within(stream: &mut tokio::net::TcpStream, limit: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(limit, stream.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connection_floods_starve_neither_http_nor_dns() {
    use tokio::io::AsyncWriteExt;
    // No trusted proxy here: the flood comes straight from 127.0.0.1.
    let dir = tempfile::tempdir().unwrap();
    let text = CONFIG.replace(r#"trusted_proxies = ["127.0.0.1/32"]"#, "max_connections_per_source = 32")
        .replace(
            r#"listen = ["127.0.0.1:0"]
[zone]"#,
            "listen = [\"127.0.0.1:0\"]\ntcp_max_connections = 16\ntcp_idle_timeout_secs = 2\n[zone]",
        );
    std::fs::write(dir.path().join("ddns.toml"), text).unwrap();
    let server = serve(dir.path());
    let (http, dns) = (server.http, server.dns.unwrap());

    // A thousand idle HTTP connections from one address: 32 are kept, the
    // rest are closed at once.
    let mut idle = Vec::new();
    for _ in 0..1000 {
        idle.push(connect_from([127, 0, 0, 1], http).await);
    }
    let mut closed = 0;
    for stream in idle.iter_mut().skip(32) {
        if closed_within(stream, Duration::from_secs(5)).await {
            closed += 1;
        }
    }
    assert_eq!(
        closed,
        1000 - 32,
        "connections past the per-source cap are closed"
    );
    // Another source is served at once, over the same listener.
    let mut other = connect_from([127, 0, 0, 2], http).await;
    other
        .write_all(b"GET /?mode=get HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut other, &mut answer)
        .await
        .unwrap();
    assert!(answer.contains("127.0.0.2"), "{answer}");
    drop(idle);

    // DNS over TCP: 16 idle connections fill it; the 17th is closed, UDP
    // still answers, and the idle ones are closed after 2 s.
    let mut idle_dns = Vec::new();
    for _ in 0..16 {
        idle_dns.push(connect_from([127, 0, 0, 1], dns).await);
    }
    let mut extra = connect_from([127, 0, 0, 3], dns).await;
    assert!(
        closed_within(&mut extra, Duration::from_secs(5)).await,
        "over the cap"
    );
    let soa = common::query(dns, "example.com.", RecordType::SOA).await;
    assert_eq!(soa.answers.len(), 1, "UDP is not affected");
    for stream in &mut idle_dns {
        assert!(
            closed_within(stream, Duration::from_secs(10)).await,
            "an idle DNS TCP connection is closed after its idle time"
        );
    }
    // With the slots free again, a TCP query is answered.
    if let Some(out) = common::dig(&[
        "+tcp",
        "+tries=1",
        "+time=5",
        "-p",
        &dns.port().to_string(),
        "@127.0.0.1",
        "example.com.",
        "SOA",
    ]) {
        assert!(out.contains("status: NOERROR"), "{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_files_readable_by_others_draw_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("ddns.key");
    std::fs::write(
        &key,
        "key \"ddns\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY=\";\n};\n",
    )
    .unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = dir.path().join("ddns.toml");
    std::fs::write(
        &config,
        CONFIG.to_owned()
            + "[provider]\nkind = \"rfc2136\"\nserver = \"127.0.0.1:9\"\nkey_file = \"ddns.key\"\n",
    )
    .unwrap();
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("[http]\n", "[http]\napi_keys = [\"k-0123456789abcdef\"]\n");
    std::fs::write(&config, text).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let server = serve(dir.path());
    let log = server.log().join("\n");
    assert!(
        log.contains(
            "the configuration file (it holds api_keys or key_secret) can be read by every user"
        ) && log.contains("ddns.toml"),
        "{log}"
    );
    assert!(
        log.contains("the TSIG key file (zone.provider.key_file) can be read by every user")
            && log.contains("ddns.key"),
        "{log}"
    );
    assert!(!log.contains("k-0123456789abcdef"), "the key is not logged");
}
