//! # ddns-rfc2136
//!
//! RFC 2136 dynamic update DNS provider with TSIG. Implemented by the ddns-rfc2136 issue.
//!
//! This crate is a placeholder in the workspace so that the layout and the
//! build are fixed from the start; it exposes nothing yet.

pub use ddns_core;
