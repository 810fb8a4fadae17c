//! Points in time as the record table writes them, and the clock that makes them.
//!
//! The original system stored `str(datetime.now())` from a Lambda running in
//! UTC: `YYYY-MM-DD HH:MM:SS.ffffff` (Python drops the fraction when it is
//! zero). [`Timestamp`] writes that form with microseconds always present and
//! reads both. A [`Clock`] supplies the current time to the use cases, so
//! tests can move time by hand with [`ManualClock`].

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// A UTC instant with microsecond precision.
///
/// ```
/// use ddns_core::Timestamp;
///
/// let t: Timestamp = "2018-07-26 17:04:05.123456".parse()?;
/// assert_eq!(t.to_string(), "2018-07-26 17:04:05.123456");
/// let whole: Timestamp = "2018-07-26 17:04:05".parse()?;
/// assert_eq!(whole.to_string(), "2018-07-26 17:04:05.000000");
/// # Ok::<(), ddns_core::TimestampError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    micros: i64,
}

/// A string that is not a timestamp of the record table's form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a time of the form YYYY-MM-DD HH:MM:SS[.ffffff]")]
pub struct TimestampError {
    input: String,
}

impl Timestamp {
    /// The Unix epoch.
    pub const UNIX_EPOCH: Self = Self { micros: 0 };

    /// The instant `micros` microseconds after the Unix epoch.
    pub const fn from_unix_micros(micros: i64) -> Self {
        Self { micros }
    }

    /// Microseconds since the Unix epoch.
    pub const fn unix_micros(self) -> i64 {
        self.micros
    }

    /// The current time from the system clock.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// The instant `d` later (saturating).
    #[must_use]
    pub fn saturating_add(self, d: Duration) -> Self {
        let add = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        Self {
            micros: self.micros.saturating_add(add),
        }
    }

    /// How long after `earlier` this is; `None` when it is not later.
    pub fn duration_since(self, earlier: Self) -> Option<Duration> {
        let diff = self.micros.checked_sub(earlier.micros)?;
        u64::try_from(diff).ok().map(Duration::from_micros)
    }

    fn to_datetime(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.micros) * 1_000).ok()
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        let micros = match t.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_micros())
                .map(|m| -m)
                .unwrap_or(i64::MIN),
        };
        Self { micros }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]"
        );
        match self.to_datetime().and_then(|dt| dt.format(&format).ok()) {
            Some(text) => f.write_str(&text),
            // Out of the calendar's range: say so rather than panic.
            None => write!(f, "@{}us", self.micros),
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let with_fraction =
            format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]");
        let whole = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        let parsed = PrimitiveDateTime::parse(s, &with_fraction)
            .or_else(|_| PrimitiveDateTime::parse(s, &whole))
            .map_err(|_| TimestampError {
                input: s.chars().take(40).collect(),
            })?;
        let nanos = parsed.assume_utc().unix_timestamp_nanos();
        let micros = i64::try_from(nanos / 1_000).map_err(|_| TimestampError {
            input: s.chars().take(40).collect(),
        })?;
        Ok(Self { micros })
    }
}

/// Where the use cases get the current time from.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to, for tests and simulations.
///
/// ```
/// use std::time::Duration;
/// use ddns_core::{Clock, ManualClock, Timestamp};
///
/// let clock = ManualClock::new(Timestamp::UNIX_EPOCH);
/// clock.advance(Duration::from_secs(90));
/// assert_eq!(clock.now().to_string(), "1970-01-01 00:01:30.000000");
/// ```
#[derive(Debug, Default)]
pub struct ManualClock {
    micros: AtomicI64,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            micros: AtomicI64::new(start.micros),
        }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let add = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        self.micros.fetch_add(add, Ordering::SeqCst);
    }

    /// Sets the clock to `t`.
    pub fn set(&self, t: Timestamp) {
        self.micros.store(t.micros, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_micros(self.micros.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_python_str_datetime() {
        let t = Timestamp::from_unix_micros(1_532_624_645_000_042);
        assert_eq!(t.to_string(), "2018-07-26 17:04:05.000042");
        assert_eq!(
            "2018-07-26 17:04:05.000042".parse::<Timestamp>().unwrap(),
            t
        );
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in [
            "",
            "2018-07-26",
            "2018-07-26T17:04:05",
            "yesterday",
            "2018-13-01 00:00:00",
        ] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad}");
        }
    }

    #[test]
    fn arithmetic_saturates_and_orders() {
        let a = Timestamp::from_unix_micros(10);
        let b = a.saturating_add(Duration::from_micros(5));
        assert_eq!(b.duration_since(a), Some(Duration::from_micros(5)));
        assert_eq!(a.duration_since(b), None);
        assert_eq!(
            Timestamp::from_unix_micros(i64::MAX).saturating_add(Duration::from_secs(1)),
            Timestamp::from_unix_micros(i64::MAX)
        );
        assert!(
            Timestamp::from_unix_micros(i64::MAX)
                .to_string()
                .starts_with('@')
        );
    }

    #[test]
    fn system_time_converts() {
        let t = Timestamp::from(UNIX_EPOCH + Duration::from_secs(1));
        assert_eq!(t.unix_micros(), 1_000_000);
        let before = Timestamp::from(UNIX_EPOCH - Duration::from_secs(1));
        assert_eq!(before.unix_micros(), -1_000_000);
    }
}
