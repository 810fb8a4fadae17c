//! Signed requests (`docs/PROTOCOL.md` section 7): the published vectors,
//! the window, the replay guard, `require_signed`, and property tests that
//! every field is covered by the MAC and that the encoding is injective.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use ddns_core::protocols::dyndns2::{Dyndns2Api, Dyndns2Params, Dyndns2Request};
use ddns_core::signed::{Nonce, SignedMessage, SignedMode, SignedProof};
use ddns_core::{Failure, Hostname, Record, RecordStore, RecordType, SharedSecret};
use proptest::prelude::*;

/// The vectors of `docs/PROTOCOL.md` section 7, computed with Python's
/// `hmac` module and `openssl dgst -hmac`, not with this crate.
const VECTORS: [(&str, SignedMode, &str, &str, u64, &str, &str); 3] = [
    (
        "s3cret",
        SignedMode::Set,
        "home.example.com.",
        "198.51.100.7",
        1_764_172_800,
        "0123456789abcdef0123456789abcdef",
        "c39c08ca280ae3877e216b86d10b407970d54f2132265471a507e78801459bb0",
    ),
    (
        "0123456789abcdef0123456789abcdef",
        SignedMode::Set,
        "home.example.com.",
        "2001:db8:1::7",
        1_764_172_800,
        "Zm9yLWEtdmVjdG9y-_AB",
        "5b1819c447e5b259244244a05c9ce019ab93625ef1cac7b28edad4642f63a408",
    ),
    (
        "p@ss word%\\",
        SignedMode::ListHosts,
        "office.example.com.",
        "203.0.113.9",
        1_700_000_000,
        "nonce-nonce-nonce",
        "8101b95ab2b8e6d9b253539080eee6f998c628f6fde28c756a9239afa5a4bc71",
    ),
];

#[test]
fn published_vectors() {
    for (secret, mode, host, address, timestamp, nonce, expected) in VECTORS {
        let message = SignedMessage::new(
            mode,
            Hostname::parse(host).unwrap(),
            ip(address),
            timestamp,
            Nonce::parse(nonce).unwrap(),
        );
        let text = format!(
            "ddns-signed-v1\n{}\n{host}\n{address}\n{timestamp}\n{nonce}\n",
            mode.as_str()
        );
        assert_eq!(message.canonical(), text.as_bytes());
        assert_eq!(
            message.sign(&SharedSecret::new(secret)).to_hex(),
            expected,
            "{host}"
        );
    }
}

/// Seconds of the fixture's clock.
fn now() -> u64 {
    u64::try_from(START.unix_micros() / 1_000_000).unwrap()
}

/// A signed query string for `mode` of `host`, signing `address`.
fn signed_query(mode: SignedMode, host: &str, address: &str, timestamp: u64) -> String {
    let message = SignedMessage::new(
        mode,
        Hostname::parse(host).unwrap(),
        ip(address),
        timestamp,
        Nonce::generate().unwrap(),
    );
    let proof = SignedProof::for_message(&message, &SharedSecret::new(SECRET));
    format!(
        "mode={}&hostname={host}&signature={}&timestamp={}&nonce={}",
        mode.as_str(),
        proof.signature,
        proof.timestamp,
        proof.nonce
    )
}

/// A correct signed `set` of HOST to PUBLIC_V4 made at `timestamp`.
fn set_at(timestamp: u64) -> String {
    signed_query(SignedMode::Set, HOST, PUBLIC_V4, timestamp)
}

#[tokio::test]
async fn a_signed_set_changes_the_record() {
    let f = Fixture::new();
    let q = set_at(now());
    let r = f.query(&q, PUBLIC_V4).await;
    assert_eq!(
        r.body,
        format!(
            r#"{{"return_message": "Your hostname record {HOST}. has been set to {PUBLIC_V4}", "return_status": "success"}}"#
        )
    );
    let state = f.state(HOST, RecordType::A).await;
    assert_eq!(state.address(), Some(ip(PUBLIC_V4)));
    assert_eq!(state.last_signed, Some(now()));
    assert_eq!(state.last_accessed, Some(ip(PUBLIC_V4)));

    // With internalIp the signed address is the internal one.
    let f = Fixture::with_records([Record::new(
        key(HOST, RecordType::A),
        config().with_allow_internal(true),
    )]);
    let q = signed_query(SignedMode::Set, HOST, "10.0.0.5", now());
    let r = f
        .query(&format!("{q}&internalIp=10.0.0.5"), PUBLIC_V4)
        .await;
    assert!(r.body.contains("has been set to 10.0.0.5"), "{}", r.body);
}

