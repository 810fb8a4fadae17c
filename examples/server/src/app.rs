//! Wiring: the store, the provider, the DNS server and the HTTP listeners,
//! started together and stopped together.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ddns_authoritative::{AuthoritativeProvider, DnsServer, TcpLimits, ZoneConfig, ZoneData};
use ddns_aws::{DynamoDbStore, Route53Provider};
use ddns_core::cache::CachedStore;
use ddns_core::coalesce::CoalescingProvider;
use ddns_core::codec::dyndns2::Dyndns2Api;
use ddns_core::codec::forwarded::TrustedProxies;
use ddns_core::codec::seed::{ApiKeys, SeedApi};
use ddns_core::{DdnsService, DnsProvider, Record, RecordStore};
use ddns_rfc2136::{Rfc2136Provider, TsigAlgorithmName, TsigKey};
use ddns_sqlite::SqliteStore;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::info;

use crate::config::{ConfigError, ProviderConfig, StoreConfig, ValidConfig};
use crate::connections::{ConnectionCaps, SourceConnections};
use crate::health::HealthCheck;
use crate::http::{HttpState, Role, accept_loop};
use crate::limits::{CLEAN_EVERY, Limits};
use crate::metrics::Metrics;
use crate::tls::TlsCertificates;

/// How long shutdown waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A backend (the store, the DNS server) failed to start.
    #[error("{what}: {source}")]
    Backend {
        /// What was being started.
        what: String,
        /// Why it failed.
        #[source]
        source: ddns_core::Error,
    },
    /// The TLS certificate or key is unusable.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// An HTTP address could not be bound.
    #[error("{setting} = {addr}: cannot listen: {source}; choose a free address and port")]
    Listen {
        /// `http.listen` or `tls.listen`.
        setting: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

fn backend(what: impl Into<String>) -> impl FnOnce(ddns_core::Error) -> StartError {
    let what = what.into();
    move |source| StartError::Backend { what, source }
}

/// Opens the configured store (creating and seeding it if new).
///
/// # Errors
///
/// [`StartError::Backend`] naming the file and what to do.
pub async fn open_store(config: &ValidConfig) -> Result<Arc<dyn RecordStore>, StartError> {
    match &config.config.store {
        StoreConfig::Sqlite { path } => Ok(Arc::new(
            SqliteStore::builder(path)
                .with_seed_zone(config.zone.clone())
                .open()
                .await
                .map_err(backend("store.path"))?,
        )),
        StoreConfig::Dynamodb {
            table,
            region,
            endpoint_url,
        } => {
            let mut builder = DynamoDbStore::builder().with_table(table);
            if let Some(region) = region {
                builder = builder.with_region(region);
            }
            if let Some(url) = endpoint_url {
                builder = builder.with_endpoint_url(url);
            }
            Ok(Arc::new(
                builder.build().await.map_err(backend("store.table"))?,
            ))
        }
    }
}

/// A started server; stop it with [`RunningServer::shutdown`].
#[derive(Debug)]
pub struct RunningServer {
    http_addrs: Vec<SocketAddr>,
    https_addrs: Vec<SocketAddr>,
    admin_addrs: Vec<SocketAddr>,
    tls: Option<Arc<TlsCertificates>>,
    dns: Option<DnsServer>,
    stop: watch::Sender<bool>,
    loops: JoinSet<()>,
    graceful: Arc<GracefulShutdown>,
    service: Arc<DdnsService>,
}

impl RunningServer {
    /// Starts everything `config` describes.
    ///
    /// # Errors
    ///
    /// [`StartError`] naming the setting or the backend that failed; nothing
    /// is left running then.
    pub async fn start(config: ValidConfig) -> Result<Self, StartError> {
        let store = open_store(&config).await?;
        // One listing serves the zone check and the embedded zone's load.
        let records = store
            .list_all()
            .await
            .map_err(backend("reading the store"))?;
        check_records_in_zone(&records, &config)?;

        let (provider, dns): (Arc<dyn DnsProvider>, Option<DnsServer>) =
            match &config.config.provider {
                ProviderConfig::Embedded => {
                    let (provider, dns) = embedded(&config, &records).await?;
                    (provider, Some(dns))
                }
                ProviderConfig::Rfc2136 { .. } => (rfc2136(&config)?, None),
                ProviderConfig::Route53 {
                    zone_id,
                    region,
                    endpoint_url,
                } => {
                    let mut builder = Route53Provider::builder()
                        .with_zone_id(zone_id)
                        .with_zone(config.zone.clone());
                    if let Some(region) = region {
                        builder = builder.with_region(region);
                    }
                    if let Some(url) = endpoint_url {
                        builder = builder.with_endpoint_url(url);
                    }
                    (
                        Arc::new(builder.build().await.map_err(backend("provider.zone_id"))?),
                        None,
                    )
                }
            };

        let cached_store: Arc<dyn RecordStore> = match config.config.service.record_cache_ttl_ms {
            0 => store,
            ms => Arc::new(CachedStore::new(store, Duration::from_millis(ms))),
        };
        let batched = CoalescingProvider::new(provider).with_window(Duration::from_millis(
            config.config.service.coalesce_window_ms,
        ));
        let limits = Limits::new(&config.config.limits).map(Arc::new);
        let mut builder = DdnsService::builder(cached_store, Arc::new(batched));
        if let Some(budget) = limits.as_ref().and_then(|l| l.host_budget()) {
            builder = builder.with_host_budget(budget);
        }
        let service = Arc::new(
            builder
                .with_default_ttl(config.config.zone.default_ttl)
                .with_recheck_interval(Duration::from_secs(
                    config.config.service.recheck_interval_secs,
                ))
                .with_signed_window(Duration::from_secs(
                    config.config.service.signed_window_secs,
                ))
                .with_provider_timeout(Duration::from_millis(
                    config.config.service.provider_timeout_ms,
                ))
                .with_access_write_delay(Duration::from_millis(
                    config.config.service.access_write_delay_ms,
                ))
                .build(),
        );
        let state = Arc::new(HttpState {
            api: SeedApi::new(
                service.clone(),
                ApiKeys::new(config.config.http.api_keys.clone()),
            ),
            dyndns2: Dyndns2Api::new(service.clone()),
            proxies: TrustedProxies::new(config.config.http.trusted_proxies.clone()),
            metrics: Arc::new(Metrics::new()),
            health: HealthCheck::new(
                service.clone(),
                config.zone.clone(),
                Duration::from_millis(config.config.http.health_cache_ms),
            ),
            admin_split: config.config.admin_http.is_some(),
            request_timeout: config.request_timeout(),
            limits,
        });

        let tls = match &config.config.tls {
            Some(tls_config) => match TlsCertificates::load(tls_config) {
                Ok(certificates) => Some((Arc::new(certificates), tls_config.listen.clone())),
                Err(e) => {
                    if let Some(dns) = dns {
                        dns.shutdown().await;
                    }
                    return Err(e.into());
                }
            },
            None => None,
        };
        type Wanted = (&'static str, SocketAddr, Role, Option<Arc<TlsCertificates>>);
        let mut wanted: Vec<Wanted> = config
            .config
            .http
            .listen
            .iter()
            .map(|&addr| ("http.listen", addr, Role::Api, None))
            .collect();
        if let Some((certificates, addrs)) = &tls {
            wanted.extend(
                addrs
                    .iter()
                    .map(|&addr| ("tls.listen", addr, Role::Api, Some(certificates.clone()))),
            );
        }
        if let Some(admin) = &config.config.admin_http {
            wanted.extend(
                admin
                    .listen
                    .iter()
                    .map(|&addr| ("admin_http.listen", addr, Role::Admin, None)),
            );
        }
        let mut listeners = Vec::new();
        for (setting, addr, role, certificates) in wanted {
            match TcpListener::bind(addr).await {
                Ok(listener) => listeners.push((listener, role, certificates)),
                Err(source) => {
                    if let Some(dns) = dns {
                        dns.shutdown().await;
                    }
                    return Err(StartError::Listen {
                        setting,
                        addr,
                        source,
                    });
                }
            }
        }
        let bound = |wanted_role: Role, secure: bool| {
            listeners
                .iter()
                .filter(|(_, role, c)| *role == wanted_role && c.is_some() == secure)
                .filter_map(|(l, _, _)| l.local_addr().ok())
                .collect::<Vec<_>>()
        };
        let (http_addrs, https_addrs, admin_addrs) = (
            bound(Role::Api, false),
            bound(Role::Api, true),
            bound(Role::Admin, false),
        );
        let caps = ConnectionCaps {
            all: Arc::new(Semaphore::new(config.config.http.max_connections)),
            per_source: Arc::new(SourceConnections::new(
                config.config.http.max_connections_per_source,
                (
                    config.config.limits.source_prefix_v4,
                    config.config.limits.source_prefix_v6,
                ),
                TrustedProxies::new(config.config.http.trusted_proxies.clone()),
            )),
        };
        let (stop, stopped) = watch::channel(false);
        let graceful = Arc::new(GracefulShutdown::new());
        let mut loops = JoinSet::new();
        for (listener, role, certificates) in listeners {
            loops.spawn(accept_loop(
                listener,
                certificates,
                role,
                state.clone(),
                caps.clone(),
                graceful.clone(),
                stopped.clone(),
            ));
        }
        if state.limits.is_some() {
            let (state, mut stopped) = (state.clone(), stopped.clone());
            loops.spawn(async move {
                loop {
                    tokio::select! {
                        _ = stopped.changed() => break,
                        () = tokio::time::sleep(CLEAN_EVERY) => {
                            if let Some(limits) = &state.limits {
                                limits.clean();
                            }
                        }
                    }
                }
            });
        }
        info!(
            zone = %config.zone,
            http = ?http_addrs,
            https = ?https_addrs,
            admin = ?admin_addrs,
            dns = ?dns.as_ref().map(DnsServer::local_addrs),
            provider = ?provider_kind(&config),
            store = %config.store_description(),
            "ddns-server started"
        );
        Ok(Self {
            http_addrs,
            https_addrs,
            admin_addrs,
            tls: tls.map(|(certificates, _)| certificates),
            dns,
            stop,
            loops,
            graceful,
            service,
        })
    }

    /// The HTTP addresses listened on.
    pub fn http_addrs(&self) -> &[SocketAddr] {
        &self.http_addrs
    }

    /// The HTTPS addresses listened on (empty without `[tls]`).
    pub fn https_addrs(&self) -> &[SocketAddr] {
        &self.https_addrs
    }

    /// The `[admin_http]` addresses listened on (empty without it).
    pub fn admin_addrs(&self) -> &[SocketAddr] {
        &self.admin_addrs
    }

    /// Reads the TLS certificate and key again (what SIGHUP does): new
    /// connections get the new certificate, open ones keep theirs. Returns
    /// false when the server has no TLS.
    ///
    /// # Errors
    ///
    /// [`crate::tls::TlsError`] when the files are unusable; the
    /// certificate in use is kept.
    pub fn reload_tls(&self) -> Result<bool, crate::tls::TlsError> {
        match &self.tls {
            Some(certificates) => certificates.reload().map(|()| true),
            None => Ok(false),
        }
    }

    /// The addresses the embedded DNS server answers on (UDP and TCP);
    /// empty with another provider.
    pub fn dns_addrs(&self) -> &[SocketAddr] {
        self.dns.as_ref().map_or(&[], DnsServer::local_addrs)
    }

    /// The use cases behind the API.
    pub fn service(&self) -> &Arc<DdnsService> {
        &self.service
    }

    /// Stops accepting, lets requests in flight finish (up to 30 s), then
    /// stops the DNS server.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.loops.join_next().await.is_some() {}
        // The accept loops are done, so this is the last holder.
        if let Ok(graceful) = Arc::try_unwrap(self.graceful)
            && tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
                .await
                .is_err()
        {
            tracing::warn!("requests still running after 30 s were cut off");
        }
        if let Err(e) = self.service.flush_access().await {
            tracing::warn!(error = %e, "the last access times could not be written");
        }
        if let Some(dns) = self.dns {
            dns.shutdown().await;
        }
        info!("ddns-server stopped");
    }
}

fn provider_kind(config: &ValidConfig) -> &'static str {
    match config.config.provider {
        ProviderConfig::Embedded => "embedded",
        ProviderConfig::Rfc2136 { .. } => "rfc2136",
        ProviderConfig::Route53 { .. } => "route53",
    }
}

