//! Record values: what one RRset holds.
//!
//! An A or AAAA record holds an address; a TXT record holds one or more
//! [`TxtValue`]s, each a list of character strings. Values are validated
//! once, when they are made, and written in the presentation form of zone
//! files (`"v=spf1 -all"`), which is also how Route 53 and the record table
//! hold TXT values.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::domain::record::RecordType;

/// The most bytes one character string of a TXT value holds (RFC 1035
/// section 3.3: one length octet).
pub const MAX_TXT_STRING: usize = 255;

/// The most bytes of text one TXT value holds, over all its strings: room
/// for a 4096-bit DKIM key, and within Route 53's 4000 characters per value
/// once quoted.
pub const MAX_TXT_TEXT: usize = 1024;

/// Why a text is not a valid [`TxtValue`] or [`RecordValue`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// A TXT value holds a byte that is not printable ASCII.
    #[error("the TXT value holds {found:?}; only printable ASCII (space to '~') is allowed")]
    NotPrintable {
        /// The first character that is not allowed.
        found: char,
    },
    /// One character string is longer than [`MAX_TXT_STRING`] bytes.
    #[error("a TXT string is {len} bytes long; at most {MAX_TXT_STRING} are allowed per string")]
    StringTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The whole value is longer than [`MAX_TXT_TEXT`] bytes.
    #[error("the TXT value is {len} bytes long; at most {MAX_TXT_TEXT} are allowed")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// A TXT value with no character string at all.
    #[error("the TXT value has no string")]
    Empty,
    /// The presentation form is not a list of double-quoted strings.
    #[error("{0}; write a TXT value as double-quoted strings, like \"one\" \"two\"")]
    Syntax(&'static str),
    /// The text is not an address of the record's family.
    #[error("{text:?} is not an {record_type} value")]
    NotAnAddress {
        /// The record type the value was meant for.
        record_type: RecordType,
        /// The text, truncated for display.
        text: String,
    },
    /// A value of another type than its record's.
    #[error("a {found} value cannot be stored in a {expected} record")]
    WrongType {
        /// The record's type.
        expected: RecordType,
        /// The value's type.
        found: RecordType,
    },
}

/// One TXT value: one or more character strings of printable ASCII, each
/// at most [`MAX_TXT_STRING`] bytes, at most [`MAX_TXT_TEXT`] in all.
///
/// [`TxtValue::new`] takes a text and splits it into strings of 255 bytes;
/// [`TxtValue::from_strings`] keeps strings as given (as DNS returns them).
/// `Display` and `FromStr` use the presentation form: each string in double
/// quotes, `"` and `\` escaped with a backslash, strings separated by a
/// space.
///
/// ```
/// use ddns_core::TxtValue;
///
/// let token = TxtValue::new("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0")?;
/// assert_eq!(token.to_string(), "\"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0\"");
/// let long = TxtValue::new(&"k".repeat(300))?;
/// assert_eq!(long.strings().map(str::len).collect::<Vec<_>>(), [255, 45]);
/// assert_eq!(r#""say \"hi\"" "x""#.parse::<TxtValue>()?.text(), r#"say "hi"x"#);
/// assert!(TxtValue::new("tab\there").is_err());
/// # Ok::<(), ddns_core::ValueError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxtValue {
    strings: Vec<String>,
}

impl TxtValue {
    /// The value holding `text`, split into strings of at most
    /// [`MAX_TXT_STRING`] bytes (an empty text is one empty string).
    ///
    /// # Errors
    ///
    /// [`ValueError::NotPrintable`] or [`ValueError::TooLong`].
    pub fn new(text: &str) -> Result<Self, ValueError> {
        check_printable(text)?;
        if text.len() > MAX_TXT_TEXT {
            return Err(ValueError::TooLong { len: text.len() });
        }
        // Printable ASCII is one byte per character, so any split is on a
        // character boundary.
        let strings = if text.is_empty() {
            vec![String::new()]
        } else {
            text.as_bytes()
                .chunks(MAX_TXT_STRING)
                .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
                .collect()
        };
        Ok(Self { strings })
    }

