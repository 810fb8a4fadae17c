//! The `DnsProvider` port: what actually changes DNS.
//!
//! Implementations: [`crate::memory::MemoryProvider`] here; Route 53,
//! RFC 2136 and the embedded authoritative server in their own crates. Wrap
//! any of them in [`crate::coalesce::CoalescingProvider`] to merge concurrent
//! changes into batches. Every implementation runs the shared conformance
//! suite (`ddns_core::conformance::provider`, feature `conformance`).

use std::fmt::Debug;
use std::net::IpAddr;

use async_trait::async_trait;

use crate::domain::hostname::{Hostname, RecordName};
use crate::domain::record::{RecordKey, RecordType};
use crate::domain::value::RecordValue;
use crate::error::{Error, Result};

/// What a [`DnsChange`] does to its record's RRset.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChangeKind {
    /// Make the RRset hold exactly `values` with `ttl`, replacing every
    /// value it had (an UPSERT).
    Upsert {
        /// The TTL to publish.
        ttl: u32,
        /// The values the RRset will hold: at least one, all of the
        /// record's type, no duplicates.
        values: Vec<RecordValue>,
    },
    /// Remove the RRset. Removing one that does not exist succeeds.
    Delete,
}

/// One change of one record (name and type): an UPSERT of the RRset, or
/// its deletion.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DnsChange {
    key: RecordKey,
    kind: ChangeKind,
}

impl DnsChange {
    /// An UPSERT of `name` to the single address `value` with `ttl`; the
    /// record type follows the address family (an IPv4-mapped IPv6 address
    /// is stored as IPv4).
    pub fn upsert(name: Hostname, ttl: u32, value: IpAddr) -> Self {
        let value = RecordValue::from(value);
        Self {
            key: RecordKey::new(name, value.record_type()),
            kind: ChangeKind::Upsert {
                ttl,
                values: vec![value],
            },
        }
    }

    /// An UPSERT of the RRset of `key` to `values` with `ttl`.
    ///
    /// ```
    /// use ddns_core::{DnsChange, RecordKey, RecordName, RecordValue, TxtValue};
    /// let key = RecordKey::txt(RecordName::parse("_acme-challenge.h.example.com")?);
    /// let values = ["one", "two"].map(|t| TxtValue::new(t).map(RecordValue::from));
    /// let change = DnsChange::upsert_set(key, 60, values.into_iter().collect::<Result<_, _>>()?)?;
    /// assert_eq!(change.values().len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for no value or a value of another type than
    /// the key's. Duplicates are dropped.
    pub fn upsert_set(key: RecordKey, ttl: u32, values: Vec<RecordValue>) -> Result<Self> {
        let values = RecordValue::set_of(key.record_type(), values)
            .map_err(|e| Error::invalid_input(format!("{key}: {e}")))?;
        if values.is_empty() {
            return Err(Error::invalid_input(format!(
                "{key}: an RRset needs at least one value; delete it instead"
            )));
        }
        Ok(Self {
            key,
            kind: ChangeKind::Upsert { ttl, values },
        })
    }

    /// This change with its UPSERT publishing `ttl`; a deletion is kept as
    /// it is.
    #[must_use]
    pub fn with_ttl(mut self, ttl: u32) -> Self {
        if let ChangeKind::Upsert { ttl: old, .. } = &mut self.kind {
            *old = ttl;
        }
        self
    }

    /// The deletion of the RRset of `key` (its name and type).
    pub fn delete(key: RecordKey) -> Self {
        Self {
            key,
            kind: ChangeKind::Delete,
        }
    }

    /// The record's name.
    pub fn name(&self) -> &RecordName {
        self.key.name()
    }

    /// The record's type.
    pub fn record_type(&self) -> RecordType {
        self.key.record_type()
    }

    /// Name and type together.
    pub fn key(&self) -> &RecordKey {
        &self.key
    }

    /// What the change does.
    pub fn kind(&self) -> &ChangeKind {
        &self.kind
    }

