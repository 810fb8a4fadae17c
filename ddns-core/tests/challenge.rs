//! The ACME DNS-01 use case and its HTTP codecs (lego httpreq, acme-dns)
//! over the in-memory store and provider: scope, the cap on values, the
//! TTL, expiry, credentials and `require_signed`, and what each refusal
//! leaves behind (nothing).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use ddns_core::challenge::{ChallengeRules, challenge_value};
use ddns_core::memory::{MemoryProvider, MemoryStore};
use ddns_core::protocols::acme::{AcmeApi, AcmeRoute};
use ddns_core::protocols::endpoint::EndpointRequest;
use ddns_core::{
    ChallengeChange, ChallengeRequest, Credential, DdnsService, Failure, ManualClock, Record,
    RecordKey, RecordName, RecordStore, RecordType, SentName, SharedSecret, TxtValue,
};

const OTHER: &str = "other.example.com";
const CHALLENGE: &str = "_acme-challenge.home.example.com";

struct World {
    service: Arc<DdnsService>,
    store: Arc<MemoryStore>,
    dns: Arc<MemoryProvider>,
    clock: Arc<ManualClock>,
}

fn world(records: Vec<Record>, rules: ChallengeRules) -> World {
    let store = Arc::new(MemoryStore::with_records(records));
    let dns = Arc::new(MemoryProvider::new());
    let clock = Arc::new(ManualClock::new(START));
    let service = Arc::new(
        DdnsService::builder(store.clone(), dns.clone())
            .with_clock(clock.clone())
            .with_challenge_rules(rules)
            .build(),
    );
    World {
        service,
        store,
        dns,
        clock,
    }
}

fn default_world() -> World {
    world(
        vec![
            Record::new(key(HOST, RecordType::A), config()),
            Record::new(
                key(OTHER, RecordType::A),
                ddns_core::RecordConfig::new(SharedSecret::new("another-secret-of-32-characters!")),
            ),
        ],
        ChallengeRules::default(),
    )
}

fn txt_key() -> RecordKey {
    RecordKey::txt(RecordName::parse(CHALLENGE).unwrap())
}

fn value(n: usize) -> TxtValue {
    challenge_value(&format!("{n:0>43}")).unwrap()
}

fn request(host: &str, secret: &str, change: ChallengeChange) -> ChallengeRequest {
    ChallengeRequest::new(
        SentName::parse(host),
        Credential::Password(SharedSecret::new(secret)),
        change,
        ip(PUBLIC_V4),
    )
}

/// The TXT values of `values`; anything else fails the test.
fn texts(values: &[ddns_core::RecordValue]) -> Vec<TxtValue> {
    values
        .iter()
        .map(|v| match v {
            ddns_core::RecordValue::Txt(t) => t.clone(),
            other => panic!("not TXT: {other:?}"),
        })
        .collect()
}

impl World {
    async fn present(&self, n: usize) -> Result<ddns_core::ChallengeOutcome, Failure> {
        self.service
            .challenge(request(HOST, SECRET, ChallengeChange::Present(value(n))))
            .await
    }

    async fn cleanup(&self, n: usize) -> Result<ddns_core::ChallengeOutcome, Failure> {
        self.service
            .challenge(request(HOST, SECRET, ChallengeChange::Cleanup(value(n))))
            .await
    }

    /// The TXT values in DNS and in the store, which must agree.
    async fn values(&self) -> Vec<TxtValue> {
        let in_dns = self
            .dns
            .rrset(&txt_key())
            .map(|rrset| {
                assert_eq!(rrset.ttl, self.service.challenge_rules().ttl());
                texts(&rrset.values)
            })
            .unwrap_or_default();
        let in_store = self
            .store
            .get(&txt_key())
            .await
            .unwrap()
            .map(|r| texts(&r.state.values))
            .unwrap_or_default();
        assert_eq!(in_dns, in_store, "DNS and the store disagree");
        in_dns
    }
}

