//! DynamoDbStore and Route53Provider against moto's server: the shared
//! conformance suites, a table written the way the original stack wrote
//! it, and batching of simultaneous changes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use ddns_aws::DynamoDbStore;
use ddns_core::SentName;
use ddns_core::coalesce::CoalescingProvider;
use ddns_core::{
    Credential, DdnsService, DnsChange, DnsProvider, HashToken, Hostname, RecordKey, RecordStore,
    RecordType, SetOutcome, SetRequest, SharedSecret, conformance,
};
use ddns_testkit::moto::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_store_conforms() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    conformance::store(&moto.store("ddns-config").await).await;
    // Pages of 7 items: the listing crosses some twenty Scan pages.
    moto.create_table("ddns-paged").await;
    let paged = DynamoDbStore::builder()
        .with_table("ddns-paged")
        .with_sdk_config(moto.config.clone())
        .with_page_size(7)
        .build()
        .await
        .unwrap();
    conformance::paged_store(&paged, 7).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route53_provider_conforms() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let provider = moto.provider().await;
    conformance::provider(&provider, &Hostname::parse(ZONE).unwrap()).await;
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_written_by_the_original_stack_is_read_and_updated() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let store = moto.store("legacy-config").await;
    // Items exactly as the original CloudFormation stack and Lambda wrote
    // them: the example row, and a used row with state and no lock_record.
    let example: HashMap<String, AttributeValue> = HashMap::from([
        ("hostname".into(), s("example-record.example.com.")),
        ("record_type".into(), s("A")),
        ("shared_secret".into(), s("0a0b0c0d0e0f1a1b")),
        ("ttl".into(), AttributeValue::N("60".into())),
        ("lock_record".into(), AttributeValue::Bool(false)),
        ("allow_internal".into(), AttributeValue::Bool(true)),
        ("read_privilege".into(), AttributeValue::Bool(false)),
        ("mac_address".into(), s("0A:0A:0A:0A:0A:0A")),
        ("comment".into(), s("example record")),
    ]);
    let used: HashMap<String, AttributeValue> = HashMap::from([
        ("hostname".into(), s("home.example.com.")),
        ("record_type".into(), s("A")),
        ("shared_secret".into(), s("mysecret")),
        ("allow_internal".into(), AttributeValue::Bool(false)),
        ("read_privilege".into(), AttributeValue::Bool(true)),
        ("mac_address".into(), s("51:6B:00:A6:F5:77")),
        ("ip_address".into(), s("198.51.100.1")),
        ("last_accessed".into(), s("198.51.100.1")),
        ("last_checked".into(), s("2018-07-26 17:04:05.123456")),
        ("last_updated".into(), s("2018-07-26 17:04:05")),
    ]);
    let client = moto.dynamodb();
    for item in [example, used] {
        client
            .put_item()
            .table_name("legacy-config")
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }

    let home = RecordKey::new(Hostname::parse("home.example.com").unwrap(), RecordType::A);
    let record = store.get(&home).await.unwrap().unwrap();
    assert!(!record.config.lock_record, "a missing lock_record is false");
    assert_eq!(record.config.ttl, None);
    assert_eq!(
        record.state.address(),
        Some("198.51.100.1".parse().unwrap())
    );
    let group = store
        .discovery_group(&SharedSecret::new("mysecret"))
        .await
        .unwrap();
    assert_eq!(group.len(), 1);
    assert_eq!(group[0].mac_address.as_deref(), Some("51:6B:00:A6:F5:77"));

    // A set through the service updates the item in the original's formats.
    let provider = moto.provider().await;
    let service = DdnsService::builder(Arc::new(store), Arc::new(provider.clone())).build();
    let source = "198.51.100.7".parse().unwrap();
    let token = HashToken::compute_as_sent(
        source,
        &ddns_core::SentName::parse("home.example.com."),
        &SharedSecret::new("mysecret"),
    );
    let outcome = service
        .set(SetRequest::new(
            SentName::parse("home.example.com"),
            Credential::Token(token),
            source,
        ))
        .await
        .unwrap();
    assert!(matches!(outcome, SetOutcome::Changed { .. }));
    let item = moto.item("legacy-config", "home.example.com.", "A").await;
    assert_eq!(item.get("ip_address"), Some(&s("198.51.100.7")));
    assert_eq!(item.get("last_accessed"), Some(&s("198.51.100.7")));
    let updated = item
        .get("last_updated")
        .and_then(|v| v.as_s().ok())
        .unwrap();
    assert!(
        updated.parse::<ddns_core::Timestamp>().is_ok() && updated.len() == 26,
        "{updated}"
    );
    assert_eq!(
        item.get("mac_address"),
        Some(&s("51:6B:00:A6:F5:77")),
        "untouched attributes stay"
    );
    let host = Hostname::parse("home.example.com").unwrap();
    assert_eq!(
        provider
            .current(&RecordKey::new(host.clone(), RecordType::A))
            .await
            .unwrap(),
        [source]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_simultaneous_changes_make_two_calls() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let provider = moto.provider().await;
    assert_eq!(provider.max_batch_size(), 500);
    // A window longer than the test: each batch goes out when it reaches
    // Route 53's 500 changes, so the count depends on the batching alone.
    let batched = Arc::new(
        CoalescingProvider::new(Arc::new(provider.clone())).with_window(Duration::from_secs(60)),
    );
    let tasks: Vec<_> = (0..1000u32)
        .map(|i| {
            let batched = batched.clone();
            tokio::spawn(async move {
                let name = Hostname::parse(&format!("host{i}.example.com")).unwrap();
                let ip = format!("198.51.{}.{}", i / 250, i % 250 + 1)
                    .parse()
                    .unwrap();
                batched
                    .apply(&[DnsChange::upsert(name, 60, ip)])
                    .await
                    .remove(0)
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(
        provider.change_calls(),
        2,
        "1,000 changes at 500 per call must be two ChangeResourceRecordSets calls"
    );
    // Every change landed with its own value.
    let keys: Vec<RecordKey> = (0..1000u32)
        .map(|i| {
            RecordKey::new(
                Hostname::parse(&format!("host{i}.example.com")).unwrap(),
                RecordType::A,
            )
        })
        .collect();
    let values = provider.current_many(&keys).await;
    for (i, value) in values.into_iter().enumerate() {
        let expected: std::net::IpAddr = format!("198.51.{}.{}", i / 250, i % 250 + 1)
            .parse()
            .unwrap();
        assert_eq!(value.unwrap(), [expected], "host{i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbled_items_are_read_fail_closed() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let store = moto.store("garbled-config").await;
    let put = |item: HashMap<String, AttributeValue>| {
        let client = moto.dynamodb();
        async move {
            client
                .put_item()
                .table_name("garbled-config")
                .set_item(Some(item))
                .send()
                .await
                .unwrap();
        }
    };
    // No shared_secret at all, and a lock_record written as a string.
    put(HashMap::from([
        ("hostname".into(), s("nosecret.example.com.")),
        ("record_type".into(), s("A")),
        ("lock_record".into(), s("false")),
        ("allow_internal".into(), s("true")),
    ]))
    .await;
    put(HashMap::from([
        ("hostname".into(), s("locked.example.com.")),
        ("record_type".into(), s("A")),
        ("shared_secret".into(), s("a-real-secret")),
        ("lock_record".into(), AttributeValue::N("0".into())),
        ("require_signed".into(), s("no")),
    ]))
    .await;
    let key = |h: &str| RecordKey::new(Hostname::parse(h).unwrap(), RecordType::A);
    let nosecret = store
        .get(&key("nosecret.example.com"))
        .await
        .unwrap()
        .unwrap();
    assert!(nosecret.config.shared_secret.is_empty());
    assert!(nosecret.config.lock_record && !nosecret.config.allow_internal);
    let locked = store
        .get(&key("locked.example.com"))
        .await
        .unwrap()
        .unwrap();
    assert!(locked.config.lock_record && locked.config.require_signed);

    // Through the service: the record without a secret opens to nobody,
    // not to the hash of the address and the name alone.
    let service = DdnsService::builder(
        Arc::new(store),
        Arc::new(ddns_core::memory::MemoryProvider::new()),
    )
    .build();
    let source = "198.51.100.7".parse().unwrap();
    let empty = HashToken::compute_as_sent(
        source,
        &ddns_core::SentName::parse("nosecret.example.com."),
        &SharedSecret::new(""),
    );
    let outcome = service
        .set(SetRequest::new(
            SentName::parse("nosecret.example.com"),
            Credential::Token(empty),
            source,
        ))
        .await;
    assert!(
        matches!(outcome, Err(ddns_core::Failure::UnusableRecord { .. })),
        "{outcome:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_services_on_one_table_converge_within_one_more_request_each() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let first = moto.store("shared-config").await;
    let second = moto.handle("shared-config").await;
    conformance::shared_store(Arc::new(first), Arc::new(second), 30).await;
}
