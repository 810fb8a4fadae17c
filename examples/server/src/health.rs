//! `/healthz`: one read of the store and one of DNS per interval, however
//! often probes ask.
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
    zone: Hostname,
    keep_for: Duration,
    last: Mutex<Option<(Instant, Health)>>,
}

impl HealthCheck {
    pub(crate) fn new(service: Arc<DdnsService>, zone: Hostname, keep_for: Duration) -> Self {
        Self {
            service,
            zone,
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
        let key = RecordKey::new(self.zone.clone(), RecordType::A);
        let store = self.service.store().get(&key).await.err();
        let dns = self
            .service
            .provider()
            .current(&self.zone, RecordType::A)
            .await
            .err();
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
