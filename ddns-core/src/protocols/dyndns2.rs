//! The dyndns2 protocol (`docs/PROTOCOL.md` section 6), without a transport:
//! what routers (Fritz!Box, OpenWrt, pfSense, UniFi), ddclient and inadyn
//! speak, served from the same records and rules as the seed API.
//!
//! `GET /nic/update?hostname=h1,h2&myip=...` (or `/update`) with HTTP Basic
//! authentication:
//!
//! - **Password**: the record's shared secret, compared in constant time.
//! - **User name**: one of the host names of the request (trailing dot and
//!   case do not matter). Anything else is `badauth`.
//! - **Several hosts with different secrets**: each host is authenticated
//!   on its own with the one password; hosts it does not open answer
//!   `nohost`. When it opens none of them, the answer is `badauth`.
//! - **Addresses**: `myip` may be absent (the source address is used), one
//!   address, or an IPv4 and an IPv6 address in either order; `myipv6`
//!   carries IPv6 too. An unparseable `myip` is ignored, as dyndns2
//!   specifies, and the source address is used. Each address updates the
//!   host's record of its family; a family without a record is skipped
//!   when the other one has one. The password vouches for the addresses:
//!   any public unicast address of either family is accepted on a record
//!   without `allow_internal` (internal ones still need it), so a
//!   dual-stack router can send its IPv6 address over IPv4.
//! - **Names** are compared as host names (case and trailing dot do not
//!   matter) and de-duplicated before anything else; more than
//!   [`MAX_HOSTNAMES`] distinct names is `numhost`, decided before any
//!   record is looked up.
//! - **A delegated prefix**: `ip6lanprefix` (FRITZ!Box) or `ipv6prefix`
//!   (dynv6), CIDR or `-`, moves the AAAA records that follow each host
//!   the password opened ([`DdnsService::follow_prefix`]), after the
//!   host's own records. A prefix outside the service's
//!   [`crate::prefix::PrefixRules`] is HTTP 400 `badprefix <reason>`,
//!   decided before any record is looked up. A follower's backend failure
//!   turns the host's line into `dnserr` or `911`.
//!
//! One line per host name, in request order: `good <ip> [<ip6>]`,
//! `nochg <ip> [<ip6>]`, `nohost` (no record, or not opened by this
//! password), `notfqdn`, `abuse` (locked, or the address is refused by the
//! record's rules), `dnserr` (DNS failed), `911` (the store failed); more
//! than 20 names is a single `numhost`; `badauth` is HTTP 401 with
//! `WWW-Authenticate`. No error line contains `ok`, `good`, `true`,
//! `updated` or `nochg`, which inadyn takes for success.

use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine as _;

use super::HttpResponse;
use crate::domain::hostname::Hostname;
use crate::domain::hostname::SentName;
use crate::domain::prefix::{PrefixChange, PrefixError};
use crate::domain::secret::SharedSecret;
use crate::usecases::outcome::{Backend, Failure, PrefixOutcome, SetOutcome};
use crate::usecases::request::{Credential, PrefixRequest, SetRequest};
use crate::usecases::service::DdnsService;

/// Most host names in one request.
pub const MAX_HOSTNAMES: usize = 20;

/// True for the paths the protocol uses: `/nic/update` and `/update`.
pub fn is_dyndns2_path(path: &str) -> bool {
    matches!(path.trim_end_matches('/'), "/nic/update" | "/update")
}

/// User name and password of an HTTP Basic `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicAuth {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("user", &self.user)
            .field("password", &"[REDACTED]")
            .finish()
    }
}

impl BasicAuth {
    /// Parses `Basic <base64(user:password)>`; `None` for anything else.
    ///
    /// ```
    /// use ddns_core::protocols::dyndns2::BasicAuth;
    /// let auth = BasicAuth::parse("Basic aG9tZS5leGFtcGxlLmNvbTpzM2NyZXQ=").unwrap();
    /// assert_eq!((auth.user.as_str(), auth.password.as_str()), ("home.example.com", "s3cret"));
    /// ```
    pub fn parse(header: &str) -> Option<Self> {
        let (scheme, encoded) = header.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        Some(Self {
            user: user.to_owned(),
            password: password.to_owned(),
        })
    }
}

