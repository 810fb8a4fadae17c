//! The seed API (`docs/PROTOCOL.md` section 1), without a transport.
//!
//! [`SeedParams`] holds the four query parameters, however the transport got
//! them (a raw query string, or API Gateway's decoded map). [`SeedApi`] checks
//! the API key, runs the use case and renders the answer; the `render_*`
//! functions give the exact bytes for each outcome:
//!
//! ```text
//! {"return_message": "<message>", "return_status": "success"}
//! {"return_message": "<message>", "return_status": "fail"}
//! ```

use std::net::IpAddr;
use std::sync::Arc;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::HttpResponse;
use super::json::push_str;
use crate::domain::auth::{HashToken, source_ip_text};
use crate::domain::hostname::SentName;
use crate::domain::signed::SignedProof;
use crate::usecases::outcome::{Backend, Failure, HostList, SetOutcome};
use crate::usecases::request::{Credential, ListHostsRequest, PrefixRequest, SetRequest};
use crate::usecases::service::DdnsService;

/// `set`, address already current.
pub const MSG_MATCHES: &str = "Your IP address matches the current Route53 DNS record.";
/// An unknown or missing `mode`.
pub const MSG_BAD_MODE: &str = "You must pass mode=get, mode=set or mode=list_hosts arguments.";
/// Message 1.
pub const MSG_BAD_HASH_FORMAT: &str = "You must pass a valid sha256 hash in the hash= argument.";
/// Message 3.
pub const MSG_HASH_MISMATCH: &str = "Validation hashes do not match.";
/// Message 6.
pub const MSG_NO_READ_PRIVILEGE: &str = "record lacks read permissions";
/// Message 7 (two spaces after the first period, as the original).
pub const MSG_MULTIPLE_VALUES: &str = "You should only have a single value for your dynamic record.  You currently have more than one.";
/// An `internalIp` that is not an address.
pub const MSG_INVALID_ADDRESS: &str =
    "The internalIp argument is not a valid IPv4 or IPv6 address.";

/// A signed request whose `signature` does not match.
pub const MSG_SIGNATURE_MISMATCH: &str = "Validation signatures do not match.";

/// A request that proved its credential, refused because its host name's
/// budget is spent for now.
pub const MSG_HOST_RATE_LIMITED: &str =
    "Too many requests for this host name; wait a minute and try again.";

/// The body API Gateway sends with its 403 for a missing or wrong API key.
pub const FORBIDDEN_BODY: &str = r#"{"message":"Forbidden"}"#;

/// The seed API's parameters, percent-decoded; a missing one is empty.
/// `Debug` leaves out the hash and the signature.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SeedParams {
    /// `mode`: `get`, `set` or `list_hosts`.
    pub mode: String,
    /// `hostname`.
    pub hostname: String,
    /// `hash`.
    pub hash: String,
    /// `internalIp`.
    pub internal_ip: String,
    /// `ipv6prefix`: with `mode=set`, the prefix delegated to the host (a
    /// router), which moves the records that follow it (`docs/PROTOCOL.md`,
    /// "IPv6 prefix"); `-` removes their addresses.
    pub ipv6_prefix: String,
    /// `signature`, `timestamp` and `nonce`: a signed request
    /// (`docs/PROTOCOL.md` section 7) when `signature` is not empty.
    pub signed: SignedProof,
}

impl std::fmt::Debug for SeedParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedParams")
            .field("mode", &self.mode)
            .field("hostname", &self.hostname)
            .field("hash", &"[REDACTED]")
            .field("internal_ip", &self.internal_ip)
            .field("ipv6_prefix", &self.ipv6_prefix)
            .field("signed", &self.signed)
            .finish()
    }
}

impl SeedParams {
    /// Reads the parameters from a raw query string (without the `?`),
    /// percent-decoding them. Unknown parameters are ignored; of repeated
    /// ones the last counts, as API Gateway does.
    ///
    /// ```
    /// use ddns_core::protocols::seed::SeedParams;
    /// let p = SeedParams::from_query("mode=set&hostname=h.example.com&hash=ab%63&internalIp=10.0.0.1");
    /// assert_eq!(p.mode, "set");
    /// assert_eq!(p.hash, "abc");
    /// assert_eq!(p.internal_ip, "10.0.0.1");
    /// ```
    pub fn from_query(query: &str) -> Self {
        Self::from_pairs(form_urlencoded::parse(query.as_bytes()))
    }

