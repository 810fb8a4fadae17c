//! The ACME DNS-01 use case of [`DdnsService`]: a host's credential adds
//! and removes TXT values at `_acme-challenge.<host>` and nowhere else.
//!
//! The values of one challenge name take turns like the sets of one record.
//! Each change publishes the whole RRset (values oldest first, at most
//! [`ChallengeRules::max_values`], the rules' TTL) and then stores it with a
//! compare-and-set; a change that loses that race to another server
//! sharing the store starts again from what the store holds. The last
//! value removed deletes the RRset and the store's row. Values older than
//! [`ChallengeRules::max_age`] (counted from the name's last change) are
//! dropped by the next change of the name and by
//! [`DdnsService::expire_challenges`].

use crate::domain::challenge::{ChallengeRules, challenge_host, challenge_name};
use crate::domain::hostname::{Hostname, SentName};
use crate::domain::record::{ChangeUpdate, Record, RecordConfig, RecordKey, RecordType};
use crate::domain::secret::SharedSecret;
use crate::domain::timestamp::Timestamp;
use crate::domain::value::{RecordValue, TxtValue};
use crate::error::Error;
use crate::ports::batching::align_results;
use crate::ports::provider::DnsChange;
use crate::usecases::admin::GENERATED_SECRET_DIGITS;
use crate::usecases::outcome::{ChallengeOutcome, Failure};
use crate::usecases::request::{ChallengeChange, ChallengeRequest, Credential};

use super::{Authenticated, DdnsService, Proof};
use crate::domain::signed::SignedMode;

/// How often a change that lost the store's compare-and-set starts again.
const ATTEMPTS: usize = 4;

impl DdnsService {
    /// The rules challenge values follow in this service.
    pub fn challenge_rules(&self) -> ChallengeRules {
        self.challenge
    }

    /// Adds or removes one ACME DNS-01 value at `_acme-challenge.<host>`,
    /// authenticated by the credential of `host`'s own record. The same
    /// steps as a `set` decide first (the record, the credential,
    /// `require_signed`, the host's budget); the record's lock does not
    /// apply (it freezes the address only).
    ///
    /// # Errors
    ///
    /// The first [`Failure`]: [`Failure::NotConfigured`] when the host has
    /// no A or AAAA record (or no challenge name fits), a credential
    /// failure, [`Failure::HostRateLimited`], or a backend failure, after
    /// which the store holds what it held before.
    pub async fn challenge(&self, request: ChallengeRequest) -> Result<ChallengeOutcome, Failure> {
        let source = request.source.to_canonical();
        let hostname = self
            .authenticate_host(&request.host, &request.credential, source)
            .await?;
        let name = challenge_name(&hostname).map_err(|_| Failure::NotConfigured {
            hostname: request.host.as_sent().to_owned(),
            record_type: RecordType::Txt,
        })?;
        let key = RecordKey::txt(name.clone());
        let cap = request
            .keep
            .map_or(self.challenge.max_values(), |keep| {
                keep.min(self.challenge.max_values())
            })
            .max(1);
        let _turn = self.turns.lock(key.clone()).await;
        for _ in 0..ATTEMPTS {
            let now = self.clock.now();
            let stored = self.store.get(&key).await.map_err(Failure::store)?;
            let before = stored
                .as_ref()
                .map(|record| self.live_values(record, now))
                .unwrap_or_default();
            let mut values = before.clone();
            match &request.change {
                ChallengeChange::Present(value) => {
                    if !values.contains(value) {
                        values.push(value.clone());
                    }
                }
                ChallengeChange::Cleanup(value) => values.retain(|v| v != value),
                ChallengeChange::Replace(wanted) => {
                    values.clear();
                    for value in wanted {
                        if !values.contains(value) {
                            values.push(value.clone());
                        }
                    }
                }
            }
            let excess = values.len().saturating_sub(cap);
            values.drain(..excess);
            let held = stored.as_ref().map_or(0, |r| r.state.values.len());
            if values == before && held == before.len() {
                return Ok(ChallengeOutcome {
                    name,
                    values,
                    changed: false,
                });
            }
            self.publish_challenge(&key, &values).await?;
            if self.store_challenge(&key, stored, &values, now).await? {
                return Ok(ChallengeOutcome {
                    name,
                    values,
                    changed: true,
                });
            }
        }
        Err(Failure::ConcurrentUpdate {
            hostname: request.host.as_sent().to_owned(),
        })
    }

