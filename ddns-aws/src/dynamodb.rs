//! [`DynamoDbStore`]: the record table of the original stacks on DynamoDB.
//!
//! The table is exactly one of the original's two ([`TableLayout`]): the
//! 2018 `<stack>-config` table (partition key `hostname`, sort key
//! `record_type`, the attributes of the wire contract's section 3, and the
//! global secondary index `shared_secret-index` for discovery groups), or
//! the rewrite's (partition key `hostname` alone, the secret, TTL and
//! hosted zone in the `data` JSON). The layout is configured, or read from
//! the table's key schema when the store is built; never guessed per
//! request. How items are read is [`crate::item`]'s.
//!
//! Items whose `hostname` was written by hand in another spelling
//! (`Home.Example.com.`) stay reachable: a request that spells the name so
//! finds it ([`RecordStore::get_spelled`]), and the store writes to the
//! item it found from then on.
//!
//! A table of the current layout has no index: its discovery groups are
//! found by scanning it.
//!
//! An AAAA record that follows a router's prefix has two more string
//! attributes, `prefix_from` (the router's host name) and `interface_id`;
//! items without them (every item the original wrote) follow nothing, so
//! the table needs no migration. The followers of a router are found by
//! scanning the table (the default of [`RecordStore::followers`]): prefix
//! reports are rare, and the table of a dynamic DNS service is small.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use ddns_core::{
    AccessUpdate, ChangeUpdate, GroupMember, Record, RecordConfig, RecordKey, RecordValue,
    SharedSecret,
};
use ddns_core::{ListCursor, RecordPage, RecordStore};

use crate::Backoff;
use crate::directory::HostedZoneDirectory;
use crate::error::AwsError;
use crate::item::{ItemRecord, data_json, flag, item_from_record, record_from_item, s};
use crate::layout::{ENV_TABLE_LAYOUT, Item, TableLayout};

/// The name of the original's discovery index.
pub const SECRET_INDEX: &str = "shared_secret-index";

/// Environment variable naming the table, as the original Lambda reads it.
pub const ENV_TABLE: &str = "ddns_config_table";

const SERVICE: &str = "DynamoDB";

/// Builds a [`DynamoDbStore`]; see [`DynamoDbStore::builder`].
#[derive(Debug, Clone, Default)]
pub struct DynamoDbStoreBuilder {
    table: Option<String>,
    aws: crate::AwsSettings,
    page_size: Option<usize>,
    backoff: Option<Backoff>,
    layout: Option<TableLayout>,
    directory: Option<HostedZoneDirectory>,
}

/// How the store retries a throttled or failed DynamoDB call by default:
/// four attempts in all, waiting about 25, 50 and 100 ms between them, so
/// that a request waiting on the store is answered within a fraction of a
/// second either way.
pub const DEFAULT_STORE_BACKOFF: Backoff = Backoff {
    attempts: 4,
    initial: std::time::Duration::from_millis(25),
    max: std::time::Duration::from_secs(1),
};

/// `client` with the SDK's standard retries set to `backoff` (the SDK's own
/// default would wait up to 20 s between attempts).
fn with_retries(client: &Client, backoff: Backoff) -> Client {
    let retries = aws_sdk_dynamodb::config::retry::RetryConfig::standard()
        .with_max_attempts(backoff.attempts.max(1))
        .with_initial_backoff(backoff.initial)
        .with_max_backoff(backoff.max);
    Client::from_conf(client.config().to_builder().retry_config(retries).build())
}