    /// Reads the parameters from already-decoded name/value pairs (such as
    /// API Gateway's `queryStringParameters`). Names are case-sensitive.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut params = Self::default();
        for (name, value) in pairs {
            let slot = match name.as_ref() {
                "mode" => &mut params.mode,
                "hostname" => &mut params.hostname,
                "hash" => &mut params.hash,
                "internalIp" => &mut params.internal_ip,
                "ipv6prefix" => &mut params.ipv6_prefix,
                "signature" => &mut params.signed.signature,
                "timestamp" => &mut params.signed.timestamp,
                "nonce" => &mut params.signed.nonce,
                _ => continue,
            };
            *slot = value.into();
        }
        params
    }
}

/// The API keys a deployment accepts in the `x-api-key` header. Empty means
/// no key is required.
#[derive(Clone, Default)]
pub struct ApiKeys(Vec<Zeroizing<String>>);

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeys({} [REDACTED])", self.0.len())
    }
}

impl ApiKeys {
    /// No key required.
    pub fn none() -> Self {
        Self::default()
    }

    /// Requires one of `keys`. Empty keys are ignored.
    pub fn new<I, S>(keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(
            keys.into_iter()
                .map(Into::into)
                .filter(|k: &String| !k.is_empty())
                .map(Zeroizing::new)
                .collect(),
        )
    }

    /// True when keys are configured.
    pub fn required(&self) -> bool {
        !self.0.is_empty()
    }

    /// True when no key is required, or `presented` is one of the keys
    /// (compared in constant time).
    pub fn allows(&self, presented: Option<&str>) -> bool {
        if !self.required() {
            return true;
        }
        let Some(presented) = presented else {
            return false;
        };
        self.0
            .iter()
            .fold(subtle::Choice::from(0), |found, key| {
                found | key.as_bytes().ct_eq(presented.as_bytes())
            })
            .into()
    }
}

/// What a transport hands to [`SeedApi::handle`]. `Debug` leaves out the
/// credentials.
#[derive(Clone)]
#[non_exhaustive]
pub struct SeedHttpRequest<'a> {
    /// The query parameters.
    pub params: SeedParams,
    /// The `x-api-key` header, if sent.
    pub api_key: Option<&'a str>,
    /// The requester's public address (after any trusted-proxy handling).
    pub source: IpAddr,
}

impl<'a> SeedHttpRequest<'a> {
    /// A request with `params` from `source`, without an API key.
    pub fn new(params: SeedParams, source: IpAddr) -> Self {
        Self {
            params,
            api_key: None,
            source,
        }
    }

    /// Sets the `x-api-key` header sent, if any.
    #[must_use]
    pub fn with_api_key(mut self, api_key: Option<&'a str>) -> Self {
        self.api_key = api_key;
        self
    }
}

impl std::fmt::Debug for SeedHttpRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedHttpRequest")
            .field("params", &self.params)
            .field("api_key", &self.api_key.map(|_| "[REDACTED]"))
            .field("source", &self.source)
            .finish()
    }
}

/// The seed API over a [`DdnsService`]: what the server and the Lambda call.
#[derive(Debug, Clone)]
pub struct SeedApi {
    service: Arc<DdnsService>,
    api_keys: ApiKeys,
}

/// Which mode a request asked for, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `mode=get`.
    Get,
    /// `mode=set`.
    Set,
    /// `mode=list_hosts`.
    ListHosts,
    /// Anything else.
    Invalid,
}

impl Mode {
    /// Parses the `mode` parameter (case-sensitive, as the original).
    pub fn parse(mode: &str) -> Self {
        match mode {
            "get" => Self::Get,
            "set" => Self::Set,
            "list_hosts" => Self::ListHosts,
            _ => Self::Invalid,
        }
    }

    /// The mode's name, `invalid` for anything unknown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Set => "set",
            Self::ListHosts => "list_hosts",
            Self::Invalid => "invalid",
        }
    }
}

/// The answer of [`SeedApi::handle_detailed`]: the response plus what
/// happened, for logs and metrics.
#[derive(Debug, Clone)]
pub struct SeedAnswer {
    /// The bytes to send.
    pub response: HttpResponse,
    /// The mode asked for.
    pub mode: Mode,
    /// The failure, if the request failed after the API key check.
    pub failure: Option<Failure>,
    /// True when the API key was missing or wrong (answered 403).
    pub forbidden: bool,
    /// True when DNS was changed.
    pub changed: bool,
}

