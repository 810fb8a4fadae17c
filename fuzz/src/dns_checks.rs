//! The properties of the `dns_update` target (the embedded DNS's UPDATE
//! decoder, [`ddns_authoritative::plan_update`], on arbitrary bytes) and
//! of the `dns_message` target (any message to the embedded DNS, signed
//! zone and secondaries included, through [`ddns_authoritative::Responder`]).
//!
//! This file is also compiled into
//! `ddns-authoritative/tests/fuzz_regressions.rs` (by path), so it uses
//! only `ddns-core`, `ddns-authoritative` and `tokio`.

use std::sync::{Arc, OnceLock};

use ddns_authoritative::{
    AuthoritativeProvider, Dnssec, Responder, Secondary, ZoneConfig, ZoneData, ZoneKey, plan_update,
};
use ddns_core::{DnsChange, DnsProvider, Hostname, RecordKey, RecordValue, TxtValue};

/// `example.com` with an A record and a TXT RRset of two values, built
/// once.
pub fn fixture() -> &'static Arc<ZoneData> {
    static ZONE: OnceLock<Arc<ZoneData>> = OnceLock::new();
    ZONE.get_or_init(|| {
        let origin = Hostname::parse("example.com").expect("a valid zone name");
        let zone = Arc::new(ZoneData::new(ZoneConfig::new(origin)).expect("a valid zone"));
        let provider = AuthoritativeProvider::new(zone.clone());
        let host = Hostname::parse("home.example.com").expect("a valid name");
        let challenge = ddns_core::challenge::challenge_name(&host).expect("a valid name");
        let values = ["first", "second"]
            .map(|t| RecordValue::Txt(TxtValue::new(t).expect("a valid value")))
            .to_vec();
        let changes = [
            DnsChange::upsert(host, 60, [198, 51, 100, 7].into()),
            DnsChange::upsert_set(RecordKey::txt(challenge), 60, values).expect("valid values"),
        ];
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
        for result in runtime.block_on(provider.apply(&changes)) {
            result.expect("the fixture's changes apply");
        }
        zone
    })
}

/// Decoding never panics; a plan names only RRsets of the zone, of the
/// managed types, whose values are of the RRset's type, without
/// duplicates, and different from what the zone serves.
pub fn dns_update(data: &[u8]) {
    let zone = fixture();
    let Ok(rrsets) = plan_update(zone, data) else {
        return;
    };
    let origin = zone.config().origin();
    for rrset in rrsets {
        assert!(rrset.key.name().is_in_zone(origin), "{}", rrset.key);
        assert!(
            rrset
                .values
                .iter()
                .all(|v| v.record_type() == rrset.key.record_type()),
            "{}: {:?}",
            rrset.key,
            rrset.values
        );
        let mut distinct = rrset.values.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), rrset.values.len(), "{}", rrset.key);
        assert_ne!(zone.values(&rrset.key), rrset.values, "{}", rrset.key);
    }
}

/// The address of the secondary allowed to transfer without a key.
pub const OPEN_SECONDARY: [u8; 4] = [192, 0, 2, 54];

/// A signed `example.com` with three hosts, one secondary with a key and
/// one without, its responder and a runtime to drive it, built once.
pub fn responder() -> &'static (tokio::runtime::Runtime, Responder, Arc<ZoneData>) {
    static RESPONDER: OnceLock<(tokio::runtime::Runtime, Responder, Arc<ZoneData>)> =
        OnceLock::new();
    RESPONDER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
        let origin = Hostname::parse("example.com").expect("a valid zone name");
        let secondaries = vec![
            Secondary::new(([192, 0, 2, 53], 53).into())
                .with_key(
                    "xfr",
                    "hmac-sha256",
                    b"0123456789abcdef0123456789abcdef".to_vec(),
                )
                .expect("a valid key"),
            Secondary::new((OPEN_SECONDARY, 53).into()),
        ];
        let key = ZoneKey::generate().expect("a key");
        let zone = ZoneData::new(ZoneConfig::new(origin).with_secondaries(secondaries))
            .and_then(|z| z.signed(&Dnssec::new(key)))
            .expect("a valid zone");
        let zone = Arc::new(zone);
        let provider = AuthoritativeProvider::new(zone.clone());
        let changes: Vec<DnsChange> = ["home", "nas.lan", "b"]
            .iter()
            .enumerate()
            .map(|(i, label)| {
                let host = Hostname::parse(&format!("{label}.example.com")).expect("a valid name");
                let last = u8::try_from(i).unwrap_or(0) + 7;
                DnsChange::upsert(host, 60, [198, 51, 100, last].into())
            })
            .collect();
        for result in runtime.block_on(provider.apply(&changes)) {
            result.expect("the fixture's changes apply");
        }
        let responder = Responder::new(std::slice::from_ref(&zone), None).expect("one zone");
        (runtime, responder, zone)
    })
}

/// The header fields of a DNS message: ID, whether it is a response, the
/// opcode, the rcode, and the four section counts.
pub fn header(message: &[u8]) -> Option<(u16, bool, u8, u8, [u16; 4])> {
    if message.len() < 12 {
        return None;
    }
    let word = |i: usize| u16::from_be_bytes([message[i], message[i + 1]]);
    Some((
        word(0),
        message[2] & 0x80 != 0,
        (message[2] >> 3) & 0x0f,
        message[3] & 0x0f,
        [word(4), word(6), word(8), word(10)],
    ))
}

/// The query type of a message's first question, when it has one.
fn query_type(message: &[u8]) -> Option<u16> {
    let (_, _, _, _, counts) = header(message)?;
    if counts[0] == 0 {
        return None;
    }
    let mut at = 12;
    loop {
        let length = usize::from(*message.get(at)?);
        if length == 0 {
            at += 1;
            break;
        }
        if length & 0xc0 != 0 {
            return None;
        }
        at += 1 + length;
    }
    Some(u16::from_be_bytes([
        *message.get(at)?,
        *message.get(at + 1)?,
    ]))
}

/// Any message, over UDP and TCP, from an outsider and from the secondary
/// without a key: nothing panics; every answer is one DNS response with
/// the request's ID that fits a TCP frame; a transfer gives records only
/// over TCP to the secondary, and then starts and ends in messages of the
/// zone.
pub fn dns_message(data: &[u8]) {
    const AXFR: u16 = 252;
    const IXFR: u16 = 251;
    let (runtime, responder, _zone) = responder();
    let outsider: std::net::SocketAddr = ([198, 51, 100, 1], 5353).into();
    let secondary: std::net::SocketAddr = (OPEN_SECONDARY, 5353).into();
    let request = header(data);
    let transfer = request.is_some_and(|(_, response, opcode, _, _)| !response && opcode == 0)
        && matches!(query_type(data), Some(AXFR | IXFR));
    for (source, over_tcp) in [(outsider, false), (outsider, true), (secondary, true)] {
        let answers = runtime.block_on(responder.respond(data.to_vec(), source, over_tcp));
        if transfer && (!over_tcp || source == outsider) {
            assert!(answers.len() <= 1, "one refusal, not a transfer");
        }
        for answer in &answers {
            assert!(
                answer.len() <= usize::from(u16::MAX),
                "{} bytes",
                answer.len()
            );
            let (id, response, _, _, counts) = header(answer).expect("a whole header");
            assert!(response, "the answer is a response");
            if let Some((request_id, ..)) = request {
                assert_eq!(id, request_id, "the answer keeps the request's ID");
            }
            if transfer && (!over_tcp || source == outsider) {
                assert_eq!(counts[1], 0, "no record reaches {source} (TCP: {over_tcp})");
            }
        }
    }
}
