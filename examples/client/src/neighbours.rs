//! The neighbour table: which MAC address has which IP address on the local
//! network, for network discovery (`docs/PROTOCOL.md` section 5).
//!
//! On Linux, IPv4 neighbours come from `/proc/net/arp` and IPv6 neighbours
//! from `ip -6 neigh`. Both formats can also be read from a file (a test
//! fixture, or a table gathered elsewhere).

use std::net::IpAddr;

/// One neighbour: an address and the MAC address that answers for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    /// The neighbour's address.
    pub ip: IpAddr,
    /// Its MAC address, lower case.
    pub mac: String,
}

/// Normalises a MAC address for comparison: lower case, `:` separators.
pub fn normalise_mac(mac: &str) -> String {
    mac.trim().to_ascii_lowercase().replace('-', ":")
}

fn complete_mac(mac: &str) -> bool {
    let parts: Vec<&str> = mac.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
        && mac != "00:00:00:00:00:00"
}

/// Parses `/proc/net/arp` and `ip -6 neigh` output (mixed freely); lines
/// of neither format, and incomplete entries, are skipped.
///
/// ```
/// use ddns_client::neighbours::parse;
/// let table = "IP address       HW type     Flags       HW address            Mask     Device\n\
///              192.168.0.20     0x1         0x2         51:6b:00:a6:f5:77     *        eth0\n\
///              fe80::1 dev eth0 lladdr 51:6B:00:A6:F5:78 REACHABLE\n";
/// let n = parse(table);
/// assert_eq!(n.len(), 2);
/// assert_eq!(n[1].mac, "51:6b:00:a6:f5:78");
/// ```
pub fn parse(text: &str) -> Vec<Neighbour> {
    let mut found = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let entry = if let Some(i) = fields.iter().position(|f| *f == "lladdr") {
            // ip neigh: ADDRESS dev IF lladdr MAC STATE
            fields
                .get(i + 1)
                .zip(fields.first())
                .map(|(mac, ip)| (*ip, *mac))
        } else if fields.len() >= 6 && fields[1].starts_with("0x") {
            // /proc/net/arp: IP HWTYPE FLAGS MAC MASK DEVICE; flags 0x0 is incomplete.
            (fields[2] != "0x0").then(|| (fields[0], fields[3]))
        } else {
            None
        };
        if let Some((ip, mac)) = entry {
            let mac = normalise_mac(mac);
            if let (Ok(ip), true) = (ip.parse::<IpAddr>(), complete_mac(&mac)) {
                found.push(Neighbour { ip, mac });
            }
        }
    }
    found
}

/// The operating system's neighbour table (Linux).
pub async fn system_table() -> Vec<Neighbour> {
    let mut text = tokio::fs::read_to_string("/proc/net/arp")
        .await
        .unwrap_or_default();
    if let Ok(out) = tokio::process::Command::new("ip")
        .args(["-6", "neigh"])
        .output()
        .await
    {
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_and_foreign_lines_are_skipped() {
        let text = "192.168.0.9 0x1 0x0 00:00:00:00:00:00 * eth0\n\
                    fe80::2 dev eth0  FAILED\n\
                    garbage\n\
                    10.0.0.3 0x1 0x2 AA-BB-CC-DD-EE-FF * eth1\n";
        assert_eq!(
            parse(text),
            [Neighbour {
                ip: "10.0.0.3".parse().unwrap(),
                mac: "aa:bb:cc:dd:ee:ff".into()
            }]
        );
    }
}
