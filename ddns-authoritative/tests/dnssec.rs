//! A signed zone over real sockets: `delv` (bind9-dnsutils), with the
//! zone's DNSKEY as its only trust anchor, validates positive answers,
//! names that do not exist and types that do not exist, before and after
//! changes; answers without the DO bit carry no DNSSEC records;
//! signatures are made again before they expire while the server runs;
//! the key file is created 0600 and loaded again.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ddns_authoritative::{AuthoritativeProvider, DnsServer, Dnssec, ZoneConfig, ZoneData, ZoneKey};
use ddns_core::{DnsChange, DnsProvider, Hostname};
use ddns_testkit::dns::{dig, query};
use hickory_net::proto::rr::RecordType;

fn zone() -> Hostname {
    Hostname::parse("example.com").unwrap()
}

async fn serve(
    key: ZoneKey,
    validity: Duration,
) -> (DnsServer, Arc<ZoneData>, AuthoritativeProvider, SocketAddr) {
    let data = ZoneData::new(ZoneConfig::new(zone()))
        .unwrap()
        .signed(&Dnssec::new(key).with_validity(validity))
        .unwrap();
    let data = Arc::new(data);
    let provider = AuthoritativeProvider::new(data.clone());
    let server = DnsServer::bind(&["127.0.0.1:0".parse().unwrap()], data.clone())
        .await
        .unwrap();
    let addr = server.local_addrs()[0];
    (server, data, provider, addr)
}

async fn set(provider: &AuthoritativeProvider, host: &str, ip: &str) {
    provider
        .apply(&[DnsChange::upsert(
            Hostname::parse(host).unwrap(),
            60,
            ip.parse().unwrap(),
        )])
        .await[0]
        .as_ref()
        .unwrap();
}

/// `delv` at `addr` for `name` `rtype`, trusting only `anchor`, in a
/// blocking task.
async fn delv(addr: SocketAddr, anchor: &str, name: &str, rtype: &str) -> Option<String> {
    let (anchor, name, rtype) = (anchor.to_owned(), name.to_owned(), rtype.to_owned());
    tokio::task::spawn_blocking(move || ddns_testkit::dns::delv(addr, &anchor, &name, &rtype))
        .await
        .unwrap()
}

