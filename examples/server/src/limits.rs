//! Rate limits: token buckets per source address and per host name, so a
//! client cannot guess secrets at speed or flood the backends.
//!
//! Every request takes one token from its source address's bucket and one
//! from each host name's it names; a failed authentication takes
//! `failed_auth_cost` in all. An empty bucket is answered as a refusal
//! (`fail` on the seed API, `abuse` on dyndns2). The defaults leave a normal
//! client (a `get` and a `set` every minute, several hosts behind one NAT
//! address) far below the limits.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;

/// `[limits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Whether limits apply at all.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Requests per minute one source address may make, sustained.
    #[serde(default = "default_source_rate")]
    pub per_source_per_minute: u32,
    /// Requests one source address may make at once.
    #[serde(default = "default_source_burst")]
    pub per_source_burst: u32,
    /// Requests per minute naming one host, sustained.
    #[serde(default = "default_host_rate")]
    pub per_host_per_minute: u32,
    /// Requests naming one host at once.
    #[serde(default = "default_host_burst")]
    pub per_host_burst: u32,
    /// Tokens a failed authentication costs (at least 1).
    #[serde(default = "default_failed_cost")]
    pub failed_auth_cost: u32,
}

fn yes() -> bool {
    true
}
fn default_source_rate() -> u32 {
    120
}
fn default_source_burst() -> u32 {
    60
}
fn default_host_rate() -> u32 {
    30
}
fn default_host_burst() -> u32 {
    20
}
fn default_failed_cost() -> u32 {
    10
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            enabled: yes(),
            per_source_per_minute: default_source_rate(),
            per_source_burst: default_source_burst(),
            per_host_per_minute: default_host_rate(),
            per_host_burst: default_host_burst(),
            failed_auth_cost: default_failed_cost(),
        }
    }
}

fn quota(per_minute: u32, burst: u32) -> Option<Quota> {
    let rate = NonZeroU32::new(per_minute)?;
    let burst = NonZeroU32::new(burst).unwrap_or(rate);
    Some(Quota::per_minute(rate).allow_burst(burst))
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// Its source address used up its tokens.
    Source,
    /// A host name it names used up its tokens.
    Host,
}

impl Limited {
    /// The message for the seed API.
    pub fn message(self) -> &'static str {
        match self {
            Self::Source => "Too many requests from this address; wait a minute and try again.",
            Self::Host => "Too many requests for this host name; wait a minute and try again.",
        }
    }
}

/// The buckets.
#[derive(Debug)]
pub struct Limits {
    by_source: Option<DefaultKeyedRateLimiter<IpAddr>>,
    by_host: Option<DefaultKeyedRateLimiter<String>>,
    failed_extra: u32,
}

impl Limits {
    /// Buckets as configured; `None` when limits are off.
    pub fn new(config: &LimitsConfig) -> Option<Self> {
        if !config.enabled {
            return None;
        }
        Some(Self {
            by_source: quota(config.per_source_per_minute, config.per_source_burst)
                .map(RateLimiter::keyed),
            by_host: quota(config.per_host_per_minute, config.per_host_burst)
                .map(RateLimiter::keyed),
            failed_extra: config.failed_auth_cost.saturating_sub(1),
        })
    }

    fn host_key(host: &str) -> String {
        host.trim().trim_end_matches('.').to_ascii_lowercase()
    }

    /// Takes a token for `source` and one for each of `hosts`.
    ///
    /// # Errors
    ///
    /// [`Limited`] saying which bucket is empty.
    pub fn admit<'a>(
        &self,
        source: IpAddr,
        hosts: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Limited> {
        if let Some(limiter) = &self.by_source {
            limiter.check_key(&source).map_err(|_| Limited::Source)?;
        }
        if let Some(limiter) = &self.by_host {
            for host in hosts.into_iter().filter(|h| !h.trim().is_empty()) {
                limiter
                    .check_key(&Self::host_key(host))
                    .map_err(|_| Limited::Host)?;
            }
        }
        Ok(())
    }

    /// Charges the extra cost of a failed authentication.
    pub fn failed_auth<'a>(&self, source: IpAddr, hosts: impl IntoIterator<Item = &'a str>) {
        let Some(extra) = NonZeroU32::new(self.failed_extra) else {
            return;
        };
        // Draining more than is left just empties the bucket.
        if let Some(limiter) = &self.by_source {
            for _ in 0..extra.get() {
                if limiter.check_key(&source).is_err() {
                    break;
                }
            }
        }
        if let Some(limiter) = &self.by_host {
            for host in hosts.into_iter().filter(|h| !h.trim().is_empty()) {
                let key = Self::host_key(host);
                for _ in 0..extra.get() {
                    if limiter.check_key(&key).is_err() {
                        break;
                    }
                }
            }
        }
    }

    /// Forgets buckets that are full again, so memory stays flat.
    pub fn clean(&self) {
        if let Some(l) = &self.by_source {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.by_host {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

/// How often [`Limits::clean`] runs.
pub const CLEAN_EVERY: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusal_and_failed_auth_costs_more() {
        let config = LimitsConfig {
            per_source_per_minute: 1,
            per_source_burst: 3,
            per_host_per_minute: 1,
            per_host_burst: 100,
            ..LimitsConfig::default()
        };
        let limits = Limits::new(&config).unwrap();
        let a: IpAddr = "198.51.100.1".parse().unwrap();
        let b: IpAddr = "198.51.100.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limits.admit(a, ["h.example.com"]), Ok(()));
        }
        assert_eq!(limits.admit(a, ["h.example.com"]), Err(Limited::Source));
        assert_eq!(
            limits.admit(b, []),
            Ok(()),
            "other addresses are not affected"
        );
        limits.failed_auth(b, ["x.example.com"]);
        assert_eq!(
            limits.admit(b, []),
            Err(Limited::Source),
            "a failed authentication drains the bucket"
        );
        assert!(
            Limits::new(&LimitsConfig {
                enabled: false,
                ..LimitsConfig::default()
            })
            .is_none()
        );
    }

    #[test]
    fn host_buckets_ignore_case_and_dots() {
        let config = LimitsConfig {
            per_host_per_minute: 1,
            per_host_burst: 2,
            ..LimitsConfig::default()
        };
        let limits = Limits::new(&config).unwrap();
        let a: IpAddr = "198.51.100.1".parse().unwrap();
        assert!(limits.admit(a, ["H.example.com."]).is_ok());
        assert!(limits.admit(a, ["h.example.com"]).is_ok());
        assert_eq!(limits.admit(a, ["h.EXAMPLE.com"]), Err(Limited::Host));
    }
}
