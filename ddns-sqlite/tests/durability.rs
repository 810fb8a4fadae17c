//! Durability against power loss, shown by the system calls themselves.
//!
//! A killed process leaves its writes in the kernel's page cache, so a crash
//! test (`crash.rs`) passes whether or not anything reached the disk. What
//! survives a power cut is only what was synced. So this test runs a child
//! process under `strace` that performs every kind of store write (create,
//! access, change, replay guard, config update, delete), one at a time, and
//! prints an acknowledgement after each returned `Ok`. Then, in the trace,
//! every acknowledgement must be preceded by a write to the `-wal` file and,
//! after the last such write, by a completed `fdatasync` (or `fsync`) of the
//! `-wal` file: SQLite's WAL with `synchronous=FULL` syncs at each commit,
//! and the WAL is what recovery replays. With `synchronous=NORMAL` or `OFF`
//! the sync is missing and the test fails.
//!
//! This file has its own `main` (`harness = false`): the same binary is the
//! parent and, with `DDNS_SQLITE_DURABILITY_CHILD` set, the traced child.
//! Without `strace` the test skips loudly, or fails when
//! `DDNS_REQUIRE_INTEGRATION=1` (`apt-get install strace`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    missing_docs
)]

use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use ddns_core::{
    AccessUpdate, ChangeUpdate, Hostname, Record, RecordConfig, RecordKey, RecordStore, RecordType,
    SharedSecret, Timestamp,
};
use ddns_sqlite::SqliteStore;

const CHILD_ENV: &str = "DDNS_SQLITE_DURABILITY_CHILD";
/// Records the child writes; six writes each (five for those it keeps).
const RECORDS: u32 = 12;

fn key(i: u32) -> RecordKey {
    RecordKey::new(
        Hostname::parse(&format!("d{i}.durable.example")).unwrap(),
        RecordType::A,
    )
}

fn address(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0xC633_6400 + i)) // 198.51.100.0/24
}

/// The child: each store write, then `ack <what> <i>` on stdout.
fn child(path: &Path) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = SqliteStore::open(path).await.unwrap();
        let mut out = std::io::stdout().lock();
        let mut ack = |what: &str, i: u32| {
            writeln!(out, "ack {what} {i}").unwrap();
            out.flush().unwrap();
        };
        for i in 0..RECORDS {
            let config = RecordConfig::new(SharedSecret::new(format!("secret-{i}")));
            store
                .create(&Record::new(key(i), config.clone()))
                .await
                .unwrap();
            ack("create", i);
            let access = AccessUpdate {
                source: address(i),
                at: Timestamp::now(),
            };
            store.record_access(&key(i), access).await.unwrap();
            ack("access", i);
            let change = ChangeUpdate::address(None, address(i), Timestamp::now());
            assert!(store.record_change(&key(i), change).await.unwrap());
            ack("change", i);
            assert!(
                store
                    .advance_replay_guard(&key(i), 1_700_000_000 + u64::from(i))
                    .await
                    .unwrap()
            );
            ack("guard", i);
            store
                .update_config(&key(i), &config.with_ttl(60 + i))
                .await
                .unwrap();
            ack("config", i);
            if i.is_multiple_of(3) {
                store.delete(&key(i)).await.unwrap();
                ack("delete", i);
            }
        }
    });
}

/// One system call from the trace, by where it began and ended.
#[derive(Debug)]
struct Call {
    name: String,
    /// The file of its first argument, from `strace -y`.
    file: String,
    /// The start of its text (the acknowledgement's words for stdout).
    text: String,
    result: String,
    began: usize,
    ended: usize,
}

/// Reads `strace -f -y` output, joining `<unfinished ...>` and
/// `<... resumed>` halves by thread.
fn parse_trace(trace: &str) -> Vec<Call> {
    let mut calls = Vec::new();
    let mut pending: HashMap<String, (String, String, String, usize)> = HashMap::new();
    for (at, line) in trace.lines().enumerate() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some(resumed) = rest.strip_prefix("<... ") {
            let Some((name, tail)) = resumed.split_once(" resumed>") else {
                continue;
            };
            if let Some((_, file, text, began)) = pending.remove(pid) {
                calls.push(Call {
                    name: name.to_owned(),
                    file,
                    text,
                    result: result_of(tail),
                    began,
                    ended: at,
                });
            }
            continue;
        }
        let Some((name, args)) = rest.split_once('(') else {
            continue;
        };
        // `3</path/to/file>, ...`: the descriptor's file between < and >.
        let file = args
            .split_once('<')
            .and_then(|(_, f)| f.split_once('>'))
            .map(|(f, _)| f.to_owned())
            .unwrap_or_default();
        let text = args
            .split_once(", \"")
            .and_then(|(_, t)| t.split('"').next())
            .map(|t| t.trim_end_matches("\\n").to_owned())
            .unwrap_or_default();
        if rest.ends_with("<unfinished ...>") {
            pending.insert(pid.to_owned(), (name.to_owned(), file, text, at));
        } else {
            calls.push(Call {
                name: name.to_owned(),
                file,
                text,
                result: result_of(args),
                began: at,
                ended: at,
            });
        }
    }
    calls.sort_by_key(|c| c.ended);
    calls
}

