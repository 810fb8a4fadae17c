//! What a record store holds, for tests that check it after a request.

use ddns_core::{Hostname, RecordKey, RecordState, RecordStore, RecordType};

/// The state `store` holds for the `record_type` record of `host`, which
/// must exist.
pub async fn stored_state(
    store: &dyn RecordStore,
    host: &str,
    record_type: RecordType,
) -> RecordState {
    let key = RecordKey::new(Hostname::parse(host).unwrap(), record_type);
    store
        .get(&key)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no record {key}"))
        .state
}
