//! The one request path: from what an HTTP front end received (method,
//! path, query, two headers, the source address) to the answer of whichever
//! protocol the path names, with every failure kept as a typed value for
//! logs and rate limits.
//!
//! The standalone server and the Lambda both call [`Endpoint::handle`], so
//! they route alike (API Gateway stage prefixes included: `/prod/nic/update`
//! is dyndns2 as `/nic/update` is) and report alike.

use std::net::IpAddr;

use super::HttpResponse;
use super::acme::{AcmeAnswer, AcmeApi, AcmeRoute};
use super::dyndns2::{self, Dyndns2Answer, Dyndns2Api, Dyndns2Params, Dyndns2Request};
use super::seed::{self, SeedAnswer, SeedApi, SeedHttpRequest, SeedParams};
use super::upstream::{self, DEFAULT_TABLE_LABEL, UpstreamAnswer, UpstreamApi};
use crate::usecases::outcome::Failure;

/// The methods the APIs answer; others get 405 with this `Allow` value.
pub const ALLOWED_METHODS: &str = "GET, HEAD, POST, OPTIONS";

/// Which protocol a path is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// The seed API: every path that is not dyndns2's.
    Seed,
    /// dyndns2: `/nic/update` and `/update`, after any stage prefix.
    Dyndns2,
    /// The upstream protocol: `POST` (and its CORS preflight, `OPTIONS`)
    /// on any path that is not an ACME interface's.
    Upstream,
}

impl Route {
    /// The route of `path`. A stage prefix (`/prod`) or a trailing slash
    /// does not change it.
    ///
    /// ```
    /// use ddns_core::protocols::endpoint::Route;
    /// assert_eq!(Route::of("/nic/update"), Route::Dyndns2);
    /// assert_eq!(Route::of("/prod/nic/update/"), Route::Dyndns2);
    /// assert_eq!(Route::of("/prod/update"), Route::Dyndns2);
    /// assert_eq!(Route::of("/"), Route::Seed);
    /// assert_eq!(Route::of("/prod"), Route::Seed);
    /// assert_eq!(Route::of("/nic/updates"), Route::Seed);
    /// ```
    pub fn of(path: &str) -> Self {
        let path = path.trim_end_matches('/');
        if dyndns2::is_dyndns2_path(path)
            || path.ends_with("/nic/update")
            || path.ends_with("/update")
        {
            Self::Dyndns2
        } else {
            Self::Seed
        }
    }

    /// The route of a request: the upstream protocol for `POST` and
    /// `OPTIONS`, else [`Route::of`] its path. (ACME interfaces, when
    /// served, are routed before: [`AcmeRoute::of`].)
    ///
    /// ```
    /// use ddns_core::protocols::endpoint::Route;
    /// assert_eq!(Route::of_request("POST", "/"), Route::Upstream);
    /// assert_eq!(Route::of_request("GET", "/nic/update"), Route::Dyndns2);
    /// ```
    pub fn of_request(method: &str, path: &str) -> Self {
        if method.eq_ignore_ascii_case("POST") || method.eq_ignore_ascii_case("OPTIONS") {
            Self::Upstream
        } else {
            Self::of(path)
        }
    }

    /// The answer to a request this front end refused for its rate, in the
    /// protocol's words: the seed's `fail` with `message`, dyndns2's
    /// `abuse`, the upstream protocol's 429.
    pub fn rate_limited(self, message: &str) -> HttpResponse {
        match self {
            Self::Seed => seed::fail(message),
            Self::Dyndns2 => dyndns2::abuse(),
            Self::Upstream => upstream::answer(429, false, message),
        }
    }

    /// The answer to a request that took longer than the front end allows:
    /// the seed's `fail`, dyndns2's `911` (try later), the upstream
    /// protocol's 503.
    pub fn timed_out(self) -> HttpResponse {
        const TOO_LONG: &str = "The request took too long to complete; try again later.";
        match self {
            Self::Seed => seed::fail(TOO_LONG),
            Self::Dyndns2 => dyndns2::server_error(),
            Self::Upstream => upstream::answer(503, false, TOO_LONG),
        }
    }
}

/// The 405 answer for a method the APIs do not serve, or `None` for one
/// of [`ALLOWED_METHODS`].
pub fn refuse_method(method: &str) -> Option<HttpResponse> {
    if ALLOWED_METHODS
        .split(", ")
        .any(|allowed| method.eq_ignore_ascii_case(allowed))
    {
        return None;
    }
    let mut response = HttpResponse::text(405, "use GET, or POST with a JSON body\n".to_owned());
    response.headers.push(("allow", ALLOWED_METHODS.to_owned()));
    Some(response)
}

