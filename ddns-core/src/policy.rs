//! The rules that decide whether a record may take an address.
//!
//! From `docs/PROTOCOL.md` section 3:
//!
//! - A locked record is never changed ([`check_lock`]).
//! - Unspecified, multicast, broadcast (and reserved `240.0.0.0/4`) addresses
//!   are never set, whatever the record says ([`AddressClass::NeverSettable`]).
//! - With `allow_internal` false, a record may only take the requester's own
//!   source address, and never an internal one; with it true, any unicast
//!   address ([`check_address`]).
//!
//! An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is judged as its IPv4
//! address everywhere.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// What kind of address something is, for the purpose of publishing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// A globally routable unicast address.
    Public,
    /// A unicast address of a private, shared, loopback, link-local or
    /// unique-local range: settable only on records with `allow_internal`.
    Internal,
    /// Not a unicast host address: never set in any record.
    NeverSettable,
}

struct Ranges {
    internal: Vec<IpNet>,
    never: Vec<IpNet>,
}

fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> IpNet {
    // Prefix lengths below are literals no larger than 32.
    IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len))
}

fn v6(segments: [u16; 8], len: u8) -> IpNet {
    let [a, b, c, d, e, f, g, h] = segments;
    // Prefix lengths below are literals no larger than 128.
    IpNet::V6(Ipv6Net::new_assert(
        Ipv6Addr::new(a, b, c, d, e, f, g, h),
        len,
    ))
}

static RANGES: LazyLock<Ranges> = LazyLock::new(|| Ranges {
    internal: vec![
        v4(10, 0, 0, 0, 8),                    // RFC 1918
        v4(172, 16, 0, 0, 12),                 // RFC 1918
        v4(192, 168, 0, 0, 16),                // RFC 1918
        v4(100, 64, 0, 0, 10),                 // RFC 6598 shared address space (CGNAT)
        v4(127, 0, 0, 0, 8),                   // loopback
        v4(169, 254, 0, 0, 16),                // link-local
        v4(0, 0, 0, 0, 8),                     // "this network"
        v6([0, 0, 0, 0, 0, 0, 0, 1], 128),     // loopback
        v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), // link-local
        v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), // site-local (deprecated)
        v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),  // unique-local
    ],
    never: vec![
        v4(0, 0, 0, 0, 32),                   // unspecified
        v4(224, 0, 0, 0, 4),                  // multicast
        v4(240, 0, 0, 0, 4),                  // reserved, includes broadcast
        v6([0, 0, 0, 0, 0, 0, 0, 0], 128),    // unspecified
        v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), // multicast
    ],
});

/// Classifies `addr`; an IPv4-mapped IPv6 address counts as its IPv4 address.
///
/// ```
/// use ddns_core::policy::{classify, AddressClass};
/// assert_eq!(classify("192.168.1.20".parse()?), AddressClass::Internal);
/// assert_eq!(classify("::ffff:10.0.0.1".parse()?), AddressClass::Internal);
/// assert_eq!(classify("198.51.100.7".parse()?), AddressClass::Public);
/// assert_eq!(classify("224.0.0.1".parse()?), AddressClass::NeverSettable);
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
pub fn classify(addr: IpAddr) -> AddressClass {
    let addr = addr.to_canonical();
    let ranges = &*RANGES;
    if ranges.never.iter().any(|net| net.contains(&addr)) {
        AddressClass::NeverSettable
    } else if ranges.internal.iter().any(|net| net.contains(&addr)) {
        AddressClass::Internal
    } else {
        AddressClass::Public
    }
}

/// Why a record may not take an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressRefusal {
    /// The address is not a unicast host address (unspecified, multicast,
    /// broadcast, reserved).
    NotUnicast,
    /// The record does not allow internal addresses, or addresses other than
    /// the requester's own (`allow_internal` is false).
    InternalNotAllowed,
}

