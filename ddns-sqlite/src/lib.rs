//! # ddns-sqlite
//!
//! SQLite record store (embedded default). Implemented by the ddns-sqlite issue.
//!
//! This crate is a placeholder in the workspace so that the layout and the
//! build are fixed from the start; it exposes nothing yet.

pub use ddns_core;
