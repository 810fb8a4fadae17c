//! `/healthz`: one read of the store and one of DNS per zone per interval,
//! however often probes ask.
//!
//! The result is kept for `http.health_cache_ms` (default 5 s); probes in
//! that time get the kept answer, and probes that arrive while a check runs
//! wait for it instead of starting their own (Route 53 reads share an
//! account-wide request rate). The body names what is unavailable and never
//! carries a backend's error text: that goes to the log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ddns_core::{DdnsService, Hostname, RecordKey, RecordType};
use tokio::sync::Mutex;
use tracing::warn;

/// A health answer: the status code and the JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Health {
    pub(crate) ok: bool,
    pub(crate) body: String,
}

/// The kept result of the last check.
#[derive(Debug)]
pub(crate) struct HealthCheck {
    service: Arc<DdnsService>,
    /// The apex of every zone served: one DNS read each.
    zones: Vec<Hostname>,
    keep_for: Duration,
    last: Mutex<Option<(Instant, Health)>>,
}

impl HealthCheck {
    pub(crate) fn new(service: Arc<DdnsService>, zones: Vec<Hostname>, keep_for: Duration) -> Self {
        Self {
            service,
            zones,
            keep_for,
            last: Mutex::new(None),
        }
    }

    /// The current health, from the kept result while it is fresh.
    pub(crate) async fn get(&self) -> Health {
        let mut last = self.last.lock().await;
        if let Some((at, health)) = &*last
            && at.elapsed() < self.keep_for
        {
            return health.clone();
        }
        let health = self.check().await;
        *last = Some((Instant::now(), health.clone()));
        health
    }

    async fn check(&self) -> Health {
        let mut store = None;
        if let Some(apex) = self.zones.first() {
            let key = RecordKey::new(apex.clone(), RecordType::A);
            store = self.service.store().get(&key).await.err();
        }
        let mut dns = None;
        for apex in &self.zones {
            let key = RecordKey::new(apex.clone(), RecordType::A);
            if let Err(e) = self.service.provider().current(&key).await {
                dns.get_or_insert(e);
            }
        }
        let mut down = Vec::new();
        for (name, error) in [("store", store), ("dns", dns)] {
            if let Some(error) = error {
                warn!(component = name, error = %error, cause = ?std::error::Error::source(&error).map(ToString::to_string), "health check failed");
                down.push(name);
            }
        }
        if down.is_empty() {
            return Health {
                ok: true,
                body: r#"{"status": "ok"}"#.to_owned(),
            };
        }
        let mut body = String::from(r#"{"status": "unavailable""#);
        for name in down {
            body.push_str(&format!(r#", "{name}": "unavailable""#));
        }
        body.push('}');
        Health { ok: false, body }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ddns_core::mock::{MockDnsProvider, MockRecordStore};

    fn check(store: MockRecordStore, dns: MockDnsProvider, keep_for: Duration) -> Arc<HealthCheck> {
        let service = DdnsService::builder(Arc::new(store), Arc::new(dns)).build();
        Arc::new(HealthCheck::new(
            Arc::new(service),
            vec![Hostname::parse("example.com").unwrap()],
            keep_for,
        ))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_probes_cost_one_read_of_each_backend_per_interval() {
        let mut store = MockRecordStore::new();
        store.expect_get().times(1).returning(|_| Ok(None));
        let mut dns = MockDnsProvider::new();
        dns.expect_current().times(1).returning(|_| Ok(Vec::new()));
        let health = check(store, dns, Duration::from_secs(60));
        let mut probes = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let health = health.clone();
            probes.spawn(async move { health.get().await });
        }
        while let Some(answer) = probes.join_next().await {
            assert_eq!(
                answer.unwrap(),
                Health {
                    ok: true,
                    body: r#"{"status": "ok"}"#.to_owned()
                }
            );
        }
        // The mocks' `times(1)` are checked when they drop.
    }

    #[tokio::test]
    async fn a_stale_result_is_checked_again() {
        let mut store = MockRecordStore::new();
        store.expect_get().times(2).returning(|_| Ok(None));
        let mut dns = MockDnsProvider::new();
        dns.expect_current().times(2).returning(|_| Ok(Vec::new()));
        let health = check(store, dns, Duration::ZERO);
        assert!(health.get().await.ok);
        assert!(health.get().await.ok);
    }

    #[tokio::test]
    async fn the_body_names_the_component_but_not_the_error() {
        let mut store = MockRecordStore::new();
        store.expect_get().returning(|_| {
            Err(ddns_core::Error::unavailable(
                "the database /var/lib/ddns/ddns.sqlite3 is busy",
                true,
            ))
        });
        let mut dns = MockDnsProvider::new();
        dns.expect_current().returning(|_| Ok(Vec::new()));
        let health = check(store, dns, Duration::from_secs(5)).get().await;
        assert!(!health.ok);
        assert_eq!(
            health.body,
            r#"{"status": "unavailable", "store": "unavailable"}"#
        );
    }
}
