//! Validated, canonical DNS names: host names, and the owner names of
//! records.
//!
//! A [`Hostname`] is parsed once at the edge and then trusted everywhere: it is
//! a fully qualified name of letter-digit-hyphen labels, lower-cased, always
//! written with its trailing dot (`host.example.com.`), which is the form the
//! record table keys on (`docs/PROTOCOL.md` section 3). A [`RecordName`]
//! may also have labels that start with an underscore
//! (`_acme-challenge.host.example.com.`), as TXT names do; every
//! [`Hostname`] is one.

use std::fmt;
use std::str::FromStr;

/// Longest name, in bytes, not counting the final dot (RFC 1035 limits the
/// wire form to 255 octets, which is 253 characters of text).
pub const MAX_NAME_LEN: usize = 253;

/// Longest label, in bytes.
pub const MAX_LABEL_LEN: usize = 63;

/// Why a string is not a valid [`Hostname`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostnameError {
    /// The input was empty (or only a dot).
    #[error("the host name is empty")]
    Empty,
    /// The whole name is longer than [`MAX_NAME_LEN`] bytes.
    #[error("the host name is {len} bytes long; at most {MAX_NAME_LEN} are allowed")]
    TooLong {
        /// Length of the name without its final dot.
        len: usize,
    },
    /// A label (the part between two dots) is empty, as in `a..b`.
    #[error("the host name has an empty label (two dots in a row, or a leading dot)")]
    EmptyLabel,
    /// A label is longer than [`MAX_LABEL_LEN`] bytes.
    #[error("the label {label:?} is {len} bytes long; at most {MAX_LABEL_LEN} are allowed")]
    LabelTooLong {
        /// The offending label, truncated for display.
        label: String,
        /// Its length in bytes.
        len: usize,
    },
    /// A label contains something other than a letter, a digit or a hyphen.
    #[error(
        "the host name contains {found:?}; only letters a-z, digits 0-9, hyphens and dots are allowed"
    )]
    InvalidCharacter {
        /// The first character that is not allowed.
        found: char,
    },
    /// A label starts or ends with a hyphen.
    #[error("the label {label:?} starts or ends with a hyphen")]
    HyphenAtEdge {
        /// The offending label.
        label: String,
    },
}

/// A validated fully qualified host name in canonical form.
///
/// Canonical means lower case with exactly one trailing dot. Comparison,
/// hashing and ordering use that form, so `Host.Example.COM` and
/// `host.example.com.` are the same `Hostname`.
///
/// ```
/// use ddns_core::Hostname;
///
/// let name: Hostname = "Home.Example.com".parse()?;
/// assert_eq!(name.as_str(), "home.example.com.");
/// assert!("bad_name.example.com".parse::<Hostname>().is_err());
/// # Ok::<(), ddns_core::HostnameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hostname(RecordName);

impl Hostname {
    /// Parses and canonicalises `input`; a trailing dot is optional.
    ///
    /// # Errors
    ///
    /// A [`HostnameError`] saying what rule the input breaks.
    pub fn parse(input: &str) -> Result<Self, HostnameError> {
        canonical(input, Labels::Host).map(|name| Self(RecordName(name)))
    }

    /// The canonical text: lower case, with the trailing dot.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The name without its trailing dot (`host.example.com`).
    pub fn without_trailing_dot(&self) -> &str {
        // The canonical form always ends in exactly one dot.
        self.0.without_trailing_dot()
    }

    /// The labels, from the leftmost one (`host`) to the top-level one.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.without_trailing_dot().split('.')
    }

    /// How many labels the name has (`host.example.com.` has three).
    pub fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// True when `self` equals `zone` or lies below it.
    ///
    /// ```
    /// use ddns_core::Hostname;
    /// let zone = Hostname::parse("example.com")?;
    /// assert!(Hostname::parse("a.example.com")?.is_in_zone(&zone));
    /// assert!(zone.is_in_zone(&zone));
    /// assert!(!Hostname::parse("badexample.com")?.is_in_zone(&zone));
    /// # Ok::<(), ddns_core::HostnameError>(())
    /// ```
    pub fn is_in_zone(&self, zone: &Hostname) -> bool {
        self.0.is_in_zone(zone)
    }

    /// Prepends `label` to this name (`www` + `example.com.`).
    ///
    /// # Errors
    ///
    /// A [`HostnameError`] when the label or the resulting name is invalid.
    pub fn child(&self, label: &str) -> Result<Self, HostnameError> {
        Self::parse(&format!("{label}.{}", self.0.as_str()))
    }
}

