//! pebble, the ACME test CA, on free loopback ports with a certificate of
//! its own (made here with rcgen), doing its DNS-01 lookups at the DNS
//! server the test names. Stopped when dropped. A missing pebble skips
//! loudly, or fails when DDNS_REQUIRE_INTEGRATION=1.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;

use crate::tools::required;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running pebble; killed on drop.
pub struct Pebble {
    /// The ACME directory URL (`https://127.0.0.1:PORT/dir`).
    pub directory: String,
    /// The PEM file that verifies pebble's HTTPS listener: give it to the
    /// clients (`LEGO_CA_CERTIFICATES`, `REQUESTS_CA_BUNDLE`).
    pub ca_bundle: PathBuf,
    child: Child,
    pub dir: tempfile::TempDir,
}

/// A TCP port free on 127.0.0.1 when asked.
fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Pebble {
    /// Starts pebble with DNS-01 lookups at `dns`, and waits (at most 20 s)
    /// until its HTTPS listener accepts connections.
    pub fn start(dns: SocketAddr) -> Option<Self> {
        let pebble = required("pebble", "apt-get install pebble")?;
        let dir = tempfile::tempdir().unwrap();
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
                .unwrap();
        let ca_bundle = dir.path().join("pebble-cert.pem");
        std::fs::write(&ca_bundle, certified.cert.pem()).unwrap();
        std::fs::write(
            dir.path().join("pebble-key.pem"),
            certified.signing_key.serialize_pem(),
        )
        .unwrap();
        let (port, management) = (free_tcp_port(), free_tcp_port());
        let config = format!(
            r#"{{"pebble": {{
  "listenAddress": "127.0.0.1:{port}",
  "managementListenAddress": "127.0.0.1:{management}",
  "certificate": "{cert}",
  "privateKey": "{key}",
  "httpPort": {http},
  "tlsPort": {tls},
  "ocspResponderURL": "",
  "externalAccountBindingRequired": false
}}}}"#,
            cert = ca_bundle.display(),
            key = dir.path().join("pebble-key.pem").display(),
            http = free_tcp_port(),
            tls = free_tcp_port(),
        );
        std::fs::write(dir.path().join("pebble.json"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("pebble.log")).unwrap();
        let child = Command::new(pebble)
            .arg("-config")
            .arg(dir.path().join("pebble.json"))
            .arg("-dnsserver")
            .arg(dns.to_string())
            // No random sleeps before validation, no rejected nonces, and
            // a fresh authorization every time: each test validates.
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let mut pebble = Self {
            directory: format!("https://127.0.0.1:{port}/dir"),
            ca_bundle,
            child,
            dir,
        };
        pebble.wait_ready(SocketAddr::from(([127, 0, 0, 1], port)));
        Some(pebble)
    }

    /// What pebble logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pebble.log")).unwrap_or_default()
    }

    fn wait_ready(&mut self, addr: SocketAddr) {
        let begun = Instant::now();
        while begun.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("pebble exited at start ({status}):\n{}", self.log());
            }
            if self.log().contains("Listening on")
                && TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "pebble did not listen on {addr} within 20 s:\n{}",
            self.log()
        );
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
