//! Rate limits over real HTTP: a client under its limits is never refused,
//! one over them gets `fail` (seed API) or `abuse` (dyndns2), and failed
//! authentications use the budget up faster.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{config_in, get};
use ddns_core::{HashToken, Hostname, Record, RecordConfig, RecordKey, RecordType, SharedSecret};
use ddns_server::RunningServer;

const LIMITED: &str = "Too many requests from this address; wait a minute and try again.";

fn hash(source: &str) -> String {
    HashToken::compute_as_sent(
        source.parse().unwrap(),
        &ddns_core::SentName::parse("home.example.com."),
        &SharedSecret::new("s"),
    )
    .to_hex()
}

async fn start(dir: &std::path::Path) -> RunningServer {
    let server = RunningServer::start(config_in(dir, |c| {
        c.limits.enabled = true;
        c.limits.per_source_per_minute = 1;
        c.limits.per_source_burst = 5;
        c.limits.per_host_per_minute = 1;
        c.limits.per_host_burst = 100;
        c.limits.failed_auth_cost = 3;
    }))
    .await
    .unwrap();
    let key = RecordKey::new(Hostname::parse("home.example.com").unwrap(), RecordType::A);
    server
        .service()
        .store()
        .create(&Record::new(key, RecordConfig::new(SharedSecret::new("s"))))
        .await
        .unwrap();
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_limit_is_refused_and_failed_auth_costs_more() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let http = server.http_addrs()[0];
    let set = |source: &'static str, h: String| async move {
        get(
            http,
            &format!("/?mode=set&hostname=home.example.com&hash={h}"),
            &[("X-Forwarded-For", source)],
        )
        .await
        .body
    };
    // Five requests of the burst pass, the sixth is refused.
    for _ in 0..5 {
        assert!(
            !set("198.51.100.7", hash("198.51.100.7"))
                .await
                .contains("Too many")
        );
    }
    let body = set("198.51.100.7", hash("198.51.100.7")).await;
    assert_eq!(
        body,
        format!(r#"{{"return_message": "{LIMITED}", "return_status": "fail"}}"#)
    );
    // Another address is not affected; two failed hashes (3 tokens each)
    // use up its five tokens.
    let wrong = hash("192.0.2.1");
    assert!(
        set("198.51.100.8", wrong.clone())
            .await
            .contains("Validation hashes do not match.")
    );
    assert!(
        set("198.51.100.8", wrong)
            .await
            .contains("Validation hashes do not match.")
    );
    assert!(
        set("198.51.100.8", hash("198.51.100.8"))
            .await
            .contains("Too many")
    );
    // dyndns2 answers abuse.
    let r = get(
        http,
        "/nic/update?hostname=home.example.com",
        &[
            ("X-Forwarded-For", "198.51.100.7"),
            ("Authorization", "Basic aG9tZS5leGFtcGxlLmNvbTpz"),
        ],
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (200, "abuse\n"));
    let metrics = get(http, "/metrics", &[]).await.body;
    assert!(
        metrics.contains(r#"ddns_requests_total{mode="set",outcome="rate_limited"} 2"#),
        "{metrics}"
    );
    server.shutdown().await;
}
