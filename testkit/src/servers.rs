//! Real DNS servers for the tests: BIND (`named`) and Knot (`knotd`),
//! started on a free loopback port with a generated zone, key and update
//! policy, and stopped when dropped. A missing server skips loudly, or
//! fails when DDNS_REQUIRE_INTEGRATION=1.

use std::net::{SocketAddr, TcpListener, UdpSocket};

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::probe::soa_answered;
use crate::tools::{installed, missing};

use base64::Engine as _;
use ddns_core::Hostname;
use ddns_rfc2136::{Rfc2136Provider, TsigAlgorithmName, TsigKey};

pub const ZONE: &str = "example.com";
pub const KEY_NAME: &str = "ddns-key";
/// A second key that may only change `allowed.example.com` A records.
pub const LIMITED_KEY_NAME: &str = "limited-key";

pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).unwrap();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A port free for both UDP and TCP on 127.0.0.1.
pub fn free_port() -> u16 {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port for UDP and TCP");
}

/// What every server of the tests starts from: a directory with the zone
/// file, a free port and the two keys' secrets.
pub(crate) struct Setup {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) port: u16,
    pub(crate) secret: String,
    pub(crate) limited_secret: String,
}

impl Setup {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("example.com.zone"),
            "$TTL 60\n@ IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 86400 60\n@ IN NS ns1.example.com.\nns1 IN A 127.0.0.1\n",
        )
        .unwrap();
        Self {
            dir,
            port: free_port(),
            secret: random_secret(),
            limited_secret: random_secret(),
        }
    }

    /// Runs `command` (its log in `server.log`) and waits until it answers.
    pub(crate) fn launch(self, name: &'static str, mut command: Command) -> DnsServer {
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let child = command.stdout(Stdio::null()).stderr(log).spawn().unwrap();
        DnsServer {
            name,
            addr: SocketAddr::from(([127, 0, 0, 1], self.port)),
            secret: self.secret,
            limited_secret: self.limited_secret,
            child,
            dir: self.dir,
            stats: None,
        }
        .wait_ready()
    }
}

/// A running DNS server; killed on drop.
pub struct DnsServer {
    pub name: &'static str,
    pub addr: SocketAddr,
    pub secret: String,
    pub limited_secret: String,
    child: Child,
    pub dir: tempfile::TempDir,
    /// BIND's statistics channel (HTTP), where it counts the messages it
    /// received by opcode.
    stats: Option<SocketAddr>,
}

impl DnsServer {
    pub fn zone() -> Hostname {
        Hostname::parse(ZONE).unwrap()
    }

    pub fn key(&self) -> TsigKey {
        TsigKey::new(KEY_NAME, TsigAlgorithmName::HmacSha256, &self.secret).unwrap()
    }

    pub fn provider(&self) -> Rfc2136Provider {
        Rfc2136Provider::builder(self.addr, Self::zone())
            .with_key(self.key())
            .build()
            .unwrap()
    }

    /// How many UPDATE messages the server has received (BIND only: its
    /// statistics channel counts requests by opcode).
    pub fn update_messages(&self) -> u64 {
        let addr = self.stats.expect("only BIND has a statistics channel here");
        let answer = crate::probe::http_body(&addr.to_string(), "/json/v1/server");
        let Some(opcodes) = answer.split("\"opcodes\":").nth(1) else {
            panic!("no opcodes in BIND's statistics: {answer}");
        };
        let opcodes = opcodes.split('}').next().unwrap_or_default();
        opcodes.split("\"UPDATE\":").nth(1).map_or(0, |rest| {
            rest.trim()
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        })
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Waits (at most 20 s) until the server answers the zone's SOA with
    /// NOERROR over both UDP and TCP: up, listening and the zone loaded.
    fn wait_ready(mut self) -> Self {
        let begun = Instant::now();
        let mut last = String::new();
        while begun.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited at start ({status}):\n{}", self.name, self.log());
            }
            match soa_answered(self.addr, ZONE, false)
                .and_then(|()| soa_answered(self.addr, ZONE, true))
            {
                Ok(()) => return self,
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "{} did not answer the SOA of {ZONE} within 20 s (last: {last}):\n{}",
            self.name,
            self.log()
        );
    }