#[tokio::test]
async fn two_values_at_once_then_cleanup_removes_the_rrset_and_the_row() {
    let w = default_world();
    assert!(w.present(1).await.unwrap().changed);
    let outcome = w.present(2).await.unwrap();
    assert_eq!(outcome.name.as_str(), "_acme-challenge.home.example.com.");
    assert_eq!(outcome.values, vec![value(1), value(2)]);
    assert_eq!(w.values().await, vec![value(1), value(2)]);
    // Presenting a value again changes nothing and costs no DNS call.
    let applies = w.dns.call_sizes().applies.len();
    assert!(!w.present(2).await.unwrap().changed);
    assert_eq!(w.dns.call_sizes().applies.len(), applies);

    assert_eq!(w.cleanup(1).await.unwrap().values, vec![value(2)]);
    assert!(!w.cleanup(1).await.unwrap().changed);
    let last = w.cleanup(2).await.unwrap();
    assert!(last.changed && last.values.is_empty());
    assert!(w.dns.rrset(&txt_key()).is_none());
    assert!(w.store.get(&txt_key()).await.unwrap().is_none());
    // The host's own record is untouched.
    assert!(
        w.store
            .get(&key(HOST, RecordType::A))
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn past_the_cap_the_oldest_values_go() {
    let w = world(
        vec![Record::new(key(HOST, RecordType::A), config())],
        ChallengeRules::default().with_max_values(3).with_ttl(30),
    );
    for n in 1..=5 {
        w.present(n).await.unwrap();
    }
    assert_eq!(w.values().await, vec![value(3), value(4), value(5)]);
    // A request may keep fewer (acme-dns keeps two), never more.
    let kept = w
        .service
        .challenge(request(HOST, SECRET, ChallengeChange::Present(value(6))).keeping(2))
        .await
        .unwrap();
    assert_eq!(kept.values, vec![value(5), value(6)]);
    let many = w
        .service
        .challenge(request(HOST, SECRET, ChallengeChange::Present(value(7))).keeping(50))
        .await
        .unwrap();
    assert_eq!(many.values.len(), 3);
}

#[tokio::test]
async fn values_nobody_cleaned_up_expire() {
    let w = world(
        vec![Record::new(key(HOST, RecordType::A), config())],
        ChallengeRules::default().with_max_age(Duration::from_secs(600)),
    );
    w.present(1).await.unwrap();
    w.clock.advance(Duration::from_secs(300));
    assert_eq!(w.service.expire_challenges().await.unwrap(), 0);
    assert_eq!(w.values().await, vec![value(1)]);
    w.clock.advance(Duration::from_secs(301));
    assert_eq!(w.service.expire_challenges().await.unwrap(), 1);
    assert!(w.values().await.is_empty());
    assert!(w.store.get(&txt_key()).await.unwrap().is_none());

    // An expired value is dropped by the next change of the name too.
    w.present(2).await.unwrap();
    w.clock.advance(Duration::from_secs(601));
    assert_eq!(w.present(3).await.unwrap().values, vec![value(3)]);
    assert_eq!(w.values().await, vec![value(3)]);
}

#[tokio::test]
async fn refusals_change_nothing() {
    let w = world(
        vec![
            Record::new(key(HOST, RecordType::A), config()),
            Record::new(
                key("signed.example.com", RecordType::A),
                config().with_require_signed(true),
            ),
            Record::new(
                key("empty.example.com", RecordType::A),
                ddns_core::RecordConfig::new(SharedSecret::new("")),
            ),
        ],
        ChallengeRules::default(),
    );
    let present = || ChallengeChange::Present(value(1));
    let wrong = w
        .service
        .challenge(request(HOST, "not-the-secret", present()))
        .await;
    assert!(matches!(wrong, Err(Failure::HashMismatch)), "{wrong:?}");
    let unknown = w
        .service
        .challenge(request("nobody.example.com", SECRET, present()))
        .await;
    assert!(
        matches!(unknown, Err(Failure::NotConfigured { .. })),
        "{unknown:?}"
    );
    let signed = w
        .service
        .challenge(request("signed.example.com", SECRET, present()))
        .await;
    assert!(
        matches!(signed, Err(Failure::SignatureRequired { .. })),
        "{signed:?}"
    );
    let empty = w
        .service
        .challenge(request("empty.example.com", "", present()))
        .await;
    assert!(
        matches!(empty, Err(Failure::UnusableRecord { .. })),
        "{empty:?}"
    );
    assert_eq!(w.dns.call_sizes().applies.len(), 0);
    assert_eq!(w.store.len(), 3);

    // A failing DNS leaves the store as it was.
    w.dns.set_unavailable(true);
    let down = w.present(1).await;
    assert!(matches!(down, Err(Failure::Backend { .. })), "{down:?}");
    assert!(w.store.get(&txt_key()).await.unwrap().is_none());
}

#[tokio::test]
async fn the_aaaa_record_credential_serves_a_host_without_an_a_record() {
    let w = world(
        vec![Record::new(key(HOST, RecordType::Aaaa), config())],
        ChallengeRules::default(),
    );
    assert_eq!(w.present(1).await.unwrap().values, vec![value(1)]);
}

#[test]
fn challenge_values_are_one_printable_string() {
    assert!(challenge_value("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0").is_ok());
    assert!(challenge_value(&"a".repeat(255)).is_ok());
    for bad in ["", "tab\there", "caf\u{e9}", &"a".repeat(256)] {
        assert!(challenge_value(bad).is_err(), "{bad:?}");
    }
}

async fn acme(
    api: &AcmeApi,
    route: AcmeRoute,
    auth: Option<&str>,
    user: Option<(&str, &str)>,
    body: &str,
) -> ddns_core::protocols::acme::AcmeAnswer {
    let request = EndpointRequest::new("POST", "/", "", ip(PUBLIC_V4))
        .with_authorization(auth)
        .with_api_user(user.map(|u| u.0))
        .with_api_key(user.map(|u| u.1))
        .with_body(body.as_bytes());
    api.handle(route, &request).await
}

#[tokio::test]
async fn httpreq_serves_the_hosts_own_challenge_name_only() {
    let w = default_world();
    let api = AcmeApi::new(w.service.clone());
    let auth = basic(HOST, SECRET);
    let body = |fqdn: &str, v: &str| format!(r#"{{"fqdn": "{fqdn}", "value": "{v}"}}"#);
    let token = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";

    let ok = acme(
        &api,
        AcmeRoute::Present,
        Some(&auth),
        None,
        &body(&format!("{CHALLENGE}."), token),
    )
    .await;
    assert_eq!(ok.response.status, 200, "{}", ok.response.body);
    assert!(ok.changed && !ok.unproven);
    assert_eq!(w.values().await, vec![challenge_value(token).unwrap()]);

    // Another host's challenge name, the host itself, or a name below it.
    for fqdn in [
        "_acme-challenge.other.example.com.",
        "home.example.com.",
        "_acme-challenge.x.home.example.com.",
        "not a name",
    ] {
        let refused = acme(
            &api,
            AcmeRoute::Present,
            Some(&auth),
            None,
            &body(fqdn, token),
        )
        .await;
        assert_eq!(
            refused.response.status, 403,
            "{fqdn}: {}",
            refused.response.body
        );
    }
    // Missing, malformed and wrong credentials.
    for auth in [None, Some("Bearer x"), Some(basic(HOST, "wrong").as_str())] {
        let refused = acme(
            &api,
            AcmeRoute::Present,
            auth,
            None,
            &body(CHALLENGE, token),
        )
        .await;
        assert_eq!(refused.response.status, 401, "{auth:?}");
        assert!(refused.unproven);
        assert!(
            refused
                .response
                .headers
                .iter()
                .any(|(name, _)| *name == "www-authenticate")
        );
    }
    // Bad bodies and values.
    for bad in [
        String::new(),
        "{".to_owned(),
        r#"{"domain": "home.example.com", "token": "t", "keyAuth": "k"}"#.to_owned(),
        body(CHALLENGE, ""),
        body(CHALLENGE, &"v".repeat(256)),
        body(CHALLENGE, "new\\nline"),
    ] {
        let refused = acme(&api, AcmeRoute::Present, Some(&auth), None, &bad).await;
        assert_eq!(
            refused.response.status, 400,
            "{bad}: {}",
            refused.response.body
        );
        assert!(refused.response.body.starts_with("{\"error\": "));
    }
    assert_eq!(w.values().await, vec![challenge_value(token).unwrap()]);

    let cleaned = acme(
        &api,
        AcmeRoute::Cleanup,
        Some(&auth),
        None,
        &body(CHALLENGE, token),
    )
    .await;
    assert_eq!(cleaned.response.status, 200);
    assert!(w.values().await.is_empty());
}

#[tokio::test]
async fn acme_dns_keeps_the_last_two_values_and_names_its_errors() {
    let w = default_world();
    let api = AcmeApi::new(w.service.clone());
    let body = |sub: &str, txt: &str| format!(r#"{{"subdomain": "{sub}", "txt": "{txt}"}}"#);
    for n in 1..=3 {
        let v = format!("{n:0>43}");
        let ok = acme(
            &api,
            AcmeRoute::Update,
            None,
            Some((HOST, SECRET)),
            &body(HOST, &v),
        )
        .await;
        assert_eq!(ok.response.status, 200, "{}", ok.response.body);
        assert_eq!(ok.response.body, format!(r#"{{"txt": "{v}"}}"#));
    }
    assert_eq!(w.values().await, vec![value(2), value(3)]);

    let forbidden = [
        (None, body(HOST, "x")),
        (Some((HOST, "wrong")), body(HOST, "x")),
        (Some((HOST, SECRET)), body(OTHER, "x")),
        (Some((OTHER, SECRET)), body(OTHER, "x")),
    ];
    for (user, text) in forbidden {
        let refused = acme(&api, AcmeRoute::Update, None, user, &text).await;
        assert_eq!(refused.response.status, 401, "{user:?} {text}");
        assert!(refused.response.body.contains("\"forbidden\""));
    }
    let bad_txt = acme(
        &api,
        AcmeRoute::Update,
        None,
        Some((HOST, SECRET)),
        &body(HOST, ""),
    )
    .await;
    assert_eq!(bad_txt.response.status, 400);
    assert!(bad_txt.response.body.contains("\"bad_txt\""));
    let register = acme(&api, AcmeRoute::Register, None, None, "").await;
    assert_eq!(register.response.status, 403);
    assert!(register.response.body.contains("acme-settings"));
    let health = acme(&api, AcmeRoute::Health, None, None, "").await;
    assert_eq!(health.response.status, 200);
    assert_eq!(w.values().await, vec![value(2), value(3)]);
}

fn rrset(name: &str, record_type: RecordType, values: &[&str]) -> ddns_core::RrsetUpdate {
    let key = RecordKey::try_new(RecordName::parse(name).unwrap(), record_type).unwrap();
    let values = values
        .iter()
        .map(|v| ddns_core::RecordValue::parse(record_type, v).unwrap())
        .collect();
    ddns_core::RrsetUpdate::new(key, values)
}

fn dns_update(rrsets: Vec<ddns_core::RrsetUpdate>) -> ddns_core::DnsUpdateRequest {
    ddns_core::DnsUpdateRequest::new(
        ddns_core::Hostname::parse(HOST).unwrap(),
        SharedSecret::new(SECRET),
        rrsets,
        ip("127.0.0.1"),
    )
}

#[tokio::test]
async fn a_records_key_changes_its_address_and_challenge_only() {
    let w = world(
        vec![
            Record::new(key(HOST, RecordType::A), config().with_require_signed(true)),
            Record::new(key(OTHER, RecordType::A), config()),
        ],
        ChallengeRules::default(),
    );
    let host = ddns_core::Hostname::parse(HOST).unwrap();
    assert!(w.service.update_key(&host).await.unwrap().is_some());
    let nobody = ddns_core::Hostname::parse("nobody.example.com").unwrap();
    assert!(w.service.update_key(&nobody).await.unwrap().is_none());

    // The address and two challenge values, in one message; TSIG counts
    // as signed for a record that requires it.
    let changed = w
        .service
        .dns_update(dns_update(vec![
            rrset(HOST, RecordType::A, &["198.51.100.7"]),
            rrset(CHALLENGE, RecordType::Txt, &["\"one\"", "\"two\""]),
        ]))
        .await
        .unwrap();
    assert_eq!(changed, 2);
    assert_eq!(
        w.dns.rrset(&key(HOST, RecordType::A)).unwrap().addresses(),
        [ip("198.51.100.7")]
    );
    assert_eq!(w.values().await.len(), 2);

    // Anything outside the scope refuses the whole message.
    for rrsets in [
        vec![
            rrset(HOST, RecordType::A, &["198.51.100.8"]),
            rrset(OTHER, RecordType::A, &["198.51.100.8"]),
        ],
        vec![rrset(
            "_acme-challenge.other.example.com",
            RecordType::Txt,
            &["\"x\""],
        )],
        vec![rrset(HOST, RecordType::Txt, &["\"x\""])],
        vec![rrset(
            HOST,
            RecordType::A,
            &["198.51.100.8", "198.51.100.9"],
        )],
        vec![rrset(HOST, RecordType::A, &[])],
        vec![rrset(CHALLENGE, RecordType::Txt, &["\"a\" \"b\""])],
    ] {
        let refused = w.service.dns_update(dns_update(rrsets.clone())).await;
        assert!(
            matches!(refused, Err(Failure::OutOfScope { .. })),
            "{rrsets:?}: {refused:?}"
        );
    }
    assert_eq!(
        w.dns.rrset(&key(HOST, RecordType::A)).unwrap().addresses(),
        [ip("198.51.100.7")]
    );
    assert!(w.dns.rrset(&key(OTHER, RecordType::A)).is_none());
    // An internal address needs allow_internal, as over dyndns2.
    let internal = w
        .service
        .dns_update(dns_update(vec![rrset(HOST, RecordType::A, &["10.0.0.1"])]))
        .await;
    assert!(
        matches!(internal, Err(Failure::InternalNotAllowed { .. })),
        "{internal:?}"
    );
    // A secret rotated since the key was looked up fails.
    let mut stale = dns_update(vec![rrset(HOST, RecordType::A, &["198.51.100.9"])]);
    stale.secret = SharedSecret::new("the-old-secret");
    let rotated = w.service.dns_update(stale).await;
    assert!(
        matches!(rotated, Err(Failure::SignatureMismatch)),
        "{rotated:?}"
    );
}
