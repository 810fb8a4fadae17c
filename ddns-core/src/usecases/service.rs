//! The use cases: `get`, `set` and `list_hosts` of the seed protocol, and
//! (in `acme` and `update`) ACME challenges and RFC 2136 updates signed
//! with a record's own key, which decide with the same steps.
//!
//! [`DdnsService`] holds a [`RecordStore`] and a [`DnsProvider`] and applies
//! the rules of `docs/PROTOCOL.md` section 1 in its order of decisions:
//!
//! 1. the token's format, 2. the record's existence (a record whose stored
//!    secret is empty is refused here, [`Failure::UnusableRecord`]), 3. the
//!    token itself; then the host name's budget ([`crate::HostBudget`], spent
//!    only by requests that got this far), and only for an authenticated
//!    request within its budget, the access state is written;
//! 4. the lock, 5. the address policy (for `list_hosts`: 6. the read
//!    privilege), 7. the number of values in DNS.
//!
//! Nothing is written for a request whose token does not match.
//!
//! Signed requests (`docs/PROTOCOL.md` section 7, [`crate::signed`]) take
//! the same steps with the signature in place of the token, then two more
//! before anything else is written: the timestamp must be inside the window
//! and newer than the record's replay guard, which moves forward atomically
//! in the store. A record with `require_signed` refuses hash tokens and
//! passwords once they are checked, writing nothing.
//!
//! # One order per record
//!
//! The sets of one record take turns within a service (a fair async mutex
//! per record in use): the record is read, decided on, changed in DNS and
//! written to the store before the next set of that record starts, so the
//! request answered last is the value both sides hold. Unrelated records
//! never wait for each other. Across processes the store write is a
//! compare-and-set on the address read ([`RecordStore::record_change`]);
//! a set that loses it puts DNS back to the address the store holds and
//! fails with [`Failure::ConcurrentUpdate`]. A failed or lost store write
//! drops the remembered DNS value, so the next request reads DNS.
//!
//! # When is the address "already current"?
//!
//! Clients re-send their unchanged address every few minutes, so that case
//! must not cost a DNS backend call (Route 53 allows five per second per
//! account). The service keeps, per record, the single value it *knows* DNS
//! holds: one it set itself or read back from the provider, and when. That
//! knowledge counts while it is younger than the recheck interval (default
//! [`DEFAULT_RECHECK_INTERVAL`]) and the store's `ip_address` agrees with it
//! (so a change made through another instance sharing the store is noticed
//! at once). Then:
//!
//! - a `set` to the known value is answered "matches" with no provider call;
//! - a `set` to another value is applied without reading DNS first (it is
//!   known to hold one value), so a renumbering burst costs only the
//!   batched changes.
//!
//! Without such knowledge the provider is asked for the current values
//! first, and the change is made only if they differ. A record changed
//! behind the system's back is therefore corrected at the first request
//! after the interval. A recheck interval of zero reproduces the original,
//! which read DNS on every `set`.

mod acme;
mod prefix;
mod update;

pub use update::{DnsUpdateRequest, RrsetUpdate};

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::domain::challenge::ChallengeRules;
use crate::domain::hostname::{RecordName, SentName};
use crate::domain::policy::{AddressAuthority, AddressRefusal, check_address, check_lock};
use crate::domain::prefix::PrefixRules;
use crate::domain::record::{
    AccessUpdate, ChangeUpdate, DEFAULT_TTL, Record, RecordKey, RecordType,
};
use crate::domain::signed::{DEFAULT_SIGNED_WINDOW, SignedMessage, SignedMode};
use crate::domain::timestamp::{Clock, SystemClock, Timestamp};
use crate::domain::value::RecordValue;
use crate::domain::zone::{Zone, Zones};
use crate::ports::budget::HostBudget;
use crate::ports::provider::{DnsChange, DnsProvider};
use crate::ports::store::RecordStore;
use crate::usecases::outcome::{Failure, HostList, SetOutcome};
use crate::usecases::record_lock::RecordLocks;
use crate::usecases::request::{Credential, ListHostsRequest, SetRequest};

/// How long a known DNS value is trusted before the provider is asked again.
pub const DEFAULT_RECHECK_INTERVAL: Duration = Duration::from_secs(300);

