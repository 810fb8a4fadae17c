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
//! # [admin_http]                   # move /healthz and /metrics off the API
//! # listen = ["127.0.0.1:9090"]
//!
//! [dns]
//! listen = ["127.0.0.1:5353"]      # embedded authoritative DNS, UDP and TCP
//! tcp_max_connections = 256        # DNS-over-TCP connections at once
//! tcp_idle_timeout_secs = 10       # an idle DNS TCP connection is closed
//!
//! [zone]
//! name = "example.com"
//! default_ttl = 60
//!
//! [service]
//! recheck_interval_secs = 300      # trust a known DNS value this long
//! coalesce_window_ms = 20          # gather concurrent DNS changes
//! access_write_delay_ms = 1000     # batch last_checked/last_accessed writes
//! record_cache_ttl_ms = 1000       # reuse records read from the store
//! signed_window_secs = 300         # accepted clock skew of signed requests
//! provider_timeout_ms = 10000      # a DNS backend call taking longer fails
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
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ddns_core::Hostname;
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
        /// The setting, as `section.key`.
        setting: &'static str,
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(
        setting: &'static str,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            setting,
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
    /// The zone served.
    #[serde(default)]
    pub zone: ZoneSection,
    /// Tuning of the use cases.
    #[serde(default)]
    pub service: ServiceSection,
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
    /// What changes DNS.
    #[serde(default)]
    pub provider: ProviderConfig,
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

/// `[admin_http]`: where `/healthz` and `/metrics` are served when they
/// should not be reachable on the API's listeners.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminHttpConfig {
    /// Addresses to listen on (plain HTTP); keep them private.
    pub listen: Vec<SocketAddr>,
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
}

impl Default for DnsConfig {
    fn default() -> Self {
        Self {
            listen: default_dns_listen(),
            tcp_max_connections: default_dns_tcp_max(),
            tcp_idle_timeout_secs: default_dns_tcp_idle(),
        }
    }
}

/// `[zone]`.
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
}

