//! IPv6 prefix delegation: the prefix a router reports, the interface
//! identifier a host keeps, the address they make together, and the
//! setting ([`PrefixFollow`]) that makes an AAAA record follow a router.
//!
//! ```
//! use ddns_core::prefix::{InterfaceId, PrefixChange, PrefixRules};
//!
//! let rules = PrefixRules::default();
//! // As a FRITZ!Box sends its <ip6lanprefix>, without URL escaping.
//! let PrefixChange::Set(prefix) = rules.parse("2001:db8:1234:5600::/56")? else {
//!     return Ok(());
//! };
//! let nas: InterfaceId = "::211:32ff:fe12:3456".parse()?;
//! assert_eq!(prefix.address_of(nas)?.to_string(), "2001:db8:1234:5600:211:32ff:fe12:3456");
//! // dynv6's "-" removes the followers' addresses.
//! assert_eq!(rules.parse("-")?, PrefixChange::Remove);
//! // Outside the accepted lengths (/48 to /64 by default).
//! assert!(rules.parse("2001:db8::/32").is_err());
//! # Ok::<(), ddns_core::prefix::PrefixError>(())
//! ```

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use ipnet::Ipv6Net;

use crate::domain::hostname::Hostname;

/// The shortest prefix accepted by default: ISPs delegate /48 at most.
pub const DEFAULT_MIN_PREFIX_LEN: u8 = 48;

/// The longest prefix accepted by default: one /64, SLAAC's subnet.
pub const DEFAULT_MAX_PREFIX_LEN: u8 = 64;

/// Why a prefix or an interface identifier is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrefixError {
    /// The text is not an IPv6 prefix in CIDR form.
    #[error("{text:?} is not an IPv6 prefix; send it in CIDR form, like 2001:db8:1234:5600::/56")]
    Syntax {
        /// The text, shortened for display.
        text: String,
    },
    /// The prefix is shorter or longer than the rules accept.
    #[error("the prefix is a /{len}; prefixes from /{min} to /{max} are accepted")]
    Length {
        /// Its length.
        len: u8,
        /// The shortest accepted.
        min: u8,
        /// The longest accepted.
        max: u8,
    },
    /// The text is not an IPv6 interface identifier.
    #[error(
        "{text:?} is not an interface identifier; write it as an IPv6 address of its low bits, like ::211:32ff:fe12:3456"
    )]
    InterfaceSyntax {
        /// The text, shortened for display.
        text: String,
    },
    /// The interface identifier has bits inside the prefix.
    #[error("the interface identifier {interface_id} does not fit below a /{len} prefix")]
    DoesNotFit {
        /// The identifier.
        interface_id: InterfaceId,
        /// The prefix length it was combined with.
        len: u8,
    },
}

/// The text of an input, shortened for an error message.
fn shown(text: &str) -> String {
    text.chars().take(64).collect()
}

/// The lengths of the prefixes a router may report.
///
/// ```
/// use ddns_core::prefix::PrefixRules;
/// let rules = PrefixRules::new(56, 64);
/// assert!(rules.parse("2001:db8:1234:5600::/56").is_ok());
/// assert!(rules.parse("2001:db8:1234::/48").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixRules {
    min_len: u8,
    max_len: u8,
}

impl Default for PrefixRules {
    fn default() -> Self {
        Self::new(DEFAULT_MIN_PREFIX_LEN, DEFAULT_MAX_PREFIX_LEN)
    }
}

impl PrefixRules {
    /// Prefixes from /`min_len` to /`max_len` (each kept within 1 to 127,
    /// and swapped when given the wrong way round).
    pub fn new(min_len: u8, max_len: u8) -> Self {
        let (a, b) = (min_len.clamp(1, 127), max_len.clamp(1, 127));
        Self {
            min_len: a.min(b),
            max_len: a.max(b),
        }
    }

    /// The shortest prefix accepted.
    pub fn min_len(&self) -> u8 {
        self.min_len
    }

    /// The longest prefix accepted.
    pub fn max_len(&self) -> u8 {
        self.max_len
    }

    /// Parses what a router sends: a prefix in CIDR form (bits below the
    /// length are cleared, as some routers send their own address with
    /// the length), or `-` to remove the followers' addresses.
    ///
    /// # Errors
    ///
    /// [`PrefixError::Syntax`] or [`PrefixError::Length`].
    pub fn parse(&self, text: &str) -> Result<PrefixChange, PrefixError> {
        let text = text.trim();
        if text == "-" {
            return Ok(PrefixChange::Remove);
        }
        let net: Ipv6Net = text
            .parse()
            .map_err(|_| PrefixError::Syntax { text: shown(text) })?;
        if net.trunc().network().is_unspecified() {
            return Err(PrefixError::Syntax { text: shown(text) });
        }
        let len = net.prefix_len();
        if len < self.min_len || len > self.max_len {
            return Err(PrefixError::Length {
                len,
                min: self.min_len,
                max: self.max_len,
            });
        }
        Ok(PrefixChange::Set(DelegatedPrefix(net.trunc())))
    }
}

/// What a router's request says of its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefixChange {
    /// The prefix is this one now.
    Set(DelegatedPrefix),
    /// The prefix is gone: the followers' addresses are removed.
    Remove,
}

/// A delegated prefix within the rules, its host bits zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DelegatedPrefix(Ipv6Net);

impl DelegatedPrefix {
    /// The prefix as a network.
    pub fn net(&self) -> Ipv6Net {
        self.0
    }

    /// The prefix length.
    pub fn len(&self) -> u8 {
        self.0.prefix_len()
    }

