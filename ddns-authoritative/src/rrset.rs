//! One RRset as a zone keeps it. Unsigned, only its TTL and values: the
//! hickory RRset a query needs is made when asked for, so a zone of a
//! million hosts holds a few dozen bytes per host instead of the half
//! kilobyte of hickory's owner names, records and vectors. Signed, the
//! hickory RRset with its signature, made once when signed.

use std::sync::Arc;

use ddns_core::{RecordValue, hickory};
use hickory_server::proto::rr::{LowerName, Name, Record, RecordSet, RecordType};

/// An RRset of a zone.
#[derive(Debug, Clone)]
pub(crate) enum Rrset {
    /// Unsigned: the TTL and the values.
    Plain {
        ttl: u32,
        values: Box<[RecordValue]>,
    },
    /// The hickory RRset, signed (or synthesised: NSEC).
    Built(Arc<RecordSet>),
}

impl Rrset {
    /// The hickory RRset at `owner` of `rtype`.
    pub(crate) fn to_set(&self, owner: &LowerName, rtype: RecordType) -> Arc<RecordSet> {
        match self {
            Self::Plain { ttl, values } => Arc::new(build(Name::from(owner), rtype, *ttl, values)),
            Self::Built(set) => set.clone(),
        }
    }

    /// The values of a managed type the RRset holds.
    pub(crate) fn values(&self, record_type: ddns_core::RecordType) -> Vec<RecordValue> {
        match self {
            Self::Plain { values, .. } => values.to_vec(),
            // Only valid values are ever installed.
            Self::Built(set) => set
                .records_without_rrsigs()
                .filter_map(|r| hickory::value(&r.data, record_type)?.ok())
                .collect(),
        }
    }

    /// The hickory RRset, when the zone keeps it built.
    pub(crate) fn built(&self) -> Option<&Arc<RecordSet>> {
        match self {
            Self::Plain { .. } => None,
            Self::Built(set) => Some(set),
        }
    }
}

/// The hickory RRset of `values` at `owner`, its record vector no larger
/// than it needs.
pub(crate) fn build(owner: Name, rtype: RecordType, ttl: u32, values: &[RecordValue]) -> RecordSet {
    let mut set = RecordSet::with_ttl(owner.clone(), rtype, ttl);
    let mut records = Vec::with_capacity(values.len());
    records.extend(
        values
            .iter()
            .map(|value| Record::from_rdata(owner.clone(), ttl, hickory::rdata(value))),
    );
    set.set_records(records);
    set
}
