//! End to end over real sockets: the server started on free loopback ports
//! with a real SQLite file, driven with raw HTTP requests, checked in the
//! store and in DNS (hickory's client and dig).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::net::{IpAddr, SocketAddr};

use common::*;
use ddns_core::{HashToken, Hostname, Record, RecordConfig, RecordKey, RecordType, SharedSecret};
use ddns_server::RunningServer;
use hickory_net::proto::op::ResponseCode;
use hickory_net::proto::rr::RecordType as Rt;

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const PUBLIC: &str = "198.51.100.7";
const PUBLIC6: &str = "2001:db8:1::7";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn key(host: &str, t: RecordType) -> RecordKey {
    RecordKey::new(Hostname::parse(host).unwrap(), t)
}

fn hash(source: &str, host: &str) -> String {
    HashToken::compute_as_sent(
        ip(source),
        &ddns_core::SentName::parse(&format!("{host}.")),
        &SharedSecret::new(SECRET),
    )
    .to_hex()
}

async fn add(
    server: &RunningServer,
    host: &str,
    t: RecordType,
    adjust: impl FnOnce(RecordConfig) -> RecordConfig,
) {
    let config = adjust(RecordConfig::new(SharedSecret::new(SECRET)));
    server
        .service()
        .store()
        .create(&Record::new(key(host, t), config))
        .await
        .unwrap();
}

struct Client {
    http: SocketAddr,
    api_key: Option<&'static str>,
}

impl Client {
    /// A client of `server`'s first HTTP address, sending no API key.
    fn of(server: &RunningServer) -> Self {
        Self {
            http: server.http_addrs()[0],
            api_key: None,
        }
    }

    /// A seed API request from `source` (via X-Forwarded-For).
    async fn seed(&self, query: &str, source: &str) -> common::Reply {
        let mut headers = vec![("X-Forwarded-For", source)];
        if let Some(k) = self.api_key {
            headers.push(("x-api-key", k));
        }
        get(self.http, &format!("/?{query}"), &headers).await
    }

    async fn set(&self, host: &str, source: &str, extra: &str) -> common::Reply {
        self.seed(
            &format!(
                "mode=set&hostname={host}&hash={}{extra}",
                hash(source, host)
            ),
            source,
        )
        .await
    }
}

