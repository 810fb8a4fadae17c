//! The soak load of `benches/soak.sh`: valid clients polling under their
//! limits beside a stream of invalid requests, against a running
//! ddns-server with rate limits on, while the server's memory is sampled.
//!
//! ```text
//! soak prepare DB CLIENTS                 # records in a new SQLite file
//! soak run URL DNS PID SECONDS CLIENTS INTERVAL_MS ATTACK_PER_SEC [ROTATE_PER_SEC [RSS_GROWTH_MIB]]
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
//! would behind a real proxy.
//!
//! Every answer is classified by its protocol, HTTP status and body. A
//! valid client's answer must be a 200 saying "has been set to" its new
//! address when it moved the record (every fifth round) and "matches the
//! current" otherwise; at the end the embedded DNS (at `DNS`) must answer
//! each client's last address. An invalid request must be refused: by the
//! rate limits, or as the protocol refuses it (the seed API's `fail` JSON
//! with 200 or 403; dyndns2's `badauth` with 401). Prints one summary;
//! exits 1 when a valid request failed or a planned change did not show,
//! when an invalid one succeeded or got any other answer (a 5xx, a 431),
//! or when RSS grew past its bound.

#![allow(clippy::print_stdout)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ddns_core::{HashToken, Hostname, Record, RecordConfig, RecordKey, RecordStore, RecordType};
use ddns_core::{SharedSecret, with_trailing_dot};
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
    /// Valid: answered as planned. Invalid: succeeded (a failure).
    ok: AtomicU64,
    /// Valid: not answered as planned. Invalid: refused by the protocol.
    failed: AtomicU64,
    /// Refused by the rate limits.
    limited: AtomicU64,
    /// No answer (a transport error).
    other: AtomicU64,
    /// Invalid: an answer that is neither a refusal nor a success.
    unexpected: AtomicU64,
}

/// How an answer to an invalid request reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Limited,
    Refused,
    Succeeded,
    Unexpected,
}

/// Classifies the answer to an invalid request by protocol, status and
/// body.
fn classify(dyndns2: bool, status: u16, body: &str) -> Verdict {
    const FAIL: &str = r#""return_status": "fail"}"#;
    const SUCCESS: &str = r#""return_status": "success"}"#;
    if dyndns2 {
        match (status, body) {
            (200, "abuse\n") => Verdict::Limited,
            (401, "badauth\n") | (200, "nohost\n" | "notfqdn\n") => Verdict::Refused,
            (200, b) if b.starts_with("good") || b.starts_with("nochg") => Verdict::Succeeded,
            _ => Verdict::Unexpected,
        }
    } else if body.contains("Too many requests") && body.ends_with(FAIL) {
        Verdict::Limited
    } else if matches!(status, 200 | 403) && body.ends_with(FAIL) {
        Verdict::Refused
    } else if status == 200 && body.ends_with(SUCCESS) {
        Verdict::Succeeded
    } else {
        Verdict::Unexpected
    }
}

impl Tally {
    fn count(&self, verdict: Verdict) {
        let counter = match verdict {
            Verdict::Limited => &self.limited,
            Verdict::Refused => &self.failed,
            Verdict::Succeeded => &self.ok,
            Verdict::Unexpected => &self.unexpected,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The A record of `name` as the DNS server at `dns` answers it.
async fn dns_a(dns: std::net::SocketAddr, name: &str) -> Result<Vec<IpAddr>, AnyError> {
    use hickory_proto::op::{Message, Query};
    use hickory_proto::rr::{Name, RData, RecordType as Rt};
    let mut query = Message::query();
    query.add_query(Query::query(Name::from_ascii(name)?, Rt::A));
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
    socket.send_to(&query.to_vec()?, dns).await?;
    let mut buffer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(2), socket.recv(&mut buffer)).await??;
    let answer = Message::from_vec(&buffer[..n])?;
    Ok(answer
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            _ => None,
        })
        .collect())
}

async fn get(http: &reqwest::Client, url: &str, source: IpAddr) -> Result<(u16, String), AnyError> {
    let response = http
        .get(url)
        .header("x-forwarded-for", source.to_string())
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.text().await?))
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

