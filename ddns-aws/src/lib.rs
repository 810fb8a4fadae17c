//! # ddns-aws
//!
//! The AWS adapters of ddns, a drop-in for the original serverless stacks:
//!
//! - [`DynamoDbStore`]: the [`RecordStore`](ddns_core::RecordStore) on the
//!   original's record table, exactly as it is laid out: the 2018
//!   `<stack>-config` table (key and attribute names and types, the
//!   `shared_secret-index`, the time format) or its rewrite's
//!   `hostname`-only table with `data` JSON ([`TableLayout`]), tolerant of
//!   what real tables contain; [`DynamoDbStore::survey`] reads a table for
//!   a migration.
//! - [`Route53Provider`]: the [`DnsProvider`](ddns_core::DnsProvider) on
//!   Route 53 hosted zones, batching UPSERTs 500 to a call, listing a zone
//!   for many reads, and pacing itself when throttled. Each record goes to
//!   the hosted zone its table item names ([`HostedZoneDirectory`], shared
//!   with the store) or the configured zone that holds it.
//!
//! Both builders take a region, the table or zone, an endpoint override
//! for local emulators (moto) or a ready SDK configuration (one for both
//! clients), or build from the environment with the original Lambda's
//! variables (`ddns_config_table`, `route_53_zone_id`,
//! `route_53_zone_name`).

mod directory;
mod dynamodb;
mod error;
mod item;
mod layout;
mod route53;

pub use directory::HostedZoneDirectory;
pub use dynamodb::{
    DEFAULT_STORE_BACKOFF, DynamoDbStore, DynamoDbStoreBuilder, ENV_TABLE, SECRET_INDEX,
    TableSurvey,
};
pub use layout::{ENV_TABLE_LAYOUT, TableLayout};
pub use route53::{
    Backoff, ENV_ZONE_ID, ENV_ZONE_NAME, MAX_CHANGES_PER_CALL, READ_RETRY_BUDGET, Route53Provider,
    Route53ProviderBuilder,
};

/// Where and how to reach AWS: the settings both builders share.
#[derive(Debug, Clone, Default)]
pub(crate) struct AwsSettings {
    /// The region, used when the configuration comes from the environment.
    pub(crate) region: Option<String>,
    /// An endpoint override (emulators), applied to any configuration.
    pub(crate) endpoint_url: Option<String>,
    /// A ready configuration to use instead of the environment's.
    pub(crate) sdk_config: Option<aws_config::SdkConfig>,
}

impl AwsSettings {
    /// The configuration to build a client from: the one given, or the
    /// environment's with the region applied; then the endpoint override.
    pub(crate) async fn load(self) -> aws_config::SdkConfig {
        let config = match self.sdk_config {
            Some(config) => config,
            None => {
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
                if let Some(region) = self.region {
                    loader = loader.region(aws_config::Region::new(region));
                }
                loader.load().await
            }
        };
        match self.endpoint_url {
            Some(url) => config.to_builder().endpoint_url(url).build(),
            None => config,
        }
    }
}
