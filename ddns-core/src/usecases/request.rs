//! Typed requests: what the codecs decode from the wire and the service
//! acts on. Every value here is parsed already (a token of 64 hex digits,
//! a proof with a valid signature format, an address); the service decides
//! on them and never sees wire text.

use std::fmt;
use std::net::IpAddr;

use crate::domain::auth::HashToken;
use crate::domain::hostname::SentName;
use crate::domain::secret::SharedSecret;
use crate::domain::signed::ParsedProof;

/// How a request proves it may use a record.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credential {
    /// The seed protocol's hash token over the source address, the name
    /// as sent and the secret. Vouches for the source address only.
    Token(HashToken),
    /// The shared secret itself (dyndns2's password). Vouches for any
    /// public address.
    Password(SharedSecret),
    /// A signed request's proof (`docs/PROTOCOL.md` section 7), over the
    /// mode, the name and the address.
    Signed(ParsedProof),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(_) => f.write_str("Token([REDACTED])"),
            Self::Password(_) => f.write_str("Password([REDACTED])"),
            Self::Signed(proof) => write!(f, "Signed(timestamp {})", proof.timestamp),
        }
    }
}

/// A `set`: point the record of `name` (of the address's family) at
/// `address`, or at the source address when none is given.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SetRequest {
    /// The host name as sent.
    pub name: SentName,
    /// The proof.
    pub credential: Credential,
    /// The address to set; `None`: the source address.
    pub address: Option<IpAddr>,
    /// The requester's public source address.
    pub source: IpAddr,
}

impl SetRequest {
    /// A `set` of `name` to the source address.
    pub fn new(name: SentName, credential: Credential, source: IpAddr) -> Self {
        Self {
            name,
            credential,
            address: None,
            source,
        }
    }

    /// Sets the address to point at (`internalIp`, `myip`).
    #[must_use]
    pub fn with_address(mut self, address: Option<IpAddr>) -> Self {
        self.address = address;
        self
    }
}

/// A `list_hosts`: the discovery group of `name`'s record of the source
/// address's family.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ListHostsRequest {
    /// The host name as sent.
    pub name: SentName,
    /// The proof.
    pub credential: Credential,
    /// The requester's public source address.
    pub source: IpAddr,
}

impl ListHostsRequest {
    /// A `list_hosts` for `name`.
    pub fn new(name: SentName, credential: Credential, source: IpAddr) -> Self {
        Self {
            name,
            credential,
            source,
        }
    }
}
