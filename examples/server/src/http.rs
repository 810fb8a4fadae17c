//! The HTTP side: the seed API on any path, dyndns2 on its paths,
//! `/healthz` and `/metrics` (on the API's listeners, or on their own
//! `[admin_http]` listeners when that is configured, beside the REST API
//! and the web page of the `webadmin` module).
//!
//! Limits keep a slow or huge request from tying the server up: headers
//! must arrive within [`HEADER_TIMEOUT`] and fit in [`MAX_HEADER_BYTES`],
//! the URI in [`MAX_URI_BYTES`], bodies are read only where a protocol
//! has one and up to its limit, every request has a
//! deadline, at most `max_connections` connections are served at once, and
//! at most `max_connections_per_source` of them from one source (trusted
//! proxies excepted): a few thousand idle connections from a few addresses
//! cannot take every slot.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ddns_core::Failure;
use ddns_core::protocols::HttpResponse;
use ddns_core::protocols::acme::{AcmeRoute, MAX_BODY_BYTES};
use ddns_core::protocols::endpoint::{
    Endpoint, EndpointAnswer, EndpointRequest, Route, refuse_method,
};
use ddns_core::protocols::forwarded::TrustedProxies;
use ddns_core::protocols::seed;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, watch};
use tracing::{debug, info, warn};

use crate::connections::{ConnectionCaps, ConnectionSlot};
use crate::health::HealthCheck;
use crate::limits::Limits;
use crate::metrics::{Metrics, failure_kind};
use crate::tls::TlsCertificates;
use crate::webadmin::WebAdmin;

/// Time allowed for a request's headers to arrive (and for an idle
/// keep-alive connection to send its next request).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest request head accepted (request line and headers).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Longest URI accepted; longer ones get 414.
pub const MAX_URI_BYTES: usize = 4096;

/// Everything a request handler needs.
#[derive(Debug)]
pub(crate) struct HttpState {
    /// Both protocols, behind the core's one request path.
    pub(crate) endpoint: Endpoint,
    pub(crate) proxies: TrustedProxies,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) health: HealthCheck,
    /// True when `/healthz` and `/metrics` are served on `[admin_http]`
    /// listeners only.
    pub(crate) admin_split: bool,
    pub(crate) request_timeout: Duration,
    pub(crate) limits: Option<Arc<Limits>>,
    /// The REST API and the web page of the `[admin_http]` listeners.
    pub(crate) webadmin: Option<Arc<WebAdmin>>,
}

/// What a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The APIs (and `/healthz`, `/metrics` unless they moved).
    Api,
    /// `/healthz`, `/metrics`, the REST API and the web page
    /// (`[admin_http]`).
    Admin,
}

/// An HTTP answer with its whole body.
pub(crate) type Reply = Response<Full<Bytes>>;

