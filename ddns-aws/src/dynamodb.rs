//! [`DynamoDbStore`]: the record table of the original stack on DynamoDB.
//!
//! The table is exactly the original's `<stack>-config` table: partition
//! key `hostname` (S), sort key `record_type` (S), the attributes of the
//! wire contract's section 3, and the global secondary index
//! `shared_secret-index` for discovery groups. Items written by the
//! original are read as they are: a missing BOOL is false, a `ttl` that is
//! not a number means the default, unreadable state values are absent.
//!
//! Flags fail closed: a `lock_record` or `require_signed` present with a
//! type other than BOOL reads as true, an `allow_internal` or
//! `read_privilege` of another type as false, each with a warning naming
//! the record. A missing or empty `shared_secret` reads as empty, which
//! makes the record unusable: the service refuses every request for it.
//!
//! An AAAA record that follows a router's prefix has two more string
//! attributes, `prefix_from` (the router's host name) and `interface_id`;
//! items without them (every item the original wrote) follow nothing, so
//! the table needs no migration. The followers of a router are found by
//! scanning the table (the default of [`RecordStore::followers`]): prefix
//! reports are rare, and the table of a dynamic DNS service is small.

use std::collections::HashMap;
use std::net::IpAddr;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use ddns_core::prefix::{InterfaceId, PrefixFollow};
use ddns_core::{
    AccessUpdate, ChangeUpdate, GroupMember, Hostname, Record, RecordConfig, RecordKey, RecordName,
    RecordState, RecordType, RecordValue, SharedSecret,
};
use ddns_core::{ListCursor, RecordPage, RecordStore};

use crate::Backoff;
use crate::error::AwsError;

/// The name of the original's discovery index.
pub const SECRET_INDEX: &str = "shared_secret-index";

/// Environment variable naming the table, as the original Lambda reads it.
pub const ENV_TABLE: &str = "ddns_config_table";

const SERVICE: &str = "DynamoDB";

type Item = HashMap<String, AttributeValue>;

/// Builds a [`DynamoDbStore`]; see [`DynamoDbStore::builder`].
#[derive(Debug, Clone, Default)]
pub struct DynamoDbStoreBuilder {
    table: Option<String>,
    aws: crate::AwsSettings,
    page_size: Option<usize>,
    backoff: Option<Backoff>,
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
    /// given.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] when no table was given.
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
}

impl DynamoDbStore {
    /// A builder.
    pub fn builder() -> DynamoDbStoreBuilder {
        DynamoDbStoreBuilder::default()
    }

