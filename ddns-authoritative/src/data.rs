//! The zone's records in memory, shared by the DNS server (which reads
//! them) and the provider (which changes them).

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use ddns_core::{ChangeKind, DnsChange, RecordKey, RecordName, RecordValue, hickory};
use hickory_server::proto::rr::{LowerName, Name, RecordSet, RecordType};
use tokio::sync::watch;

use crate::dnssec::{Dnssec, ZoneSigner};
use crate::error::AuthoritativeError;
use crate::rrset::{self, Rrset};
use crate::serial::{RESERVED_AHEAD, SerialFile, first_serial};
use crate::zone::{ZoneConfig, initial_serial, name};

/// The types of the records the provider installs.
const DATA_TYPES: [RecordType; 3] = [RecordType::A, RecordType::AAAA, RecordType::TXT];

/// The TTL of the DNSKEY RRset.
const DNSKEY_TTL: u32 = 3600;

/// How many RRsets one round of signature refreshing signs under one hold
/// of the write lock (one batch, one serial).
const REFRESH_CHUNK: usize = 2000;

/// Why a name has no records of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Absence {
    /// The name exists (it has other records, or names below it): NODATA.
    NoData,
    /// The name does not exist in the zone: NXDOMAIN.
    NoName,
    /// The name is not in this zone at all: REFUSED.
    OutsideZone,
}

#[derive(Debug)]
struct State {
    serial: u32,
    /// The serial the serial file reserves (`u32::MAX` without one).
    reserved: u32,
    soa: Arc<RecordSet>,
    ns: Arc<RecordSet>,
    rrsets: HashMap<(LowerName, RecordType), Rrset>,
    /// The ancestors of owners up to the apex, with how many RRsets are
    /// below each: a name exists when it owns records or is here (empty
    /// non-terminals exist too). A flat zone (hosts right below the apex)
    /// keeps nothing here. The apex always exists.
    names: HashMap<LowerName, usize>,
    /// The DNSKEY RRset, signed (signed zones only).
    dnskey: Option<Arc<RecordSet>>,
    /// The NSEC chain of a signed zone: every owner of records, the apex
    /// first, in canonical order. Each has its NSEC RRset in `rrsets`.
    chain: BTreeSet<LowerName>,
}

impl State {
    /// True when `owner` holds records the provider installed.
    fn has_data(&self, owner: &LowerName) -> bool {
        DATA_TYPES
            .iter()
            .any(|t| self.rrsets.contains_key(&(owner.clone(), *t)))
    }

    /// The owner before `owner` in the chain (the last one for the
    /// apex).
    fn previous(&self, owner: &LowerName) -> Option<LowerName> {
        self.chain
            .range(..owner.clone())
            .next_back()
            .or_else(|| self.chain.last())
            .cloned()
    }

    /// The owner after `owner` in the chain (the apex after the last).
    fn next(&self, owner: &LowerName) -> Option<LowerName> {
        self.chain
            .range((Bound::Excluded(owner.clone()), Bound::Unbounded))
            .next()
            .or_else(|| self.chain.first())
            .cloned()
    }

    /// True when `name` exists: it owns records, or names below it do.
    fn exists(&self, name: &LowerName) -> bool {
        self.has_data(name) || self.names.contains_key(name)
    }

    /// Counts one more RRset at `owner` for every ancestor below
    /// `origin`.
    fn add_name(&mut self, origin: &LowerName, owner: &LowerName) {
        let mut name = owner.base_name();
        while origin.zone_of(&name) && name != *origin {
            *self.names.entry(name.clone()).or_insert(0) += 1;
            name = name.base_name();
        }
    }

    /// Counts one RRset fewer at `owner`'s ancestors, dropping the names
    /// left with none.
    fn remove_name(&mut self, origin: &LowerName, owner: &LowerName) {
        let mut name = owner.base_name();
        while origin.zone_of(&name) && name != *origin {
            if let Some(count) = self.names.get_mut(&name) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    self.names.remove(&name);
                }
            }
            name = name.base_name();
        }
    }
}

/// The records of one zone, readable and changeable concurrently.
///
/// Changes are visible to the next query at once, and every batch of
/// changes bumps the SOA serial.
#[derive(Debug)]
pub struct ZoneData {
    config: ZoneConfig,
    origin: LowerName,
    serials: Option<SerialFile>,
    signer: Option<ZoneSigner>,
    state: RwLock<State>,
    /// The serial after each batch, for the NOTIFY senders.
    changed: watch::Sender<u32>,
}

