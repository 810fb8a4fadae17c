//! The embedded zone's SOA: its timers come from the settings, and its
//! serial never goes back, also across a restart right after a burst of
//! more batches than seconds (the serial file's reservation), while the
//! records stay as they were.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{config_in, get};
use ddns_core::{Hostname, Record, RecordConfig, RecordKey, RecordType, SharedSecret};
use ddns_server::RunningServer;
use hickory_net::proto::rr::{RData, RecordType as Rtype};

fn config(dir: &std::path::Path) -> ddns_server::ValidConfig {
    config_in(dir, |c| {
        let zone = c.zone.get_or_insert_with(Default::default);
        zone.soa_refresh_secs = 900;
        zone.soa_retry_secs = 300;
        zone.soa_expire_secs = 604_800;
        zone.negative_ttl_secs = 30;
    })
}

async fn soa(server: &RunningServer) -> hickory_net::proto::rr::rdata::SOA {
    let answer = common::query(server.dns_addrs()[0], "example.com.", Rtype::SOA).await;
    answer
        .answers
        .iter()
        .find_map(|r| match &r.data {
            RData::SOA(soa) => Some(soa.clone()),
            _ => None,
        })
        .expect("the zone answers its SOA")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_serial_never_goes_back_across_a_restart_and_the_timers_are_settings() {
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(config(dir.path())).await.unwrap();
    let first = soa(&server).await;
    assert_eq!(
        (first.refresh, first.retry, first.expire, first.minimum),
        (900, 300, 604_800, 30)
    );
    let key = RecordKey::new(Hostname::parse("home.example.com").unwrap(), RecordType::A);
    server
        .service()
        .store()
        .create(&Record::new(
            key,
            RecordConfig::new(SharedSecret::new("s3cret")),
        ))
        .await
        .unwrap();
    // Forty changes, one batch each, in far less than forty seconds.
    let mut last_address = String::new();
    for i in 1..=40u8 {
        let source = format!("198.51.100.{i}");
        let hash = common::home_hash(&source, "s3cret");
        let r = get(
            server.http_addrs()[0],
            &format!("/?mode=set&hostname=home.example.com&hash={hash}"),
            &[("X-Forwarded-For", source.as_str())],
        )
        .await;
        assert!(r.body.contains("has been set"), "{}", r.body);
        last_address = source;
    }
    let before = soa(&server).await.serial;
    assert!(
        before >= first.serial + 40,
        "{before} after {}",
        first.serial
    );
    server.shutdown().await;

    let restarted = RunningServer::start(config(dir.path())).await.unwrap();
    let after = soa(&restarted).await.serial;
    assert!(
        after > before,
        "the serial went from {before} to {after} across a restart"
    );
    let answer = common::query(restarted.dns_addrs()[0], "home.example.com.", Rtype::A).await;
    assert_eq!(
        common::addresses(&answer)
            .first()
            .map(|(a, _)| a.to_string()),
        Some(last_address),
        "the records are published again"
    );
    assert!(dir.path().join("example.com.serial").exists());
    restarted.shutdown().await;
}

#[test]
fn timers_that_make_no_sense_are_refused_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    for (adjust, setting) in [
        ((3600, 7200, 1_209_600), "zone.soa_retry_secs"),
        ((3600, 600, 1000), "zone.soa_expire_secs"),
        ((0, 600, 1_209_600), "zone.soa_refresh_secs"),
    ] {
        let error = common::raw_config_in(dir.path(), |c| {
            let zone = c.zone.get_or_insert_with(Default::default);
            (
                zone.soa_refresh_secs,
                zone.soa_retry_secs,
                zone.soa_expire_secs,
            ) = adjust;
        })
        .validate()
        .unwrap_err();
        assert!(error.to_string().contains(setting), "{error}");
    }
}
