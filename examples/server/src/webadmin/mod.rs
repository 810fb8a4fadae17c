//! The admin listener's own pages and API: the REST API under `/api/v1/`
//! ([`api`]) and the web page everywhere else ([`page`]), both over the
//! same scope-checked operations ([`desk`]) and the same admin tokens
//! ([`crate::tokens`]).
//!
//! Requests reach this module only on `[admin_http]` listeners; `/healthz`
//! and `/metrics` are answered before it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ddns_core::Hostname;
use ddns_core::admin::RecordAdmin;
use hyper::body::Incoming;
use hyper::{Method, Request};

use crate::http::{BodyError, Reply, read_body};
use crate::tokens::TokenFile;

mod api;
mod client_settings;
mod desk;
mod guard;
mod page;
mod problem;
mod session;

pub use api::{ROUTES, openapi_json};

use desk::Desk;
use guard::FailedTokens;
use session::Sessions;

/// The largest request body the admin listener reads (JSON or a form).
pub(crate) const MAX_ADMIN_BODY_BYTES: usize = 64 * 1024;

/// What the page needs to write a host's client settings.
#[derive(Debug, Clone)]
pub(crate) struct ClientTargets {
    /// The API's base URL as clients reach it, without a trailing `/`.
    pub(crate) public_url: String,
    /// The embedded DNS as ACME clients reach it, when it serves a zone.
    pub(crate) dns: Option<SocketAddr>,
    /// The zones served.
    pub(crate) zones: ddns_core::Zones,
    /// The zones the embedded DNS serves (its RFC 2136 settings apply).
    pub(crate) embedded: Vec<Hostname>,
}

/// The admin listener's state beyond `/healthz` and `/metrics`.
#[derive(Debug)]
pub(crate) struct WebAdmin {
    desk: Desk,
    tokens: TokenFile,
    guard: FailedTokens,
    sessions: Sessions,
    secure_cookies: bool,
    targets: ClientTargets,
    request_timeout: Duration,
}

impl WebAdmin {
    /// The API and page over `admin`, for the tokens in `tokens`.
    ///
    /// # Errors
    ///
    /// When no random key for the page's CSRF tokens can be made.
    pub(crate) fn new(
        admin: RecordAdmin,
        tokens: TokenFile,
        failed_tokens_per_minute: u32,
        secure_cookies: bool,
        targets: ClientTargets,
        request_timeout: Duration,
    ) -> Result<Self, ddns_core::Error> {
        Ok(Self {
            desk: Desk::new(admin),
            tokens,
            guard: FailedTokens::new(failed_tokens_per_minute),
            sessions: Sessions::new()?,
            secure_cookies,
            targets,
            request_timeout,
        })
    }

    /// Answers one request from `source` (the peer, or the address a
    /// trusted proxy forwarded).
    pub(crate) async fn handle(self: &Arc<Self>, source: IpAddr, req: Request<Incoming>) -> Reply {
        let (parts, body) = req.into_parts();
        let api = parts.uri.path().starts_with("/api/");
        let body = if matches!(parts.method, Method::POST | Method::PUT | Method::PATCH) {
            match read_body(body, MAX_ADMIN_BODY_BYTES, self.request_timeout).await {
                Ok(body) => body,
                Err(e) if api => return problem::Problem::from(e).into_reply(),
                Err(e) => return page::body_refused(&e),
            }
        } else {
            Bytes::new()
        };
        if api {
            api::handle(self, source, &parts, &body).await
        } else {
            page::handle(self, source, &parts, &body).await
        }
    }
}

impl From<BodyError> for problem::Problem {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge { max } => problem::Problem::new(
                hyper::StatusCode::PAYLOAD_TOO_LARGE,
                "Body too large",
                format!("the request body must be at most {max} bytes"),
            ),
            BodyError::Slow => problem::Problem::new(
                hyper::StatusCode::REQUEST_TIMEOUT,
                "Body too slow",
                "the request body did not arrive in time; send it again".to_owned(),
            ),
        }
    }
}
