//! Fixtures shared by the integration tests: a service over the in-memory
//! adapters with a manual clock, and helpers to build seed requests.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ddns_core::SentName;
use ddns_core::memory::{MemoryProvider, MemoryStore};
use ddns_core::protocols::HttpResponse;
use ddns_core::protocols::seed::{ApiKeys, SeedApi, SeedHttpRequest, SeedParams};
use ddns_core::signed::SignedProof;
use ddns_core::{
    DdnsService, HashToken, Hostname, ListHostsRequest, ManualClock, Record, RecordConfig,
    RecordKey, RecordState, RecordStore, RecordType, SetRequest, SharedSecret, Timestamp,
};

pub const ZONE: &str = "example.com";
pub const HOST: &str = "home.example.com";
pub const SECRET: &str = "0123456789abcdef0123456789abcdef";
pub const PUBLIC_V4: &str = "198.51.100.7";
pub const PUBLIC_V6: &str = "2001:db8:1::7";
pub const START: Timestamp = Timestamp::from_unix_micros(1_750_000_000_000_000);

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn key(host: &str, record_type: RecordType) -> RecordKey {
    RecordKey::new(Hostname::parse(host).unwrap(), record_type)
}

pub fn config() -> RecordConfig {
    RecordConfig::new(SharedSecret::new(SECRET))
}

/// A token `set` of `host` as the seed codec decodes it.
pub fn token_set(host: &str, hash: &str, internal_ip: Option<&str>, source: IpAddr) -> SetRequest {
    ddns_core::protocols::seed::set_request(
        SentName::parse(host),
        hash,
        &SignedProof::default(),
        internal_ip.unwrap_or(""),
        source,
    )
    .unwrap()
}

/// A token `list_hosts` of `host`.
pub fn token_list(host: &str, hash: &str, source: IpAddr) -> ListHostsRequest {
    let credential = ddns_core::protocols::seed::credential(hash, &SignedProof::default()).unwrap();
    ListHostsRequest::new(SentName::parse(host), credential, source)
}

/// The hash a correct client sends for `host` (as it spells it) from `source`.
pub fn hash(source: &str, host: &str) -> String {
    let with_dot = ddns_core::with_trailing_dot(host);
    HashToken::compute_as_sent(
        ip(source),
        &ddns_core::SentName::parse(&with_dot),
        &SharedSecret::new(SECRET),
    )
    .to_hex()
}

pub struct Fixture {
    pub store: Arc<MemoryStore>,
    pub dns: Arc<MemoryProvider>,
    pub clock: Arc<ManualClock>,
    pub service: Arc<DdnsService>,
    pub api: SeedApi,
}

impl Fixture {
    /// A service with an A and an AAAA record for HOST (default settings).
    pub fn new() -> Self {
        Self::with_records([
            Record::new(key(HOST, RecordType::A), config()),
            Record::new(key(HOST, RecordType::Aaaa), config()),
        ])
    }

    pub fn with_records(records: impl IntoIterator<Item = Record>) -> Self {
        Self::build(records, ApiKeys::none(), Duration::from_secs(300))
    }

    pub fn build(
        records: impl IntoIterator<Item = Record>,
        keys: ApiKeys,
        recheck: Duration,
    ) -> Self {
        let store = Arc::new(MemoryStore::with_records(records));
        let dns = Arc::new(MemoryProvider::new().with_zone(Hostname::parse(ZONE).unwrap()));
        let clock = Arc::new(ManualClock::new(START));
        let service = Arc::new(
            DdnsService::builder(store.clone(), dns.clone())
                .with_clock(clock.clone())
                .with_recheck_interval(recheck)
                .build(),
        );
        let api = SeedApi::new(service.clone(), keys);
        Self {
            store,
            dns,
            clock,
            service,
            api,
        }
    }

    /// Sends a raw query string from `source`, without an API key.
    pub async fn query(&self, query: &str, source: &str) -> HttpResponse {
        self.query_with_key(query, source, None).await
    }

    pub async fn query_with_key(
        &self,
        query: &str,
        source: &str,
        api_key: Option<&str>,
    ) -> HttpResponse {
        self.api
            .handle(
                SeedHttpRequest::new(SeedParams::from_query(query), ip(source))
                    .with_api_key(api_key),
            )
            .await
    }

    /// The state of `host`'s record of `record_type`, which must exist.
    pub async fn state(&self, host: &str, record_type: RecordType) -> RecordState {
        self.store
            .get(&key(host, record_type))
            .await
            .unwrap()
            .unwrap()
            .state
    }

    /// A correctly signed `list_hosts` for `host` from `source`.
    pub async fn list_hosts(&self, host: &str, source: &str) -> HttpResponse {
        let q = format!(
            "mode=list_hosts&hostname={host}&hash={}",
            hash(source, host)
        );
        self.query(&q, source).await
    }

    /// A correctly signed `set` of `host` from `source`, with `extra` query
    /// parameters appended.
    pub async fn set(&self, host: &str, source: &str, extra: &str) -> HttpResponse {
        let q = format!(
            "mode=set&hostname={host}&hash={}{extra}",
            hash(source, host)
        );
        self.query(&q, source).await
    }
}

pub fn success(message: &str) -> String {
    format!(r#"{{"return_message": "{message}", "return_status": "success"}}"#)
}

pub fn fail(message: &str) -> String {
    format!(r#"{{"return_message": "{message}", "return_status": "fail"}}"#)
}

/// An HTTP Basic `Authorization` header value.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}
