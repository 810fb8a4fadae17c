//! The AWS backends made on first use: a cold start answers a request that
//! needs no backend (`mode=get`, `execution_mode: get`) without loading
//! the AWS configuration, whose first load costs the process several
//! milliseconds (credentials, TLS). The first request that reads the table
//! builds the store and the provider together, from one configuration.

use std::sync::Arc;

use async_trait::async_trait;
use ddns_aws::{DynamoDbStore, DynamoDbStoreBuilder, MAX_CHANGES_PER_CALL, Route53Provider};
use ddns_core::{
    AccessUpdate, ChangeResult, ChangeUpdate, DnsChange, DnsProvider, GroupMember, Hostname,
    ListCursor, Record, RecordConfig, RecordKey, RecordPage, RecordStore, RecordValue,
    SharedSecret,
};
use tokio::sync::OnceCell;

use crate::{HostedZone, provider_for, sdk_config_from_env};

/// The store and the provider, built once, on first use.
#[derive(Debug)]
pub(crate) struct Backends {
    store: DynamoDbStoreBuilder,
    zones: Vec<HostedZone>,
    built: OnceCell<(DynamoDbStore, Route53Provider)>,
}

impl Backends {
    /// Backends that `store` (its layout given) and `zones` describe.
    pub(crate) fn new(store: DynamoDbStoreBuilder, zones: Vec<HostedZone>) -> Arc<Self> {
        Arc::new(Self {
            store,
            zones,
            built: OnceCell::new(),
        })
    }

    async fn get(&self) -> ddns_core::Result<&(DynamoDbStore, Route53Provider)> {
        self.built
            .get_or_try_init(|| async {
                let sdk = sdk_config_from_env().await;
                let store = self
                    .store
                    .clone()
                    .with_sdk_config(sdk.clone())
                    .build()
                    .await?;
                let provider = provider_for(&self.zones, store.zone_directory(), sdk).await?;
                Ok((store, provider))
            })
            .await
    }

    async fn store(&self) -> ddns_core::Result<&DynamoDbStore> {
        Ok(&self.get().await?.0)
    }

    async fn provider(&self) -> ddns_core::Result<&Route53Provider> {
        Ok(&self.get().await?.1)
    }
}

/// The [`RecordStore`] of [`Backends`].
#[derive(Debug, Clone)]
pub(crate) struct LazyStore(pub(crate) Arc<Backends>);

#[async_trait]
impl RecordStore for LazyStore {
    async fn get(&self, key: &RecordKey) -> ddns_core::Result<Option<Record>> {
        self.0.store().await?.get(key).await
    }

    async fn get_spelled(
        &self,
        key: &RecordKey,
        spelling: &str,
    ) -> ddns_core::Result<Option<Record>> {
        self.0.store().await?.get_spelled(key, spelling).await
    }

    async fn discovery_group(&self, secret: &SharedSecret) -> ddns_core::Result<Vec<GroupMember>> {
        self.0.store().await?.discovery_group(secret).await
    }

    async fn record_access(&self, key: &RecordKey, access: AccessUpdate) -> ddns_core::Result<()> {
        self.0.store().await?.record_access(key, access).await
    }

    async fn record_change(
        &self,
        key: &RecordKey,
        change: ChangeUpdate,
    ) -> ddns_core::Result<bool> {
        self.0.store().await?.record_change(key, change).await
    }

    async fn record_access_many(
        &self,
        updates: &[(RecordKey, AccessUpdate)],
    ) -> ddns_core::Result<()> {
        self.0.store().await?.record_access_many(updates).await
    }

    async fn advance_replay_guard(
        &self,
        key: &RecordKey,
        timestamp: u64,
    ) -> ddns_core::Result<bool> {
        self.0
            .store()
            .await?
            .advance_replay_guard(key, timestamp)
            .await
    }

    async fn create(&self, record: &Record) -> ddns_core::Result<()> {
        self.0.store().await?.create(record).await
    }

    async fn update_config(&self, key: &RecordKey, config: &RecordConfig) -> ddns_core::Result<()> {
        self.0.store().await?.update_config(key, config).await
    }

    async fn delete(&self, key: &RecordKey) -> ddns_core::Result<()> {
        self.0.store().await?.delete(key).await
    }

    async fn list_page(&self, cursor: Option<ListCursor>) -> ddns_core::Result<RecordPage> {
        self.0.store().await?.list_page(cursor).await
    }

    async fn followers(&self, source: &Hostname) -> ddns_core::Result<Vec<Record>> {
        self.0.store().await?.followers(source).await
    }
}

/// The [`DnsProvider`] of [`Backends`].
#[derive(Debug, Clone)]
pub(crate) struct LazyProvider(pub(crate) Arc<Backends>);

#[async_trait]
impl DnsProvider for LazyProvider {
    async fn current(&self, key: &RecordKey) -> ddns_core::Result<Vec<RecordValue>> {
        self.0.provider().await?.current(key).await
    }

    async fn current_many(&self, keys: &[RecordKey]) -> Vec<ddns_core::Result<Vec<RecordValue>>> {
        match self.0.provider().await {
            Ok(provider) => provider.current_many(keys).await,
            Err(e) => keys.iter().map(|_| Err(e.clone())).collect(),
        }
    }

    fn max_batch_size(&self) -> usize {
        MAX_CHANGES_PER_CALL
    }

    async fn apply(&self, changes: &[DnsChange]) -> Vec<ChangeResult> {
        match self.0.provider().await {
            Ok(provider) => provider.apply(changes).await,
            Err(e) => changes.iter().map(|_| Err(e.clone())).collect(),
        }
    }
}
