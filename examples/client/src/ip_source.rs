//! Where the address to publish comes from: the public address the server
//! sees, a given address, or a network interface's address.

use std::net::IpAddr;
use std::str::FromStr;

use crate::api::{ClientError, IpVersion};

/// `--ip-source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpSource {
    /// The public address the server sees (`public`, the default).
    Public,
    /// This address.
    Fixed(IpAddr),
    /// The address of this interface, read from the operating system.
    Interface(String),
}

impl FromStr for IpSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("public") {
            Ok(Self::Public)
        } else if let Ok(ip) = s.parse::<IpAddr>() {
            Ok(Self::Fixed(ip))
        } else if !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:@".contains(c))
        {
            Ok(Self::Interface(s.to_owned()))
        } else {
            Err(format!(
                "{s:?} is neither public, an IP address, nor an interface name"
            ))
        }
    }
}

impl IpSource {
    /// The address to publish as `internalIp`, or `None` for the public
    /// address (which the server takes from the connection).
    ///
    /// # Errors
    ///
    /// [`ClientError::Input`] for an interface that does not exist or has
    /// no address of the family asked for.
    pub fn resolve(&self, family: Option<IpVersion>) -> Result<Option<IpAddr>, ClientError> {
        match self {
            Self::Public => Ok(None),
            Self::Fixed(ip) => Ok(Some(*ip)),
            Self::Interface(name) => interface_address(name, family).map(Some),
        }
    }
}

fn interface_address(name: &str, family: Option<IpVersion>) -> Result<IpAddr, ClientError> {
    let interfaces = if_addrs::get_if_addrs()
        .map_err(|e| ClientError::Input(format!("cannot read the network interfaces: {e}")))?;
    let mut found: Vec<IpAddr> = interfaces
        .iter()
        .filter(|i| i.name == name)
        .map(|i| i.ip())
        .filter(|ip| match family {
            Some(IpVersion::V4) => ip.is_ipv4(),
            Some(IpVersion::V6) => ip.is_ipv6(),
            None => true,
        })
        .collect();
    if found.is_empty() {
        let names: std::collections::BTreeSet<&str> =
            interfaces.iter().map(|i| i.name.as_str()).collect();
        return Err(ClientError::Input(format!(
            "the interface {name:?} has no {}address (interfaces: {})",
            match family {
                Some(IpVersion::V4) => "IPv4 ",
                Some(IpVersion::V6) => "IPv6 ",
                None => "",
            },
            names.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    // Prefer an address that is not link-local.
    found.sort_by_key(|ip| matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80));
    Ok(found[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_kinds() {
        assert_eq!("public".parse::<IpSource>().unwrap(), IpSource::Public);
        assert_eq!(
            "192.168.1.5".parse::<IpSource>().unwrap(),
            IpSource::Fixed("192.168.1.5".parse().unwrap())
        );
        assert_eq!(
            "eth0".parse::<IpSource>().unwrap(),
            IpSource::Interface("eth0".into())
        );
        assert!("".parse::<IpSource>().is_err());
        assert!("a b".parse::<IpSource>().is_err());
    }

    #[test]
    fn loopback_is_found_and_missing_interfaces_are_named() {
        let ip = IpSource::Interface("lo".into())
            .resolve(Some(IpVersion::V4))
            .unwrap();
        assert_eq!(ip, Some("127.0.0.1".parse().unwrap()));
        let err = IpSource::Interface("nonexistent0".into())
            .resolve(None)
            .unwrap_err();
        assert!(
            err.to_string().contains("nonexistent0") && err.to_string().contains("lo"),
            "{err}"
        );
    }
}