/// One request as the front end received it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct EndpointRequest<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The path, with any stage prefix.
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// The `Authorization` header (dyndns2's Basic credentials).
    pub authorization: Option<&'a str>,
    /// The `x-api-key` header (the seed API's key, acme-dns's key).
    pub api_key: Option<&'a str>,
    /// The `x-api-user` header (acme-dns's user).
    pub api_user: Option<&'a str>,
    /// The body (read only for `POST`s, at most
    /// [`crate::protocols::acme::MAX_BODY_BYTES`]).
    pub body: &'a [u8],
    /// The client's address, as the front end determined it.
    pub source: IpAddr,
}

impl<'a> EndpointRequest<'a> {
    /// A request with no headers.
    pub fn new(method: &'a str, path: &'a str, query: &'a str, source: IpAddr) -> Self {
        Self {
            method,
            path,
            query,
            authorization: None,
            api_key: None,
            api_user: None,
            body: &[],
            source,
        }
    }

    /// Sets the `Authorization` header.
    #[must_use]
    pub fn with_authorization(mut self, value: Option<&'a str>) -> Self {
        self.authorization = value;
        self
    }

    /// Sets the `x-api-key` header.
    #[must_use]
    pub fn with_api_key(mut self, value: Option<&'a str>) -> Self {
        self.api_key = value;
        self
    }

    /// Sets the `x-api-user` header.
    #[must_use]
    pub fn with_api_user(mut self, value: Option<&'a str>) -> Self {
        self.api_user = value;
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn with_body(mut self, body: &'a [u8]) -> Self {
        self.body = body;
        self
    }
}

/// What [`Endpoint::handle`] answered, with what the front end needs to
/// log, count and limit.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum EndpointAnswer {
    /// A seed API answer.
    Seed(SeedAnswer),
    /// A dyndns2 answer.
    Dyndns2(Dyndns2Answer),
    /// An answer of an ACME interface (lego httpreq, acme-dns).
    Acme(AcmeAnswer),
    /// An answer of the upstream protocol.
    Upstream(UpstreamAnswer),
    /// The method is not served (405).
    MethodNotAllowed(HttpResponse),
}

impl EndpointAnswer {
    /// The response to send.
    pub fn response(&self) -> &HttpResponse {
        match self {
            Self::Seed(a) => &a.response,
            Self::Dyndns2(a) => &a.response,
            Self::Acme(a) => &a.response,
            Self::Upstream(a) => &a.response,
            Self::MethodNotAllowed(r) => r,
        }
    }

    /// The response to send, by value.
    pub fn into_response(self) -> HttpResponse {
        match self {
            Self::Seed(a) => a.response,
            Self::Dyndns2(a) => a.response,
            Self::Acme(a) => a.response,
            Self::Upstream(a) => a.response,
            Self::MethodNotAllowed(r) => r,
        }
    }

    /// What the request asked for, for logs and metrics: the seed mode
    /// (`get`, `set`, `list_hosts`, ...), `dyndns2`, `httpreq`,
    /// `acme-dns`, or the upstream mode (`upstream_set`, ...).
    pub fn mode(&self) -> &'static str {
        match self {
            Self::Seed(a) => a.mode.as_str(),
            Self::Dyndns2(_) => "dyndns2",
            Self::Acme(a) => a.route.interface(),
            Self::Upstream(a) => a.mode.as_str(),
            Self::MethodNotAllowed(_) => "method",
        }
    }

    /// Every failure of the request (a dyndns2 request may name several
    /// hosts).
    pub fn failures(&self) -> Vec<&Failure> {
        match self {
            Self::Seed(a) => a.failure.iter().collect(),
            Self::Dyndns2(a) => a.failures.iter().collect(),
            Self::Acme(a) => a.failure.iter().collect(),
            Self::Upstream(a) => a.failure.iter().collect(),
            Self::MethodNotAllowed(_) => Vec::new(),
        }
    }

    /// How many of the request's answers proved nothing about a record (a
    /// wrong or missing credential, an unknown name, a missing API key):
    /// what a rate limiter charges to the source.
    pub fn unproven(&self) -> usize {
        match self {
            Self::Seed(a) => {
                usize::from(a.forbidden || a.failure.as_ref().is_some_and(Failure::is_unproven))
            }
            Self::Dyndns2(a) => a.unproven,
            Self::Acme(a) => usize::from(a.unproven),
            Self::Upstream(a) => usize::from(a.failure.as_ref().is_some_and(Failure::is_unproven)),
            Self::MethodNotAllowed(_) => 0,
        }
    }

    /// The failures the operator must see, each as a line with its causes
    /// ([`Failure::operator_detail`]).
    pub fn operator_details(&self) -> Vec<String> {
        self.failures()
            .into_iter()
            .filter_map(Failure::operator_detail)
            .collect()
    }
}

/// The protocols behind one entry point.
#[derive(Debug, Clone)]
pub struct Endpoint {
    seed: SeedApi,
    dyndns2: Dyndns2Api,
    upstream: UpstreamApi,
    acme: Option<AcmeApi>,
}

