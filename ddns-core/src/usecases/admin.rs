//! Record administration: the operator's use cases (add, update, lock,
//! unlock, rotate a secret, remove, show, list) over the store and the DNS
//! provider, with every rule they enforce in one place.
//!
//! The server's command line is a thin layer over [`RecordAdmin`]; an
//! embedder gets the same rules: names must lie in a served zone, MAC
//! addresses are six hex pairs, a secret given by the operator is checked
//! for strength, and a removal takes the name out of DNS before it forgets
//! the record, so no name is left published without a record behind it.

use std::sync::Arc;

use crate::domain::hostname::{Hostname, RecordName};
use crate::domain::prefix::PrefixFollow;
use crate::domain::record::{ChangeUpdate, MAX_TTL, Record, RecordConfig, RecordKey, RecordType};
use crate::domain::secret::SharedSecret;
use crate::domain::timestamp::Timestamp;
use crate::domain::value::{RecordValue, TxtValue};
use crate::domain::zone::Zones;
use crate::error::Error;
use crate::ports::batching::align_results;
use crate::ports::provider::{DnsChange, DnsProvider};
use crate::ports::store::RecordStore;

/// How many times [`RecordAdmin::set_txt`] retries its store write when a
/// concurrent writer changed the record in between.
const STATE_WRITE_ATTEMPTS: usize = 5;

/// Hex digits of a generated secret: 128 bits.
pub const GENERATED_SECRET_DIGITS: usize = 32;

/// The estimated strength below which a secret given by the operator is
/// warned about, or refused when the request is strict.
pub const MIN_SECRET_BITS: usize = 128;

/// Why an administration use case failed. Nothing was changed unless the
/// variant says otherwise.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The input breaks a rule; the message says which and what is
    /// accepted.
    #[error("{0}")]
    Invalid(String),
    /// The secret given is weaker than [`MIN_SECRET_BITS`] and the request
    /// was strict.
    #[error(
        "the secret has about {bits} bits of strength, under the {MIN_SECRET_BITS} required; \
         leave the secret out to get a random one"
    )]
    WeakSecret {
        /// Its estimated strength.
        bits: usize,
    },
    /// No record of the types asked exists for the name.
    #[error("no record for {name} ({types}); add it first")]
    Missing {
        /// The name.
        name: RecordName,
        /// The types asked, as text.
        types: String,
    },
    /// A record to add exists already.
    #[error("{key} already exists; use update")]
    Exists {
        /// The record.
        key: RecordKey,
    },
    /// The store failed. Records listed before it in the outcome's output
    /// were changed; the rest were not.
    #[error("the record store failed: {0}")]
    Store(#[source] Error),
    /// Publishing values failed, so the store was not changed (a record
    /// created for them was taken back).
    #[error(
        "publishing {key} failed, so nothing was stored; fix the DNS backend and set again: {source}"
    )]
    DnsPublish {
        /// The record.
        key: RecordKey,
        /// The provider's error.
        #[source]
        source: Error,
    },
    /// Taking the records out of DNS failed, so they were kept in the
    /// store: run the removal again once the DNS backend works.
    #[error(
        "removing {key} from DNS failed, so no record was removed from the store; \
         fix the DNS backend and remove again: {source}"
    )]
    DnsDelete {
        /// The first record DNS did not delete.
        key: RecordKey,
        /// The provider's error.
        #[source]
        source: Error,
    },
    /// The records left DNS but a store deletion failed: the name is no
    /// longer published; run the removal again to forget the record.
    #[error("{key} was removed from DNS but the store could not delete it; remove again: {source}")]
    StoreDelete {
        /// The record still in the store.
        key: RecordKey,
        /// The store's error.
        #[source]
        source: Error,
    },
}

impl From<Error> for AdminError {
    fn from(e: Error) -> Self {
        Self::Store(e)
    }
}

/// What to do about a record's secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretChoice {
    /// Keep it (for `update`) or generate one (for `add`).
    #[default]
    Default,
    /// Use this one, checked for strength.
    Given(SharedSecret),
    /// Generate a random one of [`GENERATED_SECRET_DIGITS`] hex digits.
    Generate,
}

