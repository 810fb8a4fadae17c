//! Zone transfers and NOTIFY of the embedded DNS, over real sockets:
//! `dig` (bind9-dnsutils) transfers the zone with a TSIG key and checks
//! every message's signature; other addresses, other keys and unsigned
//! requests get nothing; a UDP socket standing in for a secondary reads
//! the NOTIFYs the server sends, signed, retried and coalesced. BIND and
//! Knot as real secondaries are in the server's tests.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use ddns_authoritative::{AuthoritativeProvider, DnsServer, Secondary, ZoneConfig, ZoneData};
use ddns_core::{DnsChange, DnsProvider, Hostname};
use ddns_testkit::dns::dig;
use hickory_net::proto::op::{Message, MessageType, OpCode};
use hickory_net::proto::rr::rdata::tsig::TsigAlgorithm;
use hickory_net::proto::rr::{Name, RData, RecordType, TSigner};
use tokio::net::UdpSocket;

const KEY: &str = "xfr-key";
const SECRET: &[u8] = b"a transfer secret of 32 bytes..!";

fn secret_b64(secret: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(secret)
}

/// A zone with one secondary (its NOTIFYs go to `notify`, signed with
/// `KEY` when `keyed`), served on a free port, and `hosts` A records.
async fn serve(
    notify: SocketAddr,
    keyed: bool,
    hosts: usize,
) -> (DnsServer, Arc<ZoneData>, AuthoritativeProvider, SocketAddr) {
    let mut secondary = Secondary::new(notify);
    if keyed {
        secondary = secondary
            .with_key(KEY, "hmac-sha256", SECRET.to_vec())
            .unwrap();
    }
    let config =
        ZoneConfig::new(Hostname::parse("example.com").unwrap()).with_secondaries(vec![secondary]);
    let zone = Arc::new(ZoneData::new(config).unwrap());
    let provider = AuthoritativeProvider::new(zone.clone());
    let changes: Vec<DnsChange> = (0..hosts)
        .map(|i| {
            DnsChange::upsert(
                Hostname::parse(&format!("host-{i}.example.com")).unwrap(),
                60,
                format!("198.51.{}.{}", 100 + i / 250, i % 250 + 1)
                    .parse()
                    .unwrap(),
            )
        })
        .collect();
    if !changes.is_empty() {
        for result in provider.apply(&changes).await {
            result.unwrap();
        }
    }
    let server = DnsServer::bind(&["127.0.0.1:0".parse().unwrap()], zone.clone())
        .await
        .unwrap();
    let addr = server.local_addrs()[0];
    (server, zone, provider, addr)
}