/// How long one call to the DNS provider may take before the `set` fails.
pub const DEFAULT_PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// Most records whose DNS value the service remembers; past it the memory
/// is cleared and rebuilt from the next requests (costing one read each).
const MAX_REMEMBERED: usize = 100_000;

/// Access-state updates waiting for the deferred write-back.
#[derive(Debug, Default)]
struct AccessBuffer {
    pending: Mutex<HashMap<RecordKey, AccessUpdate>>,
    /// Whether the flushing task was started.
    flusher: AtomicBool,
}

impl AccessBuffer {
    fn pending(&self) -> MutexGuard<'_, HashMap<RecordKey, AccessUpdate>> {
        // Only whole entries are inserted and taken: valid after a panic.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn flush(&self, store: &dyn RecordStore) -> crate::error::Result<()> {
        let updates: Vec<(RecordKey, AccessUpdate)> = self.pending().drain().collect();
        if updates.is_empty() {
            return Ok(());
        }
        let result = store.record_access_many(&updates).await;
        if result.is_err() {
            // Keep them for the next flush, unless a newer one came since.
            let mut pending = self.pending();
            for (key, access) in updates {
                pending.entry(key).or_insert(access);
            }
        }
        result
    }
}

#[derive(Debug, Clone, Copy)]
struct Known {
    address: IpAddr,
    at: Timestamp,
}

/// The dynamic DNS use cases over a store and a provider.
///
/// ```
/// use std::sync::Arc;
/// use ddns_core::memory::{MemoryProvider, MemoryStore};
/// use ddns_core::{Credential, DdnsService, HashToken, Hostname, Record, RecordConfig,
///     RecordKey, RecordStore, RecordType, SetOutcome, SetRequest, SharedSecret};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = Arc::new(MemoryStore::new());
/// let key = RecordKey::new(Hostname::parse("home.example.com")?, RecordType::A);
/// store.create(&Record::new(key, RecordConfig::new(SharedSecret::new("s3cret")))).await?;
/// let service = DdnsService::builder(store, Arc::new(MemoryProvider::new())).build();
///
/// let source = "198.51.100.7".parse()?;
/// let name = Hostname::parse("home.example.com")?;
/// let token = HashToken::compute(source, &name, &SharedSecret::new("s3cret"));
/// let outcome = service
///     .set(SetRequest::new(name.into(), Credential::Token(token), source))
///     .await;
/// assert!(matches!(outcome, Ok(SetOutcome::Changed { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })
/// # .map_err(|e| e.to_string())?; Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct DdnsService {
    store: Arc<dyn RecordStore>,
    provider: Arc<dyn DnsProvider>,
    clock: Arc<dyn Clock>,
    default_ttl: u32,
    zones: Option<Zones>,
    recheck_interval: Duration,
    signed_window: Duration,
    provider_timeout: Duration,
    known: Mutex<HashMap<RecordKey, Known>>,
    access_delay: Duration,
    access: Arc<AccessBuffer>,
    budget: Option<Arc<dyn HostBudget>>,
    turns: RecordLocks,
    challenge: ChallengeRules,
    prefix: PrefixRules,
}

/// Builds a [`DdnsService`]; see [`DdnsService::builder`].
#[derive(Debug)]
pub struct DdnsServiceBuilder {
    store: Arc<dyn RecordStore>,
    provider: Arc<dyn DnsProvider>,
    clock: Arc<dyn Clock>,
    default_ttl: u32,
    zones: Option<Zones>,
    recheck_interval: Duration,
    signed_window: Duration,
    provider_timeout: Duration,
    access_delay: Duration,
    budget: Option<Arc<dyn HostBudget>>,
    challenge: ChallengeRules,
    prefix: PrefixRules,
}

