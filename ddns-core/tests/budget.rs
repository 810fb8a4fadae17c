//! The host budget is spent only by requests that proved their credential,
//! after the name, the record and the credential were checked; dyndns2
//! says how many names proved nothing; records with an empty secret open to
//! nobody; request types keep credentials out of `Debug`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use ddns_core::memory::{MemoryProvider, MemoryStore};
use ddns_core::protocols::dyndns2::{Dyndns2Api, Dyndns2Params, Dyndns2Request};
use ddns_core::protocols::seed::{ApiKeys, SeedApi, SeedHttpRequest, SeedParams};
use ddns_core::signed::SignedProof;
use ddns_core::{
    DdnsService, Failure, HashToken, HostBudget, Hostname, Record, RecordConfig, RecordStore,
    RecordType, SharedSecret,
};

/// A budget of `left` requests in all, recording every name it is asked for.
#[derive(Debug)]
struct Recording {
    left: Mutex<usize>,
    asked: Mutex<Vec<String>>,
}

impl Recording {
    fn new(left: usize) -> Arc<Self> {
        Arc::new(Self {
            left: Mutex::new(left),
            asked: Mutex::new(Vec::new()),
        })
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl HostBudget for Recording {
    fn spend(&self, hostname: &Hostname) -> bool {
        self.asked.lock().unwrap().push(hostname.to_string());
        let mut left = self.left.lock().unwrap();
        if *left == 0 {
            return false;
        }
        *left -= 1;
        true
    }
}

fn apis(budget: Arc<Recording>) -> (Arc<MemoryStore>, SeedApi, Dyndns2Api) {
    let store = Arc::new(MemoryStore::with_records([
        Record::new(key(HOST, RecordType::A), config()),
        Record::new(key(HOST, RecordType::Aaaa), config()),
        Record::new(
            key("empty.example.com", RecordType::A),
            RecordConfig::new(SharedSecret::new("")),
        ),
    ]));
    let service = Arc::new(
        DdnsService::builder(store.clone(), Arc::new(MemoryProvider::new()))
            .with_host_budget(budget)
            .build(),
    );
    (
        store,
        SeedApi::new(service.clone(), ApiKeys::new(["key-1"])),
        Dyndns2Api::new(service),
    )
}

async fn seed(api: &SeedApi, query: &str, source: &str, key: Option<&str>) -> String {
    api.handle(SeedHttpRequest::new(SeedParams::from_query(query), ip(source)).with_api_key(key))
        .await
        .body
}

#[tokio::test]
async fn only_proven_requests_spend_the_host_budget() {
    let budget = Recording::new(2);
    let (store, seed_api, _) = apis(budget.clone());
    let stranger = "203.0.113.9";
    let wrong = HashToken::compute_as_sent(
        ip(stranger),
        &ddns_core::SentName::parse("home.example.com."),
        &SharedSecret::new("guess"),
    );
    for query in [
        format!("mode=set&hostname={HOST}&hash={}", wrong.to_hex()),
        format!("mode=set&hostname={HOST}"),
        format!("mode=set&hostname={HOST}&hash=zz"),
        format!("mode=list_hosts&hostname={HOST}&hash={}", wrong.to_hex()),
        format!(
            "mode=set&hostname=nobody.example.com&hash={}",
            wrong.to_hex()
        ),
        format!("mode=get&hostname={HOST}"),
    ] {
        seed(&seed_api, &query, stranger, Some("key-1")).await;
    }
    // A correct hash without the API key stops before anything.
    let good = format!("mode=set&hostname={HOST}&hash={}", hash(PUBLIC_V4, HOST));
    seed(&seed_api, &good, PUBLIC_V4, None).await;
    assert!(budget.asked().is_empty(), "{:?}", budget.asked());
    assert_eq!(
        store
            .get(&key(HOST, RecordType::A))
            .await
            .unwrap()
            .unwrap()
            .state
            .last_accessed,
        None
    );

    // The owner spends it; once spent, the owner is refused, nothing written.
    for _ in 0..2 {
        let body = seed(&seed_api, &good, PUBLIC_V4, Some("key-1")).await;
        assert!(body.contains("success"), "{body}");
    }
    let body = seed(&seed_api, &good, PUBLIC_V4, Some("key-1")).await;
    assert_eq!(
        body,
        fail("Too many requests for this host name; wait a minute and try again.")
    );
    assert_eq!(budget.asked(), vec!["home.example.com."; 3]);
}

#[tokio::test]
async fn dyndns2_counts_the_names_that_proved_nothing() {
    let budget = Recording::new(100);
    let (_, _, api) = apis(budget.clone());
    let answer = |query: String, auth: Option<String>| {
        let api = api.clone();
        async move {
            api.handle_detailed(
                Dyndns2Request::new(Dyndns2Params::from_query(&query), ip(PUBLIC_V4))
                    .with_authorization(auth.as_deref()),
            )
            .await
        }
    };
    // No credential: every name is unproven.
    let a = answer(format!("hostname={HOST},x.example.com"), None).await;
    assert_eq!((a.code, a.unproven), ("badauth", 2));
    // A bogus name beside a wrong password does not dodge the penalty.
    let a = answer(
        format!("hostname={HOST},nobody.example.com"),
        Some(basic(HOST, "wrong")),
    )
    .await;
    assert_eq!((a.code, a.unproven), ("badauth", 2));
    // The right password: the unknown name alone is unproven.
    let a = answer(
        format!("hostname={HOST},nobody.example.com"),
        Some(basic(HOST, SECRET)),
    )
    .await;
    assert_eq!(
        (a.code, a.unproven, a.response.body.as_str()),
        ("good", 1, "good 198.51.100.7\nnohost\n")
    );
    // Repeats are one name; 21 distinct names are numhost before any lookup.
    let a = answer(
        format!("hostname={}", vec![HOST; 25].join(",")),
        Some(basic(HOST, SECRET)),
    )
    .await;
    assert_eq!(
        (a.code, a.response.body.as_str()),
        ("nochg", "nochg 198.51.100.7\n")
    );
    let asked_before = budget.asked().len();
    let many: Vec<String> = (0..21).map(|i| format!("h{i}.example.com")).collect();
    let a = answer(format!("hostname={}", many.join(",")), None).await;
    assert_eq!((a.code, a.unproven), ("numhost", 0));
    assert_eq!(budget.asked().len(), asked_before, "numhost spends nothing");
    // An unusable record is refused and reported for the log.
    let a = answer(
        "hostname=empty.example.com".into(),
        Some(basic("empty.example.com", "")),
    )
    .await;
    assert_eq!((a.code, a.unproven), ("badauth", 1));
    assert!(
        matches!(a.failures.as_slice(), [Failure::UnusableRecord { .. }]),
        "{:?}",
        a.failures
    );
}

#[tokio::test]
async fn an_empty_secret_opens_nothing() {
    let budget = Recording::new(100);
    let (_, seed_api, _) = apis(budget.clone());
    let token = HashToken::compute_as_sent(
        ip(PUBLIC_V4),
        &ddns_core::SentName::parse("empty.example.com."),
        &SharedSecret::new(""),
    );
    let body = seed(
        &seed_api,
        &format!(
            "mode=set&hostname=empty.example.com&hash={}",
            token.to_hex()
        ),
        PUBLIC_V4,
        Some("key-1"),
    )
    .await;
    assert_eq!(body, fail("Validation hashes do not match."));
    assert!(budget.asked().is_empty());
}

#[test]
fn request_types_keep_credentials_out_of_debug() {
    let hash = "ab".repeat(32);
    let signature = "cd".repeat(32);
    let set = token_set(HOST, &hash, None, ip(PUBLIC_V4));
    let list = token_list(HOST, &hash, ip(PUBLIC_V4));
    let params = SeedParams::from_query(&format!(
        "mode=set&hostname={HOST}&hash={hash}&signature={signature}&timestamp=1&nonce=n0nce-0123456789ab"
    ));
    let proof = SignedProof {
        signature: signature.clone(),
        timestamp: "1".into(),
        nonce: "n0nce-0123456789ab".into(),
    };
    let parsed = proof.parse();
    let http =
        SeedHttpRequest::new(params.clone(), ip(PUBLIC_V4)).with_api_key(Some("the-api-key"));
    let authorization = basic(HOST, SECRET);
    let nic = Dyndns2Request::new(
        Dyndns2Params::from_query(&format!("hostname={HOST}")),
        ip(PUBLIC_V4),
    )
    .with_authorization(Some(&authorization));
    let printed = [
        format!("{set:?}"),
        format!("{list:?}"),
        format!("{params:?}"),
        format!("{proof:?}"),
        format!("{parsed:?}"),
        format!("{http:?}"),
        format!("{nic:?}"),
    ];
    for text in &printed {
        for secret in [
            hash.as_str(),
            signature.as_str(),
            "the-api-key",
            authorization.as_str(),
            SECRET,
        ] {
            assert!(!text.contains(secret), "{text} shows {secret}");
        }
        assert!(text.contains("[REDACTED]"), "{text}");
    }
    assert!(
        printed[0].contains("home.example.com"),
        "the rest stays readable"
    );
}
