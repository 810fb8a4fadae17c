//! Fuzzing harness of ddns: the properties each target checks live in
//! [`checks`], which the workspace's regression test
//! (`ddns-core/tests/fuzz_regressions.rs`) also runs over every input kept
//! in `fuzz/regressions/`.

pub mod checks;
