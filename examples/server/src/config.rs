//! The server's configuration: a TOML file, overridden by environment
//! variables and command-line flags, with defaults that run a complete
//! system on one machine.
//!
//! ```toml
//! [http]
//! listen = ["127.0.0.1:8080"]      # seed API, dyndns2, /healthz, /metrics
//! api_keys = []                    # x-api-key values; empty: none required
//! trusted_proxies = []             # CIDRs whose X-Forwarded-For is believed
//! max_connections_per_source = 64  # open connections one address may hold
//! health_cache_ms = 5000           # /healthz reads the backends this often
//!
//! # [admin_http]                   # REST API, web page, /healthz and /metrics
//! # listen = ["127.0.0.1:8081"]    # (the default; /healthz, /metrics leave the API)
//! # tls = false                    # true: HTTPS with [tls]'s certificate
//! # tokens_file = "ddns.sqlite3.admin-tokens.json"   # admin tokens (the default)
//! # public_url = "https://ddns.example.net"  # for the page's client settings
//! # failed_tokens_per_minute = 10  # then the source is refused for a minute
//!
//! [dns]
//! listen = ["127.0.0.1:5353"]      # embedded authoritative DNS, UDP and TCP
//! tcp_max_connections = 256        # DNS-over-TCP connections at once
//! tcp_idle_timeout_secs = 10       # an idle DNS TCP connection is closed
//! updates = true                   # RFC 2136 UPDATE with each record's own TSIG key
//! tsig_fudge_secs = 300            # accepted clock skew of TSIG-signed messages
//! # [[dns.operator_keys]]          # an operator's key (external-dns, Kea) and its grants
//! # key_file = "/etc/ddns/kea.key"
//! # grants = [{ subdomain = "lan.example.com", types = ["A", "AAAA"] }]
//!
//! [zone]                         # one zone; for several, [[zones]] below
//! name = "example.com"
//! default_ttl = 60
//! soa_refresh_secs = 3600          # the embedded DNS's SOA timers
//! soa_retry_secs = 600
//! soa_expire_secs = 1209600
//! negative_ttl_secs = 60           # the SOA minimum
//! dnssec = false                   # sign the zone (ECDSA P-256 CSK, NSEC)
//! # dnssec_key_file = "example.com.dnssec.key"   # default: beside the database
//! dnssec_signature_validity_secs = 1209600       # re-signed after half of it
//! # [[zone.secondaries]]           # a secondary (BIND, Knot, a DNS service)
//! # address = "192.0.2.53"         # NOTIFY goes here (port 53); AXFR answered to this IP
//! # key_file = "/etc/ddns/xfr.key" # its TSIG transfer key (or key_name + key_secret)
//!
//! [service]
//! recheck_interval_secs = 300      # trust a known DNS value this long
//! coalesce_window_ms = 0           # 0: batch while the backend is busy
//! access_write_delay_ms = 1000     # batch last_checked/last_accessed writes
//! record_cache_ttl_ms = 1000       # reuse records read from the store
//! signed_window_secs = 300         # accepted clock skew of signed requests
//! provider_timeout_ms = 10000      # a DNS backend call taking longer fails
//!
//! [acme]                         # ACME DNS-01: lego httpreq, acme-dns
//! enabled = true                   # a host's secret may set _acme-challenge.HOST TXT
//! ttl_secs = 60                    # TTL of challenge values
//! max_values = 8                   # values per name at once; the oldest go
//! max_age_secs = 10800             # values nobody cleaned up are removed
//!
//! [prefix]                       # IPv6 prefixes routers report (ip6lanprefix)
//! min_len = 48                     # shortest prefix accepted
//! max_len = 64                     # longest prefix accepted
//!
//! [limits]
//! per_source_per_minute = 120      # token buckets per address and host
//! failed_auth_cost = 10
//!
//! [store]
//! kind = "sqlite"                  # or kind = "dynamodb", table = "ddns-config"
//! path = "ddns.sqlite3"
//!
//! [provider]
//! kind = "embedded"                # or "rfc2136" or "route53" (below)
//! # kind = "rfc2136"
//! # server = "127.0.0.1:53"
//! # key_file = "/etc/bind/ddns.key"
//!
//! [control]
//! # socket = "ddns.sqlite3.sock"   # where admin commands reach a running server
//! ```
//!
//! Several zones, each with its own provider, replace `[zone]` and
//! `[provider]` (give one form or the other):
//!
//! ```toml
//! [[zones]]
//! name = "example.com"             # served by the embedded DNS
//!
//! [[zones]]
//! name = "example.net"
//! provider = { kind = "rfc2136", server = "192.0.2.53:53", key_file = "/etc/bind/ddns.key" }
//! ```
//!
//! [`Config::validate`](crate::settings) turns the file into typed
//! [`ValidConfig`](crate::settings::ValidConfig) settings.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;