impl DdnsServiceBuilder {
    /// Limits the requests of each host name with `budget`, spent only by
    /// requests that proved their credential (see [`crate::HostBudget`]). None
    /// by default.
    #[must_use]
    pub fn with_host_budget(mut self, budget: Arc<dyn HostBudget>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// TTL for records that set none (default [`DEFAULT_TTL`], 60 s).
    /// With [`DdnsServiceBuilder::with_zones`], each zone's own default
    /// applies instead.
    #[must_use]
    pub fn with_default_ttl(mut self, ttl: u32) -> Self {
        self.default_ttl = ttl;
        self
    }

    /// The zones served: a request for a name in none of them is answered
    /// as for a host that is not configured, whatever the store holds, and
    /// a record without a TTL gets its zone's default. Without zones (the
    /// default) every record of the store is served.
    #[must_use]
    pub fn with_zones(mut self, zones: Zones) -> Self {
        self.zones = Some(zones);
        self
    }

    /// How long a known DNS value is trusted before the provider is read
    /// again (default [`DEFAULT_RECHECK_INTERVAL`]); zero reads every time.
    #[must_use]
    pub fn with_recheck_interval(mut self, interval: Duration) -> Self {
        self.recheck_interval = interval;
        self
    }

    /// How far a signed request's timestamp may be from the clock, either
    /// way (default [`DEFAULT_SIGNED_WINDOW`], 300 s).
    #[must_use]
    pub fn with_signed_window(mut self, window: Duration) -> Self {
        self.signed_window = window;
        self
    }

    /// How long one provider call (a read, a change) may take before the
    /// request fails as unavailable (default [`DEFAULT_PROVIDER_TIMEOUT`]).
    /// A change that timed out may still land: the service then forgets
    /// what it knew of the record's DNS value and reads it again next time.
    /// Applies under a tokio runtime (with time enabled); under another
    /// executor provider calls are not timed.
    #[must_use]
    pub fn with_provider_timeout(mut self, timeout: Duration) -> Self {
        self.provider_timeout = timeout;
        self
    }

    /// The clock for timestamps and the recheck interval (default: the
    /// system clock).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Defers the access-state write-back (`last_checked`,
    /// `last_accessed`) of authenticated requests by up to `delay`, writing
    /// all that gathered in one [`RecordStore::record_access_many`] call.
    ///
    /// Zero (the default) writes each request's access state before
    /// answering, as the original did. A delay takes that store write off
    /// every request's path, which matters with a durable store (one fsync
    /// per request otherwise); the price is that a crash loses at most
    /// `delay` of access times, which are informational. Call
    /// [`DdnsService::flush_access`] before shutting down. Without a tokio
    /// runtime the writes are made immediately.
    #[must_use]
    pub fn with_access_write_delay(mut self, delay: Duration) -> Self {
        self.access_delay = delay;
        self
    }

    /// Sets the rules of ACME challenge values (default
    /// [`ChallengeRules::default`]: TTL 60 s, 8 values, 3 hours).
    #[must_use]
    pub fn with_challenge_rules(mut self, rules: ChallengeRules) -> Self {
        self.challenge = rules;
        self
    }

    /// Sets the prefix lengths a router may report (default
    /// [`PrefixRules::default`]: /48 to /64).
    #[must_use]
    pub fn with_prefix_rules(mut self, rules: PrefixRules) -> Self {
        self.prefix = rules;
        self
    }

    /// The service.
    pub fn build(self) -> DdnsService {
        DdnsService {
            store: self.store,
            provider: self.provider,
            clock: self.clock,
            default_ttl: self.default_ttl,
            zones: self.zones,
            recheck_interval: self.recheck_interval,
            signed_window: self.signed_window,
            provider_timeout: self.provider_timeout,
            known: Mutex::new(HashMap::new()),
            access_delay: self.access_delay,
            access: Arc::new(AccessBuffer::default()),
            budget: self.budget,
            turns: RecordLocks::default(),
            challenge: self.challenge,
            prefix: self.prefix,
        }
    }
}

/// A request's credential with what a signature must cover.
#[derive(Clone, Copy)]
struct Proof<'a> {
    credential: &'a Credential,
    mode: SignedMode,
    address: IpAddr,
}

/// What steps 1-3 establish about a request: the record, authenticated.
struct Authenticated {
    record: Record,
    sent_name: String,
}

impl DdnsService {
    /// A builder over `store` and `provider`, with defaults for the rest.
    pub fn builder(
        store: Arc<dyn RecordStore>,
        provider: Arc<dyn DnsProvider>,
    ) -> DdnsServiceBuilder {
        DdnsServiceBuilder {
            store,
            provider,
            clock: Arc::new(SystemClock),
            default_ttl: DEFAULT_TTL,
            zones: None,
            recheck_interval: DEFAULT_RECHECK_INTERVAL,
            signed_window: DEFAULT_SIGNED_WINDOW,
            provider_timeout: DEFAULT_PROVIDER_TIMEOUT,
            access_delay: Duration::ZERO,
            budget: None,
            challenge: ChallengeRules::default(),
            prefix: PrefixRules::default(),
        }
    }

