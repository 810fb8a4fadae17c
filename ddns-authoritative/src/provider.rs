//! The `DnsProvider` of the embedded server: changes land in [`ZoneData`]
//! and are visible to the next query.

use std::sync::Arc;

use async_trait::async_trait;
use ddns_core::{
    ChangeResult, DnsChange, DnsProvider, Record, RecordKey, RecordStore, RecordValue,
};

use crate::data::ZoneData;

/// Changes per [`DnsProvider::apply`] call the provider reports; it accepts
/// any number.
const MAX_BATCH: usize = 1000;

/// A [`DnsProvider`] that serves its changes itself, through [`ZoneData`]
/// shared with a [`crate::DnsServer`].
///
/// It keeps no state of its own on disk: load it from the record store at
/// start ([`AuthoritativeProvider::load`]) and the store, which records every
/// address the system set, makes the zone survive restarts.
#[derive(Debug, Clone)]
pub struct AuthoritativeProvider {
    zone: Arc<ZoneData>,
}

impl AuthoritativeProvider {
    /// A provider changing `zone`.
    pub fn new(zone: Arc<ZoneData>) -> Self {
        Self { zone }
    }

    /// The zone this provider changes.
    pub fn zone(&self) -> &Arc<ZoneData> {
        &self.zone
    }

    /// Publishes the last values the system set for every record of
    /// `store` inside the zone, with the record's TTL (or `default_ttl`).
    /// Returns how many records were published.
    ///
    /// # Errors
    ///
    /// The store's error when it cannot be listed.
    pub async fn load(
        &self,
        store: &dyn RecordStore,
        default_ttl: u32,
    ) -> ddns_core::Result<usize> {
        Ok(self.publish(&store.list_all().await?, default_ttl))
    }

    /// Publishes the last values the system set for each of `records`
    /// inside the zone, with the record's TTL (or `default_ttl`), for a
    /// caller that has listed the store already. Returns how many records
    /// were published.
    pub fn publish(&self, records: &[Record], default_ttl: u32) -> usize {
        let origin = self.zone.config().origin();
        let changes: Vec<DnsChange> = records
            .iter()
            .filter(|r| r.key.name().is_in_zone(origin))
            .filter_map(|r| {
                // A record with no value has nothing to publish, and one
                // whose values do not fit its type is skipped.
                DnsChange::upsert_set(
                    r.key.clone(),
                    r.config.effective_ttl(default_ttl),
                    r.state.values.clone(),
                )
                .ok()
            })
            .collect();
        self.zone
            .apply(&changes)
            .into_iter()
            .filter(Result::is_ok)
            .count()
    }
}

#[async_trait]
impl DnsProvider for AuthoritativeProvider {
    async fn current(&self, key: &RecordKey) -> ddns_core::Result<Vec<RecordValue>> {
        Ok(self.zone.values(key))
    }

    fn max_batch_size(&self) -> usize {
        MAX_BATCH
    }

    async fn apply(&self, changes: &[DnsChange]) -> Vec<ChangeResult> {
        self.zone
            .apply(changes)
            .into_iter()
            .map(|r| r.map_err(Into::into))
            .collect()
    }
}
