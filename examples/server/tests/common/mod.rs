//! Helpers for the server's tests: a raw HTTP/1.1 client over a real socket
//! (so the tests see exactly the bytes on the wire), DNS queries with
//! hickory's client, and `dig` when installed.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use ddns_testkit::probe;

use std::net::SocketAddr;
use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response as read off the socket.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends a raw request (`head` without the final blank line) and reads the
/// whole response.
pub async fn raw(addr: SocketAddr, head: &str) -> Reply {
    send(addr, format!("{head}\r\n\r\n").as_bytes()).await
}

/// POST `body` to `path` with extra header lines.
pub async fn post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    request(addr, "POST", path, &all, body).await
}

/// Sends `method` to `path` with `body` (a Content-Length always) and
/// the header lines given.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: ddns.test\r\nConnection: close\r\nContent-Length: {}",
        body.len()
    );
    for (n, v) in headers {
        request.push_str(&format!("\r\n{n}: {v}"));
    }
    request.push_str("\r\n\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    send(addr, &bytes).await
}

/// Sends `request` as it is and reads the whole response.
async fn send(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// GET `path_and_query` with extra header lines.
pub async fn get(addr: SocketAddr, path_and_query: &str, headers: &[(&str, &str)]) -> Reply {
    let mut head = format!("GET {path_and_query} HTTP/1.1\r\nHost: ddns.test\r\nConnection: close");
    for (n, v) in headers {
        head.push_str(&format!("\r\n{n}: {v}"));
    }
    raw(addr, &head).await
}

#[allow(unused_imports)] // Not every test file uses every helper.
pub use ddns_testkit::dns::{addresses, dig, query, serial};

/// A configuration for a server on free loopback ports with its database
/// in `dir`, trusting X-Forwarded-For from loopback; `adjust` changes it.
pub fn config_in(
    dir: &Path,
    adjust: impl FnOnce(&mut ddns_server::Config),
) -> ddns_server::ValidConfig {
    raw_config_in(dir, adjust).validate().unwrap()
}

/// [`config_in`] before validation.
pub fn raw_config_in(
    dir: &Path,
    adjust: impl FnOnce(&mut ddns_server::Config),
) -> ddns_server::Config {
    let text = format!(
        r#"
        [http]
        listen = ["127.0.0.1:0"]
        trusted_proxies = ["127.0.0.1/32"]
        [dns]
        listen = ["127.0.0.1:0"]
        [zone]
        name = "example.com"
        [service]
        coalesce_window_ms = 5
        [store]
        kind = "sqlite"
        path = "{}"
        "#,
        dir.join("ddns.sqlite3").display()
    );
    let mut config = ddns_server::Config::parse(&text).unwrap();
    // The tests send many requests from one address; tests/limits.rs tests
    // the limits themselves.
    config.limits.enabled = false;
    adjust(&mut config);
    config
}

/// The loopback port of the `label` addresses (`http`, `https`) in the
/// server's start log line (`http=[127.0.0.1:PORT]`).
pub fn logged_port(line: &str, label: &str) -> u16 {
    line.split(&format!("{label}=[127.0.0.1:"))
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no {label} address in {line}"))
}

/// Sends SIGTERM to the server process `child` and waits (at most 10 s)
/// for it to exit; panics when it does not.
pub fn terminate(child: &mut std::process::Child) -> std::process::ExitStatus {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -TERM failed");
    let begun = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if begun.elapsed() > std::time::Duration::from_secs(10) {
            child.kill().unwrap();
            panic!("the server did not stop within 10 s of SIGTERM");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The loopback port logged after `label=` in the start line, whatever
/// wraps it (`http=[127.0.0.1:P]`, `dns=Some([127.0.0.1:P])`).
pub fn logged_port_after(line: &str, label: &str) -> Option<u16> {
    let rest = line.split(&format!("{label}=")).nth(1)?;
    let rest = rest.split_once("127.0.0.1:")?.1;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// A `ddns-server` process started by a test, stopped (SIGTERM, then
/// waited for) when dropped. Its log is collected as it runs.
pub struct Spawned {
    pub child: std::process::Child,
    pub http: SocketAddr,
    pub dns: Option<SocketAddr>,
    pub admin: Option<SocketAddr>,
    log: std::sync::Arc<(std::sync::Mutex<Vec<String>>, std::sync::Condvar)>,
}

/// The `ddns-server` binary, with no environment overrides leaking in.
/// `DDNS_TEST_SERVER_BIN` names another build to run instead (to show that
/// a test catches what an older build got wrong).
pub fn server_command() -> std::process::Command {
    let bin = std::env::var_os("DDNS_TEST_SERVER_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_ddns-server").into());
    let mut c = std::process::Command::new(bin);
    c.env_remove("DDNS_SECRET")
        .env_remove("DDNS_CONFIG")
        .env_remove("DDNS_ZONE")
        .env_remove("DDNS_DB")
        .env_remove("RUST_LOG");
    c
}

/// Runs an admin command of the binary in `dir`, which must succeed.
pub fn admin(dir: &Path, args: &[&str]) -> String {
    let out = server_command()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

impl Spawned {
    /// Starts `command` (a `server_command()` with its arguments) and waits
    /// up to 30 s for its start line; panics with the log when it exits or
    /// does not start in time.
    pub fn start(mut command: std::process::Command) -> Self {
        use std::io::BufRead;
        let mut child = command
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log =
            std::sync::Arc::new((std::sync::Mutex::new(Vec::new()), std::sync::Condvar::new()));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let collected = log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if line.contains("ddns-server started") {
                    let _ = started_tx.send(line.clone());
                }
                collected.0.lock().unwrap().push(line);
                collected.1.notify_all();
            }
        });
        let Ok(started) = started_rx.recv_timeout(std::time::Duration::from_secs(30)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the server did not start within 30 s; its log:\n{}",
                log.0.lock().unwrap().join("\n")
            );
        };
        let at = |label| {
            logged_port_after(&started, label).map(|port| SocketAddr::from(([127, 0, 0, 1], port)))
        };
        let mut spawned = Self {
            child,
            http: at("http").unwrap_or_else(|| panic!("no http address in {started}")),
            dns: at("dns"),
            admin: at("admin"),
            log,
        };
        spawned.wait_until_answering();
        if let (Some(dns), Some(zone)) = (spawned.dns, logged_zone(&started)) {
            spawned.wait_until_dns_answers(dns, &zone);
        }
        spawned
    }

    /// Asks `answered` every 20 ms until it is Ok, for at most 10 s;
    /// panics naming `what`, the last refusal and the log otherwise, or as
    /// soon as the server exits.
    fn wait_until(&mut self, what: &str, mut answered: impl FnMut() -> Result<(), String>) {
        let begun = std::time::Instant::now();
        let mut last = String::new();
        while begun.elapsed() < std::time::Duration::from_secs(10) {
            match answered() {
                Ok(()) => return,
                Err(e) => last = e,
            }
            if self.child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!(
            "{what} within 10 s (last: {last}); its log:\n{}",
            self.log().join("\n")
        );
    }

    /// Waits until the HTTP listener answers a real request (`GET
    /// /healthz`: any HTTP answer will do, the API listener gives 404 when
    /// `[admin_http]` took the path).
    fn wait_until_answering(&mut self) {
        let http = self.http;
        self.wait_until(&format!("the server at {http} did not answer HTTP"), || {
            match http_status_line(http, "/healthz") {
                Ok(line) if line.starts_with("HTTP/1.1 ") => Ok(()),
                Ok(line) => Err(line),
                Err(e) => Err(e.to_string()),
            }
        });
    }

    /// Waits until the embedded DNS answers the SOA of `zone` with NOERROR
    /// over UDP and TCP.
    fn wait_until_dns_answers(&mut self, dns: SocketAddr, zone: &str) {
        self.wait_until(
            &format!("the embedded DNS at {dns} did not answer the SOA of {zone}"),
            || {
                probe::soa_answered(dns, zone, false)
                    .and_then(|()| probe::soa_answered(dns, zone, true))
            },
        );
    }

    /// Stops the server with SIGTERM (at most 10 s) and waits until its
    /// log is read to the end; returns its exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let status = terminate(&mut self.child);
        // The reader thread ends with the pipe; wait for its last line.
        let _ = self.wait_for_log("ddns-server stopped", std::time::Duration::from_secs(10));
        status
    }

    /// Every line logged so far.
    pub fn log(&self) -> Vec<String> {
        self.log.0.lock().unwrap().clone()
    }

    /// Waits up to `limit` for a log line containing `needle`, woken by
    /// each new line.
    pub fn wait_for_log(&self, needle: &str, limit: std::time::Duration) -> Option<String> {
        let (lines, logged) = &*self.log;
        let (lines, _) = logged
            .wait_timeout_while(lines.lock().unwrap(), limit, |lines| {
                !lines.iter().any(|l| l.contains(needle))
            })
            .unwrap();
        lines.iter().find(|l| l.contains(needle)).cloned()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            terminate(&mut self.child);
        }
    }
}