    /// The store this service reads and writes.
    pub fn store(&self) -> &Arc<dyn RecordStore> {
        &self.store
    }

    /// The provider this service changes DNS through.
    pub fn provider(&self) -> &Arc<dyn DnsProvider> {
        &self.provider
    }

    /// `mode=get`: the requester's own address, as the hash must cover it.
    /// Touches no backend.
    pub fn get(&self, source: IpAddr) -> IpAddr {
        source.to_canonical()
    }

    /// Whether `name` has a record of the type `source`'s family sets
    /// (in a zone served): what the upstream protocol answers before it
    /// looks at the hash (`docs/PROTOCOL.md`, "The upstream protocol").
    /// Proves nothing, changes nothing.
    ///
    /// # Errors
    ///
    /// [`Failure::Backend`] when the store cannot be read.
    pub async fn is_configured(&self, name: &SentName, source: IpAddr) -> Result<bool, Failure> {
        let record_type = RecordType::for_address(source.to_canonical());
        let Some(key) = named(name, record_type)
            .1
            .filter(|key| self.serves(key.name()))
        else {
            return Ok(false);
        };
        Ok(self
            .store
            .get_spelled(&key, name.as_sent())
            .await
            .map_err(Failure::store)?
            .is_some())
    }

    /// `set`: points the record at the request's address, or at the source
    /// address when none is given, if the credential and the record's rules
    /// allow. A hash token or a signature vouches for the source address
    /// only ([`AddressAuthority::SourceOnly`]); a password for any public
    /// address ([`AddressAuthority::AnyPublic`]), so a record without
    /// `allow_internal` takes a dual-stack router's IPv6 address sent from
    /// its IPv4 connection. Internal addresses always need
    /// `allow_internal`.
    ///
    /// # Errors
    ///
    /// The first [`Failure`] in the protocol's order of decisions.
    pub async fn set(&self, request: SetRequest) -> Result<SetOutcome, Failure> {
        let source = request.source.to_canonical();
        let target = request.address.map_or(source, |a| a.to_canonical());
        let authority = match request.credential {
            Credential::Password(_) | Credential::Tsig(_) => AddressAuthority::AnyPublic,
            _ => AddressAuthority::SourceOnly,
        };
        let proof = Proof {
            credential: &request.credential,
            mode: SignedMode::Set,
            address: target,
        };
        self.set_as(&request.name, proof, source, target, authority)
            .await
    }

    /// Every `set`: waits for the record's turn (one order per record in
    /// this process), authenticates, then points the record at `target`.
    /// The turn covers the record's read as well, so the state it decides
    /// on includes every earlier change made here.
    async fn set_as(
        &self,
        name: &SentName,
        proof: Proof<'_>,
        source: IpAddr,
        target: IpAddr,
        authority: AddressAuthority,
    ) -> Result<SetOutcome, Failure> {
        let record_type = RecordType::for_address(target);
        let (sent_name, key) = named(name, record_type);
        let _turn = match &key {
            Some(key) => Some(self.turns.lock(key.clone()).await),
            None => None,
        };
        let Authenticated { record, sent_name } = self
            .authenticate(name, sent_name, key, record_type, proof, source)
            .await?;
        self.point(record, sent_name, target, source, authority)
            .await
    }

