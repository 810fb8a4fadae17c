//! # ddns-aws
//!
//! DynamoDB record store and Route 53 DNS provider. Implemented by the ddns-aws issue.
//!
//! This crate is a placeholder in the workspace so that the layout and the
//! build are fixed from the start; it exposes nothing yet.

pub use ddns_core;
