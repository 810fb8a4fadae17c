//! [`HostedZoneDirectory`]: which Route 53 hosted zone each record lives
//! in, as the record table's items say.
//!
//! A table of the current layout names a hosted zone per record
//! (`route_53_zone_id` in its `data`), so one table serves several zones
//! that no configuration lists. The [`crate::DynamoDbStore`] notes each
//! record's zone as it reads the item, and the [`crate::Route53Provider`]
//! sharing the directory sends that record's reads and changes there. The
//! service always reads a record before it touches its DNS, so the zone is
//! known by then.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use ddns_core::RecordName;

/// The hosted zone id of each record name whose item names one. Cheap to
/// clone; clones share the directory.
#[derive(Debug, Clone, Default)]
pub struct HostedZoneDirectory(Arc<RwLock<HashMap<RecordName, String>>>);

impl HostedZoneDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// The hosted zone id noted for `name`, if any.
    pub fn zone_of(&self, name: &RecordName) -> Option<String> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    /// Notes that `name` lives in `zone_id` (with or without the
    /// `/hostedzone/` prefix), or, with `None`, that its item names no zone.
    pub fn note(&self, name: &RecordName, zone_id: Option<&str>) {
        let mut map = self.0.write().unwrap_or_else(PoisonError::into_inner);
        match zone_id.map(|id| id.trim().trim_start_matches("/hostedzone/")) {
            Some(id) if !id.is_empty() => {
                map.insert(name.clone(), id.to_owned());
            }
            _ => {
                map.remove(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_and_forgets() {
        let directory = HostedZoneDirectory::new();
        let name = RecordName::parse("home.example.com").unwrap();
        directory.clone().note(&name, Some("/hostedzone/Z1"));
        assert_eq!(directory.zone_of(&name).as_deref(), Some("Z1"));
        directory.note(&name, None);
        assert_eq!(directory.zone_of(&name), None);
    }
}