impl Default for ZoneSection {
    fn default() -> Self {
        Self {
            name: default_zone(),
            default_ttl: default_ttl(),
            nameservers: Vec::new(),
            hostmaster: None,
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
    /// Milliseconds concurrent DNS changes wait to be batched together.
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

/// `[provider]`: what changes DNS.
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
fn default_ttl() -> u32 {
    ddns_core::DEFAULT_TTL
}
fn default_provider_timeout() -> u64 {
    u64::try_from(ddns_core::service::DEFAULT_PROVIDER_TIMEOUT.as_millis()).unwrap_or(u64::MAX)
}
fn default_signed_window() -> u64 {
    ddns_core::signed::DEFAULT_SIGNED_WINDOW.as_secs()
}
fn default_recheck() -> u64 {
    ddns_core::service::DEFAULT_RECHECK_INTERVAL.as_secs()
}
fn default_window() -> u64 {
    u64::try_from(ddns_core::coalesce::DEFAULT_WINDOW.as_millis()).unwrap_or(20)
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
            || matches!(
                config.provider,
                ProviderConfig::Rfc2136 {
                    key_secret: Some(_),
                    ..
                }
            );
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
            self.zone.name = zone;
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

    /// Checks what the types cannot, and resolves the zone.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] naming the first bad setting.
    pub fn validate(&self) -> Result<ValidConfig, ConfigError> {
        let zone = Hostname::parse(&self.zone.name)
            .map_err(|e| ConfigError::invalid("zone.name", &self.zone.name, e.to_string()))?;
        let in_zone = |setting: &'static str, s: &str| -> Result<Hostname, ConfigError> {
            Hostname::parse(s).map_err(|e| ConfigError::invalid(setting, s, e.to_string()))
        };
        let nameservers = self
            .zone
            .nameservers
            .iter()
            .map(|s| in_zone("zone.nameservers", s))
            .collect::<Result<Vec<_>, _>>()?;
        let hostmaster = self
            .zone
            .hostmaster
            .as_deref()
            .map(|s| in_zone("zone.hostmaster", s))
            .transpose()?;
        let https = self.tls.as_ref().map_or(0, |t| t.listen.len());
        if self.http.listen.is_empty() && https == 0 {
            return Err(ConfigError::invalid(
                "http.listen",
                "[]",
                "at least one address is needed (here or in tls.listen)",
            ));
        }
        if let Some(tls) = &self.tls
            && tls.listen.is_empty()
        {
            return Err(ConfigError::invalid(
                "tls.listen",
                "[]",
                "give at least one address to serve HTTPS on, or remove [tls]",
            ));
        }
        if self.dns.listen.is_empty() && matches!(self.provider, ProviderConfig::Embedded) {
            return Err(ConfigError::invalid(
                "dns.listen",
                "[]",
                "the embedded provider needs at least one address to answer DNS on",
            ));
        }
        if self.http.request_timeout_secs == 0 {
            return Err(ConfigError::invalid(
                "http.request_timeout_secs",
                "0",
                "must be at least 1",
            ));
        }
        if self.service.provider_timeout_ms == 0 {
            return Err(ConfigError::invalid(
                "service.provider_timeout_ms",
                "0",
                "must be at least 1",
            ));
        }
        if self.http.max_connections == 0 {
            return Err(ConfigError::invalid(
                "http.max_connections",
                "0",
                "must be at least 1",
            ));
        }
        for (setting, value) in [
            (
                "http.max_connections_per_source",
                self.http.max_connections_per_source,
            ),
            ("dns.tcp_max_connections", self.dns.tcp_max_connections),
            (
                "dns.tcp_idle_timeout_secs",
                usize::try_from(self.dns.tcp_idle_timeout_secs).unwrap_or(usize::MAX),
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(setting, "0", "must be at least 1"));
            }
        }
        if let Some(admin) = &self.admin_http
            && admin.listen.is_empty()
        {
            return Err(ConfigError::invalid(
                "admin_http.listen",
                "[]",
                "give at least one address for /healthz and /metrics, or remove [admin_http]",
            ));
        }
        self.limits
            .check()
            .map_err(|(setting, value, reason)| ConfigError::invalid(setting, value, reason))?;
        if self.http.api_keys.iter().any(String::is_empty) {
            return Err(ConfigError::invalid(
                "http.api_keys",
                "\"\"",
                "an API key cannot be empty",
            ));
        }
        Ok(ValidConfig {
            zone,
            nameservers,
            hostmaster,
            config: self.clone(),
        })
    }
}

/// A configuration that passed [`Config::validate`].
#[derive(Debug, Clone)]
pub struct ValidConfig {
    /// The zone.
    pub zone: Hostname,
    /// Its name servers (empty: the default).
    pub nameservers: Vec<Hostname>,
    /// Its hostmaster (none: the default).
    pub hostmaster: Option<Hostname>,
    /// Everything else, as given.
    pub config: Config,
}

impl ValidConfig {
    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.config.http.request_timeout_secs)
    }

    /// The SQLite database file, when the store is SQLite.
    pub fn db_path(&self) -> Option<&Path> {
        match &self.config.store {
            StoreConfig::Sqlite { path } => Some(path),
            StoreConfig::Dynamodb { .. } => None,
        }
    }

    /// The store, in words for logs and messages.
    pub fn store_description(&self) -> String {
        match &self.config.store {
            StoreConfig::Sqlite { path } => format!("the SQLite database {}", path.display()),
            StoreConfig::Dynamodb { table, .. } => format!("the DynamoDB table {table}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_a_local_system() {
        let c = Config::default().validate().unwrap();
        assert_eq!(c.config.http.listen, ["127.0.0.1:8080".parse().unwrap()]);
        assert_eq!(c.config.dns.listen, ["127.0.0.1:5353".parse().unwrap()]);
        assert_eq!(c.zone.as_str(), "example.com.");
        assert_eq!(c.config.zone.default_ttl, 60);
        assert_eq!(c.db_path(), Some(Path::new("ddns.sqlite3")));
    }

    #[test]
    fn a_full_file_parses() {
        let c = Config::parse(
            r#"
            [http]
            listen = ["127.0.0.1:0", "[::1]:8081"]
            api_keys = ["k1"]
            trusted_proxies = ["10.0.0.0/8"]
            [dns]
            listen = ["127.0.0.1:0"]
            [zone]
            name = "dyn.example.org"
            default_ttl = 30
            nameservers = ["ns1.example.org", "ns2.example.org"]
            [store]
            kind = "sqlite"
            path = "/var/lib/ddns/ddns.sqlite3"
            [provider]
            kind = "embedded"
            "#,
        )
        .unwrap()
        .validate()
        .unwrap();
        assert_eq!(c.zone.as_str(), "dyn.example.org.");
        assert_eq!(c.nameservers.len(), 2);
        assert_eq!(c.config.http.listen.len(), 2);
        assert_eq!(c.db_path(), Some(Path::new("/var/lib/ddns/ddns.sqlite3")));
    }

    #[test]
    fn the_rfc2136_provider_parses() {
        let c = Config::parse(
            "[provider]\nkind = \"rfc2136\"\nserver = \"192.0.2.53:53\"\nkey_file = \"/etc/bind/ddns.key\"\n",
        )
        .unwrap();
        match c.provider {
            ProviderConfig::Rfc2136 {
                server,
                key_file,
                timeout_secs,
                ..
            } => {
                assert_eq!(server, "192.0.2.53:53".parse().unwrap());
                assert_eq!(key_file.as_deref(), Some(Path::new("/etc/bind/ddns.key")));
                assert_eq!(timeout_secs, 5);
            }
            other => panic!("rfc2136 expected, got {other:?}"),
        }
        let e = Config::parse("[provider]\nkind = \"rfc2136\"\n").unwrap_err();
        assert!(e.contains("server"), "{e}");
    }

    #[test]
    fn the_aws_store_and_provider_parse() {
        let c = Config::parse(
            "[store]\nkind = \"dynamodb\"\ntable = \"ddns-config\"\n[provider]\nkind = \"route53\"\nzone_id = \"Z1\"\nregion = \"us-east-1\"\n",
        )
        .unwrap()
        .validate()
        .unwrap();
        assert_eq!(c.db_path(), None);
        assert_eq!(c.store_description(), "the DynamoDB table ddns-config");
        assert!(
            matches!(c.config.provider, ProviderConfig::Route53 { ref zone_id, .. } if zone_id == "Z1")
        );
        let e = Config::parse("[store]\nkind = \"dynamodb\"\n").unwrap_err();
        assert!(e.contains("table"), "{e}");
    }

    #[test]
    fn errors_name_the_setting() {
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
        let mut c = Config::default();
        c.zone.name = "not a zone".into();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.starts_with("zone.name = \"not a zone\""), "{e}");
        let mut c = Config::default();
        c.http.api_keys = vec![String::new()];
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .starts_with("http.api_keys")
        );
    }

    #[test]
    fn overrides_replace_file_values() {
        let c = Config::default().with_overrides(Overrides {
            zone: Some("example.net".into()),
            db: Some("x.sqlite3".into()),
            http_listen: Some(vec!["127.0.0.1:9".parse().unwrap()]),
            dns_listen: None,
        });
        let v = c.validate().unwrap();
        assert_eq!(v.zone.as_str(), "example.net.");
        assert_eq!(v.db_path(), Some(Path::new("x.sqlite3")));
        assert_eq!(v.config.http.listen, ["127.0.0.1:9".parse().unwrap()]);
        assert_eq!(v.config.dns.listen, ["127.0.0.1:5353".parse().unwrap()]);
    }
}
