//! The delegated IPv6 prefix a router's client reports (`ipv6prefix=`),
//! which moves the records that follow the router: given (`--ipv6-prefix
//! 2001:db8:1:2300::/56`, or `-` to remove their addresses), or taken from
//! an interface's global address masked to a length (`--ipv6-prefix-from
//! eth0/56`).

use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use ipnet::Ipv6Net;

use crate::api::ClientError;

/// `--ipv6-prefix-from IFACE/LEN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfacePrefix {
    /// The interface whose global address holds the prefix.
    pub interface: String,
    /// The prefix length.
    pub len: u8,
}

impl FromStr for InterfacePrefix {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (interface, len) = s
            .rsplit_once('/')
            .ok_or_else(|| format!("{s:?} is not INTERFACE/LENGTH, like eth0/56"))?;
        let len: u8 = len
            .parse()
            .ok()
            .filter(|len| (1..=128).contains(len))
            .ok_or_else(|| format!("{len:?} is not a prefix length from 1 to 128"))?;
        if interface.is_empty() {
            return Err(format!("{s:?} names no interface; write it like eth0/56"));
        }
        Ok(Self {
            interface: interface.to_owned(),
            len,
        })
    }
}

impl InterfacePrefix {
    /// The prefix of the interface's global IPv6 address, as CIDR text.
    ///
    /// # Errors
    ///
    /// [`ClientError::Input`] when the interface has no global IPv6
    /// address.
    pub fn resolve(&self) -> Result<String, ClientError> {
        let interfaces = if_addrs::get_if_addrs()
            .map_err(|e| ClientError::Input(format!("cannot read the network interfaces: {e}")))?;
        let addresses: Vec<IpAddr> = interfaces
            .iter()
            .filter(|i| i.name == self.interface)
            .map(|i| i.ip())
            .collect();
        prefix_of(&self.interface, &addresses, self.len).map(|net| net.to_string())
    }
}

/// The first global unicast IPv6 address (2000::/3) of `addresses`,
/// masked to `len` bits.
fn prefix_of(interface: &str, addresses: &[IpAddr], len: u8) -> Result<Ipv6Net, ClientError> {
    let global = addresses.iter().find_map(|ip| match ip {
        IpAddr::V6(v6) if is_global_unicast(*v6) => Some(*v6),
        _ => None,
    });
    let Some(address) = global else {
        let found: Vec<String> = addresses.iter().map(ToString::to_string).collect();
        return Err(ClientError::Input(format!(
            "the interface {interface:?} has no global IPv6 address to take the prefix from (it has: {}); give the prefix with --ipv6-prefix",
            if found.is_empty() {
                "none".to_owned()
            } else {
                found.join(", ")
            }
        )));
    };
    Ipv6Net::new(address, len)
        .map(|net| net.trunc())
        .map_err(|_| ClientError::Input(format!("/{len} is not a prefix length")))
}

fn is_global_unicast(address: Ipv6Addr) -> bool {
    address.segments()[0] & 0xe000 == 0x2000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_interface_and_length() {
        assert_eq!(
            "eth0/56".parse::<InterfacePrefix>().unwrap(),
            InterfacePrefix {
                interface: "eth0".into(),
                len: 56
            }
        );
        for bad in ["eth0", "/56", "eth0/0", "eth0/129", "eth0/x"] {
            assert!(bad.parse::<InterfacePrefix>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_global_address_is_masked_and_others_are_passed_over() {
        let addresses: Vec<IpAddr> = ["fe80::1", "fd00::5", "2001:db8:1:2345:211:32ff:fe12:3456"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(
            prefix_of("eth0", &addresses, 56).unwrap().to_string(),
            "2001:db8:1:2300::/56"
        );
        let err = prefix_of("lo", &["::1".parse().unwrap()], 64).unwrap_err();
        assert!(
            err.to_string().contains("no global IPv6 address") && err.to_string().contains("::1"),
            "{err}"
        );
    }
}