/// A configuration that cannot be used, naming the setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a wrong or unknown key.
    #[error("the configuration file {} is invalid: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's description, with line and key.
        message: String,
    },
    /// A setting has a value that cannot work.
    #[error("{setting} = {value:?}: {reason}")]
    Invalid {
        /// The setting, as `section.key` (`zones[1].name` in a list).
        setting: String,
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(
        setting: impl Into<String>,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            setting: setting.into(),
            value: value.into(),
            reason: reason.into(),
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The HTTP side.
    #[serde(default)]
    pub http: HttpConfig,
    /// The embedded DNS server.
    #[serde(default)]
    pub dns: DnsConfig,
    /// The one zone served (with `[provider]`); the default when neither
    /// it nor `[[zones]]` is given is `example.com` on the embedded DNS.
    #[serde(default)]
    pub zone: Option<ZoneSection>,
    /// Several zones, each with its own `provider`; replaces `[zone]` and
    /// `[provider]`.
    #[serde(default)]
    pub zones: Vec<ZoneSection>,
    /// Tuning of the use cases.
    #[serde(default)]
    pub service: ServiceSection,
    /// ACME DNS-01 challenges.
    #[serde(default)]
    pub acme: AcmeSection,
    /// Delegated IPv6 prefixes that routers report.
    #[serde(default)]
    pub prefix: PrefixSection,
    /// HTTPS listeners and their certificate; none by default.
    #[serde(default)]
    pub tls: Option<crate::tls::TlsConfig>,
    /// Listeners of their own for `/healthz` and `/metrics`; none by
    /// default (they are served beside the API).
    #[serde(default)]
    pub admin_http: Option<AdminHttpConfig>,
    /// Rate limits of the HTTP side.
    #[serde(default)]
    pub limits: crate::limits::LimitsConfig,
    /// Where records live.
    #[serde(default)]
    pub store: StoreConfig,
    /// What changes DNS for `[zone]` (default: the embedded DNS).
    #[serde(default)]
    pub provider: Option<ProviderConfig>,
    /// Where admin commands reach a running server.
    #[serde(default)]
    pub control: ControlConfig,
    /// `--zone` / `DDNS_ZONE`, applied by [`Config::validate`].
    #[serde(skip)]
    pub(crate) zone_override: Option<String>,
}

/// `[control]`: the local socket through which admin commands (`remove`)
/// act through a running server, so that its embedded DNS changes at once.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlConfig {
    /// The Unix socket; default `<store.path>.sock` for SQLite, none for
    /// DynamoDB. Only this user may connect.
    #[serde(default)]
    pub socket: Option<PathBuf>,
}

/// `[http]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Addresses to listen on (IPv4 and IPv6 alike).
    #[serde(default = "default_http_listen")]
    pub listen: Vec<SocketAddr>,
    /// Accepted `x-api-key` values; empty means no key is required.
    #[serde(default)]
    pub api_keys: Vec<String>,
    /// Networks of reverse proxies whose `X-Forwarded-For` is believed.
    #[serde(default)]
    pub trusted_proxies: Vec<IpNet>,
    /// Seconds a request may take, headers included, before it is cut off.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
    /// Connections served at once; more wait to be accepted.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Connections one source address may have open at once (HTTP and
    /// HTTPS together); more are closed at accept. Trusted proxies are not
    /// limited.
    #[serde(default = "default_max_connections_per_source")]
    pub max_connections_per_source: usize,
    /// Milliseconds a `/healthz` result is kept before the backends are
    /// read again.
    #[serde(default = "default_health_cache")]
    pub health_cache_ms: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: default_http_listen(),
            api_keys: Vec::new(),
            trusted_proxies: Vec::new(),
            request_timeout_secs: default_request_timeout(),
            max_connections: default_max_connections(),
            max_connections_per_source: default_max_connections_per_source(),
            health_cache_ms: default_health_cache(),
        }
    }
}

