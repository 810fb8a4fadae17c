//! Fuzzing harness of ddns: the properties each target checks live in
//! [`checks`], which the workspace's regression test
//! (`ddns-core/tests/fuzz_regressions.rs`) also runs over every input kept
//! in `fuzz/regressions/`; [`dns_checks`] holds the embedded DNS's UPDATE
//! decoder's property, which `ddns-authoritative/tests/fuzz_regressions.rs`
//! replays.

pub mod checks;
pub mod dns_checks;
