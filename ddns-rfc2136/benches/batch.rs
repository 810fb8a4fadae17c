//! Applying 1,000 changes through RFC 2136 to a real BIND and Knot started
//! here: UPDATE messages sent and wall time, batched (500 changes per
//! message) against one message per change.
//!
//! Run: `cargo bench -p ddns-rfc2136 --bench batch` (needs bind9 and knot).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic
)]

use std::time::Instant;

use ddns_core::{DnsChange, DnsProvider, Hostname};
use ddns_rfc2136::Rfc2136Provider;
use ddns_testkit::servers::DnsServer;

const CHANGES: u32 = 1000;

fn changes(round: u32) -> Vec<DnsChange> {
    (0..CHANGES)
        .map(|i| {
            let ip = format!(
                "198.51.{}.{}",
                (i + round) / 250 % 250,
                (i + round) % 250 + 1
            );
            DnsChange::upsert(
                Hostname::parse(&format!("b{i}.example.com")).unwrap(),
                60,
                ip.parse().unwrap(),
            )
        })
        .collect()
}

async fn measure(server: &DnsServer, per_message: usize, round: u32) -> (u64, f64) {
    let provider = Rfc2136Provider::builder(server.addr, DnsServer::zone())
        .with_key(server.key())
        .with_changes_per_message(per_message)
        .build()
        .unwrap();
    let batch = changes(round);
    let begun = Instant::now();
    let results = provider.apply(&batch).await;
    let elapsed = begun.elapsed().as_secs_f64();
    assert!(results.iter().all(Result::is_ok));
    (provider.messages_sent(), elapsed)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{:<8} {:<22} {:>9} {:>11}",
        "server", "mode", "messages", "wall time"
    );
    for (name, server) in [("BIND", DnsServer::bind()), ("Knot", DnsServer::knot())] {
        let Some(server) = server else { continue };
        rt.block_on(async {
            // Warm up: create the names once.
            measure(&server, 500, 0).await;
            for (mode, per_message, round) in
                [("batched (500/message)", 500, 1), ("one per change", 1, 2)]
            {
                let (messages, seconds) = measure(&server, per_message, round).await;
                println!(
                    "{name:<8} {mode:<22} {messages:>9} {:>9.0} ms",
                    seconds * 1e3
                );
            }
        });
    }
}
