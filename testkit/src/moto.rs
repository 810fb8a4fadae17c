//! A local AWS emulator for the tests: moto's server, started on a free
//! loopback port and stopped when dropped, with a table laid out like the
//! original stack's and a hosted zone. Missing moto skips loudly, or fails
//! when DDNS_REQUIRE_INTEGRATION=1.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use ddns_aws::{DynamoDbStore, Route53Provider, SECRET_INDEX};
use ddns_core::Hostname;

pub const ZONE: &str = "example.com";

/// A string attribute's definition.
fn attr(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .unwrap()
}

/// A key of `name` and `key_type`.
fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .unwrap()
}

pub struct Moto {
    child: Child,
    log: tempfile::NamedTempFile,
    pub url: String,
    pub config: aws_config::SdkConfig,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python interpreter that has moto: `DDNS_PYTHON`, or `python3` on
/// `PATH` (a virtual environment's, when one is active).
fn moto_python() -> Option<std::ffi::OsString> {
    let python = std::env::var_os("DDNS_PYTHON").unwrap_or_else(|| "python3".into());
    let has_moto = Command::new(&python)
        .args(["-c", "import moto.moto_server.werkzeug_app, werkzeug"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    has_moto.then_some(python)
}

impl Moto {
    pub async fn start() -> Option<Self> {
        let Some(python) = moto_python() else {
            if std::env::var("DDNS_REQUIRE_INTEGRATION").as_deref() == Ok("1") {
                panic!(
                    "moto is required: pip install 'moto[server]' \
                     (in the python3 on PATH, or set DDNS_PYTHON)"
                );
            }
            println!("SKIPPED: moto not installed (pip install 'moto[server]')");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = tempfile::NamedTempFile::new().unwrap();
        // Included, not named by path: this module is shared by the tests
        // of other packages too.
        let launcher = include_str!("moto_serial.py");
        let child = Command::new(python)
            .args(["-c", launcher, "127.0.0.1", &port.to_string()])
            .stdout(log.reopen().unwrap())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test", "test", None, None, "moto",
            ))
            .endpoint_url(&url)
            .load()
            .await;
        let mut moto = Self {
            child,
            url,
            config,
            log,
        };
        moto.wait_until_answering().await;
        Some(moto)
    }

    /// Waits until moto answers a real DynamoDB request (ListTables), for
    /// at most 30 s; fails with moto's log otherwise.
    async fn wait_until_answering(&mut self) {
        let begun = Instant::now();
        let client = self.dynamodb();
        loop {
            let answer = client.list_tables().send().await;
            if answer.is_ok() {
                return;
            }
            let exited = self.child.try_wait().unwrap();
            if exited.is_some() || begun.elapsed() > Duration::from_secs(30) {
                let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
                panic!(
                    "moto did not answer ListTables within 30 s (exit: {exited:?}, \
                     last answer: {answer:?}); its log:\n{log}"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.config)
    }

    /// Creates a table laid out like the original stack's `<stack>-config`.
    pub async fn create_table(&self, name: &str) {
        self.dynamodb()
            .create_table()
            .table_name(name)
            .attribute_definitions(attr("hostname"))
            .attribute_definitions(attr("record_type"))
            .attribute_definitions(attr("shared_secret"))
            .key_schema(key("hostname", KeyType::Hash))
            .key_schema(key("record_type", KeyType::Range))
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(SECRET_INDEX)
                    .key_schema(key("shared_secret", KeyType::Hash))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::Include)
                            .non_key_attributes("mac_address")
                            .non_key_attributes("read_privilege")
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap();
    }

    /// Creates a table laid out like the original project's rewrite:
    /// partition key `hostname` alone, no sort key, no index.
    pub async fn create_current_table(&self, name: &str) {
        self.dynamodb()
            .create_table()
            .table_name(name)
            .attribute_definitions(attr("hostname"))
            .key_schema(key("hostname", KeyType::Hash))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap();
    }

    /// Puts an item as the original project's rewrite writes it: `hostname`
    /// (as its client sends it) and `data` JSON.
    pub async fn put_current_item(&self, table: &str, hostname: &str, zone_id: &str, secret: &str) {
        let data = format!(
            r#"{{"route_53_zone_id": "{zone_id}", "route_53_record_ttl": 60, "shared_secret": "{secret}"}}"#
        );
        self.dynamodb()
            .put_item()
            .table_name(table)
            .item("hostname", AttributeValue::S(hostname.to_owned()))
            .item("data", AttributeValue::S(data))
            .send()
            .await
            .unwrap();
    }

    pub async fn store(&self, table: &str) -> DynamoDbStore {
        self.create_table(table).await;
        self.handle(table).await
    }

    /// Another store over the existing `table`, as a second server has.
    pub async fn handle(&self, table: &str) -> DynamoDbStore {
        DynamoDbStore::builder()
            .with_table(table)
            .with_sdk_config(self.config.clone())
            .build()
            .await
            .unwrap()
    }

    /// The item of `hostname` (with its dot) and `record_type` in `table`,
    /// which must exist.
    pub async fn item(
        &self,
        table: &str,
        hostname: &str,
        record_type: &str,
    ) -> std::collections::HashMap<String, AttributeValue> {
        self.dynamodb()
            .get_item()
            .table_name(table)
            .key("hostname", AttributeValue::S(hostname.to_owned()))
            .key("record_type", AttributeValue::S(record_type.to_owned()))
            .send()
            .await
            .unwrap()
            .item
            .expect("the item exists")
    }

    /// Creates a hosted zone and returns its id.
    pub async fn create_zone(&self, name: &str) -> String {
        let client = aws_sdk_route53::Client::new(&self.config);
        let out = client
            .create_hosted_zone()
            .name(name)
            .caller_reference(format!("ddns-test-{}-{name}", std::process::id()))
            .send()
            .await
            .unwrap();
        out.hosted_zone()
            .unwrap()
            .id()
            .trim_start_matches("/hostedzone/")
            .to_owned()
    }

    /// Deletes hosted zone `zone_id` with every record set in it, so that
    /// calls on it fail as on a zone removed in AWS.
    pub async fn delete_zone(&self, zone_id: &str) {
        use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, RrType};
        let client = aws_sdk_route53::Client::new(&self.config);
        let sets = client
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .send()
            .await
            .unwrap();
        let changes: Vec<Change> = sets
            .resource_record_sets()
            .iter()
            .filter(|set| !matches!(set.r#type(), RrType::Soa | RrType::Ns))
            .map(|set| {
                Change::builder()
                    .action(ChangeAction::Delete)
                    .resource_record_set(set.clone())
                    .build()
                    .unwrap()
            })
            .collect();
        if !changes.is_empty() {
            client
                .change_resource_record_sets()
                .hosted_zone_id(zone_id)
                .change_batch(
                    ChangeBatch::builder()
                        .set_changes(Some(changes))
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
        }
        client
            .delete_hosted_zone()
            .id(zone_id)
            .send()
            .await
            .unwrap();
    }

    /// How many ChangeResourceRecordSets calls moto has answered so far.
    pub fn route53_change_calls(&self) -> u64 {
        let addr = self.url.trim_start_matches("http://");
        let body = crate::probe::http_body(addr, "/_ddns_test/rrset-changes");
        body.trim()
            .parse()
            .unwrap_or_else(|_| panic!("moto's change count is not a number: {body}"))
    }

    /// A provider on a new hosted zone `example.com`.
    pub async fn provider(&self) -> Route53Provider {
        let id = self.create_zone(ZONE).await;
        self.zone_provider(&id, ZONE).await
    }

    /// A provider on the existing hosted zone `zone_id`, named `zone`, and
    /// on no other: what a test reads a zone through.
    pub async fn zone_provider(&self, zone_id: &str, zone: &str) -> Route53Provider {
        Route53Provider::builder()
            .with_zone_id(zone_id)
            .with_zone(Hostname::parse(zone).unwrap())
            .with_sdk_config(self.config.clone())
            .build()
            .await
            .unwrap()
    }
}
