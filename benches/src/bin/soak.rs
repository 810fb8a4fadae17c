//! The soak load of `benches/soak.sh`: valid clients polling under their
//! limits beside a stream of invalid requests, against a running
//! ddns-server with rate limits on, while the server's memory is sampled.
//!
//! ```text
//! soak prepare DB CLIENTS                 # records in a new SQLite file
//! soak run URL PID SECONDS CLIENTS INTERVAL_MS ATTACK_PER_SEC [ROTATE_PER_SEC [RSS_GROWTH_MIB]]
//! ```
//!
//! With `ROTATE_PER_SEC`, a second attacker sends that many requests a
//! second, each from a new IPv6 address in a /64 of its own
//! (`2001:db8:<n>::/64`, up to a million and more distinct prefixes), naming
//! one of a thousand random host names with a random hash, or the same
//! names over dyndns2 with a wrong password. The run fails when the
//! server's RSS grows by more than `RSS_GROWTH_MIB` (default 32) from the
//! first sample after warm-up to the last.
//!
//! Clients are told apart by `X-Forwarded-For` (the server trusts
//! loopback as its proxy), so per-address limits apply to each as they
//! would behind a real proxy. Prints one summary; exits 1 when a valid
//! request failed.

#![allow(clippy::print_stdout)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ddns_core::{HashToken, Hostname, Record, RecordConfig, RecordKey, RecordStore, RecordType};
use ddns_core::{SharedSecret, hostname::with_trailing_dot};
use ddns_sqlite::SqliteStore;
use tokio::sync::Mutex;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

fn secret(i: usize) -> SharedSecret {
    SharedSecret::new(format!("soak-secret-{i:06}-0123456789abcdef"))
}

fn host(i: usize) -> String {
    format!("soak-{i}.example.com")
}

/// The public address client `i` appears to come from.
fn client_source(i: usize) -> IpAddr {
    let i = u32::try_from(i).unwrap_or(0);
    IpAddr::V4(Ipv4Addr::from(0xC612_0000 | (i & 0xFFFF))) // 198.18.0.0/15
}

async fn prepare(db: &str, clients: usize) -> Result<(), AnyError> {
    let store = SqliteStore::open(db).await?;
    for i in 0..clients {
        let key = RecordKey::new(Hostname::parse(&host(i))?, RecordType::A);
        let config = RecordConfig::new(secret(i)).with_allow_internal(true);
        store.create(&Record::new(key, config)).await?;
    }
    // Decoys the invalid traffic aims at.
    for j in 0..16 {
        let key = RecordKey::new(
            Hostname::parse(&format!("decoy-{j}.example.com"))?,
            RecordType::A,
        );
        let config = RecordConfig::new(SharedSecret::new(format!("decoy-{j}-never-guessed")));
        store.create(&Record::new(key, config)).await?;
    }
    println!("prepared {clients} client records and 16 decoys in {db}");
    Ok(())
}

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    failed: AtomicU64,
    limited: AtomicU64,
    other: AtomicU64,
}

