//! Rate limits: token buckets per source prefix and per host name, arranged
//! so that only a record's owner can spend what the owner's requests need.
//!
//! - **Per source.** Every request takes one token from its source's bucket
//!   before anything else is done, and a request that proves nothing (a
//!   wrong or missing credential or API key, a name with no record) takes
//!   `failed_auth_cost` in all. Sources are keyed by prefix (IPv4 /32 and
//!   IPv6 /64 by default), so rotating the interface id inside one /64 buys
//!   nothing.
//! - **Per host name.** Spent only by requests that proved their credential
//!   ([`ddns_core::HostBudget`], called by the service after the
//!   credential check), so a stranger who knows only the name cannot lock
//!   its owner out however fast it sends.
//!
//! An empty bucket is answered as a refusal (`fail` on the seed API,
//! `abuse` on dyndns2). Memory is bounded: each table holds at most
//! `max_tracked` keys (host names are only those of existing records, since
//! only proven requests create them). Buckets are forgotten only when full
//! again ([`Limits::clean`], every minute, and at most once a second
//! whenever a table is full), so eviction never hands an attacker a fresh
//! bucket; an attacker who spends a new prefix on every request fills the
//! table only with buckets that are full again seconds later. Should the
//! table still be full of buckets in use, new keys share one overflow
//! bucket until room is made.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use ddns_core::{HostBudget, Hostname};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::state::{InMemoryState, StateStore};
use governor::{Quota, RateLimiter};
use ipnet::IpNet;
use serde::Deserialize;

/// `[limits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Whether limits apply at all.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Requests per minute one source prefix may make, sustained.
    #[serde(default = "default_source_rate")]
    pub per_source_per_minute: u32,
    /// Requests one source prefix may make at once.
    #[serde(default = "default_source_burst")]
    pub per_source_burst: u32,
    /// Proven requests per minute for one host name, sustained.
    #[serde(default = "default_host_rate")]
    pub per_host_per_minute: u32,
    /// Proven requests for one host name at once.
    #[serde(default = "default_host_burst")]
    pub per_host_burst: u32,
    /// Tokens a request that proves nothing costs its source (at least 1).
    #[serde(default = "default_failed_cost")]
    pub failed_auth_cost: u32,
    /// Prefix length that keys IPv4 sources (1 to 32).
    #[serde(default = "default_prefix_v4")]
    pub source_prefix_v4: u8,
    /// Prefix length that keys IPv6 sources (1 to 128).
    #[serde(default = "default_prefix_v6")]
    pub source_prefix_v6: u8,
    /// Most keys each table (sources, host names) tracks; past it new keys
    /// share one overflow bucket.
    #[serde(default = "default_max_tracked")]
    pub max_tracked: usize,
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
fn default_prefix_v4() -> u8 {
    32
}
fn default_prefix_v6() -> u8 {
    64
}
fn default_max_tracked() -> usize {
    100_000
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
            source_prefix_v4: default_prefix_v4(),
            source_prefix_v6: default_prefix_v6(),
            max_tracked: default_max_tracked(),
        }
    }
}

impl LimitsConfig {
    /// Checks the prefix lengths and the table size.
    ///
    /// # Errors
    ///
    /// The setting at fault and why.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String, &'static str)> {
        if !(1..=32).contains(&self.source_prefix_v4) {
            return Err((
                "limits.source_prefix_v4",
                self.source_prefix_v4.to_string(),
                "must be from 1 to 32",
            ));
        }
        if !(1..=128).contains(&self.source_prefix_v6) {
            return Err((
                "limits.source_prefix_v6",
                self.source_prefix_v6.to_string(),
                "must be from 1 to 128",
            ));
        }
        if self.max_tracked == 0 {
            return Err(("limits.max_tracked", "0".into(), "must be at least 1"));
        }
        Ok(())
    }
}

fn quota(per_minute: u32, burst: u32) -> Option<Quota> {
    let rate = NonZeroU32::new(per_minute)?;
    let burst = NonZeroU32::new(burst).unwrap_or(rate);
    Some(Quota::per_minute(rate).allow_burst(burst))
}

/// A key of a [`BoundedStore`]: one it tracks, or the shared overflow.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Slot<K> {
    Tracked(K),
    Overflow,
}

/// governor's in-memory keyed state with a cap on the number of keys: once
/// `cap` keys are tracked, a key not among them is measured against the one
/// shared overflow bucket instead of getting a fresh bucket of its own.
#[derive(Debug)]
struct BoundedStore<K: Hash + Eq + Clone> {
    map: DashMap<Slot<K>, InMemoryState>,
    cap: usize,
}