impl DynamoDbStoreBuilder {
    /// How throttled and failed calls are retried (default
    /// [`DEFAULT_STORE_BACKOFF`]). A conditional write that lost is never
    /// retried: it is an answer, not a failure.
    #[must_use]
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = Some(backoff);
        self
    }

    /// How many items one [`RecordStore::list_page`] page reads at most
    /// (the Scan's `Limit`; default: DynamoDB's own 1 MB pages). Small pages
    /// are for tests that cross page boundaries with few records.
    #[must_use]
    pub fn with_page_size(mut self, items: usize) -> Self {
        self.page_size = Some(items.max(1));
        self
    }

    /// The table name given, if any.
    pub fn table(&self) -> Option<&str> {
        self.table.as_deref()
    }

    /// The layout given, if any.
    pub fn layout(&self) -> Option<TableLayout> {
        self.layout
    }

    /// The table's layout. Without one, [`DynamoDbStoreBuilder::build`]
    /// reads it from the table's key schema (`DescribeTable`).
    #[must_use]
    pub fn with_layout(mut self, layout: TableLayout) -> Self {
        self.layout = Some(layout);
        self
    }

    /// Notes each record's hosted zone (the current layout's
    /// `route_53_zone_id`) in `directory`, for a [`crate::Route53Provider`]
    /// sharing it.
    #[must_use]
    pub fn with_zone_directory(mut self, directory: HostedZoneDirectory) -> Self {
        self.directory = Some(directory);
        self
    }

    /// The table name (`<stack>-config` in the original stack).
    #[must_use]
    pub fn with_table(mut self, table: impl Into<String>) -> Self {
        self.table = Some(table.into());
        self
    }

    /// The AWS region (default: from the environment).
    #[must_use]
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.aws.region = Some(region.into());
        self
    }

    /// An endpoint override, for local emulators (`http://127.0.0.1:5000`).
    #[must_use]
    pub fn with_endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.aws.endpoint_url = Some(url.into());
        self
    }

    /// A ready AWS configuration (credentials, region, endpoint) to use
    /// instead of loading one from the environment.
    #[must_use]
    pub fn with_sdk_config(mut self, config: aws_config::SdkConfig) -> Self {
        self.aws.sdk_config = Some(config);
        self
    }

    /// The store. Loads the AWS configuration from the environment (the
    /// standard `AWS_*` variables, profiles, instance roles) unless one was
    /// given; reads the table's layout from its key schema unless one was
    /// given.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] when no table was given, or the
    /// table's keys are neither layout's; what `DescribeTable` failed with
    /// when the layout must be read and cannot.
    pub async fn build(self) -> ddns_core::Result<DynamoDbStore> {
        let table = self
            .table
            .ok_or_else(|| ddns_core::Error::invalid_input("the DynamoDB table name is not set"))?;
        let sdk = self.aws.load().await;
        let config = aws_sdk_dynamodb::config::Builder::from(&sdk).build();
        let mut store = DynamoDbStore::from_client(Client::from_conf(config), table);
        if let Some(backoff) = self.backoff {
            store = store.with_backoff(backoff);
        }
        store.page_size = self.page_size.map(|n| i32::try_from(n).unwrap_or(i32::MAX));
        store.layout = match self.layout {
            Some(layout) => layout,
            None => store.read_layout().await?,
        };
        if let Some(directory) = self.directory {
            store.directory = directory;
        }
        Ok(store)
    }
}

/// A [`RecordStore`] on the original stack's DynamoDB table.
///
/// ```no_run
/// use ddns_aws::DynamoDbStore;
/// # async fn open() -> ddns_core::Result<DynamoDbStore> {
/// let store = DynamoDbStore::builder()
///     .with_table("ddns-config")
///     .with_region("us-east-1")
///     .build()
///     .await?;
/// # Ok(store) }
/// ```
#[derive(Debug, Clone)]
pub struct DynamoDbStore {
    client: Client,
    table: String,
    page_size: Option<i32>,
    layout: TableLayout,
    /// The stored `hostname` of records whose item is not spelled
    /// canonically (found by [`RecordStore::get_spelled`] or a listing).
    spellings: Arc<RwLock<HashMap<RecordKey, String>>>,
    directory: HostedZoneDirectory,
}

impl DynamoDbStore {
    /// A builder.
    pub fn builder() -> DynamoDbStoreBuilder {
        DynamoDbStoreBuilder::default()
    }

    /// A builder with the table from `ddns_config_table` (the original
    /// Lambda's variable) or `DDNS_DYNAMODB_TABLE`, and the layout from
    /// `DDNS_TABLE_LAYOUT` when set.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] when neither table variable is
    /// set, or the layout is neither `classic` nor `current`.
    pub fn from_env() -> ddns_core::Result<DynamoDbStoreBuilder> {
        let table = std::env::var(ENV_TABLE)
            .or_else(|_| std::env::var("DDNS_DYNAMODB_TABLE"))
            .map_err(|_| {
                ddns_core::Error::invalid_input(format!(
                    "{ENV_TABLE} (or DDNS_DYNAMODB_TABLE) is not set"
                ))
            })?;
        let mut builder = DynamoDbStoreBuilder::default().with_table(table);
        if let Ok(url) = std::env::var("DDNS_AWS_ENDPOINT_URL") {
            builder = builder.with_endpoint_url(url);
        }
        if let Ok(layout) = std::env::var(ENV_TABLE_LAYOUT) {
            builder = builder.with_layout(layout.parse()?);
        }
        Ok(builder)
    }