    /// A builder with the table from `ddns_config_table` (the original
    /// Lambda's variable) or `DDNS_DYNAMODB_TABLE`.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] when neither is set.
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
        Ok(builder)
    }

    /// A store on `table` through `client` (for tests and custom clients),
    /// with the store's own retries ([`DEFAULT_STORE_BACKOFF`]) in place
    /// of the client's.
    pub fn from_client(client: Client, table: impl Into<String>) -> Self {
        Self {
            client: with_retries(&client, DEFAULT_STORE_BACKOFF),
            table: table.into(),
            page_size: None,
        }
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

    fn key_item(key: &RecordKey) -> Item {
        HashMap::from([
            (
                "hostname".to_owned(),
                AttributeValue::S(key.name().as_str().to_owned()),
            ),
            (
                "record_type".to_owned(),
                AttributeValue::S(key.record_type().as_str().to_owned()),
            ),
        ])
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
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key_item(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(SERVICE, "GetItem", &self.what(), &e))?;
        Ok(output.item)
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
            .set_key(Some(Self::key_item(key)))
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

fn s(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    }
}

/// A BOOL attribute: missing is false (as the original reads it), a BOOL
/// is itself, and any other type is `fail_closed`, with a warning.
fn flag(item: &Item, name: &str, fail_closed: bool) -> bool {
    match item.get(name) {
        None => false,
        Some(AttributeValue::Bool(value)) => *value,
        Some(other) => {
            tracing::warn!(
                record = %format_args!(
                    "{} {}",
                    s(item, "hostname").unwrap_or_default(),
                    s(item, "record_type").unwrap_or_default()
                ),
                attribute = name,
                value = ?other,
                read_as = fail_closed,
                "an attribute of the record is not a BOOL; it is read as the safe value, store a BOOL"
            );
            fail_closed
        }
    }
}

/// Reads an item; the key must be valid, everything else is tolerated.
pub(crate) fn record_from_item(item: &Item) -> Result<Record, AwsError> {
    let hostname =
        s(item, "hostname").ok_or_else(|| AwsError::BadItem("an item has no hostname".into()))?;
    let name = RecordName::parse(&hostname)
        .map_err(|e| AwsError::BadItem(format!("hostname {hostname:?}: {e}")))?;
    let record_type = s(item, "record_type").unwrap_or_default();
    let record_type: RecordType = record_type
        .parse()
        .map_err(|e| AwsError::BadItem(format!("{hostname} record_type: {e}")))?;
    let key = RecordKey::try_new(name, record_type)
        .map_err(|e| AwsError::BadItem(format!("{hostname}: {e}")))?;
    let mut config = RecordConfig::new(SharedSecret::new(
        s(item, "shared_secret").unwrap_or_default(),
    ))
    .with_lock(flag(item, "lock_record", true))
    .with_allow_internal(flag(item, "allow_internal", false))
    .with_read_privilege(flag(item, "read_privilege", false))
    .with_require_signed(flag(item, "require_signed", true));
    if let Some(ttl) = match item.get("ttl") {
        Some(AttributeValue::N(n)) => n.parse::<u32>().ok(),
        Some(AttributeValue::S(text)) => text.trim().parse::<u32>().ok(),
        _ => None,
    } {
        config = config.with_ttl(ttl);
    }
    if let Some(mac) = s(item, "mac_address") {
        config = config.with_mac_address(mac);
    }
    if let Some(comment) = s(item, "comment") {
        config = config.with_comment(comment);
    }
    if let Some(follow) = follow_from_item(item, &hostname, record_type) {
        config = config.with_follow(follow);
    }
    let mut state = RecordState::default();
    state.values = s(item, record_type.values_attribute())
        .and_then(|v| RecordValue::from_stored_form(record_type, &v).ok())
        .unwrap_or_default();
    state.last_accessed = s(item, "last_accessed").and_then(|v| v.parse().ok());
    state.last_checked = s(item, "last_checked").and_then(|v| v.parse().ok());
    state.last_updated = s(item, "last_updated").and_then(|v| v.parse().ok());
    state.last_signed = match item.get("last_signed") {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    };
    Ok(Record::new(key, config).with_state(state))
}

/// The prefix an AAAA item follows: its `prefix_from` and `interface_id`,
/// both valid; anything else follows nothing (with a warning when the item
/// has either attribute).
fn follow_from_item(item: &Item, hostname: &str, record_type: RecordType) -> Option<PrefixFollow> {
    let (from, id) = (s(item, "prefix_from"), s(item, "interface_id"));
    if from.is_none() && id.is_none() {
        return None;
    }
    let follow = (record_type == RecordType::Aaaa)
        .then(|| {
            let from = Hostname::parse(from.as_deref()?).ok()?;
            let id: InterfaceId = id.as_deref()?.parse().ok()?;
            Some(PrefixFollow::new(from, id))
        })
        .flatten();
    if follow.is_none() {
        tracing::warn!(
            record = %format_args!("{hostname} {record_type}"),
            "the item's prefix_from and interface_id are not a valid pair on an AAAA record; it follows no prefix until they are fixed"
        );
    }
    follow
}

/// The item the original stack would hold for `record`.
pub(crate) fn item_from_record(record: &Record) -> Item {
    let mut item = DynamoDbStore::key_item(&record.key);
    let c = &record.config;
    let st = &record.state;
    item.insert(
        "shared_secret".into(),
        AttributeValue::S(c.shared_secret.expose_secret().to_owned()),
    );
    item.insert("lock_record".into(), AttributeValue::Bool(c.lock_record));
    item.insert(
        "allow_internal".into(),
        AttributeValue::Bool(c.allow_internal),
    );
    item.insert(
        "read_privilege".into(),
        AttributeValue::Bool(c.read_privilege),
    );
    if c.require_signed {
        item.insert("require_signed".into(), AttributeValue::Bool(true));
    }
    if let Some(ttl) = c.ttl {
        item.insert("ttl".into(), AttributeValue::N(ttl.to_string()));
    }
    if let Some(at) = st.last_signed {
        item.insert("last_signed".into(), AttributeValue::N(at.to_string()));
    }
    for (name, value) in [
        ("mac_address", c.mac_address.clone()),
        ("comment", c.comment.clone()),
        (
            "prefix_from",
            c.follow.as_ref().map(|f| f.prefix_from.as_str().to_owned()),
        ),
        (
            "interface_id",
            c.follow.as_ref().map(|f| f.interface_id.to_string()),
        ),
        (
            record.key.record_type().values_attribute(),
            RecordValue::stored_form(&st.values),
        ),
        ("last_accessed", st.last_accessed.map(|a| a.to_string())),
        ("last_checked", st.last_checked.map(|t| t.to_string())),
        ("last_updated", st.last_updated.map(|t| t.to_string())),
    ] {
        if let Some(value) = value {
            item.insert(name.into(), AttributeValue::S(value));
        }
    }
    item
}

fn ip(addr: IpAddr) -> AttributeValue {
    AttributeValue::S(addr.to_canonical().to_string())
}

/// Cursor text: the last evaluated key, `hostname record_type`.
fn cursor_key(cursor: &ListCursor) -> ddns_core::Result<Item> {
    let (hostname, record_type) = cursor.as_str().split_once(' ').ok_or_else(|| {
        ddns_core::Error::invalid_input("the listing cursor was not made by this store")
    })?;
    Ok(HashMap::from([
        (
            "hostname".to_owned(),
            AttributeValue::S(hostname.to_owned()),
        ),
        (
            "record_type".to_owned(),
            AttributeValue::S(record_type.to_owned()),
        ),
    ]))
}

#[async_trait]
impl RecordStore for DynamoDbStore {
    async fn get(&self, key: &RecordKey) -> ddns_core::Result<Option<Record>> {
        self.raw_item(key)
            .await?
            .as_ref()
            .map(record_from_item)
            .transpose()
            .map_err(Into::into)
    }

    async fn discovery_group(&self, secret: &SharedSecret) -> ddns_core::Result<Vec<GroupMember>> {
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
                let hostname = s(item, "hostname").unwrap_or_default();
                let (Ok(name), Some(Ok(record_type))) = (
                    RecordName::parse(&hostname),
                    s(item, "record_type").map(|t| t.parse::<RecordType>()),
                ) else {
                    continue;
                };
                let Ok(key) = RecordKey::try_new(name, record_type) else {
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
            .set_item(Some(item_from_record(record)))
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
        // `ttl` is a DynamoDB reserved word: it goes through #ttl.
        let mut set = vec![
            "shared_secret = :s",
            "lock_record = :l",
            "allow_internal = :i",
            "read_privilege = :r",
            "require_signed = :g",
        ];
        let mut remove = Vec::new();
        let mut values = vec![
            (
                ":s",
                AttributeValue::S(config.shared_secret.expose_secret().to_owned()),
            ),
            (":l", AttributeValue::Bool(config.lock_record)),
            (":i", AttributeValue::Bool(config.allow_internal)),
            (":r", AttributeValue::Bool(config.read_privilege)),
            (":g", AttributeValue::Bool(config.require_signed)),
        ];
        match config.ttl {
            Some(ttl) => {
                set.push("#ttl = :t");
                values.push((":t", AttributeValue::N(ttl.to_string())));
            }
            None => remove.push("#ttl"),
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
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        self.update_existing(
            key,
            "UpdateItem",
            &expression,
            &[("#ttl", "ttl"), ("#comment", "comment")],
            values,
        )
        .await
    }

    async fn delete(&self, key: &RecordKey) -> ddns_core::Result<()> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key_item(key)))
            .condition_expression("attribute_exists(hostname)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
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
        let start = cursor.as_ref().map(cursor_key).transpose()?;
        let output = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .set_limit(self.page_size)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(SERVICE, "Scan", &self.what(), &e))?;
        let records = output
            .items()
            .iter()
            .map(record_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        let next = output
            .last_evaluated_key()
            .filter(|k| !k.is_empty())
            .map(|k| {
                ListCursor::new(format!(
                    "{} {}",
                    s(k, "hostname").unwrap_or_default(),
                    s(k, "record_type").unwrap_or_default()
                ))
            });
        Ok(RecordPage::new(records, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn original_items_are_read_tolerantly() {
        // An item as the original stack wrote it, with gaps real tables have.
        let item: Item = HashMap::from([
            (
                "hostname".into(),
                AttributeValue::S("Foo.Example.com.".into()),
            ),
            ("record_type".into(), AttributeValue::S("A".into())),
            ("shared_secret".into(), AttributeValue::S("abc".into())),
            ("ttl".into(), AttributeValue::S("not a number".into())),
            ("allow_internal".into(), AttributeValue::Bool(true)),
            ("ip_address".into(), AttributeValue::S("garbage".into())),
            (
                "last_updated".into(),
                AttributeValue::S("2018-07-26 17:04:05.123456".into()),
            ),
            (
                "last_checked".into(),
                AttributeValue::S("2018-07-26 17:04:05".into()),
            ),
        ]);
        let r = record_from_item(&item).unwrap();
        assert_eq!(r.key.name().as_str(), "foo.example.com.");
        assert_eq!(
            r.config.ttl, None,
            "a ttl that is no number means the default"
        );
        assert!(
            !r.config.lock_record && !r.config.read_privilege,
            "missing BOOLs are false"
        );
        assert!(r.config.allow_internal);
        assert_eq!(r.state.address(), None);
        assert_eq!(
            r.state.last_updated.unwrap().to_string(),
            "2018-07-26 17:04:05.123456"
        );
        assert_eq!(
            r.state.last_checked.unwrap().to_string(),
            "2018-07-26 17:04:05.000000"
        );
    }

    #[test]
    fn flags_that_are_not_bools_fail_closed() {
        let item: Item = HashMap::from([
            (
                "hostname".into(),
                AttributeValue::S("h.example.com.".into()),
            ),
            ("record_type".into(), AttributeValue::S("A".into())),
            ("lock_record".into(), AttributeValue::S("false".into())),
            ("require_signed".into(), AttributeValue::N("0".into())),
            ("allow_internal".into(), AttributeValue::S("true".into())),
            ("read_privilege".into(), AttributeValue::Null(true)),
        ]);
        let r = record_from_item(&item).unwrap();
        assert!(r.config.lock_record && r.config.require_signed);
        assert!(!r.config.allow_internal && !r.config.read_privilege);
        assert_eq!(
            r.config.shared_secret.expose_secret(),
            "",
            "a missing secret reads as empty"
        );
    }

    #[test]
    fn items_round_trip() {
        let key = RecordKey::new(
            ddns_core::Hostname::parse("h.example.com").unwrap(),
            RecordType::Aaaa,
        );
        let record = Record::new(
            key,
            RecordConfig::new(SharedSecret::new("s"))
                .with_ttl(30)
                .with_mac_address("0A:0A:0A:0A:0A:0A"),
        );
        let item = item_from_record(&record);
        assert_eq!(item.get("ttl"), Some(&AttributeValue::N("30".into())));
        assert_eq!(record_from_item(&item).unwrap(), record);
    }
}
