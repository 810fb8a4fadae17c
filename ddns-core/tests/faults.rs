//! Faults injected through the ports: a DNS provider that errs, hangs, or
//! applies a change and loses the reply; a store that fails at each step of
//! a `set`. Each time the client gets a clear `fail`, the store never holds
//! an address DNS does not have, and the first request after recovery
//! converges.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use common::*;
use ddns_core::memory::{MemoryProvider, MemoryStore};
use ddns_core::protocols::seed::{ApiKeys, SeedApi, SeedHttpRequest, SeedParams};
use ddns_core::{
    AccessUpdate, ChangeUpdate, DdnsService, DnsProvider, Error, GroupMember, Hostname, Record,
    RecordConfig, RecordKey, RecordStore, RecordType, RecordValue, Result, SharedSecret,
};
use ddns_core::{ChangeResult, DnsChange};
use ddns_core::{ListCursor, RecordPage};

/// How the wrapped provider misbehaves.
#[derive(Debug, Default)]
struct ProviderFaults {
    /// Calls never answer.
    hang: AtomicBool,
    /// Changes are applied, then reported as failed (the reply was lost).
    lose_replies: AtomicBool,
}

/// A [`MemoryProvider`] with [`ProviderFaults`].
#[derive(Debug)]
struct FaultyProvider {
    inner: Arc<MemoryProvider>,
    faults: Arc<ProviderFaults>,
}

impl FaultyProvider {
    async fn maybe_hang(&self) {
        if self.faults.hang.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
    }
}

#[async_trait]
impl DnsProvider for FaultyProvider {
    async fn current(&self, key: &RecordKey) -> Result<Vec<RecordValue>> {
        self.maybe_hang().await;
        self.inner.current(key).await
    }

    fn max_batch_size(&self) -> usize {
        self.inner.max_batch_size()
    }

    async fn apply(&self, changes: &[DnsChange]) -> Vec<ChangeResult> {
        self.maybe_hang().await;
        let results = self.inner.apply(changes).await;
        if self.faults.lose_replies.load(Ordering::SeqCst) {
            return results
                .into_iter()
                .map(|_| {
                    Err(Error::unavailable(
                        "connection reset before the reply",
                        true,
                    ))
                })
                .collect();
        }
        results
    }
}

/// Which store operation fails.
#[derive(Debug, Default)]
struct StoreFaults {
    get: AtomicBool,
    access: AtomicBool,
    change: AtomicBool,
    guard: AtomicBool,
}

/// A [`MemoryStore`] with [`StoreFaults`].
#[derive(Debug)]
struct FaultyStore {
    inner: Arc<MemoryStore>,
    faults: Arc<StoreFaults>,
}

fn down(flag: &AtomicBool) -> Result<()> {
    if flag.load(Ordering::SeqCst) {
        Err(Error::unavailable("the database is unreachable", true))
    } else {
        Ok(())
    }
}

#[async_trait]
impl RecordStore for FaultyStore {
    async fn get(&self, key: &RecordKey) -> Result<Option<Record>> {
        down(&self.faults.get)?;
        self.inner.get(key).await
    }
    async fn discovery_group(&self, secret: &SharedSecret) -> Result<Vec<GroupMember>> {
        self.inner.discovery_group(secret).await
    }
    async fn record_access(&self, key: &RecordKey, access: AccessUpdate) -> Result<()> {
        down(&self.faults.access)?;
        self.inner.record_access(key, access).await
    }
    async fn record_change(&self, key: &RecordKey, change: ChangeUpdate) -> Result<bool> {
        down(&self.faults.change)?;
        self.inner.record_change(key, change).await
    }
    async fn advance_replay_guard(&self, key: &RecordKey, timestamp: u64) -> Result<bool> {
        down(&self.faults.guard)?;
        self.inner.advance_replay_guard(key, timestamp).await
    }
    async fn create(&self, record: &Record) -> Result<()> {
        self.inner.create(record).await
    }
    async fn update_config(&self, key: &RecordKey, config: &RecordConfig) -> Result<()> {
        self.inner.update_config(key, config).await
    }
    async fn delete(&self, key: &RecordKey) -> Result<()> {
        self.inner.delete(key).await
    }
    async fn list_page(&self, cursor: Option<ListCursor>) -> Result<RecordPage> {
        self.inner.list_page(cursor).await
    }
}

struct Rig {
    store: Arc<MemoryStore>,
    dns: Arc<MemoryProvider>,
    provider_faults: Arc<ProviderFaults>,
    store_faults: Arc<StoreFaults>,
    api: SeedApi,
}

