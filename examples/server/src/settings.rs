//! The validated configuration: what [`Config::validate`] makes of the
//! file, as typed values (durations, parsed names and TSIG keys, one
//! provider spec per zone). Nothing downstream parses or re-checks them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ddns_authoritative::{OperatorKey, TcpLimits};
use ddns_authoritative::{Secondary, SoaTimers};
use ddns_core::challenge::ChallengeRules;
use ddns_core::prefix::PrefixRules;
use ddns_core::{Hostname, RecordName, RecordType, UpdateGrant, Zone, Zones};
use ddns_rfc2136::{TsigAlgorithmName, TsigKey};
use ipnet::IpNet;

use crate::config::{
    Config, ConfigError, ProviderConfig, SecondarySection, StoreConfig, ZoneSection,
    warn_if_readable_by_others,
};
use crate::limits::LimitsConfig;
use crate::tls::TlsConfig;

/// A configuration that passed [`Config::validate`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ValidConfig {
    /// The zones served, each with its provider, in the file's order.
    pub zones: Vec<ZoneSpec>,
    /// The HTTP side.
    pub http: HttpSettings,
    /// The admin listeners: `/healthz`, `/metrics`, the REST API and the
    /// web page (empty: no admin listener; `/healthz` and `/metrics` are
    /// then served beside the API).
    pub admin_http: Vec<SocketAddr>,
    /// The admin listener's settings and the admin tokens' file.
    pub admin: AdminSettings,
    /// The embedded DNS server's listeners and TCP bounds.
    pub dns: DnsSettings,
    /// Tuning of the use cases.
    pub service: ServiceSettings,
    /// ACME challenge rules; `None` when `[acme] enabled = false`.
    pub acme: Option<ChallengeRules>,
    /// The prefix lengths routers may report.
    pub prefix: PrefixRules,
    /// HTTPS listeners and their certificate.
    pub tls: Option<TlsConfig>,
    /// Rate limits of the HTTP side.
    pub limits: LimitsConfig,
    /// Where records live.
    pub store: StoreConfig,
    /// The control socket of a running server (Unix only).
    pub control_socket: Option<PathBuf>,
    /// True when `[control] socket` was given: failing to listen on it
    /// stops the start. The default path is best effort.
    pub control_socket_required: bool,
}

/// `[admin_http]` beyond its addresses.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AdminSettings {
    /// The admin tokens' file; `None` when there is no default (a DynamoDB
    /// store) and none was given.
    pub tokens_file: Option<PathBuf>,
    /// Whether the admin listener speaks HTTPS with `[tls]`'s certificate.
    pub tls: bool,
    /// The API's base URL as clients reach it (for the page's settings).
    pub public_url: String,
    /// Failed tokens one source may present a minute.
    pub failed_tokens_per_minute: u32,
}

/// One zone and what changes it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ZoneSpec {
    /// The apex.
    pub name: Hostname,
    /// The TTL of records that set none.
    pub default_ttl: u32,
    /// Name servers for the embedded DNS's NS records (empty: `ns1.<zone>`).
    pub nameservers: Vec<Hostname>,
    /// Hostmaster for the embedded DNS's SOA (none: `hostmaster.<zone>`).
    pub hostmaster: Option<Hostname>,
    /// The embedded DNS's SOA timers.
    pub soa: SoaTimers,
    /// The embedded DNS's secondaries.
    pub secondaries: Vec<Secondary>,
    /// How the embedded DNS signs the zone; `None`: unsigned.
    pub dnssec: Option<DnssecSpec>,
    /// The backend.
    pub provider: ProviderSpec,
}

/// A signed zone's DNSSEC settings.
#[derive(Debug, Clone)]
pub struct DnssecSpec {
    /// The key file given (`None`: `<zone>.dnssec.key` beside the store).
    pub key_file: Option<PathBuf>,
    /// How long a signature is valid.
    pub validity: Duration,
}

/// A zone's backend, resolved.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ProviderSpec {
    /// The embedded authoritative DNS.
    Embedded,
    /// RFC 2136 UPDATE to a primary.
    Rfc2136 {
        /// The primary.
        server: SocketAddr,
        /// The TSIG key, read and parsed.
        key: Option<TsigKey>,
        /// How long to wait for the primary.
        timeout: Duration,
    },
    /// A Route 53 hosted zone.
    Route53 {
        /// The hosted zone id.
        zone_id: String,
        /// The AWS region (default: from the environment).
        region: Option<String>,
        /// An endpoint override, for emulators.
        endpoint_url: Option<String>,
    },
}

