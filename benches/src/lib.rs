//! Benchmarks of the ddns workspace; the benchmarks themselves are under
//! `benches/` and run with `cargo bench -p ddns-benches`. Results and how
//! to read them are in `BENCHMARKS.md` at the repository root.
