//! A read cache in front of any [`RecordStore`].
//!
//! Clients poll every few minutes, and every poll reads its record. With a
//! store behind a blocking pool or a network hop, that read is most of the
//! cost of an unchanged update. [`CachedStore`] keeps records it has read
//! for a short time (`ttl`), and keeps them exact for every write made
//! through it. Changes made by someone else (an admin command in another
//! process, another server sharing the table) are seen once the entry
//! expires, so `ttl` bounds how long, say, a lock set from the command line
//! takes to apply. Absent records are not cached.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::domain::hostname::Hostname;
use crate::domain::record::{
    AccessUpdate, ChangeUpdate, GroupMember, Record, RecordConfig, RecordKey,
};
use crate::domain::secret::SharedSecret;
use crate::error::Result;
use crate::ports::store::{ListCursor, RecordPage, RecordStore};

/// Most records kept; past it the cache starts over.
const MAX_ENTRIES: usize = 200_000;

/// A [`RecordStore`] that answers [`RecordStore::get`] from memory for up
/// to `ttl` after reading a record.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use ddns_core::cache::CachedStore;
/// use ddns_core::memory::MemoryStore;
///
/// let store = CachedStore::new(Arc::new(MemoryStore::new()), Duration::from_secs(1));
/// # let _ = store;
/// ```
#[derive(Debug)]
pub struct CachedStore {
    inner: Arc<dyn RecordStore>,
    ttl: Duration,
    entries: RwLock<HashMap<RecordKey, (Record, Instant)>>,
}

impl CachedStore {
    /// Caches reads of `inner` for `ttl`.
    pub fn new(inner: Arc<dyn RecordStore>, ttl: Duration) -> Self {
        Self {
            inner,
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The store behind the cache.
    pub fn inner(&self) -> &Arc<dyn RecordStore> {
        &self.inner
    }

    fn read(&self) -> RwLockReadGuard<'_, HashMap<RecordKey, (Record, Instant)>> {
        // Entries are inserted and removed whole: valid after a panic.
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<RecordKey, (Record, Instant)>> {
        self.entries.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn remember(&self, record: Record) {
        let mut entries = self.write();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&record.key) {
            entries.clear();
        }
        entries.insert(record.key.clone(), (record, Instant::now()));
    }

    /// Applies a write made through the cache to a cached entry, keeping
    /// its age (the rest of the entry is no fresher than before).
    fn patch(&self, key: &RecordKey, f: impl FnOnce(&mut Record)) {
        if let Some((record, _)) = self.write().get_mut(key) {
            f(record);
        }
    }

    fn forget(&self, key: &RecordKey) {
        self.write().remove(key);
    }

    /// Keeps a cached entry in step with an access write-back that
    /// succeeded, or drops it when the write failed.
    fn after_access(&self, key: &RecordKey, access: AccessUpdate, written: bool) {
        if written {
            self.patch(key, |r| {
                r.state.last_accessed = Some(access.source);
                r.state.last_checked = Some(access.at);
            });
        } else {
            self.forget(key);
        }
    }
}

impl CachedStore {
    /// The cached record of `key`, if cached and fresh.
    fn fresh(&self, key: &RecordKey) -> Option<Record> {
        self.read()
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(record, _)| record.clone())
    }

    /// Caches what a read of `key` found (or forgets the key), and passes
    /// it on.
    fn after_read(&self, key: &RecordKey, found: Result<Option<Record>>) -> Result<Option<Record>> {
        let found = found?;
        match &found {
            Some(record) => self.remember(record.clone()),
            None => self.forget(key),
        }
        Ok(found)
    }
}

#[async_trait]
impl RecordStore for CachedStore {
    async fn get(&self, key: &RecordKey) -> Result<Option<Record>> {
        if let Some(record) = self.fresh(key) {
            return Ok(Some(record));
        }
        let found = self.inner.get(key).await;
        self.after_read(key, found)
    }

    async fn get_spelled(&self, key: &RecordKey, spelling: &str) -> Result<Option<Record>> {
        if let Some(record) = self.fresh(key) {
            return Ok(Some(record));
        }
        let found = self.inner.get_spelled(key, spelling).await;
        self.after_read(key, found)
    }

    async fn discovery_group(&self, secret: &SharedSecret) -> Result<Vec<GroupMember>> {
        self.inner.discovery_group(secret).await
    }

    async fn followers(&self, source: &Hostname) -> Result<Vec<Record>> {
        // Read through: a follower's stored address decides whether it
        // moves, so it must be the store's.
        self.inner.followers(source).await
    }

    async fn record_access(&self, key: &RecordKey, access: AccessUpdate) -> Result<()> {
        let result = self.inner.record_access(key, access).await;
        self.after_access(key, access, result.is_ok());
        result
    }

