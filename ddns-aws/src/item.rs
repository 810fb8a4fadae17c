//! One table item and the record it holds, in either layout
//! ([`TableLayout`]).
//!
//! Items written by the original stacks are read as they are: a missing
//! BOOL is false, a `ttl` that is not a number means the default,
//! unreadable state values are absent. Flags fail closed: a `lock_record`
//! or `require_signed` present with a type other than BOOL reads as true,
//! an `allow_internal` or `read_privilege` of another type as false, each
//! with a warning naming the record. A missing or empty `shared_secret`
//! (or a `data` that is not a JSON object) reads as an empty secret, which
//! makes the record unusable: the service refuses every request for it.

use aws_sdk_dynamodb::types::AttributeValue;
use ddns_core::prefix::{InterfaceId, PrefixFollow};
use ddns_core::{
    Hostname, Record, RecordConfig, RecordState, RecordType, RecordValue, SharedSecret,
};

use crate::error::AwsError;
use crate::layout::{Item, TableLayout};

/// A record as read from its item, with what the item says beyond it.
#[derive(Debug, Clone)]
pub(crate) struct ItemRecord {
    /// The record.
    pub(crate) record: Record,
    /// The item's `hostname`, as stored (its spelling may not be the
    /// canonical one).
    pub(crate) stored_key: String,
    /// The hosted zone the item names (the current layout's
    /// `route_53_zone_id`).
    pub(crate) zone_id: Option<String>,
}

pub(crate) fn s(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    }
}

/// A BOOL attribute: missing is false (as the original reads it), a BOOL
/// is itself, and any other type is `fail_closed`, with a warning.
pub(crate) fn flag(item: &Item, name: &str, fail_closed: bool) -> bool {
    match item.get(name) {
        None => false,
        Some(AttributeValue::Bool(value)) => *value,
        Some(other) => {
            tracing::warn!(
                record = %format_args!(
                    "{} {}",
                    s(item, "hostname").unwrap_or_default(),
                    s(item, "record_type").unwrap_or_default()
                ),
                attribute = name,
                value = ?other,
                read_as = fail_closed,
                "an attribute of the record is not a BOOL; it is read as the safe value, store a BOOL"
            );
            fail_closed
        }
    }
}

/// A TTL as either layout may hold it: a number, or a number in a string.
fn ttl_of(value: Option<&AttributeValue>) -> Option<u32> {
    match value {
        Some(AttributeValue::N(n)) => n.parse::<u32>().ok(),
        Some(AttributeValue::S(text)) => text.trim().parse::<u32>().ok(),
        _ => None,
    }
}

/// The secret, TTL and zone id of an item: attributes of their own in the
/// classic layout, the `data` JSON's in the current one.
fn essentials(
    layout: TableLayout,
    item: &Item,
    stored: &str,
) -> (String, Option<u32>, Option<String>) {
    match layout {
        TableLayout::Classic => (
            s(item, "shared_secret").unwrap_or_default(),
            ttl_of(item.get("ttl")),
            None,
        ),
        TableLayout::Current => {
            let data = s(item, "data").unwrap_or_default();
            let Ok(serde_json::Value::Object(data)) = serde_json::from_str(&data) else {
                tracing::warn!(
                    record = stored,
                    "the item's data is not a JSON object; the record is unusable until it holds shared_secret, route_53_zone_id and route_53_record_ttl"
                );
                return (String::new(), None, None);
            };
            let text = |name: &str| data.get(name).and_then(serde_json::Value::as_str);
            let ttl = match data.get("route_53_record_ttl") {
                Some(serde_json::Value::Number(n)) => {
                    n.as_u64().and_then(|n| u32::try_from(n).ok())
                }
                Some(serde_json::Value::String(t)) => t.trim().parse().ok(),
                _ => None,
            };
            (
                text("shared_secret").unwrap_or_default().to_owned(),
                ttl,
                text("route_53_zone_id").map(str::to_owned),
            )
        }
    }
}

