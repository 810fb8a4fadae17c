//! Fault handling the emulator cannot show, with the SDK's own mocking:
//! Route 53 throttling and PriorRequestNotComplete are retried and, when
//! retries run out, surface as a clear retryable error; a DynamoDB
//! conditional-check failure is never retried; DynamoDB throttling is
//! retried by the SDK.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::error::{
    ConditionalCheckFailedException, ProvisionedThroughputExceededException,
};
use aws_sdk_route53::operation::change_resource_record_sets::{
    ChangeResourceRecordSetsError, ChangeResourceRecordSetsOutput,
};
use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsOutput;
use aws_sdk_route53::types::error::{InvalidChangeBatch, PriorRequestNotComplete};
use aws_sdk_route53::types::{ChangeInfo, ChangeStatus, ResourceRecord, ResourceRecordSet, RrType};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use ddns_aws::{Backoff, DEFAULT_STORE_BACKOFF, DynamoDbStore, Route53Provider};
use ddns_core::{
    AccessUpdate, DnsChange, DnsProvider, Error, Hostname, RecordKey, RecordStore, RecordType,
    Timestamp,
};

const THROTTLED: &str = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>";

fn tiny_backoff(attempts: u32) -> Backoff {
    Backoff {
        attempts,
        initial: Duration::from_millis(1),
        max: Duration::from_millis(4),
    }
}

fn done() -> ChangeResourceRecordSetsOutput {
    ChangeResourceRecordSetsOutput::builder()
        .change_info(
            ChangeInfo::builder()
                .id("C1")
                .status(ChangeStatus::Pending)
                .submitted_at(aws_sdk_route53::primitives::DateTime::from_secs(0))
                .build()
                .unwrap(),
        )
        .build()
}

fn change() -> DnsChange {
    DnsChange::upsert(
        Hostname::parse("h.example.com").unwrap(),
        60,
        "198.51.100.7".parse().unwrap(),
    )
}

/// The configuration the builder gives: the SDK does not retry on its own.
fn no_sdk_retries(config: aws_sdk_route53::config::Builder) -> aws_sdk_route53::config::Builder {
    config.retry_config(aws_sdk_route53::config::retry::RetryConfig::disabled())
}

/// A provider over a mocked Route 53 answering by `rule`.
fn provider(rule: &Rule, mode: RuleMode, attempts: u32) -> Route53Provider {
    let client = mock_client!(aws_sdk_route53, mode, [rule], no_sdk_retries);
    Route53Provider::from_client(client, "Z1", Hostname::parse("example.com").unwrap())
        .with_backoff(tiny_backoff(attempts))
}

#[tokio::test]
async fn route53_throttling_and_prior_request_are_retried() {
    let rule = mock!(aws_sdk_route53::Client::change_resource_record_sets)
        .sequence()
        .http_status(400, Some(THROTTLED.to_owned()))
        .error(|| {
            ChangeResourceRecordSetsError::PriorRequestNotComplete(
                PriorRequestNotComplete::builder()
                    .meta(
                        aws_sdk_route53::error::ErrorMetadata::builder()
                            .code("PriorRequestNotComplete")
                            .build(),
                    )
                    .build(),
            )
        })
        .output(done)
        .build();
    let provider = provider(&rule, RuleMode::Sequential, 5);
    let results = provider.apply(&[change()]).await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert_eq!(rule.num_calls(), 3);
    assert_eq!(provider.change_calls(), 3);
}

#[tokio::test]
async fn route53_throttling_that_never_ends_is_a_retryable_error() {
    let rule = mock!(aws_sdk_route53::Client::change_resource_record_sets)
        .sequence()
        .http_status(400, Some(THROTTLED.to_owned()))
        .repeatedly()
        .build();
    let provider = provider(&rule, RuleMode::Sequential, 4);
    let err = provider.apply(&[change()]).await.remove(0).unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        err.to_string().contains("throttled") && err.to_string().contains("Throttling"),
        "{err}"
    );
    assert_eq!(rule.num_calls(), 4, "four attempts in all");
}

