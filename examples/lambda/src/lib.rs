//! # ddns-lambda
//!
//! The seed API (and dyndns2 on `/nic/update`, the original project's
//! rewrite on `POST`, the ACME interfaces) as an AWS Lambda behind API
//! Gateway (REST API), an HTTP API or a Function URL, on the original
//! stacks' DynamoDB table (either layout) and Route 53 zones: a drop-in
//! replacement for the original Python functions. The HTTP side is
//! ddns-core's endpoint, the same request path the standalone server takes,
//! so both route (stage prefixes included) and log alike.
//!
//! Configuration comes from the original function's environment variables:
//! `ddns_config_table`, `route_53_zone_id`, `route_53_zone_name`,
//! `default_ttl` (60 when unset). `DDNS_TABLE_LAYOUT` (`classic` or
//! `current`) names the table's layout; unset, it is read from the table
//! at cold start. On a table of the rewrite's layout no zone need be
//! configured: each item names its hosted zone. API keys are checked by
//! API Gateway in front of the function, as in the original; `DDNS_API_KEYS`
//! (comma-separated) makes the function check them too (seed API only),
//! for Function URLs. Several hosted zones: `route_53_zones =
//! "example.com=Z1,example.net=Z2"` in place of `route_53_zone_id` and
//! `route_53_zone_name`. One AWS configuration is loaded, once, for both
//! clients.

use std::net::IpAddr;
use std::sync::Arc;

use ddns_aws::{
    DynamoDbStore, ENV_ZONE_ID, ENV_ZONE_NAME, HostedZoneDirectory, Route53Provider, TableLayout,
};
use ddns_core::protocols::HttpResponse;
use ddns_core::protocols::acme::{AcmeApi, MAX_BODY_BYTES};
use ddns_core::protocols::dyndns2::Dyndns2Api;
use ddns_core::protocols::endpoint::{Endpoint, EndpointAnswer, EndpointRequest};
use ddns_core::protocols::seed::{self, ApiKeys, SeedApi};
use ddns_core::protocols::upstream::UpstreamApi;
use ddns_core::{DdnsService, DnsProvider, Hostname, RecordStore, Zone, Zones};

mod lazy;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

/// The source address API Gateway or the Function URL saw: the REST API's
/// `requestContext.identity.sourceIp`, or the HTTP API's and Function URL's
/// `requestContext.http.sourceIp`.
pub fn source_ip(request: &Request) -> Option<IpAddr> {
    let text = match request.request_context_ref()? {
        RequestContext::ApiGatewayV1(ctx) => ctx.identity.source_ip.clone(),
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.clone(),
        _ => None,
    }?;
    text.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

fn to_lambda(r: HttpResponse) -> Response<Body> {
    let mut builder = Response::builder()
        .status(r.status)
        .header("content-type", r.content_type);
    for (name, value) in &r.headers {
        builder = builder.header(*name, value.as_str());
    }
    let body = r.body;
    builder
        .body(Body::Text(body.clone()))
        .unwrap_or_else(|_| Response::new(Body::Text(body)))
}

/// Where the function's log lines go (CloudWatch takes stderr).
pub type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

/// The function's protocols behind the core's one request path.
#[derive(Clone)]
pub struct LambdaApi {
    endpoint: Endpoint,
    log: LogSink,
}

impl std::fmt::Debug for LambdaApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaApi")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl LambdaApi {
    /// Sends log lines to `sink` instead of stderr.
    #[must_use]
    pub fn with_log(mut self, sink: LogSink) -> Self {
        self.log = sink;
        self
    }

    fn log_answer(&self, source: IpAddr, answer: &EndpointAnswer) {
        for detail in answer.operator_details() {
            (self.log)(&format!(
                "WARN source={source} mode={} status={} {detail}",
                answer.mode(),
                answer.response().status
            ));
        }
    }
}

/// The query string of the event, as the endpoint reads it: API Gateway
/// REST events carry it only as parsed parameters.
fn query_string(request: &Request) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(params) = request.query_string_parameters_ref() {
        for (k, v) in params.iter() {
            query.append_pair(k, v);
        }
    }
    query.finish()
}

/// Answers one invocation through the core's endpoint: dyndns2 on
/// `/nic/update` and `/update` (after any stage prefix, as the server
/// routes), the seed API on every other path. Backend failures are logged
/// with their causes.
pub async fn handle(api: &LambdaApi, request: Request) -> Response<Body> {
    let Some(source) = source_ip(&request) else {
        return to_lambda(seed::fail(
            "The request carries no source address; invoke the function through API Gateway or a Function URL.",
        ));
    };
    let query = query_string(&request);
    let body: &[u8] = request.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        let mut response = Response::new(Body::Text(format!(
            "the body must be at most {MAX_BODY_BYTES} bytes\n"
        )));
        *response.status_mut() = lambda_http::http::StatusCode::PAYLOAD_TOO_LARGE;
        return response;
    }
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let endpoint_request = EndpointRequest::new(
        request.method().as_str(),
        request.uri().path(),
        &query,
        source,
    )
    .with_authorization(header("authorization"))
    .with_api_key(header("x-api-key"))
    .with_api_user(header("x-api-user"))
    .with_body(body);
    let answer = api.endpoint.handle(endpoint_request).await;
    api.log_answer(source, &answer);
    to_lambda(answer.into_response())
}

