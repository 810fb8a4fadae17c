//! The zones of `benches/zone.sh`: N A records `host-<i>.example.com` in a
//! new SQLite store (made as `add` makes them, each with the address the
//! system last set), the same zone as a zone file for Knot, and dnsperf's
//! query file: 90 % names that exist, 10 % that do not, shuffled.
//!
//! ```text
//! zonefill DB ZONEFILE QUERIES N
//! ```

#![allow(clippy::print_stdout)]

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use ddns_core::{Hostname, Record, RecordConfig, RecordKey, RecordType, RecordValue, SharedSecret};

/// The address of host `i`: distinct for the first 16 million hosts.
fn address(i: usize) -> IpAddr {
    let [_, a, b, c] = u32::try_from(i).unwrap_or(0).to_be_bytes();
    IpAddr::V4(Ipv4Addr::new(10, a, b, c))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, db, zonefile, queries, count] = args.as_slice() else {
        return Err("usage: zonefill DB ZONEFILE QUERIES N".into());
    };
    let count: usize = count.parse()?;
    let store = ddns_sqlite::SqliteStore::open(db).await?;
    let mut zone = std::io::BufWriter::new(std::fs::File::create(zonefile)?);
    writeln!(
        zone,
        "$ORIGIN example.com.\n$TTL 60\n@ SOA ns1.example.net. hostmaster.example.com. 1 3600 600 1209600 60\n@ 3600 NS ns1.example.net."
    )?;
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..count {
        let host = Hostname::parse(&format!("host-{i}.example.com"))?;
        let mut record = Record::new(
            RecordKey::new(host, RecordType::A),
            RecordConfig::new(SharedSecret::new(format!("bench-secret-{i}"))),
        );
        record.state.values = vec![RecordValue::from(address(i))];
        writeln!(zone, "host-{i} A {}", address(i))?;
        batch.push(record);
        if batch.len() == batch.capacity() {
            store.import(std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        store.import(batch).await?;
    }
    zone.flush()?;
    // 90 % existing names, 10 % missing ones, in a fixed pseudo-random
    // order (an LCG: the same file every run).
    let mut out = std::io::BufWriter::new(std::fs::File::create(queries)?);
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for n in 0..count.max(10_000) {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let pick = usize::try_from(state >> 33).unwrap_or(0) % count.max(1);
        if n % 10 == 9 {
            writeln!(out, "missing-{pick}.example.com A")?;
        } else {
            writeln!(out, "host-{pick}.example.com A")?;
        }
    }
    out.flush()?;
    println!("{count} records in {db}, {zonefile}, queries in {queries}");
    Ok(())
}