impl ZoneData {
    /// An empty zone (SOA and NS only) for `config`.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] when a configured name cannot be
    /// a DNS name.
    pub fn new(config: ZoneConfig) -> ddns_core::Result<Self> {
        Self::starting_at(config, initial_serial(), None)
    }

    /// An empty zone for `config` whose serial never goes back across
    /// restarts: it starts above the reservation in `file` (or at the
    /// clock, when that is higher) and keeps the file ahead of it (see
    /// [`SerialFile`]).
    ///
    /// # Errors
    ///
    /// As [`ZoneData::new`], and [`ddns_core::Error::Unavailable`] when
    /// the file cannot be read, holds no serial, or cannot be written.
    pub fn with_serial_file(config: ZoneConfig, file: SerialFile) -> ddns_core::Result<Self> {
        let serial = first_serial(file.read()?, initial_serial());
        Self::starting_at(config, serial, Some(file))
    }

    fn starting_at(
        config: ZoneConfig,
        serial: u32,
        serials: Option<SerialFile>,
    ) -> ddns_core::Result<Self> {
        let reserved = match &serials {
            Some(file) => {
                let reserved = serial.saturating_add(RESERVED_AHEAD);
                file.write(reserved)?;
                reserved
            }
            None => u32::MAX,
        };
        let origin = LowerName::from(name(config.origin())?);
        let state = State {
            serial,
            reserved,
            soa: Arc::new(config.soa(serial)?),
            ns: Arc::new(config.ns()?),
            rrsets: HashMap::new(),
            names: HashMap::from([(origin.clone(), 1)]),
            dnskey: None,
            chain: BTreeSet::new(),
        };
        Ok(Self {
            config,
            origin,
            serials,
            signer: None,
            state: RwLock::new(state),
            changed: watch::Sender::new(serial),
        })
    }

    /// The zone signed with `dnssec`: DNSKEY at the apex, a signature on
    /// every RRset, and an NSEC chain; every later change is signed as it
    /// is applied, and [`crate::DnsServer`] makes signatures again before
    /// they expire.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] when the key cannot sign.
    pub fn signed(mut self, dnssec: &Dnssec) -> ddns_core::Result<Self> {
        let origin = name(self.config.origin())?;
        let signer = ZoneSigner::new(dnssec, origin, self.config.soa_timers().minimum)?;
        let now = now32();
        {
            let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
            let mut dnskey = signer.dnskey_set(DNSKEY_TTL);
            signer.sign(&mut dnskey, now)?;
            state.dnskey = Some(Arc::new(dnskey));
            for set in [&mut state.soa, &mut state.ns] {
                let mut signed = RecordSet::clone(set);
                signer.sign(&mut signed, now)?;
                *set = Arc::new(signed);
            }
            for ((owner, rtype), rrset) in &mut state.rrsets {
                let mut signed = RecordSet::clone(&rrset.to_set(owner, *rtype));
                signer.sign(&mut signed, now)?;
                *rrset = Rrset::Built(Arc::new(signed));
            }
            let owners: Vec<LowerName> = std::iter::once(self.origin.clone())
                .chain(state.rrsets.keys().map(|(owner, _)| owner.clone()))
                .collect();
            state.chain.extend(owners.iter().cloned());
            let chain: Vec<LowerName> = state.chain.iter().cloned().collect();
            for owner in &chain {
                Self::renew_nsec(&self.origin, &signer, state, owner, now)?;
            }
        }
        self.signer = Some(signer);
        Ok(self)
    }

    /// True when the zone is signed.
    pub fn is_signed(&self) -> bool {
        self.signer.is_some()
    }

    /// How often the signatures are checked for refreshing: an eighth of
    /// their validity, from 1 s to 1 h; `None` for an unsigned zone.
    pub(crate) fn refresh_interval(&self) -> Option<std::time::Duration> {
        let validity = u64::from(self.signer.as_ref()?.validity());
        Some(std::time::Duration::from_secs(
            (validity / 8).clamp(1, 3600),
        ))
    }

    /// Makes the NSEC RRset of `owner` (in the chain) again, signed.
    fn renew_nsec(
        origin: &LowerName,
        signer: &ZoneSigner,
        state: &mut State,
        owner: &LowerName,
        now: u32,
    ) -> Result<(), AuthoritativeError> {
        let Some(next) = state.next(owner) else {
            return Ok(());
        };
        let mut types: Vec<RecordType> = DATA_TYPES
            .into_iter()
            .filter(|t| state.rrsets.contains_key(&(owner.clone(), *t)))
            .collect();
        if owner == origin {
            types.extend([RecordType::SOA, RecordType::NS, RecordType::DNSKEY]);
        }
        let mut set = signer.nsec_set(Name::from(owner), Name::from(&next), types);
        signer.sign(&mut set, now)?;
        state.rrsets.insert(
            (owner.clone(), RecordType::NSEC),
            Rrset::Built(Arc::new(set)),
        );
        Ok(())
    }