    /// Always false: a delegated prefix has at least one bit.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The address of the host with `interface_id` in this prefix.
    ///
    /// # Errors
    ///
    /// [`PrefixError::DoesNotFit`] when the identifier has bits inside the
    /// prefix.
    pub fn address_of(&self, interface_id: InterfaceId) -> Result<Ipv6Addr, PrefixError> {
        let len = self.len();
        if !interface_id.fits_below(len) {
            return Err(PrefixError::DoesNotFit { interface_id, len });
        }
        Ok(Ipv6Addr::from(
            u128::from(self.0.network()) | interface_id.0,
        ))
    }
}

impl fmt::Display for DelegatedPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A host's interface identifier: the low bits of its address, kept when
/// the prefix changes. Written as an IPv6 address of those bits
/// (`::211:32ff:fe12:3456`); never all zero.
///
/// ```
/// use ddns_core::prefix::InterfaceId;
/// let id: InterfaceId = "::211:32ff:fe12:3456".parse()?;
/// assert!(id.fits_below(64));
/// assert!("::".parse::<InterfaceId>().is_err());
/// assert!(!"2001:db8::1".parse::<InterfaceId>()?.fits_below(64));
/// # Ok::<(), ddns_core::prefix::PrefixError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InterfaceId(u128);

impl InterfaceId {
    /// True when every bit of the identifier lies below a /`len` prefix.
    pub fn fits_below(&self, len: u8) -> bool {
        match 128u32.checked_sub(u32::from(len)) {
            Some(0) | None => false,
            Some(host_bits) if host_bits >= 128 => true,
            Some(host_bits) => self.0 >> host_bits == 0,
        }
    }
}

impl FromStr for InterfaceId {
    type Err = PrefixError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bits = text
            .trim()
            .parse::<Ipv6Addr>()
            .map(u128::from)
            .ok()
            .filter(|&bits| bits != 0)
            .ok_or_else(|| PrefixError::InterfaceSyntax { text: shown(text) })?;
        Ok(Self(bits))
    }
}

impl fmt::Display for InterfaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ipv6Addr::from(self.0).fmt(f)
    }
}

/// What makes an AAAA record a *follower*: its address is the prefix that
/// the record `prefix_from` reports, plus `interface_id`.
///
/// ```
/// use ddns_core::Hostname;
/// use ddns_core::prefix::PrefixFollow;
/// let follow = PrefixFollow::new(Hostname::parse("router.example.com")?, "::211:32ff:fe12:3456".parse()?);
/// assert_eq!(follow.to_string(), "::211:32ff:fe12:3456 from router.example.com.");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrefixFollow {
    /// The host whose updates carry the prefix (its record's credential
    /// moves the followers).
    pub prefix_from: Hostname,
    /// The follower's interface identifier.
    pub interface_id: InterfaceId,
}

impl PrefixFollow {
    /// Follow the prefix of `prefix_from` with `interface_id`.
    pub fn new(prefix_from: Hostname, interface_id: InterfaceId) -> Self {
        Self {
            prefix_from,
            interface_id,
        }
    }
}

impl fmt::Display for PrefixFollow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} from {}", self.interface_id, self.prefix_from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(rules: PrefixRules, text: &str) -> DelegatedPrefix {
        match rules.parse(text) {
            Ok(PrefixChange::Set(prefix)) => prefix,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn routers_prefixes_are_checked_and_normalised() {
        let rules = PrefixRules::default();
        assert_eq!(set(rules, " 2001:db8:1234:5600::/56 ").len(), 56);
        // A router that sends its own address with the length.
        assert_eq!(
            set(rules, "2001:db8:1234:56ab::1/56").to_string(),
            "2001:db8:1234:5600::/56"
        );
        for (text, error) in [
            ("2001:db8::/32", "/32"),
            ("2001:db8:1:2:3::/80", "/80"),
            ("2001:db8:1234:5600::", "not an IPv6 prefix"),
            ("192.0.2.0/24", "not an IPv6 prefix"),
            ("", "not an IPv6 prefix"),
            ("auto", "not an IPv6 prefix"),
        ] {
            let refused = rules.parse(text).unwrap_err().to_string();
            assert!(refused.contains(error), "{text}: {refused}");
        }
        assert_eq!(PrefixRules::new(64, 48), PrefixRules::default());
    }

    #[test]
    fn addresses_are_prefix_plus_interface_id_when_it_fits() {
        let rules = PrefixRules::new(48, 64);
        let id: InterfaceId = "::211:32ff:fe12:3456".parse().unwrap();
        for (prefix, address) in [
            (
                "2001:db8:1234:5600::/56",
                "2001:db8:1234:5600:211:32ff:fe12:3456",
            ),
            ("2001:db8:aaaa::/48", "2001:db8:aaaa:0:211:32ff:fe12:3456"),
            ("2001:db8:1:2::/64", "2001:db8:1:2:211:32ff:fe12:3456"),
        ] {
            assert_eq!(
                set(rules, prefix).address_of(id).unwrap().to_string(),
                address
            );
        }
        // A subnet id in the identifier fits a /56 but not a /64.
        let with_subnet: InterfaceId = "::12:0:0:0:5".parse().unwrap();
        assert!(
            set(rules, "2001:db8:1234:5600::/56")
                .address_of(with_subnet)
                .is_ok()
        );
        let refused = set(rules, "2001:db8:1:2::/64")
            .address_of(with_subnet)
            .unwrap_err();
        assert!(
            matches!(refused, PrefixError::DoesNotFit { len: 64, .. }),
            "{refused}"
        );
        for bad in ["::", "not-an-id", "1.2.3.4"] {
            assert!(bad.parse::<InterfaceId>().is_err(), "{bad}");
        }
        assert_eq!(id.to_string(), "::211:32ff:fe12:3456");
        assert!(!id.fits_below(128));
        assert!(id.fits_below(0));
    }
}