impl SeedApi {
    /// The API over `service`, accepting `api_keys`.
    pub fn new(service: Arc<DdnsService>, api_keys: ApiKeys) -> Self {
        Self { service, api_keys }
    }

    /// The service behind the API.
    pub fn service(&self) -> &Arc<DdnsService> {
        &self.service
    }

    /// Answers one request.
    pub async fn handle(&self, request: SeedHttpRequest<'_>) -> HttpResponse {
        self.handle_detailed(request).await.response
    }

    /// Answers one request and says what happened.
    pub async fn handle_detailed(&self, request: SeedHttpRequest<'_>) -> SeedAnswer {
        let mode = Mode::parse(&request.params.mode);
        if !self.api_keys.allows(request.api_key) {
            return SeedAnswer {
                response: forbidden(),
                mode,
                failure: None,
                forbidden: true,
                changed: false,
            };
        }
        let SeedParams {
            hostname,
            hash,
            internal_ip,
            ipv6_prefix,
            signed,
            ..
        } = request.params;
        let source = request.source;
        let service = &self.service;
        let name = SentName::parse(&hostname);
        let (response, failure, changed) = match mode {
            Mode::Get => (render_get(service.get(source)), None, false),
            Mode::Set if !ipv6_prefix.trim().is_empty() => {
                self.set_with_prefix(name, &hash, &signed, &internal_ip, &ipv6_prefix, source)
                    .await
            }
            Mode::Set => {
                let result = match set_request(name, &hash, &signed, &internal_ip, source) {
                    Ok(request) => service.set(request).await,
                    Err(failure) => Err(failure),
                };
                let changed = matches!(result, Ok(SetOutcome::Changed { .. }));
                (render_set(&result), result.err(), changed)
            }
            Mode::ListHosts => {
                let result = match credential(&hash, &signed) {
                    Ok(credential) => {
                        service
                            .list_hosts(ListHostsRequest::new(name, credential, source))
                            .await
                    }
                    Err(failure) => Err(failure),
                };
                (render_list_hosts(&result), result.err(), false)
            }
            Mode::Invalid => (fail(MSG_BAD_MODE), None, false),
        };
        SeedAnswer {
            response,
            mode,
            failure,
            forbidden: false,
            changed,
        }
    }
}

impl SeedApi {
    /// A `set` that also reports the host's delegated prefix: the host's
    /// own record is set as without it, then its followers move.
    async fn set_with_prefix(
        &self,
        name: SentName,
        hash: &str,
        signed: &SignedProof,
        internal_ip: &str,
        prefix: &str,
        source: IpAddr,
    ) -> (HttpResponse, Option<Failure>, bool) {
        let refused = |reason: String| {
            let failure = Failure::OutOfScope { reason };
            (render_failure(&failure), Some(failure), false)
        };
        let change = match self.service.prefix_rules().parse(prefix) {
            Ok(change) => change,
            Err(error) => return refused(format!("the ipv6prefix argument: {error}")),
        };
        if !signed.signature.is_empty() {
            // A signature covers neither the prefix nor a second use.
            return refused(
                "ipv6prefix is not accepted with signed requests; send it with hash= (the signature does not cover the prefix)".to_owned(),
            );
        }
        let set = match set_request(name.clone(), hash, signed, internal_ip, source) {
            Ok(request) => self.service.set(request).await,
            Err(failure) => Err(failure),
        };
        let set = match set {
            Ok(outcome) => outcome,
            Err(failure) => return (render_failure(&failure), Some(failure), false),
        };
        let credential = match credential(hash, signed) {
            Ok(credential) => credential,
            Err(failure) => return (render_failure(&failure), Some(failure), false),
        };
        let moved = self
            .service
            .follow_prefix(PrefixRequest::new(name, credential, change, source))
            .await;
        let changed = matches!(set, SetOutcome::Changed { .. });
        match moved {
            Ok(outcome) => {
                if let Some(failure) = outcome.retryable_failure() {
                    return (render_failure(failure), Some(failure.clone()), changed);
                }
                let first = set_message(&set);
                let moved = outcome.changed();
                let total = outcome.followers.len();
                let refused = outcome
                    .followers
                    .iter()
                    .filter(|f| f.result.is_err())
                    .count();
                let message = format!(
                    "{first}; the prefix moved {moved} of {total} following records ({refused} refused by their own rules)"
                );
                (success(&message), None, changed || moved > 0)
            }
            Err(failure) => (render_failure(&failure), Some(failure), changed),
        }
    }
}

