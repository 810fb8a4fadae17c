//! What an RFC 2136 exchange can fail at, and how each maps into
//! ddns-core's error. A wrong key must never look like a network fault.

use std::net::SocketAddr;

/// The failures of the RFC 2136 provider; private to the crate.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum Rfc2136Error {
    #[error("the DNS server {server} did not answer within {seconds} s")]
    Timeout { server: SocketAddr, seconds: u64 },

    #[error("cannot talk to the DNS server {server}: {detail}")]
    Network { server: SocketAddr, detail: String },

    #[error("the DNS server {server} sent an answer that is not a DNS message: {detail}")]
    Malformed { server: SocketAddr, detail: String },

    #[error(
        "the DNS server {server} rejected the TSIG key {key} ({reason}); check the key's name, algorithm and secret against the server's configuration"
    )]
    BadKey {
        server: SocketAddr,
        key: String,
        reason: &'static str,
        /// False when the answer could also mean "key known, change not
        /// allowed" (Knot answers both with BADKEY).
        certain: bool,
    },

    #[error(
        "the DNS server {server} rejected the signature time (BADTIME); check that this machine's clock is right"
    )]
    BadTime { server: SocketAddr },

    #[error("the DNS server {server} answered without a valid TSIG signature: {detail}")]
    UnsignedAnswer { server: SocketAddr, detail: String },

    #[error(
        "the DNS server {server} refused to let key {key} change {names} ({answer}); check that its update policy allows it"
    )]
    Refused {
        server: SocketAddr,
        key: String,
        names: String,
        answer: &'static str,
    },

    #[error("the DNS server {server} is not authoritative for the zone {zone} (NOTAUTH)")]
    NotAuth { server: SocketAddr, zone: String },

    #[error("{names} is not in the zone {zone} as the server {server} sees it (NOTZONE)")]
    NotZone {
        server: SocketAddr,
        zone: String,
        names: String,
    },

    #[error("{name} is not in the zone {zone}; this provider only changes names in its zone")]
    OutsideZone { name: String, zone: String },

    #[error("the DNS server {server} failed the request ({rcode})")]
    Rcode { server: SocketAddr, rcode: String },

    #[error("cannot build the DNS message: {detail}")]
    Encode { detail: String },

    #[error("the DNS server {server} holds {key} with a value this system cannot read: {detail}")]
    Unreadable {
        server: SocketAddr,
        key: String,
        detail: String,
    },
}

impl Rfc2136Error {
    /// True when sending the same update again could succeed without a
    /// change of configuration (the update is an idempotent replacement).
    pub(crate) fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Timeout { .. } | Self::Network { .. } | Self::BadTime { .. } | Self::Rcode { .. }
        )
    }
}

impl From<Rfc2136Error> for ddns_core::Error {
    fn from(e: Rfc2136Error) -> Self {
        let message = e.to_string();
        let base = match &e {
            Rfc2136Error::Timeout { .. } | Rfc2136Error::Network { .. } => {
                Self::unavailable(message, true)
            }
            Rfc2136Error::Rcode { .. } => Self::unavailable(message, true),
            Rfc2136Error::Malformed { .. }
            | Rfc2136Error::Encode { .. }
            | Rfc2136Error::Unreadable { .. } => Self::unavailable(message, false),
            Rfc2136Error::BadKey { .. }
            | Rfc2136Error::BadTime { .. }
            | Rfc2136Error::UnsignedAnswer { .. } => Self::unauthenticated(message),
            Rfc2136Error::Refused { .. } | Rfc2136Error::NotAuth { .. } => {
                Self::permission_denied(message)
            }
            Rfc2136Error::NotZone { .. } | Rfc2136Error::OutsideZone { .. } => {
                return Self::invalid_input(message);
            }
        };
        base.with_source(e)
    }
}