/// The records `add` creates: one per type, sharing one configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AddRecord {
    /// The name; it must lie in a served zone.
    pub hostname: Hostname,
    /// The types to create (A and AAAA by default; TXT records are made by
    /// [`RecordAdmin::set_txt`]).
    pub types: Vec<RecordType>,
    /// The secret: generated unless given.
    pub secret: SecretChoice,
    /// Refuse a weak given secret instead of warning.
    pub strict: bool,
    /// The TTL; `None`: the zone's default.
    pub ttl: Option<u32>,
    /// Create the records locked.
    pub lock_record: bool,
    /// Allow internal addresses and addresses other than the client's.
    pub allow_internal: bool,
    /// Join the secret's discovery group.
    pub read_privilege: bool,
    /// Accept only signed requests.
    pub require_signed: bool,
    /// The host's MAC address, six hex pairs.
    pub mac_address: Option<String>,
    /// A comment for the operator.
    pub comment: Option<String>,
    /// Follow a router's prefix (AAAA records only): the record's address
    /// becomes the router's reported prefix plus this interface id.
    pub follow: Option<PrefixFollow>,
}

impl AddRecord {
    /// An A and an AAAA record for `hostname` with the defaults: a
    /// generated secret, the zone's TTL, unlocked, public addresses only,
    /// no discovery group.
    pub fn new(hostname: Hostname) -> Self {
        Self {
            hostname,
            types: RecordType::ADDRESSES.to_vec(),
            secret: SecretChoice::Default,
            strict: false,
            ttl: None,
            lock_record: false,
            allow_internal: false,
            read_privilege: false,
            require_signed: false,
            mac_address: None,
            comment: None,
            follow: None,
        }
    }
}

/// The settings `update` changes; `None` keeps a setting as it is.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UpdateRecord {
    /// The name.
    pub hostname: Hostname,
    /// The types to update (both by default).
    pub types: Vec<RecordType>,
    /// A new secret (given or generated), or keep it.
    pub secret: SecretChoice,
    /// Refuse a weak given secret instead of warning.
    pub strict: bool,
    /// A new TTL: `Some(None)` returns to the zone's default.
    pub ttl: Option<Option<u32>>,
    /// Allow or refuse internal addresses.
    pub allow_internal: Option<bool>,
    /// Join or leave the discovery group.
    pub read_privilege: Option<bool>,
    /// Require signed requests or not.
    pub require_signed: Option<bool>,
    /// A new MAC address: `Some(None)` clears it.
    pub mac_address: Option<Option<String>>,
    /// A new comment: `Some(None)` clears it.
    pub comment: Option<Option<String>>,
    /// A new prefix to follow (AAAA records only): `Some(None)` stops
    /// following, keeping the address the record holds.
    pub follow: Option<Option<PrefixFollow>>,
}

impl UpdateRecord {
    /// An update of `hostname`'s A and AAAA records that changes nothing
    /// yet.
    pub fn new(hostname: Hostname) -> Self {
        Self {
            hostname,
            types: RecordType::ADDRESSES.to_vec(),
            secret: SecretChoice::Default,
            strict: false,
            ttl: None,
            allow_internal: None,
            read_privilege: None,
            require_signed: None,
            mac_address: None,
            comment: None,
            follow: None,
        }
    }
}

/// What a use case changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Changed {
    /// The records changed, in type order.
    pub keys: Vec<RecordKey>,
    /// The secret the use case generated: shown to the operator once.
    pub generated_secret: Option<SharedSecret>,
    /// Advice the operator should see (a weak secret).
    pub warnings: Vec<String>,
}

/// What [`RecordAdmin::import`] copied, or would copy.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ImportReport {
    /// The records copied (or, in a dry run, that would be).
    pub copied: Vec<RecordKey>,
    /// The records not copied, and why.
    pub refused: Vec<ImportRefusal>,
}

/// A record [`RecordAdmin::import`] does not copy.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ImportRefusal {
    /// The record, or the item that holds no readable record.
    pub name: String,
    /// Why.
    pub reason: String,
}

impl ImportRefusal {
    /// A refusal of `name` for `reason`.
    pub fn new(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            reason: reason.into(),
        }
    }
}

/// The record administration use cases.
///
/// ```
/// use std::sync::Arc;
/// use ddns_core::admin::{AddRecord, RecordAdmin};
/// use ddns_core::memory::{MemoryProvider, MemoryStore};
/// use ddns_core::{Hostname, Zone, Zones};
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let zones = Zones::single(Zone::new(Hostname::parse("example.com")?));
/// let admin = RecordAdmin::new(Arc::new(MemoryStore::new()), Arc::new(MemoryProvider::new()), zones);
/// let added = admin.add(AddRecord::new(Hostname::parse("home.example.com")?)).await?;
/// assert_eq!(added.keys.len(), 2);
/// assert!(added.generated_secret.is_some());
/// let outside = admin.add(AddRecord::new(Hostname::parse("home.example.org")?)).await;
/// assert!(outside.unwrap_err().to_string().contains("example.com."));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?; Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RecordAdmin {
    store: Arc<dyn RecordStore>,
    provider: Arc<dyn DnsProvider>,
    zones: Zones,
}

