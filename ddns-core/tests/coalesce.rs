//! The coalescing decorator: many concurrent changes, few provider calls,
//! and every caller gets its own result.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use ddns_core::coalesce::CoalescingProvider;
use ddns_core::memory::{MemoryProvider, MemoryStore};
use ddns_core::{
    DdnsService, DnsChange, DnsProvider, HashToken, Hostname, Record, RecordType, SetOutcome,
    SetRequest, SharedSecret,
};

fn host(i: usize) -> String {
    format!("h{i}.example.com")
}

fn addr(i: usize) -> IpAddr {
    // Public addresses, one per host.
    IpAddr::V4(Ipv4Addr::new(198, 51, (i / 250) as u8, (i % 250) as u8 + 1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_sets_make_a_handful_of_provider_calls() {
    const HOSTS: usize = 1000;
    let store = Arc::new(MemoryStore::with_records(
        (0..HOSTS).map(|i| Record::new(key(&host(i), RecordType::A), config())),
    ));
    let dns = Arc::new(MemoryProvider::new().with_zone(Hostname::parse(ZONE).unwrap()));
    let batched =
        Arc::new(CoalescingProvider::new(dns.clone()).with_window(Duration::from_millis(50)));
    let service = Arc::new(DdnsService::builder(store, batched).build());

    let tasks: Vec<_> = (0..HOSTS)
        .map(|i| {
            let service = service.clone();
            tokio::spawn(async move {
                let source = addr(i);
                let hash = HashToken::compute(
                    source,
                    &format!("{}.", host(i)),
                    &SharedSecret::new(SECRET),
                );
                service
                    .set(SetRequest {
                        hostname: host(i),
                        hash: hash.to_hex(),
                        internal_ip: None,
                        source,
                    })
                    .await
            })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        let outcome = task.await.unwrap();
        assert_eq!(
            outcome.unwrap(),
            SetOutcome::Changed {
                hostname: format!("{}.", host(i)),
                address: addr(i)
            },
            "caller {i} got another caller's answer"
        );
    }
    for i in 0..HOSTS {
        assert_eq!(
            dns.rrset(&key(&host(i), RecordType::A)).unwrap().values,
            [addr(i)]
        );
    }
    let calls = dns.calls();
    println!(
        "1000 concurrent sets: {} provider reads, {} change batches, {} changes",
        calls.reads, calls.batches, calls.changes
    );
    assert_eq!(calls.changes, HOSTS as u64);
    assert!(
        calls.reads + calls.batches <= 6,
        "expected a handful of provider calls, got {} reads and {} batches",
        calls.reads,
        calls.batches
    );
}

async fn concurrent_applies(
    provider: Arc<CoalescingProvider>,
    changes: Vec<DnsChange>,
) -> Vec<ddns_core::ChangeResult> {
    let tasks: Vec<_> = changes
        .into_iter()
        .map(|change| {
            let provider = provider.clone();
            tokio::spawn(async move { provider.apply(&[change]).await.pop().unwrap() })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

fn changes(n: usize) -> Vec<DnsChange> {
    (0..n)
        .map(|i| DnsChange::upsert(Hostname::parse(&host(i)).unwrap(), 60, addr(i)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_split_at_the_providers_maximum() {
    let dns = Arc::new(MemoryProvider::new().with_max_batch_size(100));
    let batched =
        Arc::new(CoalescingProvider::new(dns.clone()).with_window(Duration::from_millis(50)));
    let results = concurrent_applies(batched, changes(1000)).await;
    assert!(results.iter().all(Result::is_ok));
    let calls = dns.calls();
    assert_eq!(calls.changes, 1000);
    println!(
        "1000 concurrent changes, provider max 100: {} batches",
        calls.batches
    );
    assert!(
        (10..=12).contains(&calls.batches),
        "{} batches for 1000 changes of max 100",
        calls.batches
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_change_does_not_fail_the_others() {
    let dns = Arc::new(MemoryProvider::new());
    dns.fail_changes_to(Hostname::parse(&host(7)).unwrap());
    let batched = Arc::new(CoalescingProvider::new(dns.clone()));
    let results = concurrent_applies(batched, changes(50)).await;
    for (i, result) in results.iter().enumerate() {
        assert_eq!(result.is_err(), i == 7, "change {i}: {result:?}");
    }
    assert!(dns.calls().batches <= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_batch_failure_reaches_every_caller() {
    let dns = Arc::new(MemoryProvider::new());
    dns.set_unavailable(true);
    let batched = Arc::new(CoalescingProvider::new(dns.clone()));
    let results = concurrent_applies(batched, changes(20)).await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(e) if e.is_retryable()))
    );
}

#[tokio::test]
async fn two_changes_to_one_record_go_in_order_in_separate_batches() {
    let dns = Arc::new(MemoryProvider::new());
    let batched = CoalescingProvider::new(dns.clone());
    let name = Hostname::parse(HOST).unwrap();
    let first = [DnsChange::upsert(name.clone(), 60, ip("192.0.2.1"))];
    let second = [DnsChange::upsert(name, 60, ip("192.0.2.2"))];
    // join! polls the first future first, so it joins the batch first.
    let (a, b) = tokio::join!(batched.apply(&first), batched.apply(&second));
    assert!(a[0].is_ok() && b[0].is_ok());
    assert_eq!(
        dns.rrset(&key(HOST, RecordType::A)).unwrap().values,
        [ip("192.0.2.2")]
    );
    assert_eq!(
        dns.calls().batches,
        2,
        "the duplicate must go in a later batch"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reads_become_one_call_with_each_answer_in_place() {
    let dns = Arc::new(MemoryProvider::new());
    for i in 0..300 {
        dns.set_rrset(key(&host(i), RecordType::A), 60, vec![addr(i)]);
    }
    let batched =
        Arc::new(CoalescingProvider::new(dns.clone()).with_window(Duration::from_millis(50)));
    let tasks: Vec<_> = (0..400)
        .map(|i| {
            let batched = batched.clone();
            tokio::spawn(async move {
                batched
                    .current(&Hostname::parse(&host(i)).unwrap(), RecordType::A)
                    .await
            })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        let values = task.await.unwrap().unwrap();
        if i < 300 {
            assert_eq!(values, [addr(i)], "read {i} got another read's answer");
        } else {
            assert!(values.is_empty());
        }
    }
    assert!(dns.calls().reads <= 2, "{} reads", dns.calls().reads);
    assert_eq!(batched.max_batch_size(), dns.max_batch_size());
    assert!(batched.apply(&[]).await.is_empty());
    assert!(batched.current_many(&[]).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_of_one_record_reach_the_provider_in_arrival_order() {
    // Every caller of the decorator, not only the service, may send two
    // changes of one record at once: the later one must win.
    let dns = Arc::new(MemoryProvider::new().with_latency(Duration::from_millis(1)));
    let batched =
        Arc::new(CoalescingProvider::new(dns.clone()).with_window(Duration::from_millis(20)));
    let name = Hostname::parse("ordered.example.com").unwrap();
    let k = key("ordered.example.com", RecordType::A);
    for round in 0..20u8 {
        let changes: Vec<DnsChange> = (0..5u8)
            .map(|i| DnsChange::upsert(name.clone(), 60, IpAddr::from([10, round, 0, i])))
            .collect();
        // Each joins the open batch before the next one starts.
        let mut waits = Vec::new();
        for change in changes {
            let batched = batched.clone();
            let (joined, joined_rx) = tokio::sync::oneshot::channel();
            waits.push(tokio::spawn(async move {
                let changes = [change];
                let mut call = std::pin::pin!(batched.apply(&changes));
                // Poll it once, which puts the change in the queue, before
                // letting the next caller start.
                let done = tokio::select! {
                    biased;
                    results = &mut call => Some(results),
                    () = std::future::ready(()) => None,
                };
                let _ = joined.send(());
                match done {
                    Some(results) => results,
                    None => call.await,
                }
            }));
            joined_rx.await.unwrap();
        }
        for wait in waits {
            assert!(wait.await.unwrap().iter().all(Result::is_ok));
        }
        assert_eq!(
            dns.rrset(&k).unwrap().values,
            [IpAddr::from([10, round, 0, 4])],
            "round {round}: the last change sent is the one DNS holds"
        );
    }
}
