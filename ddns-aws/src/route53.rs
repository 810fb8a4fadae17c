//! [`Route53Provider`]: the `DnsProvider` on an Amazon Route 53 hosted zone.
//!
//! Reads use `ListResourceRecordSets` from the record's name and type;
//! writes are `UPSERT`s in `ChangeResourceRecordSets` batches. A batch holds
//! at most 1,000 elements and an UPSERT counts twice, so 500 changes go in
//! one call. Throttling and `PriorRequestNotComplete` are retried with
//! jittered exponential backoff (Route 53 allows about five calls per second
//! per account); everything else is reported at once.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use ddns_core::batching::apply_in_zone;
use ddns_core::{
    ChangeKind, ChangeResult, DnsChange, DnsProvider, Hostname, RecordKey, RecordName, RecordType,
    RecordValue,
};

use crate::error::AwsError;

const SERVICE: &str = "Route 53";

/// Changes per `ChangeResourceRecordSets` call: 1,000 elements, two per
/// UPSERT.
pub const MAX_CHANGES_PER_CALL: usize = 500;

/// Environment variables of the original Lambda.
pub const ENV_ZONE_ID: &str = "route_53_zone_id";
/// The zone's name (`example.com`).
pub const ENV_ZONE_NAME: &str = "route_53_zone_name";

/// How throttled calls are retried.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait before the first retry; it doubles each time, with jitter.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            attempts: 8,
            initial: Duration::from_millis(250),
            max: Duration::from_secs(8),
        }
    }
}

impl Backoff {
    /// The wait before retry number `retry` (1-based): full jitter over an
    /// exponentially growing cap.
    fn delay(&self, retry: u32) -> Duration {
        let cap = self
            .initial
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
            .min(self.max);
        let mut bytes = [0u8; 8];
        let _ = getrandom::fill(&mut bytes);
        let fraction = (u64::from_le_bytes(bytes) % 1000) as f64 / 1000.0;
        cap.mul_f64(0.5 + fraction / 2.0)
    }
}

/// Builds a [`Route53Provider`]; see [`Route53Provider::builder`].
#[derive(Debug, Clone, Default)]
pub struct Route53ProviderBuilder {
    zone_id: Option<String>,
    zone: Option<Hostname>,
    aws: crate::AwsSettings,
    backoff: Backoff,
}

impl Route53ProviderBuilder {
    /// The hosted zone id (`Z1FXLQ1OABKR4O`).
    #[must_use]
    pub fn with_zone_id(mut self, id: impl Into<String>) -> Self {
        self.zone_id = Some(id.into());
        self
    }

    /// The zone's name; changes outside it fail before any call.
    #[must_use]
    pub fn with_zone(mut self, zone: Hostname) -> Self {
        self.zone = Some(zone);
        self
    }

    /// The AWS region (Route 53 is global; this picks the endpoint region
    /// for signing, default from the environment).
    #[must_use]
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.aws.region = Some(region.into());
        self
    }

    /// An endpoint override, for local emulators.
    #[must_use]
    pub fn with_endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.aws.endpoint_url = Some(url.into());
        self
    }

    /// A ready AWS configuration to use instead of the environment's.
    #[must_use]
    pub fn with_sdk_config(mut self, config: aws_config::SdkConfig) -> Self {
        self.aws.sdk_config = Some(config);
        self
    }

    /// How throttled calls are retried.
    #[must_use]
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The provider.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] when the zone id or name is
    /// missing.
    pub async fn build(self) -> ddns_core::Result<Route53Provider> {
        let zone_id = self
            .zone_id
            .ok_or_else(|| ddns_core::Error::invalid_input("the Route 53 zone id is not set"))?;
        let zone = self
            .zone
            .ok_or_else(|| ddns_core::Error::invalid_input("the Route 53 zone name is not set"))?;
        let sdk = self.aws.load().await;
        let config = aws_sdk_route53::config::Builder::from(&sdk)
            // Throttling is retried here, with Route 53's own pacing.
            .retry_config(aws_sdk_route53::config::retry::RetryConfig::disabled());
        Ok(
            Route53Provider::from_client(Client::from_conf(config.build()), zone_id, zone)
                .with_backoff(self.backoff),
        )
    }
}