impl ProviderSpec {
    /// The kind, as the configuration spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::Rfc2136 { .. } => "rfc2136",
            Self::Route53 { .. } => "route53",
        }
    }
}

/// `[http]`, resolved.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpSettings {
    /// Plain HTTP listeners.
    pub listen: Vec<SocketAddr>,
    /// Accepted `x-api-key` values; empty: none required.
    pub api_keys: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// How long a request may take, headers included.
    pub request_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Connections one source may hold.
    pub max_connections_per_source: usize,
    /// How long a `/healthz` result is kept.
    pub health_cache: Duration,
}

/// `[dns]`, resolved.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DnsSettings {
    /// UDP and TCP listeners of the embedded DNS.
    pub listen: Vec<SocketAddr>,
    /// Bounds on DNS-over-TCP connections.
    pub tcp: TcpLimits,
    /// Whether RFC 2136 UPDATE with the records' own TSIG keys is served.
    pub updates: bool,
    /// The TSIG fudge, in seconds.
    pub tsig_fudge: u16,
    /// Operators' TSIG keys with their grants.
    pub operator_keys: Vec<OperatorKey>,
}

/// `[service]`, resolved.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ServiceSettings {
    /// How long a known DNS value is trusted.
    pub recheck_interval: Duration,
    /// How long concurrent DNS changes wait to be batched.
    pub coalesce_window: Duration,
    /// How long access-state writes are gathered.
    pub access_write_delay: Duration,
    /// How long a record read from the store is reused (zero: never).
    pub record_cache_ttl: Duration,
    /// Accepted clock skew of signed requests.
    pub signed_window: Duration,
    /// How long one DNS backend call may take.
    pub provider_timeout: Duration,
}

impl ValidConfig {
    /// The zones, for the core's use cases.
    pub fn core_zones(&self) -> Zones {
        // validate() refuses an empty list and duplicates.
        Zones::new(
            self.zones
                .iter()
                .map(|z| Zone::new(z.name.clone()).with_default_ttl(z.default_ttl)),
        )
        .unwrap_or_else(|_| Zones::single(Zone::new(default_zone())))
    }

    /// True when some zone is served by the embedded DNS.
    pub fn has_embedded_zone(&self) -> bool {
        self.zones
            .iter()
            .any(|z| matches!(z.provider, ProviderSpec::Embedded))
    }

    /// The SQLite database file, when the store is SQLite.
    pub fn db_path(&self) -> Option<&Path> {
        match &self.store {
            StoreConfig::Sqlite { path } => Some(path),
            StoreConfig::Dynamodb { .. } => None,
        }
    }

    /// The store, in words for logs and messages.
    pub fn store_description(&self) -> String {
        match &self.store {
            StoreConfig::Sqlite { path } => format!("the SQLite database {}", path.display()),
            StoreConfig::Dynamodb { table, .. } => format!("the DynamoDB table {table}"),
        }
    }

