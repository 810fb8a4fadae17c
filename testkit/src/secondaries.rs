//! BIND and Knot as secondaries of a primary on loopback: each transfers
//! the zone with a TSIG key, takes NOTIFY signed with it, and lets
//! 127.0.0.1 transfer its copy without a key, so a test can compare the
//! copies. Started on a port the test picks (the primary's configuration
//! names it before the secondary runs), ready once it answers the zone's
//! SOA (it has transferred the zone), killed on drop.

use std::net::SocketAddr;
use std::process::Command;

use crate::servers::{DnsServer, Setup, ZONE, write_knot_config};
use crate::tools::{installed, missing};

/// The name of the transfer key the secondaries use.
pub const TRANSFER_KEY_NAME: &str = "transfer-key";

/// A secondary's setup: the files of a primary's zone are not wanted.
fn setup(port: u16, secret: &str) -> Setup {
    let mut setup = Setup::new();
    std::fs::remove_file(setup.dir.path().join("example.com.zone")).unwrap();
    setup.port = port;
    secret.clone_into(&mut setup.secret);
    setup
}

impl DnsServer {
    /// BIND as a secondary on 127.0.0.1:`port` of the primary at
    /// `primary`, with the transfer key's base64 `secret`; `None` (loudly)
    /// when BIND is missing.
    pub fn bind_secondary(port: u16, primary: SocketAddr, secret: &str) -> Option<Self> {
        let Some(named) = installed("named") else {
            return missing("BIND (named)", "apt-get install bind9");
        };
        let setup = setup(port, secret);
        let d = setup.dir.path().display().to_string();
        let (ip, primary_port) = (primary.ip(), primary.port());
        std::fs::write(
            setup.dir.path().join("named.conf"),
            format!(
                r#"options {{
    directory "{d}";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    pid-file "{d}/named.pid";
    session-keyfile "{d}/session.key";
    recursion no;
    allow-query {{ any; }};
    allow-transfer {{ 127.0.0.1; }};
    dnssec-validation no;
    notify no;
}};
controls {{ }};
key "{TRANSFER_KEY_NAME}" {{ algorithm hmac-sha256; secret "{secret}"; }};
zone "{ZONE}" {{
    type secondary;
    file "{d}/secondary.zone";
    masterfile-format text;
    primaries {{ {ip} port {primary_port} key "{TRANSFER_KEY_NAME}"; }};
}};
"#
            ),
        )
        .unwrap();
        let mut command = Command::new(named);
        command
            .args(["-g", "-n", "1", "-c"])
            .arg(setup.dir.path().join("named.conf"));
        Some(setup.launch("named (secondary)", command))
    }

    /// Knot as a secondary on 127.0.0.1:`port` of the primary at
    /// `primary`, with the transfer key's base64 `secret`; `None` (loudly)
    /// when Knot is missing.
    pub fn knot_secondary(port: u16, primary: SocketAddr, secret: &str) -> Option<Self> {
        let Some(knotd) = installed("knotd") else {
            return missing("Knot DNS (knotd)", "apt-get install knot");
        };
        let setup = setup(port, secret);
        let (ip, primary_port) = (primary.ip(), primary.port());
        write_knot_config(
            setup.dir.path(),
            port,
            &format!(
                r#"key:
  - id: {TRANSFER_KEY_NAME}
    algorithm: hmac-sha256
    secret: {secret}
remote:
  - id: primary
    address: {ip}@{primary_port}
    key: {TRANSFER_KEY_NAME}
acl:
  - id: notify
    address: {ip}
    key: {TRANSFER_KEY_NAME}
    action: notify
  - id: copy
    address: 127.0.0.1
    action: transfer
"#
            ),
            "    master: primary\n    acl: [notify, copy]\n",
        );
        let mut command = Command::new(knotd);
        command.arg("-c").arg(setup.dir.path().join("knot.conf"));
        Some(setup.launch("knotd (secondary)", command))
    }

    /// How many transfers of the zone the secondary has finished, from its
    /// log.
    pub fn transfers_in(&self) -> usize {
        let log = self.log();
        if self.name.starts_with("named") {
            log.lines()
                .filter(|l| l.contains("Transfer completed"))
                .count()
        } else {
            log.lines()
                .filter(|l| l.contains("incoming") && l.contains("finished"))
                .count()
        }
    }

    /// The file the secondary keeps its copy of the zone in (text form).
    pub fn zone_file(&self) -> std::path::PathBuf {
        if self.name.starts_with("named") {
            self.dir.path().join("secondary.zone")
        } else {
            self.dir.path().join(format!("{ZONE}.zone"))
        }
    }

    /// The zone as this server transfers it to 127.0.0.1 (`dig AXFR`):
    /// one normalised line per record (owner, TTL, class, type, data,
    /// lowercase, single-spaced), sorted, the closing SOA and TSIG left
    /// out. `key` (`hmac-sha256:name:secret`) signs the request.
    pub fn zone_lines(addr: SocketAddr, key: Option<&str>) -> Vec<String> {
        let port = addr.port().to_string();
        let server = format!("@{}", addr.ip());
        let mut args = vec![
            server.as_str(),
            "-p",
            &port,
            "+time=5",
            "+tries=1",
            "+nocmd",
            "+nostats",
        ];
        if let Some(key) = key {
            args.extend(["-y", key]);
        }
        args.extend([ZONE, "AXFR"]);
        let out = crate::dns::dig(&args).unwrap_or_default();
        let mut lines: Vec<String> = out
            .lines()
            .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
            .map(|l| {
                l.split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_ascii_lowercase()
            })
            .filter(|l| l.split(' ').nth(3) != Some("tsig"))
            .collect();
        // The SOA closes the transfer as it opened it.
        if lines.len() > 1 && lines.first() == lines.last() {
            lines.pop();
        }
        lines.sort();
        lines
    }
}
