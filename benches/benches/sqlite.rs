//! Benchmarks of the SQLite record store: point reads and state write-backs
//! at 1,000 and 1,000,000 records, concurrent reads with one reader
//! connection and with four, plus the time to open (with its integrity
//! check) and the peak memory of the process, printed at the end.
//!
//! Run: `cargo bench -p ddns-benches --bench sqlite`.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]

use std::hint::black_box;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use ddns_core::{
    AccessUpdate, Hostname, Record, RecordConfig, RecordKey, RecordStore, RecordType, SharedSecret,
    Timestamp,
};
use ddns_sqlite::SqliteStore;

fn key(i: u64) -> RecordKey {
    RecordKey::new(
        Hostname::parse(&format!("host{i}.example.com")).unwrap(),
        RecordType::A,
    )
}

/// A pseudo-random sequence of record indexes (xorshift), the same each run.
fn next_index(state: &AtomicU64, n: u64) -> u64 {
    let mut x = state.load(Ordering::Relaxed);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    state.store(x, Ordering::Relaxed);
    x % n
}

async fn populated(path: &Path, n: u64, readers: usize) -> SqliteStore {
    let store = SqliteStore::builder(path)
        .with_readers(readers)
        .open()
        .await
        .unwrap();
    if store.get(&key(0)).await.unwrap().is_none() {
        const CHUNK: u64 = 100_000;
        for start in (0..n).step_by(CHUNK as usize) {
            let records = (start..(start + CHUNK).min(n))
                .map(|i| {
                    let config = RecordConfig::new(SharedSecret::new(format!("secret{i}")))
                        .with_mac_address("02:00:00:00:00:01");
                    Record::new(key(i), config)
                })
                .collect();
            store.import(records).await.unwrap();
        }
    }
    store
}

fn point_operations(c: &mut Criterion, rt: &tokio::runtime::Runtime, dir: &Path) {
    let mut group = c.benchmark_group("sqlite");
    for n in [1_000u64, 1_000_000] {
        let path = dir.join(format!("bench-{n}.sqlite3"));
        let store = rt.block_on(populated(&path, n, 2));
        drop(store);
        let begun = Instant::now();
        let store = rt.block_on(SqliteStore::open(&path)).unwrap();
        println!(
            "open with quick_check, {n} records: {:.1} ms; file {:.1} MiB",
            begun.elapsed().as_secs_f64() * 1e3,
            std::fs::metadata(&path).unwrap().len() as f64 / (1024.0 * 1024.0)
        );
        let seed = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
        group.bench_with_input(BenchmarkId::new("get", n), &n, |b, &n| {
            b.to_async(rt).iter(|| async {
                let i = next_index(&seed, n);
                black_box(store.get(&key(i)).await.unwrap().unwrap());
            })
        });
        let source: IpAddr = "198.51.100.7".parse().unwrap();
        group.bench_with_input(BenchmarkId::new("record_access", n), &n, |b, &n| {
            b.to_async(rt).iter(|| async {
                let i = next_index(&seed, n);
                let access = AccessUpdate {
                    source,
                    at: Timestamp::now(),
                };
                store.record_access(&key(i), access).await.unwrap();
            })
        });
    }
    group.finish();
}

fn concurrent_reads(c: &mut Criterion, rt: &tokio::runtime::Runtime, dir: &Path) {
    const CONCURRENT: u64 = 64;
    let mut group = c.benchmark_group("sqlite/64 concurrent gets");
    for readers in [1usize, 4] {
        let path = dir.join(format!("bench-concurrent-{readers}.sqlite3"));
        let store = Arc::new(rt.block_on(populated(&path, 1_000, readers)));
        group.bench_with_input(BenchmarkId::new("readers", readers), &readers, |b, _| {
            b.to_async(rt).iter(|| {
                let store = store.clone();
                async move {
                    let mut tasks = tokio::task::JoinSet::new();
                    for i in 0..CONCURRENT {
                        let store = store.clone();
                        tasks.spawn(async move { store.get(&key(i * 13 % 1_000)).await.unwrap() });
                    }
                    while let Some(r) = tasks.join_next().await {
                        black_box(r.unwrap());
                    }
                }
            })
        });
    }
    group.finish();
}

fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    point_operations(&mut c, &rt, dir.path());
    concurrent_reads(&mut c, &rt, dir.path());
    c.final_summary();
    if let Some(kib) = peak_memory_kib() {
        println!(
            "peak memory (VmHWM) of the benchmark process: {:.1} MiB",
            kib as f64 / 1024.0
        );
    }
}