fn result_of(tail: &str) -> String {
    tail.rsplit_once(" = ")
        .map(|(_, r)| r.trim().to_owned())
        .unwrap_or_default()
}

fn is_wal(call: &Call) -> bool {
    call.file.ends_with("-wal")
}

fn is_sync(call: &Call) -> bool {
    matches!(call.name.as_str(), "fdatasync" | "fsync") && call.result == "0"
}

fn is_write(call: &Call) -> bool {
    matches!(
        call.name.as_str(),
        "write" | "pwrite64" | "writev" | "pwritev" | "pwritev2"
    )
}

/// The acknowledgements that no synced WAL write precedes.
fn unsynced_acks(calls: &[Call]) -> (usize, Vec<String>) {
    let acks: Vec<&Call> = calls
        .iter()
        .filter(|c| c.name == "write" && c.text.starts_with("ack "))
        .collect();
    let mut problems = Vec::new();
    let mut since = 0;
    for ack in &acks {
        let label = &ack.text;
        let wal_writes: Vec<&Call> = calls
            .iter()
            .filter(|c| is_wal(c) && is_write(c) && c.ended > since && c.ended < ack.began)
            .collect();
        match wal_writes.last() {
            None => problems.push(format!("{label}: no write to the WAL before it")),
            Some(last) => {
                let synced = calls.iter().any(|c| {
                    is_wal(c) && is_sync(c) && c.began > last.ended && c.ended < ack.began
                });
                if !synced {
                    problems.push(format!(
                        "{label}: the WAL was not synced between its last write and the \
                         acknowledgement"
                    ));
                }
            }
        }
        since = ack.began;
    }
    (acks.len(), problems)
}

fn expected_acks() -> usize {
    let deleted = (0..RECORDS).filter(|i| i.is_multiple_of(3)).count();
    usize::try_from(RECORDS).unwrap() * 5 + deleted
}

fn find_strace() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("strace"))
            .find(|p| p.exists())
    })
}

fn main() -> ExitCode {
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        child(&PathBuf::from(path));
        return ExitCode::SUCCESS;
    }
    let Some(strace) = find_strace() else {
        if std::env::var("DDNS_REQUIRE_INTEGRATION").as_deref() == Ok("1") {
            println!("durability: strace is required: apt-get install strace");
            return ExitCode::FAILURE;
        }
        println!("SKIPPED: durability: strace not installed (apt-get install strace)");
        return ExitCode::SUCCESS;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("durable.sqlite3");
    let trace_file = dir.path().join("trace.txt");
    let output = Command::new(strace)
        .args(["-f", "-qq", "-y", "-o"])
        .arg(&trace_file)
        .args([
            "-e",
            "trace=write,pwrite64,writev,pwritev,pwritev2,fsync,fdatasync",
        ])
        .arg(std::env::current_exe().unwrap())
        .env(CHILD_ENV, &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        println!(
            "durability: the traced child failed ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        return ExitCode::FAILURE;
    }
    let printed = stdout.lines().filter(|l| l.starts_with("ack ")).count();
    let trace = std::fs::read_to_string(&trace_file).unwrap();
    let calls = parse_trace(&trace);
    let (traced, problems) = unsynced_acks(&calls);
    let syncs = calls.iter().filter(|c| is_wal(c) && is_sync(c)).count();
    println!(
        "durability: {printed} writes acknowledged, {traced} in the trace, \
         {syncs} syncs of the WAL"
    );
    let mut failed = false;
    if printed != expected_acks() || traced != printed {
        println!(
            "durability: expected {} acknowledgements printed and traced",
            expected_acks()
        );
        failed = true;
    }
    for problem in &problems {
        println!("durability: {problem}");
        failed = true;
    }
    if !problems.is_empty() {
        println!(
            "durability: {} of {traced} acknowledgements came before their write was synced",
            problems.len()
        );
    }
    if failed {
        println!(
            "durability: FAILED; the trace is in {}",
            trace_file.display()
        );
        // Keep the trace for whoever reads the failure.
        let kept = dir.keep();
        println!("durability: kept {}", kept.display());
        ExitCode::FAILURE
    } else {
        println!("durability: every acknowledged write was synced to the WAL first: ok");
        ExitCode::SUCCESS
    }
}
