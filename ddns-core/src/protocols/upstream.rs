//! The original project's current protocol (`docs/PROTOCOL.md`, "The
//! upstream protocol"), without a transport: `POST` with a JSON body
//! `{"execution_mode": "get"}` or `{"execution_mode": "set",
//! "ddns_hostname": H, "validation_hash": X}`, answered with HTTP status
//! codes and
//!
//! ```text
//! {"return_status": "<success|fail>", "return_message": "<message>"}
//! ```
//!
//! `return_status` comes first, as the original's `json.dumps` writes it,
//! and every answer carries the original's three CORS headers. The hash
//! covers the host name exactly as sent ([`SentName::exact`]).

use std::net::IpAddr;
use std::sync::Arc;

use super::HttpResponse;
use super::json::push_str;
use super::seed::{MSG_BAD_HASH_FORMAT, MSG_HASH_MISMATCH, MSG_MATCHES, failure_message};
use crate::domain::auth::{HashToken, source_ip_text};
use crate::domain::hostname::SentName;
use crate::usecases::outcome::{Backend, Failure, SetOutcome};
use crate::usecases::request::{Credential, SetRequest};
use crate::usecases::service::DdnsService;

/// A body whose `execution_mode` is neither `get` nor `set`.
pub const MSG_BAD_MODE: &str = "You must pass mode=get or mode=set arguments.";

/// A body that is not a JSON object.
pub const MSG_NOT_JSON: &str = r#"The request body must be a JSON object: {"execution_mode": "get"}, or {"execution_mode": "set", "ddns_hostname": "<host>", "validation_hash": "<sha256 hex>"}."#;

/// The answer to a DNS backend failure: its details go to the log only.
pub const MSG_DNS_FAILED: &str =
    "The DNS update could not be completed; the operator should check the function's logs.";

/// The label the record-missing message gives the table when none is
/// configured: the original's environment variable.
pub const DEFAULT_TABLE_LABEL: &str = "ddns_config_table";

/// The CORS headers of every answer, as the original sends them.
pub const CORS_HEADERS: [(&str, &str); 3] = [
    ("access-control-allow-headers", "Content-Type"),
    ("access-control-allow-origin", "*"),
    ("access-control-allow-methods", "GET"),
];

/// Which `execution_mode` a request asked for, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpstreamMode {
    /// `"get"`.
    Get,
    /// `"set"`.
    Set,
    /// Anything else, a body that is not JSON included.
    Invalid,
    /// A CORS preflight (`OPTIONS`).
    Preflight,
}

impl UpstreamMode {
    /// The mode's name in metrics and logs: `upstream_get`,
    /// `upstream_set`, `upstream_invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "upstream_get",
            Self::Set => "upstream_set",
            Self::Invalid => "upstream_invalid",
            Self::Preflight => "upstream_preflight",
        }
    }
}

/// A request body, parsed once. `Debug` leaves out the hash.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpstreamBody {
    /// `{"execution_mode": "get"}`.
    Get,
    /// `{"execution_mode": "set", ...}`; a missing or non-string field is
    /// empty.
    Set {
        /// `ddns_hostname`, exactly as sent.
        hostname: String,
        /// `validation_hash`.
        hash: String,
    },
    /// Valid JSON with another `execution_mode`, or none.
    BadMode,
    /// Not a JSON object.
    NotJson,
}

impl std::fmt::Debug for UpstreamBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Get => f.write_str("Get"),
            Self::Set { hostname, .. } => f
                .debug_struct("Set")
                .field("hostname", hostname)
                .field("hash", &"[REDACTED]")
                .finish(),
            Self::BadMode => f.write_str("BadMode"),
            Self::NotJson => f.write_str("NotJson"),
        }
    }
}

impl UpstreamBody {
    /// Parses a request body.
    ///
    /// ```
    /// use ddns_core::protocols::upstream::UpstreamBody;
    /// assert_eq!(UpstreamBody::parse(br#"{"execution_mode":"get"}"#), UpstreamBody::Get);
    /// assert_eq!(UpstreamBody::parse(b"mode=get"), UpstreamBody::NotJson);
    /// assert_eq!(UpstreamBody::parse(br#"{"execution_mode":"list"}"#), UpstreamBody::BadMode);
    /// ```
    pub fn parse(body: &[u8]) -> Self {
        let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(body) else {
            return Self::NotJson;
        };
        let text = |name: &str| {
            fields
                .get(name)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        match fields
            .get("execution_mode")
            .and_then(serde_json::Value::as_str)
        {
            Some("get") => Self::Get,
            Some("set") => Self::Set {
                hostname: text("ddns_hostname"),
                hash: text("validation_hash"),
            },
            _ => Self::BadMode,
        }
    }

    /// The mode asked for.
    pub fn mode(&self) -> UpstreamMode {
        match self {
            Self::Get => UpstreamMode::Get,
            Self::Set { .. } => UpstreamMode::Set,
            Self::BadMode | Self::NotJson => UpstreamMode::Invalid,
        }
    }
}

/// The answer of [`UpstreamApi::handle`], with what happened for logs and
/// metrics.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UpstreamAnswer {
    /// The bytes to send.
    pub response: HttpResponse,
    /// The mode asked for.
    pub mode: UpstreamMode,
    /// The failure of a `set`, if any.
    pub failure: Option<Failure>,
    /// True when DNS was changed.
    pub changed: bool,
}

