//! In-memory adapters of both ports, for tests, embedding and benchmarks.
//!
//! [`MemoryStore`] keeps records in a sorted map; [`MemoryProvider`] keeps
//! RRsets in a map and counts the calls made to it, and can be told to fail
//! (all changes, or the changes to one name) so tests can exercise failure
//! paths through the real service. Both pass the conformance suites.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;

use crate::domain::hostname::{Hostname, RecordName};
use crate::domain::record::{
    AccessUpdate, ChangeUpdate, GroupMember, Record, RecordConfig, RecordKey,
};
use crate::domain::secret::SharedSecret;
use crate::domain::value::RecordValue;
use crate::error::{Error, Result};
use crate::ports::batching::{current_via_many, split_batches};
use crate::ports::provider::{ChangeKind, ChangeResult, DnsChange, DnsProvider};
use crate::ports::store::{ListCursor, RecordPage, RecordStore};

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    // Every write below leaves the map consistent before it can panic, so
    // a poisoned lock still guards valid data.
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// Default number of records in one listing page.
const DEFAULT_PAGE_SIZE: usize = 100;

/// A [`RecordStore`] in memory. Cheap to create; nothing survives the value.
///
/// ```
/// use ddns_core::memory::MemoryStore;
/// use ddns_core::{Hostname, Record, RecordConfig, RecordKey, RecordStore, RecordType, SharedSecret};
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let store = MemoryStore::new();
/// let key = RecordKey::new(Hostname::parse("h.example.com")?, RecordType::A);
/// store.create(&Record::new(key.clone(), RecordConfig::new(SharedSecret::new("s")))).await?;
/// assert!(store.get(&key).await?.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?; Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    records: RwLock<BTreeMap<RecordKey, Record>>,
    page_size: usize,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            records: RwLock::new(BTreeMap::new()),
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    /// A store holding `records` (a later duplicate key replaces an earlier).
    pub fn with_records(records: impl IntoIterator<Item = Record>) -> Self {
        let store = Self::new();
        write(&store.records).extend(records.into_iter().map(|r| (r.key.clone(), r)));
        store
    }

    /// Sets how many records one listing page holds (at least one).
    #[must_use]
    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// How many records the store holds.
    pub fn len(&self) -> usize {
        read(&self.records).len()
    }

    /// True when the store holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn modify(&self, key: &RecordKey, f: impl FnOnce(&mut Record)) -> Result<()> {
        let mut records = write(&self.records);
        let record = records
            .get_mut(key)
            .ok_or_else(|| Error::not_found(format!("record {key}")))?;
        f(record);
        Ok(())
    }
}

/// Cursor text: the last key of the previous page, as `hostname type`.
fn cursor_key(cursor: &ListCursor) -> Result<RecordKey> {
    let bad = || Error::invalid_input("the listing cursor was not made by this store");
    cursor.as_str().parse().map_err(|_| bad())
}

#[async_trait]
impl RecordStore for MemoryStore {
    async fn get(&self, key: &RecordKey) -> Result<Option<Record>> {
        Ok(read(&self.records).get(key).cloned())
    }

    async fn discovery_group(&self, secret: &SharedSecret) -> Result<Vec<GroupMember>> {
        Ok(read(&self.records)
            .values()
            .filter(|r| r.config.read_privilege && r.config.shared_secret == *secret)
            .map(|r| GroupMember {
                key: r.key.clone(),
                mac_address: r.config.mac_address.clone(),
            })
            .collect())
    }

    async fn record_access(&self, key: &RecordKey, access: AccessUpdate) -> Result<()> {
        self.modify(key, |r| {
            r.state.last_accessed = Some(access.source);
            r.state.last_checked = Some(access.at);
        })
    }

    async fn record_change(&self, key: &RecordKey, change: ChangeUpdate) -> Result<bool> {
        let mut written = false;
        self.modify(key, |r| {
            if r.state.values == change.previous {
                r.state.values = change.values;
                r.state.last_updated = Some(change.at);
                written = true;
            }
        })?;
        Ok(written)
    }

    async fn advance_replay_guard(&self, key: &RecordKey, timestamp: u64) -> Result<bool> {
        let mut advanced = false;
        self.modify(key, |r| {
            if r.state.last_signed.is_none_or(|last| last < timestamp) {
                r.state.last_signed = Some(timestamp);
                advanced = true;
            }
        })?;
        Ok(advanced)
    }

    async fn create(&self, record: &Record) -> Result<()> {
        let mut records = write(&self.records);
        if records.contains_key(&record.key) {
            return Err(Error::conflict(format!(
                "record {} already exists",
                record.key
            )));
        }
        records.insert(record.key.clone(), record.clone());
        Ok(())
    }

