//! Test support shipped for other crates' tests: the conformance suites
//! every adapter runs (feature `conformance`) and mocks of the ports
//! (feature `mock`).

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "mock")]
pub mod mock;
