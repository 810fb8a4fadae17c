//! Property tests: no input makes the codec or the service panic, and the
//! answer is always one of the protocol's well-formed responses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use ddns_core::protocols::seed::{SeedHttpRequest, SeedParams};
use ddns_core::signed::SignedProof;
use proptest::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn well_formed(status: u16, body: &str) -> bool {
    (status == 200
        && body.starts_with(r#"{"return_message": "#)
        && (body.ends_with(r#", "return_status": "success"}"#)
            || body.ends_with(r#", "return_status": "fail"}"#))
        && body.is_ascii())
        || (status == 403 && body == r#"{"message":"Forbidden"}"#)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_query_string_gets_a_well_formed_answer(query in "\\PC{0,200}", v6 in any::<bool>()) {
        let f = Fixture::new();
        let source = if v6 { PUBLIC_V6 } else { PUBLIC_V4 };
        let r = runtime().block_on(f.query(&query, source));
        prop_assert!(well_formed(r.status, &r.body), "{:?}", r);
    }

    #[test]
    fn any_parameters_get_a_well_formed_answer(
        mode in prop_oneof![Just("get".to_owned()), Just("set".to_owned()), Just("list_hosts".to_owned()), "\\PC{0,10}"],
        hostname in prop_oneof![Just(HOST.to_owned()), "\\PC{0,80}"],
        hash in prop_oneof!["[0-9a-fA-F]{64}", "\\PC{0,70}"],
        internal_ip in prop_oneof![Just(String::new()), "\\PC{0,40}", any::<std::net::IpAddr>().prop_map(|a| a.to_string())],
        ipv6_prefix in prop_oneof![Just(String::new()), Just("-".to_owned()), "\\PC{0,40}", "[0-9a-f:]{2,24}/[0-9]{1,3}"],
        source in any::<std::net::IpAddr>(),
        signature in prop_oneof![Just(String::new()), "[0-9a-f]{64}", "\\PC{0,70}"],
        timestamp in prop_oneof!["[0-9]{1,20}", "\\PC{0,24}"],
        nonce in prop_oneof!["[A-Za-z0-9_-]{16,64}", "\\PC{0,70}"],
    ) {
        let f = Fixture::new();
        let signed = SignedProof { signature, timestamp, nonce };
        let params = SeedParams { mode, hostname, hash, internal_ip, ipv6_prefix, signed };
        let r = runtime().block_on(f.api.handle(SeedHttpRequest::new(params, source)));
        prop_assert!(well_formed(r.status, &r.body), "{:?}", r);
    }

    #[test]
    fn raw_bytes_in_the_query_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let query = String::from_utf8_lossy(&bytes);
        let params = SeedParams::from_query(&query);
        // Decoding is total; whatever came out is plain text.
        prop_assert!(params.mode.len() <= query.len() * 3);
    }
}