impl RecordAdmin {
    /// The use cases over `store` and `provider` for the names of `zones`.
    pub fn new(store: Arc<dyn RecordStore>, provider: Arc<dyn DnsProvider>, zones: Zones) -> Self {
        Self {
            store,
            provider,
            zones,
        }
    }

    /// The zones served.
    pub fn zones(&self) -> &Zones {
        &self.zones
    }

    /// Creates one record per type asked; none if any exists already.
    ///
    /// # Errors
    ///
    /// [`AdminError::Invalid`] for a name in no zone, a bad MAC or TTL, an
    /// empty secret or no type; [`AdminError::WeakSecret`];
    /// [`AdminError::Exists`]; [`AdminError::Store`].
    pub async fn add(&self, request: AddRecord) -> Result<Changed, AdminError> {
        self.check_in_zone(&request.hostname)?;
        let types = distinct(&request.types)?;
        if types.contains(&RecordType::Txt) {
            return Err(AdminError::Invalid(
                "a TXT record is made with its values: use set_txt (`ddns-server txt set NAME VALUE...`)"
                    .into(),
            ));
        }
        if let Some(mac) = &request.mac_address {
            check_mac(mac)?;
        }
        if let Some(ttl) = request.ttl {
            check_ttl(ttl)?;
        }
        if let Some(follow) = &request.follow {
            self.check_follow(&request.hostname, follow, &types)?;
        }
        let mut changed = Changed::default();
        let secret = new_secret(&request.secret, true, request.strict, &mut changed)?
            .ok_or_else(|| AdminError::Invalid("no secret could be made".into()))?;
        let mut config = RecordConfig::new(secret)
            .with_lock(request.lock_record)
            .with_allow_internal(request.allow_internal)
            .with_read_privilege(request.read_privilege)
            .with_require_signed(request.require_signed);
        config.ttl = request.ttl;
        config.mac_address = request.mac_address;
        config.comment = request.comment;
        config.follow = request.follow;
        let keys: Vec<RecordKey> = types
            .iter()
            .map(|&t| RecordKey::new(request.hostname.clone(), t))
            .collect();
        for key in &keys {
            if self.store.get(key).await?.is_some() {
                return Err(AdminError::Exists { key: key.clone() });
            }
        }
        for key in keys {
            match self
                .store
                .create(&Record::new(key.clone(), config.clone()))
                .await
            {
                Ok(()) => changed.keys.push(key),
                Err(Error::Conflict { .. }) => return Err(AdminError::Exists { key }),
                Err(e) => return Err(AdminError::Store(e)),
            }
        }
        Ok(changed)
    }

    /// Changes the settings given of the existing records of the types
    /// asked, keeping the others.
    ///
    /// # Errors
    ///
    /// As [`RecordAdmin::add`], and [`AdminError::Missing`] when no record
    /// of the types exists.
    pub async fn update(&self, request: UpdateRecord) -> Result<Changed, AdminError> {
        self.check_in_zone(&request.hostname)?;
        if let Some(Some(mac)) = &request.mac_address {
            check_mac(mac)?;
        }
        if let Some(Some(ttl)) = request.ttl {
            check_ttl(ttl)?;
        }
        let mut changed = Changed::default();
        let secret = new_secret(&request.secret, false, request.strict, &mut changed)?;
        let records = self
            .existing(request.hostname.as_ref(), &request.types)
            .await?;
        if let Some(Some(follow)) = &request.follow {
            let types: Vec<RecordType> = records.iter().map(|r| r.key.record_type()).collect();
            self.check_follow(&request.hostname, follow, &types)?;
        }
        for record in records {
            let mut config = record.config;
            if let Some(secret) = &secret {
                config.shared_secret = secret.clone();
            }
            if let Some(ttl) = request.ttl {
                config.ttl = ttl;
            }
            if let Some(v) = request.allow_internal {
                config.allow_internal = v;
            }
            if let Some(v) = request.read_privilege {
                config.read_privilege = v;
            }
            if let Some(v) = request.require_signed {
                config.require_signed = v;
            }
            if let Some(mac) = &request.mac_address {
                config.mac_address.clone_from(mac);
            }
            if let Some(comment) = &request.comment {
                config.comment.clone_from(comment);
            }
            if let Some(follow) = &request.follow {
                config.follow.clone_from(follow);
            }
            self.store.update_config(&record.key, &config).await?;
            changed.keys.push(record.key);
        }
        Ok(changed)
    }