    async fn record_access_many(&self, updates: &[(RecordKey, AccessUpdate)]) -> Result<()> {
        let result = self.inner.record_access_many(updates).await;
        for (key, access) in updates {
            self.after_access(key, *access, result.is_ok());
        }
        result
    }

    async fn record_change(&self, key: &RecordKey, change: ChangeUpdate) -> Result<bool> {
        // Always the backing store's compare-and-set: the cached address
        // may be stale when other instances share the store.
        let at = change.at;
        let values = change.values.clone();
        let result = self.inner.record_change(key, change).await;
        match &result {
            Ok(true) => self.patch(key, |r| {
                r.state.values = values;
                r.state.last_updated = Some(at);
            }),
            // Someone else wrote the record: the cached entry is stale.
            Ok(false) | Err(_) => self.forget(key),
        }
        result
    }

    async fn advance_replay_guard(&self, key: &RecordKey, timestamp: u64) -> Result<bool> {
        // Always the backing store's atomic check: a cached guard could be
        // stale when other instances share the store.
        let result = self.inner.advance_replay_guard(key, timestamp).await;
        match &result {
            Ok(true) => self.patch(key, |r| r.state.last_signed = Some(timestamp)),
            Ok(false) => {}
            Err(_) => self.forget(key),
        }
        result
    }

    async fn create(&self, record: &Record) -> Result<()> {
        self.forget(&record.key);
        self.inner.create(record).await
    }

    async fn update_config(&self, key: &RecordKey, config: &RecordConfig) -> Result<()> {
        self.forget(key);
        let result = self.inner.update_config(key, config).await;
        self.forget(key);
        result
    }

    async fn delete(&self, key: &RecordKey) -> Result<()> {
        self.forget(key);
        let result = self.inner.delete(key).await;
        self.forget(key);
        result
    }

    async fn list_page(&self, cursor: Option<ListCursor>) -> Result<RecordPage> {
        self.inner.list_page(cursor).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::MemoryStore;
    use crate::domain::hostname::Hostname;
    use crate::domain::record::RecordType;
    use crate::domain::timestamp::Timestamp;

    fn key() -> RecordKey {
        RecordKey::new(Hostname::parse("h.example.com").unwrap(), RecordType::A)
    }

    fn fixture(ttl: Duration) -> (Arc<MemoryStore>, CachedStore) {
        let inner = Arc::new(MemoryStore::with_records([Record::new(
            key(),
            RecordConfig::new(SharedSecret::new("s")),
        )]));
        let cached = CachedStore::new(inner.clone(), ttl);
        (inner, cached)
    }

    #[tokio::test(start_paused = true)]
    async fn outside_changes_show_after_the_ttl() {
        let (inner, cached) = fixture(Duration::from_secs(1));
        assert!(
            !cached
                .get(&key())
                .await
                .unwrap()
                .unwrap()
                .config
                .lock_record
        );
        // An admin command in another process locks the record.
        let locked = RecordConfig::new(SharedSecret::new("s")).with_lock(true);
        inner.update_config(&key(), &locked).await.unwrap();
        assert!(
            !cached
                .get(&key())
                .await
                .unwrap()
                .unwrap()
                .config
                .lock_record,
            "still cached"
        );
        tokio::time::advance(Duration::from_millis(1001)).await;
        assert!(
            cached
                .get(&key())
                .await
                .unwrap()
                .unwrap()
                .config
                .lock_record,
            "expired"
        );
        // A deletion elsewhere, too.
        inner.delete(&key()).await.unwrap();
        tokio::time::advance(Duration::from_millis(1001)).await;
        assert_eq!(cached.get(&key()).await.unwrap(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn writes_through_the_cache_are_seen_at_once() {
        let (_inner, cached) = fixture(Duration::from_secs(3600));
        cached.get(&key()).await.unwrap();
        let address = "198.51.100.7".parse().unwrap();
        let change = ChangeUpdate::address(None, address, Timestamp::from_unix_micros(5));
        assert!(cached.record_change(&key(), change).await.unwrap());
        let access = AccessUpdate {
            source: "198.51.100.8".parse().unwrap(),
            at: Timestamp::from_unix_micros(6),
        };
        cached.record_access_many(&[(key(), access)]).await.unwrap();
        let state = cached.get(&key()).await.unwrap().unwrap().state;
        assert_eq!(state.address(), Some(address));
        assert_eq!(state.last_accessed, Some(access.source));
        let locked = RecordConfig::new(SharedSecret::new("s")).with_lock(true);
        cached.update_config(&key(), &locked).await.unwrap();
        assert!(
            cached
                .get(&key())
                .await
                .unwrap()
                .unwrap()
                .config
                .lock_record
        );
        cached.delete(&key()).await.unwrap();
        assert_eq!(cached.get(&key()).await.unwrap(), None);
    }
}
