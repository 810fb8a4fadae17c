//! The `RecordStore` port: where record configuration and state live.
//!
//! Implementations: [`crate::memory::MemoryStore`] here; SQLite, DynamoDB in
//! their own crates. Every implementation runs the shared conformance suite
//! (`ddns_core::conformance::store`, feature `conformance`).

use std::fmt::Debug;

use async_trait::async_trait;

use crate::domain::hostname::Hostname;
use crate::domain::record::{
    AccessUpdate, ChangeUpdate, GroupMember, Record, RecordConfig, RecordKey, RecordType,
};
use crate::domain::secret::SharedSecret;
use crate::error::Result;

/// An opaque position in a [`RecordStore::list_page`] listing.
///
/// Only the store that produced a cursor understands it; pass it back
/// unchanged to get the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor(String);

impl ListCursor {
    /// Wraps a store-specific position.
    pub fn new(position: impl Into<String>) -> Self {
        Self(position.into())
    }

    /// The store-specific position.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One page of a [`RecordStore::list_page`] listing.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordPage {
    /// The records of this page.
    pub records: Vec<Record>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<ListCursor>,
}

impl RecordPage {
    /// A page of `records`, followed by the page at `next` if any.
    pub fn new(records: Vec<Record>, next: Option<ListCursor>) -> Self {
        Self { records, next }
    }
}

/// Record configuration and state, keyed by (host name, record type).
///
/// All methods are safe to call concurrently. Host names arrive canonical
/// (lower case, trailing dot) as [`crate::Hostname`] guarantees; a store
/// must look them up exactly, so a lookup is case-insensitive in effect.
///
/// Errors follow one convention: a missing record is `Ok(None)` for reads
/// and [`crate::Error::NotFound`] for writes; an existing one where none may
/// be is [`crate::Error::Conflict`]; a backend that cannot be reached is
/// [`crate::Error::Unavailable`], retryable when trying again may help.
#[async_trait]
pub trait RecordStore: Send + Sync + Debug {
    /// Reads the record with `key`.
    ///
    /// Returns `Ok(None)` when there is none. Never creates anything.
    async fn get(&self, key: &RecordKey) -> Result<Option<Record>>;

    /// Reads the record with `key` for a request that spelled its name
    /// `spelling` (as sent, trailing dot and letter case as the client
    /// wrote them): a store whose rows may be keyed by a hand-written
    /// spelling (the original stack's table, where `Home.Example.com.` is
    /// another key than `home.example.com.`) looks for that spelling when
    /// the canonical key has no row, and then keeps using the row it found
    /// for writes to `key`.
    ///
    /// The default is [`RecordStore::get`]: stores keyed by the canonical
    /// name have nothing else to look for.
    async fn get_spelled(&self, key: &RecordKey, spelling: &str) -> Result<Option<Record>> {
        let _ = spelling;
        self.get(key).await
    }

    /// The discovery group of `secret`: every record whose shared secret
    /// equals `secret` and whose `read_privilege` is true, of both types, in
    /// no particular order.
    ///
    /// Returns all members, following the backend's pagination internally.
    /// An empty group is `Ok(vec![])`.
    async fn discovery_group(&self, secret: &SharedSecret) -> Result<Vec<GroupMember>>;

    /// Writes the access state (`last_accessed`, `last_checked`) of `key`,
    /// touching no other field.
    ///
    /// Fails with [`crate::Error::NotFound`] when the record does not exist
    /// (it was deleted meanwhile); it must not create one.
    async fn record_access(&self, key: &RecordKey, access: AccessUpdate) -> Result<()>;

    /// Writes the change state (`ip_address`, `last_updated`) of `key`,
    /// touching no other field, if and only if its `ip_address` still is
    /// `change.previous`: a compare-and-set in one atomic step, so that of
    /// two writers that read the same value (two servers sharing the store)
    /// exactly one wins. Returns false, writing nothing, when the record
    /// holds another address: the caller lost a race and must not trust
    /// what it believes about the record's DNS value.
    ///
    /// Fails with [`crate::Error::NotFound`] when the record does not exist;
    /// it must not create one.
    async fn record_change(&self, key: &RecordKey, change: ChangeUpdate) -> Result<bool>;

    /// [`RecordStore::record_access`] for many records at once, as the
    /// service's deferred access writes flush them. Records that no longer
    /// exist are skipped; any other failure fails the call.
    ///
    /// The default writes them one by one; stores that can write many rows
    /// in one transaction or request should override it.
    async fn record_access_many(&self, updates: &[(RecordKey, AccessUpdate)]) -> Result<()> {
        for (key, access) in updates {
            match self.record_access(key, *access).await {
                Ok(()) | Err(crate::error::Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Advances the replay guard (`last_signed`) of `key` to `timestamp`
    /// (Unix seconds) if the record has none or an older one, touching no
    /// other field.
    ///
    /// Returns `Ok(true)` when the guard moved, `Ok(false)` when it already
    /// held `timestamp` or a later one (the request is a replay or older
    /// than one accepted). The check and the write are one atomic step: of
    /// concurrent calls with the same timestamp, at most one returns true.
    /// The guard must be durable like the rest of the record, so that a
    /// restart does not reopen the window for replays.
    ///
    /// Fails with [`crate::Error::NotFound`] when the record does not
    /// exist; it must not create one.
    async fn advance_replay_guard(&self, key: &RecordKey, timestamp: u64) -> Result<bool>;

    /// Creates `record`, configuration and state as given.
    ///
    /// Fails with [`crate::Error::Conflict`] when a record with the same key
    /// exists; the existing record is left as it was.
    async fn create(&self, record: &Record) -> Result<()>;

    /// Replaces the configuration of `key`, keeping its state.
    ///
    /// Fails with [`crate::Error::NotFound`] when there is no such record.
    async fn update_config(&self, key: &RecordKey, config: &RecordConfig) -> Result<()>;

    /// Deletes the record with `key`.
    ///
    /// Fails with [`crate::Error::NotFound`] when there is no such record.
    async fn delete(&self, key: &RecordKey) -> Result<()>;

    /// One page of all records, starting at `cursor` (`None` for the first
    /// page). Pages hold at most the backend's page size and may be empty
    /// before the last one; keep calling while [`RecordPage::next`] is set.
    /// Records created or deleted during a listing may or may not appear.
    async fn list_page(&self, cursor: Option<ListCursor>) -> Result<RecordPage>;

    /// The AAAA records that follow the prefix of `source`: those whose
    /// [`RecordConfig::follow`] names it, in any order.
    ///
    /// The default lists every record and keeps the followers; stores
    /// that can look them up by `prefix_from` should override it.
    async fn followers(&self, source: &Hostname) -> Result<Vec<Record>> {
        let mut followers = self.list_all().await?;
        followers.retain(|record| {
            record.key.record_type() == RecordType::Aaaa
                && record
                    .config
                    .follow
                    .as_ref()
                    .is_some_and(|follow| &follow.prefix_from == source)
        });
        Ok(followers)
    }

    /// Every record, following [`RecordStore::list_page`] to the end.
    async fn list_all(&self) -> Result<Vec<Record>> {
        let mut records = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.list_page(cursor).await?;
            records.extend(page.records);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(records),
            }
        }
    }
}
