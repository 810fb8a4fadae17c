//! # ddns-lambda
//!
//! The seed API (and dyndns2 on `/nic/update`) as an AWS Lambda behind API
//! Gateway (REST API), an HTTP API or a Function URL, on the original stack's DynamoDB table and Route 53
//! zone: a drop-in replacement for the original Python function. The HTTP
//! side is ddns-core's seed codec, the same one the standalone server uses.
//!
//! Configuration comes from the original function's environment variables:
//! `ddns_config_table`, `route_53_zone_id`, `route_53_zone_name`,
//! `default_ttl` (60 when unset). API keys are checked by API Gateway in
//! front of the function, as in the original; `DDNS_API_KEYS`
//! (comma-separated) makes the function check them too, for Function URLs.

use std::net::IpAddr;
use std::sync::Arc;

use ddns_aws::{DynamoDbStore, Route53Provider};
use ddns_core::DdnsService;
use ddns_core::codec::HttpResponse;
use ddns_core::codec::dyndns2::{self, Dyndns2Api, Dyndns2Params, Dyndns2Request};
use ddns_core::codec::seed::{self, ApiKeys, SeedApi, SeedHttpRequest, SeedParams};
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

/// The two protocols the function serves.
#[derive(Debug, Clone)]
pub struct LambdaApi {
    seed: SeedApi,
    dyndns2: Dyndns2Api,
}

fn query_pairs(request: &Request) -> Vec<(String, String)> {
    request
        .query_string_parameters_ref()
        .into_iter()
        .flat_map(|q| {
            q.iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Answers one invocation: dyndns2 on `/nic/update` and `/update` (after
/// any stage prefix), the seed API on every other path.
pub async fn handle(api: &LambdaApi, request: Request) -> Response<Body> {
    let Some(source) = source_ip(&request) else {
        return to_lambda(seed::fail(
            "The request carries no source address; invoke the function through API Gateway or a Function URL.",
        ));
    };
    let path = request.uri().path().trim_end_matches('/');
    if dyndns2::is_dyndns2_path(path) || path.ends_with("/nic/update") {
        let authorization = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let params = Dyndns2Params::from_pairs(query_pairs(&request));
        return to_lambda(
            api.dyndns2
                .handle(Dyndns2Request {
                    params,
                    authorization,
                    source,
                })
                .await,
        );
    }
    let params = SeedParams::from_pairs(query_pairs(&request));
    let api_key = request
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok());
    to_lambda(
        api.seed
            .handle(SeedHttpRequest {
                params,
                api_key,
                source,
            })
            .await,
    )
}

/// The environment's configuration, as the original function read it.
#[derive(Debug, Clone)]
pub struct LambdaConfig {
    /// TTL of records without one.
    pub default_ttl: u32,
    /// Keys the function checks itself (normally none: API Gateway does).
    pub api_keys: ApiKeys,
}

impl LambdaConfig {
    /// Reads `default_ttl` and `DDNS_API_KEYS`.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] for a `default_ttl` that is not a
    /// number.
    pub fn from_env() -> ddns_core::Result<Self> {
        let default_ttl = match std::env::var("default_ttl") {
            Ok(v) if !v.trim().is_empty() => v.trim().parse().map_err(|_| {
                ddns_core::Error::invalid_input(format!(
                    "default_ttl={v:?} is not a number of seconds"
                ))
            })?,
            _ => ddns_core::DEFAULT_TTL,
        };
        let api_keys = std::env::var("DDNS_API_KEYS")
            .map(|v| ApiKeys::new(v.split(',').map(str::trim).map(str::to_owned)))
            .unwrap_or_default();
        Ok(Self {
            default_ttl,
            api_keys,
        })
    }
}

/// The API over the table and zone named by the environment, with SDK
/// clients built once per cold start.
///
/// # Errors
///
/// When a variable is missing or wrong.
pub async fn api_from_env() -> ddns_core::Result<LambdaApi> {
    let config = LambdaConfig::from_env()?;
    let store = DynamoDbStore::from_env()?.build().await?;
    let provider = Route53Provider::from_env()?.build().await?;
    Ok(api_over(store, provider, config))
}

/// How long one Route 53 call may take: under the function's 10 s timeout
/// (`template.yaml`), so a slow backend is answered with a clear `fail`
/// instead of the function being cut off.
pub const PROVIDER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(7);

/// The API over `store` and `provider`.
pub fn api_over(
    store: DynamoDbStore,
    provider: Route53Provider,
    config: LambdaConfig,
) -> LambdaApi {
    // Each Lambda container serves one request at a time, so there is
    // nothing to coalesce; the DNS value is re-read on every cold start.
    let service = DdnsService::builder(Arc::new(store), Arc::new(provider))
        .with_default_ttl(config.default_ttl)
        .with_provider_timeout(PROVIDER_TIMEOUT)
        .build();
    let service = Arc::new(service);
    LambdaApi {
        seed: SeedApi::new(service.clone(), config.api_keys),
        dyndns2: Dyndns2Api::new(service),
    }
}