    /// Mends the NSEC chain after the RRsets at `owners` changed: owners
    /// that gained their first records join it, owners that lost their
    /// last leave it, and the NSEC RRsets of the owners and their
    /// predecessors are made again.
    fn mend_chain(&self, signer: &ZoneSigner, state: &mut State, owners: &[LowerName], now: u32) {
        let mut renew = BTreeSet::new();
        for owner in owners {
            if *owner == self.origin {
                renew.insert(owner.clone());
                continue;
            }
            let has = state.has_data(owner);
            let was = state.chain.contains(owner);
            match (was, has) {
                (false, true) => {
                    state.chain.insert(owner.clone());
                    renew.insert(owner.clone());
                    renew.extend(state.previous(owner));
                }
                (true, false) => {
                    state.chain.remove(owner);
                    state.rrsets.remove(&(owner.clone(), RecordType::NSEC));
                    renew.extend(state.previous(owner));
                }
                (true, true) => {
                    renew.insert(owner.clone());
                }
                (false, false) => {}
            }
        }
        renew.retain(|o| state.chain.contains(o));
        for owner in &renew {
            if let Err(error) = Self::renew_nsec(&self.origin, signer, state, owner, now) {
                tracing::error!(zone = %self.config.origin(), %owner, %error, "the NSEC record cannot be signed");
            }
        }
    }

    /// The NSEC RRsets that prove `name` has no records of the type asked
    /// for (NODATA: its own NSEC, or for an empty non-terminal the one
    /// covering it), or does not exist (NXDOMAIN: the NSEC covering it and
    /// the one covering the wildcard at its closest encloser). Empty for
    /// an unsigned zone.
    pub(crate) fn denial(&self, name: &LowerName) -> Vec<Arc<RecordSet>> {
        if self.signer.is_none() || !self.origin.zone_of(name) {
            return Vec::new();
        }
        let state = self.read();
        let nsec = |owner: &LowerName| {
            state
                .rrsets
                .get(&(owner.clone(), RecordType::NSEC))
                .and_then(Rrset::built)
                .cloned()
        };
        if state.chain.contains(name) {
            return nsec(name).into_iter().collect();
        }
        let covering = |n: &LowerName| state.chain.range(..n.clone()).next_back().and_then(&nsec);
        let mut proofs: Vec<Arc<RecordSet>> = covering(name).into_iter().collect();
        if !state.names.contains_key(name) {
            let mut encloser = name.base_name();
            while encloser != self.origin && !state.exists(&encloser) {
                encloser = encloser.base_name();
            }
            // `*` sorts before every other label: the wildcard's cover is
            // the closest encloser's NSEC or the one just below it.
            if let Ok(wildcard) = Name::from(&encloser).prepend_label("*")
                && let Some(proof) = covering(&LowerName::from(wildcard))
                && !proofs.iter().any(|p| p.name() == proof.name())
            {
                proofs.push(proof);
            }
        }
        proofs
    }

    /// Makes again, one chunk under the write lock, the signatures at
    /// least half of whose validity has passed: one batch (a serial, a
    /// NOTIFY) per chunk. Returns how many RRsets were signed; none for
    /// an unsigned zone.
    pub(crate) fn refresh_signatures(&self) -> usize {
        let Some(signer) = &self.signer else {
            return 0;
        };
        let now = now32();
        let due: Vec<(LowerName, RecordType)> = {
            let state = self.read();
            state
                .rrsets
                .iter()
                .filter(|(_, rrset)| rrset.built().is_some_and(|set| signer.due(set, now)))
                .map(|(key, _)| key.clone())
                .collect()
        };
        let mut signed = 0;
        // One round at least: the apex's NS and DNSKEY may be due when no
        // RRset in the map is.
        let chunks: Vec<&[(LowerName, RecordType)]> = if due.is_empty() {
            vec![&[]]
        } else {
            due.chunks(REFRESH_CHUNK).collect()
        };
        for chunk in chunks {
            let before = signed;
            let mut state = self.write();
            for key in chunk {
                let Some(set) = state.rrsets.get(key).and_then(Rrset::built) else {
                    continue;
                };
                if !signer.due(set, now) {
                    continue;
                }
                let mut fresh = RecordSet::clone(set);
                match signer.sign(&mut fresh, now) {
                    Ok(()) => {
                        state
                            .rrsets
                            .insert(key.clone(), Rrset::Built(Arc::new(fresh)));
                        signed += 1;
                    }
                    Err(error) => {
                        tracing::error!(zone = %self.config.origin(), %error, "a signature cannot be refreshed");
                    }
                }
            }
            let State { ns, dnskey, .. } = &mut *state;
            for set in std::iter::once(ns).chain(dnskey.as_mut()) {
                if signer.due(set, now) {
                    let mut fresh = RecordSet::clone(set);
                    if signer.sign(&mut fresh, now).is_ok() {
                        *set = Arc::new(fresh);
                        signed += 1;
                    }
                }
            }
            if signed > before {
                self.next_serial(&mut state);
            }
        }
        signed
    }