/// The query parameters of an update, percent-decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dyndns2Params {
    /// `hostname`: one or more names, comma-separated.
    pub hostname: String,
    /// `myip`: absent, one address, or an IPv4 and an IPv6 address.
    pub myip: Option<String>,
    /// `myipv6`.
    pub myipv6: Option<String>,
    /// The delegated IPv6 prefix: `ip6lanprefix` (FRITZ!Box) or
    /// `ipv6prefix` (dynv6, ipv64), in CIDR form, or `-` to remove the
    /// followers' addresses.
    pub prefix: Option<String>,
}

impl Dyndns2Params {
    /// Reads the parameters from a raw query string.
    pub fn from_query(query: &str) -> Self {
        Self::from_pairs(form_urlencoded::parse(query.as_bytes()))
    }

    /// Reads the parameters from decoded name/value pairs.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut params = Self::default();
        for (name, value) in pairs {
            match name.as_ref() {
                "hostname" => params.hostname = value.into(),
                "myip" => params.myip = Some(value.into()),
                "myipv6" => params.myipv6 = Some(value.into()),
                "ip6lanprefix" | "ipv6prefix" => params.prefix = Some(value.into()),
                _ => {}
            }
        }
        params
    }

    /// The addresses to set: the first IPv4 and the first IPv6 address of
    /// `myip` and `myipv6`; the source address when there is none.
    pub fn addresses(&self, source: IpAddr) -> Vec<IpAddr> {
        let parsed: Vec<IpAddr> = [self.myip.as_deref(), self.myipv6.as_deref()]
            .into_iter()
            .flatten()
            .flat_map(|list| list.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .map(|a| a.to_canonical())
            .collect();
        let v4 = parsed.iter().copied().find(IpAddr::is_ipv4);
        let v6 = parsed.iter().copied().find(IpAddr::is_ipv6);
        let chosen: Vec<IpAddr> = [v4, v6].into_iter().flatten().collect();
        if chosen.is_empty() {
            vec![source.to_canonical()]
        } else {
            chosen
        }
    }
}

/// What a transport hands to [`Dyndns2Api::handle`]. `Debug` leaves out
/// the `Authorization` header.
#[derive(Clone)]
#[non_exhaustive]
pub struct Dyndns2Request<'a> {
    /// The query parameters.
    pub params: Dyndns2Params,
    /// The `Authorization` header, if sent.
    pub authorization: Option<&'a str>,
    /// The requester's public address.
    pub source: IpAddr,
}

impl<'a> Dyndns2Request<'a> {
    /// A request with `params` from `source`, without an `Authorization`
    /// header.
    pub fn new(params: Dyndns2Params, source: IpAddr) -> Self {
        Self {
            params,
            authorization: None,
            source,
        }
    }

    /// Sets the `Authorization` header sent, if any.
    #[must_use]
    pub fn with_authorization(mut self, authorization: Option<&'a str>) -> Self {
        self.authorization = authorization;
        self
    }
}

impl std::fmt::Debug for Dyndns2Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dyndns2Request")
            .field("params", &self.params)
            .field("authorization", &self.authorization.map(|_| "[REDACTED]"))
            .field("source", &self.source)
            .finish()
    }
}

/// The answer of [`Dyndns2Api::handle_detailed`].
#[derive(Debug, Clone)]
pub struct Dyndns2Answer {
    /// The bytes to send.
    pub response: HttpResponse,
    /// The first word of the answer (`good`, `nochg`, `badauth`, ...), for
    /// logs and metrics.
    pub code: &'static str,
    /// How many DNS changes were made.
    pub changes: usize,
    /// How many names of the request proved nothing: a missing or
    /// malformed `Authorization`, a user name that is none of the names,
    /// a password that does not open the name, or a name with no record.
    /// Rate limits charge these to the source as failed authentications.
    pub unproven: usize,
    /// The failures of the hosts that were not updated, in request order,
    /// for the log (never shown to the client beyond their code).
    pub failures: Vec<Failure>,
}

