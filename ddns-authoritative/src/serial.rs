//! Keeping a zone's SOA serial from going back across restarts.
//!
//! The serial starts at the Unix time the zone is loaded and grows by one
//! per batch of changes, so a busy zone runs ahead of the clock and a
//! restart alone could lower it, which makes secondaries ignore the
//! primary until it catches up. A [`SerialFile`] holds a *reservation*:
//! a serial the zone has not passed yet. A zone opened with one starts
//! above the reservation (or at the clock, when that is higher) and writes
//! a new reservation [`RESERVED_AHEAD`] batches ahead, and again each time
//! the serial reaches it. So the file is written once per that many
//! batches, and a crash at any moment still starts above every serial
//! served before it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::AuthoritativeError;

/// How many batches a reservation covers before it is written again.
pub const RESERVED_AHEAD: u32 = 1000;

/// The file that holds a zone's serial reservation: one decimal number.
///
/// ```
/// use ddns_authoritative::{SerialFile, ZoneConfig, ZoneData};
/// use ddns_core::Hostname;
/// let dir = tempfile::tempdir()?;
/// let file = SerialFile::new(dir.path().join("example.com.serial"));
/// let config = ZoneConfig::new(Hostname::parse("example.com")?);
/// let first = ZoneData::with_serial_file(config.clone(), file.clone())?.serial();
/// let again = ZoneData::with_serial_file(config, file)?.serial();
/// assert!(again > first, "a restart never lowers the serial");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialFile {
    path: PathBuf,
}

impl SerialFile {
    /// The reservation kept at `path` (created at the first start).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The reservation written last; `None` when there is no file yet.
    pub(crate) fn read(&self) -> Result<Option<u32>, AuthoritativeError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error(format!("cannot read it: {e}"))),
        };
        text.trim().parse().map(Some).map_err(|_| {
            self.error(format!(
                "it holds {:?}, not a serial; remove it only if no secondary follows the zone (the serial then restarts at the clock)",
                text.chars().take(40).collect::<String>()
            ))
        })
    }

    /// Writes `reserved` durably: a temporary file, synced, then renamed
    /// over the old one.
    pub(crate) fn write(&self, reserved: u32) -> Result<(), AuthoritativeError> {
        let mut temporary = self.path.clone().into_os_string();
        temporary.push(".new");
        let temporary = PathBuf::from(temporary);
        let written = (|| {
            let mut file = std::fs::File::create(&temporary)?;
            writeln!(file, "{reserved}")?;
            file.sync_all()?;
            std::fs::rename(&temporary, &self.path)?;
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok::<(), std::io::Error>(())
        })();
        written.map_err(|e| self.error(format!("cannot write it: {e}")))
    }

    fn error(&self, detail: String) -> AuthoritativeError {
        AuthoritativeError::SerialFile {
            path: self.path.clone(),
            detail,
        }
    }
}

/// The first serial of a zone whose last reservation was `reserved`, at a
/// clock of `now`: above both.
pub(crate) fn first_serial(reserved: Option<u32>, now: u32) -> u32 {
    match reserved {
        Some(reserved) => now.max(reserved.saturating_add(1)),
        None => now,
    }
    .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_serial_is_above_the_reservation_and_the_clock() {
        assert_eq!(first_serial(None, 1_764_000_000), 1_764_000_000);
        assert_eq!(
            first_serial(Some(1_764_000_500), 1_764_000_000),
            1_764_000_501
        );
        assert_eq!(first_serial(Some(5), 1_764_000_000), 1_764_000_000);
        assert_eq!(first_serial(Some(u32::MAX), 0), u32::MAX);
    }

    #[test]
    fn a_zone_past_its_reservation_writes_a_new_one_and_restarts_above_it() {
        use crate::{ZoneConfig, ZoneData};
        use ddns_core::{DnsChange, Hostname};
        let dir = tempfile::tempdir().unwrap();
        let file = SerialFile::new(dir.path().join("example.com.serial"));
        let config = ZoneConfig::new(Hostname::parse("example.com").unwrap());
        let zone = ZoneData::with_serial_file(config.clone(), file.clone()).unwrap();
        let first = zone.serial();
        assert_eq!(file.read().unwrap(), Some(first + RESERVED_AHEAD));
        let host = Hostname::parse("home.example.com").unwrap();
        // Far more batches than seconds pass: the serial runs ahead of the
        // clock and through two reservations.
        for i in 0..(2 * RESERVED_AHEAD + 5) {
            let address = std::net::Ipv4Addr::from(0xc633_6400 + (i % 200) + 1);
            let results = zone.apply(&[DnsChange::upsert(host.clone(), 60, address.into())]);
            assert!(results.iter().all(Result::is_ok));
        }
        let last = zone.serial();
        assert_eq!(last, first + 2 * RESERVED_AHEAD + 5);
        assert!(file.read().unwrap().unwrap() > last);
        drop(zone);
        let restarted = ZoneData::with_serial_file(config, file).unwrap();
        assert!(
            restarted.serial() > last,
            "{} after {last}",
            restarted.serial()
        );
    }

    #[test]
    fn a_reservation_round_trips_and_garbage_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = SerialFile::new(dir.path().join("z.serial"));
        assert_eq!(file.read().unwrap(), None);
        file.write(1_764_001_000).unwrap();
        assert_eq!(file.read().unwrap(), Some(1_764_001_000));
        std::fs::write(file.path(), "soon\n").unwrap();
        let error = file.read().unwrap_err().to_string();
        assert!(
            error.contains("z.serial") && error.contains("soon"),
            "{error}"
        );
    }
}
