//! The RFC 2136 use case of [`DdnsService`]: what a record's own TSIG key
//! may change, and the changes themselves, which go through the same rules
//! as HTTP requests.
//!
//! The key of the record `HOST` is named `HOST.` and its secret is the
//! record's shared secret ([`SharedSecret::tsig_base64`] prints it). It
//! may change the host's own A and AAAA records (to one address each, as
//! a `set` with a password: any public address, internal ones only with
//! `allow_internal`, never a locked record) and the TXT values at
//! `_acme-challenge.HOST` (as [`DdnsService::challenge`]), nothing else.
//! The transport verifies the message's MAC and time (RFC 8945) and works
//! out the RRsets the message leaves (RFC 2136 section 3.4); this module
//! decides on them.

use std::net::IpAddr;

use crate::domain::challenge::{challenge_name, challenge_value};
use crate::domain::hostname::{Hostname, SentName};
use crate::domain::record::{RecordKey, RecordType};
use crate::domain::secret::SharedSecret;
use crate::domain::value::RecordValue;
use crate::usecases::outcome::Failure;
use crate::usecases::request::{ChallengeChange, ChallengeRequest, Credential, SetRequest};

use super::DdnsService;

/// One RRset as an UPDATE message leaves it: every value it holds after
/// the message (none: the RRset is deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RrsetUpdate {
    /// The RRset's name and type.
    pub key: RecordKey,
    /// Its values after the message.
    pub values: Vec<RecordValue>,
    /// The TTL the message's additions gave (the largest), if any. A
    /// record's own key cannot set it (the record's TTL applies); an
    /// operator key's changes keep it.
    pub ttl: Option<u32>,
}

impl RrsetUpdate {
    /// The RRset `key` with `values`.
    pub fn new(key: RecordKey, values: Vec<RecordValue>) -> Self {
        Self {
            key,
            values,
            ttl: None,
        }
    }

    /// Sets the TTL the message gave.
    #[must_use]
    pub fn with_ttl(mut self, ttl: Option<u32>) -> Self {
        self.ttl = ttl;
        self
    }
}

/// An authenticated DNS UPDATE signed with the key of `host`'s record.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DnsUpdateRequest {
    /// The host whose key signed the message.
    pub host: Hostname,
    /// The secret the signature was verified with.
    pub secret: SharedSecret,
    /// The RRsets the message changes.
    pub rrsets: Vec<RrsetUpdate>,
    /// The sender's address.
    pub source: IpAddr,
}

impl DnsUpdateRequest {
    /// An update of `rrsets`, signed with `host`'s key of `secret`.
    pub fn new(
        host: Hostname,
        secret: SharedSecret,
        rrsets: Vec<RrsetUpdate>,
        source: IpAddr,
    ) -> Self {
        Self {
            host,
            secret,
            rrsets,
            source,
        }
    }
}

impl DdnsService {
    /// The secret of the TSIG key named after `host`: its A record's
    /// secret, or its AAAA record's when it has no A record. `None` when
    /// the host has neither, or its secret is empty (such a key would be
    /// known to anyone).
    ///
    /// # Errors
    ///
    /// [`Failure::Backend`] when the store fails.
    pub async fn update_key(&self, host: &Hostname) -> Result<Option<SharedSecret>, Failure> {
        if !self.serves(host.as_ref()) {
            return Ok(None);
        }
        for record_type in RecordType::ADDRESSES {
            let key = RecordKey::new(host.clone(), record_type);
            if let Some(record) = self.store.get(&key).await.map_err(Failure::store)? {
                let secret = record.config.shared_secret;
                return Ok((!secret.is_empty()).then_some(secret));
            }
        }
        Ok(None)
    }

    /// Applies the RRsets of an UPDATE signed with `request.host`'s key,
    /// after checking that the key may change every one of them (nothing
    /// is changed otherwise). Returns how many RRsets changed.
    ///
    /// # Errors
    ///
    /// [`Failure::OutOfScope`] for an RRset the key may not change, or an
    /// address RRset left with no value or several; otherwise the first
    /// failure of the `set` or challenge it became (RRsets before it stay
    /// changed).
    pub async fn dns_update(&self, request: DnsUpdateRequest) -> Result<usize, Failure> {
        let host = &request.host;
        let challenge = challenge_name(host).ok();
        for rrset in &request.rrsets {
            let name = rrset.key.name();
            let allowed = match rrset.key.record_type() {
                RecordType::Txt => challenge.as_ref() == Some(name),
                t => t.is_address() && name == host.as_ref(),
            };
            if !allowed {
                return Err(Failure::OutOfScope {
                    reason: format!(
                        "the key {host} may change {host} A and AAAA and {} TXT only, not {} {}",
                        challenge.as_ref().map_or("_acme-challenge", |c| c.as_str()),
                        name,
                        rrset.key.record_type()
                    ),
                });
            }
            if let Some(RecordValue::Txt(bad)) = rrset.values.iter().find(|v| {
                matches!(v, RecordValue::Txt(txt) if challenge_value(&txt.text()).ok().as_ref() != Some(txt))
            }) {
                return Err(Failure::OutOfScope {
                    reason: format!(
                        "a challenge value is one string of printable ASCII, at most 255 bytes, not {bad}"
                    ),
                });
            }
            if rrset.key.record_type().is_address() && rrset.values.len() != 1 {
                return Err(Failure::OutOfScope {
                    reason: format!(
                        "{} {} holds exactly one address: replace it (delete the RRset and add one value) rather than leave {}",
                        name,
                        rrset.key.record_type(),
                        rrset.values.len()
                    ),
                });
            }
        }
        let sent = SentName::parse(host.as_str());
        let credential = Credential::Tsig(request.secret.clone());
        let mut changed = 0;
        for rrset in request.rrsets {
            if rrset.key.record_type() == RecordType::Txt {
                let values = rrset
                    .values
                    .into_iter()
                    .filter_map(|v| match v {
                        RecordValue::Txt(txt) => Some(txt),
                        _ => None,
                    })
                    .collect();
                let outcome = self
                    .challenge(ChallengeRequest::new(
                        sent.clone(),
                        credential.clone(),
                        ChallengeChange::Replace(values),
                        request.source,
                    ))
                    .await?;
                changed += usize::from(outcome.changed);
            } else {
                let address = rrset.values.first().and_then(RecordValue::address);
                let outcome = self
                    .set(
                        SetRequest::new(sent.clone(), credential.clone(), request.source)
                            .with_address(address),
                    )
                    .await?;
                changed += usize::from(matches!(outcome, crate::SetOutcome::Changed { .. }));
            }
        }
        Ok(changed)
    }
}