const TIMEOUT: Duration = Duration::from_millis(200);

fn rig() -> Rig {
    let store = Arc::new(MemoryStore::with_records([Record::new(
        key(HOST, RecordType::A),
        config().with_allow_internal(true),
    )]));
    let dns = Arc::new(MemoryProvider::new());
    let provider_faults = Arc::new(ProviderFaults::default());
    let store_faults = Arc::new(StoreFaults::default());
    let service = DdnsService::builder(
        Arc::new(FaultyStore {
            inner: store.clone(),
            faults: store_faults.clone(),
        }),
        Arc::new(FaultyProvider {
            inner: dns.clone(),
            faults: provider_faults.clone(),
        }),
    )
    .with_provider_timeout(TIMEOUT)
    .build();
    Rig {
        store,
        dns,
        provider_faults,
        store_faults,
        api: SeedApi::new(Arc::new(service), ApiKeys::none()),
    }
}

impl Rig {
    /// A correct `set` of HOST to `address` from PUBLIC_V4.
    async fn set(&self, address: &str) -> String {
        let query = format!(
            "mode=set&hostname={HOST}&hash={}&internalIp={address}",
            hash(PUBLIC_V4, HOST)
        );
        self.api
            .handle(SeedHttpRequest::new(
                SeedParams::from_query(&query),
                ip(PUBLIC_V4),
            ))
            .await
            .body
    }

    fn in_dns(&self) -> Vec<IpAddr> {
        self.dns
            .rrset(&key(HOST, RecordType::A))
            .map(|r| r.addresses())
            .unwrap_or_default()
    }

    async fn in_store(&self) -> Option<IpAddr> {
        self.store
            .get(&key(HOST, RecordType::A))
            .await
            .unwrap()
            .unwrap()
            .state
            .address()
    }

    /// The store's address, when it has one, is the one DNS holds.
    async fn assert_store_matches_dns(&self) {
        if let Some(stored) = self.in_store().await {
            assert_eq!(
                self.in_dns(),
                vec![stored],
                "the store records an address DNS does not have"
            );
        }
    }
}

const UNAVAILABLE_DNS: &str = r#"{"return_message": "The DNS backend is temporarily unavailable; try again later.", "return_status": "fail"}"#;
const UNAVAILABLE_STORE: &str = r#"{"return_message": "The record store is temporarily unavailable; try again later.", "return_status": "fail"}"#;

fn changed_to(address: &str) -> String {
    format!(
        r#"{{"return_message": "Your hostname record {HOST}. has been set to {address}", "return_status": "success"}}"#
    )
}

const MATCHES: &str = r#"{"return_message": "Your IP address matches the current Route53 DNS record.", "return_status": "success"}"#;

#[tokio::test]
async fn a_failing_provider_fails_the_set_and_recovery_converges() {
    let rig = rig();
    assert_eq!(rig.set("10.0.0.1").await, changed_to("10.0.0.1"));

    rig.dns.set_unavailable(true);
    assert_eq!(rig.set("10.0.0.2").await, UNAVAILABLE_DNS);
    assert_eq!(rig.in_store().await, Some(ip("10.0.0.1")));
    rig.assert_store_matches_dns().await;

    rig.dns.set_unavailable(false);
    assert_eq!(rig.set("10.0.0.2").await, changed_to("10.0.0.2"));
    assert_eq!(rig.in_dns(), [ip("10.0.0.2")]);
    rig.assert_store_matches_dns().await;
}

#[tokio::test]
async fn a_hanging_provider_times_out_and_recovery_converges() {
    let rig = rig();
    assert_eq!(rig.set("10.0.0.1").await, changed_to("10.0.0.1"));

    rig.provider_faults.hang.store(true, Ordering::SeqCst);
    let started = std::time::Instant::now();
    assert_eq!(rig.set("10.0.0.2").await, UNAVAILABLE_DNS);
    assert!(
        started.elapsed() < TIMEOUT * 10,
        "the timeout did not apply"
    );
    rig.assert_store_matches_dns().await;

    rig.provider_faults.hang.store(false, Ordering::SeqCst);
    assert_eq!(rig.set("10.0.0.2").await, changed_to("10.0.0.2"));
    rig.assert_store_matches_dns().await;
}

