//! The HTTP interfaces that ACME clients already speak for DNS-01, over
//! [`DdnsService::challenge`]:
//!
//! - lego's `httpreq`: `POST /present` and `POST /cleanup` with JSON
//!   `{"fqdn": "_acme-challenge.<host>.", "value": "…"}` and HTTP Basic
//!   credentials (user name: the host name; password: its record's secret).
//! - the acme-dns API: `POST /update` with `X-Api-User` (the host name),
//!   `X-Api-Key` (the record's secret) and JSON `{"subdomain": "<host>",
//!   "txt": "…"}`, keeping the last two values as acme-dns does;
//!   `GET /health`; `POST /register` answers that accounts are made by the
//!   operator.
//!
//! Every path may carry a prefix (`/acme/present`), for reverse proxies.
//! The answers are JSON; failures never carry backend detail.

use std::sync::Arc;

use serde::Deserialize;

use super::HttpResponse;
use super::dyndns2::BasicAuth;
use super::endpoint::EndpointRequest;
use super::json::push_str;
use crate::domain::challenge::{challenge_name, challenge_value};
use crate::domain::hostname::{Hostname, RecordName, SentName};
use crate::domain::secret::SharedSecret;
use crate::usecases::outcome::{ChallengeOutcome, Failure};
use crate::usecases::request::{ChallengeChange, ChallengeRequest, Credential};
use crate::usecases::service::DdnsService;

/// The largest request body read, in bytes: a challenge is well under 1 KiB.
pub const MAX_BODY_BYTES: usize = 4096;

/// How many values the acme-dns API keeps per name.
pub const ACME_DNS_KEEP: usize = 2;

/// Which ACME interface a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AcmeRoute {
    /// lego `httpreq`: `POST …/present`.
    Present,
    /// lego `httpreq`: `POST …/cleanup`.
    Cleanup,
    /// acme-dns: `POST …/update`.
    Update,
    /// acme-dns: `POST …/register`.
    Register,
    /// acme-dns: `GET …/health`.
    Health,
}

impl AcmeRoute {
    /// The route of a request, or `None` when it is not for an ACME
    /// interface (a `GET /update` is dyndns2's).
    ///
    /// ```
    /// use ddns_core::protocols::acme::AcmeRoute;
    /// assert_eq!(AcmeRoute::of("POST", "/present"), Some(AcmeRoute::Present));
    /// assert_eq!(AcmeRoute::of("POST", "/acme/cleanup/"), Some(AcmeRoute::Cleanup));
    /// assert_eq!(AcmeRoute::of("POST", "/update"), Some(AcmeRoute::Update));
    /// assert_eq!(AcmeRoute::of("GET", "/update"), None);
    /// assert_eq!(AcmeRoute::of("GET", "/health"), Some(AcmeRoute::Health));
    /// assert_eq!(AcmeRoute::of("POST", "/"), None);
    /// ```
    pub fn of(method: &str, path: &str) -> Option<Self> {
        let path = path.trim_end_matches('/');
        let last = path.rsplit('/').next().unwrap_or("");
        if method.eq_ignore_ascii_case("POST") {
            match last {
                "present" => Some(Self::Present),
                "cleanup" => Some(Self::Cleanup),
                "update" => Some(Self::Update),
                "register" => Some(Self::Register),
                _ => None,
            }
        } else if method.eq_ignore_ascii_case("GET") && last == "health" {
            Some(Self::Health)
        } else {
            None
        }
    }

    /// The interface's name, for logs and metrics.
    pub fn interface(self) -> &'static str {
        match self {
            Self::Present | Self::Cleanup => "httpreq",
            Self::Update | Self::Register | Self::Health => "acme-dns",
        }
    }

    /// The answer to a request refused for its rate.
    pub fn rate_limited(self) -> HttpResponse {
        error_response(429, "rate_limited", "too many requests; try again later")
    }
}

/// What [`AcmeApi::handle`] answered, with what the front end logs and
/// limits.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AcmeAnswer {
    /// The interface.
    pub route: AcmeRoute,
    /// The response to send.
    pub response: HttpResponse,
    /// The service's failure, if it decided against the request.
    pub failure: Option<Failure>,
    /// True when the request proved no credential (a missing, malformed
    /// or wrong one): what a rate limiter charges to the source.
    pub unproven: bool,
    /// True when the challenge values changed.
    pub changed: bool,
}

