//! [`Route53Provider`]: the `DnsProvider` on Amazon Route 53 hosted zones.
//!
//! Each record goes to its hosted zone: the one its table item names
//! (through a shared [`HostedZoneDirectory`]), else the configured zone
//! that contains its name.
//!
//! A read of one record is `ListResourceRecordSets` from its name and
//! type; a read of many records in one zone ([`DnsProvider::current_many`])
//! lists the zone instead, page by page (300 record sets a call), while
//! that takes fewer calls than one per record, and reads the rest one by
//! one. Writes are `UPSERT`s in `ChangeResourceRecordSets` batches: a batch
//! holds at most 1,000 elements and an UPSERT counts twice, so 500 changes
//! go in one call. Throttling and `PriorRequestNotComplete` are retried
//! with jittered exponential backoff (Route 53 allows about five calls per
//! second per account), reads within [`READ_RETRY_BUDGET`] so that the
//! request waiting on them is still answered in time; everything else is
//! reported at once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use ddns_core::batching::split_batches;
use ddns_core::{
    ChangeKind, ChangeResult, DnsChange, DnsProvider, Hostname, RecordKey, RecordName, RecordType,
    RecordValue,
};

use crate::directory::HostedZoneDirectory;
use crate::error::AwsError;

const SERVICE: &str = "Route 53";

/// Changes per `ChangeResourceRecordSets` call: 1,000 elements, two per
/// UPSERT.
pub const MAX_CHANGES_PER_CALL: usize = 500;

/// Record sets per `ListResourceRecordSets` page when listing a zone (the
/// API's most).
const LISTING_PAGE: i32 = 300;

/// How long a throttled read keeps being retried: well inside the
/// provider timeout of the Lambda (7 s) and the server (10 s).
pub const READ_RETRY_BUDGET: Duration = Duration::from_secs(4);

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
    more_zones: Vec<(Hostname, String)>,
    directory: Option<HostedZoneDirectory>,
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

    /// The zone's name; changes outside every zone the provider knows
    /// fail before any call.
    #[must_use]
    pub fn with_zone(mut self, zone: Hostname) -> Self {
        self.zone = Some(zone);
        self
    }

    /// One more hosted zone, `id`, named `zone`.
    #[must_use]
    pub fn with_hosted_zone(mut self, zone: Hostname, id: impl Into<String>) -> Self {
        self.more_zones.push((zone, id.into()));
        self
    }

    /// Sends each record whose table item names a hosted zone to that zone,
    /// as `directory` (shared with the [`crate::DynamoDbStore`]) says.
    #[must_use]
    pub fn with_zone_directory(mut self, directory: HostedZoneDirectory) -> Self {
        self.directory = Some(directory);
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
    /// [`ddns_core::Error::InvalidInput`] when a zone id is given without
    /// its name or the other way round, or no zone and no directory is.
    pub async fn build(self) -> ddns_core::Result<Route53Provider> {
        let mut zones = match (self.zone_id, self.zone) {
            (Some(id), Some(zone)) => vec![(zone, id)],
            (None, None) => Vec::new(),
            (Some(_), None) => {
                return Err(ddns_core::Error::invalid_input(
                    "the Route 53 zone name is not set",
                ));
            }
            (None, Some(_)) => {
                return Err(ddns_core::Error::invalid_input(
                    "the Route 53 zone id is not set",
                ));
            }
        };
        zones.extend(self.more_zones);
        if zones.is_empty() && self.directory.is_none() {
            return Err(ddns_core::Error::invalid_input(
                "the Route 53 zone id is not set (and no record table names hosted zones)",
            ));
        }
        let sdk = self.aws.load().await;
        let config = aws_sdk_route53::config::Builder::from(&sdk)
            // Throttling is retried here, with Route 53's own pacing.
            .retry_config(aws_sdk_route53::config::retry::RetryConfig::disabled());
        let mut provider = Route53Provider::over_zones(Client::from_conf(config.build()), zones)
            .with_backoff(self.backoff);
        provider.directory = self.directory;
        Ok(provider)
    }
}

