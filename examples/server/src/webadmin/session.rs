//! The page's sessions and CSRF tokens.
//!
//! Signing in with an admin token starts a session: a random 256-bit id in
//! an `HttpOnly`, `SameSite=Strict` cookie (`Secure` over TLS), kept in
//! memory with the token's SHA-256 only, so the token is checked again on
//! every request (a revoked or expired token ends its sessions) and a
//! restart signs everybody out. Every form carries a CSRF token, the
//! HMAC-SHA256 under a per-process key of the session id (or, before
//! sign-in, of a random pre-session cookie), compared in constant time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How long a session lasts from sign-in.
pub(crate) const LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// Sessions kept at most; the oldest goes first when full.
const MAX_SESSIONS: usize = 10_000;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "ddns_session";

/// The pre-session cookie's name (binds the sign-in form's CSRF token).
pub(crate) const PRE_SESSION_COOKIE: &str = "ddns_pre";

/// One signed-in browser.
#[derive(Debug)]
struct Session {
    digest: String,
    started: Instant,
}

/// The sessions and the CSRF key.
#[derive(Debug)]
pub(crate) struct Sessions {
    key: [u8; 32],
    live: Mutex<HashMap<String, Session>>,
}

/// `bytes` random bytes as lower-case hex (the core's secret generator).
pub(crate) fn random_hex(bytes: usize) -> Result<String, ddns_core::Error> {
    ddns_core::SharedSecret::generate(bytes * 2).map(|s| s.expose_secret().to_owned())
}

impl Sessions {
    /// No sessions, and a fresh CSRF key.
    ///
    /// # Errors
    ///
    /// When the system's random source fails.
    pub(crate) fn new() -> Result<Self, ddns_core::Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| {
            ddns_core::Error::unavailable(format!("the system's random source failed: {e}"), false)
        })?;
        Ok(Self {
            key,
            live: Mutex::new(HashMap::new()),
        })
    }

    /// Starts a session for the token with SHA-256 `digest`; its id.
    ///
    /// # Errors
    ///
    /// When the system's random source fails.
    pub(crate) fn start(&self, digest: String) -> Result<String, ddns_core::Error> {
        let id = random_hex(32)?;
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.retain(|_, s| s.started.elapsed() < LIFETIME);
        if live.len() >= MAX_SESSIONS
            && let Some(oldest) = live
                .iter()
                .min_by_key(|(_, s)| s.started)
                .map(|(id, _)| id.clone())
        {
            live.remove(&oldest);
        }
        live.insert(
            id.clone(),
            Session {
                digest,
                started: Instant::now(),
            },
        );
        Ok(id)
    }

    /// The token digest of the live session `id`.
    pub(crate) fn digest(&self, id: &str) -> Option<String> {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        match live.get(id) {
            Some(s) if s.started.elapsed() < LIFETIME => Some(s.digest.clone()),
            Some(_) => {
                live.remove(id);
                None
            }
            None => None,
        }
    }

    /// Ends the session `id`.
    pub(crate) fn end(&self, id: &str) {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    fn mac(&self, binding: &str) -> [u8; 32] {
        // HMAC takes keys of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(b"ddns admin page csrf\0");
        mac.update(binding.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The CSRF token of forms shown to the session (or pre-session)
    /// `binding`.
    pub(crate) fn csrf(&self, binding: &str) -> String {
        hex::encode(self.mac(binding))
    }

    /// Whether `presented` is the CSRF token of `binding`.
    pub(crate) fn csrf_matches(&self, binding: &str, presented: &str) -> bool {
        let Ok(presented) = hex::decode(presented) else {
            return false;
        };
        bool::from(presented.as_slice().ct_eq(&self.mac(binding)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_hold_the_digest_and_csrf_tokens_bind_to_them() {
        let sessions = Sessions::new().unwrap();
        let id = sessions.start("abc".into()).unwrap();
        assert_eq!(id.len(), 64);
        assert_eq!(sessions.digest(&id).as_deref(), Some("abc"));
        let token = sessions.csrf(&id);
        assert!(sessions.csrf_matches(&id, &token));
        assert!(!sessions.csrf_matches("another", &token));
        assert!(!sessions.csrf_matches(&id, "zz"));
        assert!(
            !Sessions::new().unwrap().csrf_matches(&id, &token),
            "the key is per process"
        );
        sessions.end(&id);
        assert_eq!(sessions.digest(&id), None);
    }
}