/// Counts the answer to one invalid request, keeping a few that were not
/// refusals.
async fn answered(
    tally: &Tally,
    examples: &Mutex<Vec<String>>,
    dyndns2: bool,
    sent: Result<reqwest::Response, reqwest::Error>,
) {
    let Ok(response) = sent else {
        tally.other.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let status = response.status().as_u16();
    let Ok(body) = response.text().await else {
        tally.other.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let verdict = classify(dyndns2, status, &body);
    if matches!(verdict, Verdict::Succeeded | Verdict::Unexpected) {
        let mut kept = examples.lock().await;
        if kept.len() < 5 {
            kept.push(format!("{verdict:?}: {status} {body}"));
        }
    }
    tally.count(verdict);
}

async fn run(args: &[String]) -> Result<bool, AnyError> {
    let (args, optional) = args.split_at(args.len().min(7));
    let [url, dns, pid, seconds, clients, interval_ms, attack] = args else {
        return Err("usage: soak run URL DNS PID SECONDS CLIENTS INTERVAL_MS ATTACK_PER_SEC [ROTATE_PER_SEC [RSS_GROWTH_MIB]]".into());
    };
    let dns: std::net::SocketAddr = dns.parse()?;
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

    let planned_changes = Arc::new(AtomicU64::new(0));
    let mut client_tasks = tokio::task::JoinSet::new();
    for i in 0..clients {
        let (http, url, valid, latencies, failures, planned_changes) = (
            http.clone(),
            url.clone(),
            valid.clone(),
            latencies.clone(),
            failures.clone(),
            planned_changes.clone(),
        );
        client_tasks.spawn(async move {
            let source = client_source(i);
            let name = host(i);
            let hash = HashToken::compute_as_sent(
                source,
                &ddns_core::SentName::parse(&with_trailing_dot(&name)),
                &secret(i),
            )
            .to_hex();
            // Spread the clients over the interval.
            let offset = interval.mul_f64(i as f64 / clients.max(1) as f64);
            tokio::time::sleep(offset).await;
            let mut round = 0u64;
            // What the record holds as far as the answers tell; after a
            // request that got no answer, either that request's address or
            // the one before (the server may have applied it).
            let mut last_sent: Option<IpAddr> = None;
            let mut unanswered: Option<IpAddr> = None;
            while started.elapsed() < duration {
                // Every fifth round moves the record: a real DNS change.
                let last = 1 + (round / 5) % 2;
                let address: IpAddr = format!("10.{}.{}.{last}", (i >> 8) & 0xFF, i & 0xFF)
                    .parse()
                    .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
                let change = last_sent != Some(address);
                if change {
                    planned_changes.fetch_add(1, Ordering::Relaxed);
                }
                let set = format!("has been set to {address}");
                let expected = if change {
                    set.clone()
                } else {
                    "matches the current".to_owned()
                };
                // After an unanswered request either answer is right.
                let uncertain = unanswered.is_some();
                let query =
                    format!("{url}/?mode=set&hostname={name}&hash={hash}&internalIp={address}");
                let sent = Instant::now();
                match get(&http, &query, source).await {
                    Ok((200, body))
                        if body.ends_with(r#""return_status": "success"}"#)
                            && (body.contains(&expected)
                                || (uncertain
                                    && (body.contains(&set)
                                        || body.contains("matches the current")))) =>
                    {
                        valid.ok.fetch_add(1, Ordering::Relaxed);
                        let micros = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
                        latencies.lock().await.push(micros);
                        last_sent = Some(address);
                        unanswered = None;
                    }
                    Ok((status, body)) => {
                        valid.failed.fetch_add(1, Ordering::Relaxed);
                        failures.lock().await.push(format!(
                            "{name}: expected {expected:?}, got {status} {body}"
                        ));
                    }
                    Err(e) => {
                        valid.failed.fetch_add(1, Ordering::Relaxed);
                        failures.lock().await.push(format!("{name}: {e}"));
                        unanswered = Some(address);
                    }
                }
                round += 1;
                tokio::time::sleep(interval).await;
            }
            (name, last_sent, unanswered)
        });
    }

    // Answers to invalid requests that were not refusals, for the report.
    let examples = Arc::new(Mutex::new(Vec::<String>::new()));
    // The invalid stream, paced to ATTACK_PER_SEC.
    {
        let (http, url, invalid, examples) =
            (http.clone(), url.clone(), invalid.clone(), examples.clone());
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
                let (http, invalid, examples) = (http.clone(), invalid.clone(), examples.clone());
                inflight.spawn(async move {
                    let dyndns2 = query.contains("/nic/update");
                    let mut request = http
                        .get(&query)
                        .header("x-forwarded-for", source.to_string());
                    if dyndns2 {
                        request = request.basic_auth("decoy-1.example.com", Some("wrong"));
                    }
                    answered(&invalid, &examples, dyndns2, request.send().await).await;
                });
                while inflight.try_join_next().is_some() {}
            }
            while inflight.join_next().await.is_some() {}
        });
    }

    // The rotating attacker: a new /64 every request.
    let rotated = Arc::new(Tally::default());
    if rotate_per_sec > 0 {
        let (http, url, rotated, examples) =
            (http.clone(), url.clone(), rotated.clone(), examples.clone());
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
                let (http, rotated, examples) = (http.clone(), rotated.clone(), examples.clone());
                inflight.spawn(async move {
                    let mut request = http
                        .get(&query)
                        .header("x-forwarded-for", source.to_string());
                    if dyndns2 {
                        request = request.basic_auth(&name, Some("wrong"));
                    }
                    answered(&rotated, &examples, dyndns2, request.send().await).await;
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
    // DNS must hold every client's last address.
    let mut dns_checked = 0u64;
    let mut dns_wrong = Vec::new();
    while let Some(done) = client_tasks.join_next().await {
        let Ok((name, Some(last), unanswered)) = done else {
            continue;
        };
        match dns_a(dns, &with_trailing_dot(&name)).await {
            Ok(values) if values == [last] || unanswered.is_some_and(|u| values == [u]) => {
                dns_checked += 1;
            }
            Ok(values) => dns_wrong.push(format!("{name}: DNS holds {values:?}, not {last}")),
            Err(e) => dns_wrong.push(format!("{name}: DNS query failed: {e}")),
        }
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
        "valid:   {} answered as planned, {} not; latency p50 {} us, p99 {} us, max {} us",
        load(&valid.ok),
        load(&valid.failed),
        pct(0.50),
        pct(0.99),
        lat.last().copied().unwrap_or(0)
    );
    println!(
        "changes: {} planned, each answered \"has been set to\"; DNS holds the last address of {dns_checked} clients, wrong for {}",
        load(&planned_changes),
        dns_wrong.len()
    );
    let total = |t: &Tally| {
        load(&t.limited) + load(&t.failed) + load(&t.ok) + load(&t.other) + load(&t.unexpected)
    };
    println!(
        "invalid: {} sent; {} refused by rate limits, {} refused by the protocol, {} succeeded, {} other answers, {} transport errors",
        total(&invalid),
        load(&invalid.limited),
        load(&invalid.failed),
        load(&invalid.ok),
        load(&invalid.unexpected),
        load(&invalid.other)
    );
    if rotate_per_sec > 0 {
        println!(
            "rotating: {} sent from as many /64s; {} refused by rate limits, {} refused by the protocol, {} succeeded, {} other answers, {} transport errors",
            total(&rotated),
            load(&rotated.limited),
            load(&rotated.failed),
            load(&rotated.ok),
            load(&rotated.unexpected),
            load(&rotated.other)
        );
    }
    for example in examples.lock().await.iter().take(5) {
        println!("invalid request answered: {example}");
    }
    for wrong in dns_wrong.iter().take(5) {
        println!("DNS: {wrong}");
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
    let planned = load(&planned_changes) > 0 && load(&valid.ok) > 0;
    if !planned {
        println!("FAIL: no valid request was answered; the soak proved nothing");
    }
    Ok(planned
        && load(&valid.failed) == 0
        && dns_wrong.is_empty()
        && load(&invalid.ok) == 0
        && load(&invalid.unexpected) == 0
        && load(&rotated.ok) == 0
        && load(&rotated.unexpected) == 0
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
        _ => Err("usage: soak prepare DB CLIENTS | soak run URL DNS PID SECONDS CLIENTS INTERVAL_MS ATTACK_PER_SEC".into()),
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

#[cfg(test)]
mod tests {
    use super::{Verdict, classify};

    #[test]
    fn answers_are_classified_by_protocol_status_and_body() {
        let fail =
            r#"{"return_message": "Validation hashes do not match.", "return_status": "fail"}"#;
        let limited = r#"{"return_message": "Too many requests from this address; wait a minute and try again.", "return_status": "fail"}"#;
        let success = r#"{"return_message": "Your IP address matches the current Route53 DNS record.", "return_status": "success"}"#;
        assert_eq!(classify(false, 200, fail), Verdict::Refused);
        assert_eq!(classify(false, 403, fail), Verdict::Refused);
        assert_eq!(classify(false, 200, limited), Verdict::Limited);
        assert_eq!(classify(false, 200, success), Verdict::Succeeded);
        assert_eq!(classify(false, 500, fail), Verdict::Unexpected);
        assert_eq!(classify(false, 431, ""), Verdict::Unexpected);
        assert_eq!(classify(true, 401, "badauth\n"), Verdict::Refused);
        assert_eq!(classify(true, 200, "abuse\n"), Verdict::Limited);
        // A dyndns2 success is a success, not a refusal.
        assert_eq!(
            classify(true, 200, "good 203.0.113.5\n"),
            Verdict::Succeeded
        );
        assert_eq!(
            classify(true, 200, "nochg 203.0.113.5\n"),
            Verdict::Succeeded
        );
        assert_eq!(classify(true, 502, "badauth\n"), Verdict::Unexpected);
        // The seed API's JSON on the dyndns2 path is not a dyndns2 answer.
        assert_eq!(classify(true, 200, fail), Verdict::Unexpected);
    }
}