    /// Removes every challenge name whose values are older than the
    /// rules' maximum age, from DNS and then from the store; returns how
    /// many were removed. Reads every record of the store: run it every
    /// few minutes, not per request.
    ///
    /// # Errors
    ///
    /// The store's error when it cannot be listed; a name whose removal
    /// fails is left for the next round.
    pub async fn expire_challenges(&self) -> crate::error::Result<usize> {
        let mut removed = 0;
        for record in self.store.list_all().await? {
            if record.key.record_type() != RecordType::Txt
                || challenge_host(record.key.name()).is_none()
                || !self.is_expired(&record, self.clock.now())
            {
                continue;
            }
            let _turn = self.turns.lock(record.key.clone()).await;
            // Read again in turn: a request may have renewed it meanwhile.
            let Ok(Some(record)) = self.store.get(&record.key).await else {
                continue;
            };
            if self.is_expired(&record, self.clock.now())
                && self.publish_challenge(&record.key, &[]).await.is_ok()
                && self.store.delete(&record.key).await.is_ok()
            {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Authenticates `host` by the credential of its A record, or of its
    /// AAAA record when it has no A record or the A record's credential
    /// does not match.
    pub(super) async fn authenticate_host(
        &self,
        host: &SentName,
        credential: &Credential,
        source: std::net::IpAddr,
    ) -> Result<Hostname, Failure> {
        let mut first = None;
        for record_type in RecordType::ADDRESSES {
            let (sent_name, key) = super::named(host, record_type);
            let proof = Proof {
                credential,
                mode: SignedMode::Set,
                address: source,
            };
            match self
                .authenticate(host, sent_name, key, record_type, proof, source)
                .await
            {
                Ok(Authenticated { record, .. }) => {
                    if let Some(hostname) = record.key.name().as_hostname() {
                        return Ok(hostname);
                    }
                }
                Err(failure @ (Failure::NotConfigured { .. } | Failure::HashMismatch)) => {
                    // A missing record says less than a wrong credential.
                    if !matches!(
                        (&first, &failure),
                        (Some(Failure::HashMismatch), Failure::NotConfigured { .. })
                    ) {
                        first = Some(failure);
                    }
                }
                Err(other) => return Err(other),
            }
        }
        Err(first.unwrap_or(Failure::HashMismatch))
    }

    /// The record's TXT values, or none when they are older than the
    /// maximum age.
    fn live_values(&self, record: &Record, now: Timestamp) -> Vec<TxtValue> {
        if self.is_expired(record, now) {
            return Vec::new();
        }
        record
            .state
            .values
            .iter()
            .filter_map(|value| match value {
                RecordValue::Txt(txt) => Some(txt.clone()),
                _ => None,
            })
            .collect()
    }

    fn is_expired(&self, record: &Record, now: Timestamp) -> bool {
        record
            .state
            .last_updated
            .and_then(|at| now.duration_since(at))
            .is_some_and(|age| age > self.challenge.max_age())
    }

    /// Sets the challenge RRset to `values`, or deletes it when there are
    /// none, within the provider timeout.
    async fn publish_challenge(&self, key: &RecordKey, values: &[TxtValue]) -> Result<(), Failure> {
        let change = if values.is_empty() {
            DnsChange::delete(key.clone())
        } else {
            DnsChange::upsert_set(
                key.clone(),
                self.challenge.ttl(),
                values.iter().cloned().map(RecordValue::Txt).collect(),
            )
            .map_err(Failure::dns)?
        };
        let changes = std::slice::from_ref(&change);
        let results = self
            .timed(self.provider.apply(changes))
            .await
            .map_err(Failure::dns)?;
        match align_results(changes, results).pop() {
            Some(Ok(())) => Ok(()),
            Some(Err(error)) => Err(Failure::dns(error)),
            None => Err(Failure::dns(Error::unavailable(
                "the DNS provider returned no result for the change",
                false,
            ))),
        }
    }

    /// Stores `values` as the name's state: creates the row for the first
    /// value, deletes it with the last, and otherwise writes with a
    /// compare-and-set on what `stored` held. False when another writer
    /// changed the row first.
    async fn store_challenge(
        &self,
        key: &RecordKey,
        stored: Option<Record>,
        values: &[TxtValue],
        now: Timestamp,
    ) -> Result<bool, Failure> {
        let values: Vec<RecordValue> = values.iter().cloned().map(RecordValue::Txt).collect();
        let previous = match stored {
            None if values.is_empty() => return Ok(true),
            None => {
                let secret =
                    SharedSecret::generate(GENERATED_SECRET_DIGITS).map_err(Failure::store)?;
                let mut config = RecordConfig::new(secret);
                config.ttl = Some(self.challenge.ttl());
                match self.store.create(&Record::new(key.clone(), config)).await {
                    Ok(()) => Vec::new(),
                    Err(Error::Conflict { .. }) => return Ok(false),
                    Err(e) => return Err(Failure::store(e)),
                }
            }
            Some(_) if values.is_empty() => {
                return match self.store.delete(key).await {
                    Ok(()) | Err(Error::NotFound { .. }) => Ok(true),
                    Err(e) => Err(Failure::store(e)),
                };
            }
            Some(record) => record.state.values,
        };
        let change = ChangeUpdate {
            previous,
            values,
            at: now,
        };
        match self.store.record_change(key, change).await {
            Ok(written) => Ok(written),
            Err(Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(Failure::store(e)),
        }
    }
}