/// A [`DnsProvider`] on a Route 53 hosted zone.
#[derive(Debug, Clone)]
pub struct Route53Provider {
    client: Client,
    zone_id: String,
    zone: Hostname,
    backoff: Backoff,
    calls: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Route53Provider {
    /// A builder.
    pub fn builder() -> Route53ProviderBuilder {
        Route53ProviderBuilder::default()
    }

    /// A builder from the original Lambda's `route_53_zone_id` and
    /// `route_53_zone_name`.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] naming a missing or bad variable.
    pub fn from_env() -> ddns_core::Result<Route53ProviderBuilder> {
        let var = |n: &str| {
            std::env::var(n).map_err(|_| ddns_core::Error::invalid_input(format!("{n} is not set")))
        };
        let id = var(ENV_ZONE_ID)?;
        let name = var(ENV_ZONE_NAME)?;
        let zone = Hostname::parse(&name).map_err(|e| {
            ddns_core::Error::invalid_input(format!("{ENV_ZONE_NAME}={name:?}: {e}"))
        })?;
        let mut builder = Route53ProviderBuilder::default()
            .with_zone_id(id)
            .with_zone(zone);
        if let Ok(url) = std::env::var("DDNS_AWS_ENDPOINT_URL") {
            builder = builder.with_endpoint_url(url);
        }
        Ok(builder)
    }

    /// A provider on zone `zone_id` (named `zone`) through `client`.
    pub fn from_client(client: Client, zone_id: impl Into<String>, zone: Hostname) -> Self {
        let zone_id = zone_id.into();
        let zone_id = zone_id.trim_start_matches("/hostedzone/").to_owned();
        Self {
            client,
            zone_id,
            zone,
            backoff: Backoff::default(),
            calls: Default::default(),
        }
    }

    /// Sets how throttled calls are retried.
    #[must_use]
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// How many `ChangeResourceRecordSets` calls were made (retries
    /// included).
    pub fn change_calls(&self) -> u64 {
        self.calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn what(&self) -> String {
        format!("the hosted zone {}", self.zone_id)
    }

    /// Sends one batch, retrying throttling with backoff.
    async fn change(&self, changes: &[Change]) -> Result<(), AwsError> {
        let batch = change_batch(changes)?;
        let mut attempt = 1;
        loop {
            self.calls
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let result = self
                .client
                .change_resource_record_sets()
                .hosted_zone_id(&self.zone_id)
                .change_batch(batch.clone())
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(()),
                Err(e) => AwsError::from_sdk(SERVICE, "ChangeResourceRecordSets", &self.what(), &e),
            };
            if !error.is_throttling() || attempt >= self.backoff.attempts {
                return Err(error);
            }
            tokio::time::sleep(self.backoff.delay(attempt)).await;
            attempt += 1;
        }
    }

    /// The RRset of `name` and `record_type` as Route 53 holds it, if any.
    async fn rrset(
        &self,
        name: &RecordName,
        record_type: RecordType,
    ) -> Result<Option<ResourceRecordSet>, AwsError> {
        let wanted = rr_type(record_type);
        let output = self
            .client
            .list_resource_record_sets()
            .hosted_zone_id(&self.zone_id)
            .start_record_name(name.as_str())
            .start_record_type(wanted.clone())
            .max_items(1)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(SERVICE, "ListResourceRecordSets", &self.what(), &e))?;
        Ok(output
            .resource_record_sets()
            .iter()
            .find(|set| {
                set.r#type() == &wanted && unescape(set.name()).eq_ignore_ascii_case(name.as_str())
            })
            .cloned())
    }

    /// The Route 53 change for `change`: an UPSERT, or a DELETE of the RRset
    /// as it stands (Route 53 deletes only an exact match); `None` when
    /// there is nothing to delete.
    async fn prepare(&self, change: &DnsChange) -> Result<Option<Change>, AwsError> {
        let built = |e: aws_sdk_route53::error::BuildError| AwsError::BadItem(e.to_string());
        let (action, set) = match change.kind() {
            ChangeKind::Upsert { ttl, values } => {
                // A value's text is its presentation form: an address, or
                // a TXT value's quoted strings, as Route 53 wants them.
                let records = values
                    .iter()
                    .map(|value| ResourceRecord::builder().value(value.to_string()).build())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(built)?;
                let set = ResourceRecordSet::builder()
                    .name(change.name().as_str())
                    .r#type(rr_type(change.record_type()))
                    .ttl(i64::from(*ttl))
                    .set_resource_records(Some(records))
                    .build()
                    .map_err(built)?;
                (ChangeAction::Upsert, set)
            }
            ChangeKind::Delete => match self.rrset(change.name(), change.record_type()).await? {
                Some(set) => (ChangeAction::Delete, set),
                None => return Ok(None),
            },
            _ => {
                return Err(AwsError::BadItem(format!(
                    "{}: a kind of change this version cannot send",
                    change.name()
                )));
            }
        };
        Change::builder()
            .action(action)
            .resource_record_set(set)
            .build()
            .map(Some)
            .map_err(built)
    }