/// The status line of `GET path` at `addr` (blocking, 2 s timeouts).
pub fn http_status_line(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    use std::io::{BufRead, Write};
    let timeout = std::time::Duration::from_secs(2);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut reader = std::io::BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    // Read to the server's close, so the connection is gone on both sides
    // (a server that keeps it open anyway ends the read at the timeout).
    let _ = std::io::copy(&mut reader, &mut std::io::sink());
    Ok(line.trim_end().to_owned())
}

/// The first embedded zone named in the start line
/// (`embedded=["example.com.", ...]`), without its dot.
fn logged_zone(line: &str) -> Option<String> {
    let rest = line.split("embedded=[\"").nth(1)?;
    let zone: String = rest.chars().take_while(|c| *c != '"').collect();
    let zone = zone.trim_end_matches('.');
    (!zone.is_empty()).then(|| zone.to_owned())
}

/// The hash token of `home.example.com.` for a request from `source` under
/// `secret`.
pub fn home_hash(source: &str, secret: &str) -> String {
    ddns_core::HashToken::compute_as_sent(
        source.parse().unwrap(),
        &ddns_core::SentName::parse("home.example.com."),
        &ddns_core::SharedSecret::new(secret),
    )
    .to_hex()
}

/// A server on free loopback ports with an admin listener, its database
/// `ddns.sqlite3` in the working directory, trusting X-Forwarded-For from
/// loopback.
pub const ADMIN_CONFIG: &str = "[http]\nlisten = [\"127.0.0.1:0\"]\ntrusted_proxies = [\"127.0.0.1/32\"]\n\
    [admin_http]\nlisten = [\"127.0.0.1:0\"]\npublic_url = \"https://ddns.example.net\"\n\
    [dns]\nlisten = [\"127.0.0.1:0\"]\n[store]\nkind = \"sqlite\"\npath = \"ddns.sqlite3\"\n";

/// The token `admin-token create` printed in `out`.
pub fn printed_token(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("token: "))
        .unwrap_or_else(|| panic!("no token printed in {out}"))
        .trim()
        .to_owned()
}

/// The secret `add` printed in `out` (its `secret: ...` line).
pub fn printed_secret(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .unwrap_or_else(|| panic!("no secret printed in {out}"))
        .trim()
        .to_owned()
}

/// An `Authorization: Basic` value for `user` and `password`.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

/// The state the server's store holds for the `record_type` record of
/// `host`, which must exist.
pub async fn stored_state(
    server: &ddns_server::RunningServer,
    host: &str,
    record_type: ddns_core::RecordType,
) -> ddns_core::RecordState {
    ddns_testkit::records::stored_state(server.service().store().as_ref(), host, record_type).await
}