/// Which labels a name may have.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Labels {
    /// Host-name labels only: letters, digits, inner hyphens.
    Host,
    /// Host-name labels, and labels that start with an underscore
    /// (`_acme-challenge`, `_tcp`: RFC 8552).
    Underscored,
}

/// The canonical text of `input` (lower case, one trailing dot), checked
/// against the name rules and `labels`.
fn canonical(input: &str, labels: Labels) -> Result<String, HostnameError> {
    let body = input.strip_suffix('.').unwrap_or(input);
    if body.is_empty() {
        return Err(HostnameError::Empty);
    }
    if body.len() > MAX_NAME_LEN {
        return Err(HostnameError::TooLong { len: body.len() });
    }
    for label in body.split('.') {
        if label.len() > MAX_LABEL_LEN {
            return Err(HostnameError::LabelTooLong {
                label: label.chars().take(20).collect::<String>() + "…",
                len: label.len(),
            });
        }
        // An underscore label is `_` and a host-name label (RFC 8552).
        match label.strip_prefix('_') {
            Some(rest) if labels == Labels::Underscored => check_label(rest)?,
            _ => check_label(label)?,
        }
    }
    let mut canonical = body.to_ascii_lowercase();
    canonical.push('.');
    Ok(canonical)
}

/// True when the canonical `name` equals `zone` or lies below it.
fn in_zone(name: &str, zone: &Hostname) -> bool {
    match name.strip_suffix(zone.as_str()) {
        Some("") => true,
        Some(prefix) => prefix.ends_with('.'),
        None => false,
    }
}

fn check_label(label: &str) -> Result<(), HostnameError> {
    if label.is_empty() {
        return Err(HostnameError::EmptyLabel);
    }
    if let Some(found) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(HostnameError::InvalidCharacter { found });
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(HostnameError::HyphenAtEdge {
            label: label.to_owned(),
        });
    }
    Ok(())
}

impl FromStr for Hostname {
    type Err = HostnameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for Hostname {
    type Error = HostnameError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl AsRef<str> for Hostname {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl fmt::Debug for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hostname({:?})", self.0.as_str())
    }
}

/// The owner name of a record: a [`Hostname`], or a name with labels that
/// start with an underscore (`_acme-challenge.home.example.com.`), which
/// TXT records may have. Canonical like a [`Hostname`]: lower case, one
/// trailing dot; compared, hashed and ordered in that form.
///
/// ```
/// use ddns_core::{Hostname, RecordName};
///
/// let name = RecordName::parse("_ACME-challenge.Home.example.com")?;
/// assert_eq!(name.as_str(), "_acme-challenge.home.example.com.");
/// assert!(name.as_hostname().is_none());
/// let host = RecordName::from(Hostname::parse("home.example.com")?);
/// assert_eq!(host.as_hostname(), Some(Hostname::parse("home.example.com")?));
/// assert!(RecordName::parse("a_b.example.com").is_err());
/// # Ok::<(), ddns_core::HostnameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordName(String);

impl RecordName {
    /// Parses and canonicalises `input`; a trailing dot is optional. Every
    /// label follows the host-name rules, or is an underscore followed by a
    /// label that does.
    ///
    /// # Errors
    ///
    /// A [`HostnameError`] saying what rule the input breaks.
    pub fn parse(input: &str) -> Result<Self, HostnameError> {
        canonical(input, Labels::Underscored).map(Self)
    }

    /// The canonical text: lower case, with the trailing dot.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name without its trailing dot.
    pub fn without_trailing_dot(&self) -> &str {
        // The canonical form always ends in exactly one dot.
        &self.0[..self.0.len() - 1]
    }

    /// True when `self` equals `zone` or lies below it.
    pub fn is_in_zone(&self, zone: &Hostname) -> bool {
        in_zone(&self.0, zone)
    }

