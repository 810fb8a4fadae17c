//! ACME DNS-01 challenges: the one TXT name a host's credential may change
//! (`_acme-challenge.<host>`), the values it may put there, and the rules
//! that bound them (how many at once, their TTL, how long they may stay).
//!
//! ```
//! use ddns_core::Hostname;
//! use ddns_core::challenge::{challenge_host, challenge_name, challenge_value};
//!
//! let host = Hostname::parse("home.example.com")?;
//! let name = challenge_name(&host)?;
//! assert_eq!(name.as_str(), "_acme-challenge.home.example.com.");
//! assert_eq!(challenge_host(&name), Some(host));
//! assert!(challenge_value("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0").is_ok());
//! assert!(challenge_value("").is_err());
//! assert!(challenge_value(&"x".repeat(256)).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::Duration;

use crate::domain::hostname::{Hostname, HostnameError, RecordName};
use crate::domain::value::{MAX_TXT_STRING, TxtValue, ValueError};

/// The label ACME puts in front of the name it validates (RFC 8555
/// section 8.4).
pub const ACME_CHALLENGE_LABEL: &str = "_acme-challenge";

/// Default TTL of challenge TXT records: short, so a retried validation
/// does not see an old value from a resolver's cache.
pub const DEFAULT_CHALLENGE_TTL: u32 = 60;

/// Default number of values one name holds at once: a certificate for
/// `name` and `*.name` needs two; room is left for a few retries.
pub const DEFAULT_CHALLENGE_MAX_VALUES: usize = 8;

/// Default time after which values nobody cleaned up are removed.
pub const DEFAULT_CHALLENGE_MAX_AGE: Duration = Duration::from_secs(3 * 60 * 60);

/// The challenge name of `host`: `_acme-challenge.<host>`.
///
/// # Errors
///
/// A [`HostnameError`] when the longer name breaks the length limits.
pub fn challenge_name(host: &Hostname) -> Result<RecordName, HostnameError> {
    RecordName::parse(&format!("{ACME_CHALLENGE_LABEL}.{}", host.as_str()))
}

/// The host whose challenge name `name` is, when it is one.
pub fn challenge_host(name: &RecordName) -> Option<Hostname> {
    let rest = name
        .as_str()
        .strip_prefix(ACME_CHALLENGE_LABEL)?
        .strip_prefix('.')?;
    Hostname::parse(rest).ok()
}

/// Checks one challenge value: one TXT string of printable ASCII, 1 to 255
/// bytes (an ACME value is 43 characters of base64url).
///
/// # Errors
///
/// A [`ValueError`] saying what is wrong.
pub fn challenge_value(text: &str) -> Result<TxtValue, ValueError> {
    if text.len() > MAX_TXT_STRING {
        return Err(ValueError::StringTooLong { len: text.len() });
    }
    if text.is_empty() {
        return Err(ValueError::Empty);
    }
    TxtValue::from_strings([text])
}

/// The bounds on challenge values.
///
/// ```
/// use std::time::Duration;
/// use ddns_core::challenge::ChallengeRules;
/// let rules = ChallengeRules::default().with_max_values(2).with_ttl(30);
/// assert_eq!((rules.max_values(), rules.ttl()), (2, 30));
/// assert_eq!(ChallengeRules::default().with_max_values(0).max_values(), 1);
/// assert_eq!(rules.max_age(), Duration::from_secs(3 * 3600));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChallengeRules {
    ttl: u32,
    max_values: usize,
    max_age: Duration,
}

impl Default for ChallengeRules {
    fn default() -> Self {
        Self {
            ttl: DEFAULT_CHALLENGE_TTL,
            max_values: DEFAULT_CHALLENGE_MAX_VALUES,
            max_age: DEFAULT_CHALLENGE_MAX_AGE,
        }
    }
}

impl ChallengeRules {
    /// Sets the TTL of challenge records (at least 1 s).
    #[must_use]
    pub fn with_ttl(mut self, ttl: u32) -> Self {
        self.ttl = ttl.max(1);
        self
    }

    /// Sets how many values one name holds; past it the oldest go (at
    /// least 1).
    #[must_use]
    pub fn with_max_values(mut self, max_values: usize) -> Self {
        self.max_values = max_values.max(1);
        self
    }

    /// Sets how long values may stay without a change to the name.
    #[must_use]
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// The TTL of challenge records.
    pub fn ttl(&self) -> u32 {
        self.ttl
    }

    /// How many values one name holds at most.
    pub fn max_values(&self) -> usize {
        self.max_values
    }

    /// How long values may stay without a change to the name.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }
}
