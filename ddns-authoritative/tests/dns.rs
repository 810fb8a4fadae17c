//! The embedded authoritative server over real sockets: queried with
//! hickory's client over UDP and with `dig` (UDP and TCP), and the provider
//! checked by the shared conformance suite.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::net::SocketAddr;
use std::sync::Arc;

use ddns_authoritative::{AuthoritativeProvider, DnsServer, ZoneConfig, ZoneData};
use ddns_core::memory::MemoryStore;
use ddns_core::{
    ChangeUpdate, DnsChange, DnsProvider, Hostname, Record, RecordConfig, RecordKey, RecordStore,
    RecordType as DdnsType, SharedSecret, Timestamp, conformance,
};
use ddns_testkit::dns::{addresses, dig, query, serial};
use hickory_net::proto::op::ResponseCode;
use hickory_net::proto::rr::{RData, RecordType};

fn hostname(s: &str) -> Hostname {
    Hostname::parse(s).unwrap()
}

fn zone_data() -> Arc<ZoneData> {
    Arc::new(ZoneData::new(ZoneConfig::new(hostname("example.com"))).unwrap())
}

async fn start() -> (DnsServer, Arc<ZoneData>, AuthoritativeProvider, SocketAddr) {
    let zone = zone_data();
    let server = DnsServer::bind(&["127.0.0.1:0".parse().unwrap()], zone.clone())
        .await
        .unwrap();
    let addr = server.local_addrs()[0];
    let provider = AuthoritativeProvider::new(zone.clone());
    (server, zone, provider, addr)
}

async fn set(provider: &AuthoritativeProvider, host: &str, ttl: u32, ip: &str) {
    let results = provider
        .apply(&[DnsChange::upsert(hostname(host), ttl, ip.parse().unwrap())])
        .await;
    results[0].as_ref().unwrap();
}

#[tokio::test]
async fn provider_conforms() {
    let zone = zone_data();
    conformance::provider(&AuthoritativeProvider::new(zone), &hostname("example.com")).await;
}

