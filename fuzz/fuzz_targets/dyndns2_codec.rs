//! Fuzz target: see `ddns_fuzz::checks::dyndns2`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ddns_fuzz::checks::dyndns2(data));