/// The upstream protocol over a [`DdnsService`]. The service's rules apply
/// as to every protocol (locks, `allow_internal`, zones, host budgets); an
/// IPv6 source sets the host's AAAA record, where the original knew only A.
#[derive(Debug, Clone)]
pub struct UpstreamApi {
    service: Arc<DdnsService>,
    table: String,
}

impl UpstreamApi {
    /// The protocol over `service`; `table` is the name the record-missing
    /// message gives the table (the original's DynamoDB table name).
    pub fn new(service: Arc<DdnsService>, table: impl Into<String>) -> Self {
        Self {
            service,
            table: table.into(),
        }
    }

    /// Answers one request with `body` from `source`.
    pub async fn handle(&self, body: &[u8], source: IpAddr) -> UpstreamAnswer {
        let body = UpstreamBody::parse(body);
        let mode = body.mode();
        let (response, failure, changed) = match body {
            UpstreamBody::Get => (
                answer(200, true, &source_ip_text(self.service.get(source))),
                None,
                false,
            ),
            UpstreamBody::Set { hostname, hash } => self.set(&hostname, &hash, source).await,
            UpstreamBody::BadMode => (answer(400, false, MSG_BAD_MODE), None, false),
            UpstreamBody::NotJson => (answer(400, false, MSG_NOT_JSON), None, false),
        };
        UpstreamAnswer {
            response,
            mode,
            failure,
            changed,
        }
    }

    /// A `set`, in the original's order: the record, the hash's syntax,
    /// the hash, then DNS.
    async fn set(
        &self,
        hostname: &str,
        hash: &str,
        source: IpAddr,
    ) -> (HttpResponse, Option<Failure>, bool) {
        let name = SentName::exact(hostname);
        let token = match HashToken::parse(hash) {
            Ok(token) => token,
            // The record is looked for before the hash's syntax.
            Err(_) => {
                let failure = match self.service.is_configured(&name, source).await {
                    Ok(true) => Failure::BadHashFormat,
                    Ok(false) => Failure::NotConfigured {
                        hostname: hostname.to_owned(),
                        record_type: crate::RecordType::for_address(source),
                    },
                    Err(failure) => failure,
                };
                return (
                    self.render_failure(hostname, &failure),
                    Some(failure),
                    false,
                );
            }
        };
        let request = SetRequest::new(name, Credential::Token(token), source);
        match self.service.set(request).await {
            Ok(SetOutcome::Unchanged { .. }) => (answer(200, true, MSG_MATCHES), None, false),
            Ok(SetOutcome::Changed { address, .. }) => (
                answer(
                    201,
                    true,
                    &format!("{hostname} has been updated to {}", source_ip_text(address)),
                ),
                None,
                true,
            ),
            Err(failure) => (
                self.render_failure(hostname, &failure),
                Some(failure),
                false,
            ),
        }
    }

    /// The answer to `failure` of a `set` for `hostname` (as sent): the
    /// original's rows where it has one, the seed's words with a fitting
    /// status for the rules it lacked.
    fn render_failure(&self, hostname: &str, failure: &Failure) -> HttpResponse {
        let missing = || {
            format!(
                "There was an issue finding or reading {hostname} configuration from dynamoDB table: {}",
                self.table
            )
        };
        match failure {
            Failure::NotConfigured { .. }
            | Failure::Backend {
                backend: Backend::Store,
                ..
            } => answer(403, false, &missing()),
            Failure::BadHashFormat => answer(400, false, MSG_BAD_HASH_FORMAT),
            // An unusable record answers as a wrong hash would.
            Failure::HashMismatch | Failure::UnusableRecord { .. } => {
                answer(401, false, MSG_HASH_MISMATCH)
            }
            Failure::Backend {
                backend: Backend::Dns,
                ..
            } => answer(500, false, MSG_DNS_FAILED),
            Failure::HostRateLimited { .. } => answer(429, false, &failure_message(failure)),
            Failure::ConcurrentUpdate { .. } | Failure::MultipleValues => {
                answer(409, false, &failure_message(failure))
            }
            _ => answer(403, false, &failure_message(failure)),
        }
    }
}