/// Decodes a request's credential: its signature when it has one, else its
/// hash token, each checked for format.
///
/// # Errors
///
/// [`Failure::BadHashFormat`] or [`Failure::BadSignedFormat`].
pub fn credential(hash: &str, signed: &SignedProof) -> Result<Credential, Failure> {
    if signed.signature.is_empty() {
        HashToken::parse(hash)
            .map(Credential::Token)
            .map_err(|_| Failure::BadHashFormat)
    } else {
        signed
            .parse()
            .map(Credential::Signed)
            .map_err(Failure::BadSignedFormat)
    }
}

/// Decodes a `set`'s arguments into its typed request: the credential
/// (the signature when there is one, else the hash token), then
/// `internalIp` (empty: the source address), in the protocol's order of
/// checks.
///
/// ```
/// use ddns_core::protocols::seed::set_request;
/// use ddns_core::SentName;
/// use ddns_core::signed::SignedProof;
/// use ddns_core::Failure;
/// let source = "198.51.100.7".parse()?;
/// let name = SentName::parse("home.example.com");
/// let bad = set_request(name.clone(), "abc", &SignedProof::default(), "", source);
/// assert!(matches!(bad, Err(Failure::BadHashFormat)));
/// let ok = set_request(name, &"0".repeat(64), &SignedProof::default(), "10.0.0.2", source);
/// assert_eq!(ok.unwrap().address, Some("10.0.0.2".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`Failure::BadHashFormat`], [`Failure::BadSignedFormat`] or
/// [`Failure::InvalidAddress`].
pub fn set_request(
    name: SentName,
    hash: &str,
    signed: &SignedProof,
    internal_ip: &str,
    source: IpAddr,
) -> Result<SetRequest, Failure> {
    let credential = credential(hash, signed)?;
    let address = match internal_ip {
        "" => None,
        text => Some(
            text.parse::<IpAddr>()
                .map_err(|_| Failure::InvalidAddress {
                    sent: text.chars().take(64).collect(),
                })?,
        ),
    };
    Ok(SetRequest::new(name, credential, source).with_address(address))
}

