//! The two layouts of the record table, and how each keys its items.
//!
//! - [`TableLayout::Classic`]: the 2018 stack's `<stack>-config` table,
//!   partition key `hostname` (the name with its trailing dot), sort key
//!   `record_type`, the secret and TTL as attributes of their own.
//! - [`TableLayout::Current`]: the original project's rewrite, partition
//!   key `hostname` alone (the name as its client sends it, without the
//!   trailing dot), the secret, TTL and hosted zone id in the `data`
//!   attribute's JSON. That layout knows only A records; the records of
//!   other types this store keeps in it are keyed `<name>#<TYPE>`
//!   (`home.example.com#AAAA`), which no host name can be.
//!
//! Everything else a record holds (flags, state) is stored as attributes
//! of the same names in both layouts; the upstream function ignores them.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeyType};
use ddns_core::{RecordKey, RecordName, RecordType};

use crate::error::AwsError;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// Environment variable choosing the layout (`classic` or `current`);
/// unset, the layout is read from the table's key schema at start.
pub const ENV_TABLE_LAYOUT: &str = "DDNS_TABLE_LAYOUT";

/// How the record table is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableLayout {
    /// The 2018 stack's table: `hostname` and `record_type` keys.
    Classic,
    /// The rewrite's table: `hostname` alone, and `data` JSON.
    Current,
}

impl std::str::FromStr for TableLayout {
    type Err = ddns_core::Error;

    /// `classic` (or `2018`) and `current` (or `upstream`), in any case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "classic" | "2018" => Ok(Self::Classic),
            "current" | "upstream" => Ok(Self::Current),
            other => Err(ddns_core::Error::invalid_input(format!(
                "the table layout {other:?} is neither `classic` (hash key hostname, range key record_type) nor `current` (hash key hostname, data JSON)"
            ))),
        }
    }
}

impl std::fmt::Display for TableLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Classic => "classic",
            Self::Current => "current",
        })
    }
}

