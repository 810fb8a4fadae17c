//! The zone's records in memory, shared by the DNS server (which reads
//! them) and the provider (which changes them).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use ddns_core::{ChangeKind, DnsChange, RecordKey, RecordName, RecordValue, hickory};
use hickory_server::proto::rr::{LowerName, RecordSet, RecordType};
use tokio::sync::watch;

use crate::error::AuthoritativeError;
use crate::serial::{RESERVED_AHEAD, SerialFile, first_serial};
use crate::zone::{ZoneConfig, initial_serial, name};

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
    rrsets: HashMap<(LowerName, RecordType), Arc<RecordSet>>,
    /// Every name that exists, with how many RRsets it owns or has below
    /// it: owners of records and their ancestors up to the apex (empty
    /// non-terminals exist too). A name whose count falls to zero is gone.
    /// The apex always exists.
    names: HashMap<LowerName, usize>,
}

impl State {
    /// Counts one more RRset at `owner`, for it and every ancestor below
    /// `origin`.
    fn add_name(&mut self, origin: &LowerName, owner: &LowerName) {
        let mut name = owner.clone();
        while origin.zone_of(&name) && name != *origin {
            *self.names.entry(name.clone()).or_insert(0) += 1;
            name = name.base_name();
        }
    }

    /// Counts one RRset fewer at `owner` and its ancestors, dropping the
    /// names left with none.
    fn remove_name(&mut self, origin: &LowerName, owner: &LowerName) {
        let mut name = owner.clone();
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
        };
        Ok(Self {
            config,
            origin,
            serials,
            state: RwLock::new(state),
            changed: watch::Sender::new(serial),
        })
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
    /// other RRset, and the SOA again.
    pub(crate) fn transfer_sets(&self) -> Vec<Arc<RecordSet>> {
        let state = self.read();
        let mut sets = Vec::with_capacity(state.rrsets.len() + 3);
        sets.push(state.soa.clone());
        sets.push(state.ns.clone());
        sets.extend(state.rrsets.values().cloned());
        sets.push(state.soa.clone());
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
            .map(|set| {
                // Only valid values are ever installed.
                set.records_without_rrsigs()
                    .filter_map(|r| hickory::value(&r.data, key.record_type())?.ok())
                    .collect()
            })
            .unwrap_or_default()
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
            t => {
                if let Some(set) = state.rrsets.get(&(name.clone(), t)) {
                    sets.push(set.clone());
                }
            }
        };
        if rtype == RecordType::ANY {
            for t in [
                RecordType::SOA,
                RecordType::NS,
                RecordType::A,
                RecordType::AAAA,
                RecordType::TXT,
            ] {
                take(t);
            }
        } else {
            take(rtype);
        }
        if !sets.is_empty() {
            Ok(sets)
        } else if state.names.contains_key(name) {
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
        let mut applied = false;
        let results = prepared
            .into_iter()
            .map(|p| {
                match p? {
                    Prepared::Put(owner, set) => {
                        let key = (owner.clone(), set.record_type());
                        if state.rrsets.insert(key, Arc::new(set)).is_none() {
                            state.add_name(&self.origin, &owner);
                        }
                    }
                    Prepared::Remove(owner, rtype) => {
                        if state.rrsets.remove(&(owner.clone(), rtype)).is_some() {
                            state.remove_name(&self.origin, &owner);
                        }
                    }
                }
                applied = true;
                Ok(())
            })
            .collect();
        if applied {
            state.serial = state.serial.wrapping_add(1).max(1);
            self.reserve_past(&mut state);
            if let Ok(soa) = self.config.soa(state.serial) {
                state.soa = Arc::new(soa);
            }
            self.changed.send_replace(state.serial);
        }
        results
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
                let mut set = RecordSet::with_ttl(owner_name, rtype, *ttl);
                for value in values {
                    set.add_rdata(hickory::rdata(value));
                }
                Prepared::Put(owner, set)
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
    /// Install this RRset at the owner.
    Put(LowerName, RecordSet),
    /// Remove the owner's RRset of this type.
    Remove(LowerName, RecordType),
}

fn lower(owner: &RecordName) -> Result<LowerName, AuthoritativeError> {
    name(owner).map(LowerName::from)
}