async fn get(http: &reqwest::Client, url: &str, source: IpAddr) -> Result<String, AnyError> {
    let response = http
        .get(url)
        .header("x-forwarded-for", source.to_string())
        .send()
        .await?;
    Ok(response.text().await?)
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A cheap xorshift: the invalid traffic needs variety, not quality.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

async fn run(args: &[String]) -> Result<bool, AnyError> {
    let (args, optional) = args.split_at(args.len().min(6));
    let [url, pid, seconds, clients, interval_ms, attack] = args else {
        return Err("usage: soak run URL PID SECONDS CLIENTS INTERVAL_MS ATTACK_PER_SEC [ROTATE_PER_SEC [RSS_GROWTH_MIB]]".into());
    };
    let rotate_per_sec: u64 = optional.first().map_or(Ok(0), |s| s.parse())?;
    let growth_mib: u64 = optional.get(1).map_or(Ok(32), |s| s.parse())?;
    let url = url.trim_end_matches('/').to_owned();
    let pid: u32 = pid.parse()?;
    let duration = Duration::from_secs(seconds.parse()?);
    let clients: usize = clients.parse()?;
    let interval = Duration::from_millis(interval_ms.parse()?);
    let attack_per_sec: u64 = attack.parse()?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(64)
        .build()?;
    let started = Instant::now();
    let valid = Arc::new(Tally::default());
    let invalid = Arc::new(Tally::default());
    let latencies = Arc::new(Mutex::new(Vec::<u32>::new()));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut tasks = tokio::task::JoinSet::new();

    for i in 0..clients {
        let (http, url, valid, latencies, failures) = (
            http.clone(),
            url.clone(),
            valid.clone(),
            latencies.clone(),
            failures.clone(),
        );
        tasks.spawn(async move {
            let source = client_source(i);
            let name = host(i);
            let hash = HashToken::compute(source, &with_trailing_dot(&name), &secret(i)).to_hex();
            // Spread the clients over the interval.
            let offset = interval.mul_f64(i as f64 / clients.max(1) as f64);
            tokio::time::sleep(offset).await;
            let mut round = 0u64;
            while started.elapsed() < duration {
                // Every fifth round moves the record: a real DNS change.
                let last = 1 + (round / 5) % 2;
                let address = format!("10.{}.{}.{last}", (i >> 8) & 0xFF, i & 0xFF);
                let query =
                    format!("{url}/?mode=set&hostname={name}&hash={hash}&internalIp={address}");
                let sent = Instant::now();
                match get(&http, &query, source).await {
                    Ok(body) if body.ends_with(r#""return_status": "success"}"#) => {
                        valid.ok.fetch_add(1, Ordering::Relaxed);
                        let micros = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
                        latencies.lock().await.push(micros);
                    }
                    Ok(body) => {
                        valid.failed.fetch_add(1, Ordering::Relaxed);
                        failures.lock().await.push(body);
                    }
                    Err(e) => {
                        valid.failed.fetch_add(1, Ordering::Relaxed);
                        failures.lock().await.push(e.to_string());
                    }
                }
                round += 1;
                tokio::time::sleep(interval).await;
            }
        });
    }

    // The invalid stream, paced to ATTACK_PER_SEC.
    {
        let (http, url, invalid) = (http.clone(), url.clone(), invalid.clone());
        tasks.spawn(async move {
            let mut seed = 0x9E37_79B9_7F4A_7C15u64;
            let mut ticker =
                tokio::time::interval(Duration::from_micros(1_000_000 / attack_per_sec.max(1)));
            let mut inflight = tokio::task::JoinSet::new();
            while started.elapsed() < duration {
                ticker.tick().await;
                let r = next(&mut seed);
                // Sources: 4,096 attacker addresses in 198.19.0.0/16.
                let source = IpAddr::V4(Ipv4Addr::from(0xC613_0000 | (r & 0x0FFF) as u32));
                let query = match (r >> 16) % 4 {
                    0 => format!(
                        "{url}/?mode=set&hostname=decoy-{}.example.com&hash={:064x}",
                        (r >> 20) % 16,
                        u128::from(r)
                    ),
                    1 => format!(
                        "{url}/?mode=set&hostname=nobody-{r}.example.com&hash={:064x}",
                        r
                    ),
                    2 => format!("{url}/?mode=%ff%00{r}&hostname=%%%&hash=zz"),
                    _ => format!(
                        "{url}/nic/update?hostname=decoy-{}.example.com&myip=203.0.113.{}",
                        (r >> 20) % 16,
                        r % 250
                    ),
                };
                let (http, invalid) = (http.clone(), invalid.clone());
                inflight.spawn(async move {
                    let mut request = http
                        .get(&query)
                        .header("x-forwarded-for", source.to_string());
                    if query.contains("/nic/update") {
                        request = request.basic_auth("decoy-1.example.com", Some("wrong"));
                    }
                    let tally = match request.send().await {
                        Ok(response) => match response.text().await {
                            Ok(body) if body.contains("Too many requests") || body == "abuse\n" => {
                                &invalid.limited
                            }
                            Ok(body) if body.ends_with(r#""return_status": "success"}"#) => {
                                &invalid.ok
                            }
                            Ok(_) => &invalid.failed,
                            Err(_) => &invalid.other,
                        },
                        Err(_) => &invalid.other,
                    };
                    tally.fetch_add(1, Ordering::Relaxed);
                });
                while inflight.try_join_next().is_some() {}
            }
            while inflight.join_next().await.is_some() {}
        });
    }

    // The rotating attacker: a new /64 every request.
    let rotated = Arc::new(Tally::default());
    if rotate_per_sec > 0 {
        let (http, url, rotated) = (http.clone(), url.clone(), rotated.clone());
        tasks.spawn(async move {
            let mut seed = 0xD1B5_4A32_D192_ED03u64;
            let mut ticker =
                tokio::time::interval(Duration::from_micros(1_000_000 / rotate_per_sec.max(1)));
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut inflight = tokio::task::JoinSet::new();
            let mut n: u32 = 0;
            while started.elapsed() < duration {
                ticker.tick().await;
                let r = next(&mut seed);
                let [a, b, c, d] = [
                    (r >> 48) as u16,
                    (r >> 32) as u16,
                    (r >> 16) as u16,
                    r as u16,
                ];
                let source = IpAddr::V6(Ipv6Addr::new(
                    0x2001,
                    0x0db8,
                    (n >> 16) as u16,
                    n as u16,
                    a,
                    b,
                    c,
                    d,
                ));
                n = n.wrapping_add(1);
                let name = format!("rnd-{}.example.com", r % 1000);
                let dyndns2 = (r >> 12).is_multiple_of(4);
                let query = if dyndns2 {
                    format!("{url}/nic/update?hostname={name}")
                } else {
                    format!("{url}/?mode=set&hostname={name}&hash={r:064x}")
                };
                let (http, rotated) = (http.clone(), rotated.clone());
                inflight.spawn(async move {
                    let mut request = http
                        .get(&query)
                        .header("x-forwarded-for", source.to_string());
                    if dyndns2 {
                        request = request.basic_auth(&name, Some("wrong"));
                    }
                    let tally = match request.send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            match response.text().await {
                                Ok(body)
                                    if body.contains("Too many requests") || body == "abuse\n" =>
                                {
                                    &rotated.limited
                                }
                                // Refused as it should be: an unknown host
                                // (seed message 2), or badauth (401).
                                Ok(body)
                                    if (status == 200
                                        && body.ends_with(r#""return_status": "fail"}"#))
                                        || (status == 401 && body == "badauth\n") =>
                                {
                                    &rotated.failed
                                }
                                Ok(_) => &rotated.ok,
                                Err(_) => &rotated.other,
                            }
                        }
                        Err(_) => &rotated.other,
                    };
                    tally.fetch_add(1, Ordering::Relaxed);
                });
                while inflight.try_join_next().is_some() {}
            }
            while inflight.join_next().await.is_some() {}
        });
    }

    // Memory, every 5 s.
    let mut samples = Vec::new();
    while started.elapsed() < duration {
        if let Some(kib) = rss_kib(pid) {
            samples.push((started.elapsed().as_secs(), kib));
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    while tasks.join_next().await.is_some() {}
    if let Some(kib) = rss_kib(pid) {
        samples.push((started.elapsed().as_secs(), kib));
    }

    let mut lat = latencies.lock().await.clone();
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let load = |t: &AtomicU64| t.load(Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "soak: {secs:.0} s, {clients} valid clients every {interval:?}, invalid stream {attack_per_sec}/s"
    );
    println!(
        "valid:   {} ok, {} failed; latency p50 {} us, p99 {} us, max {} us",
        load(&valid.ok),
        load(&valid.failed),
        pct(0.50),
        pct(0.99),
        lat.last().copied().unwrap_or(0)
    );
    println!(
        "invalid: {} sent; {} refused by rate limits, {} refused otherwise, {} succeeded, {} transport errors",
        load(&invalid.limited) + load(&invalid.failed) + load(&invalid.ok) + load(&invalid.other),
        load(&invalid.limited),
        load(&invalid.failed),
        load(&invalid.ok),
        load(&invalid.other)
    );
    if rotate_per_sec > 0 {
        println!(
            "rotating: {} sent from as many /64s; {} refused by rate limits, {} refused as unknown or unauthenticated, {} unexpected answers, {} transport errors",
            load(&rotated.limited)
                + load(&rotated.failed)
                + load(&rotated.ok)
                + load(&rotated.other),
            load(&rotated.limited),
            load(&rotated.failed),
            load(&rotated.ok),
            load(&rotated.other)
        );
    }
    let rss: Vec<String> = samples
        .iter()
        .map(|(t, kib)| format!("{t}s:{:.1}", *kib as f64 / 1024.0))
        .collect();
    println!("server RSS MiB: {}", rss.join(" "));
    let warm = samples
        .iter()
        .find(|(t, _)| *t >= 30)
        .or(samples.first())
        .map_or(0, |s| s.1);
    let peak = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let end = samples.last().map_or(0, |s| s.1);
    println!(
        "server RSS: after warm-up (30 s) {:.1} MiB, peak {:.1} MiB, end {:.1} MiB",
        warm as f64 / 1024.0,
        peak as f64 / 1024.0,
        end as f64 / 1024.0
    );
    for failure in failures.lock().await.iter().take(5) {
        println!("valid failure: {failure}");
    }
    let flat = end.saturating_sub(warm) <= growth_mib * 1024;
    if !flat {
        println!("FAIL: RSS grew by more than {growth_mib} MiB after warm-up");
    }
    Ok(load(&valid.failed) == 0
        && load(&invalid.ok) == 0
        && load(&rotated.ok) == 0
        && load(&rotated.other) == 0
        && flat)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("prepare") if args.len() == 3 => match args[2].parse() {
            Ok(clients) => prepare(&args[1], clients).await.map(|()| true),
            Err(e) => Err(e.into()),
        },
        Some("run") => run(&args[1..]).await,
        _ => Err("usage: soak prepare DB CLIENTS | soak run URL PID SECONDS CLIENTS INTERVAL_MS ATTACK_PER_SEC".into()),
    };
    match result {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