/// `[admin_http]`: the admin listener. It serves `/healthz` and
/// `/metrics` (which then leave the API's listeners), the REST API under
/// `/api/v1/` and the web page, both behind admin tokens
/// (`ddns-server admin-token create`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminHttpConfig {
    /// Addresses to listen on; loopback by default. Keep them private, or
    /// serve them over TLS (`tls = true`).
    #[serde(default = "default_admin_listen")]
    pub listen: Vec<SocketAddr>,
    /// Serve the admin listener over HTTPS with `[tls]`'s certificate (and
    /// mark the page's cookie `Secure`).
    #[serde(default)]
    pub tls: bool,
    /// The admin tokens' file (default: beside the SQLite database, as
    /// `<store.path>.admin-tokens.json`).
    #[serde(default)]
    pub tokens_file: Option<PathBuf>,
    /// The API's base URL as clients reach it, for the ready-to-paste
    /// client settings the page shows (default: the first `http.listen`
    /// address).
    #[serde(default)]
    pub public_url: Option<String>,
    /// Failed admin tokens one source may present a minute before it is
    /// refused for the rest of that minute.
    #[serde(default = "default_failed_tokens")]
    pub failed_tokens_per_minute: u32,
}

fn default_admin_listen() -> Vec<SocketAddr> {
    vec![SocketAddr::from(([127, 0, 0, 1], 8081))]
}

fn default_failed_tokens() -> u32 {
    10
}

/// `[dns]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsConfig {
    /// Addresses the embedded DNS server listens on, UDP and TCP.
    #[serde(default = "default_dns_listen")]
    pub listen: Vec<SocketAddr>,
    /// DNS-over-TCP connections served at once; more are closed at accept.
    #[serde(default = "default_dns_tcp_max")]
    pub tcp_max_connections: usize,
    /// Seconds a DNS TCP connection may stay idle before it is closed.
    #[serde(default = "default_dns_tcp_idle")]
    pub tcp_idle_timeout_secs: u64,
    /// Whether RFC 2136 UPDATE signed with a record's own TSIG key (named
    /// after its host, its secret the record's) is accepted.
    #[serde(default = "default_true")]
    pub updates: bool,
    /// Seconds a TSIG-signed message's time may be from the server's.
    #[serde(default = "default_tsig_fudge")]
    pub tsig_fudge_secs: u16,
    /// Operators' TSIG keys and what each may change (external-dns, Kea
    /// DHCP-DDNS): `[[dns.operator_keys]]`.
    #[serde(default)]
    pub operator_keys: Vec<OperatorKeySection>,
}

/// `[[dns.operator_keys]]`: a TSIG key (a BIND key file, or name and
/// secret) and its grants.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorKeySection {
    /// A BIND-style key file (`key "name" { algorithm ...; secret "...";
    /// };`).
    pub key_file: Option<PathBuf>,
    /// The key's name, with `key_secret` (instead of `key_file`).
    pub key_name: Option<String>,
    /// The algorithm (default hmac-sha256).
    pub key_algorithm: Option<String>,
    /// The base64 secret.
    pub key_secret: Option<String>,
    /// What the key may change.
    pub grants: Vec<GrantSection>,
}

/// One grant: `name` (exactly) or `subdomain` (and below), and types.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantSection {
    /// Exactly this name.
    pub name: Option<String>,
    /// This name and every name below it.
    pub subdomain: Option<String>,
    /// Record types: "A", "AAAA", "TXT".
    pub types: Vec<String>,
}

impl Default for DnsConfig {
    fn default() -> Self {
        Self {
            listen: default_dns_listen(),
            tcp_max_connections: default_dns_tcp_max(),
            tcp_idle_timeout_secs: default_dns_tcp_idle(),
            updates: true,
            tsig_fudge_secs: default_tsig_fudge(),
            operator_keys: Vec::new(),
        }
    }
}

fn default_tsig_fudge() -> u16 {
    ddns_authoritative::DEFAULT_TSIG_FUDGE
}

