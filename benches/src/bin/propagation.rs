//! The change load of `benches/propagation.sh`: a steady rate of dyndns2
//! updates to a running ddns-server, each to a new address of another
//! record (`host-<i>.example.com`, secret `bench-secret-<i>`, as
//! `zonefill` makes them), and for each, on every secondary given, the
//! time from sending the update until the secondary answers the new
//! address (a query every 10 ms).
//!
//! ```text
//! propagation HTTP_ADDR SECONDARY[,SECONDARY...] PER_SECOND SECONDS RECORDS
//! ```
//!
//! Prints the 50th, 90th and 99th percentiles and the maximum per
//! secondary. Exits 1 when an update was not answered `good`, or a change
//! did not show on a secondary within 10 s.

#![allow(clippy::print_stdout)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// How long a change may take to show before the run fails.
const GIVE_UP: Duration = Duration::from_secs(10);

/// One dyndns2 update over HTTP/1.1; true when answered `good`.
async fn update(http: SocketAddr, host: &str, password: &str, address: Ipv4Addr) -> bool {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{host}:{password}"));
    let request = format!(
        "GET /nic/update?hostname={host}&myip={address} HTTP/1.1\r\nHost: bench\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n"
    );
    let Ok(mut stream) = TcpStream::connect(http).await else {
        return false;
    };
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut reply = Vec::new();
    if stream.read_to_end(&mut reply).await.is_err() {
        return false;
    }
    let reply = String::from_utf8_lossy(&reply);
    reply
        .split("\r\n\r\n")
        .nth(1)
        .is_some_and(|body| body.starts_with("good"))
}

/// The A addresses `server` answers for `name` (empty on no answer within
/// 500 ms).
async fn addresses(socket: &UdpSocket, server: SocketAddr, name: &Name) -> Vec<Ipv4Addr> {
    let mut query = Message::query();
    query.add_query(Query::query(name.clone(), RecordType::A));
    let Ok(wire) = query.to_vec() else {
        return Vec::new();
    };
    if socket.send_to(&wire, server).await.is_err() {
        return Vec::new();
    }
    let mut buffer = vec![0u8; 1500];
    let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
    while let Ok(Ok((length, _))) =
        tokio::time::timeout_at(deadline, socket.recv_from(&mut buffer)).await
    {
        let Ok(answer) = Message::from_vec(&buffer[..length]) else {
            continue;
        };
        if answer.metadata.id != query.metadata.id {
            continue;
        }
        return answer
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(a.0),
                _ => None,
            })
            .collect();
    }
    Vec::new()
}

/// Waits until `server` answers `address` for `name`; the time since
/// `sent`, or `None` past [`GIVE_UP`].
async fn shows(
    server: SocketAddr,
    name: Name,
    address: Ipv4Addr,
    sent: Instant,
) -> Option<Duration> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.ok()?;
    loop {
        if addresses(&socket, server, &name).await.contains(&address) {
            return Some(sent.elapsed());
        }
        if sent.elapsed() > GIVE_UP {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, http, secondaries, rate, seconds, records] = args.as_slice() else {
        return Err(
            "usage: propagation HTTP_ADDR SECONDARY[,SECONDARY...] PER_SECOND SECONDS RECORDS"
                .into(),
        );
    };
    let http: SocketAddr = http.parse()?;
    let secondaries: Vec<SocketAddr> = secondaries
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let rate: u64 = rate.parse()?;
    let seconds: u64 = seconds.parse()?;
    let records: usize = records.parse()?;
    let total = usize::try_from(rate * seconds)?;
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut watches = tokio::task::JoinSet::new();
    let failed_updates = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for n in 0..total {
        ticker.tick().await;
        let i = n % records;
        let host = format!("host-{i}.example.com");
        // A public documentation address: new for the record, which
        // zonefill set to a 10/8 one (keep the run under RECORDS changes
        // so that no record is changed twice).
        let address = Ipv4Addr::new(198, 51, 100, u8::try_from(n % 250).unwrap_or(0) + 1);
        let secondaries = secondaries.clone();
        let failed = failed_updates.clone();
        watches.spawn(async move {
            let sent = Instant::now();
            if !update(http, &host, &format!("bench-secret-{i}"), address).await {
                failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Vec::new();
            }
            let Ok(name) = Name::from_ascii(format!("{host}.")) else {
                return Vec::new();
            };
            let mut times = Vec::new();
            for server in secondaries {
                times.push((server, shows(server, name.clone(), address, sent).await));
            }
            times
        });
    }
    let mut per_secondary: Vec<(SocketAddr, Vec<Duration>, usize)> =
        secondaries.iter().map(|s| (*s, Vec::new(), 0)).collect();
    while let Some(done) = watches.join_next().await {
        for (server, time) in done? {
            if let Some(entry) = per_secondary.iter_mut().find(|(s, _, _)| *s == server) {
                match time {
                    Some(time) => entry.1.push(time),
                    None => entry.2 += 1,
                }
            }
        }
    }
    let failed = failed_updates.load(std::sync::atomic::Ordering::Relaxed);
    println!("{total} changes at {rate}/s; {failed} updates not answered good");
    let mut ok = failed == 0;
    for (server, mut times, missing) in per_secondary {
        times.sort();
        println!(
            "{server}: {} shown, {missing} not within {} s; p50 {:?} p90 {:?} p99 {:?} max {:?}",
            times.len(),
            GIVE_UP.as_secs(),
            percentile(&times, 50),
            percentile(&times, 90),
            percentile(&times, 99),
            times.last().copied().unwrap_or_default()
        );
        ok &= missing == 0;
    }
    if ok {
        Ok(())
    } else {
        Err("some changes failed or did not show".into())
    }
}