    /// Applies a chunk; a rejected batch is resent change by change so only
    /// the rejected changes fail.
    async fn apply_chunk(&self, changes: &[&DnsChange]) -> Vec<Result<(), AwsError>> {
        let mut results: Vec<Option<Result<(), AwsError>>> = vec![None; changes.len()];
        let mut prepared: Vec<(usize, Change)> = Vec::with_capacity(changes.len());
        for (i, change) in changes.iter().enumerate() {
            match self.prepare(change).await {
                Ok(Some(sent)) => prepared.push((i, sent)),
                Ok(None) => results[i] = Some(Ok(())),
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        if !prepared.is_empty() {
            let batch: Vec<Change> = prepared.iter().map(|(_, c)| c.clone()).collect();
            match self.change(&batch).await {
                Ok(()) => prepared
                    .iter()
                    .for_each(|(i, _)| results[*i] = Some(Ok(()))),
                Err(AwsError::Rejected { .. }) if prepared.len() > 1 => {
                    for (i, sent) in &prepared {
                        results[*i] = Some(self.change(std::slice::from_ref(sent)).await);
                    }
                }
                Err(e) => prepared
                    .iter()
                    .for_each(|(i, _)| results[*i] = Some(Err(e.clone()))),
            }
        }
        results.into_iter().map(|r| r.unwrap_or(Ok(()))).collect()
    }
}

fn rr_type(t: RecordType) -> RrType {
    RrType::from(t.as_str())
}

fn change_batch(changes: &[Change]) -> Result<ChangeBatch, AwsError> {
    ChangeBatch::builder()
        .set_changes(Some(changes.to_vec()))
        .comment("ddns")
        .build()
        .map_err(|e| AwsError::BadItem(e.to_string()))
}

/// Route 53 writes `*` and other specials as octal escapes (`\052`).
fn unescape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let digits: String = chars.by_ref().take(3).collect();
            match u8::from_str_radix(&digits, 8) {
                Ok(b) => out.push(char::from(b)),
                Err(_) => {
                    out.push('\\');
                    out.push_str(&digits);
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[async_trait]
impl DnsProvider for Route53Provider {
    async fn current(&self, key: &RecordKey) -> ddns_core::Result<Vec<RecordValue>> {
        let name = key.name();
        if !name.is_in_zone(&self.zone) {
            return Err(ddns_core::Error::invalid_input(format!(
                "{name} is not in the zone {}",
                self.zone
            )));
        }
        self.rrset(name, key.record_type())
            .await?
            .iter()
            .flat_map(|set| set.resource_records())
            .map(|r| {
                RecordValue::parse(key.record_type(), r.value()).map_err(|e| {
                    ddns_core::Error::unavailable(
                        format!("Route 53 holds a value at {key} that is not readable here ({e})"),
                        false,
                    )
                })
            })
            .collect()
    }

    fn max_batch_size(&self) -> usize {
        MAX_CHANGES_PER_CALL
    }

    async fn apply(&self, changes: &[DnsChange]) -> Vec<ChangeResult> {
        apply_in_zone(
            changes,
            &self.zone,
            MAX_CHANGES_PER_CALL,
            |batch| async move {
                self.apply_chunk(&batch)
                    .await
                    .into_iter()
                    .map(|r| r.map_err(Into::into))
                    .collect()
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_escapes_are_read() {
        assert_eq!(unescape("\\052.example.com."), "*.example.com.");
        assert_eq!(unescape("plain.example.com."), "plain.example.com.");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Backoff {
            attempts: 5,
            initial: Duration::from_millis(100),
            max: Duration::from_millis(300),
        };
        assert!(
            b.delay(1) <= Duration::from_millis(100) && b.delay(1) >= Duration::from_millis(50)
        );
        assert!(
            b.delay(2) <= Duration::from_millis(200) && b.delay(2) >= Duration::from_millis(100)
        );
        assert!(b.delay(10) <= Duration::from_millis(300));
    }
}
