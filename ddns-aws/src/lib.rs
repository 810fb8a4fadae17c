//! # ddns-aws
//!
//! The AWS adapters of ddns, a drop-in for the original serverless stack:
//!
//! - [`DynamoDbStore`]: the [`RecordStore`](ddns_core::RecordStore) on the
//!   original `<stack>-config` table, exactly as it is laid out (key and
//!   attribute names and types, the `shared_secret-index`, the time format),
//!   tolerant of what real tables contain.
//! - [`Route53Provider`]: the [`DnsProvider`](ddns_core::DnsProvider) on a
//!   Route 53 hosted zone, batching UPSERTs 500 to a call and pacing itself
//!   when throttled.
//!
//! Both builders take a region, the table or zone, and an endpoint override
//! for local emulators (moto), or build from the environment with the
//! original Lambda's variables (`ddns_config_table`, `route_53_zone_id`,
//! `route_53_zone_name`).

mod dynamodb;
mod error;
mod route53;

pub use dynamodb::{DynamoDbStore, DynamoDbStoreBuilder, ENV_TABLE, SECRET_INDEX};
pub use route53::{
    Backoff, ENV_ZONE_ID, ENV_ZONE_NAME, MAX_CHANGES_PER_CALL, Route53Provider,
    Route53ProviderBuilder,
};

/// The AWS configuration: the one given, or the environment's with the
/// region and endpoint overrides applied.
pub(crate) async fn sdk_config(
    given: Option<aws_config::SdkConfig>,
    region: Option<String>,
    endpoint_url: Option<String>,
) -> aws_config::SdkConfig {
    if let Some(config) = given {
        return config;
    }
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region));
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}
