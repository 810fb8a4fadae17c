//! Zones: the DNS zones a deployment serves, and which one holds a name.
//!
//! A record belongs to the longest configured zone that contains its name
//! (`a.lab.example.com` is in `lab.example.com` when both it and
//! `example.com` are configured). [`Zones`] answers that question for the
//! service (a request for a name in no zone is for an unknown host), the
//! admin use cases (`add` refuses such a name) and the
//! [`ZoneRouter`](crate::router::ZoneRouter) (which backend changes it).

use std::fmt;

use crate::domain::hostname::{Hostname, RecordName};
use crate::domain::record::{DEFAULT_TTL, MAX_TTL};
use crate::error::{Error, Result};

/// One served zone: its apex and the TTL of its records that set none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    name: Hostname,
    default_ttl: u32,
}

impl Zone {
    /// The zone `name` with the default TTL [`DEFAULT_TTL`].
    pub fn new(name: Hostname) -> Self {
        Self {
            name,
            default_ttl: DEFAULT_TTL,
        }
    }

    /// Sets the TTL of the zone's records that set none (at most
    /// [`MAX_TTL`]; larger values are clamped).
    #[must_use]
    pub fn with_default_ttl(mut self, ttl: u32) -> Self {
        self.default_ttl = ttl.min(MAX_TTL);
        self
    }

    /// The zone's apex.
    pub fn name(&self) -> &Hostname {
        &self.name
    }

    /// The TTL of records that set none.
    pub fn default_ttl(&self) -> u32 {
        self.default_ttl
    }
}

/// The zones a deployment serves, looked up longest first.
///
/// ```
/// use ddns_core::{Hostname, Zone, Zones};
/// let zones = Zones::new([
///     Zone::new(Hostname::parse("example.com")?),
///     Zone::new(Hostname::parse("lab.example.com")?).with_default_ttl(30),
/// ])?;
/// let host = Hostname::parse("nas.lab.example.com")?;
/// assert_eq!(zones.containing(&host).map(|z| z.name().as_str()), Some("lab.example.com."));
/// assert!(zones.containing(&Hostname::parse("example.org")?).is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zones {
    /// Longest (most labels) first, so the first match is the longest.
    zones: Vec<Zone>,
}

impl Zones {
    /// The zones of `zones`, in any order.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the list is empty or names one zone
    /// twice.
    pub fn new(zones: impl IntoIterator<Item = Zone>) -> Result<Self> {
        let mut zones: Vec<Zone> = zones.into_iter().collect();
        if zones.is_empty() {
            return Err(Error::invalid_input(
                "no zone is configured; configure at least one",
            ));
        }
        zones.sort_by(|a, b| {
            b.name
                .label_count()
                .cmp(&a.name.label_count())
                .then_with(|| a.name.cmp(&b.name))
        });
        if let Some(pair) = zones.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(Error::invalid_input(format!(
                "the zone {} is configured twice; give each zone once",
                pair[0].name
            )));
        }
        Ok(Self { zones })
    }

    /// One zone.
    pub fn single(zone: Zone) -> Self {
        Self { zones: vec![zone] }
    }

    /// The longest zone that contains `name`, if any.
    pub fn containing(&self, name: impl AsRef<RecordName>) -> Option<&Zone> {
        self.position(name.as_ref()).map(|i| &self.zones[i])
    }

    /// The position in [`Zones::iter`] of the longest zone containing
    /// `name`.
    pub(crate) fn position(&self, name: &RecordName) -> Option<usize> {
        self.zones.iter().position(|z| name.is_in_zone(&z.name))
    }

    /// The error for a name in none of the zones.
    pub(crate) fn not_served(&self, name: &RecordName) -> Error {
        Error::invalid_input(format!(
            "{name} is in none of the zones this deployment serves ({self}); \
             use a name in one of them, or configure its zone"
        ))
    }

    /// The longest zone that contains `name`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the configured zones when none
    /// contains `name`.
    pub fn require(&self, name: impl AsRef<RecordName>) -> Result<&Zone> {
        let name = name.as_ref();
        self.containing(name).ok_or_else(|| self.not_served(name))
    }

    /// Every zone, longest first.
    pub fn iter(&self) -> impl Iterator<Item = &Zone> {
        self.zones.iter()
    }

    /// How many zones there are (at least one).
    pub fn len(&self) -> usize {
        self.zones.len()
    }

    /// Always false: a zone list holds at least one zone.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }
}

impl fmt::Display for Zones {
    /// The zone names, comma-separated, in name order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.zones.iter().map(|z| z.name.as_str()).collect();
        names.sort_unstable();
        f.write_str(&names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> Zone {
        Zone::new(Hostname::parse(name).unwrap())
    }

    #[test]
    fn the_longest_zone_wins_whatever_the_order() {
        for order in [
            vec![zone("example.com"), zone("lab.example.com")],
            vec![zone("lab.example.com"), zone("example.com")],
        ] {
            let zones = Zones::new(order).unwrap();
            let of = |n: &str| {
                zones
                    .containing(Hostname::parse(n).unwrap())
                    .map(|z| z.name().to_string())
            };
            assert_eq!(of("a.lab.example.com").as_deref(), Some("lab.example.com."));
            assert_eq!(of("lab.example.com").as_deref(), Some("lab.example.com."));
            assert_eq!(of("a.example.com").as_deref(), Some("example.com."));
            assert_eq!(of("xlab.example.com").as_deref(), Some("example.com."));
            assert_eq!(of("example.net"), None);
        }
    }

    #[test]
    fn empty_and_duplicate_lists_are_refused() {
        assert!(Zones::new([]).is_err());
        let e = Zones::new([zone("example.com"), zone("EXAMPLE.com.")]).unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
    }

    #[test]
    fn require_lists_the_zones() {
        let zones = Zones::new([zone("example.net"), zone("example.com")]).unwrap();
        let e = zones
            .require(Hostname::parse("h.example.org").unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("example.com., example.net."), "{e}");
        assert_eq!(zones.len(), 2);
        assert!(!zones.is_empty());
    }

    #[test]
    fn the_default_ttl_is_clamped() {
        assert_eq!(zone("example.com").default_ttl(), DEFAULT_TTL);
        assert_eq!(
            zone("example.com").with_default_ttl(u32::MAX).default_ttl(),
            MAX_TTL
        );
    }
}