    async fn update_config(&self, key: &RecordKey, config: &RecordConfig) -> Result<()> {
        self.modify(key, |r| r.config = config.clone())
    }

    async fn delete(&self, key: &RecordKey) -> Result<()> {
        write(&self.records)
            .remove(key)
            .map(drop)
            .ok_or_else(|| Error::not_found(format!("record {key}")))
    }

    async fn list_page(&self, cursor: Option<ListCursor>) -> Result<RecordPage> {
        let start = match cursor {
            Some(cursor) => Bound::Excluded(cursor_key(&cursor)?),
            None => Bound::Unbounded,
        };
        let records = read(&self.records);
        let mut range = records.range((start, Bound::Unbounded));
        let page: Vec<Record> = range
            .by_ref()
            .take(self.page_size)
            .map(|(_, r)| r.clone())
            .collect();
        let next = match (range.next(), page.last()) {
            (Some(_), Some(last)) => Some(ListCursor::new(last.key.to_string())),
            _ => None,
        };
        Ok(RecordPage::new(page, next))
    }
}

/// An RRset held by [`MemoryProvider`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryRrset {
    /// Its TTL.
    pub ttl: u32,
    /// Its values, in insertion order.
    pub values: Vec<RecordValue>,
}

impl MemoryRrset {
    /// The address values, in order (empty for a TXT RRset).
    pub fn addresses(&self) -> Vec<IpAddr> {
        self.values
            .iter()
            .filter_map(RecordValue::address)
            .collect()
    }
}

/// Counts of what a [`MemoryProvider`] was asked to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProviderCalls {
    /// Backend reads: calls of [`DnsProvider::current`] or
    /// [`DnsProvider::current_many`] (one each, however many keys).
    pub reads: u64,
    /// Backend calls made by [`DnsProvider::apply`]: one per chunk of at
    /// most [`DnsProvider::max_batch_size`] changes, as a real backend
    /// splits a larger call ([`MemoryProvider::call_sizes`] has the size of
    /// each call as the caller made it).
    pub batches: u64,
    /// Changes applied successfully.
    pub changes: u64,
}

/// The size of every backend call a [`MemoryProvider`] received, in the
/// order they came: what a test asserts batching against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallSizes {
    /// Keys asked for by each [`DnsProvider::current_many`] call (1 for
    /// each [`DnsProvider::current`]).
    pub reads: Vec<usize>,
    /// Changes sent by each [`DnsProvider::apply`] call, as the caller
    /// sent them (before any split at the maximum batch size).
    pub applies: Vec<usize>,
}

/// A [`DnsProvider`] in memory, counting its calls.
///
/// ```
/// use ddns_core::memory::MemoryProvider;
/// use ddns_core::{DnsChange, DnsProvider, Hostname, RecordKey, RecordType, RecordValue};
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let dns = MemoryProvider::new();
/// let name = Hostname::parse("h.example.com")?;
/// let results = dns.apply(&[DnsChange::upsert(name.clone(), 60, "192.0.2.1".parse()?)]).await;
/// assert!(results[0].is_ok());
/// let key = RecordKey::new(name, RecordType::A);
/// assert_eq!(dns.current(&key).await?, [RecordValue::Address("192.0.2.1".parse()?)]);
/// assert_eq!(dns.calls().batches, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?; Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct MemoryProvider {
    zone: Option<Hostname>,
    max_batch: usize,
    rrsets: RwLock<HashMap<RecordKey, MemoryRrset>>,
    failing_names: RwLock<HashSet<RecordName>>,
    unavailable: AtomicBool,
    reads: AtomicU64,
    batches: AtomicU64,
    changes: AtomicU64,
    sizes: RwLock<CallSizes>,
    latency: Option<std::time::Duration>,
}

impl Default for MemoryProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryProvider {
    /// An empty provider serving every name, 1,000 changes per batch.
    pub fn new() -> Self {
        Self {
            zone: None,
            max_batch: 1000,
            rrsets: RwLock::new(HashMap::new()),
            failing_names: RwLock::new(HashSet::new()),
            unavailable: AtomicBool::new(false),
            reads: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            sizes: RwLock::new(CallSizes::default()),
            latency: None,
        }
    }

    /// Makes every read and every change batch take a random time up to
    /// `max` first, as a real backend's round trips do, so that tests can
    /// race concurrent requests. Needs a tokio runtime with time enabled.
    #[must_use]
    pub fn with_latency(mut self, max: std::time::Duration) -> Self {
        self.latency = Some(max);
        self
    }

    async fn wait(&self) {
        let Some(max) = self.latency else {
            return;
        };
        let mut bytes = [0u8; 8];
        // Without randomness the full latency is as good a delay as any.
        let fraction = match getrandom::fill(&mut bytes) {
            Ok(()) => u64::from_le_bytes(bytes) as f64 / u64::MAX as f64,
            Err(_) => 1.0,
        };
        tokio::time::sleep(max.mul_f64(fraction)).await;
    }