#[tokio::test]
async fn a_lost_reply_is_a_failure_and_the_next_request_sees_the_truth() {
    let rig = rig();
    assert_eq!(rig.set("10.0.0.1").await, changed_to("10.0.0.1"));

    // The change lands, but the client is told it failed.
    rig.provider_faults
        .lose_replies
        .store(true, Ordering::SeqCst);
    assert_eq!(rig.set("10.0.0.2").await, UNAVAILABLE_DNS);
    assert_eq!(rig.in_dns(), [ip("10.0.0.2")], "the change did land");
    assert_eq!(
        rig.in_store().await,
        Some(ip("10.0.0.1")),
        "an unconfirmed change is not recorded"
    );

    // After recovery, the service reads DNS instead of trusting what it
    // knew, finds the address there, and records it.
    rig.provider_faults
        .lose_replies
        .store(false, Ordering::SeqCst);
    let reads = rig.dns.calls().reads;
    assert_eq!(rig.set("10.0.0.2").await, MATCHES);
    assert_eq!(rig.dns.calls().reads, reads + 1, "DNS must be read again");
    assert_eq!(rig.in_store().await, Some(ip("10.0.0.2")));
    // And asking for the old address again really changes DNS back.
    assert_eq!(rig.set("10.0.0.1").await, changed_to("10.0.0.1"));
    assert_eq!(rig.in_dns(), [ip("10.0.0.1")]);
    rig.assert_store_matches_dns().await;
}

#[tokio::test]
async fn a_failing_store_applies_nothing_before_dns_and_converges_after() {
    let rig = rig();
    assert_eq!(rig.set("10.0.0.1").await, changed_to("10.0.0.1"));
    let applied = rig.dns.calls().changes;

    // Reading the record or writing its access state fails: DNS untouched.
    for flag in [&rig.store_faults.get, &rig.store_faults.access] {
        flag.store(true, Ordering::SeqCst);
        assert_eq!(rig.set("10.0.0.2").await, UNAVAILABLE_STORE);
        assert_eq!(rig.dns.calls().changes, applied, "nothing may be applied");
        assert_eq!(rig.in_dns(), [ip("10.0.0.1")]);
        flag.store(false, Ordering::SeqCst);
    }

    // The change state cannot be written after DNS changed: the client
    // hears of the failure, the store keeps the old address (never one DNS
    // lacks), and the retry records the new one without changing DNS again.
    rig.store_faults.change.store(true, Ordering::SeqCst);
    assert_eq!(rig.set("10.0.0.2").await, UNAVAILABLE_STORE);
    assert_eq!(rig.in_dns(), [ip("10.0.0.2")]);
    assert_eq!(rig.in_store().await, Some(ip("10.0.0.1")));
    rig.store_faults.change.store(false, Ordering::SeqCst);
    let applied = rig.dns.calls().changes;
    assert_eq!(rig.set("10.0.0.2").await, MATCHES);
    assert_eq!(rig.dns.calls().changes, applied, "no second DNS change");
    assert_eq!(rig.in_store().await, Some(ip("10.0.0.2")));
    rig.assert_store_matches_dns().await;
}

#[tokio::test]
async fn a_failing_replay_guard_refuses_the_signed_request_and_applies_nothing() {
    use ddns_core::signed::{Nonce, SignedMessage, SignedMode, SignedProof};
    let rig = rig();
    rig.store_faults.guard.store(true, Ordering::SeqCst);
    let now = u64::try_from(ddns_core::Timestamp::now().unix_micros() / 1_000_000).unwrap();
    let message = SignedMessage::new(
        SignedMode::Set,
        Hostname::parse(HOST).unwrap(),
        ip("10.0.0.3"),
        now,
        Nonce::generate().unwrap(),
    );
    let proof = SignedProof::for_message(&message, &SharedSecret::new(SECRET));
    let query = format!(
        "mode=set&hostname={HOST}&internalIp=10.0.0.3&signature={}&timestamp={}&nonce={}",
        proof.signature, proof.timestamp, proof.nonce
    );
    let send = || {
        rig.api.handle(SeedHttpRequest::new(
            SeedParams::from_query(&query),
            ip(PUBLIC_V4),
        ))
    };
    assert_eq!(send().await.body, UNAVAILABLE_STORE);
    assert_eq!(rig.dns.calls().changes, 0);
    assert_eq!(rig.in_store().await, None);
    // The guard did not move, so the same request works once the store is
    // back (it is still inside the window).
    rig.store_faults.guard.store(false, Ordering::SeqCst);
    assert_eq!(send().await.body, changed_to("10.0.0.3"));
    assert_eq!(rig.in_dns(), [ip("10.0.0.3")]);
}
