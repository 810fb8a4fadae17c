//! Fuzz target: see `ddns_fuzz::dns_checks::dns_message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ddns_fuzz::dns_checks::dns_message(data));
