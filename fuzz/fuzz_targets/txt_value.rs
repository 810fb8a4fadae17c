//! Fuzz target: see `ddns_fuzz::checks::txt_value`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ddns_fuzz::checks::txt_value(data));