/// Reads an item; the key must be valid, everything else is tolerated.
pub(crate) fn record_from_item(layout: TableLayout, item: &Item) -> Result<ItemRecord, AwsError> {
    let (key, stored_key) = layout.key_of(item)?;
    let record_type = key.record_type();
    let (secret, ttl, zone_id) = essentials(layout, item, &stored_key);
    let mut config = RecordConfig::new(SharedSecret::new(secret))
        .with_lock(flag(item, "lock_record", true))
        .with_allow_internal(flag(item, "allow_internal", false))
        .with_read_privilege(flag(item, "read_privilege", false))
        .with_require_signed(flag(item, "require_signed", true));
    if let Some(ttl) = ttl {
        config = config.with_ttl(ttl);
    }
    if let Some(mac) = s(item, "mac_address") {
        config = config.with_mac_address(mac);
    }
    if let Some(comment) = s(item, "comment") {
        config = config.with_comment(comment);
    }
    if let Some(follow) = follow_from_item(item, &stored_key, record_type) {
        config = config.with_follow(follow);
    }
    let mut state = RecordState::default();
    state.values = s(item, record_type.values_attribute())
        .and_then(|v| RecordValue::from_stored_form(record_type, &v).ok())
        .unwrap_or_default();
    state.last_accessed = s(item, "last_accessed").and_then(|v| v.parse().ok());
    state.last_checked = s(item, "last_checked").and_then(|v| v.parse().ok());
    state.last_updated = s(item, "last_updated").and_then(|v| v.parse().ok());
    state.last_signed = match item.get("last_signed") {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    };
    Ok(ItemRecord {
        record: Record::new(key, config).with_state(state),
        stored_key,
        zone_id,
    })
}

/// The prefix an AAAA item follows: its `prefix_from` and `interface_id`,
/// both valid; anything else follows nothing (with a warning when the item
/// has either attribute).
fn follow_from_item(item: &Item, hostname: &str, record_type: RecordType) -> Option<PrefixFollow> {
    let (from, id) = (s(item, "prefix_from"), s(item, "interface_id"));
    if from.is_none() && id.is_none() {
        return None;
    }
    let follow = (record_type == RecordType::Aaaa)
        .then(|| {
            let from = Hostname::parse(from.as_deref()?).ok()?;
            let id: InterfaceId = id.as_deref()?.parse().ok()?;
            Some(PrefixFollow::new(from, id))
        })
        .flatten();
    if follow.is_none() {
        tracing::warn!(
            record = %format_args!("{hostname} {record_type}"),
            "the item's prefix_from and interface_id are not a valid pair on an AAAA record; it follows no prefix until they are fixed"
        );
    }
    follow
}

/// The current layout's `data`: the secret, the TTL when the record sets
/// one, and the hosted zone when one is known, as the upstream function
/// reads them.
pub(crate) fn data_json(config: &RecordConfig, zone_id: Option<&str>) -> String {
    let mut data = serde_json::Map::new();
    if let Some(zone_id) = zone_id {
        data.insert("route_53_zone_id".into(), zone_id.into());
    }
    if let Some(ttl) = config.ttl {
        data.insert("route_53_record_ttl".into(), ttl.into());
    }
    data.insert(
        "shared_secret".into(),
        config.shared_secret.expose_secret().into(),
    );
    serde_json::Value::Object(data).to_string()
}

