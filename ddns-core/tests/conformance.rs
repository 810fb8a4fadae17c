//! The shared conformance suites, run against the in-memory adapters and
//! through the coalescing decorator. Every adapter crate runs the same
//! suites against its own backend.

#![allow(clippy::unwrap_used)]

use ddns_core::coalesce::CoalescingProvider;
use ddns_core::memory::{MemoryProvider, MemoryStore};
use ddns_core::{Hostname, conformance};
use std::sync::Arc;

fn zone() -> Hostname {
    Hostname::parse("example.com").unwrap()
}

#[tokio::test]
async fn memory_store_conforms() {
    conformance::store(&MemoryStore::new()).await;
    // Small pages: listing and groups must follow pagination.
    conformance::paged_store(&MemoryStore::new().with_page_size(7), 7).await;
}

#[tokio::test]
async fn cached_store_conforms() {
    let inner = Arc::new(MemoryStore::new().with_page_size(7));
    let cached = ddns_core::cache::CachedStore::new(inner, std::time::Duration::from_secs(60));
    conformance::paged_store(&cached, 7).await;
}

#[tokio::test]
async fn memory_provider_conforms() {
    conformance::provider(&MemoryProvider::new().with_zone(zone()), &zone()).await;
    conformance::provider(
        &MemoryProvider::new()
            .with_zone(zone())
            .with_max_batch_size(10),
        &zone(),
    )
    .await;
}

#[tokio::test]
async fn coalescing_provider_conforms() {
    let inner = Arc::new(
        MemoryProvider::new()
            .with_zone(zone())
            .with_max_batch_size(10),
    );
    conformance::provider(&CoalescingProvider::new(inner), &zone()).await;
}

#[tokio::test]
async fn zone_router_conforms_for_each_of_its_zones() {
    use ddns_core::DnsProvider;
    use ddns_core::router::ZoneRouter;
    // Sibling zones: the suite's names "outside the zone" must be outside
    // every zone routed (nesting is covered by the router's unit tests).
    let net = Hostname::parse("example.net").unwrap();
    let router = ZoneRouter::new([
        (
            zone(),
            Arc::new(MemoryProvider::new().with_zone(zone())) as Arc<dyn DnsProvider>,
        ),
        (
            net.clone(),
            Arc::new(
                MemoryProvider::new()
                    .with_zone(net.clone())
                    .with_max_batch_size(10),
            ) as Arc<dyn DnsProvider>,
        ),
    ])
    .unwrap();
    conformance::provider(&router, &zone()).await;
    conformance::provider(&router, &net).await;
}
