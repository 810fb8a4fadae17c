//! Transport-free codecs of the wire protocols.
//!
//! A codec turns what a transport received (query parameters, a few
//! headers, the source address) into a use-case request, and an outcome
//! into the exact bytes and status to send back. The HTTP server and the
//! Lambda both call the same codecs, so they cannot drift apart.

pub mod acme;
pub mod dyndns2;
pub mod endpoint;
pub mod forwarded;
pub mod json;
pub mod seed;
pub mod upstream;

/// A response ready for any HTTP transport to send as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header's value.
    pub content_type: &'static str,
    /// Further headers to send, if any.
    pub headers: Vec<(&'static str, String)>,
    /// The body, byte for byte.
    pub body: String,
}

impl HttpResponse {
    /// A response with `status`, an `application/json` body and no other
    /// headers.
    pub fn json(status: u16, body: String) -> Self {
        Self {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body,
        }
    }

    /// A response with `status`, a `text/plain; charset=utf-8` body and no
    /// other headers.
    pub fn text(status: u16, body: String) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
            body,
        }
    }
}
