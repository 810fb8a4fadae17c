//! The seed protocol's hash token (`docs/PROTOCOL.md` section 2).
//!
//! ```text
//! hash = lowercase hex( SHA-256( source_ip + hostname_with_dot + shared_secret ) )
//! ```
//!
//! `source_ip` is the requester's public address written exactly as
//! `mode=get` returns it (see [`source_ip_text`]); `hostname_with_dot` is the
//! host name as the client sent it, with a dot appended when missing. The
//! token is verified by comparing the 32 decoded bytes in constant time.
//!
//! The scheme is kept for compatibility with deployed clients. Its known
//! weaknesses: a token never expires (a captured request can be replayed
//! from the same address), the concatenation is ambiguous, and it is a bare
//! hash rather than an HMAC.

use std::fmt;
use std::net::IpAddr;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::hostname::{Hostname, SentName};
use crate::domain::secret::SharedSecret;

/// A decoded hash token: the 32 bytes of a SHA-256 digest.
///
/// ```
/// use ddns_core::{HashToken, Hostname, SharedSecret};
/// use ddns_core::SentName;
///
/// let secret = SharedSecret::new("123abc");
/// let ip = "73.222.111.6".parse()?;
/// let name = Hostname::parse("test.example.com")?;
/// let token = HashToken::compute(ip, &name, &secret);
/// // printf '%s' '73.222.111.6test.example.com.123abc' | sha256sum
/// assert_eq!(
///     token.to_hex(),
///     "2d4584795ea50777bd43433f9b10f3a9feaf6e9ad49a535b79923f56b538451d"
/// );
/// let sent = HashToken::parse(&token.to_hex())?;
/// assert!(sent.verify(ip, &SentName::parse("test.example.com"), &secret));
/// // The hash covers the name as the client spells it.
/// assert!(!sent.verify(ip, &SentName::parse("Test.example.com"), &secret));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct HashToken([u8; 32]);

/// A `hash` argument that is not exactly 64 hexadecimal digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a hash token is exactly 64 hexadecimal digits")]
pub struct TokenFormatError;

impl HashToken {
    /// Decodes a token sent by a client: exactly 64 hex digits, either case.
    ///
    /// # Errors
    ///
    /// [`TokenFormatError`] for anything else (the seed's message 1).
    pub fn parse(text: &str) -> Result<Self, TokenFormatError> {
        let mut bytes = [0u8; 32];
        if text.len() != 64 {
            return Err(TokenFormatError);
        }
        hex::decode_to_slice(text, &mut bytes).map_err(|_| TokenFormatError)?;
        Ok(Self(bytes))
    }

    /// The token a client with `secret` computes for `name` (in its
    /// canonical spelling, with the trailing dot) when its public address
    /// is `source`.
    pub fn compute(source: IpAddr, name: &Hostname, secret: &SharedSecret) -> Self {
        Self::digest(source, name.as_str(), secret)
    }

    /// The token for `name` spelled as the client sends it.
    pub fn compute_as_sent(source: IpAddr, name: &SentName, secret: &SharedSecret) -> Self {
        Self::digest(source, name.as_sent(), secret)
    }

    fn digest(source: IpAddr, hostname_with_dot: &str, secret: &SharedSecret) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(source_ip_text(source).as_bytes());
        hasher.update(hostname_with_dot.as_bytes());
        hasher.update(secret.expose_secret().as_bytes());
        Self(hasher.finalize().into())
    }

    /// True when this token is the one a client with `secret` at `source`
    /// computes for `name` as it sent it. The comparison takes the same
    /// time wherever the tokens differ.
    pub fn verify(&self, source: IpAddr, name: &SentName, secret: &SharedSecret) -> bool {
        let expected = Self::compute_as_sent(source, name, secret);
        self.0.ct_eq(&expected.0).into()
    }

    /// The token as 64 lower-case hex digits, as clients send it.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for HashToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A token is a credential for as long as the source address stays.
        f.write_str("HashToken([REDACTED])")
    }
}