    /// A store on `table` (of the classic layout) through `client` (for
    /// tests and custom clients), with the store's own retries
    /// ([`DEFAULT_STORE_BACKOFF`]) in place of the client's.
    pub fn from_client(client: Client, table: impl Into<String>) -> Self {
        Self {
            client: with_retries(&client, DEFAULT_STORE_BACKOFF),
            table: table.into(),
            page_size: None,
            layout: TableLayout::Classic,
            spellings: Arc::default(),
            directory: HostedZoneDirectory::default(),
        }
    }

    /// The table's layout.
    pub fn layout(&self) -> TableLayout {
        self.layout
    }

    /// The directory where the store notes each record's hosted zone, for
    /// a [`crate::Route53Provider`] to share
    /// ([`crate::Route53ProviderBuilder::with_zone_directory`]).
    pub fn zone_directory(&self) -> HostedZoneDirectory {
        self.directory.clone()
    }

    /// The layout the table's key schema says.
    async fn read_layout(&self) -> ddns_core::Result<TableLayout> {
        let output = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(SERVICE, "DescribeTable", &self.what(), &e))?;
        let keys = output
            .table()
            .map(|t| t.key_schema())
            .unwrap_or_default()
            .iter()
            .map(|k| (k.attribute_name(), k.key_type()));
        TableLayout::of_schema(keys).ok_or_else(|| {
            ddns_core::Error::invalid_input(format!(
                "{} has neither layout's keys: the classic one has hash key hostname and range key record_type, the current one hash key hostname alone; set the layout or point at the record table",
                self.what()
            ))
        })
    }

    /// The store with throttled and failed calls retried by `backoff`
    /// instead of [`DEFAULT_STORE_BACKOFF`].
    #[must_use]
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.client = with_retries(&self.client, backoff);
        self
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn what(&self) -> String {
        format!("the table {}", self.table)
    }

    /// The `hostname` the item of `key` is stored under.
    fn stored_key(&self, key: &RecordKey) -> String {
        self.spellings
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
            .unwrap_or_else(|| self.layout.canonical_key(key))
    }

    /// The primary key of the item of `key`.
    fn key_item(&self, key: &RecordKey) -> Item {
        self.layout
            .key_item(&self.stored_key(key), key.record_type())
    }

    /// Reads an item, noting its spelling and hosted zone.
    fn read(&self, item: &Item) -> Result<Record, AwsError> {
        let ItemRecord {
            record,
            stored_key,
            zone_id,
        } = record_from_item(self.layout, item)?;
        let key = &record.key;
        if stored_key != self.layout.canonical_key(key) {
            self.spellings
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(key.clone(), stored_key);
        }
        if self.layout == TableLayout::Current {
            self.directory.note(key.name(), zone_id.as_deref());
        }
        Ok(record)
    }

    /// Forgets what was noted about `key`'s item (it was deleted).
    fn forget(&self, key: &RecordKey) {
        self.spellings
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }

    /// The item at `hostname` (one spelling of `key`), read consistently.
    async fn item_at(&self, key: &RecordKey, hostname: &str) -> ddns_core::Result<Option<Item>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.layout.key_item(hostname, key.record_type())))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(SERVICE, "GetItem", &self.what(), &e))?;
        Ok(output.item)
    }

    /// Runs `SET` of `values` on an existing item; a missing item is
    /// `NotFound`.
    async fn update_existing(
        &self,
        key: &RecordKey,
        operation: &'static str,
        expression: &str,
        names: &[(&str, &str)],
        values: Vec<(&str, AttributeValue)>,
    ) -> ddns_core::Result<()> {
        let update = Update {
            operation,
            expression,
            condition: "attribute_exists(hostname)",
            names,
        };
        if self.conditional_update(key, update, values).await? {
            Ok(())
        } else {
            Err(ddns_core::Error::not_found(format!("record {key}")))
        }
    }

    /// The item of `key` as stored, read consistently.
    async fn raw_item(&self, key: &RecordKey) -> ddns_core::Result<Option<Item>> {
        self.item_at(key, &self.stored_key(key)).await
    }

    /// Runs an update under a condition; false when the condition failed.
    async fn conditional_update(
        &self,
        key: &RecordKey,
        update: Update<'_>,
        values: Vec<(&str, AttributeValue)>,
    ) -> ddns_core::Result<bool> {
        let Update {
            operation,
            expression,
            condition,
            names,
        } = update;
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key_item(key)))
            .update_expression(expression)
            .condition_expression(condition);
        for (name, attribute) in names {
            request = request.expression_attribute_names(*name, *attribute);
        }
        for (name, value) in values {
            request = request.expression_attribute_values(name, value);
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(AwsError::from_sdk(SERVICE, operation, &self.what(), &e).into()),
        }
    }
}

