//! Admin tokens: who may use the REST API and the web page, and for what.
//!
//! A token is made by `ddns-server admin-token create NAME` and printed
//! once; the server keeps only its SHA-256 (the token is 256 random bits,
//! so a fast hash is enough: nobody can search that space), in a JSON file
//! beside the database (`[admin_http] tokens_file`, mode 0600). A token may
//! be read-only, limited to the names at or under one name (a zone or a
//! subdomain), and may expire. The running server reads the file again
//! whenever it changed, so a revoked token stops working at its next
//! request without a restart.
//!
//! A presented token is hashed and compared in constant time with every
//! stored hash.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use ddns_core::{Hostname, RecordName, SharedSecret};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The text every token starts with, so that one pasted in the wrong place
/// is recognisable (and findable by secret scanners).
pub const TOKEN_PREFIX: &str = "ddns_";

/// Hex digits of randomness in a token (256 bits).
const TOKEN_DIGITS: usize = 64;

/// What a token may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Reads only: lists and shows, no change.
    pub read_only: bool,
    /// Only the names at or under this one; `None`: every name served.
    pub under: Option<Hostname>,
}

impl Scope {
    /// Whether `name` lies in the scope's names.
    pub fn covers(&self, name: &RecordName) -> bool {
        let Some(under) = &self.under else {
            return true;
        };
        // The core's rule: names are canonical, compared label-wise.
        name.is_in_zone(under)
    }

    /// The scope in words, for listings and the page.
    pub fn describe(&self) -> String {
        let access = if self.read_only {
            "read-only"
        } else {
            "read-write"
        };
        match &self.under {
            Some(under) => format!("{access}, names under {}", under.without_trailing_dot()),
            None => format!("{access}, every name"),
        }
    }
}

/// One stored token: everything but the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// Its name, logged with every change made with it.
    pub name: String,
    /// The lower-case hex SHA-256 of the token.
    pub sha256: String,
    /// What it may do.
    pub scope: Scope,
    /// When it was made, in seconds since the Unix epoch.
    pub created: u64,
    /// When it stops working, in seconds since the Unix epoch; `None`:
    /// never.
    pub expires: Option<u64>,
}

impl StoredToken {
    /// Whether it has expired at `now` (seconds since the Unix epoch).
    pub fn expired_at(&self, now: u64) -> bool {
        self.expires.is_some_and(|at| at <= now)
    }
}

/// A token as the file spells it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    name: String,
    sha256: String,
    #[serde(default)]
    read_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    under: Option<String>,
    created: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires: Option<u64>,
}

impl TokenEntry {
    fn from_token(token: &StoredToken) -> Self {
        Self {
            name: token.name.clone(),
            sha256: token.sha256.clone(),
            read_only: token.scope.read_only,
            under: token.scope.under.as_ref().map(|h| h.to_string()),
            created: token.created,
            expires: token.expires,
        }
    }

    fn into_token(self) -> Result<StoredToken, String> {
        let under = match self.under {
            Some(text) => Some(
                Hostname::parse(&text)
                    .map_err(|e| format!("token {:?}: under {text:?}: {e}", self.name))?,
            ),
            None => None,
        };
        Ok(StoredToken {
            name: self.name,
            sha256: self.sha256,
            scope: Scope {
                read_only: self.read_only,
                under,
            },
            created: self.created,
            expires: self.expires,
        })
    }
}

/// Seconds since the Unix epoch now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The signed-in identity of a request: the token's name and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name.
    pub name: String,
    /// What it may do.
    pub scope: Scope,
    /// The token's SHA-256 (lower-case hex), what a web session keeps.
    pub digest: String,
}

/// Why a token file could not be used, or a token not made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Reading or writing the file failed.
    #[error("cannot use the admin token file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file holds something else than tokens.
    #[error("the admin token file {} is not valid: {message}; fix it or move it away and create the tokens again", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parser's description.
        message: String,
    },
    /// Bad input, with what is accepted.
    #[error("{0}")]
    Input(String),
}

/// Why a presented token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No token was sent.
    Missing,
    /// It matches no stored token.
    Unknown,
    /// It matched one that has expired.
    Expired,
}

