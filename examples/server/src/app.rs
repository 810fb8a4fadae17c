//! Wiring: the store, the provider, the DNS server and the HTTP listeners,
//! started together and stopped together.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ddns_authoritative::{DnsServer, DnsUpdates, ZoneData};
use ddns_core::admin::RecordAdmin;
use ddns_core::cache::CachedStore;
use ddns_core::coalesce::CoalescingProvider;
use ddns_core::protocols::acme::AcmeApi;
use ddns_core::protocols::dyndns2::Dyndns2Api;
use ddns_core::protocols::endpoint::Endpoint;
use ddns_core::protocols::forwarded::TrustedProxies;
use ddns_core::protocols::seed::{ApiKeys, SeedApi};
use ddns_core::protocols::upstream::UpstreamApi;
use ddns_core::{DdnsService, DnsProvider, RecordStore};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::info;

use crate::backends::{Providers, backend, check_records_in_zones, open_store};
use crate::config::{ConfigError, StoreConfig};
use crate::connections::{ConnectionCaps, SourceConnections};
use crate::health::HealthCheck;
use crate::http::{HttpState, Role, accept_loop};
use crate::limits::{CLEAN_EVERY, Limits};
use crate::metrics::Metrics;
use crate::settings::{ProviderSpec, ValidConfig};
use crate::tls::TlsCertificates;
use crate::tokens::TokenFile;
use crate::webadmin::{ClientTargets, WebAdmin};

/// How often challenge values nobody cleaned up are looked for: a quarter
/// of their maximum age, between 1 s and 10 minutes (each round reads the
/// whole store).
fn sweep_interval(max_age: Duration) -> Duration {
    (max_age / 4).clamp(Duration::from_secs(1), Duration::from_secs(600))
}

/// Removes expired challenge values at start and then every `every`,
/// until `stopped` changes.
async fn expire_challenges(
    service: Arc<DdnsService>,
    every: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            _ = ticks.tick() => match service.expire_challenges().await {
                Ok(0) => {}
                Ok(removed) => info!(removed, "expired ACME challenge values removed"),
                Err(e) => tracing::warn!(error = %e, "expired ACME challenge values could not be looked for"),
            },
        }
    }
}