    /// The zone's settings.
    pub fn config(&self) -> &ZoneConfig {
        &self.config
    }

    /// The zone's apex, as hickory spells it.
    pub(crate) fn origin(&self) -> &LowerName {
        &self.origin
    }

    /// The current SOA serial.
    pub fn serial(&self) -> u32 {
        self.read().serial
    }

    /// The serial, updated after every batch of changes.
    pub(crate) fn serial_changes(&self) -> watch::Receiver<u32> {
        self.changed.subscribe()
    }

    /// The zone's SOA RRset.
    pub(crate) fn soa(&self) -> Arc<RecordSet> {
        self.read().soa.clone()
    }

    /// The RRsets of a zone transfer, all from one moment: the SOA, every
    /// other RRset, and the SOA again (unsigned).
    pub(crate) fn transfer_sets(&self) -> Vec<Arc<RecordSet>> {
        let state = self.read();
        let mut sets = Vec::with_capacity(state.rrsets.len() + 3);
        sets.push(state.soa.clone());
        sets.push(state.ns.clone());
        sets.extend(state.dnskey.clone());
        sets.extend(
            state
                .rrsets
                .iter()
                .map(|((owner, rtype), rrset)| rrset.to_set(owner, *rtype)),
        );
        // The closing SOA ends the transfer: its signature went with the
        // first (a secondary takes anything after it for garbage).
        let mut closing = RecordSet::clone(&state.soa);
        closing.clear_rrsigs();
        sets.push(Arc::new(closing));
        sets
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // Every write leaves the state whole before it could panic.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The values the RRset of `key` holds.
    pub fn values(&self, key: &RecordKey) -> Vec<RecordValue> {
        let Ok(owner) = lower(key.name()) else {
            return Vec::new();
        };
        let state = self.read();
        state
            .rrsets
            .get(&(owner, hickory::wire_type(key.record_type())))
            .map(|rrset| rrset.values(key.record_type()))
            .unwrap_or_default()
    }

    /// True when (`name`, `rtype`) has an answer: what [`Self::answer`]
    /// would give records for, without making them.
    pub(crate) fn answers(&self, name: &LowerName, rtype: RecordType) -> bool {
        if !self.origin.zone_of(name) {
            return false;
        }
        let state = self.read();
        let apex = *name == self.origin;
        let held = |t: RecordType| match t {
            RecordType::SOA | RecordType::NS if apex => true,
            RecordType::DNSKEY if apex => state.dnskey.is_some(),
            t => state.rrsets.contains_key(&(name.clone(), t)),
        };
        if rtype == RecordType::ANY {
            apex || state.has_data(name) || held(RecordType::NSEC)
        } else {
            held(rtype)
        }
    }

    /// The RRsets answering (`name`, `rtype`), or why there are none.
    pub(crate) fn answer(
        &self,
        name: &LowerName,
        rtype: RecordType,
    ) -> Result<Vec<Arc<RecordSet>>, Absence> {
        if !self.origin.zone_of(name) {
            return Err(Absence::OutsideZone);
        }
        let state = self.read();
        let apex = *name == self.origin;
        let mut sets = Vec::new();
        let mut take = |t: RecordType| match t {
            RecordType::SOA if apex => sets.push(state.soa.clone()),
            RecordType::NS if apex => sets.push(state.ns.clone()),
            RecordType::DNSKEY if apex => sets.extend(state.dnskey.clone()),
            t => {
                if let Some(rrset) = state.rrsets.get(&(name.clone(), t)) {
                    sets.push(rrset.to_set(name, t));
                }
            }
        };
        if rtype == RecordType::ANY {
            for t in [RecordType::SOA, RecordType::NS, RecordType::DNSKEY]
                .into_iter()
                .chain(DATA_TYPES)
                .chain([RecordType::NSEC])
            {
                take(t);
            }
        } else {
            take(rtype);
        }
        if !sets.is_empty() {
            Ok(sets)
        } else if state.exists(name) {
            Err(Absence::NoData)
        } else {
            Err(Absence::NoName)
        }
    }

    /// Applies `changes`, one result each; bumps the serial once if any
    /// change was applied.
    pub(crate) fn apply(&self, changes: &[DnsChange]) -> Vec<Result<(), AuthoritativeError>> {
        let prepared: Vec<Result<Prepared, AuthoritativeError>> =
            changes.iter().map(|c| self.prepare(c)).collect();
        let mut state = self.write();
        let mut touched = Vec::new();
        let results = prepared
            .into_iter()
            .map(|p| {
                match p? {
                    Prepared::Put(owner, rtype, rrset) => {
                        let key = (owner.clone(), rtype);
                        if state.rrsets.insert(key, rrset).is_none() {
                            state.add_name(&self.origin, &owner);
                        }
                        touched.push(owner);
                    }
                    Prepared::Remove(owner, rtype) => {
                        if state.rrsets.remove(&(owner.clone(), rtype)).is_some() {
                            state.remove_name(&self.origin, &owner);
                        }
                        touched.push(owner);
                    }
                }
                Ok(())
            })
            .collect();
        if !touched.is_empty() {
            if let Some(signer) = &self.signer {
                touched.sort();
                touched.dedup();
                self.mend_chain(signer, &mut state, &touched, now32());
            }
            self.next_serial(&mut state);
        }
        results
    }

    /// Ends a batch: the next serial, reserved in the serial file, in a
    /// new SOA (signed in a signed zone), told to the NOTIFY senders.
    fn next_serial(&self, state: &mut State) {
        state.serial = state.serial.wrapping_add(1).max(1);
        self.reserve_past(state);
        if let Ok(mut soa) = self.config.soa(state.serial) {
            if let Some(signer) = &self.signer
                && let Err(error) = signer.sign(&mut soa, now32())
            {
                tracing::error!(zone = %self.config.origin(), %error, "the SOA cannot be signed");
            }
            state.soa = Arc::new(soa);
        }
        self.changed.send_replace(state.serial);
    }

    /// Writes a new reservation once the serial reaches the last one. A
    /// write that fails is logged and tried again at the next batch.
    fn reserve_past(&self, state: &mut State) {
        let Some(file) = &self.serials else {
            return;
        };
        if state.serial < state.reserved {
            return;
        }
        let reserved = state.serial.saturating_add(RESERVED_AHEAD);
        match file.write(reserved) {
            Ok(()) => state.reserved = reserved,
            Err(error) => tracing::error!(
                zone = %self.config.origin(),
                serial = state.serial,
                %error,
                "the zone's serial reservation cannot be written; a restart now could lower the serial"
            ),
        }
    }

    /// What a change does to the zone, checked to belong here.
    fn prepare(&self, change: &DnsChange) -> Result<Prepared, AuthoritativeError> {
        let owner_name = name(change.name())?;
        let owner = LowerName::from(owner_name.clone());
        if !self.origin.zone_of(&owner) {
            return Err(AuthoritativeError::OutsideZone {
                name: change.name().to_string(),
                zone: self.config.origin().to_string(),
            });
        }
        let rtype = hickory::wire_type(change.record_type());
        Ok(match change.kind() {
            ChangeKind::Upsert { ttl, values } => {
                let rrset = match &self.signer {
                    Some(signer) => {
                        let mut set = rrset::build(owner_name, rtype, *ttl, values);
                        signer.sign(&mut set, now32())?;
                        Rrset::Built(Arc::new(set))
                    }
                    None => Rrset::Plain {
                        ttl: *ttl,
                        values: values.clone().into_boxed_slice(),
                    },
                };
                Prepared::Put(owner, rtype, rrset)
            }
            ChangeKind::Delete => Prepared::Remove(owner, rtype),
            _ => {
                return Err(AuthoritativeError::UnsupportedChange {
                    name: change.name().to_string(),
                });
            }
        })
    }
}

/// A change, ready to apply under the write lock.
enum Prepared {
    /// Install this RRset of this type at the owner.
    Put(LowerName, RecordType, Rrset),
    /// Remove the owner's RRset of this type.
    Remove(LowerName, RecordType),
}

/// The time in Unix seconds, as signatures count it (serial arithmetic
/// past 2106).
fn now32() -> u32 {
    // Truncation is the point: RRSIG times wrap (RFC 4034 section 3.1.5).
    #[allow(clippy::cast_possible_truncation)]
    let now = crate::key::unix_now() as u32;
    now
}

fn lower(owner: &RecordName) -> Result<LowerName, AuthoritativeError> {
    name(owner).map(LowerName::from)
}
