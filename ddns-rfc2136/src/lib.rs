//! # ddns-rfc2136
//!
//! A [`DnsProvider`](ddns_core::DnsProvider) over RFC 2136 dynamic updates
//! signed with TSIG (RFC 8945), so ddns can drive any standard
//! authoritative server: BIND, Knot, PowerDNS, Windows DNS.
//!
//! - [`TsigKey`]: the key, given directly or read from a BIND-style key file
//!   as `tsig-keygen` writes it (hmac-sha256/384/512).
//! - [`Rfc2136Provider`]: reads with a plain query to the primary (UDP, TCP
//!   when truncated), writes with UPDATE messages over TCP, each change an
//!   atomic replacement of its RRset, as many changes per message as fit.
//!   Answers are checked for their rcode and TSIG error before anything
//!   else, so a wrong key is reported as one, never as a network fault.
//!
//! A BIND zone that lets the key change only A and AAAA records:
//!
//! ```text
//! key "ddns-key" { algorithm hmac-sha256; secret "...base64..."; };
//! zone "example.com" {
//!     type primary;
//!     file "/var/lib/bind/example.com.zone";
//!     update-policy { grant ddns-key zonesub A AAAA; };
//! };
//! ```

mod error;
mod key;
mod provider;
mod wire;

pub use key::{TsigAlgorithmName, TsigKey};
pub use provider::{
    DEFAULT_CHANGES_PER_MESSAGE, DEFAULT_TIMEOUT, ENV_KEY_FILE, ENV_SERVER, ENV_ZONE,
    Rfc2136Provider, Rfc2136ProviderBuilder,
};