    /// The zone names, comma-separated, for logs.
    pub fn zone_names(&self) -> String {
        self.zones
            .iter()
            .map(|z| z.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn default_zone() -> Hostname {
    Hostname::parse("example.com").unwrap_or_else(|_| unreachable!("a valid literal"))
}

fn at_least_one(setting: &str, value: u64) -> Result<(), ConfigError> {
    if value == 0 {
        return Err(ConfigError::invalid(setting, "0", "must be at least 1"));
    }
    Ok(())
}

impl Config {
    /// Checks what the types cannot and resolves every setting to a typed
    /// value: zones and their providers (TSIG key files are read here),
    /// durations, names.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] naming the first bad setting.
    pub fn validate(&self) -> Result<ValidConfig, ConfigError> {
        let zones = self.zone_specs()?;
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
        let embedded = zones
            .iter()
            .any(|z| matches!(z.provider, ProviderSpec::Embedded));
        if self.dns.listen.is_empty() && embedded {
            return Err(ConfigError::invalid(
                "dns.listen",
                "[]",
                "the embedded provider needs at least one address to answer DNS on",
            ));
        }
        at_least_one("http.request_timeout_secs", self.http.request_timeout_secs)?;
        at_least_one(
            "service.provider_timeout_ms",
            self.service.provider_timeout_ms,
        )?;
        for (setting, value) in [
            ("http.max_connections", self.http.max_connections),
            (
                "http.max_connections_per_source",
                self.http.max_connections_per_source,
            ),
            ("dns.tcp_max_connections", self.dns.tcp_max_connections),
        ] {
            at_least_one(setting, u64::try_from(value).unwrap_or(u64::MAX))?;
        }
        at_least_one("dns.tcp_idle_timeout_secs", self.dns.tcp_idle_timeout_secs)?;
        at_least_one("acme.ttl_secs", u64::from(self.acme.ttl_secs))?;
        at_least_one(
            "acme.max_values",
            u64::try_from(self.acme.max_values).unwrap_or(u64::MAX),
        )?;
        at_least_one("acme.max_age_secs", self.acme.max_age_secs)?;
        let prefix = &self.prefix;
        for (setting, len) in [
            ("prefix.min_len", prefix.min_len),
            ("prefix.max_len", prefix.max_len),
        ] {
            if !(1..=127).contains(&len) {
                return Err(ConfigError::invalid(
                    setting,
                    len.to_string(),
                    "a prefix length is 1 to 127 (ISPs delegate /48 to /64)",
                ));
            }
        }
        if prefix.min_len > prefix.max_len {
            return Err(ConfigError::invalid(
                "prefix.min_len",
                prefix.min_len.to_string(),
                format!("it must not exceed prefix.max_len ({})", prefix.max_len),
            ));
        }
        if let Some(admin) = &self.admin_http {
            if admin.listen.is_empty() {
                return Err(ConfigError::invalid(
                    "admin_http.listen",
                    "[]",
                    "give at least one address for the admin API, page, /healthz and /metrics, or remove [admin_http]",
                ));
            }
            if admin.tls && self.tls.is_none() {
                return Err(ConfigError::invalid(
                    "admin_http.tls",
                    "true",
                    "HTTPS on the admin listener uses [tls]'s certificate: add a [tls] section (cert, key, listen)",
                ));
            }
            if admin.failed_tokens_per_minute == 0 {
                return Err(ConfigError::invalid(
                    "admin_http.failed_tokens_per_minute",
                    "0",
                    "allow at least 1 failed token a minute (10 is the default)",
                ));
            }
            if let Some(url) = &admin.public_url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return Err(ConfigError::invalid(
                    "admin_http.public_url",
                    url,
                    "give the API's base URL as clients reach it, like https://ddns.example.net",
                ));
            }
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
        let control_socket = self.control.socket.clone().or_else(|| match &self.store {
            StoreConfig::Sqlite { path } => {
                let mut socket = path.clone().into_os_string();
                socket.push(".sock");
                Some(PathBuf::from(socket))
            }
            StoreConfig::Dynamodb { .. } => None,
        });
        let admin = self.admin_settings();
        if self.admin_http.is_some() && admin.tokens_file.is_none() {
            return Err(ConfigError::invalid(
                "admin_http.tokens_file",
                "(none)",
                "the admin listener needs a token file; with a DynamoDB store there is no default, so set one",
            ));
        }
        let service = &self.service;
        let operator_keys = self
            .dns
            .operator_keys
            .iter()
            .enumerate()
            .map(|(i, section)| operator_key(i, section, &zones))
            .collect::<Result<_, _>>()?;
        Ok(ValidConfig {
            zones,
            http: HttpSettings {
                listen: self.http.listen.clone(),
                api_keys: self.http.api_keys.clone(),
                trusted_proxies: self.http.trusted_proxies.clone(),
                request_timeout: Duration::from_secs(self.http.request_timeout_secs),
                max_connections: self.http.max_connections,
                max_connections_per_source: self.http.max_connections_per_source,
                health_cache: Duration::from_millis(self.http.health_cache_ms),
            },
            admin_http: self
                .admin_http
                .as_ref()
                .map(|a| a.listen.clone())
                .unwrap_or_default(),
            admin,
            dns: DnsSettings {
                listen: self.dns.listen.clone(),
                tcp: TcpLimits::new(
                    self.dns.tcp_max_connections,
                    Duration::from_secs(self.dns.tcp_idle_timeout_secs),
                ),
                updates: self.dns.updates,
                tsig_fudge: self.dns.tsig_fudge_secs,
                operator_keys,
            },
            service: ServiceSettings {
                recheck_interval: Duration::from_secs(service.recheck_interval_secs),
                coalesce_window: Duration::from_millis(service.coalesce_window_ms),
                access_write_delay: Duration::from_millis(service.access_write_delay_ms),
                record_cache_ttl: Duration::from_millis(service.record_cache_ttl_ms),
                signed_window: Duration::from_secs(service.signed_window_secs),
                provider_timeout: Duration::from_millis(service.provider_timeout_ms),
            },
            acme: self.acme.enabled.then(|| {
                ChallengeRules::default()
                    .with_ttl(self.acme.ttl_secs)
                    .with_max_values(self.acme.max_values)
                    .with_max_age(Duration::from_secs(self.acme.max_age_secs))
            }),
            prefix: PrefixRules::new(self.prefix.min_len, self.prefix.max_len),
            tls: self.tls.clone(),
            limits: self.limits.clone(),
            store: self.store.clone(),
            control_socket,
            control_socket_required: self.control.socket.is_some(),
        })
    }

    /// `[admin_http]`'s settings with their defaults.
    fn admin_settings(&self) -> AdminSettings {
        let section = self.admin_http.as_ref();
        let tokens_file =
            section
                .and_then(|a| a.tokens_file.clone())
                .or_else(|| match &self.store {
                    StoreConfig::Sqlite { path } => {
                        let mut file = path.clone().into_os_string();
                        file.push(".admin-tokens.json");
                        Some(PathBuf::from(file))
                    }
                    StoreConfig::Dynamodb { .. } => None,
                });
        let public_url = section
            .and_then(|a| a.public_url.clone())
            .or_else(|| {
                self.http
                    .listen
                    .first()
                    .map(|addr| format!("http://{addr}"))
            })
            .or_else(|| {
                let tls = self.tls.as_ref()?;
                tls.listen.first().map(|addr| format!("https://{addr}"))
            })
            .unwrap_or_else(|| "https://ddns.example.net".to_owned());
        AdminSettings {
            tokens_file,
            tls: section.is_some_and(|a| a.tls),
            public_url: public_url.trim_end_matches('/').to_owned(),
            failed_tokens_per_minute: section.map_or(10, |a| a.failed_tokens_per_minute),
        }
    }

    /// The zone list: `[[zones]]`, or `[zone]` with `[provider]` as a list
    /// of one, with `--zone` applied.
    fn zone_specs(&self) -> Result<Vec<ZoneSpec>, ConfigError> {
        let mut sections: Vec<(String, ZoneSection)> = if self.zones.is_empty() {
            let mut zone = self.zone.clone().unwrap_or_default();
            if zone.provider.is_some() && self.provider.is_some() {
                return Err(ConfigError::invalid(
                    "provider",
                    "[provider] and [zone.provider]",
                    "give the zone's provider once",
                ));
            }
            if zone.provider.is_none() {
                zone.provider.clone_from(&self.provider);
            }
            vec![("zone".to_owned(), zone)]
        } else {
            if self.zone.is_some() || self.provider.is_some() {
                return Err(ConfigError::invalid(
                    "zones",
                    "[[zones]] with [zone] or [provider]",
                    "use either [zone] and [provider] for one zone, or [[zones]] each with its provider",
                ));
            }
            self.zones
                .iter()
                .enumerate()
                .map(|(i, z)| (format!("zones[{i}]"), z.clone()))
                .collect()
        };
        if let Some(name) = &self.zone_override {
            match sections.as_mut_slice() {
                [(_, only)] => only.name.clone_from(name),
                _ => {
                    return Err(ConfigError::invalid(
                        "--zone",
                        name,
                        "the configuration lists several zones; --zone (DDNS_ZONE) replaces the name of a single zone only",
                    ));
                }
            }
        }
        let mut specs: Vec<ZoneSpec> = Vec::new();
        for (at, section) in sections {
            let spec = zone_spec(&at, section)?;
            if let Some(other) = specs.iter().find(|s| s.name == spec.name) {
                return Err(ConfigError::invalid(
                    format!("{at}.name"),
                    spec.name.to_string(),
                    format!(
                        "the zone {} is listed twice; list each zone once",
                        other.name
                    ),
                ));
            }
            specs.push(spec);
        }
        Ok(specs)
    }
}

/// One zone's settings at `at` (`zone`, `zones[2]`), resolved.
fn zone_spec(at: &str, section: ZoneSection) -> Result<ZoneSpec, ConfigError> {
    let parse = |key: &str, s: &str| -> Result<Hostname, ConfigError> {
        Hostname::parse(s)
            .map_err(|e| ConfigError::invalid(format!("{at}.{key}"), s, e.to_string()))
    };
    let name = parse("name", &section.name)?;
    if section.default_ttl > ddns_core::MAX_TTL {
        return Err(ConfigError::invalid(
            format!("{at}.default_ttl"),
            section.default_ttl.to_string(),
            format!("at most {} (RFC 2181)", ddns_core::MAX_TTL),
        ));
    }
    let nameservers = section
        .nameservers
        .iter()
        .map(|s| parse("nameservers", s))
        .collect::<Result<Vec<_>, _>>()?;
    let hostmaster = section
        .hostmaster
        .as_deref()
        .map(|s| parse("hostmaster", s))
        .transpose()?;
    let provider = match section.provider.unwrap_or_default() {
        ProviderConfig::Embedded => ProviderSpec::Embedded,
        ProviderConfig::Route53 {
            zone_id,
            region,
            endpoint_url,
        } => {
            if zone_id.trim().is_empty() {
                return Err(ConfigError::invalid(
                    format!("{at}.provider.zone_id"),
                    zone_id,
                    "give the hosted zone's id (Z...)",
                ));
            }
            ProviderSpec::Route53 {
                zone_id,
                region,
                endpoint_url,
            }
        }
        ProviderConfig::Rfc2136 {
            server,
            key_file,
            key_name,
            key_algorithm,
            key_secret,
            timeout_secs,
        } => ProviderSpec::Rfc2136 {
            server,
            key: tsig_key(
                &format!("{at}.provider"),
                key_file,
                key_name,
                key_algorithm,
                key_secret,
            )?,
            timeout: Duration::from_secs(timeout_secs.max(1)),
        },
    };
    let soa = SoaTimers {
        refresh: section.soa_refresh_secs,
        retry: section.soa_retry_secs,
        expire: section.soa_expire_secs,
        minimum: section.negative_ttl_secs,
    };
    soa.check().map_err(|(field, reason)| {
        let (setting, value) = match field {
            "refresh" => ("soa_refresh_secs", soa.refresh),
            "retry" => ("soa_retry_secs", soa.retry),
            "expire" => ("soa_expire_secs", soa.expire),
            _ => ("negative_ttl_secs", soa.minimum),
        };
        ConfigError::invalid(format!("{at}.{setting}"), value.to_string(), reason)
    })?;
    if !section.secondaries.is_empty() && !matches!(provider, ProviderSpec::Embedded) {
        return Err(ConfigError::invalid(
            format!("{at}.secondaries"),
            format!("{} secondaries", section.secondaries.len()),
            "only the embedded DNS sends zone transfers; give secondaries to the primary your provider updates instead",
        ));
    }
    let dnssec = if section.dnssec {
        if !matches!(provider, ProviderSpec::Embedded) {
            return Err(ConfigError::invalid(
                format!("{at}.dnssec"),
                "true",
                "only the embedded DNS signs zones; sign at the DNS server your provider updates",
            ));
        }
        let validity = Duration::from_secs(section.dnssec_signature_validity_secs);
        if validity < ddns_authoritative::MIN_SIGNATURE_VALIDITY {
            return Err(ConfigError::invalid(
                format!("{at}.dnssec_signature_validity_secs"),
                section.dnssec_signature_validity_secs.to_string(),
                format!(
                    "at least {} s; days are usual (the default is 1209600, two weeks)",
                    ddns_authoritative::MIN_SIGNATURE_VALIDITY.as_secs()
                ),
            ));
        }
        Some(DnssecSpec {
            key_file: section.dnssec_key_file.clone(),
            validity,
        })
    } else {
        None
    };
    let secondaries = section
        .secondaries
        .iter()
        .enumerate()
        .map(|(i, s)| secondary(&format!("{at}.secondaries[{i}]"), s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ZoneSpec {
        name,
        default_ttl: section.default_ttl,
        nameservers,
        hostmaster,
        soa,
        secondaries,
        dnssec,
        provider,
    })
}

/// A secondary at `at`: its address (port 53 unless given) and its
/// transfer key, required unless `unsigned = true`.
fn secondary(at: &str, section: &SecondarySection) -> Result<Secondary, ConfigError> {
    let text = section.address.trim();
    let address: SocketAddr = text
        .parse()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
        .map_err(|_| {
            ConfigError::invalid(
                format!("{at}.address"),
                text,
                "give an IP address, with a port when it is not 53 (192.0.2.53 or [2001:db8::53]:5300)",
            )
        })?;
    let key = tsig_key(
        at,
        section.key_file.clone(),
        section.key_name.clone(),
        section.key_algorithm.clone(),
        section.key_secret.clone(),
    )?;
    let secondary = Secondary::new(address);
    match (key, section.unsigned) {
        (Some(key), false) => secondary
            .with_key(
                &key.name(),
                key.algorithm().as_str(),
                key.expose_secret().to_vec(),
            )
            .map_err(|e| {
                ConfigError::invalid(
                    format!("{at}.key_algorithm"),
                    key.algorithm().as_str(),
                    e.to_string(),
                )
            }),
        (None, true) => Ok(secondary),
        (Some(_), true) => Err(ConfigError::invalid(
            format!("{at}.unsigned"),
            "true",
            "a secondary with a key signs its requests; drop unsigned = true or the key",
        )),
        (None, false) => Err(ConfigError::invalid(
            format!("{at}.key_file"),
            "",
            "give the secondary's TSIG transfer key (key_file, or key_name and key_secret); unsigned = true lets its address alone authorise transfers",
        )),
    }
}

/// `dns.operator_keys[index]`: its key and grants, every granted name in
/// a zone served.
fn operator_key(
    index: usize,
    section: &crate::config::OperatorKeySection,
    zones: &[ZoneSpec],
) -> Result<OperatorKey, ConfigError> {
    let at = format!("dns.operator_keys[{index}]");
    let key = tsig_key(
        &at,
        section.key_file.clone(),
        section.key_name.clone(),
        section.key_algorithm.clone(),
        section.key_secret.clone(),
    )?
    .ok_or_else(|| {
        ConfigError::invalid(
            format!("{at}.key_file"),
            "",
            "give key_file, or key_name and key_secret",
        )
    })?;
    let mut grants = Vec::new();
    for (g, grant) in section.grants.iter().enumerate() {
        let setting = format!("{at}.grants[{g}]");
        let (text, subdomain) = match (&grant.name, &grant.subdomain) {
            (Some(name), None) => (name, false),
            (None, Some(name)) => (name, true),
            _ => {
                return Err(ConfigError::invalid(
                    setting,
                    "",
                    "give either name or subdomain",
                ));
            }
        };
        let name = RecordName::parse(text)
            .map_err(|e| ConfigError::invalid(&setting, text, e.to_string()))?;
        if !zones.iter().any(|z| name.is_in_zone(&z.name)) {
            return Err(ConfigError::invalid(
                &setting,
                text,
                "lies in no zone served; grant names of the zones in [zone] or [[zones]]",
            ));
        }
        let types = grant
            .types
            .iter()
            .map(|t| {
                t.parse::<RecordType>()
                    .map_err(|e| ConfigError::invalid(format!("{setting}.types"), t, e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        grants.push(if subdomain {
            UpdateGrant::subdomain(name, types)
        } else {
            UpdateGrant::name(name, types)
        });
    }
    OperatorKey::new(
        &key.name(),
        key.algorithm().as_str(),
        key.expose_secret().to_vec(),
        grants,
    )
    .map_err(|e| {
        ConfigError::invalid(
            format!("{at}.key_algorithm"),
            key.algorithm().as_str(),
            e.to_string(),
        )
    })
}

/// A TSIG key given in the section at `at`: from a BIND key file, or from
/// name and secret (not both, not one alone), or none.
fn tsig_key(
    at: &str,
    key_file: Option<PathBuf>,
    key_name: Option<String>,
    key_algorithm: Option<String>,
    key_secret: Option<String>,
) -> Result<Option<TsigKey>, ConfigError> {
    let setting = |key: &str| format!("{at}.{key}");
    match (key_file, key_name, key_secret) {
        (Some(path), None, None) => {
            warn_if_readable_by_others(&path, &format!("the TSIG key file ({at}.key_file)"));
            TsigKey::from_bind_file(&path).map(Some).map_err(|e| {
                ConfigError::invalid(
                    setting("key_file"),
                    path.display().to_string(),
                    e.to_string(),
                )
            })
        }
        (None, Some(name), Some(secret)) => {
            let algorithm: TsigAlgorithmName = key_algorithm
                .as_deref()
                .unwrap_or("hmac-sha256")
                .parse()
                .map_err(|e: ddns_core::Error| {
                    ConfigError::invalid(
                        setting("key_algorithm"),
                        key_algorithm.clone().unwrap_or_default(),
                        e.to_string(),
                    )
                })?;
            TsigKey::new(&name, algorithm, &secret)
                .map(Some)
                .map_err(|e| ConfigError::invalid(setting("key_secret"), "(hidden)", e.to_string()))
        }
        (None, None, None) => Ok(None),
        (key_file, ..) => Err(ConfigError::invalid(
            setting("key_file"),
            key_file
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            "give either key_file, or key_name and key_secret (not both, not one alone)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Overrides;

    #[test]
    fn defaults_run_a_local_system() {
        let c = Config::default().validate().unwrap();
        assert_eq!(c.http.listen, ["127.0.0.1:8080".parse().unwrap()]);
        assert_eq!(c.dns.listen, ["127.0.0.1:5353".parse().unwrap()]);
        assert_eq!(c.zones.len(), 1);
        assert_eq!(c.zones[0].name.as_str(), "example.com.");
        assert_eq!(c.zones[0].default_ttl, 60);
        assert!(matches!(c.zones[0].provider, ProviderSpec::Embedded));
        assert_eq!(c.db_path(), Some(Path::new("ddns.sqlite3")));
        assert_eq!(
            c.control_socket.as_deref(),
            Some(Path::new("ddns.sqlite3.sock"))
        );
        assert_eq!(c.service.coalesce_window, Duration::ZERO);
        assert_eq!(c.http.request_timeout, Duration::from_secs(30));
    }

    #[test]
    fn prefix_lengths_are_a_setting_and_checked() {
        let c = Config::parse("[prefix]\nmin_len = 40\nmax_len = 60\n")
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!((c.prefix.min_len(), c.prefix.max_len()), (40, 60));
        let d = Config::default().validate().unwrap();
        assert_eq!((d.prefix.min_len(), d.prefix.max_len()), (48, 64));
        for (text, setting) in [
            ("[prefix]\nmin_len = 60\nmax_len = 50\n", "prefix.min_len"),
            ("[prefix]\nmax_len = 128\n", "prefix.max_len"),
            ("[prefix]\nmin_len = 0\n", "prefix.min_len"),
        ] {
            let error = Config::parse(text).unwrap().validate().unwrap_err();
            assert!(error.to_string().contains(setting), "{text}: {error}");
        }
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
        assert_eq!(c.zones[0].name.as_str(), "dyn.example.org.");
        assert_eq!(c.zones[0].default_ttl, 30);
        assert_eq!(c.zones[0].nameservers.len(), 2);
        assert_eq!(c.http.listen.len(), 2);
        assert_eq!(c.db_path(), Some(Path::new("/var/lib/ddns/ddns.sqlite3")));
    }

    #[test]
    fn several_zones_each_get_their_provider() {
        let c = Config::parse(
            r#"
            [[zones]]
            name = "example.com"
            [[zones]]
            name = "example.net"
            default_ttl = 120
            provider = { kind = "rfc2136", server = "192.0.2.53:53", key_name = "ddns", key_secret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0" }
            [[zones]]
            name = "example.org"
            [zones.provider]
            kind = "route53"
            zone_id = "Z1"
            "#,
        )
        .unwrap()
        .validate()
        .unwrap();
        let kinds: Vec<&str> = c.zones.iter().map(|z| z.provider.kind()).collect();
        assert_eq!(kinds, ["embedded", "rfc2136", "route53"]);
        assert!(
            matches!(&c.zones[1].provider, ProviderSpec::Rfc2136 { key: Some(_), timeout, .. } if *timeout == Duration::from_secs(5))
        );
        assert_eq!(c.core_zones().len(), 3);
        assert_eq!(
            c.core_zones()
                .containing(Hostname::parse("h.example.net").unwrap())
                .map(Zone::default_ttl),
            Some(120)
        );
        assert!(c.has_embedded_zone());
    }

    #[test]
    fn zone_lists_that_cannot_work_are_refused() {
        let twice = "[[zones]]\nname = \"example.com\"\n[[zones]]\nname = \"Example.COM.\"\n";
        let e = Config::parse(twice)
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("zones[1].name") && e.contains("twice"), "{e}");
        let both = "[zone]\nname = \"example.com\"\n[[zones]]\nname = \"example.net\"\n";
        let e = Config::parse(both)
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("either [zone]"), "{e}");
        let bad = "[[zones]]\nname = \"example.com\"\n[[zones]]\nname = \"not a zone\"\n";
        let e = Config::parse(bad)
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("zones[1].name = \"not a zone\""), "{e}");
        let two = "[[zones]]\nname = \"example.com\"\n[[zones]]\nname = \"example.net\"\n";
        let e = Config::parse(two)
            .unwrap()
            .with_overrides(Overrides {
                zone: Some("example.org".into()),
                ..Overrides::default()
            })
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--zone"), "{e}");
        let half_key =
            "[provider]\nkind = \"rfc2136\"\nserver = \"192.0.2.1:53\"\nkey_name = \"k\"\n";
        let e = Config::parse(half_key)
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("zone.provider.key_file"), "{e}");
    }

    #[test]
    fn secondaries_take_an_address_and_a_transfer_key() {
        let c = Config::parse(concat!(
            "[[zone.secondaries]]\naddress = \"192.0.2.53\"\nkey_name = \"xfr\"\nkey_secret = \"c2VjcmV0c2VjcmV0\"\n",
            "[[zone.secondaries]]\naddress = \"[2001:db8::53]:5300\"\nunsigned = true\n",
        ))
        .unwrap()
        .validate()
        .unwrap();
        let secondaries = &c.zones[0].secondaries;
        assert_eq!(secondaries[0].address(), "192.0.2.53:53".parse().unwrap());
        assert_eq!(secondaries[0].key_name().as_deref(), Some("xfr."));
        assert_eq!(
            secondaries[1].address(),
            "[2001:db8::53]:5300".parse().unwrap()
        );
        assert_eq!(secondaries[1].key_name(), None);

        let invalid = |text: &str| {
            Config::parse(text)
                .unwrap()
                .validate()
                .unwrap_err()
                .to_string()
        };
        let e = invalid("[[zone.secondaries]]\naddress = \"192.0.2.53\"\n");
        assert!(
            e.starts_with("zone.secondaries[0].key_file") && e.contains("unsigned = true"),
            "{e}"
        );
        let e = invalid("[[zone.secondaries]]\naddress = \"ns2.example.net\"\nunsigned = true\n");
        assert!(e.starts_with("zone.secondaries[0].address"), "{e}");
        let e = invalid(concat!(
            "[[zone.secondaries]]\naddress = \"192.0.2.53\"\nunsigned = true\n",
            "[provider]\nkind = \"rfc2136\"\nserver = \"192.0.2.1:53\"\n",
        ));
        assert!(
            e.starts_with("zone.secondaries") && e.contains("only the embedded DNS"),
            "{e}"
        );
        let e = invalid(
            "[[zone.secondaries]]\naddress = \"192.0.2.53\"\nkey_name = \"x\"\nkey_algorithm = \"hmac-md5\"\nkey_secret = \"c2VjcmV0\"\n",
        );
        assert!(e.starts_with("zone.secondaries[0].key_algorithm"), "{e}");
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
        assert_eq!(c.control_socket, None);
        assert_eq!(c.store_description(), "the DynamoDB table ddns-config");
        assert!(
            matches!(c.zones[0].provider, ProviderSpec::Route53 { ref zone_id, .. } if zone_id == "Z1")
        );
        assert!(!c.has_embedded_zone());
    }

    #[test]
    fn errors_name_the_setting() {
        let c = Config {
            zone: Some(ZoneSection {
                name: "not a zone".into(),
                ..ZoneSection::default()
            }),
            ..Config::default()
        };
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
        let mut c = Config::default();
        c.service.provider_timeout_ms = 0;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .starts_with("service.provider_timeout_ms")
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
        assert_eq!(v.zones[0].name.as_str(), "example.net.");
        assert_eq!(v.db_path(), Some(Path::new("x.sqlite3")));
        assert_eq!(v.http.listen, ["127.0.0.1:9".parse().unwrap()]);
        assert_eq!(v.dns.listen, ["127.0.0.1:5353".parse().unwrap()]);
    }
}