/// A [`DnsProvider`] on Route 53 hosted zones.
#[derive(Debug, Clone)]
pub struct Route53Provider {
    client: Client,
    /// The configured zones and their ids.
    zones: Vec<(Hostname, String)>,
    directory: Option<HostedZoneDirectory>,
    backoff: Backoff,
    calls: std::sync::Arc<std::sync::atomic::AtomicU64>,
    reads: std::sync::Arc<std::sync::atomic::AtomicU64>,
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
        Self::over_zones(client, vec![(zone, zone_id.into())])
    }

    fn over_zones(client: Client, zones: Vec<(Hostname, String)>) -> Self {
        let zones = zones
            .into_iter()
            .map(|(zone, id)| (zone, id.trim_start_matches("/hostedzone/").to_owned()))
            .collect();
        Self {
            client,
            zones,
            directory: None,
            backoff: Backoff::default(),
            calls: Default::default(),
            reads: Default::default(),
        }
    }

    /// The hosted zone of `name`: the one its item names, else the
    /// innermost configured zone containing it.
    fn zone_id_of(&self, name: &RecordName) -> ddns_core::Result<String> {
        if let Some(id) = self.directory.as_ref().and_then(|d| d.zone_of(name)) {
            return Ok(id);
        }
        self.zones
            .iter()
            .filter(|(zone, _)| name.is_in_zone(zone))
            .max_by_key(|(zone, _)| zone.label_count())
            .map(|(_, id)| id.clone())
            .ok_or_else(|| {
                let zones: Vec<&str> = self.zones.iter().map(|(z, _)| z.as_str()).collect();
                ddns_core::Error::invalid_input(format!(
                    "{name} is in no hosted zone this provider knows (zones: {zones:?}); its table item names no route_53_zone_id"
                ))
            })
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

    /// How many `ListResourceRecordSets` calls were made (retries
    /// included).
    pub fn read_calls(&self) -> u64 {
        self.reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs `call` (named `operation`, on `zone_id`), retrying throttling
    /// with backoff: as many attempts as the backoff allows, and for a
    /// read no longer than [`READ_RETRY_BUDGET`].
    async fn retrying<T, E, F, Fut>(
        &self,
        operation: &'static str,
        zone_id: &str,
        mut call: F,
    ) -> Result<T, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, aws_sdk_route53::error::SdkError<E>>>,
        E: aws_sdk_route53::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let read = operation == "ListResourceRecordSets";
        let counter = if read { &self.reads } else { &self.calls };
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let error = match call().await {
                Ok(output) => return Ok(output),
                Err(e) => AwsError::from_sdk(SERVICE, operation, &what(zone_id), &e),
            };
            let delay = self.backoff.delay(attempt);
            let late = read && started.elapsed() + delay > READ_RETRY_BUDGET;
            if !error.is_throttling() || attempt >= self.backoff.attempts || late {
                return Err(error);
            }
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Sends one batch to `zone_id`, retrying throttling with backoff.
    async fn change(&self, zone_id: &str, changes: &[Change]) -> Result<(), AwsError> {
        let batch = change_batch(changes)?;
        self.retrying("ChangeResourceRecordSets", zone_id, || {
            self.client
                .change_resource_record_sets()
                .hosted_zone_id(zone_id)
                .change_batch(batch.clone())
                .send()
        })
        .await
        .map(|_| ())
    }

    /// The RRset of `name` and `record_type` in `zone_id` as Route 53
    /// holds it, if any.
    async fn rrset(
        &self,
        zone_id: &str,
        name: &RecordName,
        record_type: RecordType,
    ) -> Result<Option<ResourceRecordSet>, AwsError> {
        let wanted = rr_type(record_type);
        let output = self
            .retrying("ListResourceRecordSets", zone_id, || {
                self.client
                    .list_resource_record_sets()
                    .hosted_zone_id(zone_id)
                    .start_record_name(name.as_str())
                    .start_record_type(wanted.clone())
                    .max_items(1)
                    .send()
            })
            .await?;
        Ok(output
            .resource_record_sets()
            .iter()
            .find(|set| {
                set.r#type() == &wanted && unescape(set.name()).eq_ignore_ascii_case(name.as_str())
            })
            .cloned())
    }

    /// Lists `zone_id` from its start for the RRsets of `keys`, in at most
    /// `max_pages` calls. Returns what it found, and whether the listing
    /// reached the zone's end (so that a key not found has no RRset).
    async fn listed(
        &self,
        zone_id: &str,
        keys: &[&RecordKey],
        max_pages: usize,
    ) -> Result<(HashMap<RecordKey, ResourceRecordSet>, bool), AwsError> {
        let wanted: HashMap<(String, &str), &RecordKey> = keys
            .iter()
            .map(|k| ((k.name().as_str().to_owned(), k.record_type().as_str()), *k))
            .collect();
        let mut found = HashMap::new();
        let mut start: Option<(String, RrType, Option<String>)> = None;
        for _ in 0..max_pages {
            let output = self
                .retrying("ListResourceRecordSets", zone_id, || {
                    let mut request = self
                        .client
                        .list_resource_record_sets()
                        .hosted_zone_id(zone_id)
                        .max_items(LISTING_PAGE);
                    if let Some((name, rr, identifier)) = &start {
                        request = request
                            .start_record_name(name)
                            .start_record_type(rr.clone())
                            .set_start_record_identifier(identifier.clone());
                    }
                    request.send()
                })
                .await?;
            for set in output.resource_record_sets() {
                let name = unescape(set.name()).to_ascii_lowercase();
                if let Some(key) = wanted.get(&(name, set.r#type().as_str())) {
                    found.insert((*key).clone(), set.clone());
                }
            }
            match (
                output.is_truncated(),
                output.next_record_name(),
                output.next_record_type(),
            ) {
                (true, Some(name), Some(rr)) => {
                    let identifier = output.next_record_identifier().map(str::to_owned);
                    start = Some((name.to_owned(), rr.clone(), identifier));
                }
                _ => return Ok((found, true)),
            }
            if found.len() == wanted.len() {
                break;
            }
        }
        Ok((found, false))
    }

    /// The Route 53 change for `change`: an UPSERT, or a DELETE of the RRset
    /// as it stands (Route 53 deletes only an exact match); `None` when
    /// there is nothing to delete.
    async fn prepare(&self, zone_id: &str, change: &DnsChange) -> Result<Option<Change>, AwsError> {
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
            ChangeKind::Delete => match self
                .rrset(zone_id, change.name(), change.record_type())
                .await?
            {
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
    async fn apply_chunk(
        &self,
        zone_id: &str,
        changes: &[&DnsChange],
    ) -> Vec<Result<(), AwsError>> {
        let mut results: Vec<Option<Result<(), AwsError>>> = vec![None; changes.len()];
        let mut prepared: Vec<(usize, Change)> = Vec::with_capacity(changes.len());
        for (i, change) in changes.iter().enumerate() {
            match self.prepare(zone_id, change).await {
                Ok(Some(sent)) => prepared.push((i, sent)),
                Ok(None) => results[i] = Some(Ok(())),
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        if !prepared.is_empty() {
            let batch: Vec<Change> = prepared.iter().map(|(_, c)| c.clone()).collect();
            match self.change(zone_id, &batch).await {
                Ok(()) => prepared
                    .iter()
                    .for_each(|(i, _)| results[*i] = Some(Ok(()))),
                Err(AwsError::Rejected { .. }) if prepared.len() > 1 => {
                    for (i, sent) in &prepared {
                        results[*i] = Some(self.change(zone_id, std::slice::from_ref(sent)).await);
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

fn what(zone_id: &str) -> String {
    format!("the hosted zone {zone_id}")
}

/// The values of `set` as records of `key`.
fn values_of(
    key: &RecordKey,
    set: Option<&ResourceRecordSet>,
) -> ddns_core::Result<Vec<RecordValue>> {
    set.iter()
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

/// A hosted zone id and the indices of the items that go to it.
type ZoneGroup = (String, Vec<usize>);

/// The indices of `items` grouped by the hosted zone `zone_of` gives each,
/// in first-seen order; the failures of those it gives none.
fn by_zone<T>(
    items: &[T],
    zone_of: impl Fn(&T) -> ddns_core::Result<String>,
) -> (Vec<ZoneGroup>, Vec<(usize, ddns_core::Error)>) {
    let mut groups: Vec<ZoneGroup> = Vec::new();
    let mut failed = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match zone_of(item) {
            Ok(zone_id) => match groups.iter_mut().find(|(id, _)| *id == zone_id) {
                Some((_, members)) => members.push(i),
                None => groups.push((zone_id, vec![i])),
            },
            Err(e) => failed.push((i, e)),
        }
    }
    (groups, failed)
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
        let zone_id = self.zone_id_of(key.name())?;
        let set = self.rrset(&zone_id, key.name(), key.record_type()).await?;
        values_of(key, set.as_ref())
    }

    async fn current_many(&self, keys: &[RecordKey]) -> Vec<ddns_core::Result<Vec<RecordValue>>> {
        let mut results: Vec<Option<ddns_core::Result<Vec<RecordValue>>>> = vec![None; keys.len()];
        let (groups, failed) = by_zone(keys, |key| self.zone_id_of(key.name()));
        for (i, error) in failed {
            results[i] = Some(Err(error));
        }
        for (zone_id, members) in groups {
            // A listing pays when it takes fewer calls than one per record:
            // at most half as many pages as records, then one by one.
            let max_pages = members.len() / 2;
            let mut listed = HashMap::new();
            let mut complete = false;
            if max_pages > 0 {
                let wanted: Vec<&RecordKey> = members.iter().map(|&i| &keys[i]).collect();
                match self.listed(&zone_id, &wanted, max_pages).await {
                    Ok((found, reached_end)) => (listed, complete) = (found, reached_end),
                    Err(e) => {
                        let error: ddns_core::Error = e.into();
                        for &i in &members {
                            results[i] = Some(Err(error.clone()));
                        }
                        continue;
                    }
                }
            }
            for &i in &members {
                let key = &keys[i];
                results[i] = Some(match listed.get(key) {
                    Some(set) => values_of(key, Some(set)),
                    None if complete => Ok(Vec::new()),
                    None => match self.rrset(&zone_id, key.name(), key.record_type()).await {
                        Ok(set) => values_of(key, set.as_ref()),
                        Err(e) => Err(e.into()),
                    },
                });
            }
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(ddns_core::Error::unavailable(
                        "the read was not made",
                        false,
                    ))
                })
            })
            .collect()
    }

    fn max_batch_size(&self) -> usize {
        MAX_CHANGES_PER_CALL
    }

    async fn apply(&self, changes: &[DnsChange]) -> Vec<ChangeResult> {
        let mut results: Vec<Option<ChangeResult>> = vec![None; changes.len()];
        let (groups, failed) = by_zone(changes, |change| self.zone_id_of(change.name()));
        for (i, error) in failed {
            results[i] = Some(Err(error));
        }
        for (zone_id, members) in groups {
            let in_zone: Vec<DnsChange> = members.iter().map(|&i| changes[i].clone()).collect();
            for chunk in split_batches(&in_zone, MAX_CHANGES_PER_CALL) {
                let batch: Vec<&DnsChange> = chunk.iter().map(|&c| &changes[members[c]]).collect();
                let outcome = self.apply_chunk(&zone_id, &batch).await;
                for (&c, result) in chunk.iter().zip(outcome) {
                    results[members[c]] = Some(result.map_err(Into::into));
                }
            }
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(ddns_core::Error::unavailable(
                        "the change was not sent",
                        false,
                    ))
                })
            })
            .collect()
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
