//! Signed requests: the replay-proof alternative to the hash token
//! (`docs/PROTOCOL.md` section 7).
//!
//! A signed request carries an HMAC-SHA256, keyed by the record's shared
//! secret, over a canonical message of six fields, each followed by one line
//! feed:
//!
//! ```text
//! ddns-signed-v1 LF mode LF hostname LF address LF timestamp LF nonce LF
//! ```
//!
//! - `mode`: `set` or `list_hosts`;
//! - `hostname`: the canonical host name (lower case, trailing dot);
//! - `address`: for `set` the address to set, for `list_hosts` the
//!   requester's source address, in the text `source_ip_text`
//!   gives (dotted decimal; RFC 5952 for IPv6; IPv4-mapped as IPv4);
//! - `timestamp`: Unix seconds in decimal, no sign, no leading zero;
//! - `nonce`: 16 to 64 characters of `A-Z a-z 0-9 - _`, fresh per request.
//!
//! No field can contain a line feed, so the encoding is injective: two
//! different requests never share a message ([`SignedMessage::from_canonical`]
//! reads one back). The server accepts a timestamp within a window of its
//! clock (default [`DEFAULT_SIGNED_WINDOW`], ±300 s as TSIG) and only when
//! it is newer than the last signed request it accepted for the record, a
//! guard kept in the store so that it survives restarts
//! ([`crate::RecordStore::advance_replay_guard`]).
//!
//! ```
//! use ddns_core::signed::{Nonce, SignedMessage, SignedMode};
//! use ddns_core::{Hostname, SharedSecret};
//!
//! let message = SignedMessage::new(
//!     SignedMode::Set,
//!     Hostname::parse("home.example.com")?,
//!     "198.51.100.7".parse()?,
//!     1_764_172_800,
//!     Nonce::parse("0123456789abcdef0123456789abcdef")?,
//! );
//! assert_eq!(
//!     message.canonical(),
//!     b"ddns-signed-v1\nset\nhome.example.com.\n198.51.100.7\n1764172800\n0123456789abcdef0123456789abcdef\n"
//! );
//! let signature = message.sign(&SharedSecret::new("s3cret"));
//! assert!(signature.verify(&message, &SharedSecret::new("s3cret")));
//! assert!(!signature.verify(&message, &SharedSecret::new("other")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::domain::auth::source_ip_text;
use crate::domain::hostname::Hostname;
use crate::domain::secret::SharedSecret;

/// The version tag, the first field of every canonical message.
pub const SIGNED_VERSION: &str = "ddns-signed-v1";

/// How far a request's timestamp may be from the server's clock, either way.
pub const DEFAULT_SIGNED_WINDOW: Duration = Duration::from_secs(300);

/// Shortest nonce accepted, in characters.
pub const NONCE_MIN_LEN: usize = 16;
/// Longest nonce accepted, in characters.
pub const NONCE_MAX_LEN: usize = 64;

type HmacSha256 = Hmac<Sha256>;

/// Which use case a signed request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignedMode {
    /// `mode=set`.
    Set,
    /// `mode=list_hosts`.
    ListHosts,
}

impl SignedMode {
    /// The mode as the canonical message and the `mode` parameter write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Set => "set",
            Self::ListHosts => "list_hosts",
        }
    }
}

/// What is wrong with a signed request's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignedFormatError {
    /// `signature` is not 64 hexadecimal digits.
    #[error("signature= must be 64 hexadecimal digits (an HMAC-SHA256)")]
    Signature,
    /// `timestamp` is not Unix seconds in plain decimal.
    #[error("timestamp= must be the Unix time in seconds, in decimal digits")]
    Timestamp,
    /// `nonce` has the wrong length or characters.
    #[error("nonce= must be 16 to 64 letters, digits, '-' or '_'")]
    Nonce,
    /// A canonical message does not have the six fields of version 1.
    #[error("not a {SIGNED_VERSION} canonical message")]
    Layout,
}

/// A request's nonce: 16 to 64 characters of `A-Z a-z 0-9 - _`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Nonce(String);

impl Nonce {
    /// Validates a nonce as sent.
    ///
    /// # Errors
    ///
    /// [`SignedFormatError::Nonce`] for a wrong length or character.
    pub fn parse(text: &str) -> Result<Self, SignedFormatError> {
        let valid = (NONCE_MIN_LEN..=NONCE_MAX_LEN).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(SignedFormatError::Nonce)
        }
    }

    /// A fresh random nonce of 32 hex digits (128 bits).
    ///
    /// # Errors
    ///
    /// When the operating system has no randomness to give.
    pub fn generate() -> crate::error::Result<Self> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| {
            crate::error::Error::unavailable(format!("no randomness for a nonce: {e}"), false)
        })?;
        Ok(Self(hex::encode(bytes)))
    }

    /// The nonce's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses a timestamp as sent: decimal digits, no sign, no leading zero.