/// An answer with `status`, `content_type` and `body`.
pub(crate) fn reply(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Reply {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn from_codec(r: HttpResponse) -> Reply {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = reply(status, r.content_type, r.body);
    for (name, value) in r.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn not_found() -> Reply {
    reply(StatusCode::NOT_FOUND, "text/plain", "not found\n")
}

async fn handle(
    state: Arc<HttpState>,
    role: Role,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Reply, Infallible> {
    let uri_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return Ok(reply(
            StatusCode::URI_TOO_LONG,
            "text/plain",
            "URI too long\n",
        ));
    }
    let acme = state
        .endpoint
        .acme_route(req.method().as_str(), req.uri().path());
    if role == Role::Api
        && acme.is_none()
        && let Some(refused) = refuse_method(req.method().as_str())
    {
        return Ok(from_codec(refused));
    }
    let path = req.uri().path();
    let admin_here = match role {
        Role::Admin => true,
        Role::Api => !state.admin_split,
    };
    Ok(match path {
        "/healthz" | "/metrics" if !admin_here => not_found(),
        "/healthz" => {
            let health = state.health.get().await;
            let status = if health.ok {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            reply(status, "application/json", health.body)
        }
        "/metrics" => reply(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            state.metrics.render(),
        ),
        _ if role == Role::Admin => match &state.webadmin {
            Some(web) => {
                let source = source_of(&state, peer, &req);
                web.handle(source, req).await
            }
            None => not_found(),
        },
        _ => api(&state, peer, acme, req).await,
    })
}

/// The requester's address: the peer, or X-Forwarded-For from a trusted
/// proxy.
fn source_of(state: &HttpState, peer: SocketAddr, req: &Request<Incoming>) -> IpAddr {
    if state.proxies.is_empty() {
        return peer.ip().to_canonical();
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    state.proxies.source(peer.ip(), forwarded)
}

/// The seed API, dyndns2, the upstream protocol and the ACME interfaces,
/// through the core's endpoint: rate limits
/// first, then the request within its deadline, then metrics and logs.
async fn api(
    state: &HttpState,
    peer: SocketAddr,
    acme: Option<AcmeRoute>,
    req: Request<Incoming>,
) -> Reply {
    let started = Instant::now();
    let source = source_of(state, peer, &req);
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    let route = Route::of_request(parts.method.as_str(), path);
    let query = parts.uri.query().unwrap_or("");
    if let Some(Err(limited)) = state.limits.as_ref().map(|l| l.admit(source)) {
        let mode = match (acme, route) {
            (Some(acme), _) => acme.interface(),
            (None, Route::Dyndns2) => "dyndns2",
            (None, Route::Upstream) => "upstream",
            _ => seed::Mode::parse(&seed::SeedParams::from_query(query).mode).as_str(),
        };
        state.metrics.rate_limited(mode);
        info!(%source, ?limited, "rate limited");
        return from_codec(match acme {
            Some(acme) => acme.rate_limited(),
            None => route.rate_limited(limited.message()),
        });
    }
    let body = if acme.is_some() || route == Route::Upstream {
        match read_body(body, MAX_BODY_BYTES, state.request_timeout).await {
            Ok(body) => body,
            Err(BodyError::TooLarge { max }) => {
                return reply(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "text/plain",
                    format!("the body must be at most {max} bytes\n"),
                );
            }
            Err(BodyError::Slow) => {
                return reply(
                    StatusCode::REQUEST_TIMEOUT,
                    "text/plain",
                    "the body did not arrive in time\n",
                );
            }
        }
    } else {
        Bytes::new()
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let request = EndpointRequest::new(parts.method.as_str(), path, query, source)
        .with_authorization(header("authorization"))
        .with_api_key(header("x-api-key"))
        .with_api_user(header("x-api-user"))
        .with_body(&body);
    let Ok(answer) =
        tokio::time::timeout(state.request_timeout, state.endpoint.handle(request)).await
    else {
        warn!(%source, ?route, "request timed out");
        return from_codec(route.timed_out());
    };
    if let Some(limits) = &state.limits
        && answer.unproven() > 0
    {
        limits.unproven(source, answer.unproven());
    }
    let elapsed = started.elapsed();
    state.metrics.observe_answer(&answer, elapsed);
    log_answer(source, &answer, elapsed);
    from_codec(answer.into_response())
}

/// Why a request body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// It is longer than `max` bytes.
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// It did not arrive in time.
    Slow,
}

/// Reads a request body of at most `max` bytes within `limit`.
pub(crate) async fn read_body(
    body: Incoming,
    max: usize,
    limit: Duration,
) -> Result<Bytes, BodyError> {
    let limited = Limited::new(body, max);
    match tokio::time::timeout(limit, limited.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(_)) => Err(BodyError::TooLarge { max }),
        Err(_) => Err(BodyError::Slow),
    }
}

/// Logs the answer: one line per failure the operator must see (with its
/// causes), then the outcome.
fn log_answer(source: IpAddr, answer: &EndpointAnswer, elapsed: Duration) {
    let mode = answer.mode();
    let micros = elapsed.as_micros();
    let status = answer.response().status;
    for failure in answer.failures() {
        if let Some(detail) = failure.operator_detail() {
            match failure {
                Failure::Backend { .. } => warn!(%source, mode, detail, "backend failure"),
                Failure::PrefixRefused { .. } => warn!(%source, mode, detail, "follower refused"),
                _ => warn!(%source, mode, detail, "unusable record"),
            }
        }
    }
    match answer {
        EndpointAnswer::Seed(seed) => match &seed.failure {
            Some(failure) => {
                info!(%source, mode, status, micros, outcome = failure_kind(failure), "refused");
            }
            None => info!(%source, mode, status, micros, changed = seed.changed, "answered"),
        },
        EndpointAnswer::Dyndns2(dyndns2) => {
            info!(%source, mode, status, micros, outcome = dyndns2.code, changes = dyndns2.changes, "answered");
        }
        EndpointAnswer::Acme(acme) => match &acme.failure {
            Some(failure) => {
                info!(%source, mode, status, micros, outcome = failure_kind(failure), "refused");
            }
            None => info!(%source, mode, status, micros, changed = acme.changed, "answered"),
        },
        EndpointAnswer::Upstream(upstream) => match &upstream.failure {
            Some(failure) => {
                info!(%source, mode, status, micros, outcome = failure_kind(failure), "refused");
            }
            None => info!(%source, mode, status, micros, changed = upstream.changed, "answered"),
        },
        _ => info!(%source, mode, status, micros, "refused"),
    }
}

/// Accepts connections on `listener` until `stop` turns true; with `tls`,
/// each connection first completes a TLS handshake (within the header
/// timeout) with the certificate current at that moment.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    tls: Option<Arc<TlsCertificates>>,
    role: Role,
    state: Arc<HttpState>,
    caps: ConnectionCaps,
    graceful: Arc<GracefulShutdown>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let permit = tokio::select! {
            _ = stop.changed() => break,
            permit = caps.all.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: pause, go on.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Over its source's cap the connection is closed at once.
        let Some(slot) = caps.per_source.take(peer.ip()) else {
            debug!(%peer, "too many connections from this source; closed");
            drop(stream);
            continue;
        };
        let permit = (permit, slot);
        let (state, graceful) = (state.clone(), graceful.clone());
        match &tls {
            None => serve(stream, peer, role, state, &graceful, permit),
            Some(tls) => {
                let acceptor = tls.acceptor();
                // A handshake in progress must not keep shutdown from
                // taking the drain handle: it holds it weakly.
                let graceful = Arc::downgrade(&graceful);
                tokio::spawn(async move {
                    match tokio::time::timeout(HEADER_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            if let Some(graceful) = graceful.upgrade() {
                                serve(stream, peer, role, state, &graceful, permit);
                            }
                        }
                        Ok(Err(e)) => debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        }
    }
}

/// Serves HTTP/1.1 on one accepted stream (plain or TLS) in its own task,
/// holding `permit` (the global and the per-source slot) until the
/// connection ends.
fn serve<S>(
    stream: S,
    peer: SocketAddr,
    role: Role,
    state: Arc<HttpState>,
    graceful: &GracefulShutdown,
    permit: (OwnedSemaphorePermit, ConnectionSlot),
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| handle(state.clone(), role, peer, req));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEADER_BYTES)
        .keep_alive(true);
    let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            debug!(%peer, error = %e, "connection ended with an error");
        }
        drop(permit);
    });
}