    /// The value holding `strings` as they are, one character string each.
    ///
    /// # Errors
    ///
    /// [`ValueError::Empty`] for no string, [`ValueError::StringTooLong`],
    /// [`ValueError::NotPrintable`] or [`ValueError::TooLong`].
    pub fn from_strings<I, S>(strings: I) -> Result<Self, ValueError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let strings: Vec<String> = strings.into_iter().map(Into::into).collect();
        if strings.is_empty() {
            return Err(ValueError::Empty);
        }
        let mut total = 0;
        for string in &strings {
            check_printable(string)?;
            if string.len() > MAX_TXT_STRING {
                return Err(ValueError::StringTooLong { len: string.len() });
            }
            total += string.len();
        }
        if total > MAX_TXT_TEXT {
            return Err(ValueError::TooLong { len: total });
        }
        Ok(Self { strings })
    }

    /// The value from character strings as DNS carries them (bytes).
    ///
    /// # Errors
    ///
    /// As [`TxtValue::from_strings`]; bytes that are not printable ASCII
    /// are [`ValueError::NotPrintable`].
    pub fn from_wire<'a, I>(strings: I) -> Result<Self, ValueError>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let mut texts = Vec::new();
        for bytes in strings {
            match std::str::from_utf8(bytes) {
                Ok(text) => texts.push(text.to_owned()),
                Err(_) => {
                    let found = bytes
                        .iter()
                        .find(|b| !b.is_ascii())
                        .map_or(char::REPLACEMENT_CHARACTER, |&b| char::from(b));
                    return Err(ValueError::NotPrintable { found });
                }
            }
        }
        Self::from_strings(texts)
    }

    /// The character strings, in order.
    pub fn strings(&self) -> impl Iterator<Item = &str> {
        self.strings.iter().map(String::as_str)
    }

    /// The text: every string, concatenated.
    pub fn text(&self) -> String {
        self.strings.concat()
    }
}

fn check_printable(text: &str) -> Result<(), ValueError> {
    match text.chars().find(|c| !(' '..='~').contains(c)) {
        Some(found) => Err(ValueError::NotPrintable { found }),
        None => Ok(()),
    }
}

impl fmt::Display for TxtValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, string) in self.strings.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str("\"")?;
            for c in string.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\"")?;
        }
        Ok(())
    }
}

impl FromStr for TxtValue {
    type Err = ValueError;

    /// Parses the presentation form: double-quoted strings separated by
    /// spaces, with `\"` and `\\` inside.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut strings = Vec::new();
        let mut chars = s.trim().chars();
        loop {
            match chars.next() {
                None => break,
                Some(' ') => {}
                Some('"') => {
                    let mut string = String::new();
                    loop {
                        match chars.next() {
                            None => return Err(ValueError::Syntax("a string is not closed")),
                            Some('"') => break,
                            Some('\\') => match chars.next() {
                                Some(c @ ('"' | '\\')) => string.push(c),
                                _ => {
                                    return Err(ValueError::Syntax(
                                        "a backslash escapes only a quote or a backslash",
                                    ));
                                }
                            },
                            Some(c) => string.push(c),
                        }
                    }
                    strings.push(string);
                }
                Some(_) => return Err(ValueError::Syntax("text outside double quotes")),
            }
        }
        Self::from_strings(strings)
    }
}

/// One value of an RRset.
///
/// ```
/// use ddns_core::{RecordType, RecordValue, TxtValue};
///
/// let a = RecordValue::from("::ffff:192.0.2.1".parse::<std::net::IpAddr>()?);
/// assert_eq!((a.record_type(), a.to_string()), (RecordType::A, "192.0.2.1".to_owned()));
/// let txt = RecordValue::parse(RecordType::Txt, "\"hello\"")?;
/// assert_eq!(txt, RecordValue::Txt(TxtValue::new("hello")?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RecordValue {
    /// An address, of an A (IPv4) or AAAA (IPv6) record. Made through
    /// `From<IpAddr>`, an IPv4-mapped IPv6 address is IPv4.
    Address(IpAddr),
    /// A TXT value.
    Txt(TxtValue),
}