/// An answer of the protocol: `status`, the body with `return_status`
/// first, and the CORS headers.
///
/// ```
/// let r = ddns_core::protocols::upstream::answer(200, true, "198.51.100.7");
/// assert_eq!(r.body, r#"{"return_status": "success", "return_message": "198.51.100.7"}"#);
/// ```
pub fn answer(status: u16, success: bool, message: &str) -> HttpResponse {
    let mut body = String::with_capacity(message.len() + 48);
    body.push_str(r#"{"return_status": ""#);
    body.push_str(if success { "success" } else { "fail" });
    body.push_str(r#"", "return_message": "#);
    push_str(&mut body, message);
    body.push('}');
    let mut response = HttpResponse::json(status, body);
    response.headers = CORS_HEADERS
        .iter()
        .map(|(name, value)| (*name, (*value).to_owned()))
        .collect();
    response
}

impl UpstreamAnswer {
    /// The answer to a CORS preflight (`OPTIONS`): 204 with the CORS
    /// headers, `POST` allowed as well, so that a page can call the API.
    pub fn preflight() -> Self {
        let mut response = answer(204, true, "");
        response.body.clear();
        for (name, value) in &mut response.headers {
            if *name == "access-control-allow-methods" {
                *value = "GET, POST, OPTIONS".to_owned();
            }
        }
        Self {
            response,
            mode: UpstreamMode::Preflight,
            failure: None,
            changed: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::{MemoryProvider, MemoryStore};
    use crate::domain::record::{Record, RecordConfig, RecordKey, RecordType};
    use crate::domain::secret::SharedSecret;
    use crate::ports::provider::DnsProvider;
    use crate::{Hostname, RecordValue};

    const HOST: &str = "home.example.com";
    const SECRET: &str = "s3cret";

    async fn api() -> (UpstreamApi, Arc<MemoryProvider>) {
        let key = RecordKey::new(Hostname::parse(HOST).unwrap(), RecordType::A);
        let store = Arc::new(MemoryStore::with_records([Record::new(
            key,
            RecordConfig::new(SharedSecret::new(SECRET)),
        )]));
        let provider = Arc::new(MemoryProvider::new());
        let service = Arc::new(DdnsService::builder(store, provider.clone()).build());
        (UpstreamApi::new(service, "ddns-table"), provider)
    }

    fn hash(ip: &str, host: &str, secret: &str) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(format!("{ip}{host}{secret}")))
    }

    fn set_body(host: &str, hash: &str) -> Vec<u8> {
        serde_json::json!({"execution_mode": "set", "ddns_hostname": host, "validation_hash": hash})
            .to_string()
            .into_bytes()
    }

    fn body(status: &str, message: &str) -> String {
        let mut quoted = String::new();
        push_str(&mut quoted, message);
        format!(r#"{{"return_status": "{status}", "return_message": {quoted}}}"#)
    }

    #[tokio::test]
    async fn every_row_of_the_table() {
        let (api, provider) = api().await;
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        let run = |body: Vec<u8>| {
            let api = api.clone();
            async move { api.handle(&body, ip).await.response }
        };
        let r = run(br#"{"execution_mode": "get"}"#.to_vec()).await;
        assert_eq!((r.status, r.body), (200, body("success", "198.51.100.7")));
        assert_eq!(r.headers.len(), 3);
        let r = run(br#"{"execution_mode": "list"}"#.to_vec()).await;
        assert_eq!((r.status, r.body), (400, body("fail", MSG_BAD_MODE)));
        let r = run(set_body("nothere.example.com", &"0".repeat(64))).await;
        let missing = "There was an issue finding or reading nothere.example.com configuration from dynamoDB table: ddns-table";
        assert_eq!((r.status, r.body), (403, body("fail", missing)));
        // The record comes before the hash's syntax.
        let r = run(set_body("nothere.example.com", "xyz")).await;
        assert_eq!(r.status, 403);
        let r = run(set_body(HOST, "xyz")).await;
        assert_eq!((r.status, r.body), (400, body("fail", MSG_BAD_HASH_FORMAT)));
        let r = run(set_body(HOST, &hash("198.51.100.7", HOST, "wrong"))).await;
        assert_eq!((r.status, r.body), (401, body("fail", MSG_HASH_MISMATCH)));
        // The name exactly as sent: with a dot appended it does not match.
        let r = run(set_body(
            HOST,
            &hash("198.51.100.7", &format!("{HOST}."), SECRET),
        ))
        .await;
        assert_eq!(r.status, 401);
        let good = hash("198.51.100.7", HOST, SECRET);
        let r = run(set_body(HOST, &good)).await;
        let changed = format!("{HOST} has been updated to 198.51.100.7");
        assert_eq!((r.status, r.body), (201, body("success", &changed)));
        let r = run(set_body(HOST, &good)).await;
        assert_eq!((r.status, r.body), (200, body("success", MSG_MATCHES)));
        let key = RecordKey::new(Hostname::parse(HOST).unwrap(), RecordType::A);
        assert_eq!(
            provider.current(&key).await.unwrap(),
            vec![RecordValue::from(ip)]
        );
        let r = run(b"execution_mode=get".to_vec()).await;
        assert_eq!((r.status, r.body), (400, body("fail", MSG_NOT_JSON)));
    }

    #[test]
    fn debug_leaves_out_the_hash() {
        let body = UpstreamBody::parse(&set_body(HOST, "abcdef"));
        assert!(!format!("{body:?}").contains("abcdef"));
    }
}
