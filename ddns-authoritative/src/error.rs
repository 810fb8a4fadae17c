//! What the embedded DNS server can fail at, mapped into ddns-core's error.

use std::net::SocketAddr;

/// Failures of the embedded DNS server; private to the crate, surfaced as
/// [`ddns_core::Error`] with this as the source.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthoritativeError {
    #[error("{name} cannot be used as a DNS name: {detail}")]
    Name { name: String, detail: String },

    #[error(
        "cannot listen for DNS on {addr} ({protocol}): {source}; choose a free address and port, or run with the rights to bind it"
    )]
    Bind {
        addr: SocketAddr,
        protocol: &'static str,
        #[source]
        source: std::io::Error,
    },

    #[error("{name} is not in the zone {zone}")]
    OutsideZone { name: String, zone: String },

    #[error(
        "the embedded DNS cannot apply this kind of change to {name}; upgrade ddns-authoritative"
    )]
    UnsupportedChange { name: String },

    #[error("DNSSEC: {0}")]
    Key(String),

    #[error("the zone's serial file {}: {detail}", path.display())]
    SerialFile {
        path: std::path::PathBuf,
        detail: String,
    },
}

impl From<AuthoritativeError> for ddns_core::Error {
    fn from(e: AuthoritativeError) -> Self {
        let message = e.to_string();
        match &e {
            AuthoritativeError::Name { .. }
            | AuthoritativeError::OutsideZone { .. }
            | AuthoritativeError::UnsupportedChange { .. }
            | AuthoritativeError::Key(_) => Self::invalid_input(message),
            AuthoritativeError::Bind { .. } | AuthoritativeError::SerialFile { .. } => {
                Self::unavailable(message, false).with_source(e)
            }
        }
    }
}
