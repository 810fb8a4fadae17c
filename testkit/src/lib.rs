//! # ddns-testkit
//!
//! Test support shared by the ddns packages (not published): the real
//! components the integration tests talk to, started on free loopback
//! ports and stopped when dropped.
//!
//! - [`servers`]: BIND (`named`) and Knot (`knotd`) with a generated zone,
//!   TSIG keys and update policy.
//! - [`secondaries`]: BIND and Knot as secondaries of the embedded DNS,
//!   following it by TSIG-signed transfers and NOTIFY.
//! - [`acme`]: pebble, the ACME test CA, with its own HTTPS certificate.
//! - [`moto`]: moto's AWS emulator for DynamoDB and Route 53, serialised so
//!   that conditional writes are atomic as in DynamoDB.
//! - [`lambda_runtime`]: a loopback Lambda Runtime API, to run a
//!   `bootstrap` binary cold on one event.
//! - [`dns`]: queries with hickory's client, their addresses and SOA
//!   serial, and `dig`.
//! - [`probe`]: readiness of a DNS server by a real SOA query.
//! - [`records`]: what a store holds for a record.
//! - [`upstream`]: the upstream project's client, `dyndns.sh`.
//! - [`tools`]: the third-party programs the tests run, and what to
//!   install when one is missing.
//!
//! A missing tool skips loudly, or fails with what to install when
//! `DDNS_REQUIRE_INTEGRATION=1`.

// Test support: a failed setup is a failed test, said as loudly as possible.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

pub mod acme;
pub mod dns;
pub mod lambda_runtime;
pub mod moto;
pub mod probe;
pub mod records;
pub mod secondaries;
pub mod servers;
pub mod tools;
pub mod upstream;
