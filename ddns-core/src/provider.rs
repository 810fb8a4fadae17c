//! The `DnsProvider` port: what actually changes DNS.
//!
//! Implementations: [`crate::memory::MemoryProvider`] here; Route 53,
//! RFC 2136 and the embedded authoritative server in their own crates. Wrap
//! any of them in [`crate::coalesce::CoalescingProvider`] to merge concurrent
//! changes into batches. Every implementation runs the shared conformance
//! suite (`ddns_core::conformance::provider`, feature `conformance`).

use std::collections::HashSet;
use std::fmt::Debug;
use std::net::IpAddr;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::hostname::{Hostname, RecordName};
use crate::record::{RecordKey, RecordType};
use crate::value::RecordValue;

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

/// [`DnsProvider::current`] answered through [`DnsProvider::current_many`],
/// for providers whose batch read is their primary read.
pub async fn current_via_many<P: DnsProvider + ?Sized>(
    provider: &P,
    key: &RecordKey,
) -> Result<Vec<RecordValue>> {
    provider
        .current_many(std::slice::from_ref(key))
        .await
        .pop()
        .unwrap_or_else(|| {
            Err(Error::unavailable(
                "the DNS provider returned no answer for the read",
                false,
            ))
        })
}

/// The shared skeleton of a zone-bound provider's [`DnsProvider::apply`]:
/// changes outside `zone` fail with [`Error::InvalidInput`] without being
/// sent; the others go to `send` in chunks from [`split_batches`] (at most
/// `max`, no record twice), one chunk at a time, in order. `send` returns
/// one result per change of its chunk.
///
/// ```
/// use ddns_core::provider::apply_in_zone;
/// use ddns_core::{DnsChange, Hostname};
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let zone = Hostname::parse("example.com")?;
/// let changes = [
///     DnsChange::upsert(Hostname::parse("a.example.com")?, 60, "192.0.2.1".parse()?),
///     DnsChange::upsert(Hostname::parse("b.example.org")?, 60, "192.0.2.2".parse()?),
/// ];
/// let results = apply_in_zone(&changes, &zone, 500, |chunk| async move {
///     chunk.iter().map(|_| Ok(())).collect()
/// })
/// .await;
/// assert!(results[0].is_ok() && results[1].is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?; Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn apply_in_zone<'a, F, Fut>(
    changes: &'a [DnsChange],
    zone: &Hostname,
    max: usize,
    mut send: F,
) -> Vec<ChangeResult>
where
    F: FnMut(Vec<&'a DnsChange>) -> Fut,
    Fut: std::future::Future<Output = Vec<ChangeResult>>,
{
    let mut results: Vec<Option<ChangeResult>> = vec![None; changes.len()];
    let mut inside = Vec::new();
    for (i, change) in changes.iter().enumerate() {
        if change.name().is_in_zone(zone) {
            inside.push(i);
        } else {
            results[i] = Some(Err(Error::invalid_input(format!(
                "{} is not in the zone {zone}; this provider only changes names in its zone",
                change.name()
            ))));
        }
    }
    let in_zone: Vec<DnsChange> = inside.iter().map(|&i| changes[i].clone()).collect();
    for chunk in split_batches(&in_zone, max) {
        let batch: Vec<&'a DnsChange> = chunk.iter().map(|&i| &changes[inside[i]]).collect();
        let mut outcome = send(batch).await;
        outcome.truncate(chunk.len());
        outcome.resize_with(chunk.len(), || {
            Err(Error::unavailable(
                "the DNS provider returned too few results",
                false,
            ))
        });
        for (&i, result) in chunk.iter().zip(outcome) {
            results[inside[i]] = Some(result);
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::unavailable("the change was not sent", false))))
        .collect()
}

/// Checks that `results` has one entry per change, filling a short answer
/// with errors and dropping extras, so a provider that miscounts cannot make
/// a caller wait for ever or take another caller's result.
pub fn align_results(changes: &[DnsChange], mut results: Vec<ChangeResult>) -> Vec<ChangeResult> {
    let expected = changes.len();
    if results.len() != expected {
        let got = results.len();
        results.truncate(expected);
        while results.len() < expected {
            results.push(Err(Error::unavailable(
                format!("the DNS provider answered {got} results for {expected} changes"),
                false,
            )));
        }
    }
    results
}

/// Splits `changes` into chunks of at most `max` (at least one) changes in
/// which no name and type appears twice, keeping the order of the changes;
/// each chunk is a list of indexes into `changes`.
///
/// A later change to the same record goes into a later chunk, so applying
/// the chunks in order applies the changes in order.
///
/// ```
/// use ddns_core::{provider::split_batches, DnsChange, Hostname};
/// let a = Hostname::parse("a.example.com")?;
/// let b = Hostname::parse("b.example.com")?;
/// let ip = "192.0.2.1".parse()?;
/// let changes = [
///     DnsChange::upsert(a.clone(), 60, ip),
///     DnsChange::upsert(a, 60, ip),
///     DnsChange::upsert(b, 60, ip),
/// ];
/// assert_eq!(split_batches(&changes, 10), vec![vec![0], vec![1, 2]]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn split_batches(changes: &[DnsChange], max: usize) -> Vec<Vec<usize>> {
    let max = max.max(1);
    let mut chunks = Vec::new();
    let mut chunk: Vec<usize> = Vec::new();
    let mut keys = HashSet::new();
    for (index, change) in changes.iter().enumerate() {
        if chunk.len() >= max || keys.contains(change.key()) {
            chunks.push(std::mem::take(&mut chunk));
            keys.clear();
        }
        keys.insert(change.key());
        chunk.push(index);
    }
    if !chunk.is_empty() {
        chunks.push(chunk);
    }
    chunks
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

    #[test]
    fn align_results_pads_and_truncates() {
        let name = Hostname::parse("h.example.com").unwrap();
        let changes = vec![
            DnsChange::upsert(name.clone(), 60, "192.0.2.1".parse().unwrap()),
            DnsChange::upsert(name, 60, "2001:db8::1".parse().unwrap()),
        ];
        let short = align_results(&changes, vec![Ok(())]);
        assert_eq!(short.len(), 2);
        assert!(short[0].is_ok());
        assert!(short[1].is_err());
        let long = align_results(&changes, vec![Ok(()), Ok(()), Ok(())]);
        assert_eq!(long.len(), 2);
    }

    #[test]
    fn split_batches_respects_size_and_duplicates() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let names: Vec<Hostname> = (0..5)
            .map(|i| Hostname::parse(&format!("h{i}.example.com")).unwrap())
            .collect();
        let changes: Vec<DnsChange> = names
            .iter()
            .map(|n| DnsChange::upsert(n.clone(), 60, ip))
            .collect();
        assert_eq!(
            split_batches(&changes, 2),
            vec![vec![0, 1], vec![2, 3], vec![4]]
        );
        assert_eq!(split_batches(&changes, 0).len(), 5);
        assert!(split_batches(&[], 10).is_empty());
        let dup = vec![changes[0].clone(), changes[1].clone(), changes[0].clone()];
        assert_eq!(split_batches(&dup, 10), vec![vec![0, 1], vec![2]]);
        // Same name, other type: no clash.
        let v6 = DnsChange::upsert(names[0].clone(), 60, "2001:db8::1".parse().unwrap());
        assert_eq!(
            split_batches(&[changes[0].clone(), v6], 10),
            vec![vec![0, 1]]
        );
    }
}
