//! The zone's records in memory, shared by the DNS server (which reads
//! them) and the provider (which changes them).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use ddns_core::{DnsChange, Hostname, RecordType as DdnsType};
use hickory_server::proto::rr::rdata::{A, AAAA};
use hickory_server::proto::rr::{LowerName, RData, RecordSet, RecordType};

use crate::error::AuthoritativeError;
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
    soa: Arc<RecordSet>,
    ns: Arc<RecordSet>,
    rrsets: HashMap<(LowerName, RecordType), Arc<RecordSet>>,
    /// Every name that exists: owners of records and their ancestors up to
    /// the apex (empty non-terminals exist too).
    names: HashSet<LowerName>,
}

/// The records of one zone, readable and changeable concurrently.
///
/// Changes are visible to the next query at once, and every batch of
/// changes bumps the SOA serial.
#[derive(Debug)]
pub struct ZoneData {
    config: ZoneConfig,
    origin: LowerName,
    state: RwLock<State>,
}

impl ZoneData {
    /// An empty zone (SOA and NS only) for `config`.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] when a configured name cannot be
    /// a DNS name.
    pub fn new(config: ZoneConfig) -> ddns_core::Result<Self> {
        let serial = initial_serial();
        let origin = LowerName::from(name(config.origin())?);
        let state = State {
            serial,
            soa: Arc::new(config.soa(serial)?),
            ns: Arc::new(config.ns()?),
            rrsets: HashMap::new(),
            names: HashSet::from([origin.clone()]),
        };
        Ok(Self {
            config,
            origin,
            state: RwLock::new(state),
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

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // Every write leaves the state whole before it could panic.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The values `name` holds for `record_type`.
    pub fn values(&self, name: &Hostname, record_type: DdnsType) -> Vec<IpAddr> {
        let Ok(key) = lower(name) else {
            return Vec::new();
        };
        let state = self.read();
        state
            .rrsets
            .get(&(key, hickory_type(record_type)))
            .map(|set| {
                set.records_without_rrsigs()
                    .filter_map(|r| address(&r.data))
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
            ] {
                take(t);
            }
        } else {
            take(rtype);
        }
        if !sets.is_empty() {
            Ok(sets)
        } else if state.names.contains(name) {
            Err(Absence::NoData)
        } else {
            Err(Absence::NoName)
        }
    }

    /// Applies `changes`, one result each; bumps the serial once if any
    /// change was applied.
    pub(crate) fn apply(&self, changes: &[DnsChange]) -> Vec<Result<(), AuthoritativeError>> {
        let prepared: Vec<Result<(LowerName, RecordSet), AuthoritativeError>> =
            changes.iter().map(|c| self.prepare(c)).collect();
        let mut state = self.write();
        let mut applied = false;
        let results = prepared
            .into_iter()
            .map(|p| {
                let (owner, set) = p?;
                let mut ancestor = owner.clone();
                while self.origin.zone_of(&ancestor) && state.names.insert(ancestor.clone()) {
                    ancestor = ancestor.base_name();
                }
                state
                    .rrsets
                    .insert((owner, set.record_type()), Arc::new(set));
                applied = true;
                Ok(())
            })
            .collect();
        if applied {
            state.serial = state.serial.wrapping_add(1).max(1);
            if let Ok(soa) = self.config.soa(state.serial) {
                state.soa = Arc::new(soa);
            }
        }
        results
    }

    /// Builds the RRset a change installs, checking it belongs here.
    fn prepare(&self, change: &DnsChange) -> Result<(LowerName, RecordSet), AuthoritativeError> {
        let owner_name = name(change.name())?;
        let owner = LowerName::from(owner_name.clone());
        if !self.origin.zone_of(&owner) {
            return Err(AuthoritativeError::OutsideZone {
                name: change.name().to_string(),
                zone: self.config.origin().to_string(),
            });
        }
        let rtype = hickory_type(change.record_type());
        let mut set = RecordSet::with_ttl(owner_name, rtype, change.ttl());
        set.add_rdata(match change.value() {
            IpAddr::V4(v4) => RData::A(A(v4)),
            IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
        });
        Ok((owner, set))
    }
}

fn lower(name_: &Hostname) -> Result<LowerName, AuthoritativeError> {
    name(name_).map(LowerName::from)
}

fn hickory_type(t: DdnsType) -> RecordType {
    match t {
        DdnsType::A => RecordType::A,
        DdnsType::Aaaa => RecordType::AAAA,
    }
}

fn address(data: &RData) -> Option<IpAddr> {
    match data {
        RData::A(a) => Some(IpAddr::V4(a.0)),
        RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
        _ => None,
    }
}
