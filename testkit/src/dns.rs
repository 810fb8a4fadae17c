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

/// `delv` (bind9-dnsutils) at `addr` for `name` and `rtype`, trusting only
/// `anchor`, a zone's DNSKEY record in presentation form (`example.com.
/// 3600 IN DNSKEY 257 3 13 ...`): its whole output, stdout and stderr;
/// `None` (loudly) without delv. Blocking.
pub fn delv(addr: SocketAddr, anchor: &str, name: &str, rtype: &str) -> Option<String> {
    let delv = crate::tools::required("delv", "apt-get install bind9-dnsutils")?;
    let dir = tempfile::tempdir().unwrap();
    let fields: Vec<&str> = anchor.split_whitespace().collect();
    assert!(
        fields.len() > 7 && fields[3] == "DNSKEY",
        "not a DNSKEY record: {anchor}"
    );
    let zone = fields[0];
    let anchors = format!(
        "trust-anchors {{ {zone} static-key {} {} {} \"{}\"; }};\n",
        fields[4],
        fields[5],
        fields[6],
        fields[7..].concat()
    );
    let file = dir.path().join("anchors.conf");
    std::fs::write(&file, anchors).unwrap();
    let out = std::process::Command::new(delv)
        .arg(format!("@{}", addr.ip()))
        .args(["-p", &addr.port().to_string(), "-a"])
        .arg(&file)
        .arg(format!("+root={}", zone.trim_end_matches('.')))
        .args([name, rtype])
        .output()
        .unwrap();
    Some(format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// True when `delv`'s output says the answer (positive or negative) was
/// fully validated.
pub fn fully_validated(delv_output: &str) -> bool {
    delv_output.contains("; fully validated")
        || delv_output.contains("; negative response, fully validated")
}
