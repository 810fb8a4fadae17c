//! [`ZoneRouter`]: one [`DnsProvider`] over several zones, each with its
//! own backend.
//!
//! A deployment may keep `example.com` in the embedded DNS and
//! `example.net` on a BIND primary. The router sends each read and change
//! to the provider of the longest zone that contains its name, and splits a
//! batch by zone, so every backend still gets one call per batch (one
//! UPDATE message per zone, one Route 53 change batch per hosted zone).
//! Backends are called concurrently. A name in no zone is an
//! [`Error::InvalidInput`] for that read or change alone.
//!
//! Wrap the router in [`crate::coalesce::CoalescingProvider`] (not the
//! other way round) so that concurrent changes to all zones are gathered
//! first and then split.

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::future::join_all;

use crate::domain::hostname::{Hostname, RecordName};
use crate::domain::record::RecordKey;
use crate::domain::value::RecordValue;
use crate::domain::zone::{Zone, Zones};
use crate::error::{Error, Result};
use crate::ports::batching::align_results;
use crate::ports::provider::{ChangeResult, DnsChange, DnsProvider};

/// Items grouped by route: each provider used, by index, with the
/// positions of its items in the caller's slice.
type Groups = Vec<(usize, Vec<usize>)>;

/// Items in no zone: their positions and errors.
type Unrouted = Vec<(usize, Error)>;

/// A [`DnsProvider`] that routes by zone to one provider per zone.
///
/// ```
/// use std::sync::Arc;
/// use ddns_core::memory::MemoryProvider;
/// use ddns_core::router::ZoneRouter;
/// use ddns_core::{DnsChange, DnsProvider, Hostname, RecordKey, RecordType};
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let (com, net) = (Arc::new(MemoryProvider::new()), Arc::new(MemoryProvider::new()));
/// let router = ZoneRouter::new([
///     (Hostname::parse("example.com")?, com.clone() as Arc<dyn DnsProvider>),
///     (Hostname::parse("example.net")?, net.clone() as Arc<dyn DnsProvider>),
/// ])?;
/// let host = Hostname::parse("home.example.net")?;
/// let results = router.apply(&[DnsChange::upsert(host.clone(), 60, "192.0.2.7".parse()?)]).await;
/// assert!(results[0].is_ok());
/// let key = RecordKey::new(host, RecordType::A);
/// assert_eq!(net.current(&key).await?.len(), 1);
/// assert!(com.current(&key).await?.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?; Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ZoneRouter {
    zones: Zones,
    /// One provider per zone, in the order of `zones.iter()`.
    providers: Vec<Arc<dyn DnsProvider>>,
}

impl ZoneRouter {
    /// A router over `routes`: each zone's apex and the provider that
    /// changes it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when `routes` is empty or names a zone twice.
    pub fn new(routes: impl IntoIterator<Item = (Hostname, Arc<dyn DnsProvider>)>) -> Result<Self> {
        let routes: Vec<(Hostname, Arc<dyn DnsProvider>)> = routes.into_iter().collect();
        let zones = Zones::new(routes.iter().map(|(name, _)| Zone::new(name.clone())))?;
        let providers = zones
            .iter()
            .filter_map(|zone| {
                routes
                    .iter()
                    .find(|(name, _)| name == zone.name())
                    .map(|(_, provider)| provider.clone())
            })
            .collect();
        Ok(Self { zones, providers })
    }

    /// The zones routed, longest first.
    pub fn zones(&self) -> &Zones {
        &self.zones
    }

    /// The provider of the zone `zone` (its apex), if routed.
    pub fn provider_of(&self, zone: &Hostname) -> Option<&Arc<dyn DnsProvider>> {
        self.zones
            .iter()
            .position(|z| z.name() == zone)
            .and_then(|i| self.providers.get(i))
    }

    /// The index of the provider for `name`.
    fn route(&self, name: &RecordName) -> Result<usize> {
        self.zones
            .position(name)
            .ok_or_else(|| self.zones.not_served(name))
    }

    /// Groups `items` by the provider their name routes to: for each
    /// provider used, its index and the positions of its items. Items in no
    /// zone get their error in `errors`.
    fn group<'a, T>(
        &self,
        items: &'a [T],
        name_of: impl Fn(&'a T) -> &'a RecordName,
    ) -> (Groups, Unrouted) {
        let mut groups: Groups = Vec::new();
        let mut errors = Vec::new();
        for (position, item) in items.iter().enumerate() {
            match self.route(name_of(item)) {
                Ok(route) => match groups.iter_mut().find(|(r, _)| *r == route) {
                    Some((_, positions)) => positions.push(position),
                    None => groups.push((route, vec![position])),
                },
                Err(e) => errors.push((position, e)),
            }
        }
        (groups, errors)
    }
}