    /// The name as a [`Hostname`], when it has no underscore label.
    pub fn as_hostname(&self) -> Option<Hostname> {
        (!self.0.contains('_')).then(|| Hostname(self.clone()))
    }
}

impl From<Hostname> for RecordName {
    fn from(hostname: Hostname) -> Self {
        hostname.0
    }
}

impl From<&Hostname> for RecordName {
    fn from(hostname: &Hostname) -> Self {
        hostname.0.clone()
    }
}

impl AsRef<RecordName> for Hostname {
    fn as_ref(&self) -> &RecordName {
        &self.0
    }
}

impl AsRef<RecordName> for RecordName {
    fn as_ref(&self) -> &RecordName {
        self
    }
}

impl FromStr for RecordName {
    type Err = HostnameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for RecordName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RecordName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordName({:?})", self.0)
    }
}

/// Appends a dot to `raw` unless it already ends in one: the form the seed
/// protocol uses in messages and in the hash, with the client's own spelling
/// (case) kept.
pub fn with_trailing_dot(raw: &str) -> String {
    if raw.ends_with('.') {
        raw.to_owned()
    } else {
        format!("{raw}.")
    }
}

/// A host name as a client sent it: its own spelling with a trailing dot
/// (what the seed protocol's messages and hash use), and the canonical
/// [`Hostname`] it names, when it is a valid one (no record can exist for
/// a name that is not).
///
/// ```
/// use ddns_core::SentName;
/// let sent = SentName::parse("Home.Example.com");
/// assert_eq!(sent.as_sent(), "Home.Example.com.");
/// assert_eq!(sent.hostname().map(|h| h.as_str()), Some("home.example.com."));
/// assert!(SentName::parse("bad_name.example.com").hostname().is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentName {
    sent: String,
    hostname: Option<Hostname>,
}

impl SentName {
    /// Parses a name as sent (percent-decoded); never fails.
    pub fn parse(raw: &str) -> Self {
        let sent = with_trailing_dot(raw);
        let hostname = Hostname::parse(&sent).ok();
        Self { sent, hostname }
    }

    /// A name kept exactly as sent, no dot appended: the upstream
    /// protocol's hash covers the name so (`docs/PROTOCOL.md`, "The
    /// upstream protocol").
    ///
    /// ```
    /// use ddns_core::SentName;
    /// let sent = SentName::exact("Home.Example.com");
    /// assert_eq!(sent.as_sent(), "Home.Example.com");
    /// assert_eq!(sent.hostname().map(|h| h.as_str()), Some("home.example.com."));
    /// ```
    pub fn exact(raw: &str) -> Self {
        Self {
            sent: raw.to_owned(),
            hostname: Hostname::parse(raw).ok(),
        }
    }

    /// The client's spelling: with the trailing dot from [`SentName::parse`],
    /// exactly as sent from [`SentName::exact`].
    pub fn as_sent(&self) -> &str {
        &self.sent
    }

    /// The canonical name, when the sent one is a valid host name.
    pub fn hostname(&self) -> Option<&Hostname> {
        self.hostname.as_ref()
    }
}

