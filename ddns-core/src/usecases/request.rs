//! Typed requests: what the codecs decode from the wire and the service
//! acts on. Every value here is parsed already (a token of 64 hex digits,
//! a proof with a valid signature format, an address); the service decides
//! on them and never sees wire text.

use std::fmt;
use std::net::IpAddr;

use crate::domain::auth::HashToken;
use crate::domain::hostname::SentName;
use crate::domain::prefix::PrefixChange;
use crate::domain::secret::SharedSecret;
use crate::domain::signed::ParsedProof;
use crate::domain::value::TxtValue;

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
    /// A DNS UPDATE signed with the record's own TSIG key, whose MAC and
    /// time the transport verified with this secret. Counts as signed
    /// (`require_signed` accepts it) and vouches for any public address.
    Tsig(SharedSecret),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(_) => f.write_str("Token([REDACTED])"),
            Self::Password(_) => f.write_str("Password([REDACTED])"),
            Self::Signed(proof) => write!(f, "Signed(timestamp {})", proof.timestamp),
            Self::Tsig(_) => f.write_str("Tsig([REDACTED])"),
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

/// What a challenge request does to the TXT values at
/// `_acme-challenge.<host>`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChallengeChange {
    /// Adds a value (nothing when it is there already); past the cap, the
    /// oldest values go.
    Present(TxtValue),
    /// Removes a value (nothing when it is not there).
    Cleanup(TxtValue),
    /// Makes the name hold exactly these values, oldest first (an RFC 2136
    /// UPDATE's result); none removes the RRset.
    Replace(Vec<TxtValue>),
}

/// An ACME DNS-01 request: change the challenge values of `host`'s
/// `_acme-challenge` name, with the credential of `host`'s own record.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ChallengeRequest {
    /// The host name as sent (the record's name, not the challenge name).
    pub host: SentName,
    /// The proof: the credential of the host's A record (or of its AAAA
    /// record when it has no A record, or the A record's does not match).
    pub credential: Credential,
    /// What to do.
    pub change: ChallengeChange,
    /// Keep at most this many values (fewer than the service's cap; the
    /// acme-dns API keeps two).
    pub keep: Option<usize>,
    /// The requester's public source address.
    pub source: IpAddr,
}

impl ChallengeRequest {
    /// A request to `change` the challenge values of `host`.
    pub fn new(
        host: SentName,
        credential: Credential,
        change: ChallengeChange,
        source: IpAddr,
    ) -> Self {
        Self {
            host,
            credential,
            change,
            keep: None,
            source,
        }
    }

    /// Keeps at most `keep` values (at least one) after this change.
    #[must_use]
    pub fn keeping(mut self, keep: usize) -> Self {
        self.keep = Some(keep.max(1));
        self
    }
}

/// A router's prefix report: move the AAAA records that follow `host`'s
/// prefix ([`crate::RecordConfig::follow`]), with the credential of
/// `host`'s own record.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PrefixRequest {
    /// The prefix source as sent (the router's host name).
    pub host: SentName,
    /// The proof: the credential of the host's A record (or of its AAAA
    /// record when it has no A record, or the A record's does not match).
    pub credential: Credential,
    /// The prefix now delegated, or its removal.
    pub change: PrefixChange,
    /// The requester's public source address.
    pub source: IpAddr,
}

impl PrefixRequest {
    /// A report of `change` for the followers of `host`.
    pub fn new(
        host: SentName,
        credential: Credential,
        change: PrefixChange,
        source: IpAddr,
    ) -> Self {
        Self {
            host,
            credential,
            change,
            source,
        }
    }
}