/// `[zone]`, or one entry of `[[zones]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneSection {
    /// The zone's apex; every record must lie in it.
    #[serde(default = "default_zone")]
    pub name: String,
    /// TTL of records that set none.
    #[serde(default = "default_ttl")]
    pub default_ttl: u32,
    /// Name servers of the zone (NS records); default `ns1.<zone>`.
    #[serde(default)]
    pub nameservers: Vec<String>,
    /// Hostmaster mailbox as a name; default `hostmaster.<zone>`.
    #[serde(default)]
    pub hostmaster: Option<String>,
    /// The embedded DNS's SOA refresh, in seconds (default 3600).
    #[serde(default = "default_soa_refresh")]
    pub soa_refresh_secs: u32,
    /// The SOA retry, in seconds (default 600).
    #[serde(default = "default_soa_retry")]
    pub soa_retry_secs: u32,
    /// The SOA expire, in seconds (default 1209600, two weeks).
    #[serde(default = "default_soa_expire")]
    pub soa_expire_secs: u32,
    /// The SOA minimum: how long resolvers keep a negative answer, in
    /// seconds (default 60).
    #[serde(default = "default_soa_minimum")]
    pub negative_ttl_secs: u32,
    /// What changes DNS for this zone (default: the embedded DNS). In the
    /// `[zone]` form it may be given as `[provider]` instead.
    #[serde(default)]
    pub provider: Option<ProviderConfig>,
    /// Whether the embedded DNS signs the zone (DNSSEC, one ECDSA P-256
    /// key, NSEC).
    #[serde(default)]
    pub dnssec: bool,
    /// The zone's DNSSEC key (PEM, PKCS#8), created 0600 when missing;
    /// default `<zone>.dnssec.key` beside the SQLite database.
    #[serde(default)]
    pub dnssec_key_file: Option<PathBuf>,
    /// How long a DNSSEC signature is valid, in seconds (default 14 days);
    /// each is made again after half of it.
    #[serde(default = "default_signature_validity")]
    pub dnssec_signature_validity_secs: u64,
    /// The embedded DNS's secondary name servers (`[[zone.secondaries]]`):
    /// they may transfer the zone and get a NOTIFY after every change.
    #[serde(default)]
    pub secondaries: Vec<SecondarySection>,
}

/// `[[zone.secondaries]]`: a secondary name server of the embedded DNS
/// and its TSIG transfer key (a BIND key file, or name and secret).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecondarySection {
    /// Where NOTIFY goes (`192.0.2.53`, port 53, or `192.0.2.53:5300`);
    /// transfers are answered to requests from its IP address.
    pub address: String,
    /// A BIND-style key file with the transfer key.
    pub key_file: Option<PathBuf>,
    /// The key's name, with `key_secret` (instead of `key_file`).
    pub key_name: Option<String>,
    /// The algorithm (default hmac-sha256).
    pub key_algorithm: Option<String>,
    /// The base64 secret.
    pub key_secret: Option<String>,
    /// Set to true to let the address alone (no TSIG key) authorise
    /// transfers, for a secondary that cannot sign.
    #[serde(default)]
    pub unsigned: bool,
}

impl Default for ZoneSection {
    fn default() -> Self {
        Self {
            name: default_zone(),
            default_ttl: default_ttl(),
            nameservers: Vec::new(),
            hostmaster: None,
            soa_refresh_secs: default_soa_refresh(),
            soa_retry_secs: default_soa_retry(),
            soa_expire_secs: default_soa_expire(),
            negative_ttl_secs: default_soa_minimum(),
            provider: None,
            dnssec: false,
            dnssec_key_file: None,
            dnssec_signature_validity_secs: default_signature_validity(),
            secondaries: Vec::new(),
        }
    }
}

