//! The requester's source address behind reverse proxies.
//!
//! The hash token covers the requester's public address, so getting it right
//! is part of authentication. Rule (`docs/PROTOCOL.md` section 1): the TCP
//! peer address, unless the peer is a configured trusted proxy; then the
//! right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
//! With no proxies configured the header is never read, since any client
//! can send it.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` entries are believed.
///
/// ```
/// use ddns_core::protocols::forwarded::TrustedProxies;
///
/// let proxies = TrustedProxies::new(["127.0.0.1/32".parse()?, "10.0.0.0/8".parse()?]);
/// let peer = "127.0.0.1".parse()?;
/// // The client's own claim (left) is ignored; the last untrusted hop counts.
/// let source = proxies.source(peer, ["203.0.113.9, 198.51.100.7, 10.1.1.1"]);
/// assert_eq!(source, "198.51.100.7".parse::<std::net::IpAddr>()?);
/// // Nothing is believed from an untrusted peer.
/// let stranger = "192.0.2.1".parse()?;
/// assert_eq!(proxies.source(stranger, ["198.51.100.7"]), stranger);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// No trusted proxy: the peer address is always the source.
    pub fn none() -> Self {
        Self::default()
    }

    /// Trusts peers in any of `networks`.
    pub fn new(networks: impl IntoIterator<Item = IpNet>) -> Self {
        Self(networks.into_iter().collect())
    }

    /// True when no proxy is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `addr` is in a trusted proxy's network.
    pub fn trusts(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        self.0.iter().any(|net| net.contains(&addr))
    }

    /// The requester's address, given the TCP `peer` and the values of every
    /// `X-Forwarded-For` header in the order received. IPv4-mapped IPv6
    /// addresses come back as IPv4.
    ///
    /// Walking the entries from the right, trusted proxies are skipped and
    /// the first other address is the source. An entry that is not an
    /// address stops the walk (nothing to its left can be trusted), and the
    /// last trusted hop is used; so is the left-most entry when every hop is
    /// a trusted proxy.
    pub fn source<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let entries: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|value| value.split(','))
            .collect();
        let mut hop = peer;
        for entry in entries.iter().rev() {
            let Some(addr) = parse_entry(entry) else {
                return hop;
            };
            hop = addr;
            if !self.trusts(addr) {
                return addr;
            }
        }
        hop
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|addr| addr.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::new([
            "127.0.0.0/8".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
            "::1/128".parse().unwrap(),
        ])
    }

    #[test]
    fn no_proxies_means_the_peer() {
        let none = TrustedProxies::none();
        assert!(none.is_empty());
        assert_eq!(
            none.source(ip("127.0.0.1"), ["198.51.100.7"]),
            ip("127.0.0.1")
        );
        assert_eq!(
            none.source(ip("::ffff:198.51.100.7"), []),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn rightmost_untrusted_entry_wins() {
        let p = proxies();
        assert_eq!(
            p.source(ip("127.0.0.1"), ["198.51.100.7"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            p.source(ip("10.0.0.2"), ["203.0.113.1, 198.51.100.7", "10.0.0.9"]),
            ip("198.51.100.7")
        );
        assert_eq!(p.source(ip("::1"), [" 2001:db8::7 "]), ip("2001:db8::7"));
        assert_eq!(
            p.source(ip("::ffff:127.0.0.1"), ["::ffff:198.51.100.7"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            p.source(ip("127.0.0.1"), ["198.51.100.7:4711"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            p.source(ip("127.0.0.1"), ["[2001:db8::7]:4711"]),
            ip("2001:db8::7")
        );
    }

    #[test]
    fn garbage_and_all_trusted_chains_fall_back_to_the_last_trusted_hop() {
        let p = proxies();
        assert_eq!(
            p.source(ip("127.0.0.1"), ["198.51.100.7, garbage, 10.0.0.5"]),
            ip("10.0.0.5")
        );
        assert_eq!(p.source(ip("127.0.0.1"), ["unknown"]), ip("127.0.0.1"));
        assert_eq!(
            p.source(ip("127.0.0.1"), ["10.0.0.7, 10.0.0.5"]),
            ip("10.0.0.7")
        );
        assert_eq!(p.source(ip("127.0.0.1"), []), ip("127.0.0.1"));
        assert_eq!(p.source(ip("127.0.0.1"), [""]), ip("127.0.0.1"));
    }
}