/// The item `layout` holds for `record`, keyed `stored_key`, naming
/// `zone_id` (the current layout only).
pub(crate) fn item_from_record(
    layout: TableLayout,
    record: &Record,
    stored_key: &str,
    zone_id: Option<&str>,
) -> Item {
    let mut item = layout.key_item(stored_key, record.key.record_type());
    let c = &record.config;
    let st = &record.state;
    match layout {
        TableLayout::Classic => {
            item.insert(
                "shared_secret".into(),
                AttributeValue::S(c.shared_secret.expose_secret().to_owned()),
            );
            if let Some(ttl) = c.ttl {
                item.insert("ttl".into(), AttributeValue::N(ttl.to_string()));
            }
        }
        TableLayout::Current => {
            item.insert("data".into(), AttributeValue::S(data_json(c, zone_id)));
        }
    }
    item.insert("lock_record".into(), AttributeValue::Bool(c.lock_record));
    item.insert(
        "allow_internal".into(),
        AttributeValue::Bool(c.allow_internal),
    );
    item.insert(
        "read_privilege".into(),
        AttributeValue::Bool(c.read_privilege),
    );
    if c.require_signed {
        item.insert("require_signed".into(), AttributeValue::Bool(true));
    }
    if let Some(at) = st.last_signed {
        item.insert("last_signed".into(), AttributeValue::N(at.to_string()));
    }
    for (name, value) in [
        ("mac_address", c.mac_address.clone()),
        ("comment", c.comment.clone()),
        (
            "prefix_from",
            c.follow.as_ref().map(|f| f.prefix_from.as_str().to_owned()),
        ),
        (
            "interface_id",
            c.follow.as_ref().map(|f| f.interface_id.to_string()),
        ),
        (
            record.key.record_type().values_attribute(),
            RecordValue::stored_form(&st.values),
        ),
        ("last_accessed", st.last_accessed.map(|a| a.to_string())),
        ("last_checked", st.last_checked.map(|t| t.to_string())),
        ("last_updated", st.last_updated.map(|t| t.to_string())),
    ] {
        if let Some(value) = value {
            item.insert(name.into(), AttributeValue::S(value));
        }
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use ddns_core::RecordKey;
    use std::collections::HashMap;

    #[test]
    fn original_items_are_read_tolerantly() {
        // An item as the original stack wrote it, with gaps real tables have.
        let item: Item = HashMap::from([
            (
                "hostname".into(),
                AttributeValue::S("Foo.Example.com.".into()),
            ),
            ("record_type".into(), AttributeValue::S("A".into())),
            ("shared_secret".into(), AttributeValue::S("abc".into())),
            ("ttl".into(), AttributeValue::S("not a number".into())),
            ("allow_internal".into(), AttributeValue::Bool(true)),
            ("ip_address".into(), AttributeValue::S("garbage".into())),
            (
                "last_updated".into(),
                AttributeValue::S("2018-07-26 17:04:05.123456".into()),
            ),
            (
                "last_checked".into(),
                AttributeValue::S("2018-07-26 17:04:05".into()),
            ),
        ]);
        let read = record_from_item(TableLayout::Classic, &item).unwrap();
        assert_eq!(read.stored_key, "Foo.Example.com.");
        let r = read.record;
        assert_eq!(r.key.name().as_str(), "foo.example.com.");
        assert_eq!(
            r.config.ttl, None,
            "a ttl that is no number means the default"
        );
        assert!(
            !r.config.lock_record && !r.config.read_privilege,
            "missing BOOLs are false"
        );
        assert!(r.config.allow_internal);
        assert_eq!(r.state.address(), None);
        assert_eq!(
            r.state.last_updated.unwrap().to_string(),
            "2018-07-26 17:04:05.123456"
        );
        assert_eq!(
            r.state.last_checked.unwrap().to_string(),
            "2018-07-26 17:04:05.000000"
        );
    }

    #[test]
    fn upstream_items_are_read_from_their_data() {
        let item: Item = HashMap::from([
            ("hostname".into(), AttributeValue::S("home.example.com".into())),
            (
                "data".into(),
                AttributeValue::S(
                    r#"{"route_53_zone_id": "Z0123", "route_53_record_ttl": 60, "shared_secret": "abc"}"#
                        .into(),
                ),
            ),
        ]);
        let read = record_from_item(TableLayout::Current, &item).unwrap();
        assert_eq!(read.zone_id.as_deref(), Some("Z0123"));
        assert_eq!(read.record.key.record_type(), RecordType::A);
        assert_eq!(read.record.config.ttl, Some(60));
        assert_eq!(read.record.config.shared_secret.expose_secret(), "abc");
        let bad: Item = HashMap::from([
            (
                "hostname".into(),
                AttributeValue::S("home.example.com".into()),
            ),
            ("data".into(), AttributeValue::S("not json".into())),
        ]);
        let read = record_from_item(TableLayout::Current, &bad).unwrap();
        assert!(read.record.config.shared_secret.is_empty());
    }

    #[test]
    fn flags_that_are_not_bools_fail_closed() {
        let item: Item = HashMap::from([
            (
                "hostname".into(),
                AttributeValue::S("h.example.com.".into()),
            ),
            ("record_type".into(), AttributeValue::S("A".into())),
            ("lock_record".into(), AttributeValue::S("false".into())),
            ("require_signed".into(), AttributeValue::N("0".into())),
            ("allow_internal".into(), AttributeValue::S("true".into())),
            ("read_privilege".into(), AttributeValue::Null(true)),
        ]);
        let r = record_from_item(TableLayout::Classic, &item)
            .unwrap()
            .record;
        assert!(r.config.lock_record && r.config.require_signed);
        assert!(!r.config.allow_internal && !r.config.read_privilege);
        assert_eq!(
            r.config.shared_secret.expose_secret(),
            "",
            "a missing secret reads as empty"
        );
    }

    #[test]
    fn items_round_trip_in_both_layouts() {
        let key = RecordKey::new(
            ddns_core::Hostname::parse("h.example.com").unwrap(),
            RecordType::Aaaa,
        );
        let record = Record::new(
            key,
            RecordConfig::new(SharedSecret::new("s"))
                .with_ttl(30)
                .with_mac_address("0A:0A:0A:0A:0A:0A"),
        );
        let item = item_from_record(TableLayout::Classic, &record, "h.example.com.", None);
        assert_eq!(item.get("ttl"), Some(&AttributeValue::N("30".into())));
        for layout in [TableLayout::Classic, TableLayout::Current] {
            let stored = layout.canonical_key(&record.key);
            let item = item_from_record(layout, &record, &stored, Some("Z9"));
            let read = record_from_item(layout, &item).unwrap();
            assert_eq!(read.record, record, "{layout}");
        }
    }
}
