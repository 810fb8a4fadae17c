//! Adapters that live in the core: the in-memory store and provider
//! ([`memory`]), the store's read cache ([`cache`]), the batching
//! provider ([`coalesce`]), the provider that routes by zone ([`router`]),
//! and hickory conversions for adapters that speak DNS (feature `hickory`).

pub mod cache;
pub mod coalesce;
#[cfg(feature = "hickory")]
pub mod hickory;
pub mod memory;
pub mod router;