/// `[service]`: how the use cases trade backend calls for freshness.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSection {
    /// Seconds a known DNS value is trusted before DNS is read again.
    #[serde(default = "default_recheck")]
    pub recheck_interval_secs: u64,
    /// Milliseconds each batch of DNS changes waits for more before it
    /// goes; 0 (the default): at once when the backend is idle, batched
    /// while it is busy.
    #[serde(default = "default_window")]
    pub coalesce_window_ms: u64,
    /// Milliseconds the access state (`last_checked`, `last_accessed`) of
    /// requests is gathered before one write; 0 writes on every request.
    #[serde(default = "default_access_delay")]
    pub access_write_delay_ms: u64,
    /// Milliseconds a record read from the store is reused; changes made
    /// outside this server (admin commands) apply within this time. 0
    /// reads the store on every request.
    #[serde(default = "default_cache_ttl")]
    pub record_cache_ttl_ms: u64,
    /// Seconds a signed request's timestamp may be from the server's clock,
    /// either way.
    #[serde(default = "default_signed_window")]
    pub signed_window_secs: u64,
    /// Milliseconds one DNS backend call may take before the request fails
    /// (keep it under `http.request_timeout_secs`).
    #[serde(default = "default_provider_timeout")]
    pub provider_timeout_ms: u64,
}

impl Default for ServiceSection {
    fn default() -> Self {
        Self {
            recheck_interval_secs: default_recheck(),
            coalesce_window_ms: default_window(),
            access_write_delay_ms: default_access_delay(),
            record_cache_ttl_ms: default_cache_ttl(),
            signed_window_secs: default_signed_window(),
            provider_timeout_ms: default_provider_timeout(),
        }
    }
}

/// `[acme]`: ACME DNS-01 challenge values at `_acme-challenge.<host>`,
/// set with the host's own credential.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcmeSection {
    /// Whether the ACME interfaces (lego httpreq, acme-dns) are served.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// TTL of challenge TXT records, in seconds.
    #[serde(default = "default_acme_ttl")]
    pub ttl_secs: u32,
    /// Values one challenge name holds at once; past it the oldest go.
    #[serde(default = "default_acme_max_values")]
    pub max_values: usize,
    /// Seconds after a name's last change when values nobody cleaned up
    /// are removed.
    #[serde(default = "default_acme_max_age")]
    pub max_age_secs: u64,
}

impl Default for AcmeSection {
    fn default() -> Self {
        Self {
            enabled: true,
            ttl_secs: default_acme_ttl(),
            max_values: default_acme_max_values(),
            max_age_secs: default_acme_max_age(),
        }
    }
}

/// `[prefix]`: the delegated IPv6 prefixes a router may report for the
/// AAAA records that follow it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefixSection {
    /// The shortest prefix accepted (ISPs delegate /48 at most).
    #[serde(default = "default_prefix_min_len")]
    pub min_len: u8,
    /// The longest prefix accepted (/64: one network, the hosts' SLAAC
    /// identifiers below it).
    #[serde(default = "default_prefix_max_len")]
    pub max_len: u8,
}

impl Default for PrefixSection {
    fn default() -> Self {
        Self {
            min_len: default_prefix_min_len(),
            max_len: default_prefix_max_len(),
        }
    }
}

fn default_prefix_min_len() -> u8 {
    ddns_core::prefix::DEFAULT_MIN_PREFIX_LEN
}

fn default_prefix_max_len() -> u8 {
    ddns_core::prefix::DEFAULT_MAX_PREFIX_LEN
}

fn default_true() -> bool {
    true
}

fn default_acme_ttl() -> u32 {
    ddns_core::challenge::DEFAULT_CHALLENGE_TTL
}

fn default_acme_max_values() -> usize {
    ddns_core::challenge::DEFAULT_CHALLENGE_MAX_VALUES
}

fn default_acme_max_age() -> u64 {
    ddns_core::challenge::DEFAULT_CHALLENGE_MAX_AGE.as_secs()
}

/// `[store]`: where records live.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum StoreConfig {
    /// A SQLite file (the default).
    Sqlite {
        /// The database file; created and seeded when missing.
        #[serde(default = "default_db")]
        path: PathBuf,
    },
    /// The original stack's DynamoDB table, shared by a fleet of servers
    /// or with the Lambda. AWS credentials come from the environment.
    Dynamodb {
        /// The table (`<stack>-config`).
        table: String,
        /// Its layout, `classic` or `current` (default: read from the
        /// table's key schema at start).
        #[serde(default)]
        layout: Option<String>,
        /// The AWS region (default: from the environment).
        #[serde(default)]
        region: Option<String>,
        /// An endpoint override, for local emulators.
        #[serde(default)]
        endpoint_url: Option<String>,
    },
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self::Sqlite { path: default_db() }
    }
}

