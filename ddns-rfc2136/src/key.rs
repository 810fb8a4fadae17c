//! TSIG keys: given directly, or read from a BIND-style key file as
//! `tsig-keygen` writes it:
//!
//! ```text
//! key "ddns-key" {
//!     algorithm hmac-sha256;
//!     secret "VGhpcyBpcyBub3QgYSByZWFsIGtleQ==";
//! };
//! ```

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hickory_proto::rr::rdata::tsig::TsigAlgorithm;
use hickory_proto::rr::{Name, TSigner};
use zeroize::Zeroizing;

/// How far the server's and our clocks may differ, in seconds (RFC 8945's
/// recommended fudge).
const FUDGE: u16 = 300;

/// The TSIG algorithms supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsigAlgorithmName {
    /// `hmac-sha256` (what `tsig-keygen` uses by default).
    HmacSha256,
    /// `hmac-sha384`.
    HmacSha384,
    /// `hmac-sha512`.
    HmacSha512,
}

impl TsigAlgorithmName {
    fn hickory(self) -> TsigAlgorithm {
        match self {
            Self::HmacSha256 => TsigAlgorithm::HmacSha256,
            Self::HmacSha384 => TsigAlgorithm::HmacSha384,
            Self::HmacSha512 => TsigAlgorithm::HmacSha512,
        }
    }

    /// The name BIND uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HmacSha256 => "hmac-sha256",
            Self::HmacSha384 => "hmac-sha384",
            Self::HmacSha512 => "hmac-sha512",
        }
    }
}

impl FromStr for TsigAlgorithmName {
    type Err = ddns_core::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().trim_end_matches('.').to_ascii_lowercase().as_str() {
            "hmac-sha256" => Ok(Self::HmacSha256),
            "hmac-sha384" => Ok(Self::HmacSha384),
            "hmac-sha512" => Ok(Self::HmacSha512),
            other => Err(ddns_core::Error::invalid_input(format!(
                "the TSIG algorithm {other:?} is not supported; use hmac-sha256, hmac-sha384 or hmac-sha512"
            ))),
        }
    }
}

/// A TSIG key: name, algorithm and secret. `Debug` never shows the secret.
#[derive(Clone)]
pub struct TsigKey {
    name: Name,
    algorithm: TsigAlgorithmName,
    secret: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &self.name.to_string())
            .field("algorithm", &self.algorithm)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

impl TsigKey {
    /// A key named `name` with `algorithm` and the base64 `secret`.
    ///
    /// ```
    /// use ddns_rfc2136::{TsigAlgorithmName, TsigKey};
    /// let key = TsigKey::new("ddns-key", TsigAlgorithmName::HmacSha256, "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0")?;
    /// assert_eq!(key.name(), "ddns-key.");
    /// # Ok::<(), ddns_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] for a bad name or a secret that is
    /// not base64 (or is empty).
    pub fn new(
        name: &str,
        algorithm: TsigAlgorithmName,
        secret_base64: &str,
    ) -> ddns_core::Result<Self> {
        let name = Name::from_ascii(name.trim()).map_err(|e| {
            ddns_core::Error::invalid_input(format!(
                "the TSIG key name {name:?} is not a DNS name: {e}"
            ))
        })?;
        let secret = Zeroizing::new(STANDARD.decode(secret_base64.trim()).map_err(|_| {
            ddns_core::Error::invalid_input(format!(
                "the secret of TSIG key {name} is not valid base64 (copy it from the key file as it is)"
            ))
        })?);
        if secret.is_empty() {
            return Err(ddns_core::Error::invalid_input(format!(
                "the secret of TSIG key {name} is empty"
            )));
        }
        let mut name = name;
        name.set_fqdn(true);
        Ok(Self {
            name,
            algorithm,
            secret,
        })
    }

