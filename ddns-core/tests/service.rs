//! The use cases' decisions: the order of checks and what each touches
//! (with mocks that fail on any unexpected call), and the "already
//! current" rule that keeps unchanged updates off the DNS backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use ddns_core::mock::{MockDnsProvider, MockRecordStore};
use ddns_core::{
    ChangeKind, DdnsService, Failure, ManualClock, Record, RecordType, SetOutcome, SetRequest,
};

fn set_request(source: &str, hash_source: &str, internal_ip: Option<&str>) -> SetRequest {
    token_set(HOST, &hash(hash_source, HOST), internal_ip, ip(source))
}

fn mock_service(store: MockRecordStore, dns: MockDnsProvider) -> DdnsService {
    DdnsService::builder(Arc::new(store), Arc::new(dns))
        .with_clock(Arc::new(ManualClock::new(START)))
        .build()
}

fn store_returning(record: Record) -> MockRecordStore {
    let mut store = MockRecordStore::new();
    store
        .expect_get()
        .returning(move |_| Ok(Some(record.clone())));
    store
}

#[tokio::test]
async fn failed_hash_writes_nothing_and_calls_no_provider() {
    // Locked and internal-only: still, a wrong hash is all the caller learns.
    let record = Record::new(key(HOST, RecordType::A), config().with_lock(true));
    let store = store_returning(record);
    // No expect_record_access / expect_record_change: any write panics.
    let dns = MockDnsProvider::new(); // no expectations: any call panics
    let service = mock_service(store, dns);
    let outcome = service
        .set(set_request(PUBLIC_V4, "192.0.2.99", Some("10.0.0.1")))
        .await;
    assert!(matches!(outcome, Err(Failure::HashMismatch)), "{outcome:?}");
}

