//! Benchmarks of the ddns workspace; the benchmarks themselves are under
//! `benches/` and run with `cargo bench -p ddns-benches`. Results and how
//! to read them are in `BENCHMARKS.md` at the repository root.

/// The repository README's Rust examples, compiled as doctests (this crate
/// depends on every crate the README shows).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