    /// The rest of a `set` once authenticated: lock, address policy, DNS.
    async fn point(
        &self,
        record: Record,
        sent_name: String,
        target: IpAddr,
        source: IpAddr,
        authority: AddressAuthority,
    ) -> Result<SetOutcome, Failure> {
        check_lock(record.config.lock_record).map_err(|_| Failure::Locked {
            hostname: sent_name.clone(),
        })?;
        check_address(record.config.allow_internal, authority, target, source).map_err(
            |refusal| match refusal {
                AddressRefusal::NotUnicast => Failure::NotUnicast { address: target },
                AddressRefusal::InternalNotAllowed => Failure::InternalNotAllowed {
                    hostname: sent_name.clone(),
                },
            },
        )?;

        let now = self.clock.now();
        let key = &record.key;
        match self.known_value(&record, now) {
            Some(known) if known == target => {
                return Ok(SetOutcome::Unchanged { address: target });
            }
            // DNS is known to hold exactly one other value: change it
            // without reading it first.
            Some(_) => {}
            None => {
                let values = self
                    .timed(self.provider.current(key))
                    .await
                    .and_then(|read| read)
                    .map_err(Failure::dns)?;
                if values.len() > 1 {
                    return Err(Failure::MultipleValues);
                }
                if values.first().and_then(RecordValue::address) == Some(target) {
                    let stored = record.state.address();
                    if stored != Some(target)
                        && !self.record_change(key, stored, target, now).await?
                    {
                        // Another writer changed the record after DNS was
                        // read; its DNS change came after the read too.
                        return Err(Failure::ConcurrentUpdate {
                            hostname: sent_name,
                        });
                    }
                    self.remember(key, target, now);
                    return Ok(SetOutcome::Unchanged { address: target });
                }
            }
        }

        let ttl = record.config.effective_ttl(self.default_ttl_of(key.name()));
        if let Err(error) = self.upsert(key, ttl, target).await {
            // A failed change may still have reached DNS (a lost reply, a
            // timeout): what the service knew about the record no longer
            // holds.
            self.forget(key);
            return Err(Failure::dns(error));
        }
        // What DNS holds is remembered only once the store agrees: after a
        // failed write the next request reads DNS again.
        let written = match self
            .record_change(key, record.state.address(), target, now)
            .await
        {
            Err(Failure::Backend {
                error: crate::error::Error::NotFound { .. },
                ..
            }) => {
                // The record was removed while this request changed DNS:
                // take the name out again, so no name stays published
                // without a record behind it.
                self.withdraw(key).await;
                return Err(Failure::NotConfigured {
                    hostname: sent_name,
                    record_type: key.record_type(),
                });
            }
            other => other?,
        };
        if !written {
            // Another writer (a server sharing the store) changed the record
            // while this request changed DNS: its change reached DNS first,
            // and this one overwrote it. Put DNS back to the winner's address,
            // which the store holds, so the two agree.
            self.restore(key, ttl).await;
            return Err(Failure::ConcurrentUpdate {
                hostname: sent_name,
            });
        }
        self.remember(key, target, now);
        Ok(SetOutcome::Changed {
            hostname: sent_name,
            address: target,
        })
    }

    /// One DNS change of `key` to `address`, within the provider timeout.
    async fn upsert(&self, key: &RecordKey, ttl: u32, address: IpAddr) -> crate::error::Result<()> {
        let change = DnsChange::upsert_set(key.clone(), ttl, vec![address.into()])?;
        self.timed(self.provider.apply(std::slice::from_ref(&change)))
            .await
            .and_then(|mut results| {
                results.pop().unwrap_or_else(|| {
                    Err(crate::error::Error::unavailable(
                        "the DNS provider returned no result for the change",
                        false,
                    ))
                })
            })
    }

    /// After losing the store write to another writer: sets DNS to the
    /// address the store now holds. Best effort: if it fails, the next
    /// request reads DNS (nothing of the record is remembered) and mends it.
    async fn restore(&self, key: &RecordKey, ttl: u32) {
        if let Ok(Some(record)) = self.store.get(key).await
            && let Some(address) = record.state.address()
        {
            let _ = self.upsert(key, ttl, address).await;
        }
    }

    /// After the record was removed during a change: deletes the RRset this
    /// request may have published. Best effort: the removal deletes it too.
    async fn withdraw(&self, key: &RecordKey) {
        let change = DnsChange::delete(key.clone());
        let _ = self
            .timed(self.provider.apply(std::slice::from_ref(&change)))
            .await;
    }

    /// `list_hosts`: the discovery group of the caller's record, whose type
    /// follows the source address's family. A signature covers the source
    /// address.
    ///
    /// # Errors
    ///
    /// The first [`Failure`] in the protocol's order of decisions.
    pub async fn list_hosts(&self, request: ListHostsRequest) -> Result<HostList, Failure> {
        let source = request.source.to_canonical();
        let record_type = RecordType::for_address(source);
        let (sent_name, key) = named(&request.name, record_type);
        let proof = Proof {
            credential: &request.credential,
            mode: SignedMode::ListHosts,
            address: source,
        };
        let Authenticated { record, .. } = self
            .authenticate(&request.name, sent_name, key, record_type, proof, source)
            .await?;
        self.group_of(&record).await
    }