/// One Route 53 hosted zone the function changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedZone {
    /// The zone's apex.
    pub name: Hostname,
    /// Its hosted zone id (`Z...`).
    pub zone_id: String,
}

/// Parses `route_53_zones`: `name=id` pairs, comma-separated
/// (`example.com=Z1,example.net=Z2`).
///
/// # Errors
///
/// [`ddns_core::Error::InvalidInput`] naming the entry at fault.
pub fn parse_zones(list: &str) -> ddns_core::Result<Vec<HostedZone>> {
    let zones: Vec<HostedZone> = list
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (name, id) = entry.split_once('=').ok_or_else(|| {
                ddns_core::Error::invalid_input(format!(
                    "route_53_zones entry {entry:?} is not name=ZONE_ID"
                ))
            })?;
            let name = Hostname::parse(name.trim()).map_err(|e| {
                ddns_core::Error::invalid_input(format!("route_53_zones entry {entry:?}: {e}"))
            })?;
            let zone_id = id.trim().trim_start_matches("/hostedzone/").to_owned();
            if zone_id.is_empty() {
                return Err(ddns_core::Error::invalid_input(format!(
                    "route_53_zones entry {entry:?} has no zone id"
                )));
            }
            Ok(HostedZone { name, zone_id })
        })
        .collect::<ddns_core::Result<_>>()?;
    if zones.is_empty() {
        return Err(ddns_core::Error::invalid_input(
            "route_53_zones is empty; give name=ZONE_ID pairs, comma-separated",
        ));
    }
    Ok(zones)
}

/// The environment's configuration, as the original function read it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LambdaConfig {
    /// TTL of records without one.
    pub default_ttl: u32,
    /// Keys the function checks itself (normally none: API Gateway does).
    pub api_keys: ApiKeys,
    /// The hosted zones configured (`route_53_zones`, or the original's
    /// `route_53_zone_id` and `route_53_zone_name`).
    pub zones: Vec<HostedZone>,
}

impl LambdaConfig {
    /// A configuration with `default_ttl`, no zones and no keys of its own.
    pub fn new(default_ttl: u32) -> Self {
        Self {
            default_ttl,
            api_keys: ApiKeys::none(),
            zones: Vec::new(),
        }
    }

    /// Sets the keys the function checks.
    #[must_use]
    pub fn with_api_keys(mut self, api_keys: ApiKeys) -> Self {
        self.api_keys = api_keys;
        self
    }

    /// Adds a hosted zone.
    #[must_use]
    pub fn with_zone(mut self, zone: HostedZone) -> Self {
        self.zones.push(zone);
        self
    }

    /// Reads `default_ttl`, `DDNS_API_KEYS` and the zones: `route_53_zones`,
    /// else `route_53_zone_id` with `route_53_zone_name`, else none (a table
    /// of the current layout names each record's zone).
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] for a `default_ttl` that is not a
    /// number, or a zone variable that is wrong.
    pub fn from_env() -> ddns_core::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let default_ttl = match var("default_ttl") {
            Some(v) => v.trim().parse().map_err(|_| {
                ddns_core::Error::invalid_input(format!(
                    "default_ttl={v:?} is not a number of seconds"
                ))
            })?,
            None => ddns_core::DEFAULT_TTL,
        };
        let api_keys = var("DDNS_API_KEYS")
            .map(|v| ApiKeys::new(v.split(',').map(str::trim).map(str::to_owned)))
            .unwrap_or_default();
        let zones = match (var("route_53_zones"), var(ENV_ZONE_ID), var(ENV_ZONE_NAME)) {
            (Some(list), _, _) => parse_zones(&list)?,
            (None, Some(id), Some(name)) => parse_zones(&format!("{name}={id}"))?,
            (None, None, None) => Vec::new(),
            (None, _, _) => {
                return Err(ddns_core::Error::invalid_input(format!(
                    "{ENV_ZONE_ID} and {ENV_ZONE_NAME} go together: set both, or route_53_zones"
                )));
            }
        };
        Ok(Self {
            default_ttl,
            api_keys,
            zones,
        })
    }
}

