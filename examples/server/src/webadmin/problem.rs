//! Errors of the REST API as `application/problem+json` (RFC 9457): a
//! status, a short title, and a detail that says what to do.

use hyper::StatusCode;
use hyper::header::{HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use serde::Serialize;
use utoipa::ToSchema;

use super::desk::DeskError;
use crate::http::{Reply, reply};

/// The JSON body of an error (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProblemBody {
    /// Always `about:blank`: the status and title say what happened.
    #[serde(rename = "type")]
    kind: &'static str,
    /// A short summary of the kind of error.
    title: &'static str,
    /// The HTTP status.
    status: u16,
    /// What went wrong with this request, and what to do.
    detail: String,
}

/// An error answer.
#[derive(Debug)]
pub(crate) struct Problem {
    status: StatusCode,
    title: &'static str,
    detail: String,
    headers: Vec<(hyper::header::HeaderName, String)>,
}

impl Problem {
    /// A problem with `status`, `title` and `detail`.
    pub(crate) fn new(status: StatusCode, title: &'static str, detail: String) -> Self {
        Self {
            status,
            title,
            detail,
            headers: Vec::new(),
        }
    }

    /// 400: the request cannot be understood.
    pub(crate) fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", detail.into())
    }

    /// 401, with the `WWW-Authenticate` challenge.
    pub(crate) fn unauthorized(detail: impl Into<String>) -> Self {
        let mut problem = Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", detail.into());
        problem
            .headers
            .push((WWW_AUTHENTICATE, "Bearer realm=\"ddns admin\"".to_owned()));
        problem
    }

    /// 429 for a source that sent too many bad tokens.
    pub(crate) fn too_many_failures() -> Self {
        let mut problem = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed tokens",
            "this address sent too many unknown or expired tokens; wait a minute and check the token".into(),
        );
        problem
            .headers
            .push((RETRY_AFTER, super::guard::WINDOW.as_secs().to_string()));
        problem
    }

    /// 405 with the methods the path takes.
    pub(crate) fn method_not_allowed(allowed: &[&str]) -> Self {
        let mut problem = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            format!("this path takes {}", allowed.join(", ")),
        );
        problem
            .headers
            .push((hyper::header::ALLOW, allowed.join(", ")));
        problem
    }

    /// Its status.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// What went wrong, and what to do.
    pub(crate) fn detail(&self) -> &str {
        &self.detail
    }

    /// The HTTP answer.
    pub(crate) fn into_reply(self) -> Reply {
        let body = ProblemBody {
            kind: "about:blank",
            title: self.title,
            status: self.status.as_u16(),
            detail: self.detail,
        };
        let text = serde_json::to_string(&body).unwrap_or_else(|_| "{}".to_owned());
        let mut response = reply(self.status, "application/problem+json", text);
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

impl From<DeskError> for Problem {
    fn from(e: DeskError) -> Self {
        use ddns_core::admin::AdminError;
        let detail = e.to_string();
        match e {
            DeskError::Forbidden(_) => Self::new(StatusCode::FORBIDDEN, "Forbidden", detail),
            DeskError::Input(_) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid value", detail)
            }
            DeskError::Admin(admin) => match admin {
                AdminError::Invalid(_) | AdminError::WeakSecret { .. } => {
                    Self::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid value", detail)
                }
                AdminError::Missing { .. } => {
                    Self::new(StatusCode::NOT_FOUND, "No such record", detail)
                }
                AdminError::Exists { .. } => {
                    Self::new(StatusCode::CONFLICT, "Record exists", detail)
                }
                AdminError::DnsPublish { .. } | AdminError::DnsDelete { .. } => {
                    Self::new(StatusCode::BAD_GATEWAY, "DNS backend failed", detail)
                }
                AdminError::Store(_) => Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Record store failed",
                    detail,
                ),
                _ => Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Partly done", detail),
            },
        }
    }
}