#[tokio::test]
async fn answers_change_at_once_with_ttl_and_serial() {
    let (server, zone, provider, addr) = start().await;
    let before = serial(&query(addr, "example.com.", RecordType::SOA).await.answers).unwrap();
    assert_eq!(before, zone.serial());

    set(&provider, "home.example.com", 120, "198.51.100.7").await;
    let r = query(addr, "home.example.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert!(r.metadata.authoritative, "answers must be authoritative");
    assert_eq!(addresses(&r), [("198.51.100.7".parse().unwrap(), 120)]);
    let after = serial(&query(addr, "example.com.", RecordType::SOA).await.answers).unwrap();
    assert_eq!(after, before + 1, "each change bumps the serial");

    set(&provider, "home.example.com", 60, "198.51.100.8").await;
    let r = query(addr, "HOME.example.com.", RecordType::A).await;
    assert_eq!(
        addresses(&r),
        [("198.51.100.8".parse().unwrap(), 60)],
        "names are case-insensitive"
    );

    set(&provider, "home.example.com", 30, "2001:db8::8").await;
    let r = query(addr, "home.example.com.", RecordType::AAAA).await;
    assert_eq!(addresses(&r), [("2001:db8::8".parse().unwrap(), 30)]);
    server.shutdown().await;
}

#[tokio::test]
async fn negative_answers_are_told_apart() {
    let (server, _zone, provider, addr) = start().await;
    set(&provider, "a.b.example.com", 60, "198.51.100.7").await;

    // The name exists with another type: NODATA, SOA in authority.
    let r = query(addr, "a.b.example.com.", RecordType::AAAA).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert!(r.answers.is_empty());
    assert!(serial(&r.authorities).is_some(), "NODATA carries the SOA");
    // An empty non-terminal exists too.
    let r = query(addr, "b.example.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert!(r.answers.is_empty());
    // A name that does not exist: NXDOMAIN, SOA in authority.
    let r = query(addr, "nobody.example.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    assert!(serial(&r.authorities).is_some(), "NXDOMAIN carries the SOA");
    // Outside the zone: REFUSED.
    let r = query(addr, "example.org.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::Refused);
    let r = query(addr, "com.", RecordType::NS).await;
    assert_eq!(r.metadata.response_code, ResponseCode::Refused);
    server.shutdown().await;
}

#[tokio::test]
async fn deleted_names_are_gone_and_their_ancestors_with_them() {
    let (server, zone, provider, addr) = start().await;
    set(&provider, "a.b.example.com", 60, "198.51.100.7").await;
    set(&provider, "a.b.example.com", 60, "2001:db8::7").await;
    set(&provider, "c.b.example.com", 60, "198.51.100.8").await;
    let delete = |host: &str, t| DnsChange::delete(RecordKey::new(hostname(host), t));
    let before = zone.serial();

    // A goes, AAAA stays: the name has NODATA for A.
    let results = provider
        .apply(&[delete("a.b.example.com", DdnsType::A)])
        .await;
    results[0].as_ref().unwrap();
    assert_eq!(zone.serial(), before + 1, "a deletion bumps the serial");
    let r = query(addr, "a.b.example.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert!(r.answers.is_empty());
    // Its last RRset goes: NXDOMAIN; b still holds c.
    provider
        .apply(&[delete("a.b.example.com", DdnsType::Aaaa)])
        .await;
    let r = query(addr, "a.b.example.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    let r = query(addr, "b.example.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    // The last name below b goes: b is gone too. The apex stays.
    provider
        .apply(&[delete("c.b.example.com", DdnsType::A)])
        .await;
    let r = query(addr, "b.example.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    let r = query(addr, "example.com.", RecordType::SOA).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    // Deleting what is not there succeeds.
    let results = provider
        .apply(&[delete("c.b.example.com", DdnsType::A)])
        .await;
    assert!(results[0].is_ok());
    server.shutdown().await;
}

#[tokio::test]
async fn apex_has_soa_and_ns_from_configuration() {
    let (server, _zone, _provider, addr) = start().await;
    let r = query(addr, "example.com.", RecordType::NS).await;
    let ns: Vec<String> = r
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::NS(ns) => Some(ns.0.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(ns, ["ns1.example.com."]);
    let r = query(addr, "example.com.", RecordType::SOA).await;
    let soa = r
        .answers
        .iter()
        .find_map(|r| match &r.data {
            RData::SOA(soa) => Some(soa.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(soa.mname.to_string(), "ns1.example.com.");
    assert_eq!(soa.rname.to_string(), "hostmaster.example.com.");
    assert_eq!(soa.minimum, 60);
    server.shutdown().await;
}

#[tokio::test]
async fn changes_outside_the_zone_fail_alone() {
    let (_server, zone, provider, _addr) = start().await;
    let serial = zone.serial();
    let results = provider
        .apply(&[
            DnsChange::upsert(
                hostname("in.example.com"),
                60,
                "198.51.100.1".parse().unwrap(),
            ),
            DnsChange::upsert(
                hostname("out.example.org"),
                60,
                "198.51.100.2".parse().unwrap(),
            ),
        ])
        .await;
    assert!(results[0].is_ok());
    let err = results[1].as_ref().unwrap_err();
    assert!(err.to_string().contains("not in the zone"), "{err}");
    assert_eq!(zone.serial(), serial + 1, "one batch, one serial bump");
}

#[tokio::test]
async fn the_zone_is_rebuilt_from_the_store() {
    let store = MemoryStore::new();
    for (host, t, ttl, ip) in [
        (
            "a.example.com",
            DdnsType::A,
            Some(300),
            Some("198.51.100.1"),
        ),
        ("a.example.com", DdnsType::Aaaa, None, Some("2001:db8::1")),
        ("never-set.example.com", DdnsType::A, None, None),
        ("other.example.org", DdnsType::A, None, Some("198.51.100.9")),
    ] {
        let key = RecordKey::new(hostname(host), t);
        let mut config = RecordConfig::new(SharedSecret::new("s"));
        if let Some(ttl) = ttl {
            config = config.with_ttl(ttl);
        }
        store
            .create(&Record::new(key.clone(), config))
            .await
            .unwrap();
        if let Some(ip) = ip {
            let change = ChangeUpdate::address(None, ip.parse().unwrap(), Timestamp::now());
            assert!(store.record_change(&key, change).await.unwrap());
        }
    }
    let (server, _zone, provider, addr) = start().await;
    assert_eq!(provider.load(&store, 45).await.unwrap(), 2);
    let r = query(addr, "a.example.com.", RecordType::A).await;
    assert_eq!(addresses(&r), [("198.51.100.1".parse().unwrap(), 300)]);
    let r = query(addr, "a.example.com.", RecordType::AAAA).await;
    assert_eq!(addresses(&r), [("2001:db8::1".parse().unwrap(), 45)]);
    let r = query(addr, "never-set.example.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dig_sees_answers_over_udp_and_tcp() {
    let (server, _zone, provider, addr) = start().await;
    set(&provider, "home.example.com", 120, "198.51.100.7").await;
    let port = addr.port().to_string();
    for transport in ["+notcp", "+tcp"] {
        let args = [
            "@127.0.0.1",
            "-p",
            &port,
            transport,
            "+norecurse",
            "+noall",
            "+answer",
            "home.example.com",
            "A",
        ];
        let Some(out) = tokio::task::spawn_blocking({
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            move || dig(&args.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .await
        .unwrap() else {
            server.shutdown().await;
            return;
        };
        let fields: Vec<&str> = out.split_whitespace().collect();
        assert_eq!(
            fields,
            ["home.example.com.", "120", "IN", "A", "198.51.100.7"],
            "dig {transport}: {out}"
        );
    }
    let args: Vec<String> = [
        "@127.0.0.1",
        "-p",
        &port,
        "+norecurse",
        "nobody.example.com",
        "A",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = tokio::task::spawn_blocking(move || {
        dig(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap()
    .unwrap_or_default();
    assert!(
        out.contains("status: NXDOMAIN") && out.contains("flags: qr aa"),
        "{out}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn several_zones_answer_each_with_its_own_soa_and_serial() {
    let com = zone_data();
    let lab = Arc::new(ZoneData::new(ZoneConfig::new(hostname("lab.example.com"))).unwrap());
    let net = Arc::new(ZoneData::new(ZoneConfig::new(hostname("example.net"))).unwrap());
    let server = DnsServer::bind_zones(
        &["127.0.0.1:0".parse().unwrap()],
        &[com.clone(), lab.clone(), net.clone()],
        ddns_authoritative::TcpLimits::default(),
    )
    .await
    .unwrap();
    let addr = server.local_addrs()[0];
    let before = [com.serial(), lab.serial(), net.serial()];
    set(
        &AuthoritativeProvider::new(net.clone()),
        "home.example.net",
        60,
        "198.51.100.9",
    )
    .await;
    set(
        &AuthoritativeProvider::new(lab.clone()),
        "nas.lab.example.com",
        60,
        "198.51.100.10",
    )
    .await;
    let r = query(addr, "home.example.net.", RecordType::A).await;
    assert_eq!(addresses(&r), [("198.51.100.9".parse().unwrap(), 60)]);
    let r = query(addr, "nas.lab.example.com.", RecordType::A).await;
    assert_eq!(addresses(&r), [("198.51.100.10".parse().unwrap(), 60)]);
    // Each apex has its own SOA, whose serial moved only with its changes.
    for (apex, zone) in [
        ("example.com.", &com),
        ("lab.example.com.", &lab),
        ("example.net.", &net),
    ] {
        let soa = query(addr, apex, RecordType::SOA).await;
        assert_eq!(serial(&soa.answers), Some(zone.serial()), "{apex}");
        assert_eq!(soa.answers[0].name.to_ascii(), apex);
    }
    assert_eq!(
        [com.serial(), lab.serial(), net.serial()],
        [before[0], before[1] + 1, before[2] + 1],
        "a change bumps only its own zone's serial"
    );
    // The nested zone answers for its names: NXDOMAIN carries its SOA.
    let r = query(addr, "nobody.lab.example.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(serial(&r.authorities), Some(lab.serial()));
    let r = query(addr, "example.org.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::Refused);
    server.shutdown().await;
    let twice = DnsServer::bind_zones(
        &["127.0.0.1:0".parse().unwrap()],
        &[com.clone(), zone_data()],
        ddns_authoritative::TcpLimits::default(),
    )
    .await;
    assert!(twice.is_err(), "a zone given twice is refused");
}

/// The response code the server gives a query of `rtype` for
/// `example.com.` over TCP.
fn tcp_rcode(addr: SocketAddr, rtype: RecordType) -> ResponseCode {
    use hickory_net::proto::op::{Message, Query};
    use hickory_net::proto::rr::Name;
    use std::io::{Read, Write};
    let mut query = Message::query();
    query.add_query(Query::query(
        Name::from_ascii("example.com.").unwrap(),
        rtype,
    ));
    let wire = query.to_vec().unwrap();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(&u16::try_from(wire.len()).unwrap().to_be_bytes())
        .unwrap();
    stream.write_all(&wire).unwrap();
    let mut length = [0u8; 2];
    stream.read_exact(&mut length).unwrap();
    let mut answer = vec![0u8; usize::from(u16::from_be_bytes(length))];
    stream.read_exact(&mut answer).unwrap();
    Message::from_vec(&answer).unwrap().metadata.response_code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zone_transfers_are_refused_over_udp_and_tcp() {
    let (server, _zone, provider, addr) = start().await;
    set(&provider, "home.example.com", 120, "198.51.100.7").await;
    for rtype in [RecordType::AXFR, RecordType::IXFR] {
        let code = tokio::task::spawn_blocking(move || tcp_rcode(addr, rtype))
            .await
            .unwrap();
        assert_eq!(code, ResponseCode::Refused, "{rtype} over TCP");
        let answer = query(addr, "example.com.", rtype).await;
        assert_eq!(
            answer.metadata.response_code,
            ResponseCode::Refused,
            "{rtype} over UDP"
        );
        assert!(answer.answers.is_empty(), "no record leaves with a refusal");
    }
    // The server answers on after them.
    let answer = query(addr, "home.example.com.", RecordType::A).await;
    assert_eq!(addresses(&answer).len(), 1);
    server.shutdown().await;
}
