//! Prometheus metrics, served on `/metrics` in the text format.
//!
//! - `ddns_requests_total{mode, outcome}`: seed API requests by mode and
//!   outcome (`success`, or the kind of failure);
//! - `ddns_dns_changes_total`: DNS changes applied;
//! - `ddns_dns_batches_total`: calls that changed DNS through a backend
//!   (one per batch: a prefix report moving 50 hosts counts one);
//! - `ddns_backend_errors_total{backend}`: store and DNS failures;
//! - `ddns_request_duration_seconds{mode}`: latency histogram.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ddns_core::{ChangeResult, DnsChange, DnsProvider, RecordKey, RecordValue};

use ddns_core::Backend;
use ddns_core::Failure;
use ddns_core::protocols::dyndns2::Dyndns2Answer;
use ddns_core::protocols::endpoint::EndpointAnswer;
use ddns_core::protocols::seed::{Mode, SeedAnswer};
use ddns_core::protocols::upstream::UpstreamMode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    mode: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModeLabels {
    mode: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendLabels {
    backend: &'static str,
}

type Latency = Family<ModeLabels, Histogram, fn() -> Histogram>;

/// A provider that counts the calls sending it changes.
#[derive(Debug)]
struct CountingProvider {
    inner: Arc<dyn DnsProvider>,
    batches: Counter,
}

#[async_trait]
impl DnsProvider for CountingProvider {
    async fn current(&self, key: &RecordKey) -> ddns_core::Result<Vec<RecordValue>> {
        self.inner.current(key).await
    }

    async fn current_many(&self, keys: &[RecordKey]) -> Vec<ddns_core::Result<Vec<RecordValue>>> {
        self.inner.current_many(keys).await
    }

    fn max_batch_size(&self) -> usize {
        self.inner.max_batch_size()
    }

    async fn apply(&self, changes: &[DnsChange]) -> Vec<ChangeResult> {
        if !changes.is_empty() {
            self.batches.inc();
        }
        self.inner.apply(changes).await
    }
}

/// The server's metrics and their registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    dns_changes: Counter,
    dns_batches: Counter,
    backend_errors: Family<BackendLabels, Counter>,
    latency: Latency,
}