///
/// # Errors
///
/// [`SignedFormatError::Timestamp`] for anything else.
pub fn parse_timestamp(text: &str) -> Result<u64, SignedFormatError> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !canonical {
        return Err(SignedFormatError::Timestamp);
    }
    text.parse().map_err(|_| SignedFormatError::Timestamp)
}

/// The fields a signature covers.
///
/// Built by [`SignedMessage::new`], which canonicalizes the address (an
/// IPv4-mapped IPv6 address is the IPv4 address, as everywhere in the
/// system), so that equal messages are exactly those with equal bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedMessage {
    mode: SignedMode,
    hostname: Hostname,
    address: IpAddr,
    timestamp: u64,
    nonce: Nonce,
}

impl SignedMessage {
    /// The message of a request: its `mode`, the record's `hostname`, the
    /// `address` (for `set` the one to set, for `list_hosts` the source
    /// address), the Unix `timestamp` and the `nonce`.
    pub fn new(
        mode: SignedMode,
        hostname: Hostname,
        address: IpAddr,
        timestamp: u64,
        nonce: Nonce,
    ) -> Self {
        Self {
            mode,
            hostname,
            address: address.to_canonical(),
            timestamp,
            nonce,
        }
    }

    /// The use case.
    pub fn mode(&self) -> SignedMode {
        self.mode
    }

    /// The record's name.
    pub fn hostname(&self) -> &Hostname {
        &self.hostname
    }

    /// The address, canonical.
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// Unix seconds when the client made the request.
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The client's nonce.
    pub fn nonce(&self) -> &Nonce {
        &self.nonce
    }

    /// The canonical bytes the HMAC is computed over (see the module
    /// documentation).
    pub fn canonical(&self) -> Vec<u8> {
        let fields = [
            SIGNED_VERSION,
            self.mode.as_str(),
            self.hostname.as_str(),
            &source_ip_text(self.address),
            &self.timestamp.to_string(),
            self.nonce.as_str(),
        ];
        let mut out = Vec::with_capacity(fields.iter().map(|f| f.len() + 1).sum());
        for field in fields {
            out.extend_from_slice(field.as_bytes());
            out.push(b'\n');
        }
        out
    }

    /// Reads a canonical message back; `from_canonical(m.canonical()) == m`
    /// for every message, which is what makes the encoding injective.
    ///
    /// # Errors
    ///
    /// [`SignedFormatError`] when `bytes` is not a canonical message.
    pub fn from_canonical(bytes: &[u8]) -> Result<Self, SignedFormatError> {
        let text = std::str::from_utf8(bytes).map_err(|_| SignedFormatError::Layout)?;
        let body = text.strip_suffix('\n').ok_or(SignedFormatError::Layout)?;
        let fields: Vec<&str> = body.split('\n').collect();
        let [version, mode, hostname, address, timestamp, nonce] = fields.as_slice() else {
            return Err(SignedFormatError::Layout);
        };
        if *version != SIGNED_VERSION {
            return Err(SignedFormatError::Layout);
        }
        let mode = match *mode {
            "set" => SignedMode::Set,
            "list_hosts" => SignedMode::ListHosts,
            _ => return Err(SignedFormatError::Layout),
        };
        let parsed_host = Hostname::parse(hostname).map_err(|_| SignedFormatError::Layout)?;
        let address: IpAddr = address.parse().map_err(|_| SignedFormatError::Layout)?;
        let message = Self::new(
            mode,
            parsed_host,
            address,
            parse_timestamp(timestamp)?,
            Nonce::parse(nonce)?,
        );
        // Only the canonical spelling of each field is a canonical message.
        if message.canonical() == bytes {
            Ok(message)
        } else {
            Err(SignedFormatError::Layout)
        }
    }

    /// The signature of this message under `secret`.
    pub fn sign(&self, secret: &SharedSecret) -> Signature {
        Signature(self.mac(secret).finalize().into_bytes().into())
    }

    fn mac(&self, secret: &SharedSecret) -> HmacSha256 {
        // HMAC takes keys of any length: this cannot fail.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret.expose_secret().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(&self.canonical());
        mac
    }
}

/// An HMAC-SHA256 signature: 32 bytes, sent as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; 32]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A credential until the replay guard has seen it.
        f.write_str("Signature([REDACTED])")
    }
}

impl Signature {
    /// Decodes a `signature` argument: exactly 64 hex digits, either case.
    ///
    /// # Errors
    ///
    /// [`SignedFormatError::Signature`] for anything else.
    pub fn parse(text: &str) -> Result<Self, SignedFormatError> {
        let mut bytes = [0u8; 32];
        if text.len() != 64 {
            return Err(SignedFormatError::Signature);
        }
        hex::decode_to_slice(text, &mut bytes).map_err(|_| SignedFormatError::Signature)?;
        Ok(Self(bytes))
    }

    /// The 64 lower-case hex digits clients send.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// True when this is the signature of `message` under `secret`,
    /// compared in constant time.
    pub fn verify(&self, message: &SignedMessage, secret: &SharedSecret) -> bool {
        message.mac(secret).verify_slice(&self.0).is_ok()
    }
}