impl TableLayout {
    /// The layout a table's key schema says, if it is one of the two.
    pub(crate) fn of_schema<'a>(
        keys: impl IntoIterator<Item = (&'a str, &'a KeyType)>,
    ) -> Option<Self> {
        let keys: Vec<_> = keys.into_iter().collect();
        match keys.as_slice() {
            [("hostname", KeyType::Hash)] => Some(Self::Current),
            [(a, ta), (b, tb)] => {
                let hash_range = |(h, th): (&str, &KeyType), (r, tr): (&str, &KeyType)| {
                    h == "hostname"
                        && *th == KeyType::Hash
                        && r == "record_type"
                        && *tr == KeyType::Range
                };
                (hash_range((a, ta), (b, tb)) || hash_range((b, tb), (a, ta)))
                    .then_some(Self::Classic)
            }
            _ => None,
        }
    }

    /// The `hostname` key value of `key` when spelled canonically.
    pub(crate) fn canonical_key(self, key: &RecordKey) -> String {
        self.spelled_key(key.name().as_str(), key.record_type())
    }

    /// The `hostname` key value of a record of `record_type` whose name is
    /// spelled `name` (with or without its trailing dot).
    pub(crate) fn spelled_key(self, name: &str, record_type: RecordType) -> String {
        let bare = name.strip_suffix('.').unwrap_or(name);
        match (self, record_type) {
            (Self::Classic, _) => format!("{bare}."),
            (Self::Current, RecordType::A) => bare.to_owned(),
            (Self::Current, other) => format!("{bare}#{}", other.as_str()),
        }
    }

    /// The primary key of the item whose `hostname` is `hostname`.
    pub(crate) fn key_item(self, hostname: &str, record_type: RecordType) -> Item {
        let mut item = HashMap::from([(
            "hostname".to_owned(),
            AttributeValue::S(hostname.to_owned()),
        )]);
        if self == Self::Classic {
            item.insert(
                "record_type".to_owned(),
                AttributeValue::S(record_type.as_str().to_owned()),
            );
        }
        item
    }

    /// The record key an item is for, and its `hostname` as stored.
    pub(crate) fn key_of(self, item: &Item) -> Result<(RecordKey, String), AwsError> {
        let stored = match item.get("hostname") {
            Some(AttributeValue::S(v)) => v.clone(),
            _ => return Err(AwsError::BadItem("an item has no hostname".into())),
        };
        let (name, record_type) = match self {
            Self::Classic => {
                let record_type = match item.get("record_type") {
                    Some(AttributeValue::S(v)) => v.as_str(),
                    _ => "",
                };
                (stored.as_str(), record_type)
            }
            Self::Current => stored.split_once('#').unwrap_or((stored.as_str(), "A")),
        };
        let record_type: RecordType = record_type
            .parse()
            .map_err(|e| AwsError::BadItem(format!("{stored} record_type: {e}")))?;
        let name = RecordName::parse(name)
            .map_err(|e| AwsError::BadItem(format!("hostname {stored:?}: {e}")))?;
        let key = RecordKey::try_new(name, record_type)
            .map_err(|e| AwsError::BadItem(format!("{stored}: {e}")))?;
        Ok((key, stored))
    }

    /// A listing cursor for the last evaluated key of a Scan page.
    pub(crate) fn cursor_text(self, last: &Item) -> String {
        let text = |name: &str| match last.get(name) {
            Some(AttributeValue::S(v)) => v.clone(),
            _ => String::new(),
        };
        match self {
            Self::Classic => format!("{}\n{}", text("hostname"), text("record_type")),
            Self::Current => text("hostname"),
        }
    }

    /// The exclusive start key a cursor of [`TableLayout::cursor_text`]
    /// stands for.
    pub(crate) fn cursor_item(self, cursor: &str) -> ddns_core::Result<Item> {
        let bad =
            || ddns_core::Error::invalid_input("the listing cursor was not made by this store");
        let mut item = Item::new();
        match self {
            Self::Classic => {
                let (hostname, record_type) = cursor.split_once('\n').ok_or_else(bad)?;
                item.insert("hostname".into(), AttributeValue::S(hostname.into()));
                item.insert("record_type".into(), AttributeValue::S(record_type.into()));
            }
            Self::Current => {
                if cursor.is_empty() {
                    return Err(bad());
                }
                item.insert("hostname".into(), AttributeValue::S(cursor.into()));
            }
        }
        Ok(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ddns_core::Hostname;

    #[test]
    fn keys_of_both_layouts() {
        let key = RecordKey::new(Hostname::parse("Home.Example.com").unwrap(), RecordType::A);
        assert_eq!(
            TableLayout::Classic.canonical_key(&key),
            "home.example.com."
        );
        assert_eq!(TableLayout::Current.canonical_key(&key), "home.example.com");
        let v6 = RecordKey::new(
            Hostname::parse("home.example.com").unwrap(),
            RecordType::Aaaa,
        );
        assert_eq!(
            TableLayout::Current.canonical_key(&v6),
            "home.example.com#AAAA"
        );
        let item = TableLayout::Current.key_item("Home.Example.com#AAAA", RecordType::Aaaa);
        let (read, stored) = TableLayout::Current.key_of(&item).unwrap();
        assert_eq!((read, stored.as_str()), (v6, "Home.Example.com#AAAA"));
        for layout in [TableLayout::Classic, TableLayout::Current] {
            let item = layout.key_item(&layout.canonical_key(&key), RecordType::A);
            let cursor = layout.cursor_text(&item);
            assert_eq!(layout.cursor_item(&cursor).unwrap(), item);
            assert_eq!(layout.to_string().parse::<TableLayout>().unwrap(), layout);
        }
        assert!("bogus".parse::<TableLayout>().is_err());
    }

    #[test]
    fn schemas_name_their_layout() {
        let (h, r) = (KeyType::Hash, KeyType::Range);
        assert_eq!(
            TableLayout::of_schema([("hostname", &h), ("record_type", &r)]),
            Some(TableLayout::Classic)
        );
        assert_eq!(
            TableLayout::of_schema([("hostname", &h)]),
            Some(TableLayout::Current)
        );
        assert_eq!(TableLayout::of_schema([("id", &h)]), None);
    }
}