/// One conditional `UpdateItem`: its expressions and attribute names.
struct Update<'a> {
    operation: &'static str,
    expression: &'a str,
    condition: &'a str,
    names: &'a [(&'a str, &'a str)],
}

fn ip(addr: IpAddr) -> AttributeValue {
    AttributeValue::S(addr.to_canonical().to_string())
}

#[async_trait]
impl RecordStore for DynamoDbStore {
    async fn get(&self, key: &RecordKey) -> ddns_core::Result<Option<Record>> {
        self.raw_item(key)
            .await?
            .as_ref()
            .map(|item| self.read(item))
            .transpose()
            .map_err(Into::into)
    }

    async fn get_spelled(
        &self,
        key: &RecordKey,
        spelling: &str,
    ) -> ddns_core::Result<Option<Record>> {
        if let Some(record) = self.get(key).await? {
            return Ok(Some(record));
        }
        // The name as the client spelled it, if that is another key: an
        // item written by hand.
        let spelled = self.layout.spelled_key(spelling, key.record_type());
        let same_name = ddns_core::RecordName::parse(spelling)
            .ok()
            .and_then(|name| RecordKey::try_new(name, key.record_type()).ok())
            .is_some_and(|spelled_key| &spelled_key == key);
        if !same_name || spelled == self.stored_key(key) {
            return Ok(None);
        }
        self.item_at(key, &spelled)
            .await?
            .as_ref()
            .map(|item| self.read(item))
            .transpose()
            .map_err(Into::into)
    }

