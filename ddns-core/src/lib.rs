//! # ddns-core
//!
//! The core of a dynamic DNS system: a host whose address changes asks the
//! API to point its DNS name at its current address; the core authenticates
//! it, applies the rules of its record, and changes DNS through a pluggable
//! backend. It is wire-compatible with the serverless Route 53 dynamic DNS
//! design (API Gateway + Lambda + Route 53 + DynamoDB) and its clients.
//!
//! The crate does no I/O of its own. Its source is laid out as the
//! hexagon; the public API is what this root re-exports:
//!
//! - domain types (`src/domain`): [`Hostname`], [`RecordName`],
//!   [`RecordType`], [`RecordKey`], [`Record`] and its parts,
//!   [`RecordValue`] and [`TxtValue`], [`Zone`] and [`Zones`],
//!   [`SharedSecret`], [`Timestamp`]; the hash token ([`HashToken`]),
//!   signed requests ([`signed`]), the address and lock rules
//!   ([`policy`]), ACME challenge names and rules ([`challenge`]), the
//!   grants of operator TSIG keys ([`UpdateGrant`]), and delegated IPv6
//!   prefixes with interface identifiers ([`prefix`]);
//! - the ports (`src/ports`) [`RecordStore`] and [`DnsProvider`], the
//!   per-host [`HostBudget`], and helpers for writing a provider
//!   ([`batching`]);
//! - the use cases (`src/usecases`): [`DdnsService`] for clients' requests
//!   ([`SetRequest`], [`ListHostsRequest`], [`ChallengeRequest`],
//!   [`DnsUpdateRequest`], answered with [`SetOutcome`], [`HostList`],
//!   [`ChallengeOutcome`] or a [`Failure`]) and [`admin`] for the
//!   operator's;
//! - the protocols (`src/protocols`): transport-free codecs and the one
//!   request path every transport shares ([`protocols::endpoint`]);
//! - adapters (`src/adapters`): in memory ([`memory`]), a read cache
//!   ([`cache`]), a batching provider ([`coalesce`]), a provider per zone
//!   ([`router`]), and hickory conversions (`hickory`, feature `hickory`);
//! - test support (`src/testing`): the conformance suites every adapter
//!   runs (`conformance`, feature `conformance`) and mocks of the ports
//!   (`mock`, feature `mock`).
//!
//! Adapters that do I/O live in their own crates (`ddns-sqlite`,
//! `ddns-aws`, `ddns-rfc2136`, `ddns-authoritative`).
//!
//! ```
//! use std::sync::Arc;
//! use ddns_core::protocols::seed::{ApiKeys, SeedApi, SeedHttpRequest, SeedParams};
//! use ddns_core::memory::{MemoryProvider, MemoryStore};
//! use ddns_core::DdnsService;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let service = DdnsService::builder(Arc::new(MemoryStore::new()), Arc::new(MemoryProvider::new())).build();
//! let api = SeedApi::new(Arc::new(service), ApiKeys::none());
//! let response = api
//!     .handle(SeedHttpRequest::new(SeedParams::from_query("mode=get"), "198.51.100.7".parse()?))
//!     .await;
//! assert_eq!(response.body, r#"{"return_message": "198.51.100.7", "return_status": "success"}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?; Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod adapters;
mod domain;
mod error;
mod ports;
pub mod protocols;
mod testing;
mod usecases;

#[cfg(feature = "hickory")]
#[cfg_attr(docsrs, doc(cfg(feature = "hickory")))]
pub use adapters::hickory;
pub use adapters::{cache, coalesce, memory, router};
pub use domain::auth::{HashToken, TokenFormatError};
pub use domain::grant::{GrantScope, UpdateGrant};
pub use domain::hostname::{
    Hostname, HostnameError, MAX_LABEL_LEN, MAX_NAME_LEN, RecordName, SentName, with_trailing_dot,
};
pub use domain::record::{
    AccessUpdate, ChangeUpdate, DEFAULT_TTL, GroupMember, MAX_TTL, Record, RecordConfig, RecordKey,
    RecordState, RecordType, RecordTypeError, example_records,
};
pub use domain::secret::SharedSecret;
pub use domain::timestamp::{Clock, ManualClock, SystemClock, Timestamp, TimestampError};
pub use domain::value::{MAX_TXT_STRING, MAX_TXT_TEXT, RecordValue, TxtValue, ValueError};
pub use domain::zone::{Zone, Zones};
pub use domain::{challenge, policy, prefix, signed};
pub use error::{Error, ErrorSource, Result};
pub use ports::batching;
pub use ports::budget::HostBudget;
pub use ports::provider::{ChangeKind, ChangeResult, DnsChange, DnsProvider};
pub use ports::store::{ListCursor, RecordPage, RecordStore};
#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub use testing::conformance;
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub use testing::mock;
pub use usecases::admin;
pub use usecases::outcome::{
    Backend, ChallengeOutcome, Failure, FollowerMove, FollowerResult, HostList, PrefixOutcome,
    SetOutcome,
};
pub use usecases::request::{
    ChallengeChange, ChallengeRequest, Credential, ListHostsRequest, PrefixRequest, SetRequest,
};
pub use usecases::service::{
    DEFAULT_PROVIDER_TIMEOUT, DEFAULT_RECHECK_INTERVAL, DdnsService, DdnsServiceBuilder,
    DnsUpdateRequest, RrsetUpdate,
};