/// `[provider]`, or a zone's `provider`: what changes DNS.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ProviderConfig {
    /// The embedded authoritative DNS server (the default).
    #[default]
    Embedded,
    /// A Route 53 hosted zone for `zone.name`. AWS credentials come from
    /// the environment. `[dns]` is not used then.
    Route53 {
        /// The hosted zone id.
        zone_id: String,
        /// The AWS region (default: from the environment).
        #[serde(default)]
        region: Option<String>,
        /// An endpoint override, for local emulators.
        #[serde(default)]
        endpoint_url: Option<String>,
    },
    /// RFC 2136 dynamic updates with TSIG to the zone's primary server
    /// (BIND, Knot, PowerDNS, Windows DNS). `[dns]` is not used then.
    Rfc2136 {
        /// The primary server, `address:port`.
        server: SocketAddr,
        /// A BIND-style key file (as `tsig-keygen` writes it).
        #[serde(default)]
        key_file: Option<PathBuf>,
        /// The key's name, when not using `key_file`.
        #[serde(default)]
        key_name: Option<String>,
        /// `hmac-sha256` (default), `hmac-sha384` or `hmac-sha512`.
        #[serde(default)]
        key_algorithm: Option<String>,
        /// The key's base64 secret, when not using `key_file`.
        #[serde(default)]
        key_secret: Option<String>,
        /// Seconds to wait for the server.
        #[serde(default = "default_rfc2136_timeout")]
        timeout_secs: u64,
    },
}

fn default_rfc2136_timeout() -> u64 {
    5
}

fn default_http_listen() -> Vec<SocketAddr> {
    vec![SocketAddr::from(([127, 0, 0, 1], 8080))]
}
fn default_dns_listen() -> Vec<SocketAddr> {
    vec![SocketAddr::from(([127, 0, 0, 1], 5353))]
}
fn default_request_timeout() -> u64 {
    30
}
fn default_max_connections() -> usize {
    1024
}
fn default_max_connections_per_source() -> usize {
    64
}
fn default_health_cache() -> u64 {
    5000
}
fn default_dns_tcp_max() -> usize {
    256
}
fn default_dns_tcp_idle() -> u64 {
    10
}
fn default_zone() -> String {
    "example.com".to_owned()
}
fn default_signature_validity() -> u64 {
    ddns_authoritative::DEFAULT_SIGNATURE_VALIDITY.as_secs()
}

fn default_soa_refresh() -> u32 {
    ddns_authoritative::SoaTimers::default().refresh
}

fn default_soa_retry() -> u32 {
    ddns_authoritative::SoaTimers::default().retry
}

fn default_soa_expire() -> u32 {
    ddns_authoritative::SoaTimers::default().expire
}

fn default_soa_minimum() -> u32 {
    ddns_authoritative::SoaTimers::default().minimum
}

fn default_ttl() -> u32 {
    ddns_core::DEFAULT_TTL
}
fn default_provider_timeout() -> u64 {
    u64::try_from(ddns_core::DEFAULT_PROVIDER_TIMEOUT.as_millis()).unwrap_or(u64::MAX)
}
fn default_signed_window() -> u64 {
    ddns_core::signed::DEFAULT_SIGNED_WINDOW.as_secs()
}
fn default_recheck() -> u64 {
    ddns_core::DEFAULT_RECHECK_INTERVAL.as_secs()
}
fn default_window() -> u64 {
    u64::try_from(ddns_core::coalesce::DEFAULT_WINDOW.as_millis()).unwrap_or(0)
}
fn default_access_delay() -> u64 {
    1000
}
fn default_cache_ttl() -> u64 {
    1000
}
fn default_db() -> PathBuf {
    PathBuf::from(ddns_sqlite::DEFAULT_PATH)
}