/// The ACME interfaces over one service.
#[derive(Debug, Clone)]
pub struct AcmeApi {
    service: Arc<DdnsService>,
}

/// lego `httpreq`'s body.
#[derive(Deserialize)]
struct HttpreqBody {
    fqdn: String,
    value: String,
}

/// acme-dns's update body.
#[derive(Deserialize)]
struct AcmeDnsBody {
    subdomain: String,
    txt: String,
}

/// A refusal decided before the service: its answer.
struct Refusal {
    response: HttpResponse,
    unproven: bool,
}

impl Refusal {
    fn unproven(response: HttpResponse) -> Self {
        Self {
            response,
            unproven: true,
        }
    }

    fn invalid(code: &str, detail: &str) -> Self {
        Self {
            response: error_response(400, code, detail),
            unproven: false,
        }
    }
}

impl AcmeApi {
    /// The interfaces over `service`.
    pub fn new(service: Arc<DdnsService>) -> Self {
        Self { service }
    }

    /// Answers one request for `route` (the headers it reads:
    /// `Authorization` for httpreq, `X-Api-User` and `X-Api-Key` for
    /// acme-dns; the body, at most [`MAX_BODY_BYTES`]).
    pub async fn handle(&self, route: AcmeRoute, request: &EndpointRequest<'_>) -> AcmeAnswer {
        let answer = |response, failure, unproven, changed| AcmeAnswer {
            route,
            response,
            failure,
            unproven,
            changed,
        };
        let decoded = match route {
            AcmeRoute::Health => {
                return answer(HttpResponse::text(200, String::new()), None, false, false);
            }
            AcmeRoute::Register => {
                return answer(
                    error_response(
                        403,
                        "registration_disabled",
                        "accounts are not registered here: the operator prints this host's \
                         settings with 'ddns-server acme-settings HOST' (user: the host name, \
                         key: its record's secret, fulldomain: _acme-challenge.HOST)",
                    ),
                    None,
                    false,
                    false,
                );
            }
            AcmeRoute::Present | AcmeRoute::Cleanup => httpreq(route, request),
            AcmeRoute::Update => acme_dns(request),
        };
        let challenge = match decoded {
            Ok(challenge) => challenge,
            Err(refusal) => return answer(refusal.response, None, refusal.unproven, false),
        };
        let value = match &challenge.change {
            ChallengeChange::Present(v) | ChallengeChange::Cleanup(v) => v.text(),
            ChallengeChange::Replace(_) => String::new(),
        };
        match self.service.challenge(challenge).await {
            Ok(outcome) => {
                let response = success(route, &outcome, &value);
                answer(response, None, false, outcome.changed)
            }
            Err(failure) => {
                let unproven = failure.is_unproven();
                answer(refused(route, &failure), Some(failure), unproven, false)
            }
        }
    }
}

/// Decodes a lego `httpreq` request.
fn httpreq(route: AcmeRoute, request: &EndpointRequest<'_>) -> Result<ChallengeRequest, Refusal> {
    let Some(auth) = request.authorization.and_then(BasicAuth::parse) else {
        let mut response = error_response(
            401,
            "unauthorized",
            "send HTTP Basic credentials: the host name and its record's secret",
        );
        response
            .headers
            .push(("www-authenticate", "Basic realm=\"ddns\"".to_owned()));
        return Err(Refusal::unproven(response));
    };
    let body: HttpreqBody = serde_json::from_slice(request.body).map_err(|_| {
        Refusal::invalid(
            "malformed_json",
            "the body must be JSON {\"fqdn\": \"_acme-challenge.HOST.\", \"value\": \"...\"} \
             (lego's default httpreq mode; RAW mode is not served)",
        )
    })?;
    let host = scope(&auth.user, &body.fqdn)?;
    let value = challenge_value(&body.value)
        .map_err(|e| Refusal::invalid("bad_txt", &format!("the value is refused: {e}")))?;
    let change = match route {
        AcmeRoute::Cleanup => ChallengeChange::Cleanup(value),
        _ => ChallengeChange::Present(value),
    };
    Ok(ChallengeRequest::new(
        host,
        Credential::Password(SharedSecret::new(auth.password)),
        change,
        request.source,
    ))
}

