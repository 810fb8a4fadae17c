//! Fuzz target: see `ddns_fuzz::checks::signed`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ddns_fuzz::checks::signed(data));