#[tokio::test]
async fn lock_refusal_comes_after_the_hash_and_touches_no_provider() {
    let record = Record::new(key(HOST, RecordType::A), config().with_lock(true));
    let mut store = store_returning(record);
    store
        .expect_record_access()
        .times(1)
        .withf(|k, access| *k == key(HOST, RecordType::A) && access.source == ip(PUBLIC_V4))
        .returning(|_, _| Ok(()));
    let service = mock_service(store, MockDnsProvider::new());
    let outcome = service.set(set_request(PUBLIC_V4, PUBLIC_V4, None)).await;
    assert!(
        matches!(outcome, Err(Failure::Locked { .. })),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn allow_internal_refusal_comes_after_the_hash() {
    let record = Record::new(key(HOST, RecordType::A), config());
    let mut store = store_returning(record);
    store
        .expect_record_access()
        .times(1)
        .returning(|_, _| Ok(()));
    let service = mock_service(store, MockDnsProvider::new());
    let outcome = service
        .set(set_request(PUBLIC_V4, PUBLIC_V4, Some("192.168.1.2")))
        .await;
    assert!(
        matches!(outcome, Err(Failure::InternalNotAllowed { .. })),
        "{outcome:?}"
    );

    // With a wrong hash, the same request is a hash failure with no write.
    let record = Record::new(key(HOST, RecordType::A), config());
    let service = mock_service(store_returning(record), MockDnsProvider::new());
    let outcome = service
        .set(set_request(PUBLIC_V4, "192.0.2.1", Some("192.168.1.2")))
        .await;
    assert!(matches!(outcome, Err(Failure::HashMismatch)), "{outcome:?}");
}

#[tokio::test]
async fn bad_hash_format_touches_no_backend_at_all() {
    // The codec refuses it before the service is called; the mocks fail on
    // any call.
    let api = ddns_core::protocols::seed::SeedApi::new(
        Arc::new(mock_service(MockRecordStore::new(), MockDnsProvider::new())),
        ddns_core::protocols::seed::ApiKeys::none(),
    );
    let answer = api
        .handle_detailed(ddns_core::protocols::seed::SeedHttpRequest::new(
            ddns_core::protocols::seed::SeedParams::from_query(&format!(
                "mode=set&hostname={HOST}&hash=abc"
            )),
            ip(PUBLIC_V4),
        ))
        .await;
    assert!(matches!(answer.failure, Some(Failure::BadHashFormat)));
}

#[tokio::test]
async fn unchanged_address_calls_no_provider() {
    // The store says DNS holds the address; the first request reads DNS once
    // to confirm, every later one within the interval calls nothing.
    let mut record = Record::new(key(HOST, RecordType::A), config());
    record.state.values = vec![ip(PUBLIC_V4).into()];
    let mut store = store_returning(record);
    store
        .expect_record_access()
        .times(3)
        .returning(|_, _| Ok(()));
    let mut dns = MockDnsProvider::new();
    dns.expect_current()
        .times(1)
        .returning(|_| Ok(vec![ip(PUBLIC_V4).into()]));
    // No expect_apply: a change would panic.
    let service = mock_service(store, dns);
    for _ in 0..3 {
        let outcome = service.set(set_request(PUBLIC_V4, PUBLIC_V4, None)).await;
        assert!(
            matches!(outcome, Ok(SetOutcome::Unchanged { .. })),
            "{outcome:?}"
        );
    }
}

#[tokio::test]
async fn a_changed_address_is_applied_then_recorded() {
    let record = Record::new(key(HOST, RecordType::A), config().with_ttl(120));
    let mut store = store_returning(record);
    let mut seq = mockall::Sequence::new();
    store
        .expect_record_access()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(()));
    let mut dns = MockDnsProvider::new();
    dns.expect_current()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(vec![]));
    dns.expect_apply()
        .times(1)
        .in_sequence(&mut seq)
        .withf(|changes| {
            changes.len() == 1
                && changes[0].kind()
                    == &ChangeKind::Upsert {
                        ttl: 120,
                        values: vec![ip(PUBLIC_V4).into()],
                    }
                && changes[0].key() == &key(HOST, RecordType::A)
        })
        .returning(|_| vec![Ok(())]);
    store
        .expect_record_change()
        .times(1)
        .in_sequence(&mut seq)
        .withf(|_, change| {
            change.previous.is_empty() && change.values == [ip(PUBLIC_V4)] && change.at == START
        })
        .returning(|_, _| Ok(true));
    let service = mock_service(store, dns);
    let outcome = service.set(set_request(PUBLIC_V4, PUBLIC_V4, None)).await;
    assert_eq!(
        outcome.unwrap(),
        SetOutcome::Changed {
            hostname: "home.example.com.".into(),
            address: ip(PUBLIC_V4)
        }
    );
}

