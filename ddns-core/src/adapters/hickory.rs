//! Conversions between the core's record types and values and
//! hickory-proto's (feature `hickory`), for the adapters that speak DNS:
//! the embedded server and RFC 2136.

use std::net::IpAddr;

use hickory_proto::ProtoError;
use hickory_proto::rr::RecordType as WireType;
use hickory_proto::rr::rdata::{A, AAAA, TXT};
use hickory_proto::rr::{Name, RData};

use crate::domain::hostname::RecordName;
use crate::domain::record::RecordType;
use crate::domain::value::{RecordValue, TxtValue, ValueError};

/// The hickory name of `owner` (a [`crate::Hostname`] or a [`RecordName`]).
///
/// # Errors
///
/// hickory's error for a name it refuses; a validated name is always
/// accepted.
pub fn name(owner: impl AsRef<RecordName>) -> Result<Name, ProtoError> {
    Name::from_ascii(owner.as_ref().as_str())
}

/// The DNS type of a managed record type.
///
/// ```
/// use ddns_core::{hickory, RecordType};
/// assert_eq!(hickory::wire_type(RecordType::Txt).to_string(), "TXT");
/// ```
pub fn wire_type(record_type: RecordType) -> WireType {
    match record_type {
        RecordType::A => WireType::A,
        RecordType::Aaaa => WireType::AAAA,
        RecordType::Txt => WireType::TXT,
    }
}

/// The managed record type of a DNS type, if it is one.
///
/// ```
/// use ddns_core::{hickory, RecordType};
/// assert_eq!(hickory::record_type(hickory::wire_type(RecordType::Aaaa)), Some(RecordType::Aaaa));
/// ```
pub fn record_type(wire: WireType) -> Option<RecordType> {
    match wire {
        WireType::A => Some(RecordType::A),
        WireType::AAAA => Some(RecordType::Aaaa),
        WireType::TXT => Some(RecordType::Txt),
        _ => None,
    }
}

/// The record data of `value`: an A or AAAA, or a TXT whose character
/// strings are the value's strings.
pub fn rdata(value: &RecordValue) -> RData {
    match value {
        RecordValue::Address(IpAddr::V4(v4)) => RData::A(A(*v4)),
        RecordValue::Address(IpAddr::V6(v6)) => RData::AAAA(AAAA(*v6)),
        RecordValue::Txt(txt) => RData::TXT(TXT::new(txt.strings().map(str::to_owned).collect())),
    }
}

/// The value of `data` when it is data of `record_type`; `None` for data
/// of another type.
///
/// # Errors
///
/// Inside the `Some`: TXT data that is not a valid [`TxtValue`] (bytes
/// that are not printable ASCII, too long).
pub fn value(data: &RData, record_type: RecordType) -> Option<Result<RecordValue, ValueError>> {
    match (data, record_type) {
        (RData::A(a), RecordType::A) => Some(Ok(IpAddr::V4(a.0).into())),
        (RData::AAAA(a), RecordType::Aaaa) => Some(Ok(IpAddr::V6(a.0).into())),
        (RData::TXT(txt), RecordType::Txt) => {
            Some(TxtValue::from_wire(txt.txt_data.iter().map(AsRef::as_ref)).map(RecordValue::Txt))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_record_data() {
        for original in [
            RecordValue::from("192.0.2.1".parse::<IpAddr>().unwrap()),
            RecordValue::from("2001:db8::1".parse::<IpAddr>().unwrap()),
            RecordValue::Txt(TxtValue::new(&"t".repeat(300)).unwrap()),
        ] {
            let data = rdata(&original);
            assert_eq!(data.record_type(), wire_type(original.record_type()));
            assert_eq!(
                value(&data, original.record_type()),
                Some(Ok(original.clone()))
            );
            assert_eq!(
                value(&data, RecordType::A).is_none(),
                original.record_type() != RecordType::A
            );
        }
        let binary = RData::TXT(TXT::from_bytes(vec![b"\x00\x01".as_slice()]));
        assert!(matches!(value(&binary, RecordType::Txt), Some(Err(_))));
    }
}
