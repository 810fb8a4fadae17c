//! Benchmarks of ddns-core's hot paths: token and signature verification, the address
//! policy, and a full `set` through the service and the seed codec with the
//! in-memory adapters (address changed, and unchanged).
//!
//! Run: `cargo bench -p ddns-benches --bench core`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use ddns_core::SentName;
use ddns_core::memory::{MemoryProvider, MemoryStore};
use ddns_core::policy::{AddressAuthority, check_address, classify};
use ddns_core::protocols::seed::{self, ApiKeys, SeedApi, SeedHttpRequest, SeedParams};
use ddns_core::signed::SignedProof;
use ddns_core::{
    DdnsService, HashToken, Hostname, Record, RecordConfig, RecordKey, RecordType, SetOutcome,
    SharedSecret,
};

const HOST: &str = "home.example.com";
const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn token_verification(c: &mut Criterion) {
    let source: IpAddr = "198.51.100.7".parse().unwrap();
    let secret = SharedSecret::new(SECRET);
    let sent = HashToken::compute_as_sent(
        source,
        &ddns_core::SentName::parse("home.example.com."),
        &secret,
    )
    .to_hex();
    let name = SentName::parse("home.example.com.");
    c.bench_function("token/parse+verify", |b| {
        b.iter(|| {
            let token = HashToken::parse(black_box(&sent)).unwrap();
            black_box(token.verify(source, black_box(&name), &secret))
        })
    });
}

fn signed_verification(c: &mut Criterion) {
    use ddns_core::signed::{Nonce, SignedMessage, SignedMode, SignedProof};
    let secret = SharedSecret::new(SECRET);
    let message = SignedMessage::new(
        SignedMode::Set,
        Hostname::parse(HOST).unwrap(),
        "198.51.100.7".parse().unwrap(),
        1_764_172_800,
        Nonce::parse("0123456789abcdef0123456789abcdef").unwrap(),
    );
    let sent = SignedProof::for_message(&message, &secret);
    c.bench_function("signed/parse+verify", |b| {
        b.iter(|| {
            let proof = black_box(&sent).parse().unwrap();
            let message = SignedMessage::new(
                SignedMode::Set,
                Hostname::parse(black_box(HOST)).unwrap(),
                "198.51.100.7".parse().unwrap(),
                proof.timestamp,
                proof.nonce,
            );
            black_box(proof.signature.verify(&message, &secret))
        })
    });
}

fn address_policy(c: &mut Criterion) {
    let addrs: Vec<IpAddr> = [
        "198.51.100.7",
        "192.168.1.20",
        "10.0.0.1",
        "100.64.1.1",
        "224.0.0.1",
        "2001:db8::1",
        "fd00::1",
        "fe80::1",
        "::ffff:172.16.0.1",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    let source = addrs[0];
    c.bench_function("policy/classify (9 addresses)", |b| {
        b.iter(|| {
            for a in &addrs {
                black_box(classify(black_box(*a)));
            }
        })
    });
    c.bench_function("policy/check_address (9 addresses)", |b| {
        b.iter(|| {
            for a in &addrs {
                let _ = black_box(check_address(
                    false,
                    AddressAuthority::SourceOnly,
                    black_box(*a),
                    source,
                ));
            }
        })
    });
}

fn service() -> Arc<DdnsService> {
    let key = RecordKey::new(Hostname::parse(HOST).unwrap(), RecordType::A);
    let config = RecordConfig::new(SharedSecret::new(SECRET)).with_allow_internal(true);
    let store = Arc::new(MemoryStore::with_records([Record::new(key, config)]));
    Arc::new(DdnsService::builder(store, Arc::new(MemoryProvider::new())).build())
}

fn full_set(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let source: IpAddr = "198.51.100.7".parse().unwrap();
    let hash = HashToken::compute_as_sent(
        source,
        &ddns_core::SentName::parse("home.example.com."),
        &SharedSecret::new(SECRET),
    )
    .to_hex();

    // Each iteration decodes the wire arguments too, as a request does.
    let request = |internal_ip: &str| {
        seed::set_request(
            SentName::parse(HOST),
            &hash,
            &SignedProof::default(),
            internal_ip,
            source,
        )
        .unwrap()
    };
    let unchanged = service();
    rt.block_on(unchanged.set(request(""))).unwrap();
    c.bench_function("service/set unchanged", |b| {
        b.to_async(&rt).iter(|| async {
            let outcome = unchanged.set(request("")).await.unwrap();
            assert!(matches!(outcome, SetOutcome::Unchanged { .. }));
        })
    });

    // Alternate between two addresses so every set is a real change.
    let changed = service();
    let flip = AtomicU32::new(0);
    let targets = ["192.0.2.10".to_owned(), "192.0.2.11".to_owned()];
    c.bench_function("service/set changed", |b| {
        b.to_async(&rt).iter(|| async {
            let i = flip.fetch_add(1, Ordering::Relaxed) as usize % 2;
            let outcome = changed.set(request(&targets[i])).await.unwrap();
            assert!(matches!(outcome, SetOutcome::Changed { .. }));
        })
    });

    // The whole seed path as a server runs it: query string in, bytes out.
    let api = SeedApi::new(service(), ApiKeys::none());
    let query = format!("mode=set&hostname={HOST}&hash={hash}");
    rt.block_on(api.handle(SeedHttpRequest::new(SeedParams::from_query(&query), source)));
    c.bench_function("seed codec/set unchanged (query to bytes)", |b| {
        b.to_async(&rt).iter(|| async {
            let response = api
                .handle(SeedHttpRequest::new(
                    SeedParams::from_query(black_box(&query)),
                    source,
                ))
                .await;
            black_box(response.body.len())
        })
    });
}

criterion_group!(
    benches,
    token_verification,
    signed_verification,
    address_policy,
    full_set
);
criterion_main!(benches);