/// Checks that `fqdn` is the challenge name of the host `user`.
fn scope(user: &str, fqdn: &str) -> Result<SentName, Refusal> {
    let forbidden = || {
        Refusal::unproven(error_response(
            403,
            "forbidden",
            "the fqdn must be _acme-challenge. followed by the host name of the credentials",
        ))
    };
    let host = Hostname::parse(user).map_err(|_| forbidden())?;
    let allowed = challenge_name(&host).map_err(|_| forbidden())?;
    match RecordName::parse(fqdn) {
        Ok(name) if name == allowed => Ok(SentName::parse(user)),
        _ => Err(forbidden()),
    }
}

/// Decodes an acme-dns `POST /update`.
fn acme_dns(request: &EndpointRequest<'_>) -> Result<ChallengeRequest, Refusal> {
    let forbidden = || {
        Refusal::unproven(error_response(
            401,
            "forbidden",
            "X-Api-User and X-Api-Key must be the host name and its record's secret",
        ))
    };
    let (Some(user), Some(key)) = (request.api_user, request.api_key) else {
        return Err(forbidden());
    };
    let body: AcmeDnsBody = serde_json::from_slice(request.body).map_err(|_| {
        Refusal::invalid(
            "malformed_json",
            "the body must be JSON {\"subdomain\": \"HOST\", \"txt\": \"...\"}",
        )
    })?;
    let same_host = match (Hostname::parse(user), Hostname::parse(&body.subdomain)) {
        (Ok(user), Ok(subdomain)) => user == subdomain,
        _ => false,
    };
    if !same_host {
        return Err(forbidden());
    }
    let value = challenge_value(&body.txt)
        .map_err(|e| Refusal::invalid("bad_txt", &format!("the txt value is refused: {e}")))?;
    Ok(ChallengeRequest::new(
        SentName::parse(user),
        Credential::Password(SharedSecret::new(key)),
        ChallengeChange::Present(value),
        request.source,
    )
    .keeping(ACME_DNS_KEEP))
}

/// The answer to a change made (or found made already).
fn success(route: AcmeRoute, outcome: &ChallengeOutcome, value: &str) -> HttpResponse {
    let mut body = String::from("{");
    match route {
        AcmeRoute::Update => {
            body.push_str("\"txt\": ");
            push_str(&mut body, value);
        }
        _ => {
            body.push_str("\"fqdn\": ");
            push_str(&mut body, outcome.name.as_str());
            body.push_str(&format!(", \"values\": {}", outcome.values.len()));
        }
    }
    body.push('}');
    HttpResponse::json(200, body)
}

/// The answer to a request the service refused.
fn refused(route: AcmeRoute, failure: &Failure) -> HttpResponse {
    let (status, code, detail) = match failure {
        Failure::SignatureRequired { .. } => (
            403,
            "signature_required",
            "this record accepts signed requests only: use RFC 2136 with its TSIG key",
        ),
        Failure::HostRateLimited { .. } => (
            429,
            "rate_limited",
            "too many requests for this host; try again later",
        ),
        Failure::ConcurrentUpdate { .. } => (
            409,
            "conflict",
            "the challenge name changed meanwhile; send again",
        ),
        Failure::Backend { .. } => (
            503,
            "backend_error",
            "the DNS or the record store failed; try again later",
        ),
        _ if failure.is_unproven() => (401, "forbidden", "unknown host or wrong secret"),
        _ => (400, "refused", "the request was refused"),
    };
    let mut response = error_response(status, code, detail);
    if status == 401 && route != AcmeRoute::Update {
        response
            .headers
            .push(("www-authenticate", "Basic realm=\"ddns\"".to_owned()));
    }
    response
}

/// `{"error": code, "detail": detail}` with `status`.
fn error_response(status: u16, code: &str, detail: &str) -> HttpResponse {
    let mut body = String::from("{\"error\": ");
    push_str(&mut body, code);
    body.push_str(", \"detail\": ");
    push_str(&mut body, detail);
    body.push('}');
    HttpResponse::json(status, body)
}
