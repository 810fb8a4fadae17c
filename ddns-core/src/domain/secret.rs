//! The shared secret of a record, kept out of logs.
//!
//! [`SharedSecret`] has no `Display`, prints `[REDACTED]` under `Debug`, is
//! compared in constant time and is wiped from memory when dropped. The only
//! way to read it is the explicit [`SharedSecret::expose_secret`].

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// A record's shared secret: the key of the hash token and the group key of
/// network discovery (`docs/PROTOCOL.md` sections 2, 3 and 5).
///
/// ```
/// use ddns_core::SharedSecret;
///
/// let secret = SharedSecret::new("correct horse");
/// assert_eq!(format!("{secret:?}"), "SharedSecret([REDACTED])");
/// assert_eq!(secret.expose_secret(), "correct horse");
/// ```
#[derive(Clone)]
pub struct SharedSecret(Zeroizing<String>);

impl SharedSecret {
    /// Wraps `secret`. Any string is accepted: existing tables hold secrets
    /// of every shape, and the hash covers whatever bytes they are.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Zeroizing::new(secret.into()))
    }

    /// A fresh secret of `hex_digits` lower-case hexadecimal digits from the
    /// operating system's cryptographic random number generator.
    ///
    /// `generate(16)` gives the 64-bit secrets of the original stack's example
    /// rows; use at least 32 digits (128 bits) for real records.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`] when the operating system has no randomness to
    /// give (which is rare and worth reporting rather than working around).
    pub fn generate(hex_digits: usize) -> Result<Self> {
        let mut bytes = Zeroizing::new(vec![0u8; hex_digits.div_ceil(2)]);
        getrandom::fill(&mut bytes).map_err(|e| {
            Error::unavailable(
                format!("the operating system's random number generator failed: {e}"),
                false,
            )
        })?;
        let mut text = hex::encode(&*bytes);
        text.truncate(hex_digits);
        Ok(Self::new(text))
    }

    /// The secret of the record's own TSIG key: the base64 of the
    /// secret's UTF-8 bytes, as `printf %s "$SECRET" | base64` prints it
    /// (`docs/PROTOCOL.md` section 8). Like the secret, it is not for logs.
    ///
    /// ```
    /// use ddns_core::SharedSecret;
    /// assert_eq!(SharedSecret::new("s3cret").tsig_base64(), "czNjcmV0");
    /// ```
    pub fn tsig_base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(self.0.as_bytes())
    }

    /// The secret itself. Call this only where the secret must be used
    /// (hashing, storing), never to log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// True for the empty secret, which opens nothing: a record holding it
    /// is refused, and administration refuses to store it.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Strength estimate in bits, assuming the secret was chosen at random
    /// from the characters it uses (hex digits count 4 bits each, anything
    /// else about 6). Used to warn about weak secrets.
    pub fn estimated_bits(&self) -> usize {
        let s = self.expose_secret();
        if s.chars().all(|c| c.is_ascii_hexdigit()) {
            s.len() * 4
        } else {
            s.chars().count() * 6
        }
    }
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedSecret([REDACTED])")
    }
}

impl PartialEq for SharedSecret {
    fn eq(&self, other: &Self) -> bool {
        self.expose_secret()
            .as_bytes()
            .ct_eq(other.expose_secret().as_bytes())
            .into()
    }
}

impl Eq for SharedSecret {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = SharedSecret::new("hunter2");
        let shown = format!("{secret:?} {:#?}", secret);
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("[REDACTED]"));
    }

    #[test]
    fn generated_secrets_are_hex_of_the_asked_length_and_differ() {
        let a = SharedSecret::generate(16).unwrap();
        let b = SharedSecret::generate(16).unwrap();
        assert_eq!(a.expose_secret().len(), 16);
        assert!(a.expose_secret().chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(
            SharedSecret::generate(33).unwrap().expose_secret().len(),
            33
        );
        assert_eq!(a.estimated_bits(), 64);
    }

    #[test]
    fn equality_compares_contents() {
        assert_eq!(SharedSecret::new("abc"), SharedSecret::new("abc"));
        assert_ne!(SharedSecret::new("abc"), SharedSecret::new("abd"));
        assert_ne!(SharedSecret::new("abc"), SharedSecret::new("abcd"));
    }
}
