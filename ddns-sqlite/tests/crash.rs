//! Crash safety, tested for real: a child process streams updates through
//! `SqliteStore` and reports each one on stdout only after it returned Ok;
//! once it has acknowledged one, the parent kills it with SIGKILL at a
//! random moment, checks that it died by that signal (not by a panic of its
//! own), then that the database opens, passes `PRAGMA integrity_check`, and
//! holds every update the child had acknowledged, row for row. Repeated for
//! [`ROUNDS`] rounds on one file.
//!
//! A killed process's writes stay in the kernel's page cache, so this test
//! cannot tell a synced write from an unsynced one: `durability.rs` shows
//! the sync of every acknowledged write.
//!
//! This file has its own `main` (`harness = false`): the same binary is the
//! parent, and, with `DDNS_SQLITE_CRASH_CHILD` set, the child.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    missing_docs
)]

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use ddns_core::{
    ChangeUpdate, Error, Hostname, Record, RecordConfig, RecordKey, RecordStore, RecordType,
    SharedSecret, Timestamp,
};
use ddns_sqlite::SqliteStore;

const ROUNDS: usize = 25;
/// Steps skipped between rounds, so that no round reuses a name an earlier
/// one may have created unacknowledged.
const STEP_GAP: u64 = 100;
const CHILD_ENV: &str = "DDNS_SQLITE_CRASH_CHILD";
const START_ENV: &str = "DDNS_SQLITE_CRASH_START";

fn counter_key() -> RecordKey {
    RecordKey::new(
        Hostname::parse("counter.crash.example").unwrap(),
        RecordType::A,
    )
}

fn item_key(i: u64) -> RecordKey {
    RecordKey::new(
        Hostname::parse(&format!("r{i}.crash.example")).unwrap(),
        RecordType::A,
    )
}

fn address(i: u64) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(
        u32::try_from(i % u64::from(u32::MAX)).unwrap() + 1,
    ))
}

/// The row the child creates for step `i`: each one different, so that a
/// row from another step, or a torn one, cannot pass for it.
fn item(i: u64) -> Record {
    let config = RecordConfig::new(SharedSecret::new(format!("secret-{i}")))
        .with_ttl(30 + u32::try_from(i % 1000).unwrap())
        .with_comment(format!("step {i}"))
        .with_allow_internal(i.is_multiple_of(2));
    Record::new(item_key(i), config)
}

fn counter() -> Record {
    Record::new(counter_key(), RecordConfig::new(SharedSecret::new("c")))
}

fn random_below(n: u64) -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    u64::from_le_bytes(bytes) % n
}

/// The child: create one record and move the counter record per step,
/// printing the step number once both writes returned Ok.
fn child(path: &Path, start: u64) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = SqliteStore::open(path).await.unwrap();
        match store.create(&counter()).await {
            Ok(()) | Err(Error::Conflict { .. }) => {}
            Err(e) => panic!("creating the counter: {e}"),
        }
        let mut out = std::io::stdout().lock();
        for i in start.. {
            store.create(&item(i)).await.unwrap();
            let previous = store
                .get(&counter_key())
                .await
                .unwrap()
                .unwrap()
                .state
                .address();
            let change = ChangeUpdate::address(previous, address(i), Timestamp::now());
            assert!(store.record_change(&counter_key(), change).await.unwrap());
            writeln!(out, "{i}").unwrap();
            out.flush().unwrap();
        }
    });
}

struct Round {
    acked: Vec<u64>,
    killed_after: Duration,
    /// What went wrong with the child itself (not the database).
    problems: Vec<String>,
}