impl RecordValue {
    /// The type of record that holds this value.
    pub fn record_type(&self) -> RecordType {
        match self {
            Self::Address(addr) => RecordType::for_address(*addr),
            Self::Txt(_) => RecordType::Txt,
        }
    }

    /// The address, for an A or AAAA value.
    pub fn address(&self) -> Option<IpAddr> {
        match self {
            Self::Address(addr) => Some(*addr),
            Self::Txt(_) => None,
        }
    }

    /// Parses `text` as a value of `record_type`: an address for A and
    /// AAAA (of that family), the presentation form for TXT.
    ///
    /// # Errors
    ///
    /// A [`ValueError`] saying why the text is not such a value.
    pub fn parse(record_type: RecordType, text: &str) -> Result<Self, ValueError> {
        let value = match record_type {
            RecordType::A | RecordType::Aaaa => text
                .parse::<IpAddr>()
                .ok()
                .map(Self::from)
                .filter(|v| v.record_type() == record_type)
                .ok_or_else(|| ValueError::NotAnAddress {
                    record_type,
                    text: text.chars().take(64).collect(),
                })?,
            RecordType::Txt => Self::Txt(text.parse()?),
        };
        Ok(value)
    }

    /// Checks that `values` may be the values of a `record_type` RRset, and
    /// returns them without duplicates, in their first order.
    ///
    /// # Errors
    ///
    /// [`ValueError::WrongType`] for a value of another type.
    pub fn set_of(
        record_type: RecordType,
        values: impl Into<Vec<RecordValue>>,
    ) -> Result<Vec<RecordValue>, ValueError> {
        // In place: the common set of one value costs no new allocation.
        let mut set = values.into();
        if let Some(other) = set.iter().find(|v| v.record_type() != record_type) {
            return Err(ValueError::WrongType {
                expected: record_type,
                found: other.record_type(),
            });
        }
        let mut i = 1;
        while i < set.len() {
            if set[..i].contains(&set[i]) {
                set.remove(i);
            } else {
                i += 1;
            }
        }
        Ok(set)
    }

    /// The stored form of an RRset's values, as the record table holds
    /// them: one value per line, each in presentation form (a single
    /// address for an A or AAAA record). `None` for no value.
    pub fn stored_form(values: &[RecordValue]) -> Option<String> {
        if values.is_empty() {
            return None;
        }
        let lines: Vec<String> = values.iter().map(ToString::to_string).collect();
        Some(lines.join("\n"))
    }