impl From<Hostname> for SentName {
    /// The name sent in its canonical spelling.
    fn from(hostname: Hostname) -> Self {
        Self {
            sent: hostname.as_str().to_owned(),
            hostname: Some(hostname),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn canonical_form_is_lower_case_with_one_dot() {
        for input in ["Foo.Example.COM", "foo.example.com.", "FOO.EXAMPLE.COM."] {
            assert_eq!(Hostname::parse(input).unwrap().as_str(), "foo.example.com.");
        }
        let name = Hostname::parse("a-1.b2.c").unwrap();
        assert_eq!(name.without_trailing_dot(), "a-1.b2.c");
        assert_eq!(name.label_count(), 3);
        assert_eq!(name.labels().collect::<Vec<_>>(), ["a-1", "b2", "c"]);
    }

    #[test]
    fn rejects_each_rule_with_its_own_error() {
        assert_eq!(Hostname::parse(""), Err(HostnameError::Empty));
        assert_eq!(Hostname::parse("."), Err(HostnameError::Empty));
        assert_eq!(Hostname::parse("a..b"), Err(HostnameError::EmptyLabel));
        assert_eq!(Hostname::parse(".a.b"), Err(HostnameError::EmptyLabel));
        assert_eq!(Hostname::parse("a.b.."), Err(HostnameError::EmptyLabel));
        assert_eq!(
            Hostname::parse("a_b.example.com"),
            Err(HostnameError::InvalidCharacter { found: '_' })
        );
        assert_eq!(
            Hostname::parse("ä.example.com"),
            Err(HostnameError::InvalidCharacter { found: 'ä' })
        );
        assert_eq!(
            Hostname::parse("host name.example.com"),
            Err(HostnameError::InvalidCharacter { found: ' ' })
        );
        assert!(matches!(
            Hostname::parse("-a.example.com"),
            Err(HostnameError::HyphenAtEdge { .. })
        ));
        assert!(matches!(
            Hostname::parse("a-.example.com"),
            Err(HostnameError::HyphenAtEdge { .. })
        ));
    }

    #[test]
    fn length_limits_are_exact() {
        let label63 = "a".repeat(63);
        assert!(Hostname::parse(&format!("{label63}.com")).is_ok());
        assert!(matches!(
            Hostname::parse(&format!("{}a.com", label63)),
            Err(HostnameError::LabelTooLong { len: 64, .. })
        ));
        // 4 labels of 63 plus 3 dots = 255 bytes: too long. 253 is the limit.
        let name253 = format!("{}.{}.{}.{}", label63, label63, label63, "a".repeat(61));
        assert_eq!(name253.len(), 253);
        assert!(Hostname::parse(&name253).is_ok());
        assert!(Hostname::parse(&format!("{name253}.")).is_ok());
        let name254 = format!("{name253}a");
        assert_eq!(
            Hostname::parse(&name254),
            Err(HostnameError::TooLong { len: 254 })
        );
    }

    #[test]
    fn zone_membership_respects_label_boundaries() {
        let zone = Hostname::parse("example.com").unwrap();
        assert!(
            Hostname::parse("x.y.example.com")
                .unwrap()
                .is_in_zone(&zone)
        );
        assert!(!Hostname::parse("xexample.com").unwrap().is_in_zone(&zone));
        assert!(!Hostname::parse("example.org").unwrap().is_in_zone(&zone));
        assert_eq!(zone.child("www").unwrap().as_str(), "www.example.com.");
        assert!(zone.child("bad label").is_err());
    }

    #[test]
    fn record_names_allow_underscore_labels_only_at_a_label_start() {
        let name = RecordName::parse("_acme-challenge._tcp.Home.example.com.").unwrap();
        assert_eq!(name.as_str(), "_acme-challenge._tcp.home.example.com.");
        assert_eq!(
            name.without_trailing_dot(),
            "_acme-challenge._tcp.home.example.com"
        );
        assert!(name.is_in_zone(&Hostname::parse("example.com").unwrap()));
        assert!(name.as_hostname().is_none());
        for bad in [
            "_.example.com",
            "a_b.example.com",
            "__x.example.com",
            "_-x.example.com",
        ] {
            assert!(RecordName::parse(bad).is_err(), "{bad}");
        }
        let label = format!("_{}", "a".repeat(62));
        assert!(RecordName::parse(&format!("{label}.com")).is_ok());
        assert!(matches!(
            RecordName::parse(&format!("{label}a.com")),
            Err(HostnameError::LabelTooLong { len: 64, .. })
        ));
        assert_eq!(
            Hostname::parse("_acme-challenge.example.com"),
            Err(HostnameError::InvalidCharacter { found: '_' })
        );
        let host = Hostname::parse("h.example.com").unwrap();
        assert_eq!(RecordName::from(&host).as_hostname(), Some(host));
    }

    #[test]
    fn trailing_dot_helper_keeps_spelling() {
        assert_eq!(with_trailing_dot("Foo.Example.com"), "Foo.Example.com.");
        assert_eq!(with_trailing_dot("foo.example.com."), "foo.example.com.");
        assert_eq!(with_trailing_dot(""), ".");
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(input in "\\PC{0,300}") {
            if let Ok(name) = Hostname::parse(&input) {
                prop_assert!(name.as_str().ends_with('.'));
                prop_assert!(name.as_str().len() <= MAX_NAME_LEN + 1);
                prop_assert_eq!(Hostname::parse(name.as_str()).unwrap(), name.clone());
                prop_assert_eq!(name.as_str(), name.as_str().to_ascii_lowercase());
            }
        }

        #[test]
        fn valid_names_are_accepted(labels in proptest::collection::vec("[a-zA-Z0-9]([a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?", 1..6)) {
            let input = labels.join(".");
            let name = Hostname::parse(&input).unwrap();
            prop_assert_eq!(name.without_trailing_dot(), input.to_ascii_lowercase());
        }
    }
}