#[tokio::test]
async fn a_replayed_request_is_refused_and_changes_nothing() {
    let f = Fixture::new();
    let q = set_at(now());
    assert!(f.query(&q, PUBLIC_V4).await.body.contains("success"));
    let before = f.state(HOST, RecordType::A).await;
    f.clock.advance(Duration::from_secs(5));

    let r = f.query(&q, PUBLIC_V4).await;
    assert_eq!(
        r.body,
        format!(
            r#"{{"return_message": "This signed request was already used, or is older than the last one accepted for {HOST}.; sign each request with a new timestamp and nonce.", "return_status": "fail"}}"#
        )
    );
    assert_eq!(
        f.state(HOST, RecordType::A).await,
        before,
        "a replay must write nothing"
    );
    // An older request that arrives late is refused the same way.
    let older = set_at(now() - 1);
    assert!(
        f.query(&older, PUBLIC_V4)
            .await
            .body
            .contains("already used")
    );
    // A new one goes through.
    let newer = set_at(now() + 1);
    assert!(f.query(&newer, PUBLIC_V4).await.body.contains("success"));
}

#[tokio::test]
async fn concurrent_replays_succeed_once() {
    let f = Fixture::new();
    let q = set_at(now());
    let answers = futures_util::future::join_all((0..16).map(|_| f.query(&q, PUBLIC_V4))).await;
    let accepted = answers
        .iter()
        .filter(|r| r.body.ends_with(r#""success"}"#))
        .count();
    assert_eq!(accepted, 1, "{answers:?}");
}

#[tokio::test]
async fn requests_outside_the_window_are_refused() {
    let f = Fixture::new();
    for (offset, sign) in [(301_i64, ""), (-301, "-")] {
        let ts = now().checked_add_signed(offset).unwrap();
        let r = f.query(&set_at(ts), PUBLIC_V4).await;
        assert_eq!(
            r.body,
            format!(
                r#"{{"return_message": "The request's timestamp is {sign}301 s from the server's clock, more than the 300 s accepted either way; check the client's clock.", "return_status": "fail"}}"#
            )
        );
    }
    let state = f.state(HOST, RecordType::A).await;
    assert_eq!(
        state.last_signed, None,
        "a stale request must not move the guard"
    );
    assert_eq!(
        state.last_accessed, None,
        "a stale request must write nothing"
    );
    // The edges of the window are inside it.
    for offset in [-300_i64, 300] {
        let f = Fixture::new();
        let ts = now().checked_add_signed(offset).unwrap();
        let r = f.query(&set_at(ts), PUBLIC_V4).await;
        assert!(r.body.contains("success"), "{offset}: {}", r.body);
    }
}

#[tokio::test]
async fn a_configured_window_applies() {
    let store = Arc::new(ddns_core::memory::MemoryStore::with_records([Record::new(
        key(HOST, RecordType::A),
        config(),
    )]));
    let clock = Arc::new(ddns_core::ManualClock::new(START));
    let service =
        ddns_core::DdnsService::builder(store, Arc::new(ddns_core::memory::MemoryProvider::new()))
            .with_clock(clock)
            .with_signed_window(Duration::from_secs(30))
            .build();
    let request = |ts: u64| {
        let q = set_at(ts);
        let params = ddns_core::protocols::seed::SeedParams::from_query(&q);
        ddns_core::protocols::seed::set_request(
            ddns_core::SentName::parse(HOST),
            "",
            &params.signed,
            "",
            ip(PUBLIC_V4),
        )
        .unwrap()
    };
    assert!(matches!(
        service.set(request(now() + 31)).await,
        Err(Failure::StaleTimestamp {
            skew_seconds: 31,
            window_seconds: 30
        })
    ));
    assert!(service.set(request(now() + 30)).await.is_ok());
}

#[tokio::test]
async fn every_signed_field_is_checked() {
    let f = Fixture::new();
    let ts = now();
    let signed = |mode, host, address| signed_query(mode, host, address, ts);
    let other = "other.example.com";
    let with_nonce_changed = {
        let q = signed(SignedMode::Set, HOST, PUBLIC_V4);
        let (head, nonce) = q.rsplit_once("&nonce=").unwrap();
        format!("{head}&nonce={}x", &nonce[..nonce.len() - 1])
    };
    let tampered = [
        // Signed for another address than the one set.
        signed(SignedMode::Set, HOST, "198.51.100.8"),
        // Signed for list_hosts, sent as set.
        signed(SignedMode::ListHosts, HOST, PUBLIC_V4).replacen("mode=list_hosts", "mode=set", 1),
        // Signed for another host name.
        signed(SignedMode::Set, other, PUBLIC_V4).replacen(other, HOST, 1),
        // Another timestamp than the signed one.
        signed(SignedMode::Set, HOST, PUBLIC_V4).replacen(
            &format!("timestamp={ts}"),
            &format!("timestamp={}", ts + 1),
            1,
        ),
        // Another nonce.
        with_nonce_changed,
    ];
    for q in tampered {
        let body = f.query(&q, PUBLIC_V4).await.body;
        assert!(
            body.contains("Validation signatures do not match."),
            "{q}: {body}"
        );
    }
    let state = f.state(HOST, RecordType::A).await;
    assert_eq!((state.last_signed, state.last_accessed), (None, None));
    // The host name's case and trailing dot do not matter: it is signed
    // canonical.
    let q = set_at(ts).replacen(HOST, "HOME.Example.com.", 1);
    assert!(f.query(&q, PUBLIC_V4).await.body.contains("success"));
}

#[tokio::test]
async fn malformed_signed_requests_say_what_is_wrong() {
    let f = Fixture::new();
    let ok = set_at(now());
    let cases = [
        (
            "signature=",
            "signature=abc&x=",
            "signature= must be 64 hexadecimal digits",
        ),
        (
            "timestamp=",
            "timestamp=01&x=",
            "timestamp= must be the Unix time in seconds",
        ),
        (
            "nonce=",
            "nonce=short&x=",
            "nonce= must be 16 to 64 letters",
        ),
    ];
    for (field, replacement, message) in cases {
        let q = ok.replacen(field, replacement, 1);
        let r = f.query(&q, PUBLIC_V4).await;
        assert!(
            r.body
                .contains(&format!("Malformed signed request: {message}")),
            "{}",
            r.body
        );
        assert!(r.body.ends_with(r#""fail"}"#));
    }
}

#[tokio::test]
async fn signed_list_hosts_signs_the_source_address() {
    let f = Fixture::with_records([Record::new(
        key(HOST, RecordType::A),
        config().with_read_privilege(true),
    )]);
    let q = signed_query(SignedMode::ListHosts, HOST, PUBLIC_V4, now());
    let r = f.query(&q, PUBLIC_V4).await;
    assert!(
        r.body.contains(r#""hostname": "home.example.com.""#),
        "{}",
        r.body
    );
    // The same proof from another address does not verify.
    let q = signed_query(SignedMode::ListHosts, HOST, PUBLIC_V4, now() + 1);
    let r = f.query(&q, "198.51.100.99").await;
    assert!(
        r.body.contains("Validation signatures do not match."),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn require_signed_refuses_hash_tokens_and_passwords() {
    let f = Fixture::with_records([Record::new(
        key(HOST, RecordType::A),
        config().with_require_signed(true),
    )]);
    let q = format!("mode=set&hostname={HOST}&hash={}", hash(PUBLIC_V4, HOST));
    let r = f.query(&q, PUBLIC_V4).await;
    assert_eq!(
        r.body,
        format!(
            r#"{{"return_message": "The record for {HOST}. accepts only signed requests; send signature=, timestamp= and nonce= instead of hash= (see docs/PROTOCOL.md section 7).", "return_status": "fail"}}"#
        )
    );
    // A wrong hash is still just a wrong hash: nothing is revealed.
    let bad = format!("mode=set&hostname={HOST}&hash={}", "0".repeat(64));
    assert!(
        f.query(&bad, PUBLIC_V4)
            .await
            .body
            .contains("Validation hashes do not match.")
    );
    let state = f.state(HOST, RecordType::A).await;
    assert_eq!(
        (state.last_accessed, state.address()),
        (None, None),
        "a refused legacy request writes nothing"
    );

    // dyndns2 sends the secret as its password: refused as well.
    let dyndns2 = Dyndns2Api::new(f.service.clone());
    let r = dyndns2
        .handle(
            Dyndns2Request::new(
                Dyndns2Params::from_query(&format!("hostname={HOST}&myip={PUBLIC_V4}")),
                ip(PUBLIC_V4),
            )
            .with_authorization(Some(&basic(HOST, SECRET))),
        )
        .await;
    assert_eq!(r.body.trim(), "badauth");
    assert_eq!(f.dns.calls().changes, 0);

    // The signed request is accepted.
    let q = set_at(now());
    assert!(f.query(&q, PUBLIC_V4).await.body.contains("success"));
}

fn message_strategy() -> impl Strategy<Value = SignedMessage> {
    (
        prop_oneof![Just(SignedMode::Set), Just(SignedMode::ListHosts)],
        "[a-z0-9]{1,10}(\\.[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?)?\\.[a-z]{2,6}",
        any::<IpAddr>(),
        any::<u64>(),
        "[A-Za-z0-9_-]{16,64}",
    )
        .prop_map(|(mode, host, address, timestamp, nonce)| {
            SignedMessage::new(
                mode,
                Hostname::parse(&host).unwrap(),
                address,
                timestamp,
                Nonce::parse(&nonce).unwrap(),
            )
        })
}

/// `message` with field `which` (0..5) changed to another valid value.
fn flip(m: &SignedMessage, which: usize) -> SignedMessage {
    let mut mode = m.mode();
    let mut hostname = m.hostname().clone();
    let mut address = m.address();
    let mut timestamp = m.timestamp();
    let mut nonce = m.nonce().clone();
    match which {
        0 => {
            mode = match mode {
                SignedMode::Set => SignedMode::ListHosts,
                SignedMode::ListHosts => SignedMode::Set,
            }
        }
        1 => hostname = hostname.child("x").unwrap(),
        2 => {
            address = match address {
                IpAddr::V4(a) => IpAddr::V4((u32::from(a) ^ 1).into()),
                IpAddr::V6(a) => IpAddr::V6((u128::from(a) ^ 1).into()),
            }
        }
        3 => timestamp ^= 1,
        _ => {
            let mut n = nonce.as_str().to_owned();
            let last = if n.ends_with('a') { "b" } else { "a" };
            n.replace_range(n.len() - 1.., last);
            nonce = Nonce::parse(&n).unwrap();
        }
    }
    SignedMessage::new(mode, hostname, address, timestamp, nonce)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Changing any one field invalidates the signature.
    #[test]
    fn every_field_is_covered_by_the_mac(
        message in message_strategy(),
        which in 0usize..5,
        secret in "\\PC{1,40}",
    ) {
        let secret = SharedSecret::new(secret);
        let signature = message.sign(&secret);
        prop_assert!(signature.verify(&message, &secret));
        let flipped = flip(&message, which);
        prop_assert_ne!(&flipped, &message);
        prop_assert!(!signature.verify(&flipped, &secret), "field {} not covered", which);
    }

    /// Different messages never share canonical bytes, and every canonical
    /// message reads back to itself.
    #[test]
    fn canonical_encoding_is_injective(a in message_strategy(), b in message_strategy()) {
        let back = SignedMessage::from_canonical(&a.canonical());
        prop_assert_eq!(back, Ok(a.clone()));
        prop_assert_eq!(a == b, a.canonical() == b.canonical());
    }

    /// Concatenations that the hash token confuses stay apart.
    #[test]
    fn address_and_hostname_cannot_trade_characters(d in 1u8..10, host in "[a-z]{1,8}\\.example") {
        let nonce = Nonce::parse("0123456789abcdef").unwrap();
        let make = |address: String, hostname: String| {
            SignedMessage::new(
                SignedMode::Set,
                Hostname::parse(&hostname).unwrap(),
                address.parse().unwrap(),
                1,
                nonce.clone(),
            )
        };
        let a = make(format!("1.2.3.{d}"), format!("{d}{host}"));
        let b = make(format!("1.2.3.{d}{d}"), host.clone());
        prop_assert_ne!(a.canonical(), b.canonical());
    }
}

#[tokio::test]
async fn the_guard_is_kept_in_the_store() {
    // A second service over the same store (a restart, or another
    // instance) refuses what the first accepted.
    let f = Fixture::new();
    let q = set_at(now());
    assert!(f.query(&q, PUBLIC_V4).await.body.contains("success"));
    let restarted = ddns_core::protocols::seed::SeedApi::new(
        Arc::new(
            ddns_core::DdnsService::builder(f.store.clone(), f.dns.clone())
                .with_clock(f.clock.clone())
                .build(),
        ),
        ddns_core::protocols::seed::ApiKeys::none(),
    );
    let r = restarted
        .handle(ddns_core::protocols::seed::SeedHttpRequest::new(
            ddns_core::protocols::seed::SeedParams::from_query(&q),
            ip(PUBLIC_V4),
        ))
        .await;
    assert!(r.body.contains("already used"), "{}", r.body);
    assert_eq!(
        f.store
            .get(&key(HOST, RecordType::A))
            .await
            .unwrap()
            .unwrap()
            .state
            .last_signed,
        Some(now())
    );
}