fn success(m: &str) -> String {
    format!(r#"{{"return_message": "{m}", "return_status": "success"}}"#)
}

fn fail(m: &str) -> String {
    format!(r#"{{"return_message": "{m}", "return_status": "fail"}}"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_seed_message_over_http_and_dns() {
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(config_in(dir.path(), |c| {
        c.http.api_keys = vec!["key-1".into()]
    }))
    .await
    .unwrap();
    let dns = server.dns_addrs()[0];
    let c = Client {
        http: server.http_addrs()[0],
        api_key: Some("key-1"),
    };
    add(&server, "home.example.com", RecordType::A, |c| {
        c.with_ttl(120)
    })
    .await;
    add(&server, "home.example.com", RecordType::Aaaa, |c| c).await;
    add(&server, "locked.example.com", RecordType::A, |c| {
        c.with_lock(true)
    })
    .await;
    add(&server, "lan.example.com", RecordType::A, |c| {
        c.with_allow_internal(true)
            .with_read_privilege(true)
            .with_mac_address("51:6B:00:A6:F5:77")
    })
    .await;

    // API key first of all.
    let r = Client {
        http: c.http,
        api_key: None,
    }
    .seed("mode=get", PUBLIC)
    .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (403, r#"{"message":"Forbidden"}"#)
    );

    // get reflects the forwarded source.
    let r = c.seed("mode=get", PUBLIC).await;
    assert_eq!((r.status, r.body.clone()), (200, success(PUBLIC)));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string().as_str())
    );

    // set: changed, visible in DNS with the record's TTL, then unchanged.
    let serial_before = serial(&query(dns, "example.com.", Rt::SOA).await.answers).unwrap();
    let r = c.set("home.example.com", PUBLIC, "").await;
    assert_eq!(
        r.body,
        success("Your hostname record home.example.com. has been set to 198.51.100.7")
    );
    assert_eq!(
        addresses(&query(dns, "home.example.com.", Rt::A).await),
        [(ip(PUBLIC), 120)]
    );
    let serial_after = serial(&query(dns, "example.com.", Rt::SOA).await.answers).unwrap();
    assert_eq!(serial_after, serial_before + 1);
    // Access times are written behind (zone.access_write_delay_ms).
    server.service().flush_access().await.unwrap();
    let state = server
        .service()
        .store()
        .get(&key("home.example.com", RecordType::A))
        .await
        .unwrap()
        .unwrap()
        .state;
    assert_eq!(state.address(), Some(ip(PUBLIC)));
    assert_eq!(state.last_accessed, Some(ip(PUBLIC)));
    assert!(state.last_updated.is_some() && state.last_checked.is_some());
    let r = c.set("home.example.com", PUBLIC, "").await;
    assert_eq!(
        r.body,
        success("Your IP address matches the current Route53 DNS record.")
    );

    // IPv6 from an IPv6 source sets AAAA with the default TTL.
    let r = c.set("home.example.com", PUBLIC6, "").await;
    assert_eq!(
        r.body,
        success("Your hostname record home.example.com. has been set to 2001:db8:1::7")
    );
    assert_eq!(
        addresses(&query(dns, "home.example.com.", Rt::AAAA).await),
        [(ip(PUBLIC6), 60)]
    );

    // The failures, in their order.
    let bad_mode = fail("You must pass mode=get, mode=set or mode=list_hosts arguments.");
    assert_eq!(c.seed("mode=delete", PUBLIC).await.body, bad_mode);
    assert_eq!(c.seed("", PUBLIC).await.body, bad_mode);
    assert_eq!(
        c.seed("mode=set&hostname=home.example.com&hash=abc", PUBLIC)
            .await
            .body,
        fail("You must pass a valid sha256 hash in the hash= argument.")
    );
    assert_eq!(
        c.set("nobody.example.com", PUBLIC, "").await.body,
        fail(
            "There was an issue finding or reading the DyanmoDB config item for nobody.example.com.: A"
        )
    );
    let wrong = format!(
        "mode=set&hostname=home.example.com&hash={}",
        hash("198.51.100.99", "home.example.com")
    );
    assert_eq!(
        c.seed(&wrong, PUBLIC).await.body,
        fail("Validation hashes do not match.")
    );
    assert_eq!(
        c.set("locked.example.com", PUBLIC, "").await.body,
        fail("The record for locked.example.com. is locked, update denied.")
    );
    assert_eq!(
        c.set("home.example.com", PUBLIC, "&internalIp=192.168.1.10")
            .await
            .body,
        fail("DDB Permissions for home.example.com. disallow internal IPs, update denied.")
    );
    assert_eq!(
        c.set("home.example.com", PUBLIC, "&internalIp=not-an-ip")
            .await
            .body,
        fail("The internalIp argument is not a valid IPv4 or IPv6 address.")
    );
    assert_eq!(
        c.set("lan.example.com", PUBLIC, "&internalIp=224.0.0.1")
            .await
            .body,
        fail("The address 224.0.0.1 is not a unicast host address and cannot be set.")
    );
    let list_home = format!(
        "mode=list_hosts&hostname=home.example.com&hash={}",
        hash(PUBLIC, "home.example.com")
    );
    assert_eq!(
        c.seed(&list_home, PUBLIC).await.body,
        fail("record lacks read permissions")
    );

    // allow_internal: a LAN address, served by DNS.
    let r = c
        .set("lan.example.com", PUBLIC, "&internalIp=192.168.1.10")
        .await;
    assert_eq!(
        r.body,
        success("Your hostname record lan.example.com. has been set to 192.168.1.10")
    );
    assert_eq!(
        addresses(&query(dns, "lan.example.com.", Rt::A).await),
        [(ip("192.168.1.10"), 60)]
    );

    // list_hosts of the discovery group.
    let list_lan = format!(
        "mode=list_hosts&hostname=lan.example.com&hash={}",
        hash(PUBLIC, "lan.example.com")
    );
    assert_eq!(
        c.seed(&list_lan, PUBLIC).await.body,
        r#"{"return_message": [{"record_type": "A", "hostname": "lan.example.com.", "mac_address": "51:6B:00:A6:F5:77"}], "return_status": "success"}"#
    );

    // NXDOMAIN for a name never set.
    let r = query(dns, "nobody.example.com.", Rt::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);

    // dig agrees (UDP and TCP).
    let port = dns.port().to_string();
    for transport in ["+notcp", "+tcp"] {
        let args = vec![
            "@127.0.0.1".to_owned(),
            "-p".into(),
            port.clone(),
            transport.into(),
            "+norecurse".into(),
            "+noall".into(),
            "+answer".into(),
            "home.example.com".into(),
            "A".into(),
        ];
        let out = tokio::task::spawn_blocking(move || {
            dig(&args.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .await
        .unwrap();
        if let Some(out) = out {
            assert_eq!(
                out.split_whitespace().collect::<Vec<_>>(),
                ["home.example.com.", "120", "IN", "A", PUBLIC],
                "dig {transport}"
            );
        }
    }

    // Metrics counted all of it.
    let metrics = get(c.http, "/metrics", &[]).await.body;
    assert!(
        metrics.contains(r#"ddns_requests_total{mode="set",outcome="success"} 4"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"ddns_requests_total{mode="set",outcome="hash_mismatch"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"ddns_requests_total{mode="get",outcome="forbidden"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("ddns_dns_changes_total 3"), "{metrics}");
    assert!(
        metrics.contains("ddns_request_duration_seconds_count{mode=\"set\"}"),
        "{metrics}"
    );
    let health = get(c.http, "/healthz", &[]).await;
    assert_eq!(
        (health.status, health.body.as_str()),
        (200, r#"{"status": "ok"}"#)
    );

    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_limits() {
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(config_in(dir.path(), |_| {}))
        .await
        .unwrap();
    let http = server.http_addrs()[0];
    let long = format!("/?mode=get&pad={}", "x".repeat(5000));
    assert_eq!(get(http, &long, &[]).await.status, 414);
    let r = raw(
        http,
        "PUT /?mode=get HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    )
    .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
    // A POST is the upstream protocol's: its body is read, at most 4 KiB.
    let r = post(http, "/", &[], b"abc").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.starts_with(r#"{"return_status": "fail""#),
        "{}",
        r.body
    );
    let r = post(http, "/", &[], &[b' '; 5000]).await;
    assert_eq!(r.status, 413);
    let huge = "y".repeat(20_000);
    let r = get(http, "/?mode=get", &[("X-Big", &huge)]).await;
    assert_eq!(r.status, 431, "an oversized head is refused");
    // Without trusted proxies configured for it, X-Forwarded-For is ignored:
    // this server trusts loopback, so test the peer address from a server
    // that trusts nobody.
    server.shutdown().await;
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(config_in(dir.path(), |c| c.http.trusted_proxies.clear()))
        .await
        .unwrap();
    let r = get(
        server.http_addrs()[0],
        "/?mode=get",
        &[("X-Forwarded-For", PUBLIC)],
    )
    .await;
    assert_eq!(
        r.body,
        success("127.0.0.1"),
        "X-Forwarded-For must not be trusted by default"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(config_in(dir.path(), |_| {}))
        .await
        .unwrap();
    add(&server, "home.example.com", RecordType::A, |c| {
        c.with_ttl(90)
    })
    .await;
    let c = Client::of(&server);
    assert!(
        c.set("home.example.com", PUBLIC, "")
            .await
            .body
            .contains("has been set")
    );
    server.shutdown().await;

    let server = RunningServer::start(config_in(dir.path(), |_| {}))
        .await
        .unwrap();
    let dns = server.dns_addrs()[0];
    assert_eq!(
        addresses(&query(dns, "home.example.com.", Rt::A).await),
        [(ip(PUBLIC), 90)]
    );
    // The seeded example records were created once, not again.
    let records = server.service().store().list_all().await.unwrap();
    assert_eq!(
        records
            .iter()
            .filter(|r| r.key.name().as_str().starts_with("example-record."))
            .count(),
        2
    );
    let c = Client::of(&server);
    assert!(
        c.set("home.example.com", PUBLIC, "")
            .await
            .body
            .contains("matches")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_outside_the_zone_refuse_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(config_in(dir.path(), |_| {}))
        .await
        .unwrap();
    server.shutdown().await;
    let err = RunningServer::start(config_in(dir.path(), |c| {
        c.zone.as_mut().unwrap().name = "example.org".into()
    }))
    .await
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("zone.name = \"example.org.\""), "{err}");
    assert!(err.contains("example-record.example.com."), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listens_on_ipv6_too() {
    if let Err(e) = std::net::TcpListener::bind("[::1]:0") {
        assert!(
            std::env::var("DDNS_REQUIRE_INTEGRATION").as_deref() != Ok("1"),
            "the IPv6 loopback ::1 is required ({e}): enable IPv6 on lo \
             (sysctl net.ipv6.conf.lo.disable_ipv6=0)"
        );
        println!("SKIPPED: no IPv6 loopback on this machine ({e})");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(config_in(dir.path(), |c| {
        c.http.listen = vec!["127.0.0.1:0".parse().unwrap(), "[::1]:0".parse().unwrap()];
        c.http.trusted_proxies.clear();
    }))
    .await
    .unwrap();
    let v6 = server
        .http_addrs()
        .iter()
        .copied()
        .find(SocketAddr::is_ipv6)
        .unwrap();
    assert_eq!(get(v6, "/?mode=get", &[]).await.body, success("::1"));
    let v4 = server
        .http_addrs()
        .iter()
        .copied()
        .find(SocketAddr::is_ipv4)
        .unwrap();
    assert_eq!(get(v4, "/?mode=get", &[]).await.body, success("127.0.0.1"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_requests_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    // A long coalescing window keeps a changing `set` in flight for 3 s
    // (1.5 s for the DNS read, 1.5 s for the change); access state written
    // at once shows when the request has been authenticated.
    let server = RunningServer::start(config_in(dir.path(), |c| {
        c.service.coalesce_window_ms = 1500;
        c.service.access_write_delay_ms = 0;
    }))
    .await
    .unwrap();
    add(&server, "home.example.com", RecordType::A, |c| c).await;
    let c = Client::of(&server);
    let in_flight = tokio::spawn(async move { c.set("home.example.com", PUBLIC, "").await });
    let waited = std::time::Instant::now();
    while stored_state(&server, "home.example.com", RecordType::A)
        .await
        .last_checked
        .is_none()
    {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(10),
            "the set was not authenticated within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let begun = std::time::Instant::now();
    server.shutdown().await;
    let reply = in_flight.await.unwrap();
    assert_eq!(reply.status, 200);
    assert!(
        reply.body.contains("has been set to 198.51.100.7"),
        "{}",
        reply.body
    );
    assert!(
        begun.elapsed() >= std::time::Duration::from_millis(900),
        "shutdown waited for the request"
    );
}