/// The embedded DNS server, loaded from the store, and its provider.
async fn embedded(
    config: &ValidConfig,
    records: &[Record],
) -> Result<(Arc<dyn DnsProvider>, DnsServer), StartError> {
    let mut zone_config =
        ZoneConfig::new(config.zone.clone()).with_nameservers(config.nameservers.clone());
    if let Some(hostmaster) = &config.hostmaster {
        zone_config = zone_config.with_hostmaster(hostmaster.clone());
    }
    let zone = Arc::new(ZoneData::new(zone_config).map_err(backend("zone"))?);
    let provider = AuthoritativeProvider::new(zone.clone());
    let published = provider.publish(records, config.config.zone.default_ttl);
    let tcp = TcpLimits::new(
        config.config.dns.tcp_max_connections,
        Duration::from_secs(config.config.dns.tcp_idle_timeout_secs),
    );
    let dns = DnsServer::bind_with(&config.config.dns.listen, zone, tcp)
        .await
        .map_err(backend("dns.listen"))?;
    info!(published, "embedded DNS loaded from the store");
    Ok((Arc::new(provider), dns))
}

/// The RFC 2136 provider of `[provider]`.
fn rfc2136(config: &ValidConfig) -> Result<Arc<dyn DnsProvider>, StartError> {
    let ProviderConfig::Rfc2136 {
        server,
        key_file,
        key_name,
        key_algorithm,
        key_secret,
        timeout_secs,
    } = &config.config.provider
    else {
        return Err(ConfigError::invalid("provider.kind", "?", "not rfc2136").into());
    };
    if let Some(path) = key_file {
        crate::config::warn_if_readable_by_others(path, "the TSIG key file (provider.key_file)");
    }
    let key = match (key_file, key_name, key_secret) {
        (Some(path), None, None) => Some(TsigKey::from_bind_file(path).map_err(|e| {
            ConfigError::invalid(
                "provider.key_file",
                path.display().to_string(),
                e.to_string(),
            )
        })?),
        (None, Some(name), Some(secret)) => {
            let algorithm: TsigAlgorithmName = key_algorithm
                .as_deref()
                .unwrap_or("hmac-sha256")
                .parse()
                .map_err(|e: ddns_core::Error| {
                    ConfigError::invalid(
                        "provider.key_algorithm",
                        key_algorithm.clone().unwrap_or_default(),
                        e.to_string(),
                    )
                })?;
            Some(TsigKey::new(name, algorithm, secret).map_err(|e| {
                ConfigError::invalid("provider.key_secret", "(hidden)", e.to_string())
            })?)
        }
        (None, None, None) => None,
        _ => {
            return Err(ConfigError::invalid(
                "provider.key_file",
                key_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                "give either key_file, or key_name and key_secret (not both, not one alone)",
            )
            .into());
        }
    };
    let mut builder = Rfc2136Provider::builder(*server, config.zone.clone())
        .with_timeout(Duration::from_secs((*timeout_secs).max(1)));
    if let Some(key) = key {
        builder = builder.with_key(key);
    }
    let provider = builder.build().map_err(backend("provider"))?;
    Ok(Arc::new(provider))
}

/// Refuses to start when the store holds records outside the zone: the
/// embedded DNS server could not answer for them.
fn check_records_in_zone(records: &[Record], config: &ValidConfig) -> Result<(), StartError> {
    let outside: Vec<String> = records
        .iter()
        .filter(|r| !r.key.hostname.is_in_zone(&config.zone))
        .map(|r| r.key.to_string())
        .collect();
    if let Some(first) = outside.first() {
        return Err(ConfigError::invalid(
            "zone.name",
            config.zone.to_string(),
            format!(
                "{} holds records outside this zone ({first}{}); set zone.name to their zone, or remove them",
                config.store_description(),
                if outside.len() > 1 { format!(" and {} more", outside.len() - 1) } else { String::new() }
            ),
        )
        .into());
    }
    Ok(())
}