    /// Parses the first `key` statement of a BIND-style key file.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] saying what is missing or wrong.
    pub fn parse_bind(text: &str) -> ddns_core::Result<Self> {
        let bad = |what: &str| {
            ddns_core::Error::invalid_input(format!(
                "not a BIND key file ({what}); expected: key \"name\" {{ algorithm hmac-sha256; secret \"...\"; }};"
            ))
        };
        let cleaned = without_comments(text);
        let rest = cleaned
            .trim_start()
            .strip_prefix("key")
            .ok_or_else(|| bad("no key statement"))?;
        let (name_part, body) = rest.split_once('{').ok_or_else(|| bad("no '{'"))?;
        let name = name_part.trim().trim_matches('"');
        let body = body.split('}').next().ok_or_else(|| bad("no '}'"))?;
        let mut algorithm = None;
        let mut secret = None;
        for statement in body.split(';') {
            let statement = statement.trim();
            if let Some(v) = statement.strip_prefix("algorithm") {
                algorithm = Some(v.trim().trim_matches('"').parse::<TsigAlgorithmName>()?);
            } else if let Some(v) = statement.strip_prefix("secret") {
                secret = Some(v.trim().trim_matches('"').to_owned());
            }
        }
        let algorithm = algorithm.ok_or_else(|| bad("no algorithm"))?;
        let secret = Zeroizing::new(secret.ok_or_else(|| bad("no secret"))?);
        Self::new(name, algorithm, &secret)
    }

    /// Reads a BIND-style key file.
    ///
    /// # Errors
    ///
    /// When the file cannot be read or parsed; the message names the file.
    pub fn from_bind_file(path: &Path) -> ddns_core::Result<Self> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            ddns_core::Error::invalid_input(format!(
                "cannot read the TSIG key file {}: {e}",
                path.display()
            ))
        })?);
        Self::parse_bind(&text).map_err(|e| match e {
            ddns_core::Error::InvalidInput { message } => {
                ddns_core::Error::invalid_input(format!("{}: {message}", path.display()))
            }
            other => other,
        })
    }

    /// The key's name (fully qualified).
    pub fn name(&self) -> String {
        self.name.to_string()
    }

    /// The algorithm.
    pub fn algorithm(&self) -> TsigAlgorithmName {
        self.algorithm
    }

    /// The secret's bytes, for a server that verifies messages signed with
    /// the key (the embedded DNS's operator keys). Never for logs.
    pub fn expose_secret(&self) -> &[u8] {
        &self.secret
    }

    pub(crate) fn signer(&self) -> ddns_core::Result<TSigner> {
        TSigner::new(
            self.secret.to_vec(),
            self.algorithm.hickory(),
            self.name.clone(),
            FUDGE,
        )
        .map_err(|e| {
            ddns_core::Error::invalid_input(format!("cannot sign with TSIG key {}: {e}", self.name))
        })
    }
}

/// `text` without its comments (`#` and `//` to the end of the line,
/// `/* ... */`), leaving quoted strings alone: a base64 secret may hold
/// `//`.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                out.push(c);
            }
            '#' if !quoted => skip_line(&mut chars),
            '/' if !quoted && chars.peek() == Some(&'/') => skip_line(&mut chars),
            '/' if !quoted && chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = '\0';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    out
}

fn skip_line(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if c == '\n' {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tsig_keygen_output() {
        let text = "key \"ddns-key\" {\n\talgorithm hmac-sha512;\n\tsecret \"c2VjcmV0\";\n};\n";
        let key = TsigKey::parse_bind(text).unwrap();
        assert_eq!(key.name(), "ddns-key.");
        assert_eq!(key.algorithm(), TsigAlgorithmName::HmacSha512);
        assert!(!format!("{key:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn bad_keys_say_what_is_wrong() {
        // A secret holding `//` is not a comment; real comments go.
        let text = "# made by tsig-keygen\nkey \"k\" { /* hmac */ algorithm hmac-sha256; // sha-2\n\
                    secret \"ab//ab//\"; };\n";
        let key = TsigKey::parse_bind(text).unwrap();
        assert_eq!(key.secret.as_slice(), STANDARD.decode("ab//ab//").unwrap());
        let e = TsigKey::parse_bind("key \"k\" { secret \"c2VjcmV0\"; };").unwrap_err();
        assert!(e.to_string().contains("no algorithm"), "{e}");
        let e = TsigKey::parse_bind("key \"k\" { algorithm hmac-md5; secret \"c2VjcmV0\"; };")
            .unwrap_err();
        assert!(e.to_string().contains("hmac-md5"), "{e}");
        let e = TsigKey::new("k", TsigAlgorithmName::HmacSha256, "not base64!").unwrap_err();
        assert!(e.to_string().contains("base64"), "{e}");
        let e = TsigKey::parse_bind("zone \"x\" {};").unwrap_err();
        assert!(e.to_string().contains("no key statement"), "{e}");
    }
}