fn assert_validated(out: &str, what: &str) {
    assert!(
        ddns_testkit::dns::fully_validated(out),
        "{what} is not fully validated:\n{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delv_validates_answers_nxdomain_and_nodata_before_and_after_changes() {
    let key = ZoneKey::generate().unwrap();
    let anchor = key.dnskey_record(&zone(), 3600).unwrap();
    let (server, _data, provider, addr) = serve(key, Duration::from_secs(86_400)).await;
    set(&provider, "home.example.com", "198.51.100.7").await;
    set(&provider, "nas.lan.example.com", "198.51.100.8").await;

    let Some(out) = delv(addr, &anchor, "home.example.com", "A").await else {
        return;
    };
    assert_validated(&out, "a positive answer");
    assert!(out.contains("198.51.100.7"), "{out}");
    let out = delv(addr, &anchor, "missing.example.com", "A")
        .await
        .unwrap();
    assert_validated(&out, "a name that does not exist");
    assert!(
        out.contains("ncache nxdomain") || out.contains("NXDOMAIN"),
        "{out}"
    );
    let out = delv(addr, &anchor, "home.example.com", "AAAA")
        .await
        .unwrap();
    assert_validated(&out, "a type that does not exist");
    let out = delv(addr, &anchor, "lan.example.com", "A").await.unwrap();
    assert_validated(&out, "an empty non-terminal");
    let out = delv(addr, &anchor, "deep.missing.lan.example.com", "TXT")
        .await
        .unwrap();
    assert_validated(&out, "a name below an empty non-terminal");

    // Changes are signed as they are applied, and the chain follows.
    set(&provider, "home.example.com", "198.51.100.9").await;
    set(&provider, "aaa.example.com", "198.51.100.10").await;
    provider
        .apply(&[DnsChange::delete(ddns_core::RecordKey::new(
            Hostname::parse("nas.lan.example.com").unwrap(),
            ddns_core::RecordType::A,
        ))])
        .await[0]
        .as_ref()
        .unwrap();
    let out = delv(addr, &anchor, "home.example.com", "A").await.unwrap();
    assert_validated(&out, "a changed answer");
    assert!(out.contains("198.51.100.9"), "{out}");
    let out = delv(addr, &anchor, "aaa.example.com", "A").await.unwrap();
    assert_validated(&out, "a new name");
    for gone in ["nas.lan.example.com", "lan.example.com"] {
        let out = delv(addr, &anchor, gone, "A").await.unwrap();
        assert_validated(&out, &format!("the removed {gone}"));
        assert!(
            out.contains("nxdomain") || out.contains("NXDOMAIN"),
            "{gone}: {out}"
        );
    }
    let out = delv(addr, &anchor, "example.com", "SOA").await.unwrap();
    assert_validated(&out, "the SOA after changes");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_without_do_carry_no_dnssec_records_and_with_do_they_do() {
    let (server, _data, provider, addr) =
        serve(ZoneKey::generate().unwrap(), Duration::from_secs(86_400)).await;
    set(&provider, "home.example.com", "198.51.100.7").await;
    let plain = query(addr, "home.example.com.", RecordType::A).await;
    assert_eq!(plain.answers.len(), 1, "{plain:?}");
    assert!(
        plain
            .answers
            .iter()
            .all(|r| r.record_type() == RecordType::A)
    );
    let nx = query(addr, "missing.example.com.", RecordType::A).await;
    assert!(
        nx.authorities
            .iter()
            .all(|r| r.record_type() == RecordType::SOA),
        "no NSEC without DO: {nx:?}"
    );
    let port = addr.port().to_string();
    let Some(out) = dig(&[
        "@127.0.0.1",
        "-p",
        &port,
        "+dnssec",
        "+norecurse",
        "home.example.com",
        "A",
    ]) else {
        return;
    };
    assert!(out.contains("RRSIG\tA 13 3 60"), "{out}");
    let out = dig(&[
        "@127.0.0.1",
        "-p",
        &port,
        "+dnssec",
        "missing.example.com",
        "A",
    ])
    .unwrap();
    assert!(out.contains("NXDOMAIN") && out.contains("NSEC\t"), "{out}");
    let out = dig(&["@127.0.0.1", "-p", &port, "example.com", "DNSKEY"]).unwrap();
    assert!(out.contains("DNSKEY\t257 3 13 "), "{out}");
    server.shutdown().await;
}

/// The expiration of the RRSIG of `name` `rtype`, asked with DO.
fn expiration(addr: SocketAddr, name: &str, rtype: &str) -> Option<u64> {
    let port = addr.port().to_string();
    let out = dig(&["@127.0.0.1", "-p", &port, "+dnssec", "+short", name, rtype])?;
    out.lines()
        .find(|l| l.starts_with(rtype))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|t| t.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_made_again_before_they_expire() {
    let (server, data, provider, addr) =
        serve(ZoneKey::generate().unwrap(), Duration::from_secs(10)).await;
    set(&provider, "home.example.com", "198.51.100.7").await;
    let serial = data.serial();
    let Some(first) =
        tokio::task::spawn_blocking(move || expiration(addr, "home.example.com", "A"))
            .await
            .unwrap()
    else {
        return;
    };
    // Half the validity (5 s) passes, and a check runs every second.
    let begun = Instant::now();
    let renewed = loop {
        let now = tokio::task::spawn_blocking(move || expiration(addr, "home.example.com", "A"))
            .await
            .unwrap()
            .unwrap();
        if now != first {
            break now;
        }
        assert!(
            begun.elapsed() < Duration::from_secs(15),
            "the signature of home.example.com A (expiring {first}) was not made again"
        );
        // Paces the queries: the server is up (it answered above); what is
        // awaited is the clock passing half the validity.
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(renewed > first, "{first} then {renewed}");
    assert!(
        data.serial() > serial,
        "refreshing signatures is a change of the zone"
    );
    // The apex's signatures too.
    let dnskey = tokio::task::spawn_blocking(move || expiration(addr, "example.com", "DNSKEY"))
        .await
        .unwrap()
        .unwrap();
    assert!(
        dnskey + 10 >= renewed,
        "DNSKEY's signature expires {dnskey}"
    );
    let answer = query(addr, "home.example.com.", RecordType::A).await;
    assert_eq!(answer.answers.len(), 1);
    server.shutdown().await;
}

#[test]
fn the_key_file_is_created_0600_and_loaded_again() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.com.dnssec.key");
    let (made, created) = ZoneKey::load_or_generate(&path).unwrap();
    assert!(created);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let (loaded, created) = ZoneKey::load_or_generate(&path).unwrap();
    assert!(!created);
    assert_eq!(made.key_tag(), loaded.key_tag());
    assert_eq!(
        made.ds_record(&zone()).unwrap(),
        loaded.ds_record(&zone()).unwrap()
    );
    std::fs::write(&path, "not a key").unwrap();
    let error = ZoneKey::load_or_generate(&path).unwrap_err().to_string();
    assert!(error.contains("PEM"), "{error}");
}