    /// Reads what [`RecordValue::stored_form`] wrote for a `record_type`
    /// record.
    ///
    /// # Errors
    ///
    /// A [`ValueError`] for a line that is not such a value.
    pub fn from_stored_form(
        record_type: RecordType,
        stored: &str,
    ) -> Result<Vec<RecordValue>, ValueError> {
        let values = stored
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| Self::parse(record_type, line.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        Self::set_of(record_type, values)
    }
}

impl From<IpAddr> for RecordValue {
    fn from(addr: IpAddr) -> Self {
        Self::Address(addr.to_canonical())
    }
}

impl PartialEq<IpAddr> for RecordValue {
    /// True for an address value holding `other` (IPv4-mapped addresses
    /// compare as IPv4).
    fn eq(&self, other: &IpAddr) -> bool {
        self.address() == Some(other.to_canonical())
    }
}

impl From<TxtValue> for RecordValue {
    fn from(value: TxtValue) -> Self {
        Self::Txt(value)
    }
}

impl fmt::Display for RecordValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Address(addr) => write!(f, "{addr}"),
            Self::Txt(value) => write!(f, "{value}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn txt_values_are_checked() {
        assert_eq!(
            TxtValue::new("é"),
            Err(ValueError::NotPrintable { found: 'é' })
        );
        assert_eq!(
            TxtValue::new("a\nb"),
            Err(ValueError::NotPrintable { found: '\n' })
        );
        assert_eq!(
            TxtValue::new(&"x".repeat(MAX_TXT_TEXT + 1)),
            Err(ValueError::TooLong {
                len: MAX_TXT_TEXT + 1
            })
        );
        assert!(TxtValue::new(&"x".repeat(MAX_TXT_TEXT)).is_ok());
        assert_eq!(
            TxtValue::from_strings(["y".repeat(256)]),
            Err(ValueError::StringTooLong { len: 256 })
        );
        assert_eq!(
            TxtValue::from_strings(Vec::<String>::new()),
            Err(ValueError::Empty)
        );
        assert_eq!(TxtValue::new("").unwrap().to_string(), "\"\"");
        assert_eq!(
            TxtValue::from_wire([b"ok".as_slice(), b"\xff".as_slice()]),
            Err(ValueError::NotPrintable { found: '\u{ff}' })
        );
        assert_eq!(
            TxtValue::from_wire([b"a".as_slice(), b"b c".as_slice()])
                .unwrap()
                .to_string(),
            "\"a\" \"b c\""
        );
    }

    #[test]
    fn presentation_form_escapes_quotes_and_backslashes() {
        let value = TxtValue::from_strings([r#"a "quoted" \ word"#, "two"]).unwrap();
        let shown = value.to_string();
        assert_eq!(shown, r#""a \"quoted\" \\ word" "two""#);
        assert_eq!(shown.parse::<TxtValue>().unwrap(), value);
        for bad in ["bare", "\"open", r#""bad \x escape""#, ""] {
            assert!(bad.parse::<TxtValue>().is_err(), "{bad}");
        }
    }

    #[test]
    fn record_values_keep_to_their_type() {
        let v4 = RecordValue::parse(RecordType::A, "192.0.2.1").unwrap();
        assert_eq!(v4.address(), Some("192.0.2.1".parse().unwrap()));
        assert!(RecordValue::parse(RecordType::Aaaa, "192.0.2.1").is_err());
        assert!(RecordValue::parse(RecordType::A, "\"x\"").is_err());
        let txt = RecordValue::Txt(TxtValue::new("x").unwrap());
        assert_eq!(
            RecordValue::set_of(RecordType::Txt, [txt.clone(), v4.clone()]),
            Err(ValueError::WrongType {
                expected: RecordType::Txt,
                found: RecordType::A
            })
        );
        assert_eq!(
            RecordValue::set_of(RecordType::Txt, [txt.clone(), txt.clone()]).unwrap(),
            [txt]
        );
    }

    #[test]
    fn stored_form_round_trips() {
        let values = vec![
            RecordValue::Txt(TxtValue::new("first value").unwrap()),
            RecordValue::Txt(TxtValue::new(&"z".repeat(300)).unwrap()),
        ];
        let stored = RecordValue::stored_form(&values).unwrap();
        assert_eq!(
            RecordValue::from_stored_form(RecordType::Txt, &stored).unwrap(),
            values
        );
        let address = ["2001:db8::1".parse::<IpAddr>().unwrap().into()];
        assert_eq!(
            RecordValue::stored_form(&address).as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(RecordValue::stored_form(&[]), None);
    }

    proptest! {
        #[test]
        fn any_printable_text_round_trips(text in "[ -~]{0,600}") {
            let value = TxtValue::new(&text).unwrap();
            prop_assert_eq!(value.text(), text);
            prop_assert!(value.strings().all(|s| s.len() <= MAX_TXT_STRING));
            prop_assert_eq!(value.to_string().parse::<TxtValue>().unwrap(), value);
        }

        #[test]
        fn parsing_never_panics(input in "\\PC{0,200}") {
            let _ = input.parse::<TxtValue>();
        }
    }
}
