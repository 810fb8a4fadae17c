//! The rules that decide whether a record may take an address.
//!
//! From `docs/PROTOCOL.md` section 3:
//!
//! - A locked record is never changed ([`check_lock`]).
//! - Unspecified, multicast, broadcast (and reserved `240.0.0.0/4`) addresses
//!   are never set, whatever the record says ([`AddressClass::NeverSettable`]).
//! - With `allow_internal` false, a record never takes an internal address,
//!   and which public addresses it takes depends on who vouches for them
//!   ([`AddressAuthority`]): on the seed API only the requester's own source
//!   address (the original's rule, message 5); on dyndns2, where the password
//!   is the authority, any public unicast address of either family. With
//!   `allow_internal` true, any unicast address ([`check_address`]).
//!
//! An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is judged as its IPv4
//! address everywhere. Addresses that embed an IPv4 address (IPv4-compatible
//! `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by that
//! IPv4 address as well, and the stricter class wins: `::e000:1` carries the
//! multicast `224.0.0.1` and is never settable. The documentation ranges
//! (`192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`)
//! count as public.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// What kind of address something is, for the purpose of publishing it;
/// ordered from the most to the least settable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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
    let own = classify_ranges(addr);
    match addr {
        IpAddr::V6(v6) => match embedded_ipv4(v6) {
            Some(v4) => own.max(classify_ranges(IpAddr::V4(v4))),
            None => own,
        },
        IpAddr::V4(_) => own,
    }
}

fn classify_ranges(addr: IpAddr) -> AddressClass {
    let ranges = &*RANGES;
    if ranges.never.iter().any(|net| net.contains(&addr)) {
        AddressClass::NeverSettable
    } else if ranges.internal.iter().any(|net| net.contains(&addr)) {
        AddressClass::Internal
    } else {
        AddressClass::Public
    }
}

/// The IPv4 address an IPv6 address carries by construction: the last 32
/// bits of an IPv4-compatible (`::/96`) or NAT64 well-known-prefix
/// (`64:ff9b::/96`) address, bits 16 to 48 of a 6to4 (`2002::/16`) address.
fn embedded_ipv4(addr: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = addr.segments();
    let low = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        [0, 0, 0, 0, 0, 0, g, h] => Some(low(g, h)),
        [0x64, 0xff9b, 0, 0, 0, 0, g, h] => Some(low(g, h)),
        [0x2002, b, c, ..] => Some(low(b, c)),
        _ => None,
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

/// Who vouches for the address a request asks for, which decides the public
/// addresses a record without `allow_internal` may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressAuthority {
    /// Only the source address is vouched for: the seed API (hash token and
    /// signed requests), whose original refuses any other address with
    /// message 5 unless the record has `allow_internal`.
    SourceOnly,
    /// The credential vouches for any public address: the dyndns2 password,
    /// with which a dual-stack router sets its IPv6 address from its IPv4
    /// connection (`myip=<v4>,<v6>`, `myipv6=`).
    AnyPublic,
}

/// Decides whether a record with `allow_internal` may be set to `target`
/// by a request coming from `source` whose address is vouched for by
/// `authority`.
///
/// ```
/// use ddns_core::policy::{check_address, AddressAuthority::*, AddressRefusal};
/// let me = "198.51.100.7".parse()?;
/// let v6 = "2001:db8::7".parse()?;
/// assert_eq!(check_address(false, SourceOnly, me, me), Ok(()));
/// assert_eq!(check_address(false, SourceOnly, v6, me), Err(AddressRefusal::InternalNotAllowed));
/// assert_eq!(check_address(false, AnyPublic, v6, me), Ok(()));
/// assert_eq!(
///     check_address(false, AnyPublic, "192.168.0.9".parse()?, me),
///     Err(AddressRefusal::InternalNotAllowed)
/// );
/// assert_eq!(check_address(true, SourceOnly, "192.168.0.9".parse()?, me), Ok(()));
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
///
/// # Errors
///
/// The [`AddressRefusal`] that applies; [`AddressRefusal::NotUnicast`] wins.
pub fn check_address(
    allow_internal: bool,
    authority: AddressAuthority,
    target: IpAddr,
    source: IpAddr,
) -> Result<(), AddressRefusal> {
    let target = target.to_canonical();
    match classify(target) {
        AddressClass::NeverSettable => Err(AddressRefusal::NotUnicast),
        _ if allow_internal => Ok(()),
        AddressClass::Internal => Err(AddressRefusal::InternalNotAllowed),
        AddressClass::Public
            if authority == AddressAuthority::SourceOnly && target != source.to_canonical() =>
        {
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
    fn embedded_ipv4_is_judged_too() {
        for (s, class_) in [
            ("::e000:1", AddressClass::NeverSettable),
            ("::224.0.0.1", AddressClass::NeverSettable),
            ("::10.0.0.1", AddressClass::Internal),
            ("64:ff9b::10.1.2.3", AddressClass::Internal),
            ("64:ff9b::e000:1", AddressClass::NeverSettable),
            ("64:ff9b::198.51.100.7", AddressClass::Public),
            ("2002:c0a8:0101::1", AddressClass::Internal),
            ("2002:e000:0001::1", AddressClass::NeverSettable),
            ("2002:c000:0201::1", AddressClass::Public),
            ("::1", AddressClass::Internal),
            ("::", AddressClass::NeverSettable),
            ("2001:db8::1", AddressClass::Public),
            ("192.0.2.1", AddressClass::Public),
            ("203.0.113.9", AddressClass::Public),
        ] {
            assert_eq!(class(s), class_, "{s}");
        }
    }

    #[test]
    fn any_public_authority_takes_public_addresses_of_either_family() {
        use AddressAuthority::AnyPublic;
        let me: IpAddr = "198.51.100.7".parse().unwrap();
        for ok in ["2001:db8::7", "203.0.113.5", "198.51.100.7"] {
            assert_eq!(
                check_address(false, AnyPublic, ok.parse().unwrap(), me),
                Ok(()),
                "{ok}"
            );
        }
        for internal in [
            "192.168.1.5",
            "fd00::1",
            "::ffff:10.0.0.1",
            "2002:0a00:0001::1",
        ] {
            assert_eq!(
                check_address(false, AnyPublic, internal.parse().unwrap(), me),
                Err(AddressRefusal::InternalNotAllowed),
                "{internal}"
            );
        }
        assert_eq!(
            check_address(true, AnyPublic, "::e000:1".parse().unwrap(), me),
            Err(AddressRefusal::NotUnicast)
        );
    }

    #[test]
    fn allow_internal_false_means_own_public_address_only() {
        let check_address = |allow, target, source| {
            check_address(allow, AddressAuthority::SourceOnly, target, source)
        };
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