    /// Serves only names in `zone`; changes to other names fail.
    #[must_use]
    pub fn with_zone(mut self, zone: Hostname) -> Self {
        self.zone = Some(zone);
        self
    }

    /// Sets the batch size reported by [`DnsProvider::max_batch_size`].
    #[must_use]
    pub fn with_max_batch_size(mut self, max: usize) -> Self {
        self.max_batch = max.max(1);
        self
    }

    /// What the provider was asked to do so far.
    pub fn calls(&self) -> ProviderCalls {
        ProviderCalls {
            reads: self.reads.load(Ordering::SeqCst),
            batches: self.batches.load(Ordering::SeqCst),
            changes: self.changes.load(Ordering::SeqCst),
        }
    }

    /// The size of every call so far, in order.
    pub fn call_sizes(&self) -> CallSizes {
        read(&self.sizes).clone()
    }

    /// The RRset of `key`, if any.
    pub fn rrset(&self, key: &RecordKey) -> Option<MemoryRrset> {
        read(&self.rrsets).get(key).cloned()
    }

    /// Sets an RRset directly, as a change made outside the system would.
    pub fn set_rrset<V: Into<RecordValue>>(
        &self,
        key: RecordKey,
        ttl: u32,
        values: impl IntoIterator<Item = V>,
    ) {
        let values = values.into_iter().map(Into::into).collect();
        write(&self.rrsets).insert(key, MemoryRrset { ttl, values });
    }

    /// Makes every later call fail as an unreachable backend would
    /// (`true`), or work again (`false`).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Makes changes to `name` fail (and only those), as a backend that
    /// refuses one record of a batch would.
    pub fn fail_changes_to(&self, name: impl Into<RecordName>) {
        write(&self.failing_names).insert(name.into());
    }

    fn check_available(&self) -> Result<()> {
        if self.unavailable.load(Ordering::SeqCst) {
            Err(Error::unavailable(
                "the in-memory DNS provider is switched off",
                true,
            ))
        } else {
            Ok(())
        }
    }

    fn apply_one(&self, change: &DnsChange) -> ChangeResult {
        if let Some(zone) = self.zone.as_ref().filter(|z| !change.name().is_in_zone(z)) {
            return Err(Error::invalid_input(format!(
                "{} is not in the zone {zone}",
                change.name()
            )));
        }
        if read(&self.failing_names).contains(change.name()) {
            return Err(Error::permission_denied(format!(
                "changes to {} are refused",
                change.name()
            )));
        }
        let mut rrsets = write(&self.rrsets);
        match change.kind() {
            ChangeKind::Upsert { ttl, values } => {
                rrsets.insert(
                    change.key().clone(),
                    MemoryRrset {
                        ttl: *ttl,
                        values: values.clone(),
                    },
                );
            }
            ChangeKind::Delete => {
                rrsets.remove(change.key());
            }
        }
        self.changes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[async_trait]
impl DnsProvider for MemoryProvider {
    async fn current(&self, key: &RecordKey) -> Result<Vec<RecordValue>> {
        current_via_many(self, key).await
    }

    /// Reads all `keys` as one backend call.
    async fn current_many(&self, keys: &[RecordKey]) -> Vec<Result<Vec<RecordValue>>> {
        self.wait().await;
        self.reads.fetch_add(1, Ordering::SeqCst);
        write(&self.sizes).reads.push(keys.len());
        if let Err(e) = self.check_available() {
            return keys.iter().map(|_| Err(e.clone())).collect();
        }
        let rrsets = read(&self.rrsets);
        keys.iter()
            .map(|key| {
                Ok(rrsets
                    .get(key)
                    .map(|r| r.values.clone())
                    .unwrap_or_default())
            })
            .collect()
    }

    fn max_batch_size(&self) -> usize {
        self.max_batch
    }

    async fn apply(&self, changes: &[DnsChange]) -> Vec<ChangeResult> {
        self.wait().await;
        write(&self.sizes).applies.push(changes.len());
        let mut results = Vec::with_capacity(changes.len());
        for chunk in changes.chunks(self.max_batch) {
            self.batches.fetch_add(1, Ordering::SeqCst);
            if let Err(e) = self.check_available() {
                results.extend(chunk.iter().map(|_| Err(e.clone())));
                continue;
            }
            if split_batches(chunk, chunk.len()).len() > 1 {
                let e = Error::invalid_input("a batch changes the same record twice");
                results.extend(chunk.iter().map(|_| Err(e.clone())));
                continue;
            }
            results.extend(chunk.iter().map(|change| self.apply_one(change)));
        }
        results
    }
}
