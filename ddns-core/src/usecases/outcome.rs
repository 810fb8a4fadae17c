//! What the use cases answer, before any codec turns it into bytes.
//!
//! The service decides; codecs only render. Each variant of [`Failure`]
//! corresponds to one message of `docs/PROTOCOL.md` section 1 (or to a
//! new failure case the original lacked), so that the seed codec and the
//! dyndns2 codec speak of the same decisions in their own words.

use std::net::{IpAddr, Ipv6Addr};

use crate::domain::hostname::{Hostname, RecordName};
use crate::domain::prefix::PrefixError;
use crate::domain::record::{GroupMember, RecordType};
use crate::domain::signed::SignedFormatError;
use crate::domain::value::TxtValue;
use crate::error::Error;

/// A successful `set`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetOutcome {
    /// DNS already holds the address; nothing was changed.
    Unchanged {
        /// The address the record holds.
        address: IpAddr,
    },
    /// DNS was changed to the address.
    Changed {
        /// The host name as the client sent it, with a trailing dot.
        hostname: String,
        /// The address now in DNS.
        address: IpAddr,
    },
}

/// A successful `list_hosts`: the caller's discovery group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostList {
    /// The members, sorted by host name then type; the caller's own record
    /// is among them.
    pub members: Vec<GroupMember>,
}

/// What a challenge request left at the challenge name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChallengeOutcome {
    /// The challenge name (`_acme-challenge.<host>.`).
    pub name: RecordName,
    /// The values it now holds, oldest first (none: the RRset is gone).
    pub values: Vec<TxtValue>,
    /// False when the request changed nothing (a value present already, or
    /// a cleanup of one that is not there): no DNS call was made.
    pub changed: bool,
}

/// What a prefix report did to one follower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FollowerMove {
    /// Its AAAA record now holds this address.
    Moved(Ipv6Addr),
    /// It held this address already: no DNS call was made for it.
    Unchanged(Ipv6Addr),
    /// Its AAAA RRset was deleted (the prefix was withdrawn).
    Removed,
    /// The prefix was withdrawn and it held no address: nothing to do.
    Absent,
}

/// One follower of a prefix report and how it ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FollowerResult {
    /// The follower's host name.
    pub host: Hostname,
    /// What happened, or why it was left as it was.
    pub result: Result<FollowerMove, Failure>,
}

/// What a prefix report did: every follower of the source, sorted by name.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PrefixOutcome {
    /// The prefix source whose credential the request proved.
    pub source: Hostname,
    /// Each follower's result.
    pub followers: Vec<FollowerResult>,
    /// How many calls to the DNS provider the report made: one when any
    /// follower moved (the provider batches per backend), none otherwise.
    pub dns_calls: usize,
}

impl PrefixOutcome {
    /// How many followers' DNS records changed.
    pub fn changed(&self) -> usize {
        self.followers
            .iter()
            .filter(|f| matches!(f.result, Ok(FollowerMove::Moved(_) | FollowerMove::Removed)))
            .count()
    }

    /// The first follower that failed for a reason worth retrying (a
    /// backend failure or a lost race), if any; refusals by a follower's
    /// own rules are not.
    pub fn retryable_failure(&self) -> Option<&Failure> {
        self.followers.iter().find_map(|f| match &f.result {
            Err(failure @ (Failure::Backend { .. } | Failure::ConcurrentUpdate { .. })) => {
                Some(failure)
            }
            _ => None,
        })
    }
}

/// Which backend a [`Failure::Backend`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The record store.
    Store,
    /// The DNS provider.
    Dns,
}