impl<K: Hash + Eq + Clone> StateStore for BoundedStore<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let tracked = Slot::Tracked(key.clone());
        let slot = if self.map.len() < self.cap || self.map.contains_key(&tracked) {
            tracked
        } else {
            Slot::Overflow
        };
        self.map.measure_and_replace(&slot, f)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<K> for BoundedStore<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        self.map.retain_recent(drop_below);
    }

    fn shrink_to_fit(&self) {
        self.map.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

type Limiter<K> =
    RateLimiter<K, BoundedStore<K>, DefaultClock, NoOpMiddleware<<DefaultClock as Clock>::Instant>>;

/// `last_clean_ms` before the first cleaning.
const NEVER: u64 = u64::MAX;

/// The least time between two cleanings made because a table was full.
const CLEAN_WHEN_FULL_EVERY: Duration = Duration::from_secs(1);

/// One bounded table of buckets: a keyed limiter over a bounded store
/// that forgets its full-again buckets when it fills up.
#[derive(Debug)]
pub struct Table<K: Hash + Eq + Clone> {
    limiter: Limiter<K>,
    cap: usize,
    created: Instant,
    /// Milliseconds after `created` of the last cleaning made when full.
    last_clean_ms: AtomicU64,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn new(quota: Quota, cap: usize) -> Self {
        let store = BoundedStore {
            map: DashMap::default(),
            cap,
        };
        Self {
            limiter: RateLimiter::new(quota, store, DefaultClock::default()),
            cap,
            created: Instant::now(),
            last_clean_ms: AtomicU64::new(NEVER),
        }
    }

    /// Takes one token from `key`'s bucket; false when it is empty.
    fn take(&self, key: &K) -> bool {
        self.make_room();
        self.limiter.check_key(key).is_ok()
    }

    /// Takes `n` tokens from `key`'s bucket, emptying it when fewer are left.
    fn drain(&self, key: &K, n: u32) {
        for _ in 0..n {
            if self.limiter.check_key(key).is_err() {
                break;
            }
        }
    }

    /// Forgets the full-again buckets when the table is full, at most once
    /// per [`CLEAN_WHEN_FULL_EVERY`] across all callers.
    fn make_room(&self) {
        if self.limiter.len() < self.cap {
            return;
        }
        let now = u64::try_from(self.created.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.last_clean_ms.load(Ordering::Relaxed);
        let every = u64::try_from(CLEAN_WHEN_FULL_EVERY.as_millis()).unwrap_or(1000);
        if (last == NEVER || now.saturating_sub(last) >= every)
            && self
                .last_clean_ms
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.limiter.retain_recent();
        }
    }

    /// Forgets the buckets that are full again and returns the memory.
    fn clean(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.limiter.len()
    }
}

/// The prefix of `source` that stands for it: `v4` bits of an IPv4 address
/// (an IPv4-mapped one included), `v6` bits of an IPv6 one.
pub fn source_prefix(source: IpAddr, v4: u8, v6: u8) -> IpNet {
    let source = source.to_canonical();
    let len = if source.is_ipv4() { v4 } else { v6 };
    // Lengths are checked at start-up; a bad one keys the address alone.
    IpNet::new(source, len).map_or_else(|_| IpNet::from(source), |net| net.trunc())
}

/// Why a request was refused before it reached the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// Its source prefix used up its tokens.
    Source,
}

impl Limited {
    /// The message for the seed API.
    pub fn message(self) -> &'static str {
        match self {
            Self::Source => "Too many requests from this address; wait a minute and try again.",
        }
    }
}

/// The source buckets (checked by the HTTP layer) and the host budget
/// (handed to the service).
#[derive(Debug)]
pub struct Limits {
    by_source: Option<Table<IpNet>>,
    hosts: Option<Arc<Table<Hostname>>>,
    failed_extra: u32,
    prefix_v4: u8,
    prefix_v6: u8,
}

/// The per-host-name buckets, spent by the service for proven requests.
impl HostBudget for Table<Hostname> {
    fn spend(&self, hostname: &Hostname) -> bool {
        self.take(hostname)
    }
}

impl Limits {
    /// Buckets as configured; `None` when limits are off.
    pub fn new(config: &LimitsConfig) -> Option<Self> {
        if !config.enabled {
            return None;
        }
        Some(Self {
            by_source: quota(config.per_source_per_minute, config.per_source_burst)
                .map(|q| Table::new(q, config.max_tracked)),
            hosts: quota(config.per_host_per_minute, config.per_host_burst)
                .map(|q| Arc::new(Table::new(q, config.max_tracked))),
            failed_extra: config.failed_auth_cost.saturating_sub(1),
            prefix_v4: config.source_prefix_v4,
            prefix_v6: config.source_prefix_v6,
        })
    }

    /// The budget of host names, for [`ddns_core::DdnsServiceBuilder::with_host_budget`].
    pub fn host_budget(&self) -> Option<Arc<Table<Hostname>>> {
        self.hosts.clone()
    }

    /// The prefix that keys `source`.
    pub fn source_key(&self, source: IpAddr) -> IpNet {
        source_prefix(source, self.prefix_v4, self.prefix_v6)
    }

    /// Takes a token for `source`: what every request pays first.
    ///
    /// # Errors
    ///
    /// [`Limited::Source`] when the source's bucket is empty.
    pub fn admit(&self, source: IpAddr) -> Result<(), Limited> {
        match &self.by_source {
            Some(table) if !table.take(&self.source_key(source)) => Err(Limited::Source),
            _ => Ok(()),
        }
    }