/// The dyndns2 protocol over a [`DdnsService`].
#[derive(Debug, Clone)]
pub struct Dyndns2Api {
    service: Arc<DdnsService>,
}

/// The 401 answer to a request that is not authenticated.
pub fn badauth() -> HttpResponse {
    let mut r = HttpResponse::text(401, "badauth\n".to_owned());
    r.headers
        .push(("www-authenticate", r#"Basic realm="ddns""#.to_owned()));
    r
}

/// `abuse`: the client is refused for its behaviour (its request rate).
pub fn abuse() -> HttpResponse {
    HttpResponse::text(200, "abuse\n".to_owned())
}

/// `911`: a server-side problem; the client should retry after a while.
pub fn server_error() -> HttpResponse {
    HttpResponse::text(200, "911\n".to_owned())
}

/// `badprefix`: the prefix is not one the rules accept; HTTP 400, nothing
/// changed. The reason never repeats the text sent, so it cannot carry a
/// word a client takes for success.
pub fn bad_prefix(error: &PrefixError) -> HttpResponse {
    let reason = match error {
        PrefixError::Length { .. } => error.to_string(),
        _ => {
            "the prefix is not an IPv6 prefix in CIDR form, like 2001:db8:1234:5600::/56".to_owned()
        }
    };
    HttpResponse::text(400, format!("badprefix {reason}\n"))
}

/// How one host of a request ended.
enum HostResult {
    Done {
        changed: bool,
        addresses: Vec<IpAddr>,
    },
    /// Refused with this code after the password opened the host (or for a
    /// name that is no FQDN).
    Code(&'static str, Option<Failure>),
    /// No record, of any family asked for.
    NoHost,
    /// The password does not open it (or its record is unusable).
    NotOpened(Option<Failure>),
}

fn failure_code(failure: &Failure) -> &'static str {
    match failure {
        Failure::NotConfigured { .. } => "nohost",
        Failure::Locked { .. }
        | Failure::InternalNotAllowed { .. }
        | Failure::NotUnicast { .. }
        | Failure::InvalidAddress { .. } => "abuse",
        Failure::MultipleValues => "dnserr",
        Failure::PrefixRefused { .. } => "abuse",
        // dyndns2's word for "slow down".
        Failure::HostRateLimited { .. } => "abuse",
        // A server-side condition the client should retry after a while.
        Failure::ConcurrentUpdate { .. } => "911",
        Failure::Backend {
            backend: Backend::Dns,
            ..
        } => "dnserr",
        Failure::Backend {
            backend: Backend::Store,
            ..
        } => "911",
        _ => "911",
    }
}

/// The names of a `hostname` argument, in request order, without empty
/// entries and without repeats (compared as host names where they parse).
fn distinct_names(list: &str) -> Vec<&str> {
    let mut seen: Vec<String> = Vec::new();
    let mut names = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let canonical = Hostname::parse(name)
            .map_or_else(|_| name.to_ascii_lowercase(), |h| h.as_str().to_owned());
        if !seen.contains(&canonical) {
            seen.push(canonical);
            names.push(name);
        }
        // Past the cap the answer is numhost whatever follows.
        if names.len() > MAX_HOSTNAMES {
            break;
        }
    }
    names
}

fn same_name(a: &str, b: &str) -> bool {
    match (Hostname::parse(a), Hostname::parse(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

impl Dyndns2Api {
    /// The protocol over `service`.
    pub fn new(service: Arc<DdnsService>) -> Self {
        Self { service }
    }

    /// Answers one request.
    pub async fn handle(&self, request: Dyndns2Request<'_>) -> HttpResponse {
        self.handle_detailed(request).await.response
    }

    /// Answers one request and says how it ended.
    pub async fn handle_detailed(&self, request: Dyndns2Request<'_>) -> Dyndns2Answer {
        let answer = |response, code, changes, unproven, failures| Dyndns2Answer {
            response,
            code,
            changes,
            unproven,
            failures,
        };
        let names = distinct_names(&request.params.hostname);
        // Decided before any lookup, so a long list costs nothing.
        if names.len() > MAX_HOSTNAMES {
            return answer(
                HttpResponse::text(200, "numhost\n".to_owned()),
                "numhost",
                0,
                0,
                Vec::new(),
            );
        }
        let unproven_all = names.len().max(1);
        let Some(auth) = request.authorization.and_then(BasicAuth::parse) else {
            return answer(badauth(), "badauth", 0, unproven_all, Vec::new());
        };
        if names.is_empty() {
            return answer(
                HttpResponse::text(200, "notfqdn\n".to_owned()),
                "notfqdn",
                0,
                0,
                Vec::new(),
            );
        }
        if !names.iter().any(|n| same_name(n, &auth.user)) {
            return answer(badauth(), "badauth", 0, unproven_all, Vec::new());
        }
        let prefix = match request.params.prefix.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => match self.service.prefix_rules().parse(text) {
                Ok(change) => Some(change),
                Err(error) => {
                    return answer(bad_prefix(&error), "badprefix", 0, 0, Vec::new());
                }
            },
        };
        let addresses = request.params.addresses(request.source);
        let mut results = Vec::with_capacity(names.len());
        let mut prefix_failures = Vec::new();
        let mut prefix_changes = 0;
        for name in &names {
            let mut result = self
                .update_host(name, &auth.password, &addresses, request.source)
                .await;
            if let (Some(change), HostResult::Done { .. }) = (prefix, &result) {
                let moved = self
                    .move_followers(name, &auth.password, change, request.source)
                    .await;
                match moved {
                    Ok(outcome) => {
                        prefix_changes += outcome.changed();
                        if let Some(failure) = outcome.retryable_failure() {
                            result = HostResult::Code(failure_code(failure), None);
                        }
                        prefix_failures.extend(
                            outcome
                                .followers
                                .into_iter()
                                .filter_map(|follower| follower.result.err()),
                        );
                    }
                    Err(failure) => {
                        result = HostResult::Code(failure_code(&failure), None);
                        prefix_failures.push(failure);
                    }
                }
            }
            results.push(result);
        }
        let unproven = results
            .iter()
            .filter(|r| matches!(r, HostResult::NotOpened(_) | HostResult::NoHost))
            .count();
        let mut failures = Vec::new();
        if !results
            .iter()
            .any(|r| matches!(r, HostResult::Done { .. } | HostResult::Code(..)))
        {
            for result in results {
                if let HostResult::NotOpened(Some(failure)) = result {
                    failures.push(failure);
                }
            }
            return answer(badauth(), "badauth", 0, unproven, failures);
        }
        let mut body = String::new();
        let mut first = None;
        let mut changes = 0;
        for result in results {
            let line = match result {
                HostResult::Done { changed, addresses } => {
                    let word = if changed { "good" } else { "nochg" };
                    if changed {
                        changes += 1;
                    }
                    let list: Vec<String> = addresses.iter().map(ToString::to_string).collect();
                    first.get_or_insert(word);
                    format!("{word} {}", list.join(" "))
                }
                HostResult::Code(code, failure) => {
                    failures.extend(failure);
                    first.get_or_insert(code);
                    code.to_owned()
                }
                HostResult::NoHost | HostResult::NotOpened(_) => {
                    if let HostResult::NotOpened(Some(failure)) = result {
                        failures.push(failure);
                    }
                    first.get_or_insert("nohost");
                    "nohost".to_owned()
                }
            };
            body.push_str(&line);
            body.push('\n');
        }
        failures.extend(prefix_failures);
        answer(
            HttpResponse::text(200, body),
            first.unwrap_or("nohost"),
            changes + prefix_changes,
            unproven,
            failures,
        )
    }

    /// Moves the followers of `name` to `change`, with the password that
    /// opened `name`'s own record.
    async fn move_followers(
        &self,
        name: &str,
        password: &str,
        change: PrefixChange,
        source: IpAddr,
    ) -> Result<PrefixOutcome, Failure> {
        let request = PrefixRequest::new(
            SentName::parse(name),
            Credential::Password(SharedSecret::new(password)),
            change,
            source,
        );
        self.service.follow_prefix(request).await
    }

    async fn update_host(
        &self,
        name: &str,
        password: &str,
        addresses: &[IpAddr],
        source: IpAddr,
    ) -> HostResult {
        match Hostname::parse(name) {
            Ok(h) if h.label_count() >= 2 => {}
            _ => return HostResult::Code("notfqdn", None),
        }
        let mut outcomes = Vec::with_capacity(addresses.len());
        for &address in addresses {
            let request = SetRequest::new(
                SentName::parse(name),
                Credential::Password(SharedSecret::new(password)),
                source,
            )
            .with_address(Some(address));
            outcomes.push(self.service.set(request).await);
        }
        let configured: Vec<Result<SetOutcome, Failure>> = outcomes
            .into_iter()
            .filter(|o| !matches!(o, Err(Failure::NotConfigured { .. })))
            .collect();
        if configured.is_empty() {
            return HostResult::NoHost;
        }
        let mut changed = false;
        let mut set = Vec::new();
        for outcome in configured {
            match outcome {
                Ok(SetOutcome::Changed { address, .. }) => {
                    changed = true;
                    set.push(address);
                }
                Ok(SetOutcome::Unchanged { address }) => set.push(address),
                Err(Failure::HashMismatch) => return HostResult::NotOpened(None),
                Err(failure @ Failure::UnusableRecord { .. }) => {
                    return HostResult::NotOpened(Some(failure));
                }
                // dyndns2 has no word for "use another scheme": the password
                // alone does not open a record that requires signed requests.
                Err(failure @ Failure::SignatureRequired { .. }) => {
                    return HostResult::NotOpened(Some(failure));
                }
                Err(failure) => {
                    let code = failure_code(&failure);
                    return HostResult::Code(code, Some(failure));
                }
            }
        }
        HostResult::Done {
            changed,
            addresses: set,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_parses_and_rejects() {
        assert!(BasicAuth::parse("Bearer abc").is_none());
        assert!(BasicAuth::parse("Basic !!!").is_none());
        assert!(BasicAuth::parse("Basic dXNlcg==").is_none(), "no colon");
        let auth = BasicAuth::parse("basic dXNlcjpwYTpzcw==").unwrap();
        assert_eq!(
            (auth.user.as_str(), auth.password.as_str()),
            ("user", "pa:ss")
        );
        assert!(!format!("{auth:?}").contains("pa:ss"));
    }

    #[test]
    fn addresses_follow_myip_in_either_order() {
        let source: IpAddr = "198.51.100.1".parse().unwrap();
        let p = |myip: Option<&str>, myipv6: Option<&str>| Dyndns2Params {
            hostname: String::new(),
            myip: myip.map(Into::into),
            myipv6: myipv6.map(Into::into),
            prefix: None,
        };
        let v4: IpAddr = "198.51.100.7".parse().unwrap();
        let v6: IpAddr = "2001:db8::7".parse().unwrap();
        assert_eq!(p(None, None).addresses(source), [source]);
        assert_eq!(p(Some("198.51.100.7"), None).addresses(source), [v4]);
        assert_eq!(
            p(Some("198.51.100.7,2001:db8::7"), None).addresses(source),
            [v4, v6]
        );
        assert_eq!(
            p(Some("2001:db8::7, 198.51.100.7"), None).addresses(source),
            [v4, v6]
        );
        assert_eq!(
            p(Some("198.51.100.7"), Some("2001:db8::7")).addresses(source),
            [v4, v6]
        );
        assert_eq!(p(None, Some("2001:db8::7")).addresses(source), [v6]);
        assert_eq!(
            p(Some("not-an-ip"), None).addresses(source),
            [source],
            "invalid myip: the source"
        );
        assert!(
            is_dyndns2_path("/nic/update") && is_dyndns2_path("/update") && !is_dyndns2_path("/")
        );
    }
}
