//! The coalescing decorator: many concurrent changes, few provider calls,
//! and every caller gets its own result.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use ddns_core::SentName;
use ddns_core::coalesce::CoalescingProvider;
use ddns_core::memory::{CallSizes, MemoryProvider, MemoryStore};
use ddns_core::{
    Credential, DdnsService, DnsChange, DnsProvider, HashToken, Hostname, Record, RecordType,
    SetOutcome, SetRequest, SharedSecret,
};

fn host(i: usize) -> String {
    format!("h{i}.example.com")
}

fn addr(i: usize) -> IpAddr {
    // Public addresses, one per host.
    IpAddr::V4(Ipv4Addr::new(198, 51, (i / 250) as u8, (i % 250) as u8 + 1))
}

/// A window far longer than the tests take: a batch goes out when it
/// reaches the provider's maximum, never because a timer ran out, so the
/// number of calls depends on the coalescer alone, not on the machine's
/// speed.
const LONG_WINDOW: Duration = Duration::from_secs(30);

/// Runs 1,000 concurrent cold `set`s (nothing cached, DNS empty) through a
/// coalescer of `window` over a provider taking at most 1,000 changes per
/// call and `latency` per call; returns the size of every provider call.
async fn thousand_cold_sets(window: Duration, latency: Duration) -> CallSizes {
    const HOSTS: usize = 1000;
    let store = Arc::new(MemoryStore::with_records(
        (0..HOSTS).map(|i| Record::new(key(&host(i), RecordType::A), config())),
    ));
    let dns = Arc::new(
        MemoryProvider::new()
            .with_zone(Hostname::parse(ZONE).unwrap())
            .with_max_batch_size(HOSTS)
            .with_latency(latency),
    );
    let batched = Arc::new(CoalescingProvider::new(dns.clone()).with_window(window));
    let service = Arc::new(DdnsService::builder(store, batched).build());

    let tasks: Vec<_> = (0..HOSTS)
        .map(|i| {
            let service = service.clone();
            tokio::spawn(async move {
                let source = addr(i);
                let hash = HashToken::compute_as_sent(
                    source,
                    &ddns_core::SentName::parse(&host(i)),
                    &SharedSecret::new(SECRET),
                );
                service
                    .set(SetRequest::new(
                        SentName::parse(&host(i)),
                        Credential::Token(hash),
                        source,
                    ))
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
    assert_eq!(dns.calls().changes, HOSTS as u64);
    dns.call_sizes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_cold_sets_make_one_read_and_one_change_batch() {
    let sizes = thousand_cold_sets(LONG_WINDOW, Duration::ZERO).await;
    assert_eq!(
        sizes,
        CallSizes {
            reads: vec![1000],
            applies: vec![1000],
        },
        "1,000 cold sets must be one read of 1,000 keys and one batch of 1,000 changes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_window_a_slow_provider_still_gets_a_handful_of_large_batches() {
    // No window: the first read and change go at once, and what arrives
    // while a call is in flight (20 ms each) goes in the next one.
    let sizes = thousand_cold_sets(
        ddns_core::coalesce::DEFAULT_WINDOW,
        Duration::from_millis(20),
    )
    .await;
    println!(
        "1,000 cold sets, no window, 20 ms a call: reads {:?}, change batches {:?}",
        sizes.reads, sizes.applies
    );
    assert_eq!(sizes.reads.iter().sum::<usize>(), 1000);
    assert_eq!(sizes.applies.iter().sum::<usize>(), 1000);
    // Each set reads the store before DNS, so the sets reach the
    // coalescer spread over some calls' time: still few calls.
    assert!(sizes.reads.len() + sizes.applies.len() < 30, "{sizes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_simultaneous_changes_to_a_slow_provider_go_in_a_handful_of_calls() {
    let dns = Arc::new(
        MemoryProvider::new()
            .with_zone(Hostname::parse(ZONE).unwrap())
            .with_max_batch_size(1000)
            .with_latency(Duration::from_millis(20)),
    );
    let batched = Arc::new(CoalescingProvider::new(dns.clone()));
    let results = concurrent_applies(batched, changes(1000)).await;
    assert!(results.iter().all(Result::is_ok));
    let applies = dns.call_sizes().applies;
    println!("1,000 simultaneous changes, 20 ms a call: batches {applies:?}");
    assert_eq!(applies.iter().sum::<usize>(), 1000);
    assert!(applies.len() <= 5, "{applies:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_window_a_lone_change_goes_at_once() {
    let dns = Arc::new(MemoryProvider::new().with_zone(Hostname::parse(ZONE).unwrap()));
    let batched = CoalescingProvider::new(dns.clone());
    let begun = std::time::Instant::now();
    let results = batched.apply(&changes(1)).await;
    assert!(results[0].is_ok(), "{results:?}");
    // Not timed as a target: a window of even 20 ms would show here.
    assert!(begun.elapsed() < Duration::from_secs(1));
    assert_eq!(dns.call_sizes().applies, vec![1]);
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
    const RUNS: usize = 50;
    let mut exact = 0;
    for run in 0..RUNS {
        let dns = Arc::new(MemoryProvider::new().with_max_batch_size(100));
        let batched = Arc::new(CoalescingProvider::new(dns.clone()).with_window(LONG_WINDOW));
        let results = concurrent_applies(batched, changes(1000)).await;
        assert!(results.iter().all(Result::is_ok), "run {run}");
        assert_eq!(dns.calls().changes, 1000, "run {run}");
        let applies = dns.call_sizes().applies;
        assert!(
            applies.iter().all(|&n| n <= 100),
            "run {run}: a call above the maximum: {applies:?}"
        );
        if applies == [100; 10] {
            exact += 1;
        } else {
            println!("run {run}: {applies:?}");
        }
    }
    println!(
        "1,000 concurrent changes, provider max 100: {exact} of {RUNS} runs made exactly ten calls of 100"
    );
    assert_eq!(exact, RUNS, "every run must make exactly ten calls of 100");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_change_does_not_fail_the_others() {
    // A maximum of 50 seals the batch when the 50th change joins it.
    let dns = Arc::new(MemoryProvider::new().with_max_batch_size(50));
    dns.fail_changes_to(Hostname::parse(&host(7)).unwrap());
    let batched = Arc::new(CoalescingProvider::new(dns.clone()).with_window(LONG_WINDOW));
    let results = concurrent_applies(batched, changes(50)).await;
    for (i, result) in results.iter().enumerate() {
        assert_eq!(result.is_err(), i == 7, "change {i}: {result:?}");
    }
    assert_eq!(dns.call_sizes().applies, [50], "one batch for all 50");
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
        dns.call_sizes().applies,
        [1, 1],
        "the duplicate must go in a later batch"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reads_become_one_call_with_each_answer_in_place() {
    let dns = Arc::new(MemoryProvider::new().with_max_batch_size(400));
    for i in 0..300 {
        dns.set_rrset(key(&host(i), RecordType::A), 60, vec![addr(i)]);
    }
    let batched = Arc::new(CoalescingProvider::new(dns.clone()).with_window(LONG_WINDOW));
    let tasks: Vec<_> = (0..400)
        .map(|i| {
            let batched = batched.clone();
            tokio::spawn(async move {
                batched
                    .current(&ddns_core::RecordKey::new(
                        Hostname::parse(&host(i)).unwrap(),
                        RecordType::A,
                    ))
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
    assert_eq!(dns.call_sizes().reads, [400], "one read of all 400 keys");
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