fn latency_histogram() -> Histogram {
    // 100 µs to about 6.5 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 17))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ddns");
        let requests = Family::<RequestLabels, Counter>::default();
        let dns_changes = Counter::default();
        let backend_errors = Family::<BackendLabels, Counter>::default();
        let latency: Latency = Family::new_with_constructor(latency_histogram);
        registry.register(
            "requests",
            "Seed API requests by mode and outcome",
            requests.clone(),
        );
        registry.register("dns_changes", "DNS changes applied", dns_changes.clone());
        let dns_batches = Counter::default();
        registry.register(
            "dns_batches",
            "Calls that sent changes to a DNS backend",
            dns_batches.clone(),
        );
        registry.register(
            "backend_errors",
            "Record store and DNS backend failures",
            backend_errors.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Seed API request latency",
            latency.clone(),
        );
        Self {
            registry,
            requests,
            dns_changes,
            dns_batches,
            backend_errors,
            latency,
        }
    }

    /// `provider`, counting each call that sends it changes in
    /// `ddns_dns_batches_total`.
    pub fn counting(&self, provider: Arc<dyn DnsProvider>) -> Arc<dyn DnsProvider> {
        Arc::new(CountingProvider {
            inner: provider,
            batches: self.dns_batches.clone(),
        })
    }

    /// Records one answered seed API request.
    pub fn observe(&self, answer: &SeedAnswer, elapsed: Duration) {
        let mode = answer.mode.as_str();
        let outcome = match &answer.failure {
            _ if answer.forbidden => "forbidden",
            Some(failure) => failure_kind(failure),
            None if answer.mode == Mode::Invalid => "bad_mode",
            None => "success",
        };
        let backend = answer.failure.as_ref().and_then(backend_of);
        self.record(mode, outcome, u64::from(answer.changed), backend, elapsed);
    }

    /// Records one answer of the endpoint, whichever its protocol.
    pub fn observe_answer(&self, answer: &EndpointAnswer, elapsed: Duration) {
        match answer {
            EndpointAnswer::Seed(seed) => self.observe(seed, elapsed),
            EndpointAnswer::Dyndns2(dyndns2) => self.observe_dyndns2(dyndns2, elapsed),
            EndpointAnswer::Upstream(upstream) => {
                let outcome = upstream.failure.as_ref().map_or(
                    if upstream.mode == UpstreamMode::Invalid {
                        "bad_mode"
                    } else {
                        "success"
                    },
                    failure_kind,
                );
                let backend = upstream.failure.as_ref().and_then(backend_of);
                let changed = u64::from(upstream.changed);
                self.record(upstream.mode.as_str(), outcome, changed, backend, elapsed);
            }
            _ => self.record(answer.mode(), "refused", 0, None, elapsed),
        }
    }

    /// Records one answered dyndns2 request: its first answer word, its
    /// changes, and the backend of its first backend failure.
    pub fn observe_dyndns2(&self, answer: &Dyndns2Answer, elapsed: Duration) {
        let backend = answer.failures.iter().find_map(backend_of);
        let changes = u64::try_from(answer.changes).unwrap_or(u64::MAX);
        self.record("dyndns2", answer.code, changes, backend, elapsed);
    }

    /// Counts one answered request: its outcome, the DNS changes it made,
    /// the backend that failed it if any, and its latency.
    fn record(
        &self,
        mode: &'static str,
        outcome: &'static str,
        changes: u64,
        backend: Option<&'static str>,
        elapsed: Duration,
    ) {
        self.requests
            .get_or_create(&RequestLabels { mode, outcome })
            .inc();
        self.dns_changes.inc_by(changes);
        if let Some(backend) = backend {
            self.backend_errors
                .get_or_create(&BackendLabels { backend })
                .inc();
        }
        self.latency
            .get_or_create(&ModeLabels { mode })
            .observe(elapsed.as_secs_f64());
    }

    /// Records a request refused by the rate limits.
    pub fn rate_limited(&self, mode: &'static str) {
        self.requests
            .get_or_create(&RequestLabels {
                mode,
                outcome: "rate_limited",
            })
            .inc();
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The `backend` label of a backend failure.
fn backend_of(failure: &Failure) -> Option<&'static str> {
    match failure {
        Failure::Backend { backend, .. } => Some(match backend {
            Backend::Store => "store",
            Backend::Dns => "dns",
        }),
        _ => None,
    }
}

/// A short, stable name for a failure, for the `outcome` label.
pub fn failure_kind(failure: &Failure) -> &'static str {
    match failure {
        Failure::BadHashFormat => "bad_hash",
        Failure::InvalidAddress { .. } => "invalid_address",
        Failure::NotConfigured { .. } => "not_configured",
        Failure::HashMismatch => "hash_mismatch",
        Failure::Locked { .. } => "locked",
        Failure::InternalNotAllowed { .. } => "internal_denied",
        Failure::NotUnicast { .. } => "not_unicast",
        Failure::NoReadPrivilege => "no_read_privilege",
        Failure::MultipleValues => "multiple_values",
        Failure::SignatureRequired { .. } => "signature_required",
        Failure::BadSignedFormat(_) => "bad_signed_format",
        Failure::SignatureMismatch => "signature_mismatch",
        Failure::StaleTimestamp { .. } => "stale_timestamp",
        Failure::Replayed { .. } => "replayed",
        Failure::UnusableRecord { .. } => "unusable_record",
        Failure::HostRateLimited { .. } => "host_rate_limited",
        Failure::ConcurrentUpdate { .. } => "concurrent_update",
        Failure::PrefixRefused { .. } => "prefix_refused",
        Failure::Backend { .. } => "backend",
        _ => "other",
    }
}
