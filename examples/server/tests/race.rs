//! Concurrent updates through the real `ddns-server` binary (SQLite and
//! the embedded DNS): 64 keep-alive connections move 64 records (made with
//! `allow_internal`) to a new address with every request, so two requests
//! for one record are often in flight at once. Afterwards every record's
//! SQLite row, its embedded DNS answer and the answer to a follow-up `set`
//! of the stored address must agree.
//!
//! `DDNS_RACE_RUNS` (default 2) and `DDNS_RACE_SECS` (default 3) scale it;
//! the acceptance run is `DDNS_RACE_RUNS=20 DDNS_RACE_SECS=10`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Spawned, admin, server_command};
use ddns_core::{HashToken, SharedSecret};
use hickory_net::proto::rr::RecordType;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const RECORDS: u64 = 64;
const CONNECTIONS: usize = 64;
const SECRET: &str = "race-secret-0123456789abcdef0123";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn host(i: u64) -> String {
    format!("c{i}.example.com")
}

fn set_path(i: u64, address: IpAddr) -> String {
    let hash = HashToken::compute_as_sent(
        "127.0.0.1".parse().unwrap(),
        &ddns_core::SentName::parse(&host(i)),
        &SharedSecret::new(SECRET),
    );
    format!(
        "/?mode=set&hostname={}&hash={}&internalIp={address}",
        host(i),
        hash.to_hex()
    )
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    async fn open(addr: SocketAddr) -> Self {
        Self {
            reader: BufReader::new(TcpStream::connect(addr).await.unwrap()),
        }
    }

    /// GET `path`; the body.
    async fn get(&mut self, path: &str) -> String {
        let request = format!("GET {path} HTTP/1.1\r\nHost: race\r\n\r\n");
        self.reader
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .unwrap();
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).await.unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).await.unwrap();
        String::from_utf8(body).unwrap()
    }
}

/// The address of request `n`: distinct for every request of a run.
fn address(n: u64) -> IpAddr {
    let [_, _, _, _, _, a, b, c] = n.to_be_bytes();
    IpAddr::from([10, a, b, c])
}

async fn stored(db: &std::path::Path, i: u64) -> Option<String> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.query_row(
        "SELECT ip_address FROM records WHERE hostname = ?1 AND record_type = 'A'",
        [format!("{}.", host(i))],
        |row| row.get(0),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_agrees_across_store_and_dns_after_concurrent_updates() {
    let runs = env_or("DDNS_RACE_RUNS", 2);
    let seconds = env_or("DDNS_RACE_SECS", 3);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ddns.toml"),
        // 64 connections from one address is the default cap per source;
        // room above it keeps a closing probe from taking the last slot.
        "[http]\nlisten = [\"127.0.0.1:0\"]\nmax_connections_per_source = 256\n[dns]\nlisten = [\"127.0.0.1:0\"]\n\
         [limits]\nenabled = false\n[store]\nkind = \"sqlite\"\npath = \"ddns.sqlite3\"\n",
    )
    .unwrap();
    for i in 0..RECORDS {
        admin(
            dir.path(),
            &[
                "--config",
                "ddns.toml",
                "add",
                &host(i),
                "--type",
                "a",
                "--allow-internal",
                "--secret",
                SECRET,
            ],
        );
    }
    let mut command = server_command();
    command
        .current_dir(dir.path())
        .args(["--config", "ddns.toml"]);
    let server = Spawned::start(command);
    let (http, dns) = (server.http, server.dns.unwrap());
    let db = dir.path().join("ddns.sqlite3");
    let mut failed_runs = 0;
    for run in 0..runs {
        // Request numbers go on across runs, so every address is new.
        let sent = Arc::new(AtomicU64::new(run * 1_000_000));
        let begun = Instant::now();
        let deadline = begun + Duration::from_secs(seconds);
        let mut load = tokio::task::JoinSet::new();
        for _ in 0..CONNECTIONS {
            let sent = sent.clone();
            load.spawn(async move {
                let mut connection = Connection::open(http).await;
                let mut failures = 0u64;
                while Instant::now() < deadline {
                    let n = sent.fetch_add(1, Ordering::Relaxed);
                    let body = connection.get(&set_path(n % RECORDS, address(n))).await;
                    if !body.ends_with(r#""return_status": "success"}"#) {
                        failures += 1;
                    }
                }
                failures
            });
        }
        let mut failures = 0;
        while let Some(done) = load.join_next().await {
            failures += done.unwrap();
        }
        let total = sent.load(Ordering::Relaxed) - run * 1_000_000;
        assert_eq!(failures, 0, "run {run}: {failures} of {total} sets failed");
        // Every record: the row, the DNS answer, and a follow-up set of the
        // stored address, which must find DNS already holding it.
        let mut disagreeing = Vec::new();
        let mut check = Connection::open(http).await;
        for i in 0..RECORDS {
            let row = stored(&db, i).await;
            let answer: Vec<String> = common::addresses(
                &common::query(dns, &format!("{}.", host(i)), RecordType::A).await,
            )
            .into_iter()
            .map(|(a, _)| a.to_string())
            .collect();
            let follow_up = match &row {
                Some(row) => check.get(&set_path(i, row.parse().unwrap())).await,
                None => String::new(),
            };
            let answer_after: Vec<String> = common::addresses(
                &common::query(dns, &format!("{}.", host(i)), RecordType::A).await,
            )
            .into_iter()
            .map(|(a, _)| a.to_string())
            .collect();
            let agrees = row.as_ref().is_some_and(|row| {
                answer == [row.clone()]
                    && answer_after == [row.clone()]
                    && follow_up.contains("matches the current Route53 DNS record")
            });
            if !agrees {
                disagreeing.push(format!(
                    "{}: row {row:?}, DNS {answer:?}, follow-up {follow_up:?}, DNS after {answer_after:?}",
                    host(i)
                ));
            }
        }
        println!(
            "run {run}: {total} sets in {seconds} s over {CONNECTIONS} connections; {} of {RECORDS} records disagree",
            disagreeing.len()
        );
        if !disagreeing.is_empty() {
            failed_runs += 1;
            println!("{}", disagreeing.join("\n"));
        }
    }
    println!("{failed_runs} of {runs} runs had a record on which store and DNS disagreed");
    assert_eq!(failed_runs, 0);
}