/// Decides whether a record with `allow_internal` may be set to `target`
/// by a request coming from `source`.
///
/// ```
/// use ddns_core::policy::{check_address, AddressRefusal};
/// let me = "198.51.100.7".parse()?;
/// assert_eq!(check_address(false, me, me), Ok(()));
/// assert_eq!(
///     check_address(false, "192.168.0.9".parse()?, me),
///     Err(AddressRefusal::InternalNotAllowed)
/// );
/// assert_eq!(check_address(true, "192.168.0.9".parse()?, me), Ok(()));
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
///
/// # Errors
///
/// The [`AddressRefusal`] that applies; [`AddressRefusal::NotUnicast`] wins.
pub fn check_address(
    allow_internal: bool,
    target: IpAddr,
    source: IpAddr,
) -> Result<(), AddressRefusal> {
    let target = target.to_canonical();
    match classify(target) {
        AddressClass::NeverSettable => Err(AddressRefusal::NotUnicast),
        _ if allow_internal => Ok(()),
        AddressClass::Internal => Err(AddressRefusal::InternalNotAllowed),
        AddressClass::Public if target != source.to_canonical() => {
            Err(AddressRefusal::InternalNotAllowed)
        }
        AddressClass::Public => Ok(()),
    }
}

/// The lock rule: a record with `lock_record` set is never changed.
///
/// # Errors
///
/// [`Locked`] when the record is locked.
pub fn check_lock(lock_record: bool) -> Result<(), Locked> {
    if lock_record { Err(Locked) } else { Ok(()) }
}

/// The refusal of [`check_lock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn class(s: &str) -> AddressClass {
        classify(s.parse().unwrap())
    }

    #[test]
    fn internal_ranges() {
        for s in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "169.254.10.10",
            "0.1.2.3",
            "::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:192.168.1.1",
            "::ffff:127.0.0.1",
        ] {
            assert_eq!(class(s), AddressClass::Internal, "{s}");
        }
    }

    #[test]
    fn public_edges() {
        for s in [
            "172.15.255.255",
            "172.32.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "11.0.0.1",
            "192.169.0.1",
            "198.51.100.7",
            "223.255.255.255",
            "2001:db8::1",
            "2a00:1450::1",
            "fe00::1",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(class(s), AddressClass::Public, "{s}");
        }
    }

    #[test]
    fn never_settable() {
        for s in [
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "239.255.255.255",
            "255.255.255.255",
            "240.0.0.1",
            "ff02::1",
            "::ffff:224.0.0.1",
            "::ffff:0.0.0.0",
        ] {
            assert_eq!(class(s), AddressClass::NeverSettable, "{s}");
        }
    }

    #[test]
    fn allow_internal_false_means_own_public_address_only() {
        let me: IpAddr = "198.51.100.7".parse().unwrap();
        let other: IpAddr = "198.51.100.8".parse().unwrap();
        let lan: IpAddr = "192.168.1.5".parse().unwrap();
        assert_eq!(check_address(false, me, me), Ok(()));
        assert_eq!(
            check_address(false, "::ffff:198.51.100.7".parse().unwrap(), me),
            Ok(())
        );
        assert_eq!(
            check_address(false, other, me),
            Err(AddressRefusal::InternalNotAllowed)
        );
        // Even a client whose own source address is internal.
        assert_eq!(
            check_address(false, lan, lan),
            Err(AddressRefusal::InternalNotAllowed)
        );
        assert_eq!(check_address(true, lan, me), Ok(()));
        assert_eq!(check_address(true, other, me), Ok(()));
        assert_eq!(
            check_address(true, "ff02::1".parse().unwrap(), me),
            Err(AddressRefusal::NotUnicast)
        );
        assert_eq!(
            check_address(false, "0.0.0.0".parse().unwrap(), me),
            Err(AddressRefusal::NotUnicast)
        );
    }

    #[test]
    fn lock_rule() {
        assert_eq!(check_lock(false), Ok(()));
        assert_eq!(check_lock(true), Err(Locked));
    }

    proptest! {
        #[test]
        fn mapped_v4_classifies_like_v4(bits in any::<u32>()) {
            let v4 = Ipv4Addr::from(bits);
            prop_assert_eq!(classify(IpAddr::V4(v4)), classify(IpAddr::V6(v4.to_ipv6_mapped())));
        }
    }
}
