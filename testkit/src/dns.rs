//! DNS helpers for the tests that query the embedded server: a query over
//! UDP with hickory's client, the answers' addresses and SOA serial, and
//! `dig` when installed.

use std::net::{IpAddr, SocketAddr};

use hickory_net::client::{Client, ClientHandle};
use hickory_net::proto::op::Message;
use hickory_net::proto::rr::{DNSClass, Name, RData, RecordType};
use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::udp::UdpClientStream;

/// A DNS query over UDP.
pub async fn query(addr: SocketAddr, name: &str, rtype: RecordType) -> Message {
    let stream = UdpClientStream::builder(addr, TokioRuntimeProvider::default()).build();
    let (mut client, background) = Client::<TokioRuntimeProvider>::from_sender(stream);
    let bg = tokio::spawn(background);
    let message = client
        .query(Name::from_ascii(name).unwrap(), DNSClass::IN, rtype)
        .await
        .unwrap()
        .into_message();
    bg.abort();
    message
}

/// The addresses and TTLs of an answer.
pub fn addresses(message: &Message) -> Vec<(IpAddr, u32)> {
    message
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some((IpAddr::V4(a.0), r.ttl)),
            RData::AAAA(a) => Some((IpAddr::V6(a.0), r.ttl)),
            _ => None,
        })
        .collect()
}

/// The SOA serial in a section.
pub fn serial(records: &[hickory_net::proto::rr::Record]) -> Option<u32> {
    records.iter().find_map(|r| match &r.data {
        RData::SOA(soa) => Some(soa.serial),
        _ => None,
    })
}

/// Runs `dig` with `args`; `None` (with a loud note) when dig is missing,
/// a failure when integration tools are required.
pub fn dig(args: &[&str]) -> Option<String> {
    match std::process::Command::new("dig").args(args).output() {
        Ok(out) => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        Err(e) => {
            if std::env::var("DDNS_REQUIRE_INTEGRATION").as_deref() == Ok("1") {
                panic!("dig is required (apt-get install bind9-dnsutils): {e}");
            }
            println!("SKIPPED: dig not installed (apt-get install bind9-dnsutils)");
            None
        }
    }
}

/// `dig +short` of `name` and `rtype` at `server` (2 s, one try), one
/// value per line, trimmed; `None` without dig (see [`dig`]).
pub fn dig_short(server: SocketAddr, name: &str, rtype: &str) -> Option<String> {
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