    /// Refuses a follow setting on anything but `hostname`'s AAAA record,
    /// on a record that would follow itself, and with a source outside the
    /// zones served.
    fn check_follow(
        &self,
        hostname: &Hostname,
        follow: &PrefixFollow,
        types: &[RecordType],
    ) -> Result<(), AdminError> {
        if types.iter().any(|&t| t != RecordType::Aaaa) {
            return Err(AdminError::Invalid(
                "only an AAAA record follows a prefix: add --type aaaa (the host's A record, if any, is set by its own client)".into(),
            ));
        }
        if &follow.prefix_from == hostname {
            return Err(AdminError::Invalid(format!(
                "{hostname} cannot follow its own prefix: its AAAA record is set from its own updates; name the router that reports the prefix"
            )));
        }
        self.check_in_zone(&follow.prefix_from).map_err(|_| {
            AdminError::Invalid(format!(
                "the prefix source {} is in no zone served; name the router's record here, which carries its credential",
                follow.prefix_from
            ))
        })
    }

    /// Gives the existing records of the types asked a new random secret,
    /// returned once in [`Changed::generated_secret`].
    ///
    /// # Errors
    ///
    /// As [`RecordAdmin::update`].
    pub async fn rotate_secret(
        &self,
        hostname: Hostname,
        types: &[RecordType],
    ) -> Result<Changed, AdminError> {
        let mut request = UpdateRecord::new(hostname);
        request.types = types.to_vec();
        request.secret = SecretChoice::Generate;
        self.update(request).await
    }

    /// Locks (`true`) or unlocks the existing records of the types asked.
    ///
    /// # Errors
    ///
    /// [`AdminError::Missing`], [`AdminError::Store`], or a name in no
    /// zone.
    pub async fn set_lock(
        &self,
        hostname: impl AsRef<RecordName>,
        types: &[RecordType],
        locked: bool,
    ) -> Result<Changed, AdminError> {
        let hostname = hostname.as_ref();
        self.check_in_zone(hostname)?;
        let mut changed = Changed::default();
        for record in self.existing(hostname, types).await? {
            let config = record.config.with_lock(locked);
            self.store.update_config(&record.key, &config).await?;
            changed.keys.push(record.key);
        }
        Ok(changed)
    }

    /// Removes the existing records of the types asked: first their RRsets
    /// from DNS, in one batch, then the records from the store, then the
    /// RRsets once more (a `set` that read the record before it was
    /// deleted may have published it again meanwhile; a `set` later than
    /// that finds no record and withdraws its own change). When the first
    /// DNS deletion fails nothing is removed from the store; when the last
    /// one fails the outcome carries a warning.
    ///
    /// # Errors
    ///
    /// [`AdminError::DnsDelete`] or [`AdminError::StoreDelete`] saying which
    /// step failed; [`AdminError::Missing`]; a name in no zone.
    pub async fn remove(
        &self,
        hostname: impl AsRef<RecordName>,
        types: &[RecordType],
    ) -> Result<Changed, AdminError> {
        let hostname = hostname.as_ref();
        self.check_in_zone(hostname)?;
        let keys: Vec<RecordKey> = self
            .existing(hostname, types)
            .await?
            .into_iter()
            .map(|r| r.key)
            .collect();
        let changes: Vec<DnsChange> = keys.iter().cloned().map(DnsChange::delete).collect();
        if let Some((key, source)) = self.delete_from_dns(&keys, &changes).await {
            return Err(AdminError::DnsDelete { key, source });
        }
        let mut changed = Changed::default();
        for key in keys {
            match self.store.delete(&key).await {
                // Gone meanwhile: the goal is reached.
                Ok(()) | Err(Error::NotFound { .. }) => changed.keys.push(key),
                Err(source) => return Err(AdminError::StoreDelete { key, source }),
            }
        }
        if let Some((key, e)) = self.delete_from_dns(&changed.keys, &changes).await {
            changed.warnings.push(format!(
                "{key} was removed, but deleting it from DNS a second time failed ({e}); \
                 check that the name is gone"
            ));
        }
        Ok(changed)
    }

