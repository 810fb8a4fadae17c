//! Records: the configuration and state of one (host name, record type) row.
//!
//! These are the rows of the record table of `docs/PROTOCOL.md`
//! section 3. Configuration ([`RecordConfig`]) is written by an operator;
//! state ([`RecordState`]) only by the system, through the two write-backs of
//! [`crate::RecordStore`]: access state after each authenticated request and
//! change state after each DNS change.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::domain::hostname::{Hostname, HostnameError, RecordName};
use crate::domain::prefix::PrefixFollow;
use crate::domain::secret::SharedSecret;
use crate::domain::timestamp::Timestamp;
use crate::domain::value::RecordValue;
use crate::error::Result;

/// TTL used for a record whose `ttl` is absent, as in the original stack.
pub const DEFAULT_TTL: u32 = 60;

/// The DNS record types the system manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RecordType {
    /// An IPv4 address record.
    A,
    /// An IPv6 address record.
    Aaaa,
    /// A text record: one or more [`crate::TxtValue`]s.
    Txt,
}

impl RecordType {
    /// The type that holds `addr`: `A` for IPv4, `AAAA` for IPv6.
    ///
    /// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) counts as IPv4.
    pub fn for_address(addr: IpAddr) -> Self {
        match addr.to_canonical() {
            IpAddr::V4(_) => Self::A,
            IpAddr::V6(_) => Self::Aaaa,
        }
    }

    /// The type's name as DNS and the record table write it: `A`, `AAAA`
    /// or `TXT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::Aaaa => "AAAA",
            Self::Txt => "TXT",
        }
    }

    /// True for A and AAAA, the types a host's address goes into.
    pub fn is_address(self) -> bool {
        matches!(self, Self::A | Self::Aaaa)
    }

    /// The record table's attribute (a column in SQLite) that holds this
    /// type's values (`docs/PROTOCOL.md` section 3): the original table's
    /// `ip_address` for A and AAAA, `txt_values` for TXT, each written in
    /// [`RecordValue::stored_form`].
    pub fn values_attribute(self) -> &'static str {
        if self.is_address() {
            "ip_address"
        } else {
            "txt_values"
        }
    }

    /// The two address types, A first.
    pub const ADDRESSES: [Self; 2] = [Self::A, Self::Aaaa];

    /// Every type managed, in order: A, AAAA, TXT.
    pub const ALL: [Self; 3] = [Self::A, Self::Aaaa, Self::Txt];
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a supported record type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a supported record type; use A, AAAA or TXT")]
pub struct RecordTypeError(String);

impl FromStr for RecordType {
    type Err = RecordTypeError;

    /// Parses `A`, `AAAA` or `TXT`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| s.eq_ignore_ascii_case(t.as_str()))
            .ok_or_else(|| RecordTypeError(s.chars().take(16).collect()))
    }
}

/// The primary key of a record: owner name and type.
///
/// An A or AAAA record's name is a [`Hostname`]; a TXT record's may have
/// underscore labels ([`RecordName`]). The constructors keep to that rule.
///
/// ```
/// use ddns_core::{Hostname, RecordKey, RecordName, RecordType};
///
/// let host = RecordKey::new(Hostname::parse("home.example.com")?, RecordType::A);
/// assert_eq!(host.to_string(), "home.example.com. A");
/// let challenge = RecordName::parse("_acme-challenge.home.example.com")?;
/// assert!(RecordKey::try_new(challenge.clone(), RecordType::Txt).is_ok());
/// assert!(RecordKey::try_new(challenge, RecordType::A).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey {
    name: RecordName,
    record_type: RecordType,
}

impl RecordKey {
    /// The key of `hostname`'s record of `record_type`.
    pub fn new(hostname: Hostname, record_type: RecordType) -> Self {
        Self {
            name: hostname.into(),
            record_type,
        }
    }

    /// The key of the TXT record at `name`.
    pub fn txt(name: RecordName) -> Self {
        Self {
            name,
            record_type: RecordType::Txt,
        }
    }