/// The token file, read again whenever it changed on disk.
#[derive(Debug)]
pub struct TokenFile {
    path: PathBuf,
    /// The tokens last read, and the file's stamp then.
    cache: Mutex<Option<(Option<FileStamp>, Vec<StoredToken>)>>,
}

/// A file's modification time and length: when either moves, the file is
/// read again.
type FileStamp = (SystemTime, u64);

/// The file's contents.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Contents {
    tokens: Vec<TokenEntry>,
}

impl TokenFile {
    /// The token file at `path` (which need not exist yet: no tokens).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            cache: Mutex::new(None),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self) -> impl Fn(std::io::Error) -> TokenError + '_ {
        |source| TokenError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// The stored tokens, from the file.
    ///
    /// # Errors
    ///
    /// [`TokenError::Io`] or [`TokenError::Corrupt`].
    pub fn list(&self) -> Result<Vec<StoredToken>, TokenError> {
        let stamp = match std::fs::metadata(&self.path) {
            Ok(meta) => Some((meta.modified().map_err(self.io())?, meta.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(self.io()(e)),
        };
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((seen, tokens)) = &*cache
            && *seen == stamp
        {
            return Ok(tokens.clone());
        }
        let tokens = match stamp {
            None => Vec::new(),
            Some(_) => {
                let text = std::fs::read_to_string(&self.path).map_err(self.io())?;
                let corrupt = |message: String| TokenError::Corrupt {
                    path: self.path.clone(),
                    message,
                };
                serde_json::from_str::<Contents>(&text)
                    .map_err(|e| corrupt(e.to_string()))?
                    .tokens
                    .into_iter()
                    .map(TokenEntry::into_token)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(corrupt)?
            }
        };
        *cache = Some((stamp, tokens.clone()));
        Ok(tokens)
    }

    /// Makes a token named `name` with `scope`, valid for `valid_for` (or
    /// forever), and returns it: the only time it is seen.
    ///
    /// # Errors
    ///
    /// [`TokenError::Input`] for an empty or taken name; file errors.
    pub fn create(
        &self,
        name: &str,
        scope: Scope,
        valid_for: Option<Duration>,
    ) -> Result<SharedSecret, TokenError> {
        check_name(name)?;
        let mut tokens = self.list()?;
        if tokens.iter().any(|t| t.name == name) {
            return Err(TokenError::Input(format!(
                "a token named {name:?} exists already; revoke it first or choose another name"
            )));
        }
        let random = SharedSecret::generate(TOKEN_DIGITS).map_err(|e| TokenError::Io {
            path: self.path.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let token = SharedSecret::new(format!("{TOKEN_PREFIX}{}", random.expose_secret()));
        let created = unix_now();
        tokens.push(StoredToken {
            name: name.to_owned(),
            sha256: digest(token.expose_secret()),
            scope,
            created,
            expires: valid_for.map(|d| created.saturating_add(d.as_secs())),
        });
        self.write(tokens)?;
        Ok(token)
    }

    /// Revokes the token named `name`.
    ///
    /// # Errors
    ///
    /// [`TokenError::Input`] when there is none; file errors.
    pub fn revoke(&self, name: &str) -> Result<(), TokenError> {
        let mut tokens = self.list()?;
        let before = tokens.len();
        tokens.retain(|t| t.name != name);
        if tokens.len() == before {
            return Err(TokenError::Input(format!(
                "no token is named {name:?}; `ddns-server admin-token list` shows them"
            )));
        }
        self.write(tokens)
    }

    /// Writes `tokens` to a new file (mode 0600) that then replaces the
    /// old one, so a reader never sees half a file.
    fn write(&self, tokens: Vec<StoredToken>) -> Result<(), TokenError> {
        let contents = Contents {
            tokens: tokens.iter().map(TokenEntry::from_token).collect(),
        };
        let text = serde_json::to_string_pretty(&contents)
            .map_err(|e| self.io()(std::io::Error::other(e)))?;
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".new");
        let temporary = dir.join(name);
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&temporary).map_err(self.io())?;
            file.write_all(text.as_bytes()).map_err(self.io())?;
            file.sync_all().map_err(self.io())?;
        }
        std::fs::rename(&temporary, &self.path).map_err(self.io())
    }

    /// The caller a presented token identifies.
    ///
    /// # Errors
    ///
    /// The [`Refusal`]; a file that cannot be read refuses every token
    /// (and is logged by the caller).
    pub fn verify(&self, presented: Option<&str>) -> Result<Result<Caller, Refusal>, TokenError> {
        let Some(presented) = presented.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(Err(Refusal::Missing));
        };
        self.by_digest(&digest(presented))
    }