/// The three arguments of a signed request, as sent (percent-decoded).
/// `Debug` leaves out the signature.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SignedProof {
    /// `signature`: 64 hex digits.
    pub signature: String,
    /// `timestamp`: Unix seconds.
    pub timestamp: String,
    /// `nonce`.
    pub nonce: String,
}

impl fmt::Debug for SignedProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedProof")
            .field("signature", &"[REDACTED]")
            .field("timestamp", &self.timestamp)
            .field("nonce", &self.nonce)
            .finish()
    }
}

/// A [`SignedProof`] whose fields are well-formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedProof {
    /// The signature.
    pub signature: Signature,
    /// The timestamp, Unix seconds.
    pub timestamp: u64,
    /// The nonce.
    pub nonce: Nonce,
}

impl SignedProof {
    /// Validates the three fields.
    ///
    /// # Errors
    ///
    /// The first malformed field: signature, timestamp, nonce.
    pub fn parse(&self) -> Result<ParsedProof, SignedFormatError> {
        Ok(ParsedProof {
            signature: Signature::parse(&self.signature)?,
            timestamp: parse_timestamp(&self.timestamp)?,
            nonce: Nonce::parse(&self.nonce)?,
        })
    }

    /// The proof a client sends for `message` under `secret`.
    pub fn for_message(message: &SignedMessage, secret: &SharedSecret) -> Self {
        Self {
            signature: message.sign(secret).to_hex(),
            timestamp: message.timestamp.to_string(),
            nonce: message.nonce.as_str().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> SignedMessage {
        SignedMessage::new(
            SignedMode::Set,
            Hostname::parse("home.example.com").unwrap(),
            "198.51.100.7".parse().unwrap(),
            1_764_172_800,
            Nonce::parse("0123456789abcdef0123456789abcdef").unwrap(),
        )
    }

    #[test]
    fn timestamps_must_be_plain_decimal() {
        assert_eq!(parse_timestamp("0"), Ok(0));
        assert_eq!(parse_timestamp("1764172800"), Ok(1_764_172_800));
        for bad in [
            "",
            "01",
            "+1",
            "-1",
            "1.5",
            " 1",
            "1e9",
            "99999999999999999999",
        ] {
            assert_eq!(
                parse_timestamp(bad),
                Err(SignedFormatError::Timestamp),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn nonces_are_bounded_and_plain() {
        assert!(Nonce::parse(&"a".repeat(16)).is_ok());
        assert!(Nonce::parse(&"Z9-_".repeat(16)).is_ok());
        for bad in [
            "a".repeat(15),
            "a".repeat(65),
            format!("{}\n", "a".repeat(16)),
            format!("{} ", "a".repeat(16)),
        ] {
            assert_eq!(Nonce::parse(&bad), Err(SignedFormatError::Nonce));
        }
        let fresh = Nonce::generate().unwrap();
        assert_eq!(fresh.as_str().len(), 32);
        assert_ne!(fresh, Nonce::generate().unwrap());
    }

    #[test]
    fn canonical_messages_read_back() {
        let m = message();
        assert_eq!(SignedMessage::from_canonical(&m.canonical()), Ok(m.clone()));
        let v6 = SignedMessage::new(
            m.mode,
            m.hostname.clone(),
            "::ffff:192.0.2.1".parse().unwrap(),
            m.timestamp,
            m.nonce.clone(),
        );
        assert_eq!(v6.address(), "192.0.2.1".parse::<IpAddr>().unwrap());
        // The whole message, byte for byte: the mapped address is signed in
        // its IPv4 form, in its place.
        assert_eq!(
            v6.canonical(),
            b"ddns-signed-v1\nset\nhome.example.com.\n192.0.2.1\n1764172800\n\
              0123456789abcdef0123456789abcdef\n"
        );
        assert_eq!(
            SignedMessage::from_canonical(
                b"ddns-signed-v1\nset\nHOME.example.com.\n198.51.100.7\n1\n0123456789abcdef\n"
            ),
            Err(SignedFormatError::Layout)
        );
    }

    #[test]
    fn signatures_parse_and_verify() {
        let m = message();
        let secret = SharedSecret::new("s3cret");
        let sig = m.sign(&secret);
        assert_eq!(Signature::parse(&sig.to_hex()), Ok(sig));
        assert_eq!(Signature::parse(&sig.to_hex().to_uppercase()), Ok(sig));
        assert_eq!(Signature::parse("abc"), Err(SignedFormatError::Signature));
        assert_eq!(
            Signature::parse(&"g".repeat(64)),
            Err(SignedFormatError::Signature)
        );
        let proof = SignedProof::for_message(&m, &secret).parse().unwrap();
        assert!(proof.signature.verify(&m, &secret));
        assert_eq!(proof.timestamp, m.timestamp);
        assert_eq!(proof.nonce, m.nonce);
    }
}
