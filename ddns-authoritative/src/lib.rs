//! # ddns-authoritative
//!
//! An embedded authoritative DNS server for a dynamic zone, on
//! hickory-server, and the [`DnsProvider`](ddns_core::DnsProvider) that
//! feeds it. With it a ddns server is a complete dynamic DNS system on its
//! own: no cloud account and no other DNS server.
//!
//! - [`ZoneConfig`]: the zone apex, name servers, hostmaster and timers, from
//!   which SOA and NS are synthesised.
//! - [`ZoneData`]: the zone's A and AAAA records in memory; every change is
//!   visible to the next query and bumps the SOA serial, which a
//!   [`SerialFile`] keeps from going back across restarts.
//! - [`AuthoritativeProvider`]: the provider that changes [`ZoneData`];
//!   [`AuthoritativeProvider::load`] fills it from the record store at start,
//!   so the zone survives restarts.
//! - [`DnsServer`]: UDP and TCP listeners answering A, AAAA, TXT, SOA, NS
//!   and ANY, NODATA and NXDOMAIN correctly, REFUSED outside the zone; one
//!   server answers for several zones ([`DnsServer::bind_zones`]), each
//!   with its own [`ZoneData`], SOA and serial.
//! - [`Secondary`]: a zone's secondary name servers
//!   ([`ZoneConfig::with_secondaries`]): they may transfer the zone (AXFR
//!   over TCP, TSIG-signed message by message; IXFR is answered with the
//!   whole zone) and get a NOTIFY after every batch of changes. Every
//!   other transfer request is REFUSED.
//! - [`Responder`]: the same answers without sockets, one message in and
//!   its answer out, for another transport.
//! - [`DnsUpdates`]: RFC 2136 UPDATE signed with TSIG, each record's own
//!   key changing its host's A and AAAA and `_acme-challenge` TXT through
//!   the core's service ([`DnsServer::bind_zones_with_updates`]); signed
//!   queries get signed answers.
//!
//! ```
//! use std::sync::Arc;
//! use ddns_authoritative::{AuthoritativeProvider, ZoneConfig, ZoneData};
//! use ddns_core::{DnsChange, DnsProvider, Hostname, RecordKey, RecordType};
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let zone = Arc::new(ZoneData::new(ZoneConfig::new(Hostname::parse("example.com")?))?);
//! let provider = AuthoritativeProvider::new(zone.clone());
//! let serial = zone.serial();
//! let host = Hostname::parse("home.example.com")?;
//! provider.apply(&[DnsChange::upsert(host.clone(), 60, "198.51.100.7".parse()?)]).await;
//! let key = RecordKey::new(host, RecordType::A);
//! assert_eq!(provider.current(&key).await?, ["198.51.100.7".parse::<std::net::IpAddr>()?]);
//! assert_eq!(zone.serial(), serial + 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?; Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod data;
mod dnssec;
mod error;
mod handler;
mod key;
mod notify;
mod provider;
mod respond;
mod rrset;
mod serial;
mod server;
mod tcp;
mod transfer;
mod update;
mod zone;

pub use data::ZoneData;
pub use dnssec::{DEFAULT_SIGNATURE_VALIDITY, Dnssec, MIN_SIGNATURE_VALIDITY, ZoneKey};
pub use hickory_server::proto::op::ResponseCode;
pub use provider::AuthoritativeProvider;
pub use respond::Responder;
pub use serial::{RESERVED_AHEAD, SerialFile};
pub use server::DnsServer;
pub use tcp::{DEFAULT_TCP_IDLE_TIMEOUT, DEFAULT_TCP_MAX_CONNECTIONS, TcpLimits};
pub use transfer::Secondary;
pub use update::{DEFAULT_TSIG_FUDGE, DnsUpdates, OperatorKey, plan_update};
pub use zone::{SoaTimers, ZoneConfig};
