//! ddns-server with the `rfc2136` provider: a `set` over HTTP becomes an
//! UPDATE that BIND (and Knot) then answer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::net::IpAddr;

use common::{config_in, get, raw_config_in};
use ddns_core::{HashToken, Hostname, Record, RecordConfig, RecordKey, RecordType, SharedSecret};
use ddns_server::RunningServer;
use ddns_server::config::ProviderConfig;
use ddns_testkit::servers::{DnsServer, KEY_NAME};

/// A server in a fresh directory whose provider is `dns` over RFC 2136,
/// with the test key in a key file.
async fn server_in_front_of(dns: &DnsServer) -> (tempfile::TempDir, RunningServer) {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("ddns.key");
    std::fs::write(
        &key_file,
        format!(
            "key \"{KEY_NAME}\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{}\";\n}};\n",
            dns.secret
        ),
    )
    .unwrap();
    let config = config_in(dir.path(), |c| {
        c.provider = Some(ProviderConfig::Rfc2136 {
            server: dns.addr,
            key_file: Some(key_file.clone()),
            key_name: None,
            key_algorithm: None,
            key_secret: None,
            timeout_secs: 5,
        });
    });
    let server = RunningServer::start(config).await.unwrap();
    (dir, server)
}

async fn set_over_http_is_visible_in(dns: DnsServer) {
    let (_dir, server) = server_in_front_of(&dns).await;
    assert!(
        server.dns_addrs().is_empty(),
        "no embedded DNS with the rfc2136 provider"
    );
    let key = RecordKey::new(Hostname::parse("home.example.com").unwrap(), RecordType::A);
    server
        .service()
        .store()
        .create(&Record::new(
            key,
            RecordConfig::new(SharedSecret::new("s3cret")).with_ttl(120),
        ))
        .await
        .unwrap();
    let source = "198.51.100.7";
    let hash = HashToken::compute_as_sent(
        source.parse().unwrap(),
        &ddns_core::SentName::parse("home.example.com."),
        &SharedSecret::new("s3cret"),
    )
    .to_hex();
    let r = get(
        server.http_addrs()[0],
        &format!("/?mode=set&hostname=home.example.com&hash={hash}"),
        &[("X-Forwarded-For", source)],
    )
    .await;
    assert_eq!(
        r.body,
        r#"{"return_message": "Your hostname record home.example.com. has been set to 198.51.100.7", "return_status": "success"}"#
    );
    // The primary server answers with the new address and the record's TTL.
    let answer = common::query(
        dns.addr,
        "home.example.com.",
        hickory_net::proto::rr::RecordType::A,
    )
    .await;
    assert_eq!(
        common::addresses(&answer),
        [(source.parse::<IpAddr>().unwrap(), 120)]
    );
    let r = get(
        server.http_addrs()[0],
        &format!("/?mode=set&hostname=home.example.com&hash={hash}"),
        &[("X-Forwarded-For", source)],
    )
    .await;
    assert!(r.body.contains("matches"), "{}", r.body);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_over_http_is_visible_in_bind() {
    let Some(bind) = DnsServer::bind() else {
        return;
    };
    set_over_http_is_visible_in(bind).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_over_http_is_visible_in_knot() {
    let Some(knot) = DnsServer::knot() else {
        return;
    };
    set_over_http_is_visible_in(knot).await;
}

#[test]
fn a_bad_key_setting_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.key");
    let config = raw_config_in(dir.path(), |c| {
        c.provider = Some(ProviderConfig::Rfc2136 {
            server: "127.0.0.1:53".parse().unwrap(),
            key_file: Some(missing.clone()),
            key_name: None,
            key_algorithm: None,
            key_secret: None,
            timeout_secs: 5,
        });
    });
    // The key file is read when the configuration is validated.
    let err = config.validate().unwrap_err().to_string();
    assert!(
        err.starts_with("zone.provider.key_file = ") && err.contains("nope.key"),
        "{err}"
    );
}

/// Issue 18 with the rfc2136 provider: a router's new prefix moves its ten
/// followers in BIND with one UPDATE message, and the same prefix again
/// sends none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_moves_every_follower_in_one_update_to_bind() {
    let Some(bind) = DnsServer::bind() else {
        return;
    };
    let (_dir, server) = server_in_front_of(&bind).await;
    let store = server.service().store();
    let router = Hostname::parse("router.example.com").unwrap();
    store
        .create(&Record::new(
            RecordKey::new(router.clone(), RecordType::A),
            RecordConfig::new(SharedSecret::new("router-secret")),
        ))
        .await
        .unwrap();
    for i in 1..=10u32 {
        let follow =
            ddns_core::prefix::PrefixFollow::new(router.clone(), format!("::{i}").parse().unwrap());
        store
            .create(&Record::new(
                RecordKey::new(
                    Hostname::parse(&format!("host{i}.example.com")).unwrap(),
                    RecordType::Aaaa,
                ),
                RecordConfig::new(SharedSecret::new(format!("own secret {i}"))).with_follow(follow),
            ))
            .await
            .unwrap();
    }
    let auth = common::basic("router.example.com", "router-secret");
    let report = |prefix: &'static str| {
        let auth = auth.clone();
        let addr = server.http_addrs()[0];
        async move {
            get(
                addr,
                &format!(
                    "/nic/update?hostname=router.example.com&myip=198.51.100.7&ip6lanprefix={prefix}"
                ),
                &[("Authorization", &auth), ("X-Forwarded-For", "198.51.100.7")],
            )
            .await
            .body
        }
    };
    assert_eq!(report("2001:db8:1:100::/56").await, "good 198.51.100.7\n");
    let before = bind.update_messages();
    assert!(before >= 1, "BIND counts the UPDATE messages");
    assert_eq!(report("2001:db8:2:200::/56").await, "nochg 198.51.100.7\n");
    assert_eq!(
        bind.update_messages() - before,
        1,
        "ten followers in one UPDATE; BIND's log:\n{}",
        bind.log()
    );
    for i in 1..=10u32 {
        let answer = common::query(
            bind.addr,
            &format!("host{i}.example.com."),
            hickory_net::proto::rr::RecordType::AAAA,
        )
        .await;
        let want: IpAddr = format!("2001:db8:2:200::{i}").parse().unwrap();
        assert_eq!(
            common::addresses(&answer).first().map(|(a, _)| *a),
            Some(want),
            "host{i} in BIND"
        );
    }
    let before = bind.update_messages();
    assert_eq!(report("2001:db8:2:200::/56").await, "nochg 198.51.100.7\n");
    assert_eq!(
        bind.update_messages(),
        before,
        "an unchanged prefix sends no UPDATE"
    );
    server.shutdown().await;
}