    /// The key of `name`'s record of `record_type`, checking that an A or
    /// AAAA record's name is a host name.
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidInput`] for an address record at a name with
    /// an underscore label.
    pub fn try_new(name: RecordName, record_type: RecordType) -> Result<Self> {
        if record_type.is_address() && name.as_hostname().is_none() {
            return Err(crate::error::Error::invalid_input(format!(
                "{name} is not a host name, so it cannot hold an {record_type} record;                  only TXT names may have labels that start with an underscore"
            )));
        }
        Ok(Self { name, record_type })
    }

    /// The record's owner name.
    pub fn name(&self) -> &RecordName {
        &self.name
    }

    /// The record's type.
    pub fn record_type(&self) -> RecordType {
        self.record_type
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.record_type)
    }
}

impl FromStr for RecordKey {
    type Err = crate::error::Error;

    /// Parses what `Display` writes: the name, a space and the type.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, record_type) = s.split_once(' ').ok_or_else(|| {
            crate::error::Error::invalid_input(format!("{s:?} is not a record key (NAME TYPE)"))
        })?;
        let name = RecordName::parse(name)
            .map_err(|e| crate::error::Error::invalid_input(format!("{name:?}: {e}")))?;
        let record_type = record_type
            .parse()
            .map_err(|e: RecordTypeError| crate::error::Error::invalid_input(e.to_string()))?;
        Self::try_new(name, record_type)
    }
}

/// The largest TTL DNS allows: 2<sup>31</sup> − 1 seconds (RFC 2181
/// section 8). Stores may refuse a larger one as invalid input.
pub const MAX_TTL: u32 = 2_147_483_647;

/// What an operator configures for a record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordConfig {
    /// The secret a client proves it knows; also the discovery group key.
    pub shared_secret: SharedSecret,
    /// The record's TTL; `None` means the deployment's default.
    pub ttl: Option<u32>,
    /// When true the system never changes this record.
    pub lock_record: bool,
    /// When true a client may set any unicast address, internal ones
    /// included; when false only its own public source address.
    pub allow_internal: bool,
    /// When true the record belongs to its secret's discovery group.
    pub read_privilege: bool,
    /// The host's MAC address, for network discovery, as written by the
    /// operator (clients compare it case-insensitively).
    pub mac_address: Option<String>,
    /// Free text for the operator; unused by the system.
    pub comment: Option<String>,
    /// When true only signed requests (`docs/PROTOCOL.md` section 7) may
    /// use the record; hash tokens and dyndns2 passwords are refused.
    pub require_signed: bool,
    /// For an AAAA record: the router whose prefix it follows, and its
    /// interface identifier (`docs/PROTOCOL.md`, "IPv6 prefix"). `None`:
    /// the record takes only addresses set for it.
    pub follow: Option<PrefixFollow>,
}

impl RecordConfig {
    /// A configuration with `shared_secret` and every other setting at its
    /// default: default TTL, unlocked, public addresses only, not in a
    /// discovery group.
    pub fn new(shared_secret: SharedSecret) -> Self {
        Self {
            shared_secret,
            ttl: None,
            lock_record: false,
            allow_internal: false,
            read_privilege: false,
            mac_address: None,
            comment: None,
            require_signed: false,
            follow: None,
        }
    }

    /// Makes the record follow a router's prefix (AAAA records only; the
    /// stores and the admin refuse it on others).
    #[must_use]
    pub fn with_follow(mut self, follow: PrefixFollow) -> Self {
        self.follow = Some(follow);
        self
    }

    /// Sets the TTL.
    #[must_use]
    pub fn with_ttl(mut self, ttl: u32) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Sets `lock_record`.
    #[must_use]
    pub fn with_lock(mut self, locked: bool) -> Self {
        self.lock_record = locked;
        self
    }

    /// Sets `allow_internal`.
    #[must_use]
    pub fn with_allow_internal(mut self, allow: bool) -> Self {
        self.allow_internal = allow;
        self
    }

    /// Sets `read_privilege`.
    #[must_use]
    pub fn with_read_privilege(mut self, read: bool) -> Self {
        self.read_privilege = read;
        self
    }

    /// Sets `require_signed`.
    #[must_use]
    pub fn with_require_signed(mut self, required: bool) -> Self {
        self.require_signed = required;
        self
    }

    /// Sets the MAC address used by network discovery.
    #[must_use]
    pub fn with_mac_address(mut self, mac: impl Into<String>) -> Self {
        self.mac_address = Some(mac.into());
        self
    }

    /// Sets the comment.
    #[must_use]
    pub fn with_comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    /// The TTL to publish: the record's own, or `default_ttl`.
    pub fn effective_ttl(&self, default_ttl: u32) -> u32 {
        self.ttl.unwrap_or(default_ttl)
    }
}

/// What the system records about a record's use; read-only for operators.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordState {
    /// The values the system last set in DNS for this record (the record
    /// table's `ip_address` for A and AAAA, `txt_values` for TXT); empty
    /// when it set none.
    pub values: Vec<RecordValue>,
    /// The source address of the last authenticated request.
    pub last_accessed: Option<IpAddr>,
    /// When the last authenticated request came.
    pub last_checked: Option<Timestamp>,
    /// When the system last changed the record in DNS.
    pub last_updated: Option<Timestamp>,
    /// The timestamp (Unix seconds) of the last signed request accepted for
    /// the record: the replay guard. A signed request must be newer.
    pub last_signed: Option<u64>,
}

/// The access state written after every authenticated request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessUpdate {
    /// The request's source address (`last_accessed`).
    pub source: IpAddr,
    /// When it came (`last_checked`).
    pub at: Timestamp,
}

impl RecordState {
    /// The address the system last set, for an A or AAAA record.
    pub fn address(&self) -> Option<IpAddr> {
        self.values.iter().find_map(RecordValue::address)
    }
}

/// The change state written after a DNS change, conditional on what the
/// writer read: [`RecordStore::record_change`](crate::RecordStore::record_change)
/// writes it only while the record still holds `previous`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeUpdate {
    /// The values the writer read before changing DNS (empty: the record
    /// had none).
    pub previous: Vec<RecordValue>,
    /// The values now in DNS (empty: the RRset was deleted).
    pub values: Vec<RecordValue>,
    /// When they were set (`last_updated`).
    pub at: Timestamp,
}

impl ChangeUpdate {
    /// The change of an address record from `previous` to `address`.
    pub fn address(previous: Option<IpAddr>, address: IpAddr, at: Timestamp) -> Self {
        Self {
            previous: previous.map(RecordValue::from).into_iter().collect(),
            values: vec![RecordValue::from(address)],
            at,
        }
    }
}

/// One row of the record table: key, configuration and state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Record {
    /// Host name and type.
    pub key: RecordKey,
    /// Operator settings.
    pub config: RecordConfig,
    /// System state.
    pub state: RecordState,
}

impl Record {
    /// A record with `key` and `config` and no state yet.
    pub fn new(key: RecordKey, config: RecordConfig) -> Self {
        Self {
            key,
            config,
            state: RecordState::default(),
        }
    }

    /// Replaces the state (used by stores when reading a row back).
    #[must_use]
    pub fn with_state(mut self, state: RecordState) -> Self {
        self.state = state;
        self
    }
}

/// One entry of a discovery group, as `list_hosts` returns it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupMember {
    /// The member's name and type.
    pub key: RecordKey,
    /// Its MAC address, when configured.
    pub mac_address: Option<String>,
}

/// The two example rows a new store is seeded with, like the original stack:
/// `example-record.<zone>.` for A and AAAA, TTL 60, each with its own random
/// 16-hex-digit secret, unlocked, `allow_internal` on, not in a discovery
/// group, MAC `0A:0A:0A:0A:0A:0A`, comment `example record`.
///
/// ```
/// use ddns_core::{example_records, Hostname};
/// let rows = example_records(&Hostname::parse("example.com")?)?;
/// assert_eq!(rows[0].key.name().as_str(), "example-record.example.com.");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// When the zone is too long to hold the example name, or the system has no
/// randomness for the secrets.
pub fn example_records(zone: &Hostname) -> Result<[Record; 2]> {
    let hostname = zone.child("example-record").map_err(|e: HostnameError| {
        crate::error::Error::invalid_input(format!("zone {zone}: {e}"))
    })?;
    let row = |record_type| -> Result<Record> {
        let config = RecordConfig::new(SharedSecret::generate(16)?)
            .with_ttl(DEFAULT_TTL)
            .with_allow_internal(true)
            .with_mac_address("0A:0A:0A:0A:0A:0A")
            .with_comment("example record");
        Ok(Record::new(
            RecordKey::new(hostname.clone(), record_type),
            config,
        ))
    };
    Ok([row(RecordType::A)?, row(RecordType::Aaaa)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_type_follows_the_family() {
        assert_eq!(
            RecordType::for_address("192.0.2.1".parse().unwrap()),
            RecordType::A
        );
        assert_eq!(
            RecordType::for_address("2001:db8::1".parse().unwrap()),
            RecordType::Aaaa
        );
        assert_eq!(
            RecordType::for_address("::ffff:192.0.2.1".parse().unwrap()),
            RecordType::A
        );
        assert_eq!("aaaa".parse::<RecordType>().unwrap(), RecordType::Aaaa);
        assert_eq!("A".parse::<RecordType>().unwrap().to_string(), "A");
        assert_eq!("txt".parse::<RecordType>().unwrap(), RecordType::Txt);
        assert!("MX".parse::<RecordType>().is_err());
        assert!(RecordType::ADDRESSES.iter().all(|t| t.is_address()));
        assert!(!RecordType::Txt.is_address());
    }

    #[test]
    fn example_rows_match_the_original_stack() {
        let zone = Hostname::parse("example.com").unwrap();
        let [a, aaaa] = example_records(&zone).unwrap();
        assert_eq!(a.key.record_type(), RecordType::A);
        assert_eq!(aaaa.key.record_type(), RecordType::Aaaa);
        for row in [&a, &aaaa] {
            assert_eq!(row.key.name().as_str(), "example-record.example.com.");
            assert_eq!(row.config.ttl, Some(60));
            assert!(!row.config.lock_record);
            assert!(!row.config.read_privilege);
            assert!(row.config.allow_internal);
            assert_eq!(row.config.mac_address.as_deref(), Some("0A:0A:0A:0A:0A:0A"));
            assert_eq!(row.config.comment.as_deref(), Some("example record"));
            assert_eq!(row.config.shared_secret.expose_secret().len(), 16);
            assert_eq!(row.state, RecordState::default());
        }
        assert_ne!(a.config.shared_secret, aaaa.config.shared_secret);
    }

    #[test]
    fn effective_ttl_falls_back_to_the_default() {
        let config = RecordConfig::new(SharedSecret::new("s"));
        assert_eq!(config.effective_ttl(300), 300);
        assert_eq!(config.with_ttl(30).effective_ttl(300), 30);
    }
}