    async fn discovery_group(&self, secret: &SharedSecret) -> ddns_core::Result<Vec<GroupMember>> {
        if self.layout == TableLayout::Current {
            return self.scanned_group(secret).await;
        }
        let mut members = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(SECRET_INDEX)
                .key_condition_expression("shared_secret = :s")
                .expression_attribute_values(
                    ":s",
                    AttributeValue::S(secret.expose_secret().to_owned()),
                )
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk(
                        SERVICE,
                        "Query",
                        &format!("the index {SECRET_INDEX} of {}", self.what()),
                        &e,
                    )
                })?;
            for item in output.items() {
                if !flag(item, "read_privilege", false) {
                    continue;
                }
                let Ok((key, _)) = self.layout.key_of(item) else {
                    continue;
                };
                members.push(GroupMember {
                    key,
                    mac_address: s(item, "mac_address"),
                });
            }
            match output.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(members),
            }
        }
    }

    async fn record_access(&self, key: &RecordKey, access: AccessUpdate) -> ddns_core::Result<()> {
        self.update_existing(
            key,
            "UpdateItem",
            "SET last_accessed = :a, last_checked = :c",
            &[],
            vec![
                (":a", ip(access.source)),
                (":c", AttributeValue::S(access.at.to_string())),
            ],
        )
        .await
    }

    async fn record_change(
        &self,
        key: &RecordKey,
        change: ChangeUpdate,
    ) -> ddns_core::Result<bool> {
        let attribute = key.record_type().values_attribute();
        let names = [("#v", attribute)];
        let new_values = RecordValue::stored_form(&change.values).map(AttributeValue::S);
        let values = |stored: Option<AttributeValue>| {
            let mut values = vec![(":u", AttributeValue::S(change.at.to_string()))];
            values.extend(new_values.clone().map(|v| (":i", v)));
            values.extend(stored.map(|v| (":p", v)));
            values
        };
        let expression = if new_values.is_some() {
            "SET #v = :i, last_updated = :u"
        } else {
            "SET last_updated = :u REMOVE #v"
        };
        let update = |stored: bool| Update {
            operation: "UpdateItem",
            expression,
            condition: if stored {
                "attribute_exists(hostname) AND #v = :p"
            } else {
                "attribute_exists(hostname) AND attribute_not_exists(#v)"
            },
            names: &names,
        };
        // The usual case: the item holds the values as this store writes
        // them.
        let previous = RecordValue::stored_form(&change.previous).map(AttributeValue::S);
        if self
            .conditional_update(key, update(previous.is_some()), values(previous))
            .await?
        {
            return Ok(true);
        }
        // Otherwise read what the item holds (consistently): another
        // writer's values lose the race; a value the original stack or a
        // person wrote that means the same values still matches.
        let item = self.raw_item(key).await?;
        let Some(item) = item else {
            return Err(ddns_core::Error::not_found(format!("record {key}")));
        };
        let stored = item.get(attribute).cloned();
        let means = match &stored {
            Some(AttributeValue::S(text)) => {
                RecordValue::from_stored_form(key.record_type(), text).ok()
            }
            _ => Some(Vec::new()),
        };
        if means.as_ref() != Some(&change.previous) {
            return Ok(false);
        }
        self.conditional_update(key, update(stored.is_some()), values(stored))
            .await
    }

    async fn advance_replay_guard(
        &self,
        key: &RecordKey,
        timestamp: u64,
    ) -> ddns_core::Result<bool> {
        let update = Update {
            operation: "UpdateItem",
            expression: "SET last_signed = :t",
            condition: "attribute_exists(hostname) AND \
                        (attribute_not_exists(last_signed) OR last_signed < :t)",
            names: &[],
        };
        let at = AttributeValue::N(timestamp.to_string());
        if self
            .conditional_update(key, update, vec![(":t", at)])
            .await?
        {
            return Ok(true);
        }
        // The condition failed: a replay, or no such record.
        match self.get(key).await? {
            Some(_) => Ok(false),
            None => Err(ddns_core::Error::not_found(format!("record {key}"))),
        }
    }

    async fn create(&self, record: &Record) -> ddns_core::Result<()> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_from_record(
                self.layout,
                record,
                &self.stored_key(&record.key),
                self.directory.zone_of(record.key.name()).as_deref(),
            )))
            .condition_expression("attribute_not_exists(hostname)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(ddns_core::Error::conflict(format!(
                    "record {} already exists",
                    record.key
                )))
            }
            Err(e) => Err(AwsError::from_sdk(SERVICE, "PutItem", &self.what(), &e).into()),
        }
    }

    async fn update_config(&self, key: &RecordKey, config: &RecordConfig) -> ddns_core::Result<()> {
        let mut set = vec![
            "lock_record = :l",
            "allow_internal = :i",
            "read_privilege = :r",
            "require_signed = :g",
        ];
        let mut remove = Vec::new();
        let mut values = vec![
            (":l", AttributeValue::Bool(config.lock_record)),
            (":i", AttributeValue::Bool(config.allow_internal)),
            (":r", AttributeValue::Bool(config.read_privilege)),
            (":g", AttributeValue::Bool(config.require_signed)),
        ];
        match self.layout {
            TableLayout::Classic => {
                set.push("shared_secret = :s");
                values.push((
                    ":s",
                    AttributeValue::S(config.shared_secret.expose_secret().to_owned()),
                ));
                // `ttl` is a DynamoDB reserved word: it goes through #ttl.
                match config.ttl {
                    Some(ttl) => {
                        set.push("#ttl = :t");
                        values.push((":t", AttributeValue::N(ttl.to_string())));
                    }
                    None => remove.push("#ttl"),
                }
            }
            TableLayout::Current => {
                // The hosted zone the item names stays as it is.
                let zone_id = match self.directory.zone_of(key.name()) {
                    Some(zone_id) => Some(zone_id),
                    None => match self.raw_item(key).await? {
                        Some(item) => record_from_item(self.layout, &item)?.zone_id,
                        None => return Err(ddns_core::Error::not_found(format!("record {key}"))),
                    },
                };
                set.push("#data = :d");
                values.push((
                    ":d",
                    AttributeValue::S(data_json(config, zone_id.as_deref())),
                ));
            }
        }
        match &config.mac_address {
            Some(mac) => {
                set.push("mac_address = :m");
                values.push((":m", AttributeValue::S(mac.clone())));
            }
            None => remove.push("mac_address"),
        }
        match &config.comment {
            Some(comment) => {
                set.push("#comment = :c");
                values.push((":c", AttributeValue::S(comment.clone())));
            }
            None => remove.push("#comment"),
        }
        match &config.follow {
            Some(follow) => {
                set.push("prefix_from = :pf");
                set.push("interface_id = :id");
                values.push((
                    ":pf",
                    AttributeValue::S(follow.prefix_from.as_str().to_owned()),
                ));
                values.push((":id", AttributeValue::S(follow.interface_id.to_string())));
            }
            None => {
                remove.push("prefix_from");
                remove.push("interface_id");
            }
        }
        let mut expression = format!("SET {}", set.join(", "));
        // Only the names the expression uses may be given.
        let names: Vec<(&str, &str)> =
            [("#ttl", "ttl"), ("#comment", "comment"), ("#data", "data")]
                .into_iter()
                .filter(|(name, _)| expression.contains(name) || remove.contains(name))
                .collect();
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        self.update_existing(key, "UpdateItem", &expression, &names, values)
            .await
    }

    async fn delete(&self, key: &RecordKey) -> ddns_core::Result<()> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.key_item(key)))
            .condition_expression("attribute_exists(hostname)")
            .send()
            .await;
        match result {
            Ok(_) => {
                self.forget(key);
                Ok(())
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(ddns_core::Error::not_found(format!("record {key}")))
            }
            Err(e) => Err(AwsError::from_sdk(SERVICE, "DeleteItem", &self.what(), &e).into()),
        }
    }

    async fn list_page(&self, cursor: Option<ListCursor>) -> ddns_core::Result<RecordPage> {
        let start = cursor
            .as_ref()
            .map(|c| self.layout.cursor_item(c.as_str()))
            .transpose()?;
        let output = self.scan_page(start).await?;
        let records = output
            .items()
            .iter()
            .map(|item| self.read(item))
            .collect::<Result<Vec<_>, _>>()?;
        let next = output
            .last_evaluated_key()
            .filter(|k| !k.is_empty())
            .map(|k| ListCursor::new(self.layout.cursor_text(k)));
        Ok(RecordPage::new(records, next))
    }
}