    /// Applies `changes` (the deletions of `keys`, in order); the first key
    /// whose deletion failed, with the error.
    async fn delete_from_dns(
        &self,
        keys: &[RecordKey],
        changes: &[DnsChange],
    ) -> Option<(RecordKey, Error)> {
        let results = align_results(changes, self.provider.apply(changes).await);
        keys.iter()
            .zip(results)
            .find_map(|(key, result)| result.err().map(|e| (key.clone(), e)))
    }

    /// The existing records of the types asked, in type order.
    ///
    /// # Errors
    ///
    /// [`AdminError::Missing`] when there is none; [`AdminError::Store`].
    pub async fn show(
        &self,
        hostname: impl AsRef<RecordName>,
        types: &[RecordType],
    ) -> Result<Vec<Record>, AdminError> {
        self.existing(hostname.as_ref(), types).await
    }

    /// Sets the TXT RRset at `name` to exactly `values`: creates its record
    /// when there is none (with a random secret that is not shown: TXT
    /// records take no client requests), publishes the values with the
    /// record's TTL (`ttl` when given, which is also stored; else the
    /// record's own or the zone's default), then stores them.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use ddns_core::admin::RecordAdmin;
    /// use ddns_core::memory::{MemoryProvider, MemoryStore};
    /// use ddns_core::{DnsProvider, Hostname, RecordKey, RecordName, TxtValue, Zone, Zones};
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let dns = Arc::new(MemoryProvider::new());
    /// let zones = Zones::single(Zone::new(Hostname::parse("example.com")?));
    /// let admin = RecordAdmin::new(Arc::new(MemoryStore::new()), dns.clone(), zones);
    /// let name = RecordName::parse("_acme-challenge.home.example.com")?;
    /// let values = vec![TxtValue::new("first")?, TxtValue::new("second")?];
    /// admin.set_txt(&name, values, None).await?;
    /// assert_eq!(dns.current(&RecordKey::txt(name)).await?.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?; Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`AdminError::Invalid`] for a name in no zone, no value or a bad
    /// TTL; [`AdminError::DnsPublish`] when DNS refused the change (nothing
    /// is stored); [`AdminError::Store`].
    pub async fn set_txt(
        &self,
        name: &RecordName,
        values: Vec<TxtValue>,
        ttl: Option<u32>,
    ) -> Result<Changed, AdminError> {
        let key = RecordKey::txt(name.clone());
        self.set_values(key, values.into_iter().map(RecordValue::Txt).collect(), ttl)
            .await
    }

    /// Makes the RRset `key` hold exactly `values` (of its type), creating
    /// its record when needed (with a random secret that is never shown),
    /// as [`RecordAdmin::set_txt`] does for TXT. What an operator's TSIG
    /// key changes goes through here: the operator's authority, so no
    /// address rule of the record applies.
    ///
    /// # Errors
    ///
    /// As [`RecordAdmin::set_txt`].
    pub async fn set_values(
        &self,
        key: RecordKey,
        values: Vec<RecordValue>,
        ttl: Option<u32>,
    ) -> Result<Changed, AdminError> {
        let zone_ttl = self
            .zones
            .require(key.name())
            .map_err(|e| AdminError::Invalid(invalid_message(e)))?
            .default_ttl();
        if let Some(ttl) = ttl {
            check_ttl(ttl)?;
        }
        // Checked before anything is written; the TTL is set below.
        let checked = DnsChange::upsert_set(key.clone(), zone_ttl, values)
            .map_err(|e| AdminError::Invalid(invalid_message(e)))?;
        let (record, created) = match self.store.get(&key).await? {
            Some(record) => (record, false),
            None => {
                let mut config =
                    RecordConfig::new(SharedSecret::generate(GENERATED_SECRET_DIGITS)?);
                config.ttl = ttl;
                let record = Record::new(key.clone(), config);
                self.store.create(&record).await?;
                (record, true)
            }
        };
        if let Some(ttl) = ttl.filter(|&t| !created && record.config.ttl != Some(t)) {
            let mut config = record.config.clone();
            config.ttl = Some(ttl);
            self.store.update_config(&key, &config).await?;
        }
        let effective = ttl.unwrap_or_else(|| record.config.effective_ttl(zone_ttl));
        let change = checked.with_ttl(effective);
        let published = align_results(
            std::slice::from_ref(&change),
            self.provider.apply(std::slice::from_ref(&change)).await,
        );
        if let Some(Err(source)) = published.into_iter().next() {
            if created {
                // Best effort: the record was made for these values only.
                let _ = self.store.delete(&key).await;
            }
            return Err(AdminError::DnsPublish { key, source });
        }
        self.store_values(&key, record.state.values, change.values())
            .await?;
        Ok(Changed {
            keys: vec![key],
            ..Changed::default()
        })
    }

