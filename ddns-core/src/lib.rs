//! # ddns-core
//!
//! The core of a dynamic DNS system: a host whose address changes asks the
//! API to point its DNS name at its current address; the core authenticates
//! it, applies the rules of its record, and changes DNS through a pluggable
//! backend. It is wire-compatible with the serverless Route 53 dynamic DNS
//! design (API Gateway + Lambda + Route 53 + DynamoDB) and its clients.
//!
//! The crate does no I/O of its own. It holds:
//!
//! - domain types: [`Hostname`], [`RecordType`], [`Record`] and its parts,
//!   [`SharedSecret`], [`Timestamp`];
//! - the ports [`RecordStore`] and [`DnsProvider`], with in-memory adapters
//!   in [`memory`] and a batching decorator in [`coalesce`];
//! - the hash token ([`HashToken`]), signed requests ([`signed`]) and the
//!   address and lock rules ([`policy`]);
//! - the use cases in [`DdnsService`];
//! - transport-free wire codecs in [`codec`].
//!
//! Adapters live in their own crates (`ddns-sqlite`, `ddns-aws`,
//! `ddns-rfc2136`) and run the shared conformance suites of `conformance`
//! (feature `conformance`). Mocks of the ports are in `mock` (feature
//! `mock`).
//!
//! ```
//! use std::sync::Arc;
//! use ddns_core::codec::seed::{ApiKeys, SeedApi, SeedHttpRequest, SeedParams};
//! use ddns_core::memory::{MemoryProvider, MemoryStore};
//! use ddns_core::DdnsService;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let service = DdnsService::builder(Arc::new(MemoryStore::new()), Arc::new(MemoryProvider::new())).build();
//! let api = SeedApi::new(Arc::new(service), ApiKeys::none());
//! let response = api
//!     .handle(SeedHttpRequest {
//!         params: SeedParams::from_query("mode=get"),
//!         api_key: None,
//!         source: "198.51.100.7".parse()?,
//!     })
//!     .await;
//! assert_eq!(response.body, r#"{"return_message": "198.51.100.7", "return_status": "success"}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?; Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod admin;
pub mod auth;
pub mod budget;
pub mod cache;
pub mod coalesce;
pub mod codec;
pub mod error;
pub mod hostname;
pub mod memory;
pub mod outcome;
pub mod policy;
pub mod provider;
pub mod record;
mod record_lock;
pub mod request;
pub mod router;
pub mod secret;
pub mod service;
pub mod signed;
pub mod store;
pub mod timestamp;
mod value;
mod zone;

#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;
#[cfg(feature = "hickory")]
#[cfg_attr(docsrs, doc(cfg(feature = "hickory")))]
pub mod hickory;
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock;

pub use auth::HashToken;
pub use budget::HostBudget;
pub use error::{Error, ErrorSource, Result};
pub use hostname::{Hostname, HostnameError, RecordName};
pub use outcome::{Failure, HostList, SetOutcome};
pub use provider::{ChangeKind, ChangeResult, DnsChange, DnsProvider};
pub use record::{
    AccessUpdate, ChangeUpdate, DEFAULT_TTL, GroupMember, MAX_TTL, Record, RecordConfig, RecordKey,
    RecordState, RecordType, example_records,
};
pub use request::{Credential, ListHostsRequest, SetRequest};
pub use secret::SharedSecret;
pub use service::{DdnsService, DdnsServiceBuilder};
pub use store::{ListCursor, RecordPage, RecordStore};
pub use timestamp::{Clock, ManualClock, SystemClock, Timestamp, TimestampError};
pub use value::{MAX_TXT_STRING, MAX_TXT_TEXT, RecordValue, TxtValue, ValueError};
pub use zone::{Zone, Zones};