#[tokio::test]
async fn provider_failure_leaves_the_store_untouched() {
    let record = Record::new(key(HOST, RecordType::A), config());
    let mut store = store_returning(record);
    store.expect_record_access().returning(|_, _| Ok(()));
    // No expect_record_change: recording the failed address would panic.
    let mut dns = MockDnsProvider::new();
    dns.expect_current().returning(|_| Ok(vec![]));
    dns.expect_apply()
        .returning(|_| vec![Err(ddns_core::Error::unavailable("timed out", true))]);
    let service = mock_service(store, dns);
    let outcome = service.set(set_request(PUBLIC_V4, PUBLIC_V4, None)).await;
    assert!(
        matches!(&outcome, Err(Failure::Backend { error, .. }) if error.is_retryable()),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn store_failure_on_lookup_is_a_backend_failure() {
    let mut store = MockRecordStore::new();
    store
        .expect_get()
        .returning(|_| Err(ddns_core::Error::unavailable("database is locked", true)));
    let service = mock_service(store, MockDnsProvider::new());
    let outcome = service.set(set_request(PUBLIC_V4, PUBLIC_V4, None)).await;
    assert!(
        matches!(
            outcome,
            Err(Failure::Backend {
                backend: ddns_core::Backend::Store,
                ..
            })
        ),
        "{outcome:?}"
    );
}

// The "already current" rule, over the in-memory adapters.

#[tokio::test]
async fn unchanged_updates_within_the_interval_cost_no_dns_call() {
    let f = Fixture::new();
    f.set(HOST, PUBLIC_V4, "").await;
    let after_first = f.dns.calls();
    assert_eq!((after_first.reads, after_first.batches), (1, 1));
    for _ in 0..10 {
        f.clock.advance(Duration::from_secs(25));
        assert!(f.set(HOST, PUBLIC_V4, "").await.body.contains("matches"));
    }
    assert_eq!(
        f.dns.calls(),
        after_first,
        "unchanged updates must not call DNS"
    );
    // Every authenticated request still updates last_checked.
    let state = f.state(HOST, RecordType::A).await;
    assert_eq!(
        state.last_checked,
        Some(START.saturating_add(Duration::from_secs(250)))
    );
    assert_eq!(state.last_updated, Some(START));
}

#[tokio::test]
async fn a_record_changed_behind_our_back_is_corrected_after_the_interval() {
    let f = Fixture::new();
    f.set(HOST, PUBLIC_V4, "").await;
    f.dns
        .set_rrset(key(HOST, RecordType::A), 60, vec![ip("192.0.2.66")]);
    f.clock.advance(Duration::from_secs(301));
    assert!(
        f.set(HOST, PUBLIC_V4, "")
            .await
            .body
            .contains("has been set")
    );
    assert_eq!(
        f.dns.rrset(&key(HOST, RecordType::A)).unwrap().values,
        [ip(PUBLIC_V4)]
    );
    // And a value that is still right after the interval costs one read only.
    f.clock.advance(Duration::from_secs(301));
    let before = f.dns.calls();
    assert!(f.set(HOST, PUBLIC_V4, "").await.body.contains("matches"));
    let after = f.dns.calls();
    assert_eq!(
        (after.reads - before.reads, after.batches - before.batches),
        (1, 0)
    );
}

#[tokio::test]
async fn a_change_made_through_another_instance_is_noticed_at_once() {
    // Two services sharing one store and one DNS, like two servers or two
    // Lambda containers.
    let f = Fixture::new();
    let other = DdnsService::builder(f.store.clone(), f.dns.clone())
        .with_clock(f.clock.clone())
        .build();
    f.set(HOST, PUBLIC_V4, "").await;
    let moved = set_request("198.51.100.8", "198.51.100.8", None);
    assert!(matches!(
        other.set(moved).await,
        Ok(SetOutcome::Changed { .. })
    ));
    // The first instance must not trust its memory: the store disagrees.
    assert!(
        f.set(HOST, PUBLIC_V4, "")
            .await
            .body
            .contains("has been set")
    );
    assert_eq!(
        f.dns.rrset(&key(HOST, RecordType::A)).unwrap().values,
        [ip(PUBLIC_V4)]
    );
}

#[tokio::test]
async fn a_new_address_with_fresh_knowledge_skips_the_read() {
    let f = Fixture::new();
    f.set(HOST, PUBLIC_V4, "").await;
    let before = f.dns.calls();
    f.clock.advance(Duration::from_secs(60));
    // The ISP renumbers: the client's next poll comes from a new address.
    assert!(
        f.set(HOST, "198.51.100.8", "")
            .await
            .body
            .contains("has been set")
    );
    let after = f.dns.calls();
    assert_eq!(
        (after.reads - before.reads, after.batches - before.batches),
        (0, 1),
        "DNS was known to hold one value: only the change is sent"
    );
    assert_eq!(
        f.dns.rrset(&key(HOST, RecordType::A)).unwrap().values,
        [ip("198.51.100.8")]
    );
}

#[tokio::test]
async fn recheck_interval_zero_reads_dns_every_time() {
    let f = Fixture::build(
        [Record::new(key(HOST, RecordType::A), config())],
        Default::default(),
        Duration::ZERO,
    );
    for _ in 0..3 {
        f.set(HOST, PUBLIC_V4, "").await;
    }
    let calls = f.dns.calls();
    assert_eq!((calls.reads, calls.batches), (3, 1));
}

#[tokio::test]
async fn dns_already_right_syncs_the_store_without_a_change() {
    let f = Fixture::new();
    f.dns
        .set_rrset(key(HOST, RecordType::A), 60, vec![ip(PUBLIC_V4)]);
    assert!(f.set(HOST, PUBLIC_V4, "").await.body.contains("matches"));
    assert_eq!(f.dns.calls().batches, 0);
    let state = f.state(HOST, RecordType::A).await;
    assert_eq!(state.address(), Some(ip(PUBLIC_V4)));
    // Now the common case is free.
    f.set(HOST, PUBLIC_V4, "").await;
    assert_eq!(f.dns.calls().reads, 1);
}

#[tokio::test]
async fn after_a_failed_change_dns_is_read_again() {
    let f = Fixture::new();
    f.set(HOST, PUBLIC_V4, "").await;
    // The change to a new address fails, but (as with a lost reply) it
    // reached DNS anyway.
    f.dns
        .fail_changes_to(ddns_core::Hostname::parse(HOST).unwrap());
    assert!(f.set(HOST, "198.51.100.8", "").await.body.contains("fail"));
    f.dns
        .set_rrset(key(HOST, RecordType::A), 60, vec![ip("198.51.100.8")]);
    // Asking for the old address again must not be answered from memory.
    let before = f.dns.calls();
    let r = f.set(HOST, PUBLIC_V4, "").await;
    assert_eq!(
        f.dns.calls().reads,
        before.reads + 1,
        "DNS must be read again"
    );
    assert!(
        r.body.contains("fail"),
        "the change to {HOST} is still refused: {}",
        r.body
    );
}

#[tokio::test]
async fn deferred_access_writes_are_batched_and_flushed() {
    let store = std::sync::Arc::new(ddns_core::memory::MemoryStore::with_records([Record::new(
        key(HOST, RecordType::A),
        config(),
    )]));
    let dns = std::sync::Arc::new(ddns_core::memory::MemoryProvider::new());
    let clock = Arc::new(ManualClock::new(START));
    let service = DdnsService::builder(store.clone(), dns)
        .with_clock(clock.clone())
        .with_access_write_delay(Duration::from_secs(3600))
        .build();
    let outcome = service.set(set_request(PUBLIC_V4, PUBLIC_V4, None)).await;
    assert!(
        matches!(outcome, Ok(SetOutcome::Changed { .. })),
        "{outcome:?}"
    );
    use ddns_core::RecordStore as _;
    let state = store
        .get(&key(HOST, RecordType::A))
        .await
        .unwrap()
        .unwrap()
        .state;
    assert_eq!(state.last_checked, None, "the access write is deferred");
    assert_eq!(
        state.address(),
        Some(ip(PUBLIC_V4)),
        "change state is never deferred"
    );
    clock.advance(Duration::from_secs(5));
    service
        .set(set_request(PUBLIC_V4, PUBLIC_V4, None))
        .await
        .unwrap();
    service.flush_access().await.unwrap();
    let state = store
        .get(&key(HOST, RecordType::A))
        .await
        .unwrap()
        .unwrap()
        .state;
    assert_eq!(
        state.last_checked,
        Some(START.saturating_add(Duration::from_secs(5))),
        "the latest access wins"
    );
    assert_eq!(state.last_accessed, Some(ip(PUBLIC_V4)));
}

#[tokio::test(start_paused = true)]
async fn deferred_access_writes_flush_on_their_own() {
    let store = std::sync::Arc::new(ddns_core::memory::MemoryStore::with_records([Record::new(
        key(HOST, RecordType::A),
        config(),
    )]));
    let service = DdnsService::builder(
        store.clone(),
        std::sync::Arc::new(ddns_core::memory::MemoryProvider::new()),
    )
    .with_access_write_delay(Duration::from_millis(500))
    .build();
    service
        .set(set_request(PUBLIC_V4, PUBLIC_V4, None))
        .await
        .unwrap();
    use ddns_core::RecordStore as _;
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
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        store
            .get(&key(HOST, RecordType::A))
            .await
            .unwrap()
            .unwrap()
            .state
            .last_accessed,
        Some(ip(PUBLIC_V4))
    );
}

#[tokio::test]
async fn a_name_outside_the_zones_is_not_configured_and_zones_give_the_ttl() {
    use ddns_core::memory::{MemoryProvider, MemoryStore};
    use ddns_core::{DnsProvider, Hostname, RecordStore, Zone, Zones};
    let outside = "home.example.org";
    let store = Arc::new(MemoryStore::new());
    for host in [HOST, outside] {
        store
            .create(&Record::new(key(host, RecordType::A), config()))
            .await
            .unwrap();
    }
    let dns = Arc::new(MemoryProvider::new());
    let zones = Zones::new([
        Zone::new(Hostname::parse("example.com").unwrap()).with_default_ttl(300),
        Zone::new(Hostname::parse("example.net").unwrap()),
    ])
    .unwrap();
    let service = DdnsService::builder(store, dns.clone())
        .with_clock(Arc::new(ManualClock::new(START)))
        .with_zones(zones)
        .build();
    let refused = service
        .set(token_set(
            outside,
            &hash(PUBLIC_V4, outside),
            None,
            ip(PUBLIC_V4),
        ))
        .await;
    assert!(
        matches!(refused, Err(Failure::NotConfigured { .. })),
        "{refused:?}"
    );
    assert!(dns.call_sizes().applies.is_empty(), "DNS was changed");
    let outcome = service.set(set_request(PUBLIC_V4, PUBLIC_V4, None)).await;
    assert!(
        matches!(outcome, Ok(SetOutcome::Changed { .. })),
        "{outcome:?}"
    );
    // The zone's default TTL, not the service's.
    let rrset = dns.rrset(&key(HOST, RecordType::A)).unwrap();
    assert_eq!((rrset.ttl, rrset.addresses()), (300, vec![ip(PUBLIC_V4)]));
    assert!(
        dns.current(&ddns_core::RecordKey::new(
            Hostname::parse(outside).unwrap(),
            RecordType::A
        ))
        .await
        .unwrap()
        .is_empty()
    );
}

/// A provider that removes `key`'s record from the store just before the
/// first change it applies: a removal racing a `set`.
#[derive(Debug)]
struct RemovedMeanwhile {
    dns: ddns_core::memory::MemoryProvider,
    store: Arc<ddns_core::memory::MemoryStore>,
    key: ddns_core::RecordKey,
    done: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl ddns_core::DnsProvider for RemovedMeanwhile {
    async fn current(
        &self,
        key: &ddns_core::RecordKey,
    ) -> ddns_core::Result<Vec<ddns_core::RecordValue>> {
        self.dns.current(key).await
    }

    fn max_batch_size(&self) -> usize {
        self.dns.max_batch_size()
    }

    async fn apply(&self, changes: &[ddns_core::DnsChange]) -> Vec<ddns_core::ChangeResult> {
        use ddns_core::RecordStore;
        if !self.done.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.store.delete(&self.key).await.unwrap();
        }
        self.dns.apply(changes).await
    }
}

#[tokio::test]
async fn a_set_racing_a_removal_leaves_no_name_in_dns() {
    use ddns_core::RecordStore;
    let store = Arc::new(ddns_core::memory::MemoryStore::new());
    store
        .create(&Record::new(key(HOST, RecordType::A), config()))
        .await
        .unwrap();
    let dns = Arc::new(RemovedMeanwhile {
        dns: ddns_core::memory::MemoryProvider::new(),
        store: store.clone(),
        key: key(HOST, RecordType::A),
        done: Default::default(),
    });
    let service = DdnsService::builder(store.clone(), dns.clone())
        .with_clock(Arc::new(ManualClock::new(START)))
        .build();
    let outcome = service.set(set_request(PUBLIC_V4, PUBLIC_V4, None)).await;
    assert!(
        matches!(outcome, Err(Failure::NotConfigured { .. })),
        "{outcome:?}"
    );
    assert!(
        dns.dns.rrset(&key(HOST, RecordType::A)).is_none(),
        "the change made while the record was removed was withdrawn"
    );
}