    /// Charges `source` the extra cost of `count` requests (or names of one
    /// request) that proved nothing.
    pub fn unproven(&self, source: IpAddr, count: usize) {
        if let Some(table) = &self.by_source {
            let count = u32::try_from(count).unwrap_or(u32::MAX);
            table.drain(
                &self.source_key(source),
                self.failed_extra.saturating_mul(count),
            );
        }
    }

    /// Keys tracked: (sources, host names).
    pub fn tracked(&self) -> (usize, usize) {
        (
            self.by_source.as_ref().map_or(0, Table::len),
            self.hosts.as_ref().map_or(0, |h| h.len()),
        )
    }

    /// Forgets buckets that are full again (indistinguishable from new
    /// ones), so memory stays flat without resetting a drained bucket.
    pub fn clean(&self) {
        if let Some(table) = &self.by_source {
            table.clean();
        }
        if let Some(table) = &self.hosts {
            table.clean();
        }
    }
}

/// How often [`Limits::clean`] runs.
pub const CLEAN_EVERY: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_burst_then_refusal_and_unproven_requests_cost_more() {
        let config = LimitsConfig {
            per_source_per_minute: 1,
            per_source_burst: 3,
            ..LimitsConfig::default()
        };
        let limits = Limits::new(&config).unwrap();
        let (a, b) = (ip("198.51.100.1"), ip("198.51.100.2"));
        for _ in 0..3 {
            assert_eq!(limits.admit(a), Ok(()));
        }
        assert_eq!(limits.admit(a), Err(Limited::Source));
        assert_eq!(limits.admit(b), Ok(()), "other addresses are not affected");
        limits.unproven(b, 1);
        assert_eq!(
            limits.admit(b),
            Err(Limited::Source),
            "a failure drains the bucket"
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
    fn sources_are_keyed_by_prefix() {
        let config = LimitsConfig {
            per_source_per_minute: 1,
            per_source_burst: 2,
            ..LimitsConfig::default()
        };
        let limits = Limits::new(&config).unwrap();
        assert_eq!(limits.admit(ip("2001:db8:1:2::1")), Ok(()));
        assert_eq!(limits.admit(ip("2001:db8:1:2:ffff::9")), Ok(()));
        assert_eq!(
            limits.admit(ip("2001:db8:1:2:abcd::1")),
            Err(Limited::Source),
            "one /64 is one source"
        );
        assert_eq!(
            limits.admit(ip("2001:db8:1:3::1")),
            Ok(()),
            "the next /64 is another"
        );
        assert_eq!(
            limits.source_key(ip("::ffff:198.51.100.7")).to_string(),
            "198.51.100.7/32"
        );
    }

    #[test]
    fn host_budgets_are_keyed_by_name() {
        let config = LimitsConfig {
            per_host_per_minute: 1,
            per_host_burst: 2,
            ..LimitsConfig::default()
        };
        let budget = Limits::new(&config).unwrap().host_budget().unwrap();
        let h = Hostname::parse("h.example.com").unwrap();
        let upper = Hostname::parse("H.EXAMPLE.com.").unwrap();
        assert!(budget.spend(&h) && budget.spend(&upper));
        assert!(!budget.spend(&h));
        assert!(budget.spend(&Hostname::parse("other.example.com").unwrap()));
    }

    #[test]
    fn a_full_table_sends_new_keys_to_one_overflow_bucket() {
        let config = LimitsConfig {
            per_source_per_minute: 1,
            per_source_burst: 1,
            max_tracked: 3,
            ..LimitsConfig::default()
        };
        let limits = Limits::new(&config).unwrap();
        for i in 1..=3 {
            assert_eq!(limits.admit(ip(&format!("198.51.100.{i}"))), Ok(()));
        }
        assert_eq!(limits.tracked().0, 3);
        // The table is full: new sources share the overflow bucket.
        assert_eq!(limits.admit(ip("203.0.113.1")), Ok(()));
        assert_eq!(limits.admit(ip("203.0.113.2")), Err(Limited::Source));
        assert_eq!(limits.tracked().0, 4, "three sources and the overflow");
        // A tracked, drained source stays drained: cleaning keeps it.
        limits.clean();
        assert_eq!(limits.admit(ip("198.51.100.1")), Err(Limited::Source));
    }

    #[test]
    fn a_full_table_forgets_the_buckets_that_are_full_again() {
        // One token, refilled every 10 µs.
        let config = LimitsConfig {
            per_source_per_minute: 6_000_000,
            per_source_burst: 1,
            max_tracked: 2,
            ..LimitsConfig::default()
        };
        let limits = Limits::new(&config).unwrap();
        assert_eq!(limits.admit(ip("198.51.100.1")), Ok(()));
        assert_eq!(limits.admit(ip("198.51.100.2")), Ok(()));
        assert_eq!(limits.tracked().0, 2);
        // The refill itself is what is waited for here.
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(limits.admit(ip("198.51.100.3")), Ok(()));
        assert_eq!(
            limits.tracked().0,
            1,
            "the two full buckets made room; the new source has its own"
        );
    }
}
