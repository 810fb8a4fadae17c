//! `--cache MINUTES`: skip the update when the address was sent less than
//! that long ago. The cache is one small file per host name.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The cache of one host name.
#[derive(Debug, Clone)]
pub struct Cache {
    path: PathBuf,
}

impl Cache {
    /// The cache file of `hostname` in `dir`.
    pub fn new(dir: &Path, hostname: &str) -> Self {
        let safe: String = hostname
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Self {
            path: dir.join(format!("{safe}.last")),
        }
    }

    /// The default directory: `$XDG_CACHE_HOME/ddns-client`, else
    /// `$HOME/.cache/ddns-client`, else the temporary directory.
    pub fn default_dir() -> PathBuf {
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir)
            .join("ddns-client")
    }

    /// True when `ip` was recorded less than `max_age` ago.
    pub fn is_fresh(&self, ip: IpAddr, max_age: Duration) -> bool {
        let Ok(text) = std::fs::read_to_string(&self.path) else {
            return false;
        };
        let mut parts = text.split_whitespace();
        let (Some(cached), Some(at)) = (parts.next(), parts.next()) else {
            return false;
        };
        let (Ok(cached), Ok(at)) = (cached.parse::<IpAddr>(), at.parse::<u64>()) else {
            return false;
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        cached == ip && now.saturating_sub(at) < max_age.as_secs()
    }

    /// Records that `ip` was sent now. Failing to write only costs an
    /// update next time, so errors are returned for a warning.
    ///
    /// # Errors
    ///
    /// When the file cannot be written.
    pub fn record(&self, ip: IpAddr) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        std::fs::write(&self.path, format!("{ip} {now}\n"))
    }
}