    /// Writes `values` as the record's state, retrying from what the store
    /// holds when a concurrent writer changed it since `previous` was read.
    async fn store_values(
        &self,
        key: &RecordKey,
        mut previous: Vec<RecordValue>,
        values: &[RecordValue],
    ) -> Result<(), AdminError> {
        for _ in 0..STATE_WRITE_ATTEMPTS {
            let change = ChangeUpdate {
                previous,
                values: values.to_vec(),
                at: Timestamp::now(),
            };
            if self.store.record_change(key, change).await? {
                return Ok(());
            }
            previous = match self.store.get(key).await? {
                Some(record) => record.state.values,
                None => return Err(AdminError::Store(Error::not_found(format!("record {key}")))),
            };
        }
        Err(AdminError::Store(Error::conflict(format!(
            "{key} kept changing while its values were stored; set again"
        ))))
    }

    /// Copies `records` (read from another store: an upstream table) into
    /// this store, configuration and state as they are, or with `apply`
    /// false only says what it would copy. A record is not copied when its
    /// name lies in no zone served, it has no shared secret, or the store
    /// holds a record with its key already; the report says which and why.
    /// DNS is not touched: the records' clients keep updating it.
    ///
    /// # Errors
    ///
    /// [`AdminError::Store`] when the store fails; the records reported
    /// copied before it were copied.
    pub async fn import(
        &self,
        records: Vec<Record>,
        apply: bool,
    ) -> Result<ImportReport, AdminError> {
        let mut report = ImportReport::default();
        for record in records {
            let refuse = |reason: String| ImportRefusal {
                name: record.key.to_string(),
                reason,
            };
            if let Err(error) = self.check_in_zone(record.key.name()) {
                report.refused.push(refuse(error.to_string()));
                continue;
            }
            if record.config.shared_secret.is_empty() {
                report
                    .refused
                    .push(refuse("it has no shared secret".to_owned()));
                continue;
            }
            if self.store.get(&record.key).await?.is_some() {
                report
                    .refused
                    .push(refuse("the store holds this record already".to_owned()));
                continue;
            }
            if apply {
                match self.store.create(&record).await {
                    Ok(()) => {}
                    Err(crate::Error::Conflict { .. }) => {
                        report
                            .refused
                            .push(refuse("the store holds this record already".to_owned()));
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            report.copied.push(record.key);
        }
        Ok(report)
    }

    /// Every record of the store, in the store's order.
    ///
    /// # Errors
    ///
    /// [`AdminError::Store`].
    pub async fn list(&self) -> Result<Vec<Record>, AdminError> {
        Ok(self.store.list_all().await?)
    }

    /// Checks that `name` lies in a served zone.
    ///
    /// # Errors
    ///
    /// [`AdminError::Invalid`] listing the zones when it does not.
    pub fn check_in_zone(&self, name: impl AsRef<RecordName>) -> Result<(), AdminError> {
        self.zones
            .require(name)
            .map(|_| ())
            .map_err(|e| AdminError::Invalid(invalid_message(e)))
    }

    async fn existing(
        &self,
        name: &RecordName,
        types: &[RecordType],
    ) -> Result<Vec<Record>, AdminError> {
        let mut found = Vec::new();
        for t in distinct(types)? {
            // A name with an underscore label can hold no address record.
            let Ok(key) = RecordKey::try_new(name.clone(), t) else {
                continue;
            };
            if let Some(record) = self.store.get(&key).await? {
                found.push(record);
            }
        }
        if found.is_empty() {
            return Err(AdminError::Missing {
                name: name.clone(),
                types: types
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(found)
    }
}

/// The message of an invalid-input error, without the variant's prefix.
fn invalid_message(e: Error) -> String {
    match e {
        Error::InvalidInput { message, .. } => message,
        other => other.to_string(),
    }
}

/// The types asked, sorted, each once; at least one.
fn distinct(types: &[RecordType]) -> Result<Vec<RecordType>, AdminError> {
    let mut types = types.to_vec();
    types.sort_unstable();
    types.dedup();
    if types.is_empty() {
        return Err(AdminError::Invalid(
            "no record type given; give A, AAAA or TXT".into(),
        ));
    }
    Ok(types)
}

/// Checks a MAC address: six hex pairs separated by `:` or `-`.
///
/// # Errors
///
/// [`AdminError::Invalid`] with an example of the accepted form.
pub fn check_mac(mac: &str) -> Result<(), AdminError> {
    let parts: Vec<&str> = mac.split([':', '-']).collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(AdminError::Invalid(format!(
            "{:?} is not a MAC address; write six hex pairs like 51:6B:00:A6:F5:77",
            mac.chars().take(40).collect::<String>()
        )))
    }
}

fn check_ttl(ttl: u32) -> Result<(), AdminError> {
    if ttl > MAX_TTL {
        return Err(AdminError::Invalid(format!(
            "a TTL of {ttl} s is over the largest DNS allows ({MAX_TTL} s)"
        )));
    }
    Ok(())
}

/// The secret `choice` asks for: a given one checked for strength, or a
/// generated one (also for [`SecretChoice::Default`] when
/// `generate_by_default`), recorded in `changed` to be shown once. `None`:
/// keep the secret.
fn new_secret(
    choice: &SecretChoice,
    generate_by_default: bool,
    strict: bool,
    changed: &mut Changed,
) -> Result<Option<SharedSecret>, AdminError> {
    match choice {
        SecretChoice::Given(secret) => {
            check_strength(secret, strict, &mut changed.warnings)?;
            Ok(Some(secret.clone()))
        }
        SecretChoice::Default if !generate_by_default => Ok(None),
        SecretChoice::Default | SecretChoice::Generate => {
            let secret = SharedSecret::generate(GENERATED_SECRET_DIGITS)?;
            changed.generated_secret = Some(secret.clone());
            Ok(Some(secret))
        }
    }
}

/// Checks a given secret: empty is refused; under [`MIN_SECRET_BITS`] it
/// is refused when `strict`, else a warning is added to `warnings`.
fn check_strength(
    secret: &SharedSecret,
    strict: bool,
    warnings: &mut Vec<String>,
) -> Result<(), AdminError> {
    if secret.is_empty() {
        return Err(AdminError::Invalid("the secret cannot be empty".into()));
    }
    let bits = secret.estimated_bits();
    if bits >= MIN_SECRET_BITS {
        return Ok(());
    }
    if strict {
        return Err(AdminError::WeakSecret { bits });
    }
    warnings.push(format!(
        "the secret has about {bits} bits of strength, under the {MIN_SECRET_BITS} recommended; \
         leave the secret out to get a random one"
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::{MemoryProvider, MemoryStore};
    use crate::domain::zone::Zone;

    fn name(s: &str) -> Hostname {
        Hostname::parse(s).unwrap()
    }

    fn admin() -> (RecordAdmin, Arc<MemoryStore>, Arc<MemoryProvider>) {
        let store = Arc::new(MemoryStore::new());
        let dns = Arc::new(MemoryProvider::new());
        let zones = Zones::new([
            Zone::new(name("example.com")),
            Zone::new(name("example.net")),
        ])
        .unwrap();
        (
            RecordAdmin::new(store.clone(), dns.clone(), zones),
            store,
            dns,
        )
    }

    #[tokio::test]
    async fn a_follow_setting_goes_on_an_aaaa_record_naming_another_served_host() {
        let (admin, store, _) = admin();
        let follow = |from: &str| PrefixFollow::new(name(from), "::2".parse().unwrap());
        let mut add = AddRecord::new(name("nas.example.com"));
        add.follow = Some(follow("router.example.com"));
        let refused = admin.add(add.clone()).await.unwrap_err();
        assert!(refused.to_string().contains("--type aaaa"), "{refused}");
        add.types = vec![RecordType::Aaaa];
        for (from, says) in [
            ("nas.example.com", "its own prefix"),
            ("router.example.org", "in no zone"),
        ] {
            let mut own = add.clone();
            own.follow = Some(follow(from));
            let refused = admin.add(own).await.unwrap_err();
            assert!(refused.to_string().contains(says), "{from}: {refused}");
        }
        assert!(store.is_empty(), "nothing was written");
        admin.add(add).await.unwrap();
        let key = RecordKey::new(name("nas.example.com"), RecordType::Aaaa);
        let read = store.get(&key).await.unwrap().unwrap();
        assert_eq!(read.config.follow, Some(follow("router.example.com")));

        let mut update = UpdateRecord::new(name("nas.example.com"));
        update.follow = Some(Some(follow("gw.example.net")));
        admin.update(update.clone()).await.unwrap();
        assert_eq!(
            store.get(&key).await.unwrap().unwrap().config.follow,
            Some(follow("gw.example.net"))
        );
        update.follow = Some(None);
        admin.update(update).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap().unwrap().config.follow, None);
    }

    #[tokio::test]
    async fn add_checks_every_rule_before_writing() {
        let (admin, store, _) = admin();
        let mut bad_mac = AddRecord::new(name("h.example.com"));
        bad_mac.mac_address = Some("00:11".into());
        assert!(matches!(
            admin.add(bad_mac).await,
            Err(AdminError::Invalid(m)) if m.contains("MAC")
        ));
        let mut weak = AddRecord::new(name("h.example.com"));
        weak.secret = SecretChoice::Given(SharedSecret::new("short"));
        weak.strict = true;
        assert!(matches!(
            admin.add(weak.clone()).await,
            Err(AdminError::WeakSecret { .. })
        ));
        let outside = admin.add(AddRecord::new(name("h.example.org"))).await;
        let message = outside.unwrap_err().to_string();
        assert!(
            message.contains("example.com., example.net."),
            "the zones are listed: {message}"
        );
        let mut none = AddRecord::new(name("h.example.com"));
        none.types.clear();
        assert!(admin.add(none).await.is_err());
        assert_eq!(store.len(), 0, "nothing was written");

        weak.strict = false;
        let added = admin.add(weak).await.unwrap();
        assert_eq!(added.keys.len(), 2);
        assert_eq!(added.generated_secret, None);
        assert_eq!(added.warnings.len(), 1, "a weak secret is warned about");
        let again = admin.add(AddRecord::new(name("h.example.com"))).await;
        assert!(matches!(again, Err(AdminError::Exists { .. })), "{again:?}");
    }

    #[tokio::test]
    async fn update_lock_and_rotate_change_only_what_is_asked() {
        let (admin, store, _) = admin();
        let mut add = AddRecord::new(name("h.example.net"));
        add.types = vec![RecordType::A];
        add.comment = Some("router".into());
        let secret = admin.add(add).await.unwrap().generated_secret.unwrap();
        let key = RecordKey::new(name("h.example.net"), RecordType::A);
        let mut update = UpdateRecord::new(name("h.example.net"));
        update.ttl = Some(Some(30));
        update.allow_internal = Some(true);
        assert_eq!(admin.update(update).await.unwrap().keys, vec![key.clone()]);
        admin
            .set_lock(&name("h.example.net"), &RecordType::ALL, true)
            .await
            .unwrap();
        let config = store.get(&key).await.unwrap().unwrap().config;
        assert_eq!(config.ttl, Some(30));
        assert!(config.allow_internal && config.lock_record);
        assert_eq!(config.comment.as_deref(), Some("router"));
        assert_eq!(config.shared_secret, secret);
        let rotated = admin
            .rotate_secret(name("h.example.net"), &[RecordType::A])
            .await
            .unwrap()
            .generated_secret
            .unwrap();
        assert_ne!(rotated, secret);
        let missing = admin
            .set_lock(&name("x.example.net"), &RecordType::ALL, false)
            .await;
        assert!(matches!(missing, Err(AdminError::Missing { .. })));
    }

    #[tokio::test]
    async fn remove_deletes_from_dns_first_and_keeps_the_record_when_dns_fails() {
        let (admin, store, dns) = admin();
        let host = name("h.example.com");
        admin.add(AddRecord::new(host.clone())).await.unwrap();
        let key = RecordKey::new(host.clone(), RecordType::A);
        dns.set_rrset(
            key.clone(),
            60,
            vec!["192.0.2.1".parse::<std::net::IpAddr>().unwrap()],
        );

        dns.set_unavailable(true);
        let failed = admin.remove(&host, &RecordType::ALL).await;
        assert!(
            matches!(&failed, Err(AdminError::DnsDelete { .. })),
            "{failed:?}"
        );
        assert!(failed.unwrap_err().to_string().contains("from DNS"));
        assert_eq!(store.len(), 2, "the records are kept when DNS fails");

        dns.set_unavailable(false);
        let removed = admin.remove(&host, &RecordType::ALL).await.unwrap();
        assert_eq!(removed.keys.len(), 2);
        assert_eq!(store.len(), 0);
        assert!(dns.rrset(&key).is_none(), "the name left DNS");
        assert!(matches!(
            admin.remove(&host, &RecordType::ALL).await,
            Err(AdminError::Missing { .. })
        ));
    }
}
