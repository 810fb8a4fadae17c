//! The two table layouts in moto: the store conforms on the rewrite's
//! `hostname`-only table as on the 2018 one, the layout is read from the
//! key schema, hand-spelled keys stay reachable in both, each record's
//! hosted zone id is honoured, and Route 53 reads of many records take few
//! calls.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use ddns_aws::{DynamoDbStore, Route53Provider, TableLayout};
use ddns_core::{
    Credential, DdnsService, DnsChange, DnsProvider, HashToken, Hostname, RecordKey, RecordStore,
    RecordType, RecordValue, SentName, SetOutcome, SetRequest, SharedSecret, conformance,
};
use ddns_testkit::moto::Moto;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

/// A store on `table`, its layout read from the key schema.
async fn detected(moto: &Moto, table: &str) -> DynamoDbStore {
    DynamoDbStore::builder()
        .with_table(table)
        .with_sdk_config(moto.config.clone())
        .build()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_conforms_on_the_current_layout() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    moto.create_current_table("current").await;
    let store = detected(&moto, "current").await;
    assert_eq!(store.layout(), TableLayout::Current);
    conformance::store(&store).await;
    moto.create_current_table("current-paged").await;
    let paged = DynamoDbStore::builder()
        .with_table("current-paged")
        .with_layout(TableLayout::Current)
        .with_sdk_config(moto.config.clone())
        .with_page_size(7)
        .build()
        .await
        .unwrap();
    conformance::paged_store(&paged, 7).await;
    moto.create_table("classic").await;
    assert_eq!(
        detected(&moto, "classic").await.layout(),
        TableLayout::Classic
    );
}

/// A set of `host` (spelled so) from `source` with the hash over the name
/// exactly as sent.
async fn set(service: &DdnsService, host: &str, secret: &str, source: &str) -> SetOutcome {
    let source: IpAddr = source.parse().unwrap();
    let name = SentName::exact(host);
    let token = HashToken::compute_as_sent(source, &name, &SharedSecret::new(secret));
    service
        .set(SetRequest::new(name, Credential::Token(token), source))
        .await
        .unwrap()
}

async fn item(moto: &Moto, table: &str, key: &[(&str, &str)]) -> HashMap<String, AttributeValue> {
    let key = key.iter().map(|(k, v)| ((*k).to_owned(), s(v))).collect();
    moto.dynamodb()
        .get_item()
        .table_name(table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap_or_else(|| panic!("no item in {table}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_items_in_two_zones_and_hand_spelled_keys() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    moto.create_current_table("upstream").await;
    let com = moto.create_zone("example.com").await;
    let net = moto.create_zone("example.net").await;
    // As the rewrite's users wrote them: one table, two hosted zones, one
    // name typed with capitals.
    moto.put_current_item("upstream", "home.example.com", &com, "s1")
        .await;
    moto.put_current_item("upstream", "Nas.Example.net", &net, "s2")
        .await;
    let store = detected(&moto, "upstream").await;
    let provider = Route53Provider::builder()
        .with_sdk_config(moto.config.clone())
        .with_zone_directory(store.zone_directory())
        .build()
        .await
        .unwrap();
    let service = DdnsService::builder(Arc::new(store), Arc::new(provider)).build();
    let changed = |o: &SetOutcome| matches!(o, SetOutcome::Changed { .. });
    assert!(changed(
        &set(&service, "home.example.com", "s1", "198.51.100.1").await
    ));
    assert!(changed(
        &set(&service, "Nas.Example.net", "s2", "198.51.100.2").await
    ));
    assert!(!changed(
        &set(&service, "Nas.Example.net", "s2", "198.51.100.2").await
    ));
    // Each change went to the zone its item names, and the item written
    // is the one the rewrite wrote.
    for (zone_id, zone, host, address) in [
        (&com, "example.com", "home.example.com", "198.51.100.1"),
        (&net, "example.net", "nas.example.net", "198.51.100.2"),
    ] {
        let only_here = moto.zone_provider(zone_id, zone).await;
        let key = RecordKey::new(Hostname::parse(host).unwrap(), RecordType::A);
        assert_eq!(
            only_here.current(&key).await.unwrap(),
            [address.parse::<IpAddr>().unwrap()],
            "{host}"
        );
    }
    let nas = item(&moto, "upstream", &[("hostname", "Nas.Example.net")]).await;
    assert_eq!(nas.get("ip_address"), Some(&s("198.51.100.2")));
    assert!(
        nas.get("data")
            .and_then(|d| d.as_s().ok())
            .is_some_and(|d| d.contains(&net)),
        "the data keeps its zone: {nas:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_spelled_classic_item_is_reachable_and_updated_in_place() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    moto.create_table("classic").await;
    moto.dynamodb()
        .put_item()
        .table_name("classic")
        .item("hostname", s("Home.Example.com."))
        .item("record_type", s("A"))
        .item("shared_secret", s("s3"))
        .send()
        .await
        .unwrap();
    let store = detected(&moto, "classic").await;
    let provider = moto.provider().await;
    let service = DdnsService::builder(Arc::new(store.clone()), Arc::new(provider)).build();
    // The 2018 hash covers the name with its dot, as the client spelled it.
    let source: IpAddr = "198.51.100.3".parse().unwrap();
    let name = SentName::parse("Home.Example.com");
    let token = HashToken::compute_as_sent(source, &name, &SharedSecret::new("s3"));
    let outcome = service
        .set(SetRequest::new(name, Credential::Token(token), source))
        .await
        .unwrap();
    assert!(matches!(outcome, SetOutcome::Changed { .. }));
    let stored = item(
        &moto,
        "classic",
        &[("hostname", "Home.Example.com."), ("record_type", "A")],
    )
    .await;
    assert_eq!(stored.get("ip_address"), Some(&s("198.51.100.3")));
    // No second item was made under the canonical spelling.
    let key = RecordKey::new(Hostname::parse("home.example.com").unwrap(), RecordType::A);
    let listed = store.list_all().await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].key, key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_reads_in_one_zone_take_a_listing() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let provider = moto.provider().await;
    let keys: Vec<RecordKey> = (0..40)
        .map(|i| {
            RecordKey::new(
                Hostname::parse(&format!("h{i}.example.com")).unwrap(),
                RecordType::A,
            )
        })
        .collect();
    // Thirty of the forty exist.
    let changes: Vec<DnsChange> = keys[..30]
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let address: IpAddr = format!("198.51.100.{}", i + 1).parse().unwrap();
            DnsChange::upsert(key.name().as_hostname().unwrap(), 60, address)
        })
        .collect();
    assert!(provider.apply(&changes).await.iter().all(Result::is_ok));
    let before = provider.read_calls();
    let read = provider.current_many(&keys).await;
    let calls = provider.read_calls() - before;
    println!("40 reads in one zone of 32 record sets: {calls} ListResourceRecordSets call(s)");
    assert!(
        calls <= 2,
        "40 reads took {calls} ListResourceRecordSets calls"
    );
    for (i, result) in read.iter().enumerate() {
        let values = result.as_ref().unwrap();
        if i < 30 {
            let expected: IpAddr = format!("198.51.100.{}", i + 1).parse().unwrap();
            assert_eq!(values, &[RecordValue::from(expected)], "{}", keys[i]);
        } else {
            assert!(values.is_empty(), "{} holds {values:?}", keys[i]);
        }
    }
    // One read alone is one call.
    let before = provider.read_calls();
    assert_eq!(provider.current(&keys[0]).await.unwrap().len(), 1);
    assert_eq!(provider.read_calls() - before, 1);
}
