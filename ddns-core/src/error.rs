//! The one public error type of the core and of every adapter.
//!
//! Each adapter keeps its own private error enum for what its backend says and
//! maps it into [`Error`] at its boundary, choosing the semantic variant that
//! tells the caller what to do next (fix the input, fix the credentials, try
//! again later). Backend errors travel as the [`source`](std::error::Error::source)
//! so that logs can show the whole chain while responses show only the
//! variant's message.

use std::sync::Arc;

/// The source of an [`Error`]: any error from a backend or library.
///
/// It is reference-counted so that one failure can be handed to every caller
/// of a batch (see [`crate::coalesce`]) without losing the chain.
pub type ErrorSource = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// A specialised `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core or in an adapter.
///
/// Variants are semantic: they say what kind of failure happened, not which
/// library reported it. Match on them to decide what to do; print them (with
/// their sources) to tell an operator why.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The named thing (a record, a zone, a table) does not exist.
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for, in words an operator can act on.
        what: String,
    },

    /// The caller could not be authenticated (bad token, bad key, bad TSIG).
    #[error("authentication failed: {message}")]
    Unauthenticated {
        /// Why, without revealing any secret.
        message: String,
        /// The backend's own error, when there is one.
        #[source]
        source: Option<ErrorSource>,
    },

    /// The caller, or this system's own credentials, may not do this.
    #[error("permission denied: {message}")]
    PermissionDenied {
        /// What was refused and what to check.
        message: String,
        /// The backend's own error, when there is one.
        #[source]
        source: Option<ErrorSource>,
    },

    /// The operation clashes with existing state (already exists, changed
    /// concurrently, a condition failed).
    #[error("conflict: {message}")]
    Conflict {
        /// What clashed.
        message: String,
        /// The backend's own error, when there is one.
        #[source]
        source: Option<ErrorSource>,
    },

    /// The backend could not be reached or failed to answer.
    #[error("backend unavailable: {message}{}", if *retryable { " (retryable)" } else { "" })]
    Unavailable {
        /// What failed, and what to check.
        message: String,
        /// True when trying the same operation again later may succeed
        /// (timeouts, throttling, a busy database).
        retryable: bool,
        /// The backend's own error, when there is one.
        #[source]
        source: Option<ErrorSource>,
    },

    /// The input was rejected before anything was done.
    #[error("invalid input: {message}")]
    InvalidInput {
        /// What is wrong with the input and what is accepted.
        message: String,
    },
}

impl Error {
    /// A [`Error::NotFound`] for `what`.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }

    /// An [`Error::InvalidInput`] with `message`.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput {
            message: message.into(),
        }
    }

    /// An [`Error::Conflict`] with `message` and no source.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            source: None,
        }
    }

    /// An [`Error::Unavailable`] with `message`, marked retryable or not.
    pub fn unavailable(message: impl Into<String>, retryable: bool) -> Self {
        Self::Unavailable {
            message: message.into(),
            retryable,
            source: None,
        }
    }

    /// An [`Error::Unauthenticated`] with `message` and no source.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::Unauthenticated {
            message: message.into(),
            source: None,
        }
    }

    /// An [`Error::PermissionDenied`] with `message` and no source.
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::PermissionDenied {
            message: message.into(),
            source: None,
        }
    }

    /// Attaches `source` as the cause of this error (replacing any earlier
    /// one). Variants without a source slot are returned unchanged.
    #[must_use]
    pub fn with_source(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        let cause: ErrorSource = Arc::new(cause);
        match &mut self {
            Self::Unauthenticated { source, .. }
            | Self::PermissionDenied { source, .. }
            | Self::Conflict { source, .. }
            | Self::Unavailable { source, .. } => *source = Some(cause),
            Self::NotFound { .. } | Self::InvalidInput { .. } => {}
        }
        self
    }

    /// True when the same operation may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Unavailable {
                retryable: true,
                ..
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn retryable_only_for_retryable_unavailable() {
        assert!(Error::unavailable("timeout", true).is_retryable());
        assert!(!Error::unavailable("gone", false).is_retryable());
        assert!(!Error::conflict("exists").is_retryable());
    }

    #[test]
    fn source_is_kept_and_displayed_separately() {
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "socket timed out");
        let err =
            Error::unavailable("DNS server 127.0.0.1:53 did not answer", true).with_source(io);
        assert_eq!(
            err.to_string(),
            "backend unavailable: DNS server 127.0.0.1:53 did not answer (retryable)"
        );
        assert_eq!(
            err.source().map(ToString::to_string).as_deref(),
            Some("socket timed out")
        );
        // Clones share the source.
        let copy = err.clone();
        assert!(copy.source().is_some());
    }

    #[test]
    fn with_source_ignores_variants_without_a_slot() {
        let io = std::io::Error::other("x");
        let err = Error::invalid_input("bad").with_source(io);
        assert!(err.source().is_none());
    }
}