#[tokio::test]
async fn route53_throttled_reads_are_retried() {
    let listed = || {
        ListResourceRecordSetsOutput::builder()
            .resource_record_sets(
                ResourceRecordSet::builder()
                    .name("h.example.com.")
                    .r#type(RrType::A)
                    .ttl(60)
                    .resource_records(
                        ResourceRecord::builder()
                            .value("198.51.100.7")
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .is_truncated(false)
            .max_items(1)
            .build()
            .unwrap()
    };
    let rule = mock!(aws_sdk_route53::Client::list_resource_record_sets)
        .sequence()
        .http_status(400, Some(THROTTLED.to_owned()))
        .times(2)
        .output(listed)
        .build();
    let provider = provider(&rule, RuleMode::Sequential, 5);
    let key = RecordKey::new(Hostname::parse("h.example.com").unwrap(), RecordType::A);
    let values = provider.current(&key).await.unwrap();
    assert_eq!(
        values,
        ["198.51.100.7".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(rule.num_calls(), 3);
    assert_eq!(provider.read_calls(), 3);
}

#[tokio::test]
async fn route53_rejected_batches_are_not_retried() {
    let rule = mock!(aws_sdk_route53::Client::change_resource_record_sets).then_error(|| {
        ChangeResourceRecordSetsError::InvalidChangeBatch(
            InvalidChangeBatch::builder()
                .message("bad")
                .meta(
                    aws_sdk_route53::error::ErrorMetadata::builder()
                        .code("InvalidChangeBatch")
                        .message("bad")
                        .build(),
                )
                .build(),
        )
    });
    let provider = provider(&rule, RuleMode::MatchAny, 5);
    let err = provider.apply(&[change()]).await.remove(0).unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert_eq!(rule.num_calls(), 1, "a rejected batch is not retried");
}

/// A mocked DynamoDB answering by `rule`. Its own retries are switched
/// off: what the tests see is the store's retry policy, which the store
/// puts on every client it is given.
fn dynamodb(rule: &Rule, mode: RuleMode) -> aws_sdk_dynamodb::Client {
    mock_client!(aws_sdk_dynamodb, mode, [rule], no_dynamodb_retries)
}

fn store(client: aws_sdk_dynamodb::Client) -> DynamoDbStore {
    DynamoDbStore::from_client(client, "ddns-config")
}

fn access() -> AccessUpdate {
    AccessUpdate {
        source: "198.51.100.7".parse().unwrap(),
        at: Timestamp::from_unix_micros(0),
    }
}

fn key() -> RecordKey {
    RecordKey::new(Hostname::parse("h.example.com").unwrap(), RecordType::A)
}

fn no_dynamodb_retries(
    config: aws_sdk_dynamodb::config::Builder,
) -> aws_sdk_dynamodb::config::Builder {
    config.retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
}

#[tokio::test]
async fn dynamodb_conditional_check_failure_is_not_retried() {
    let rule = mock!(aws_sdk_dynamodb::Client::update_item).then_error(|| {
        UpdateItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder().build(),
        )
    });
    let client = dynamodb(&rule, RuleMode::MatchAny);
    let err = store(client)
        .record_access(&key(), access())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn dynamodb_throttling_is_retried_then_reported() {
    let throttled = || {
        UpdateItemError::ProvisionedThroughputExceededException(
            ProvisionedThroughputExceededException::builder()
                .message("slow down")
                .meta(
                    aws_sdk_dynamodb::error::ErrorMetadata::builder()
                        .code("ProvisionedThroughputExceededException")
                        .message("slow down")
                        .build(),
                )
                .build(),
        )
    };
    let rule = mock!(aws_sdk_dynamodb::Client::update_item)
        .sequence()
        .error(throttled)
        .times(2)
        .output(|| UpdateItemOutput::builder().build())
        .build();
    let client = dynamodb(&rule, RuleMode::Sequential);
    store(client).record_access(&key(), access()).await.unwrap();
    assert_eq!(rule.num_calls(), 3);

    // Throttled for ever: the store's default policy, then one of its own.
    assert_eq!(DEFAULT_STORE_BACKOFF.attempts, 4, "as documented");
    for (backoff, attempts) in [(None, 4), (Some(tiny_backoff(2)), 2)] {
        let rule = mock!(aws_sdk_dynamodb::Client::update_item)
            .sequence()
            .error(throttled)
            .repeatedly()
            .build();
        let mut throttled_store = store(dynamodb(&rule, RuleMode::Sequential));
        if let Some(backoff) = backoff {
            throttled_store = throttled_store.with_backoff(backoff);
        }
        let err = throttled_store
            .record_access(&key(), access())
            .await
            .unwrap_err();
        assert!(err.is_retryable(), "{err:?}");
        assert!(
            err.to_string()
                .contains("ProvisionedThroughputExceededException"),
            "{err}"
        );
        assert_eq!(rule.num_calls(), attempts, "with {backoff:?}");
    }
}

#[tokio::test]
async fn dynamodb_throttling_exception_is_retried() {
    let rule = mock!(aws_sdk_dynamodb::Client::update_item)
        .sequence()
        .error(|| {
            UpdateItemError::ThrottlingException(
                aws_sdk_dynamodb::types::error::ThrottlingException::builder()
                    .message("rate exceeded")
                    .meta(
                        aws_sdk_dynamodb::error::ErrorMetadata::builder()
                            .code("ThrottlingException")
                            .message("rate exceeded")
                            .build(),
                    )
                    .build(),
            )
        })
        .output(|| UpdateItemOutput::builder().build())
        .build();
    let client = dynamodb(&rule, RuleMode::Sequential);
    store(client).record_access(&key(), access()).await.unwrap();
    assert_eq!(rule.num_calls(), 2);
}