/// The admin listener's API and page over `admin`.
fn webadmin_for(config: &ValidConfig, admin: RecordAdmin) -> Result<WebAdmin, StartError> {
    let tokens = config.admin.tokens_file.clone().ok_or_else(|| {
        StartError::Config(ConfigError::invalid(
            "admin_http.tokens_file",
            "(none)",
            "the admin listener needs a token file; with a DynamoDB store there is no default, so set one",
        ))
    })?;
    let targets = ClientTargets {
        public_url: config.admin.public_url.clone(),
        dns: config.dns.listen.first().copied(),
        zones: config.core_zones(),
        embedded: config
            .zones
            .iter()
            .filter(|z| matches!(z.provider, ProviderSpec::Embedded))
            .map(|z| z.name.clone())
            .collect(),
    };
    WebAdmin::new(
        admin,
        TokenFile::new(tokens),
        config.admin.failed_tokens_per_minute,
        config.admin.tls,
        targets,
        config.http.request_timeout,
    )
    .map_err(backend("the admin page's keys"))
}

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
    /// The control socket could not be bound.
    #[error("control.socket = {}: cannot listen: {source}", path.display())]
    Control {
        /// The socket's path.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
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
    admin: RecordAdmin,
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
        let providers = Providers::build(&config, true).await?;
        // One listing, a page at a time, serves the zone check and the
        // embedded zones' load: a million records are never all in memory
        // as store records at once.
        let mut published = 0;
        let mut cursor = None;
        loop {
            let page = store
                .list_page(cursor)
                .await
                .map_err(backend("reading the store"))?;
            check_records_in_zones(&page.records, &config)?;
            published += providers.publish(&page.records, &config);
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let embedded_zones: Vec<Arc<ZoneData>> = providers
            .embedded
            .iter()
            .map(|(data, _)| data.clone())
            .collect();
        if !embedded_zones.is_empty() {
            info!(
                published,
                zones = embedded_zones.len(),
                "embedded DNS loaded from the store"
            );
        }

        let settings = config.service;
        let cached_store: Arc<dyn RecordStore> = if settings.record_cache_ttl.is_zero() {
            store
        } else {
            Arc::new(CachedStore::new(store, settings.record_cache_ttl))
        };
        let metrics = Arc::new(Metrics::new());
        let provider: Arc<dyn DnsProvider> = metrics.counting(providers.router.clone());
        let batched: Arc<dyn DnsProvider> =
            Arc::new(CoalescingProvider::new(provider).with_window(settings.coalesce_window));
        let limits = Limits::new(&config.limits).map(Arc::new);
        let zones = config.core_zones();
        let mut builder = DdnsService::builder(cached_store.clone(), batched.clone());
        if let Some(budget) = limits.as_ref().and_then(|l| l.host_budget()) {
            builder = builder.with_host_budget(budget);
        }
        if let Some(rules) = config.acme {
            builder = builder.with_challenge_rules(rules);
        }
        let service = Arc::new(
            builder
                .with_prefix_rules(config.prefix)
                .with_zones(zones.clone())
                .with_recheck_interval(settings.recheck_interval)
                .with_signed_window(settings.signed_window)
                .with_provider_timeout(settings.provider_timeout)
                .with_access_write_delay(settings.access_write_delay)
                .build(),
        );
        let admin = RecordAdmin::new(cached_store, batched, zones);
        let dns = if embedded_zones.is_empty() {
            None
        } else {
            let updates = config.dns.updates.then(|| {
                DnsUpdates::new(service.clone())
                    .with_fudge(config.dns.tsig_fudge)
                    .with_operator_keys(admin.clone(), config.dns.operator_keys.clone())
            });
            Some(
                DnsServer::bind_zones_with_updates(
                    &config.dns.listen,
                    &embedded_zones,
                    config.dns.tcp,
                    updates,
                )
                .await
                .map_err(backend("dns.listen"))?,
            )
        };
        let mut endpoint = Endpoint::new(
            SeedApi::new(service.clone(), ApiKeys::new(config.http.api_keys.clone())),
            Dyndns2Api::new(service.clone()),
        );
        if config.acme.is_some() {
            endpoint = endpoint.with_acme(AcmeApi::new(service.clone()));
        }
        if let StoreConfig::Dynamodb { table, .. } = &config.store {
            endpoint = endpoint.with_upstream(UpstreamApi::new(service.clone(), table.clone()));
        }
        let webadmin = if config.admin_http.is_empty() {
            None
        } else {
            match webadmin_for(&config, admin.clone()) {
                Ok(web) => Some(Arc::new(web)),
                Err(e) => {
                    if let Some(dns) = dns {
                        dns.shutdown().await;
                    }
                    return Err(e);
                }
            }
        };
        let state = Arc::new(HttpState {
            endpoint,
            proxies: TrustedProxies::new(config.http.trusted_proxies.clone()),
            metrics,
            health: HealthCheck::new(
                service.clone(),
                config.zones.iter().map(|z| z.name.clone()).collect(),
                config.http.health_cache,
            ),
            admin_split: !config.admin_http.is_empty(),
            request_timeout: config.http.request_timeout,
            limits,
            webadmin,
        });

        let tls = match &config.tls {
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
        let admin_certificates = tls
            .as_ref()
            .filter(|_| config.admin.tls)
            .map(|(certificates, _)| certificates.clone());
        wanted.extend(config.admin_http.iter().map(|&addr| {
            (
                "admin_http.listen",
                addr,
                Role::Admin,
                admin_certificates.clone(),
            )
        }));
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
            bound(Role::Admin, config.admin.tls),
        );
        let caps = ConnectionCaps {
            all: Arc::new(Semaphore::new(config.http.max_connections)),
            per_source: Arc::new(SourceConnections::new(
                config.http.max_connections_per_source,
                (
                    config.limits.source_prefix_v4,
                    config.limits.source_prefix_v6,
                ),
                TrustedProxies::new(config.http.trusted_proxies.clone()),
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
        if let Some(rules) = config.acme {
            loops.spawn(expire_challenges(
                service.clone(),
                sweep_interval(rules.max_age()),
                stopped.clone(),
            ));
        }
        #[cfg(unix)]
        if let Some(path) = &config.control_socket {
            match crate::control::server::bind(path).await {
                Ok(listener) => {
                    loops.spawn(crate::control::server::serve(
                        listener,
                        path.clone(),
                        admin.clone(),
                        stopped.clone(),
                    ));
                }
                Err(source) if !config.control_socket_required => {
                    tracing::warn!(
                        socket = %path.display(),
                        error = %source,
                        "no control socket: `ddns-server remove` will not reach this server's embedded DNS until it restarts; set [control] socket to a usable path"
                    );
                }
                Err(source) => {
                    let _ = stop.send(true);
                    while loops.join_next().await.is_some() {}
                    if let Some(dns) = dns {
                        dns.shutdown().await;
                    }
                    return Err(StartError::Control {
                        path: path.clone(),
                        source,
                    });
                }
            }
        }
        let names = |embedded: bool| {
            config
                .zones
                .iter()
                .filter(|z| !embedded || matches!(z.provider, ProviderSpec::Embedded))
                .map(|z| z.name.as_str())
                .collect::<Vec<_>>()
        };
        info!(
            zones = ?names(false),
            embedded = ?names(true),
            http = ?http_addrs,
            https = ?https_addrs,
            admin = ?admin_addrs,
            dns = ?dns.as_ref().map(DnsServer::local_addrs),
            providers = ?config.zones.iter().map(|z| z.provider.kind()).collect::<Vec<_>>(),
            control = ?config.control_socket,
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
            admin,
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

    /// The record administration of this server: changes made through it
    /// reach the running server's DNS at once.
    pub fn admin(&self) -> &RecordAdmin {
        &self.admin
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
