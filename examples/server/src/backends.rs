//! The backends a configuration names: the record store, and one DNS
//! provider per zone behind a [`ZoneRouter`]. Serving and the admin
//! commands build them the same way.

use std::sync::Arc;

use ddns_authoritative::{
    AuthoritativeProvider, Dnssec, SerialFile, ZoneConfig, ZoneData, ZoneKey,
};
use ddns_aws::{DynamoDbStore, Route53Provider};
use ddns_core::router::ZoneRouter;
use ddns_core::{DnsProvider, Record, RecordStore};
use ddns_rfc2136::Rfc2136Provider;
use ddns_sqlite::SqliteStore;

use crate::app::StartError;
use crate::config::{ConfigError, StoreConfig};
use crate::settings::{DnssecSpec, ProviderSpec, ValidConfig, ZoneSpec};

pub(crate) fn backend(what: impl Into<String>) -> impl FnOnce(ddns_core::Error) -> StartError {
    let what = what.into();
    move |source| StartError::Backend { what, source }
}

/// Opens the configured store (creating it, seeded with the first zone's
/// example records, if new).
///
/// # Errors
///
/// [`StartError::Backend`] naming the file or table and what to do.
pub async fn open_store(config: &ValidConfig) -> Result<Arc<dyn RecordStore>, StartError> {
    match &config.store {
        StoreConfig::Sqlite { path } => {
            let mut builder = SqliteStore::builder(path);
            if let Some(first) = config.zones.first() {
                builder = builder.with_seed_zone(first.name.clone());
            }
            Ok(Arc::new(
                builder.open().await.map_err(backend("store.path"))?,
            ))
        }
        StoreConfig::Dynamodb {
            table,
            layout,
            region,
            endpoint_url,
        } => {
            let mut builder = DynamoDbStore::builder().with_table(table);
            if let Some(layout) = layout {
                builder = builder.with_layout(layout.parse().map_err(backend("store.layout"))?);
            }
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

/// Every zone's provider, routed by zone, and the embedded zones' data.
#[derive(Debug)]
pub(crate) struct Providers {
    /// One provider over all zones.
    pub(crate) router: Arc<ZoneRouter>,
    /// The zones the embedded DNS serves, with their providers.
    pub(crate) embedded: Vec<(Arc<ZoneData>, AuthoritativeProvider)>,
}

impl Providers {
    /// Builds the provider of every zone of `config`. Embedded zones start
    /// empty; [`Providers::publish`] fills them. Only a process that
    /// serves them (`serving`) keeps their serial files: an admin command
    /// beside it must not move the reservation.
    pub(crate) async fn build(config: &ValidConfig, serving: bool) -> Result<Self, StartError> {
        let mut routes: Vec<(ddns_core::Hostname, Arc<dyn DnsProvider>)> = Vec::new();
        let mut embedded = Vec::new();
        for zone in &config.zones {
            let provider: Arc<dyn DnsProvider> = match &zone.provider {
                ProviderSpec::Embedded => {
                    let settings = embedded_zone(zone);
                    let data = if serving {
                        let file = SerialFile::new(serial_path(config, &zone.name));
                        ZoneData::with_serial_file(settings, file)
                    } else {
                        ZoneData::new(settings)
                    };
                    let mut data =
                        data.map_err(backend(format!("the embedded zone {}", zone.name)))?;
                    if serving && let Some(dnssec) = &zone.dnssec {
                        data = data
                            .signed(&zone_dnssec(config, zone, dnssec)?)
                            .map_err(backend(format!("signing the embedded zone {}", zone.name)))?;
                    }
                    let data = Arc::new(data);
                    let provider = AuthoritativeProvider::new(data.clone());
                    embedded.push((data, provider.clone()));
                    Arc::new(provider)
                }
                ProviderSpec::Rfc2136 {
                    server,
                    key,
                    timeout,
                } => {
                    let mut builder =
                        Rfc2136Provider::builder(*server, zone.name.clone()).with_timeout(*timeout);
                    if let Some(key) = key {
                        builder = builder.with_key(key.clone());
                    }
                    Arc::new(
                        builder
                            .build()
                            .map_err(backend(format!("the rfc2136 provider of {}", zone.name)))?,
                    )
                }
                ProviderSpec::Route53 {
                    zone_id,
                    region,
                    endpoint_url,
                } => {
                    let mut builder = Route53Provider::builder()
                        .with_zone_id(zone_id)
                        .with_zone(zone.name.clone());
                    if let Some(region) = region {
                        builder = builder.with_region(region);
                    }
                    if let Some(url) = endpoint_url {
                        builder = builder.with_endpoint_url(url);
                    }
                    Arc::new(
                        builder
                            .build()
                            .await
                            .map_err(backend(format!("the route53 provider of {}", zone.name)))?,
                    )
                }
            };
            routes.push((zone.name.clone(), provider));
        }
        let router = ZoneRouter::new(routes).map_err(|e| {
            StartError::Config(ConfigError::invalid(
                "zones",
                config.zone_names(),
                e.to_string(),
            ))
        })?;
        Ok(Self {
            router: Arc::new(router),
            embedded,
        })
    }

    /// Publishes in each embedded zone the last address the system set for
    /// each of `records` whose longest zone it is. Returns how many were
    /// published.
    pub(crate) fn publish(&self, records: &[Record], config: &ValidConfig) -> usize {
        let zones = config.core_zones();
        self.embedded
            .iter()
            .map(|(data, provider)| {
                let origin = data.config().origin();
                let own: Vec<Record> = records
                    .iter()
                    .filter(|r| {
                        zones
                            .containing(r.key.name())
                            .is_some_and(|z| z.name() == origin)
                    })
                    .cloned()
                    .collect();
                let ttl = zones
                    .containing(origin)
                    .map_or(ddns_core::DEFAULT_TTL, ddns_core::Zone::default_ttl);
                provider.publish(&own, ttl)
            })
            .sum()
    }
}

/// Where the embedded zone `zone` keeps its serial reservation: beside the
/// SQLite database (`<zone>.serial`, like `example.com.serial`), or in the
/// working directory with another store.
pub(crate) fn serial_path(config: &ValidConfig, zone: &ddns_core::Hostname) -> std::path::PathBuf {
    beside_store(config, zone, "serial")
}

/// Where a signed zone's DNSSEC key is: the file given, or
/// `<zone>.dnssec.key` beside the SQLite database (in the working
/// directory with another store).
pub(crate) fn dnssec_key_path(config: &ValidConfig, zone: &ZoneSpec) -> Option<std::path::PathBuf> {
    let dnssec = zone.dnssec.as_ref()?;
    Some(
        dnssec
            .key_file
            .clone()
            .unwrap_or_else(|| beside_store(config, &zone.name, "dnssec.key")),
    )
}

/// `<zone>.<suffix>` in the SQLite database's directory, or in the working
/// directory with another store.
fn beside_store(
    config: &ValidConfig,
    zone: &ddns_core::Hostname,
    suffix: &str,
) -> std::path::PathBuf {
    let dir = config
        .db_path()
        .and_then(std::path::Path::parent)
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    dir.join(format!("{}{suffix}", zone.as_str()))
}

/// The zone's key, loaded or made on first start (logged, with what to
/// give the registrar), and its signing settings.
pub(crate) fn zone_dnssec(
    config: &ValidConfig,
    zone: &ZoneSpec,
    dnssec: &DnssecSpec,
) -> Result<Dnssec, StartError> {
    let path = dnssec_key_path(config, zone).unwrap_or_default();
    let (key, created) = ZoneKey::load_or_generate(&path)
        .map_err(backend(format!("the DNSSEC key of {}", zone.name)))?;
    if created {
        tracing::warn!(zone = %zone.name, file = %path.display(), key_tag = key.key_tag(),
            "a new DNSSEC key was made; the zone is signed but not yet trusted: give the registrar its DS record (`ddns-server ds`), and back up the key file");
    } else {
        crate::config::warn_if_readable_by_others(&path, "the DNSSEC key file");
    }
    Ok(Dnssec::new(key).with_validity(dnssec.validity))
}

/// The embedded DNS's settings for `zone`.
fn embedded_zone(zone: &ZoneSpec) -> ZoneConfig {
    let mut config = ZoneConfig::new(zone.name.clone())
        .with_nameservers(zone.nameservers.clone())
        .with_soa_timers(zone.soa)
        .with_secondaries(zone.secondaries.clone());
    if let Some(hostmaster) = &zone.hostmaster {
        config = config.with_hostmaster(hostmaster.clone());
    }
    config
}

/// Refuses records outside every zone: no backend could answer for them.
pub(crate) fn check_records_in_zones(
    records: &[Record],
    config: &ValidConfig,
) -> Result<(), StartError> {
    let zones = config.core_zones();
    let outside: Vec<String> = records
        .iter()
        .filter(|r| zones.containing(r.key.name()).is_none())
        .map(|r| r.key.to_string())
        .collect();
    if let Some(first) = outside.first() {
        let more = match outside.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        return Err(ConfigError::invalid(
            "zone.name",
            config.zone_names(),
            format!(
                "{} holds records outside the zones served ({first}{more}); configure their zone, or remove them",
                config.store_description(),
            ),
        )
        .into());
    }
    Ok(())
}