/// How long the child may take to acknowledge its first update.
const FIRST_ACK_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts the child, waits for its first acknowledgement, kills it at a
/// random moment after that, and returns what it acked.
fn run_round(path: &Path, start: u64) -> Round {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, path)
        .env(START_ENV, start.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let (first_tx, first_rx) = mpsc::channel();
    let reader = {
        let acked = acked.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(i) = line.trim().parse::<u64>() {
                    acked.lock().unwrap().push(i);
                    let _ = first_tx.send(());
                }
            }
        })
    };
    let mut problems = Vec::new();
    let begun = Instant::now();
    if first_rx.recv_timeout(FIRST_ACK_TIMEOUT).is_err() {
        problems.push(format!(
            "the child acknowledged nothing within {} s",
            FIRST_ACK_TIMEOUT.as_secs()
        ));
    }
    std::thread::sleep(Duration::from_millis(random_below(300)));
    child.kill().unwrap(); // SIGKILL
    let killed_after = begun.elapsed();
    let status = child.wait().unwrap();
    if status.signal() != Some(SIGKILL) {
        problems.push(format!(
            "the child ended by itself ({status}), not by the kill: it failed a write"
        ));
    }
    reader.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    Round {
        acked,
        killed_after,
        problems,
    }
}

/// SIGKILL's number on every Unix this runs on.
const SIGKILL: i32 = 9;

/// Checks the database after a crash; returns the problems found.
fn verify(path: &Path, acked: &[u64]) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut problems = Vec::new();
        let store = match SqliteStore::open(path).await {
            Ok(store) => store,
            Err(e) => return vec![format!("the database does not open: {e}")],
        };
        match store.integrity_check().await {
            Ok(findings) if findings == ["ok"] => {}
            other => problems.push(format!("integrity_check: {other:?}")),
        }
        for &i in acked {
            match store.get(&item_key(i)).await {
                Ok(Some(row)) if row == item(i) => {}
                Ok(Some(row)) => problems.push(format!(
                    "acknowledged record r{i} holds {row:?}, not {:?}",
                    item(i)
                )),
                Ok(None) => problems.push(format!("acknowledged record r{i} is missing")),
                Err(e) => problems.push(format!("acknowledged record r{i} cannot be read: {e}")),
            }
        }
        if let Some(&last) = acked.last() {
            let row = store.get(&counter_key()).await.ok().flatten();
            // The counter's configuration never changes; its state is the
            // last committed step's.
            if row.as_ref().map(|r| &r.config) != Some(&counter().config) {
                problems.push(format!("the counter row is {row:?}"));
            }
            if row.as_ref().is_some_and(|r| r.state.last_updated.is_none()) {
                problems.push("the counter has an address but no last_updated".to_owned());
            }
            let ip = row.and_then(|r| r.state.address());
            // Steps after the last acknowledged one may have committed
            // before the kill (and may show up only once a later process
            // has recovered the journal); anything older is a lost update.
            let step = match ip {
                Some(IpAddr::V4(v4)) => u64::from(u32::from(v4)).checked_sub(1),
                _ => None,
            };
            if step.is_none_or(|s| s < last) {
                problems.push(format!(
                    "counter holds {ip:?}, expected {} or a later step's",
                    address(last)
                ));
            }
        }
        problems
    })
}

fn main() -> ExitCode {
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        let start = std::env::var(START_ENV)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        child(&PathBuf::from(path), start);
        return ExitCode::SUCCESS;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.sqlite3");
    let mut next = 0;
    let mut all_acked = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    for round in 1..=ROUNDS {
        let Round {
            acked,
            killed_after,
            problems: child_problems,
        } = run_round(&path, next);
        all_acked.extend(&acked);
        // Start the next round well past every step this one may have
        // committed without acknowledging it, acknowledged or not.
        next = acked.last().map_or(next, |&last| last + 1).max(next) + STEP_GAP;
        // Every acknowledgement so far, from every round, must still hold.
        let mut problems = child_problems;
        if acked.is_empty() {
            problems.push("nothing was acknowledged in this round".to_owned());
        }
        problems.extend(verify(&path, &all_acked));
        println!(
            "crash round {round}: killed after {} ms, {} updates acknowledged ({} in all): {}",
            killed_after.as_millis(),
            acked.len(),
            all_acked.len(),
            if problems.is_empty() {
                "ok".to_owned()
            } else {
                problems.join("; ")
            }
        );
        if problems.is_empty() {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    if all_acked.is_empty() {
        println!("crash: no update was acknowledged in any round; the test proved nothing");
        failed += 1;
    }
    println!("crash: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
