//! The property of the `dns_update` target: the embedded DNS's UPDATE
//! decoder ([`ddns_authoritative::plan_update`]) on arbitrary bytes.
//!
//! This file is also compiled into
//! `ddns-authoritative/tests/fuzz_regressions.rs` (by path), so it uses
//! only `ddns-core`, `ddns-authoritative` and `tokio`.

use std::sync::{Arc, OnceLock};

use ddns_authoritative::{AuthoritativeProvider, ZoneConfig, ZoneData, plan_update};
use ddns_core::{DnsChange, DnsProvider, Hostname, RecordKey, RecordValue, TxtValue};

/// `example.com` with an A record and a TXT RRset of two values, built
/// once.
pub fn fixture() -> &'static Arc<ZoneData> {
    static ZONE: OnceLock<Arc<ZoneData>> = OnceLock::new();
    ZONE.get_or_init(|| {
        let origin = Hostname::parse("example.com").expect("a valid zone name");
        let zone = Arc::new(ZoneData::new(ZoneConfig::new(origin)).expect("a valid zone"));
        let provider = AuthoritativeProvider::new(zone.clone());
        let host = Hostname::parse("home.example.com").expect("a valid name");
        let challenge = ddns_core::challenge::challenge_name(&host).expect("a valid name");
        let values = ["first", "second"]
            .map(|t| RecordValue::Txt(TxtValue::new(t).expect("a valid value")))
            .to_vec();
        let changes = [
            DnsChange::upsert(host, 60, [198, 51, 100, 7].into()),
            DnsChange::upsert_set(RecordKey::txt(challenge), 60, values).expect("valid values"),
        ];
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
        for result in runtime.block_on(provider.apply(&changes)) {
            result.expect("the fixture's changes apply");
        }
        zone
    })
}

/// Decoding never panics; a plan names only RRsets of the zone, of the
/// managed types, whose values are of the RRset's type, without
/// duplicates, and different from what the zone serves.
pub fn dns_update(data: &[u8]) {
    let zone = fixture();
    let Ok(rrsets) = plan_update(zone, data) else {
        return;
    };
    let origin = zone.config().origin();
    for rrset in rrsets {
        assert!(rrset.key.name().is_in_zone(origin), "{}", rrset.key);
        assert!(
            rrset
                .values
                .iter()
                .all(|v| v.record_type() == rrset.key.record_type()),
            "{}: {:?}",
            rrset.key,
            rrset.values
        );
        let mut distinct = rrset.values.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), rrset.values.len(), "{}", rrset.key);
        assert_ne!(zone.values(&rrset.key), rrset.values, "{}", rrset.key);
    }
}
