//! Helpers for writing a [`DnsProvider`]: answering single reads through
//! the batch read, the skeleton of a zone-bound `apply`, and splitting
//! batches so no record appears twice in one backend call.

use std::collections::HashSet;

use crate::domain::hostname::Hostname;
use crate::domain::record::RecordKey;
use crate::domain::value::RecordValue;
use crate::error::{Error, Result};
use crate::ports::provider::{ChangeResult, DnsChange, DnsProvider};

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
/// use ddns_core::batching::apply_in_zone;
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
/// use ddns_core::{batching::split_batches, DnsChange, Hostname};
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
    use crate::domain::hostname::Hostname;
    use std::net::IpAddr;

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