fn body(message_json: &str, success: bool) -> HttpResponse {
    let status = if success { "success" } else { "fail" };
    HttpResponse::json(
        200,
        format!(r#"{{"return_message": {message_json}, "return_status": "{status}"}}"#),
    )
}

fn text_body(message: &str, success: bool) -> HttpResponse {
    let mut quoted = String::with_capacity(message.len() + 2);
    push_str(&mut quoted, message);
    body(&quoted, success)
}

/// A `success` answer carrying `message`.
pub fn success(message: &str) -> HttpResponse {
    text_body(message, true)
}

/// A `fail` answer carrying `message`.
pub fn fail(message: &str) -> HttpResponse {
    text_body(message, false)
}

/// API Gateway's 403 for a missing or wrong API key.
pub fn forbidden() -> HttpResponse {
    HttpResponse::json(403, FORBIDDEN_BODY.to_owned())
}

/// The answer to `mode=get`: the source address, nothing else with digits.
///
/// ```
/// let r = ddns_core::protocols::seed::render_get("198.51.100.7".parse()?);
/// assert_eq!(r.body, r#"{"return_message": "198.51.100.7", "return_status": "success"}"#);
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
pub fn render_get(source: IpAddr) -> HttpResponse {
    success(&source_ip_text(source))
}

/// The answer to `mode=set`.
pub fn render_set(result: &Result<SetOutcome, Failure>) -> HttpResponse {
    match result {
        Ok(outcome) => success(&set_message(outcome)),
        Err(failure) => render_failure(failure),
    }
}

/// The message of a successful `set`.
fn set_message(outcome: &SetOutcome) -> String {
    match outcome {
        SetOutcome::Unchanged { .. } => MSG_MATCHES.to_owned(),
        SetOutcome::Changed { hostname, address } => format!(
            "Your hostname record {hostname} has been set to {}",
            source_ip_text(*address)
        ),
    }
}

/// The answer to `mode=list_hosts`: the group as a JSON array of
/// `{"record_type", "hostname", "mac_address"}` objects in that key order,
/// `mac_address` left out where none is configured.
pub fn render_list_hosts(result: &Result<HostList, Failure>) -> HttpResponse {
    let list = match result {
        Ok(list) => list,
        Err(failure) => return render_failure(failure),
    };
    let mut array = String::from("[");
    for (i, member) in list.members.iter().enumerate() {
        if i > 0 {
            array.push_str(", ");
        }
        array.push_str(r#"{"record_type": "#);
        push_str(&mut array, member.key.record_type().as_str());
        array.push_str(r#", "hostname": "#);
        push_str(&mut array, member.key.name().as_str());
        if let Some(mac) = &member.mac_address {
            array.push_str(r#", "mac_address": "#);
            push_str(&mut array, mac);
        }
        array.push('}');
    }
    array.push(']');
    body(&array, true)
}

/// The `fail` answer for `failure`. Backend errors are described by kind
/// only: their details are for the operator's logs, not for clients.
pub fn render_failure(failure: &Failure) -> HttpResponse {
    fail(&failure_message(failure))
}

/// The words the seed API gives a client for `failure` (the upstream
/// protocol says the same where its own table has no row). Backend errors
/// are described by kind only.
pub fn failure_message(failure: &Failure) -> String {
    match failure {
        Failure::BadHashFormat => MSG_BAD_HASH_FORMAT.to_owned(),
        Failure::InvalidAddress { .. } => MSG_INVALID_ADDRESS.to_owned(),
        Failure::NotConfigured {
            hostname,
            record_type,
        } => format!(
            "There was an issue finding or reading the DyanmoDB config item for {hostname}: {record_type}"
        ),
        // An unusable record answers as a wrong credential would: what is
        // wrong with it is for the operator's log.
        Failure::HashMismatch | Failure::UnusableRecord { .. } => MSG_HASH_MISMATCH.to_owned(),
        Failure::HostRateLimited { .. } => MSG_HOST_RATE_LIMITED.to_owned(),
        Failure::ConcurrentUpdate { hostname } => format!(
            "Another update of {hostname} was made at the same moment and took effect; send the request again."
        ),
        Failure::Locked { hostname } => {
            format!("The record for {hostname} is locked, update denied.")
        }
        Failure::InternalNotAllowed { hostname } => {
            format!("DDB Permissions for {hostname} disallow internal IPs, update denied.")
        }
        Failure::NotUnicast { address } => format!(
            "The address {} is not a unicast host address and cannot be set.",
            source_ip_text(*address)
        ),
        Failure::NoReadPrivilege => MSG_NO_READ_PRIVILEGE.to_owned(),
        Failure::MultipleValues => MSG_MULTIPLE_VALUES.to_owned(),
        Failure::SignatureRequired { hostname } => format!(
            "The record for {hostname} accepts only signed requests; send signature=, timestamp= and nonce= instead of hash= (see docs/PROTOCOL.md section 7)."
        ),
        Failure::BadSignedFormat(error) => format!("Malformed signed request: {error}."),
        Failure::SignatureMismatch => MSG_SIGNATURE_MISMATCH.to_owned(),
        Failure::StaleTimestamp {
            skew_seconds,
            window_seconds,
        } => format!(
            "The request's timestamp is {skew_seconds} s from the server's clock, more than the {window_seconds} s accepted either way; check the client's clock."
        ),
        Failure::Replayed { hostname } => format!(
            "This signed request was already used, or is older than the last one accepted for {hostname}; sign each request with a new timestamp and nonce."
        ),
        Failure::OutOfScope { reason } => format!("Refused: {reason}."),
        Failure::PrefixRefused { hostname, error } => {
            format!("The prefix cannot move {hostname}: {error}.")
        }
        Failure::Backend { backend, error } => {
            let what = match backend {
                Backend::Store => "The record store",
                Backend::Dns => "The DNS backend",
            };
            if error.is_retryable() {
                format!("{what} is temporarily unavailable; try again later.")
            } else {
                format!(
                    "{what} failed to complete the request; the operator should check the server's logs."
                )
            }
        }
    }
}
