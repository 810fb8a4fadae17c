//! The prefix use case of [`DdnsService`]: a router's report of its
//! delegated IPv6 prefix moves every AAAA record that follows it.
//!
//! A follower ([`crate::RecordConfig::follow`]) names its prefix source and
//! keeps an interface identifier; its address is prefix + identifier. Only
//! a request that proves the credential of the source's own record (as
//! [`DdnsService::challenge`] does) moves its followers, and each computed
//! address passes the follower's own rules: its lock, its
//! `require_signed`, the identifier fitting below the prefix, and the
//! address policy as for a password (any public address; internal ones,
//! a ULA prefix, only with `allow_internal`; never-settable ones never).
//!
//! The router's report wins: every accepted report makes each follower
//! prefix + identifier, so an address a follower's own credential set
//! holds until the router's next report. A follower whose stored address
//! is that already is left alone, so an unchanged prefix makes no DNS call
//! at all; the rest go to the provider in one [`DnsProvider::apply`] call
//! (which a router of zones splits per backend, and each backend sends as
//! one batch within its limits), and each is then stored with a
//! compare-and-set, as a `set` is.
//!
//! [`DnsProvider::apply`]: crate::DnsProvider::apply

use std::net::IpAddr;

use crate::domain::policy::{AddressAuthority, AddressRefusal, check_address, check_lock};
use crate::domain::prefix::{PrefixChange, PrefixRules};
use crate::domain::record::{ChangeUpdate, Record, RecordKey};
use crate::domain::value::RecordValue;
use crate::ports::provider::DnsChange;
use crate::usecases::outcome::{Failure, FollowerMove, FollowerResult, PrefixOutcome};
use crate::usecases::request::{Credential, PrefixRequest};

use super::DdnsService;

/// A follower that moves, with what it moves to.
struct Move {
    record: Record,
    ttl: u32,
    /// The address it takes; `None` removes its RRset.
    target: Option<IpAddr>,
}

impl DdnsService {
    /// The prefix lengths this service's codecs accept.
    pub fn prefix_rules(&self) -> PrefixRules {
        self.prefix
    }

    /// Applies a router's prefix report to the AAAA records that follow
    /// `request.host` (see the module documentation for the rules).
    ///
    /// Per-follower refusals and failures are in the outcome; the request
    /// itself fails only when the source's credential does not prove out.
    ///
    /// # Errors
    ///
    /// [`Failure::NotConfigured`] when the source has no A or AAAA record,
    /// a credential failure, [`Failure::HostRateLimited`], or a store
    /// failure while looking up the followers.
    pub async fn follow_prefix(&self, request: PrefixRequest) -> Result<PrefixOutcome, Failure> {
        let source = request.source.to_canonical();
        let host = self
            .authenticate_host(&request.host, &request.credential, source)
            .await?;
        let signed = matches!(
            request.credential,
            Credential::Signed(_) | Credential::Tsig(_)
        );
        let mut keys: Vec<RecordKey> = self
            .followers_of(&host)
            .await?
            .into_iter()
            .map(|record| record.key)
            .collect();
        keys.sort();
        keys.dedup();
        // Turns in one order (sorted keys), so two reports never wait on
        // each other in a circle; single-record turns never hold two.
        let mut turns = Vec::with_capacity(keys.len());
        for key in &keys {
            turns.push(self.turns.lock(key.clone()).await);
        }
        // Read again in turn: what they hold now decides. A follower added
        // since the first read waits for the next report.
        let mut followers = self.followers_of(&host).await?;
        followers.retain(|record| keys.binary_search(&record.key).is_ok());

        let mut results = Vec::with_capacity(followers.len());
        let mut moves = Vec::new();
        for record in followers {
            let Some(follower) = record.key.name().as_hostname() else {
                continue;
            };
            match self.decide(&record, request.change, signed, source) {
                Ok(Some(target)) => {
                    let ttl = record
                        .config
                        .effective_ttl(self.default_ttl_of(record.key.name()));
                    moves.push((
                        follower,
                        Move {
                            record,
                            ttl,
                            target,
                        },
                    ));
                }
                Ok(None) => {
                    let kept = match record.state.address() {
                        Some(IpAddr::V6(address)) => FollowerMove::Unchanged(address),
                        _ => FollowerMove::Absent,
                    };
                    results.push((follower, Ok(kept)));
                }
                Err(failure) => results.push((follower, Err(failure))),
            }
        }

        let dns_calls = usize::from(!moves.is_empty());
        if !moves.is_empty() {
            self.apply_moves(moves, &mut results).await;
        }
        drop(turns);
        results.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(PrefixOutcome {
            source: host,
            followers: results
                .into_iter()
                .map(|(host, result)| FollowerResult { host, result })
                .collect(),
            dns_calls,
        })
    }