    /// The values an UPSERT installs; empty for a deletion.
    pub fn values(&self) -> &[RecordValue] {
        match &self.kind {
            ChangeKind::Upsert { values, .. } => values,
            ChangeKind::Delete => &[],
        }
    }

    /// The TTL an UPSERT publishes; `None` for a deletion.
    pub fn ttl(&self) -> Option<u32> {
        match self.kind {
            ChangeKind::Upsert { ttl, .. } => Some(ttl),
            ChangeKind::Delete => None,
        }
    }
}

/// The result of applying one [`DnsChange`] of a batch.
pub type ChangeResult = Result<()>;

/// A DNS backend that can read, replace and delete the RRsets of A, AAAA
/// and TXT records.
///
/// Implementations must be safe to call concurrently; ordering between
/// concurrent calls is not guaranteed (the coalescer serialises its own).
#[async_trait]
pub trait DnsProvider: Send + Sync + Debug {
    /// The values the RRset of `key` currently holds, as the authoritative
    /// source sees them, in any order.
    ///
    /// A name or type that does not exist is `Ok(vec![])`, not an error.
    async fn current(&self, key: &RecordKey) -> Result<Vec<RecordValue>>;

    /// [`DnsProvider::current`] for several records at once: one result per
    /// key, in the same order.
    ///
    /// The default asks for each key in turn. Backends that can read many
    /// records in fewer calls (a zone listing, pipelined queries) should
    /// override it; the coalescer gathers concurrent reads into one call.
    async fn current_many(&self, keys: &[RecordKey]) -> Vec<Result<Vec<RecordValue>>> {
        let mut results = Vec::with_capacity(keys.len());
        for key in keys {
            results.push(self.current(key).await);
        }
        results
    }

    /// The most changes this backend applies in one call (one Route 53
    /// change batch, one UPDATE message). Callers that batch use it to split;
    /// [`DnsProvider::apply`] must still accept any number.
    fn max_batch_size(&self) -> usize;

    /// Applies `changes` in as few backend calls as the backend allows and
    /// returns one result per change, in the same order. An UPSERT leaves
    /// the RRset holding exactly its values; a deletion leaves no RRset of
    /// that name and type (and succeeds when there was none).
    ///
    /// When the backend can tell which change failed, only that change's
    /// result is an error. When a whole call fails, every change in it gets
    /// that error. A batch never holds two changes with the same name and
    /// type (callers split such batches); an implementation may reject one
    /// with [`Error::InvalidInput`]. A name outside the provider's zone is
    /// an error for that change, never a silent success.
    async fn apply(&self, changes: &[DnsChange]) -> Vec<ChangeResult>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_derives_the_type_and_canonicalises_mapped_addresses() {
        let name = Hostname::parse("h.example.com").unwrap();
        let change = DnsChange::upsert(name.clone(), 60, "::ffff:198.51.100.7".parse().unwrap());
        assert_eq!(change.record_type(), RecordType::A);
        assert_eq!(
            change.values(),
            [RecordValue::Address("198.51.100.7".parse().unwrap())]
        );
        let change6 = DnsChange::upsert(name.clone(), 30, "2001:db8::5".parse().unwrap());
        assert_eq!(change6.record_type(), RecordType::Aaaa);
        assert_eq!(
            change6.kind(),
            &ChangeKind::Upsert {
                ttl: 30,
                values: vec![RecordValue::Address("2001:db8::5".parse().unwrap())]
            }
        );
        let gone = DnsChange::delete(RecordKey::new(name.clone(), RecordType::Aaaa));
        assert_eq!(
            (gone.kind(), gone.values(), gone.ttl()),
            (&ChangeKind::Delete, &[][..], None)
        );
        let txt = RecordKey::txt(name.into());
        assert!(DnsChange::upsert_set(txt.clone(), 60, vec![]).is_err());
        assert!(DnsChange::upsert_set(txt, 60, vec![change.values()[0].clone()]).is_err());
    }
}