/// Every item of a table, read for a migration
/// ([`DynamoDbStore::survey`]).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct TableSurvey {
    /// The records read, each with the hosted zone its item names (the
    /// current layout's `route_53_zone_id`).
    pub records: Vec<(Record, Option<String>)>,
    /// The items that hold no readable record: their `hostname` and why.
    pub unreadable: Vec<(String, String)>,
}

impl DynamoDbStore {
    /// One page of the table's items from `start`, read consistently.
    async fn scan_page(
        &self,
        start: Option<Item>,
    ) -> Result<aws_sdk_dynamodb::operation::scan::ScanOutput, AwsError> {
        self.client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .set_limit(self.page_size)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(SERVICE, "Scan", &self.what(), &e))
    }

    /// Reads every item of the table, keeping the ones that hold no
    /// readable record apart instead of failing (a migration reports
    /// them).
    ///
    /// # Errors
    ///
    /// What the Scan failed with.
    pub async fn survey(&self) -> ddns_core::Result<TableSurvey> {
        let mut survey = TableSurvey::default();
        let mut start: Option<Item> = None;
        loop {
            let output = self.scan_page(start.take()).await?;
            for item in output.items() {
                match record_from_item(self.layout, item) {
                    Ok(read) => survey.records.push((read.record, read.zone_id)),
                    Err(e) => survey
                        .unreadable
                        .push((s(item, "hostname").unwrap_or_default(), e.to_string())),
                }
            }
            match output.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(survey),
            }
        }
    }

    /// The discovery group of `secret` in a table without the secret
    /// index (the current layout): every readable record with that secret,
    /// found by scanning the table.
    async fn scanned_group(&self, secret: &SharedSecret) -> ddns_core::Result<Vec<GroupMember>> {
        let mut members = Vec::new();
        for record in self.list_all().await? {
            if record.config.read_privilege && &record.config.shared_secret == secret {
                members.push(GroupMember {
                    key: record.key,
                    mac_address: record.config.mac_address,
                });
            }
        }
        Ok(members)
    }
}