    /// The caller whose token has the SHA-256 `wanted` (lower-case hex),
    /// as [`TokenFile::verify`] finds it: a session keeps only the digest,
    /// so a token revoked or expired since sign-in stops its sessions too.
    ///
    /// # Errors
    ///
    /// As [`TokenFile::verify`].
    pub fn by_digest(&self, wanted: &str) -> Result<Result<Caller, Refusal>, TokenError> {
        let mut found = None;
        // Every stored hash is compared, so the time taken does not say
        // which (or whether one) matched.
        for token in self.list()? {
            if bool::from(token.sha256.as_bytes().ct_eq(wanted.as_bytes())) {
                found = Some(token);
            }
        }
        Ok(match found {
            None => Err(Refusal::Unknown),
            Some(token) if token.expired_at(unix_now()) => Err(Refusal::Expired),
            Some(token) => Ok(Caller {
                name: token.name,
                scope: token.scope,
                digest: token.sha256,
            }),
        })
    }
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn check_name(name: &str) -> Result<(), TokenError> {
    let fine = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if fine {
        Ok(())
    } else {
        Err(TokenError::Input(format!(
            "{name:?} is not a usable token name: use 1 to 64 letters, digits, '-', '_', '.' or '@'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Scope {
        /// Every name, reads and changes.
        fn full() -> Self {
            Self {
                read_only: false,
                under: None,
            }
        }
    }

    fn file() -> (tempfile::TempDir, TokenFile) {
        let dir = tempfile::tempdir().unwrap();
        let file = TokenFile::new(dir.path().join("tokens.json"));
        (dir, file)
    }

    #[test]
    fn a_token_is_shown_once_and_stored_only_as_its_hash() {
        let (_dir, file) = file();
        let token = file.create("alice", Scope::full(), None).unwrap();
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert!(!text.contains(token.expose_secret()));
        assert!(token.expose_secret().starts_with(TOKEN_PREFIX));
        let caller = file.verify(Some(token.expose_secret())).unwrap().unwrap();
        assert_eq!(caller.name, "alice");
        assert_eq!(
            file.verify(Some("ddns_0000")).unwrap(),
            Err(Refusal::Unknown)
        );
        assert_eq!(file.verify(None).unwrap(), Err(Refusal::Missing));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_revoked_token_stops_working_and_names_are_unique() {
        let (_dir, file) = file();
        let token = file.create("alice", Scope::full(), None).unwrap();
        assert!(file.create("alice", Scope::full(), None).is_err());
        assert!(file.create("with space", Scope::full(), None).is_err());
        file.revoke("alice").unwrap();
        assert_eq!(
            file.verify(Some(token.expose_secret())).unwrap(),
            Err(Refusal::Unknown)
        );
        assert!(file.revoke("alice").is_err());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let (_dir, file) = file();
        let token = file
            .create("brief", Scope::full(), Some(Duration::ZERO))
            .unwrap();
        assert_eq!(
            file.verify(Some(token.expose_secret())).unwrap(),
            Err(Refusal::Expired)
        );
    }

    #[test]
    fn a_scope_covers_its_name_and_the_names_under_it_only() {
        let scope = Scope {
            read_only: false,
            under: Some(Hostname::parse("lan.example.com").unwrap()),
        };
        let name = |n| RecordName::parse(n).unwrap();
        assert!(scope.covers(&name("lan.example.com")));
        assert!(scope.covers(&name("nas.LAN.example.com")));
        assert!(!scope.covers(&name("evillan.example.com")));
        assert!(!scope.covers(&name("example.com")));
        assert!(Scope::full().covers(&name("example.com")));
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it() {
        let (_dir, file) = file();
        std::fs::write(file.path(), "not json").unwrap();
        let e = file.list().unwrap_err().to_string();
        assert!(e.contains("tokens.json"), "{e}");
    }
}