/// Logs a warning when other users can read `path`, a file that holds
/// secrets (`what` says which).
pub(crate) fn warn_if_readable_by_others(path: &Path, what: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o004 != 0 {
                tracing::warn!(
                    file = %path.display(),
                    mode = %format_args!("{mode:04o}"),
                    "{what} can be read by every user of this machine; run `chmod o-rwx {}`",
                    path.display()
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what);
}

/// Settings given on the command line or in the environment; each one set
/// replaces the file's value.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--zone` / `DDNS_ZONE`.
    pub zone: Option<String>,
    /// `--db` / `DDNS_DB`.
    pub db: Option<PathBuf>,
    /// `--http-listen` / `DDNS_HTTP_LISTEN`.
    pub http_listen: Option<Vec<SocketAddr>>,
    /// `--dns-listen` / `DDNS_DNS_LISTEN`.
    pub dns_listen: Option<Vec<SocketAddr>>,
}

impl Config {
    /// Reads `path` (or starts from the defaults when `None`).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for an unreadable file, invalid TOML, an unknown key
    /// or a value of the wrong shape.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let config = Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })?;
        let holds_secrets = !config.http.api_keys.is_empty()
            || config.providers().any(|p| {
                matches!(
                    p,
                    ProviderConfig::Rfc2136 {
                        key_secret: Some(_),
                        ..
                    }
                )
            })
            || config
                .dns
                .operator_keys
                .iter()
                .any(|k| k.key_secret.is_some())
            || config
                .zone
                .iter()
                .chain(&config.zones)
                .flat_map(|z| &z.secondaries)
                .any(|s| s.key_secret.is_some());
        if holds_secrets {
            warn_if_readable_by_others(
                path,
                "the configuration file (it holds api_keys or key_secret)",
            );
        }
        Ok(config)
    }

    /// Parses TOML text.
    ///
    /// # Errors
    ///
    /// The parser's message, naming the line and the key.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim().to_owned())
    }

    /// Applies command-line and environment overrides.
    #[must_use]
    pub fn with_overrides(mut self, o: Overrides) -> Self {
        if let Some(zone) = o.zone {
            self.zone_override = Some(zone);
        }
        if let Some(db) = o.db {
            self.store = StoreConfig::Sqlite { path: db };
        }
        if let Some(listen) = o.http_listen {
            self.http.listen = listen;
        }
        if let Some(listen) = o.dns_listen {
            self.dns.listen = listen;
        }
        self
    }

    /// Every provider the file gives, for checks over all of them.
    fn providers(&self) -> impl Iterator<Item = &ProviderConfig> {
        self.provider.iter().chain(
            self.zone
                .iter()
                .chain(&self.zones)
                .filter_map(|z| z.provider.as_ref()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc2136_provider_parses() {
        let c = Config::parse(
            "[provider]\nkind = \"rfc2136\"\nserver = \"192.0.2.53:53\"\nkey_file = \"/etc/bind/ddns.key\"\n",
        )
        .unwrap();
        match c.provider {
            Some(ProviderConfig::Rfc2136 {
                server,
                key_file,
                timeout_secs,
                ..
            }) => {
                assert_eq!(server, "192.0.2.53:53".parse().unwrap());
                assert_eq!(key_file.as_deref(), Some(Path::new("/etc/bind/ddns.key")));
                assert_eq!(timeout_secs, 5);
            }
            other => panic!("rfc2136 expected, got {other:?}"),
        }
        let e = Config::parse("[provider]\nkind = \"rfc2136\"\n").unwrap_err();
        assert!(e.contains("server"), "{e}");
        let e = Config::parse("[store]\nkind = \"dynamodb\"\n").unwrap_err();
        assert!(e.contains("table"), "{e}");
    }

    #[test]
    fn parse_errors_name_the_key() {
        let unknown = Config::parse("[http]\nlisen = []\n").unwrap_err();
        assert!(
            unknown.contains("lisen") && unknown.contains("line 2"),
            "{unknown}"
        );
        let bad_addr = Config::parse("[http]\nlisten = [\"localhost:80\"]\n").unwrap_err();
        assert!(
            bad_addr.contains("listen") || bad_addr.contains("line 2"),
            "{bad_addr}"
        );
        let bad_kind = Config::parse("[provider]\nkind = \"bind\"\n").unwrap_err();
        assert!(bad_kind.contains("bind"), "{bad_kind}");
        let unknown_in_zone = Config::parse("[[zones]]\nname = \"a.b\"\nttl = 5\n").unwrap_err();
        assert!(unknown_in_zone.contains("ttl"), "{unknown_in_zone}");
    }
}