/// Why a request did not succeed, in the order the service decides.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Failure {
    /// The `hash` argument is not 64 hex digits (message 1).
    BadHashFormat,
    /// `internalIp` is present but is not an IP address (new).
    InvalidAddress {
        /// The argument as sent, shortened for display.
        sent: String,
    },
    /// No record with that name and type is configured (message 2).
    NotConfigured {
        /// The host name as sent, with a trailing dot.
        hostname: String,
        /// The type that was looked up.
        record_type: RecordType,
    },
    /// The token does not match (message 3).
    HashMismatch,
    /// The record is locked (message 4).
    Locked {
        /// The host name as sent, with a trailing dot.
        hostname: String,
    },
    /// `allow_internal` forbids the address (message 5).
    InternalNotAllowed {
        /// The host name as sent, with a trailing dot.
        hostname: String,
    },
    /// The address is not a unicast host address and is never set (new).
    NotUnicast {
        /// The refused address.
        address: IpAddr,
    },
    /// The caller's record lacks `read_privilege` (message 6).
    NoReadPrivilege,
    /// DNS holds more than one value for the record (message 7).
    MultipleValues,
    /// The record accepts only signed requests, and this one carried a
    /// hash token or a password (new; `require_signed`).
    SignatureRequired {
        /// The host name as sent, with a trailing dot.
        hostname: String,
    },
    /// A signed request's `signature`, `timestamp` or `nonce` is malformed
    /// (new).
    BadSignedFormat(SignedFormatError),
    /// A signed request's signature does not match (new).
    SignatureMismatch,
    /// A signed request's timestamp is too far from the server's clock
    /// (new).
    StaleTimestamp {
        /// Request time minus server time, in seconds.
        skew_seconds: i64,
        /// The accepted distance either way, in seconds.
        window_seconds: u64,
    },
    /// A signed request is not newer than the last one accepted for the
    /// record: a replay, or an older request arriving late (new).
    Replayed {
        /// The host name as sent, with a trailing dot.
        hostname: String,
    },
    /// The record cannot be used: its stored configuration is unsafe (an
    /// empty or missing shared secret). Every request for it is refused, and
    /// clients are told what a wrong credential is told (new).
    UnusableRecord {
        /// The host name as sent, with a trailing dot.
        hostname: String,
        /// What is wrong with the stored record, for the operator's log.
        reason: &'static str,
    },
    /// The request proved its credential, but the host name's budget of
    /// requests is spent for now ([`crate::HostBudget`]; new).
    HostRateLimited {
        /// The host name as sent, with a trailing dot.
        hostname: String,
    },
    /// Another writer (a server sharing the store) changed the record while
    /// this request was changing it, and its change stays; the request may
    /// be sent again (new).
    ConcurrentUpdate {
        /// The host name as sent, with a trailing dot.
        hostname: String,
    },
    /// A DNS UPDATE asked to change what its key may not change, or in a
    /// way the record cannot hold (new; RFC 2136's REFUSED).
    OutOfScope {
        /// What was asked, and what the key may do instead.
        reason: String,
    },
    /// A prefix report cannot move this follower (new): its interface
    /// identifier does not fit below the prefix.
    PrefixRefused {
        /// The follower's host name.
        hostname: String,
        /// Why.
        error: PrefixError,
    },
    /// A backend failed (new); the request may or may not be retried.
    Backend {
        /// Which backend.
        backend: Backend,
        /// What it said, for logs; never shown to clients.
        error: Error,
    },
}

impl Failure {
    /// A [`Failure::Backend`] from the record store.
    pub fn store(error: Error) -> Self {
        Self::Backend {
            backend: Backend::Store,
            error,
        }
    }

    /// True when the request failed to prove it knows the secret, or
    /// replayed a proof: what rate limits charge more for.
    pub fn is_authentication_failure(&self) -> bool {
        matches!(
            self,
            Self::BadHashFormat
                | Self::HashMismatch
                | Self::BadSignedFormat(_)
                | Self::SignatureMismatch
                | Self::StaleTimestamp { .. }
                | Self::Replayed { .. }
                | Self::UnusableRecord { .. }
        )
    }

    /// True when the request proved nothing about the record it named: an
    /// authentication failure, or a name with no record. Rate limits charge
    /// such requests to their source, never to the host name.
    pub fn is_unproven(&self) -> bool {
        self.is_authentication_failure() || matches!(self, Self::NotConfigured { .. })
    }

    /// A [`Failure::Backend`] from the DNS provider.
    pub fn dns(error: Error) -> Self {
        Self::Backend {
            backend: Backend::Dns,
            error,
        }
    }

    /// What the operator must see of this failure in a log, with the whole
    /// chain of causes: a backend's error, or why a stored record is
    /// unusable. `None` for failures that are the client's doing.
    ///
    /// ```
    /// use ddns_core::{Error, Failure};
    /// let failure = Failure::dns(
    ///     Error::unavailable("Route 53 did not answer", true)
    ///         .with_source(std::io::Error::other("connection reset")),
    /// );
    /// let detail = failure.operator_detail().unwrap();
    /// assert!(detail.starts_with("the DNS provider failed: "), "{detail}");
    /// assert!(detail.ends_with("caused by: connection reset"), "{detail}");
    /// assert!(Failure::HashMismatch.operator_detail().is_none());
    /// ```
    pub fn operator_detail(&self) -> Option<String> {
        match self {
            Self::Backend { backend, error } => {
                let what = match backend {
                    Backend::Store => "the record store",
                    Backend::Dns => "the DNS provider",
                };
                let mut text = format!("{what} failed: {error}");
                let mut cause = std::error::Error::source(error);
                while let Some(c) = cause {
                    let line = c.to_string();
                    if !text.contains(&line) {
                        text.push_str("; caused by: ");
                        text.push_str(&line);
                    }
                    cause = c.source();
                }
                Some(text)
            }
            Self::UnusableRecord { hostname, reason } => {
                Some(format!("the record {hostname} is unusable: {reason}"))
            }
            // The operator's setting, not the router's doing.
            Self::PrefixRefused { hostname, error } => Some(format!(
                "the reported prefix cannot move {hostname}: {error}; fix its --ipv6-interface-id"
            )),
            _ => None,
        }
    }
}