/// The text of a source address as `mode=get` returns it and as the hash
/// covers it: IPv4 dotted quad, IPv6 in RFC 5952 form, an IPv4-mapped IPv6
/// address as its IPv4 address.
pub(crate) fn source_ip_text(source: IpAddr) -> String {
    source.to_canonical().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values computed with coreutils, e.g.
    //   printf '%s' '73.222.111.6test.example.com.123abc' | sha256sum
    const SEED_README_EXAMPLE: &str =
        "2d4584795ea50777bd43433f9b10f3a9feaf6e9ad49a535b79923f56b538451d";

    fn vector(ip: &str, host: &str, secret: &str) -> String {
        HashToken::compute_as_sent(
            ip.parse().unwrap(),
            &SentName::parse(host),
            &SharedSecret::new(secret),
        )
        .to_hex()
    }

    #[test]
    fn known_answers_from_sha256sum() {
        assert_eq!(
            vector("73.222.111.6", "test.example.com.", "123abc"),
            SEED_README_EXAMPLE
        );
        // A secret with characters the original bash client mangled.
        assert_eq!(
            vector("2001:db8::1", "home.example.com.", "s3cr%t\\x"),
            "016cd76ad6bc764c323ae0ff9ac1e897a9f425a245d9bfa5fdd6b1f7c1d5c35c"
        );
        // The host name is hashed as sent: case is kept.
        assert_eq!(
            vector("192.0.2.10", "Foo.Example.com.", "abcdef0123456789"),
            "048567e29fceae61f7ca6827dc544b6343de88f784c339b6d4217a4a7517827c"
        );
    }

    #[test]
    fn parse_accepts_exactly_64_hex_digits_in_either_case() {
        let lower = SEED_README_EXAMPLE;
        assert!(HashToken::parse(lower).is_ok());
        assert!(HashToken::parse(&lower.to_uppercase()).is_ok());
        assert_eq!(HashToken::parse(&lower[..63]).err(), Some(TokenFormatError));
        assert_eq!(
            HashToken::parse(&format!("{lower}0")).err(),
            Some(TokenFormatError)
        );
        assert_eq!(
            HashToken::parse(&format!("{}g", &lower[..63])).err(),
            Some(TokenFormatError)
        );
        assert_eq!(HashToken::parse("").err(), Some(TokenFormatError));
        // 64 bytes but multi-byte characters: not hex.
        let multibyte = "é".repeat(32);
        assert_eq!(multibyte.len(), 64);
        assert_eq!(HashToken::parse(&multibyte).err(), Some(TokenFormatError));
    }

    #[test]
    fn verify_checks_every_input() {
        let secret = SharedSecret::new("123abc");
        let ip: IpAddr = "73.222.111.6".parse().unwrap();
        let token = HashToken::parse(SEED_README_EXAMPLE).unwrap();
        let name = SentName::parse("test.example.com.");
        assert!(token.verify(ip, &name, &secret));
        // The dot is appended when missing: the same name.
        assert!(token.verify(ip, &SentName::parse("test.example.com"), &secret));
        assert!(!token.verify("73.222.111.7".parse().unwrap(), &name, &secret));
        assert!(!token.verify(ip, &SentName::parse("Test.example.com."), &secret));
        assert!(!token.verify(ip, &name, &SharedSecret::new("123abd")));
        let canonical = Hostname::parse("Test.Example.COM").unwrap();
        assert_eq!(
            HashToken::compute(ip, &canonical, &secret).to_hex(),
            SEED_README_EXAMPLE
        );
    }

    #[test]
    fn mapped_source_hashes_as_ipv4() {
        assert_eq!(
            vector("::ffff:73.222.111.6", "test.example.com.", "123abc"),
            SEED_README_EXAMPLE
        );
        assert_eq!(
            source_ip_text("2001:DB8:0:0::1".parse().unwrap()),
            "2001:db8::1"
        );
    }

    #[test]
    fn debug_does_not_print_the_token() {
        let token = HashToken::parse(SEED_README_EXAMPLE).unwrap();
        assert!(!format!("{token:?}").contains("2d45"));
    }
}