/// Puts each group's results back at its items' positions.
fn scatter<R>(
    len: usize,
    groups: Groups,
    answers: Vec<Vec<Result<R>>>,
    errors: Unrouted,
) -> Vec<Result<R>> {
    let mut slots: Vec<Option<Result<R>>> = (0..len).map(|_| None).collect();
    for ((_, positions), answer) in groups.into_iter().zip(answers) {
        for (position, result) in positions.into_iter().zip(answer) {
            slots[position] = Some(result);
        }
    }
    for (position, error) in errors {
        slots[position] = Some(Err(error));
    }
    slots
        .into_iter()
        .map(|slot| {
            slot.unwrap_or_else(|| {
                Err(Error::unavailable(
                    "the zone's DNS provider returned too few results",
                    false,
                ))
            })
        })
        .collect()
}

#[async_trait]
impl DnsProvider for ZoneRouter {
    async fn current(&self, key: &RecordKey) -> Result<Vec<RecordValue>> {
        let route = self.route(key.name())?;
        self.providers[route].current(key).await
    }

    async fn current_many(&self, keys: &[RecordKey]) -> Vec<Result<Vec<RecordValue>>> {
        let (groups, errors) = self.group(keys, RecordKey::name);
        let answers = join_all(groups.iter().map(|(route, positions)| {
            let keys: Vec<RecordKey> = positions.iter().map(|&p| keys[p].clone()).collect();
            let provider = self.providers[*route].clone();
            async move { provider.current_many(&keys).await }
        }))
        .await;
        scatter(keys.len(), groups, answers, errors)
    }

    /// The largest of the zones' providers: every provider accepts any
    /// number of changes and splits them itself.
    fn max_batch_size(&self) -> usize {
        self.providers
            .iter()
            .map(|p| p.max_batch_size())
            .max()
            .unwrap_or(1)
    }

    async fn apply(&self, changes: &[DnsChange]) -> Vec<ChangeResult> {
        let (groups, errors) = self.group(changes, DnsChange::name);
        let answers = join_all(groups.iter().map(|(route, positions)| {
            let batch: Vec<DnsChange> = positions.iter().map(|&p| changes[p].clone()).collect();
            let provider = self.providers[*route].clone();
            async move {
                let results = provider.apply(&batch).await;
                align_results(&batch, results)
            }
        }))
        .await;
        scatter(changes.len(), groups, answers, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    use crate::adapters::memory::MemoryProvider;
    use crate::domain::record::RecordType;

    fn name(s: &str) -> Hostname {
        Hostname::parse(s).unwrap()
    }

    #[tokio::test]
    async fn a_batch_is_split_by_zone_and_answered_in_order() {
        let com = Arc::new(MemoryProvider::new());
        let lab = Arc::new(MemoryProvider::new());
        let router = ZoneRouter::new([
            (name("example.com"), com.clone() as Arc<dyn DnsProvider>),
            (name("lab.example.com"), lab.clone() as Arc<dyn DnsProvider>),
        ])
        .unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let changes = [
            DnsChange::upsert(name("a.example.com"), 60, ip),
            DnsChange::upsert(name("b.lab.example.com"), 60, ip),
            DnsChange::upsert(name("c.example.org"), 60, ip),
            DnsChange::upsert(name("d.example.com"), 60, ip),
        ];
        let results = router.apply(&changes).await;
        assert!(results[0].is_ok() && results[1].is_ok() && results[3].is_ok());
        let outside = results[2].as_ref().unwrap_err();
        assert!(matches!(outside, Error::InvalidInput { .. }), "{outside}");
        // One call per backend for the whole batch.
        assert_eq!(com.call_sizes().applies, vec![2]);
        assert_eq!(lab.call_sizes().applies, vec![1]);
        let keys: Vec<RecordKey> = ["b.lab.example.com", "nope.example.org", "a.example.com"]
            .into_iter()
            .map(|n| RecordKey::new(name(n), RecordType::A))
            .collect();
        let read = router.current_many(&keys).await;
        assert_eq!(read[0].as_ref().unwrap(), &[ip]);
        assert!(read[1].is_err());
        assert_eq!(read[2].as_ref().unwrap(), &[ip]);
        assert!(
            com.current(&RecordKey::new(name("b.lab.example.com"), RecordType::A))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(router.provider_of(&name("lab.example.com")).is_some());
        assert!(router.provider_of(&name("example.org")).is_none());
    }
}