impl Endpoint {
    /// The endpoint over the seed API and dyndns2 (normally over the same
    /// service), and the upstream protocol over the seed API's service
    /// (its record-missing message names the table
    /// [`DEFAULT_TABLE_LABEL`]; [`Endpoint::with_upstream`] says otherwise).
    pub fn new(seed: SeedApi, dyndns2: Dyndns2Api) -> Self {
        let upstream = UpstreamApi::new(seed.service().clone(), DEFAULT_TABLE_LABEL);
        Self {
            seed,
            dyndns2,
            upstream,
            acme: None,
        }
    }

    /// Serves the upstream protocol through `upstream`.
    #[must_use]
    pub fn with_upstream(mut self, upstream: UpstreamApi) -> Self {
        self.upstream = upstream;
        self
    }

    /// Serves the ACME interfaces too ([`crate::protocols::acme`]).
    #[must_use]
    pub fn with_acme(mut self, acme: AcmeApi) -> Self {
        self.acme = Some(acme);
        self
    }

    /// The ACME interface `method` and `path` are for, when this endpoint
    /// serves them.
    pub fn acme_route(&self, method: &str, path: &str) -> Option<AcmeRoute> {
        self.acme.as_ref().and(AcmeRoute::of(method, path))
    }

    /// Answers `request`: the ACME interfaces on their routes when served,
    /// 405 for a method not in [`ALLOWED_METHODS`], the upstream protocol
    /// for `POST` (`OPTIONS`: its CORS preflight), dyndns2 on its paths,
    /// the seed API on every other.
    pub async fn handle(&self, request: EndpointRequest<'_>) -> EndpointAnswer {
        if let (Some(acme), Some(route)) = (&self.acme, AcmeRoute::of(request.method, request.path))
        {
            return EndpointAnswer::Acme(acme.handle(route, &request).await);
        }
        if let Some(refused) = refuse_method(request.method) {
            return EndpointAnswer::MethodNotAllowed(refused);
        }
        match Route::of_request(request.method, request.path) {
            Route::Upstream if request.method.eq_ignore_ascii_case("OPTIONS") => {
                EndpointAnswer::Upstream(UpstreamAnswer::preflight())
            }
            Route::Upstream => {
                EndpointAnswer::Upstream(self.upstream.handle(request.body, request.source).await)
            }
            Route::Dyndns2 => EndpointAnswer::Dyndns2(
                self.dyndns2
                    .handle_detailed(
                        Dyndns2Request::new(
                            Dyndns2Params::from_query(request.query),
                            request.source,
                        )
                        .with_authorization(request.authorization),
                    )
                    .await,
            ),
            Route::Seed => EndpointAnswer::Seed(
                self.seed
                    .handle_detailed(
                        SeedHttpRequest::new(SeedParams::from_query(request.query), request.source)
                            .with_api_key(request.api_key),
                    )
                    .await,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::{MemoryProvider, MemoryStore};
    use crate::protocols::seed::ApiKeys;
    use crate::usecases::service::DdnsService;
    use std::sync::Arc;

    fn endpoint() -> Endpoint {
        let service = Arc::new(
            DdnsService::builder(
                Arc::new(MemoryStore::new()),
                Arc::new(MemoryProvider::new()),
            )
            .build(),
        );
        Endpoint::new(
            SeedApi::new(service.clone(), ApiKeys::none()),
            Dyndns2Api::new(service),
        )
    }

    #[tokio::test]
    async fn paths_methods_and_stage_prefixes_route_alike() {
        let endpoint = endpoint();
        let source = "198.51.100.7".parse().unwrap();
        for path in [
            "/nic/update",
            "/prod/nic/update",
            "/update",
            "/prod/update/",
        ] {
            let answer = endpoint
                .handle(EndpointRequest::new(
                    "GET",
                    path,
                    "hostname=h.example.com",
                    source,
                ))
                .await;
            assert_eq!(answer.mode(), "dyndns2", "{path}");
            assert_eq!(answer.response().body, "badauth\n", "{path}");
            assert_eq!(answer.unproven(), 1);
        }
        let answer = endpoint
            .handle(EndpointRequest::new("GET", "/prod", "mode=get", source))
            .await;
        assert_eq!(answer.mode(), "get");
        assert!(answer.response().body.contains("198.51.100.7"));
        let answer = endpoint
            .handle(EndpointRequest::new("PUT", "/", "mode=get", source))
            .await;
        assert_eq!(answer.response().status, 405);
        assert_eq!(
            answer.response().headers,
            vec![("allow", ALLOWED_METHODS.to_owned())]
        );
    }

    #[test]
    fn refusals_speak_each_protocol() {
        assert_eq!(Route::Dyndns2.rate_limited("slow down").body, "abuse\n");
        assert!(
            Route::Seed
                .rate_limited("slow down")
                .body
                .contains("slow down")
        );
        assert_eq!(Route::Dyndns2.timed_out().body, "911\n");
        assert!(Route::Seed.timed_out().body.contains("too long"));
    }
}
