//! The real `bootstrap` binary, cold, against a loopback Lambda Runtime API
//! and moto: the lazily made backends serve a `set` on the first request,
//! on a 2018 table with its zone configured and on the rewrite's table with
//! nothing but the table configured.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ddns_core::{DnsProvider, HashToken, Hostname, RecordKey, RecordType, SentName, SharedSecret};
use ddns_testkit::lambda_runtime::{function_url_post, invoke, rest_get_event};
use ddns_testkit::moto::Moto;

const BOOTSTRAP: &str = env!("CARGO_BIN_EXE_bootstrap");

/// The answer's `statusCode` and `body`.
fn answered(answer: &str) -> (u64, String) {
    let value: serde_json::Value = serde_json::from_str(answer).unwrap();
    (
        value["statusCode"].as_u64().unwrap(),
        value["body"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn address_in(moto: &Moto, zone_id: &str) -> Vec<ddns_core::RecordValue> {
    let provider = moto.zone_provider(zone_id, "example.com").await;
    provider
        .current(&RecordKey::new(
            Hostname::parse("home.example.com").unwrap(),
            RecordType::A,
        ))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_bootstrap_sets_records_on_either_table() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let zone_id = moto.create_zone("example.com").await;
    moto.create_table("classic-config").await;
    moto.dynamodb()
        .put_item()
        .table_name("classic-config")
        .item(
            "hostname",
            aws_sdk_dynamodb::types::AttributeValue::S("home.example.com.".into()),
        )
        .item(
            "record_type",
            aws_sdk_dynamodb::types::AttributeValue::S("A".into()),
        )
        .item(
            "shared_secret",
            aws_sdk_dynamodb::types::AttributeValue::S("pw".into()),
        )
        .send()
        .await
        .unwrap();
    let base = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("DDNS_AWS_ENDPOINT_URL", moto.url.as_str()),
    ];
    let mut classic = base.to_vec();
    classic.extend([
        ("ddns_config_table", "classic-config"),
        ("DDNS_TABLE_LAYOUT", "classic"),
        ("route_53_zone_id", zone_id.as_str()),
        ("route_53_zone_name", "example.com"),
    ]);
    let source = "198.51.100.50";
    let hash = HashToken::compute_as_sent(
        source.parse().unwrap(),
        &SentName::parse("home.example.com"),
        &SharedSecret::new("pw"),
    )
    .to_hex();
    let query = format!(r#"{{"mode": "set", "hostname": "home.example.com", "hash": "{hash}"}}"#);
    let run = invoke(BOOTSTRAP, &classic, &rest_get_event(&query, source)).unwrap();
    let (status, body) = answered(&run.answer);
    assert_eq!(status, 200, "{}", run.answer);
    assert!(body.contains("has been set to 198.51.100.50"), "{body}");
    assert_eq!(
        address_in(&moto, &zone_id).await,
        [source.parse::<std::net::IpAddr>().unwrap()]
    );

    // The rewrite's table: the table is all the function is told.
    moto.create_current_table("rewrite-config").await;
    moto.put_current_item("rewrite-config", "home.example.com", &zone_id, "s3")
        .await;
    let mut current = base.to_vec();
    current.extend([
        ("ddns_config_table", "rewrite-config"),
        ("DDNS_TABLE_LAYOUT", "current"),
    ]);
    let source = "198.51.100.51";
    let hash = HashToken::compute_as_sent(
        source.parse().unwrap(),
        &SentName::exact("home.example.com"),
        &SharedSecret::new("s3"),
    )
    .to_hex();
    let body = format!(
        r#"{{"execution_mode":"set","ddns_hostname":"home.example.com","validation_hash":"{hash}"}}"#
    );
    let run = invoke(BOOTSTRAP, &current, &function_url_post(&body, source)).unwrap();
    assert_eq!(
        answered(&run.answer),
        (
            201,
            r#"{"return_status": "success", "return_message": "home.example.com has been updated to 198.51.100.51"}"#
                .to_owned()
        ),
        "{}",
        run.answer
    );
    assert_eq!(
        address_in(&moto, &zone_id).await,
        [source.parse::<std::net::IpAddr>().unwrap()]
    );
}