    /// The rest of a `list_hosts` once authenticated.
    async fn group_of(&self, record: &Record) -> Result<HostList, Failure> {
        if !record.config.read_privilege {
            return Err(Failure::NoReadPrivilege);
        }
        let mut members = self
            .store
            .discovery_group(&record.config.shared_secret)
            .await
            .map_err(Failure::store)?;
        members.sort();
        Ok(HostList { members })
    }

    /// Steps 1-3 after the token's format: find the record, check the token,
    /// spend from the host name's budget, and write the access state of an
    /// authenticated request.
    async fn authenticate(
        &self,
        name: &SentName,
        sent_name: String,
        key: Option<RecordKey>,
        record_type: RecordType,
        proof: Proof<'_>,
        source: IpAddr,
    ) -> Result<Authenticated, Failure> {
        let not_configured = || Failure::NotConfigured {
            hostname: sent_name.clone(),
            record_type,
        };
        // A name that is not a valid host name cannot have a record, nor
        // can a name outside the zones served.
        let (key, hostname) = key
            .zip(name.hostname())
            .filter(|(k, _)| self.serves(k.name()))
            .ok_or_else(not_configured)?;
        let record = self
            .store
            .get_spelled(&key, name.as_sent())
            .await
            .map_err(Failure::store)?
            .ok_or_else(not_configured)?;
        let secret = &record.config.shared_secret;
        // An empty secret would open the record to anyone who can compute
        // sha256(ip + name) or send an empty password: fail closed.
        if secret.is_empty() {
            return Err(Failure::UnusableRecord {
                hostname: sent_name,
                reason: "its shared_secret is empty or missing; set one with the admin tool",
            });
        }
        let signed = match proof.credential {
            Credential::Token(token) => {
                if !token.verify(source, name, secret) {
                    return Err(Failure::HashMismatch);
                }
                false
            }
            // SharedSecret compares in constant time.
            Credential::Password(sent) => {
                if sent != secret {
                    return Err(Failure::HashMismatch);
                }
                false
            }
            Credential::Signed(signed) => {
                let message = SignedMessage::new(
                    proof.mode,
                    hostname.clone(),
                    proof.address,
                    signed.timestamp,
                    signed.nonce.clone(),
                );
                if !signed.signature.verify(&message, secret) {
                    return Err(Failure::SignatureMismatch);
                }
                self.check_window(signed.timestamp)?;
                match self
                    .store
                    .advance_replay_guard(&key, signed.timestamp)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        return Err(Failure::Replayed {
                            hostname: sent_name,
                        });
                    }
                    Err(crate::error::Error::NotFound { .. }) => return Err(not_configured()),
                    Err(e) => return Err(Failure::store(e)),
                }
                true
            }
            // The transport checked the MAC with the key of this secret;
            // the record must still hold it (a rotation in between fails).
            Credential::Tsig(used) => {
                if used != secret {
                    return Err(Failure::SignatureMismatch);
                }
                true
            }
        };
        if record.config.require_signed && !signed {
            return Err(Failure::SignatureRequired {
                hostname: sent_name,
            });
        }
        if let Some(budget) = &self.budget
            && !budget.spend(hostname)
        {
            return Err(Failure::HostRateLimited {
                hostname: sent_name,
            });
        }
        let access = AccessUpdate {
            source,
            at: self.clock.now(),
        };
        if !self.defer_access(&key, access) {
            self.store
                .record_access(&key, access)
                .await
                .map_err(Failure::store)?;
        }
        Ok(Authenticated { record, sent_name })
    }

    /// True when `name` lies in a zone served (always, without zones).
    fn serves(&self, name: &RecordName) -> bool {
        self.zones
            .as_ref()
            .is_none_or(|zones| zones.containing(name).is_some())
    }

    /// The TTL of `name`'s records that set none: its zone's default, or
    /// the service's.
    fn default_ttl_of(&self, name: &RecordName) -> u32 {
        self.zones
            .as_ref()
            .and_then(|zones| zones.containing(name))
            .map_or(self.default_ttl, Zone::default_ttl)
    }

    /// Runs a provider call within the provider timeout.
    /// Outside a tokio runtime (another executor) the call is not timed.
    async fn timed<T>(
        &self,
        call: impl std::future::Future<Output = T>,
    ) -> crate::error::Result<T> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(call.await);
        }
        tokio::time::timeout(self.provider_timeout, call)
            .await
            .map_err(|_| {
                crate::error::Error::unavailable(
                    format!(
                        "the DNS provider did not answer within {} ms",
                        self.provider_timeout.as_millis()
                    ),
                    true,
                )
            })
    }

    /// Refuses a signed timestamp farther from the clock than the window.
    fn check_window(&self, timestamp: u64) -> Result<(), Failure> {
        let now = self.clock.now().unix_micros().div_euclid(1_000_000);
        let skew = i128::from(timestamp) - i128::from(now);
        let window = self.signed_window.as_secs();
        if skew.unsigned_abs() <= u128::from(window) {
            Ok(())
        } else {
            Err(Failure::StaleTimestamp {
                skew_seconds: i64::try_from(skew).unwrap_or(i64::MAX),
                window_seconds: window,
            })
        }
    }

    /// Writes `address` to the store if it still holds `previous`; false
    /// when another writer changed it first. Either way short of success
    /// the remembered DNS value is dropped.
    async fn record_change(
        &self,
        key: &RecordKey,
        previous: Option<IpAddr>,
        address: IpAddr,
        at: Timestamp,
    ) -> Result<bool, Failure> {
        let change = ChangeUpdate::address(previous, address, at);
        let written = self.store.record_change(key, change).await;
        if !matches!(written, Ok(true)) {
            self.forget(key);
        }
        written.map_err(Failure::store)
    }

    fn forget(&self, key: &RecordKey) {
        self.known_values().remove(key);
    }

    /// The single value DNS is known to hold for the record, if that
    /// knowledge is fresh and the store agrees (see the module
    /// documentation).
    fn known_value(&self, record: &Record, now: Timestamp) -> Option<IpAddr> {
        let stored = record.state.address()?;
        let known = *self.known_values().get(&record.key)?;
        let fresh = now
            .duration_since(known.at)
            .is_some_and(|age| age < self.recheck_interval);
        (fresh && known.address == stored).then_some(stored)
    }

    fn remember(&self, key: &RecordKey, address: IpAddr, at: Timestamp) {
        let mut known = self.known_values();
        if known.len() >= MAX_REMEMBERED && !known.contains_key(key) {
            known.clear();
        }
        known.insert(key.clone(), Known { address, at });
    }

    /// Forgets what the service knows about DNS values, so the next `set` of
    /// every record reads DNS again (for operators who changed DNS by hand).
    pub fn forget_known_values(&self) {
        self.known_values().clear();
    }

    /// Queues `access` for the deferred write-back; false when it must be
    /// written now (no delay configured, or no runtime to flush it).
    fn defer_access(&self, key: &RecordKey, access: AccessUpdate) -> bool {
        if self.access_delay.is_zero() {
            return false;
        }
        if !self.access.flusher.load(Ordering::Acquire) {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return false;
            };
            if !self.access.flusher.swap(true, Ordering::AcqRel) {
                let buffer = Arc::downgrade(&self.access);
                let store = Arc::clone(&self.store);
                let delay = self.access_delay;
                runtime.spawn(async move {
                    loop {
                        tokio::time::sleep(delay).await;
                        let Some(buffer) = buffer.upgrade() else {
                            break;
                        };
                        // A failed flush keeps its updates for the next
                        // round; there is no caller to tell.
                        let _ = buffer.flush(store.as_ref()).await;
                    }
                });
            }
        }
        self.access.pending().insert(key.clone(), access);
        true
    }

    /// Writes every deferred access-state update now.
    ///
    /// # Errors
    ///
    /// The store's error; the updates stay queued for the next flush.
    pub async fn flush_access(&self) -> crate::error::Result<()> {
        self.access.flush(self.store.as_ref()).await
    }

    fn known_values(&self) -> MutexGuard<'_, HashMap<RecordKey, Known>> {
        // The map holds only hints; one left half-written by a panicking
        // thread is still usable.
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The host name as sent, with its trailing dot (for messages), and the
/// key it names when it is a valid host name (no record can exist for one
/// that is not).
fn named(name: &SentName, record_type: RecordType) -> (String, Option<RecordKey>) {
    let key = name
        .hostname()
        .map(|hostname| RecordKey::new(hostname.clone(), record_type));
    (name.as_sent().to_owned(), key)
}
