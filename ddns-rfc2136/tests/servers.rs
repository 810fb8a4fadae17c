//! Rfc2136Provider against real servers started by the test: BIND and
//! Knot DNS run the same scenarios.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::net::IpAddr;

use ddns_core::{DnsChange, DnsProvider, Error, Hostname, RecordType, conformance};
use ddns_rfc2136::{Rfc2136Provider, TsigAlgorithmName, TsigKey};
use ddns_testkit::servers::*;

fn change(host: &str, ip: &str) -> DnsChange {
    DnsChange::upsert(Hostname::parse(host).unwrap(), 60, ip.parse().unwrap())
}

async fn conforms(bind: &DnsServer) {
    conformance::provider(&bind.provider(), &DnsServer::zone()).await;
}

async fn a_wrong_secret_is_an_authentication_error(bind: &DnsServer) {
    let wrong = TsigKey::new(KEY_NAME, TsigAlgorithmName::HmacSha256, &random_secret()).unwrap();
    let provider = Rfc2136Provider::builder(bind.addr, DnsServer::zone())
        .with_key(wrong)
        .build()
        .unwrap();
    let results = provider
        .apply(&[change("host.example.com", "198.51.100.1")])
        .await;
    let err = results[0].as_ref().unwrap_err();
    assert!(
        matches!(err, Error::Unauthenticated { .. }),
        "a wrong key must not look like a network fault: {err:?}"
    );
    assert!(
        err.to_string().contains("ddns-key") && err.to_string().contains("BADSIG"),
        "{err}"
    );
    assert!(!err.is_retryable());
    println!("wrong secret: {err}");

    // An unknown key name: BADKEY.
    let unknown = TsigKey::new("nobody-key", TsigAlgorithmName::HmacSha256, &bind.secret).unwrap();
    let provider = Rfc2136Provider::builder(bind.addr, DnsServer::zone())
        .with_key(unknown)
        .build()
        .unwrap();
    let err = provider
        .apply(&[change("host.example.com", "198.51.100.1")])
        .await
        .remove(0)
        .unwrap_err();
    assert!(matches!(err, Error::Unauthenticated { .. }), "{err:?}");
    assert!(
        err.to_string().contains("BADKEY") || err.to_string().contains("did not accept the key"),
        "{err}"
    );

    // Nothing was changed, and reads still work.
    let good = bind.provider();
    let host = Hostname::parse("host.example.com").unwrap();
    assert!(
        good.current(&ddns_core::RecordKey::new(host.clone(), RecordType::A))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn refusals_are_clear_and_isolated(bind: &DnsServer) {
    // Outside the zone: refused before anything is sent.
    let provider = bind.provider();
    let err = provider
        .apply(&[change("host.example.org", "198.51.100.1")])
        .await
        .remove(0)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert!(
        err.to_string().contains("not in the zone example.com."),
        "{err}"
    );

    // A key whose update-policy allows only allowed.example.com: in one
    // batch, the allowed change lands and the other is refused.
    let limited = TsigKey::new(
        LIMITED_KEY_NAME,
        TsigAlgorithmName::HmacSha256,
        &bind.limited_secret,
    )
    .unwrap();
    let provider = Rfc2136Provider::builder(bind.addr, DnsServer::zone())
        .with_key(limited)
        .build()
        .unwrap();
    let results = provider
        .apply(&[
            change("allowed.example.com", "198.51.100.2"),
            change("denied.example.com", "198.51.100.3"),
        ])
        .await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    let err = results[1].as_ref().unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("refused to let key limited-key. change denied.example.com."),
        "{err}"
    );
    let allowed = Hostname::parse("allowed.example.com").unwrap();
    assert_eq!(
        bind.provider()
            .current(&ddns_core::RecordKey::new(allowed.clone(), RecordType::A))
            .await
            .unwrap(),
        ["198.51.100.2".parse::<IpAddr>().unwrap()]
    );

    // A zone the server does not serve.
    let provider = Rfc2136Provider::builder(bind.addr, Hostname::parse("example.net").unwrap())
        .with_key(bind.key())
        .build()
        .unwrap();
    let err = provider
        .apply(&[change("h.example.net", "198.51.100.4")])
        .await
        .remove(0)
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
    assert!(err.to_string().contains("NOTAUTH"), "{err}");

    // Without a key, BIND's policy refuses.
    let provider = Rfc2136Provider::builder(bind.addr, DnsServer::zone())
        .build()
        .unwrap();
    let err = provider
        .apply(&[change("host.example.com", "198.51.100.5")])
        .await
        .remove(0)
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
}

async fn a_thousand_changes_land_completely(bind: &DnsServer) {
    let provider = bind.provider();
    let changes: Vec<DnsChange> = (0..1000u32)
        .map(|i| {
            let ip = if i % 2 == 0 {
                format!("198.51.{}.{}", i / 250, i % 250 + 1)
            } else {
                format!("2001:db8::{:x}", i + 1)
            };
            change(&format!("bulk{i}.example.com"), &ip)
        })
        .collect();
    let results = provider.apply(&changes).await;
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    for c in &changes {
        assert_eq!(
            provider.current(c.key()).await.unwrap(),
            c.values(),
            "{}",
            c.key()
        );
    }
    // Messages of 500 changes each: two.
    assert_eq!(provider.messages_sent(), 2);
}

async fn oversized_messages_are_split_not_truncated(bind: &DnsServer) {
    // Ask for 2,000 changes per message: far over 65,535 bytes, so the
    // provider must split rather than send a truncated, unsigned message.
    let provider = Rfc2136Provider::builder(bind.addr, DnsServer::zone())
        .with_key(bind.key())
        .with_changes_per_message(2000)
        .build()
        .unwrap();
    let long_label = "a".repeat(60);
    let changes: Vec<DnsChange> = (0..2000u32)
        .map(|i| {
            change(
                &format!("{long_label}.n{i}.example.com"),
                &format!("198.51.{}.{}", i / 250, i % 250 + 1),
            )
        })
        .collect();
    let results = provider.apply(&changes).await;
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    assert!(
        provider.messages_sent() >= 2,
        "split into {} messages",
        provider.messages_sent()
    );
    for c in changes.iter().step_by(97) {
        assert_eq!(provider.current(c.key()).await.unwrap(), c.values());
    }
}

macro_rules! against {
    ($server:ident: $($scenario:ident),* $(,)?) => {
        mod $server {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let Some(server) = super::DnsServer::$server() else { return };
                    super::$scenario(&server).await;
                }
            )*
        }
    };
}

against!(bind: conforms, a_wrong_secret_is_an_authentication_error, refusals_are_clear_and_isolated, a_thousand_changes_land_completely, oversized_messages_are_split_not_truncated);
against!(knot: conforms, a_wrong_secret_is_an_authentication_error, refusals_are_clear_and_isolated, a_thousand_changes_land_completely, oversized_messages_are_split_not_truncated);
