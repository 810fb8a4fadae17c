//! Failed admin tokens, counted per source: past
//! `[admin_http] failed_tokens_per_minute` in a minute, the source is
//! refused (429) until that minute is over, whatever token it sends, so
//! guessing is bounded without locking out any other source.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window failures are counted in.
pub(crate) const WINDOW: Duration = Duration::from_secs(60);

/// Sources tracked at most; past it the windows that ended are forgotten,
/// and while every window is still running new sources go uncounted (and
/// a warning is logged).
const MAX_SOURCES: usize = 10_000;

/// Failures per source in the current window.
#[derive(Debug)]
pub(crate) struct FailedTokens {
    per_window: u32,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailedTokens {
    /// At most `per_window` failures a minute per source.
    pub(crate) fn new(per_window: u32) -> Self {
        Self {
            per_window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `source` may present a token now.
    pub(crate) fn admits(&self, source: IpAddr) -> bool {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match seen.get(&source.to_canonical()) {
            Some((since, count)) => since.elapsed() >= WINDOW || *count < self.per_window,
            None => true,
        }
    }

    /// Counts a failed token from `source`.
    pub(crate) fn failed(&self, source: IpAddr) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let source = source.to_canonical();
        if !seen.contains_key(&source) && seen.len() >= MAX_SOURCES {
            seen.retain(|_, (since, _)| since.elapsed() < WINDOW);
            if seen.len() >= MAX_SOURCES {
                tracing::warn!(%source, "admin: too many sources with failed tokens to count this one");
                return;
            }
        }
        let entry = seen.entry(source).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_refused_after_its_failures_and_others_are_not() {
        let guard = FailedTokens::new(3);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        for _ in 0..3 {
            assert!(guard.admits(a));
            guard.failed(a);
        }
        assert!(!guard.admits(a));
        assert!(guard.admits(b));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert!(
            !guard.admits(mapped),
            "an IPv4-mapped address is the same source"
        );
    }
}