/// The AWS configuration of the environment, loaded once for every client
/// (with `DDNS_AWS_ENDPOINT_URL` as the endpoint, for emulators).
pub async fn sdk_config_from_env() -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Ok(url) = std::env::var("DDNS_AWS_ENDPOINT_URL") {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// The API over the table and the hosted zones named by the environment,
/// with one AWS configuration for both clients. With `DDNS_TABLE_LAYOUT`
/// set, the AWS configuration and the clients are made by the first
/// request that needs them, so that a cold start loads nothing a request
/// does not need; without it, at once, to read the table's layout.
///
/// # Errors
///
/// When a variable is missing or wrong, or the table's layout cannot be
/// read (set `DDNS_TABLE_LAYOUT` to spare the call).
pub async fn api_from_env() -> ddns_core::Result<LambdaApi> {
    let config = LambdaConfig::from_env()?;
    let builder = DynamoDbStore::from_env()?;
    if let (Some(layout), Some(table)) = (builder.layout(), builder.table()) {
        let table = table.to_owned();
        let backends = lazy::Backends::new(builder, config.zones.clone());
        return api_with(
            Arc::new(lazy::LazyStore(backends.clone())),
            Arc::new(lazy::LazyProvider(backends)),
            Tables { table, layout },
            config,
        );
    }
    let sdk = sdk_config_from_env().await;
    let store = builder.with_sdk_config(sdk.clone()).build().await?;
    let provider = provider_for(&config.zones, store.zone_directory(), sdk).await?;
    api_over(store, provider, config)
}

/// What the API must know of the table before it is opened.
struct Tables {
    table: String,
    layout: TableLayout,
}

/// One Route 53 provider over `zones` and the zones the table's items name
/// (through `directory`, shared with the store).
///
/// # Errors
///
/// [`ddns_core::Error::InvalidInput`] when there is no zone and no
/// directory.
pub async fn provider_for(
    zones: &[HostedZone],
    directory: HostedZoneDirectory,
    sdk: aws_config::SdkConfig,
) -> ddns_core::Result<Route53Provider> {
    let mut builder = Route53Provider::builder()
        .with_sdk_config(sdk)
        .with_zone_directory(directory);
    for zone in zones {
        builder = builder.with_hosted_zone(zone.name.clone(), zone.zone_id.clone());
    }
    builder.build().await
}

/// How long one Route 53 call may take: under the function's 10 s timeout
/// (`template.yaml`), so a slow backend is answered with a clear `fail`
/// instead of the function being cut off.
pub const PROVIDER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(7);

/// The API over `store` and `provider`. On a table of the classic layout
/// the function serves the configured zones only (a name in none of them
/// is answered as an unknown host); on one of the current layout, every
/// record the table holds, each in the hosted zone its item names (or the
/// configured zone containing it).
///
/// # Errors
///
/// [`ddns_core::Error::InvalidInput`] for a classic table and no zone, or
/// a zone given twice.
pub fn api_over(
    store: DynamoDbStore,
    provider: Route53Provider,
    config: LambdaConfig,
) -> ddns_core::Result<LambdaApi> {
    let tables = Tables {
        table: store.table().to_owned(),
        layout: store.layout(),
    };
    api_with(Arc::new(store), Arc::new(provider), tables, config)
}

/// [`api_over`] on any store and provider.
fn api_with(
    store: Arc<dyn RecordStore>,
    provider: Arc<dyn DnsProvider>,
    Tables { table, layout }: Tables,
    config: LambdaConfig,
) -> ddns_core::Result<LambdaApi> {
    // Each Lambda container serves one request at a time, so there is
    // nothing to coalesce; the DNS value is re-read on every cold start.
    let mut service = DdnsService::builder(store, provider)
        .with_default_ttl(config.default_ttl)
        .with_provider_timeout(PROVIDER_TIMEOUT);
    if layout == TableLayout::Classic || !config.zones.is_empty() {
        let zones = Zones::new(
            config
                .zones
                .iter()
                .map(|zone| Zone::new(zone.name.clone()).with_default_ttl(config.default_ttl)),
        )?;
        if layout == TableLayout::Classic {
            service = service.with_zones(zones);
        }
    }
    let service = Arc::new(service.build());
    Ok(LambdaApi {
        endpoint: Endpoint::new(
            SeedApi::new(service.clone(), config.api_keys),
            Dyndns2Api::new(service.clone()),
        )
        .with_upstream(UpstreamApi::new(service.clone(), table))
        .with_acme(AcmeApi::new(service)),
        log: Arc::new(|line| eprintln!("{line}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosted_zone_lists_parse_and_bad_ones_are_named() {
        let zones = parse_zones("example.com=Z1, example.net=/hostedzone/Z2").unwrap();
        assert_eq!(zones.len(), 2);
        assert_eq!(zones[1].name.as_str(), "example.net.");
        assert_eq!(zones[1].zone_id, "Z2");
        for bad in ["", "example.com", "example.com=", "bad_name=Z1"] {
            assert!(parse_zones(bad).is_err(), "{bad:?}");
        }
    }
}
