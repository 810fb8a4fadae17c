//! One order per record: concurrent sets of one record, over a provider
//! whose calls take random time, leave the store and DNS holding the
//! address of the request answered last; unrelated records still batch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use ddns_core::coalesce::CoalescingProvider;
use ddns_core::memory::{MemoryProvider, MemoryStore};
use ddns_core::{DdnsService, Record, RecordStore, RecordType, SetOutcome, SetRequest};

fn service(store: Arc<MemoryStore>, dns: Arc<MemoryProvider>) -> Arc<DdnsService> {
    let batched = CoalescingProvider::new(dns).with_window(Duration::from_millis(1));
    Arc::new(DdnsService::builder(store, Arc::new(batched)).build())
}

fn set(target: IpAddr) -> SetRequest {
    token_set(
        HOST,
        &hash(PUBLIC_V4, HOST),
        Some(&target.to_string()),
        ip(PUBLIC_V4),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sets_of_one_record_end_with_the_last_answered() {
    let key = key(HOST, RecordType::A);
    let store = Arc::new(MemoryStore::with_records([Record::new(
        key.clone(),
        config().with_allow_internal(true),
    )]));
    let dns = Arc::new(MemoryProvider::new().with_latency(Duration::from_micros(300)));
    let service = service(store.clone(), dns.clone());
    for round in 0..1000u32 {
        let answered = Arc::new(AtomicU64::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..8u32 {
            let (service, answered) = (service.clone(), answered.clone());
            // Distinct in every round and request: 10.<round>.<round>.<i>.
            let target = IpAddr::from([10, (round >> 8) as u8, round as u8, i as u8]);
            tasks.spawn(async move {
                let outcome = service.set(set(target)).await;
                let order = answered.fetch_add(1, Ordering::SeqCst);
                (order, target, outcome)
            });
        }
        let mut last = None;
        while let Some(done) = tasks.join_next().await {
            let (order, target, outcome) = done.unwrap();
            assert!(
                matches!(outcome, Ok(SetOutcome::Changed { .. })),
                "round {round}: {outcome:?}"
            );
            if order == 7 {
                last = Some(target);
            }
        }
        let last = last.unwrap();
        let stored = store.get(&key).await.unwrap().unwrap().state.address();
        let published = dns.rrset(&key).map(|r| r.addresses());
        assert_eq!(
            (stored, published),
            (Some(last), Some(vec![last])),
            "round {round}: store and DNS must hold the last answered address"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unrelated_records_do_not_wait_for_each_other() {
    // 200 records changed at once go to DNS as one batch: the per-record
    // turns leave unrelated records concurrent.
    let records: Vec<Record> = (0..200)
        .map(|i| {
            Record::new(
                key(&format!("h{i}.example.com"), RecordType::A),
                config().with_allow_internal(true),
            )
        })
        .collect();
    let store = Arc::new(MemoryStore::with_records(records));
    let dns = Arc::new(MemoryProvider::new());
    let batched = CoalescingProvider::new(dns.clone()).with_window(Duration::from_millis(50));
    let service = Arc::new(DdnsService::builder(store, Arc::new(batched)).build());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200u8 {
        let service = service.clone();
        tasks.spawn(async move {
            let host = format!("h{i}.example.com");
            service
                .set(token_set(
                    &host,
                    &hash(PUBLIC_V4, &host),
                    Some(&IpAddr::from([10, 0, 1, i]).to_string()),
                    ip(PUBLIC_V4),
                ))
                .await
        });
    }
    while let Some(done) = tasks.join_next().await {
        assert!(matches!(done.unwrap(), Ok(SetOutcome::Changed { .. })));
    }
    assert_eq!(
        dns.calls().batches,
        1,
        "one change batch for 200 unrelated records"
    );
}