    /// The followers of `host` in the zones served, read from the store
    /// itself (a cache in front of it reads through).
    async fn followers_of(&self, host: &crate::Hostname) -> Result<Vec<Record>, Failure> {
        let mut followers = self.store.followers(host).await.map_err(Failure::store)?;
        followers.retain(|record| self.serves(record.key.name()));
        Ok(followers)
    }

    /// Where `record` goes for `change`: `Ok(None)` when it stays as it
    /// is, `Ok(Some(None))` when its RRset goes, `Ok(Some(Some(address)))`
    /// when it takes that address.
    fn decide(
        &self,
        record: &Record,
        change: PrefixChange,
        signed: bool,
        source: IpAddr,
    ) -> Result<Option<Option<IpAddr>>, Failure> {
        let hostname = record.key.name().to_string();
        let Some(follow) = &record.config.follow else {
            return Ok(None);
        };
        check_lock(record.config.lock_record).map_err(|_| Failure::Locked {
            hostname: hostname.clone(),
        })?;
        if record.config.require_signed && !signed {
            return Err(Failure::SignatureRequired { hostname });
        }
        let target = match change {
            PrefixChange::Remove => {
                return Ok((!record.state.values.is_empty()).then_some(None));
            }
            PrefixChange::Set(prefix) => {
                IpAddr::V6(prefix.address_of(follow.interface_id).map_err(|error| {
                    Failure::PrefixRefused {
                        hostname: hostname.clone(),
                        error,
                    }
                })?)
            }
        };
        check_address(
            record.config.allow_internal,
            AddressAuthority::AnyPublic,
            target,
            source,
        )
        .map_err(|refusal| match refusal {
            AddressRefusal::NotUnicast => Failure::NotUnicast { address: target },
            AddressRefusal::InternalNotAllowed => Failure::InternalNotAllowed { hostname },
        })?;
        let holds = record.state.values.len() == 1 && record.state.address() == Some(target);
        Ok((!holds).then_some(Some(target)))
    }

    /// Sends every move to the provider in one call, then stores each one
    /// that DNS took.
    async fn apply_moves(
        &self,
        moves: Vec<(crate::Hostname, Move)>,
        results: &mut Vec<(crate::Hostname, Result<FollowerMove, Failure>)>,
    ) {
        let mut changes = Vec::with_capacity(moves.len());
        let mut ready = Vec::with_capacity(moves.len());
        for (follower, step) in moves {
            let change = match step.target {
                Some(address) => {
                    DnsChange::upsert_set(step.record.key.clone(), step.ttl, vec![address.into()])
                }
                None => Ok(DnsChange::delete(step.record.key.clone())),
            };
            match change {
                Ok(change) => {
                    changes.push(change);
                    ready.push((follower, step));
                }
                Err(error) => results.push((follower, Err(Failure::dns(error)))),
            }
        }
        let applied = match self.timed(self.provider.apply(&changes)).await {
            Ok(applied) => crate::ports::batching::align_results(&changes, applied),
            Err(error) => (0..changes.len()).map(|_| Err(error.clone())).collect(),
        };
        let now = self.clock.now();
        for ((follower, step), outcome) in ready.into_iter().zip(applied) {
            let key = &step.record.key;
            if let Err(error) = outcome {
                self.forget(key);
                results.push((follower, Err(Failure::dns(error))));
                continue;
            }
            let change = ChangeUpdate {
                previous: step.record.state.values.clone(),
                values: step.target.map(RecordValue::from).into_iter().collect(),
                at: now,
            };
            let written = self.store.record_change(key, change).await;
            let result = match written {
                Ok(true) => {
                    match step.target {
                        Some(address) => self.remember(key, address, now),
                        None => self.forget(key),
                    }
                    Ok(match step.target {
                        Some(IpAddr::V6(address)) => FollowerMove::Moved(address),
                        _ => FollowerMove::Removed,
                    })
                }
                Ok(false) => {
                    // Another writer changed it meanwhile: DNS goes back to
                    // what the store holds.
                    self.forget(key);
                    self.restore(key, step.ttl).await;
                    Err(Failure::ConcurrentUpdate {
                        hostname: key.name().to_string(),
                    })
                }
                Err(crate::error::Error::NotFound { .. }) => {
                    self.forget(key);
                    self.withdraw(key).await;
                    continue;
                }
                Err(error) => {
                    self.forget(key);
                    Err(Failure::store(error))
                }
            };
            results.push((follower, result));
        }
    }
}