/// `dig AXFR example.com` at `addr` with `extra` arguments, in a blocking
/// task; `None` without dig.
async fn axfr(addr: SocketAddr, extra: &[&str]) -> Option<String> {
    let mut args: Vec<String> = vec![
        format!("@{}", addr.ip()),
        "-p".into(),
        addr.port().to_string(),
        "+time=5".into(),
        "+tries=1".into(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args.extend(["example.com.".into(), "AXFR".into()]);
    tokio::task::spawn_blocking(move || dig(&args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .unwrap()
}

/// The `;; XFR size: N records (messages M, ...)` line of dig's output.
fn xfr_size(out: &str) -> Option<(usize, usize)> {
    let line = out.lines().find(|l| l.starts_with(";; XFR size:"))?;
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    Some((numbers[0], numbers[1]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secondary_transfers_the_signed_zone_in_many_messages() {
    let sink = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (server, zone, _provider, addr) = serve(sink.local_addr().unwrap(), true, 3000).await;
    let key = format!("hmac-sha256:{KEY}:{}", secret_b64(SECRET));
    let Some(out) = axfr(addr, &["-y", &key]).await else {
        return;
    };
    assert!(!out.contains("failed"), "the transfer failed:\n{out}");
    assert!(
        !out.contains("ouldn't verify") && !out.contains("tsig"),
        "every message's TSIG verifies:\n{}",
        &out[out.len().saturating_sub(2000)..]
    );
    let (records, messages) = xfr_size(&out).unwrap_or_else(|| panic!("no XFR size in:\n{out}"));
    // SOA, NS, 3000 A records, SOA, and a TSIG record per message.
    assert_eq!(records, 3003, "{}", &out[out.len() - 500..]);
    assert!(
        messages > 1,
        "3000 records take several messages, got {messages}"
    );
    let soas: Vec<&str> = out
        .lines()
        .filter(|l| l.split_whitespace().nth(3) == Some("SOA"))
        .collect();
    assert_eq!(soas.len(), 2, "the transfer starts and ends with the SOA");
    assert!(soas[0].contains(&zone.serial().to_string()));
    assert!(out.contains("host-2999.example.com."));

    // IXFR is answered with the whole zone.
    let ixfr = tokio::task::spawn_blocking({
        let key = key.clone();
        move || {
            dig(&[
                &format!("@{}", addr.ip()),
                "-p",
                &addr.port().to_string(),
                "-y",
                &key,
                "+time=5",
                "+tries=1",
                "example.com.",
                "IXFR=1",
            ])
        }
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(xfr_size(&ixfr).map(|(r, _)| r), Some(3003), "{ixfr}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_addresses_keys_and_unsigned_requests_get_no_transfer() {
    let sink = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (server, _zone, _provider, addr) = serve(sink.local_addr().unwrap(), true, 10).await;
    let right = format!("hmac-sha256:{KEY}:{}", secret_b64(SECRET));
    let wrong_secret = format!("hmac-sha256:{KEY}:{}", secret_b64(b"not the secret"));
    let other_key = format!("hmac-sha256:other-key:{}", secret_b64(SECRET));
    for (what, args) in [
        (
            "another address with the right key",
            vec!["-b", "127.0.0.2", "-y", &right],
        ),
        ("no key", vec![]),
        ("a wrong secret", vec!["-y", &wrong_secret]),
        ("a key that is not the secondary's", vec!["-y", &other_key]),
    ] {
        let Some(out) = axfr(addr, &args).await else {
            return;
        };
        assert!(
            !out.contains("198.51.100."),
            "{what}: records were transferred:\n{out}"
        );
        assert!(xfr_size(&out).is_none(), "{what}: {out}");
    }
    // The right key from the right address still works afterwards.
    let out = axfr(addr, &["-y", &right]).await.unwrap();
    assert_eq!(xfr_size(&out).map(|(r, _)| r), Some(13), "{out}");
    server.shutdown().await;
}

/// The next NOTIFY the sink reads within `wait`: its message, and the
/// address it came from.
async fn next_notify(sink: &UdpSocket, wait: Duration) -> Option<(Message, Vec<u8>, SocketAddr)> {
    let mut buffer = vec![0u8; 4096];
    let (length, from) = tokio::time::timeout(wait, sink.recv_from(&mut buffer))
        .await
        .ok()?
        .unwrap();
    buffer.truncate(length);
    Some((Message::from_vec(&buffer).unwrap(), buffer, from))
}

fn notified_serial(message: &Message) -> u32 {
    message
        .answers
        .iter()
        .find_map(|r| match &r.data {
            RData::SOA(soa) => Some(soa.serial),
            _ => None,
        })
        .expect("a NOTIFY carries the SOA")
}

/// Answers `notify` as a secondary does: NOERROR, signed with the key.
async fn acknowledge(sink: &UdpSocket, notify: &Message, raw: &[u8], to: SocketAddr) {
    let signer = TSigner::new(
        SECRET.to_vec(),
        TsigAlgorithm::HmacSha256,
        Name::from_ascii(KEY).unwrap(),
        300,
    )
    .unwrap();
    let (request_mac, _, _) = signer.verify_message_byte(raw, None, true).unwrap();
    let mut answer = Message::response(notify.metadata.id, OpCode::Notify);
    answer.metadata.authoritative = true;
    answer.add_queries(notify.queries.clone());
    let bytes = answer.to_vec().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let context = hickory_net::proto::rr::TSigResponseContext::new(
        notify.metadata.id,
        now,
        signer,
        request_mac,
        None,
    );
    answer.set_signature(context.sign(&bytes).unwrap());
    sink.send_to(&answer.to_vec().unwrap(), to).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_send_signed_notifies_retried_until_answered_and_coalesced() {
    let sink = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (server, zone, provider, _addr) = serve(sink.local_addr().unwrap(), true, 0).await;
    let wait = Duration::from_secs(5);

    // At start: a NOTIFY of the current serial, signed with the key.
    let (notify, raw, from) = next_notify(&sink, wait).await.expect("a NOTIFY at start");
    assert_eq!(notify.metadata.op_code, OpCode::Notify);
    assert_eq!(notify.metadata.message_type, MessageType::Query);
    assert!(notify.metadata.authoritative);
    assert_eq!(notify.queries[0].query_type(), RecordType::SOA);
    assert_eq!(notify.queries[0].name().to_ascii(), "example.com.");
    assert_eq!(notified_serial(&notify), zone.serial());
    let tsig = notify
        .signature
        .as_ref()
        .expect("signed with the secondary's key");
    assert_eq!(tsig.name.to_ascii(), format!("{KEY}."));
    acknowledge(&sink, &notify, &raw, from).await;

    // A change: a NOTIFY of the new serial; left unanswered, it comes again.
    provider
        .apply(&[DnsChange::upsert(
            Hostname::parse("home.example.com").unwrap(),
            60,
            "198.51.100.7".parse().unwrap(),
        )])
        .await[0]
        .as_ref()
        .unwrap();
    let serial = zone.serial();
    let (first, _, _) = next_notify(&sink, wait)
        .await
        .expect("a NOTIFY after a change");
    assert_eq!(notified_serial(&first), serial);
    let (again, raw, from) = next_notify(&sink, wait)
        .await
        .expect("the NOTIFY is retried");
    assert_eq!(notified_serial(&again), serial);
    acknowledge(&sink, &again, &raw, from).await;
    assert!(
        next_notify(&sink, Duration::from_millis(2500))
            .await
            .is_none(),
        "an answered NOTIFY is not sent again"
    );

    // A burst of 300 batches: a handful of NOTIFYs, the last one of the
    // final serial.
    for i in 0..300 {
        provider
            .apply(&[DnsChange::upsert(
                Hostname::parse("home.example.com").unwrap(),
                60,
                format!("198.51.100.{}", i % 200 + 1).parse().unwrap(),
            )])
            .await[0]
            .as_ref()
            .unwrap();
        // Spreads the batches over time, as a burst of clients would.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let last = zone.serial();
    let mut notifies = 0;
    let mut seen = 0;
    while seen != last {
        let (notify, raw, from) = next_notify(&sink, wait)
            .await
            .unwrap_or_else(|| panic!("no NOTIFY of serial {last}; last seen {seen}"));
        seen = notified_serial(&notify);
        acknowledge(&sink, &notify, &raw, from).await;
        notifies += 1;
    }
    println!("300 batches sent {notifies} NOTIFYs");
    assert!(notifies < 30, "300 batches sent {notifies} NOTIFYs");
    server.shutdown().await;
}