    /// BIND, if installed.
    pub fn bind() -> Option<Self> {
        let Some(named) = installed("named") else {
            return missing("BIND (named)", "apt-get install bind9");
        };
        let Setup {
            dir,
            port,
            secret,
            limited_secret,
        } = Setup::new();
        let d = dir.path().display().to_string();
        let stats = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let stats_port = stats.port();
        std::fs::write(
            dir.path().join("named.conf"),
            format!(
                r#"statistics-channels {{ inet 127.0.0.1 port {stats_port} allow {{ 127.0.0.1; }}; }};
options {{
    directory "{d}";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    pid-file "{d}/named.pid";
    session-keyfile "{d}/session.key";
    recursion no;
    allow-query {{ any; }};
    dnssec-validation no;
    notify no;
}};
controls {{ }};
key "{KEY_NAME}" {{ algorithm hmac-sha256; secret "{secret}"; }};
key "{LIMITED_KEY_NAME}" {{ algorithm hmac-sha256; secret "{limited_secret}"; }};
zone "{ZONE}" {{
    type primary;
    file "{d}/example.com.zone";
    update-policy {{
        grant {KEY_NAME} zonesub A AAAA TXT;
        grant {LIMITED_KEY_NAME} name allowed.{ZONE}. A;
    }};
}};
"#
            ),
        )
        .unwrap();
        let mut command = Command::new(named);
        command
            .args(["-g", "-n", "1", "-c"])
            .arg(dir.path().join("named.conf"));
        let mut server = Setup {
            dir,
            port,
            secret,
            limited_secret,
        }
        .launch("named", command);
        server.stats = Some(stats);
        Some(server)
    }
}

impl DnsServer {
    /// Knot DNS, if installed.
    pub fn knot() -> Option<Self> {
        let Some(knotd) = installed("knotd") else {
            return missing("Knot DNS (knotd)", "apt-get install knot");
        };
        let Setup {
            dir,
            port,
            secret,
            limited_secret,
        } = Setup::new();
        write_knot_config(
            dir.path(),
            port,
            &format!(
                r#"key:
  - id: {KEY_NAME}
    algorithm: hmac-sha256
    secret: {secret}
  - id: {LIMITED_KEY_NAME}
    algorithm: hmac-sha256
    secret: {limited_secret}
acl:
  - id: full
    key: {KEY_NAME}
    action: update
    update-type: [A, AAAA, TXT]
  - id: limited
    key: {LIMITED_KEY_NAME}
    action: update
    update-type: A
    update-owner: name
    update-owner-match: equal
    update-owner-name: allowed
"#
            ),
            "    acl: [full, limited]\n",
        );
        let mut command = Command::new(knotd);
        command.arg("-c").arg(dir.path().join("knot.conf"));
        Some(
            Setup {
                dir,
                port,
                secret,
                limited_secret,
            }
            .launch("knotd", command),
        )
    }
}

/// Writes `knot.conf` in `dir` (and the `db` folder it names): Knot on
/// 127.0.0.1:`port` with `middle` (keys, remotes, ACLs) and `example.com`
/// with `zone_lines` (its ACLs, its primary), the zone file `<zone>.zone`
/// in `dir`, logging to stderr.
pub(crate) fn write_knot_config(dir: &std::path::Path, port: u16, middle: &str, zone_lines: &str) {
    let d = dir.display();
    std::fs::create_dir(dir.join("db")).unwrap();
    std::fs::write(
        dir.join("knot.conf"),
        format!(
            r#"server:
    rundir: "{d}"
    listen: 127.0.0.1@{port}
{middle}database:
    storage: "{d}/db"
template:
  - id: default
    storage: "{d}"
    file: "%s.zone"
zone:
  - domain: {ZONE}
{zone_lines}log:
  - target: stderr
    any: info
"#
        ),
    )
    .unwrap();
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
