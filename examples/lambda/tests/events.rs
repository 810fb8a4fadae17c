//! The Lambda handler driven end to end with API Gateway REST, HTTP API
//! and Function URL events, against DynamoDB and Route 53 in moto, on a
//! table whose items were written the way the original stack wrote them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use ddns_testkit::lambda_runtime::{function_url_post, rest_get_event};
use ddns_testkit::moto;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use ddns_aws::{DynamoDbStore, Route53Provider};
use ddns_core::protocols::seed::ApiKeys;
use ddns_core::{HashToken, Hostname, SharedSecret};
use ddns_lambda::{HostedZone, LambdaConfig, api_over, handle, provider_for};

const TABLE: &str = "ddns-config";

#[derive(Clone, Copy, Debug)]
enum Kind {
    Rest,
    HttpApi,
    FunctionUrl,
}

fn query_json(query: &[(&str, &str)]) -> String {
    let pairs: Vec<String> = query.iter().map(|(k, v)| format!("{k:?}: {v:?}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

fn event(kind: Kind, query: &[(&str, &str)], source: &str) -> String {
    let qs = query_json(query);
    let raw: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let raw = raw.join("&");
    match kind {
        Kind::Rest => rest_get_event(&qs, source),
        Kind::HttpApi | Kind::FunctionUrl => {
            let domain = match kind {
                Kind::FunctionUrl => "abcdefgh.lambda-url.us-east-1.on.aws",
                _ => "abc.execute-api.us-east-1.amazonaws.com",
            };
            format!(
                r#"{{"version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "{raw}",
                "headers": {{"host": "{domain}"}}, "queryStringParameters": {qs},
                "requestContext": {{"accountId": "123456789012", "apiId": "abc", "domainName": "{domain}", "domainPrefix": "abc",
                  "http": {{"method": "GET", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "{source}", "userAgent": "curl/8"}},
                  "requestId": "req-2", "routeKey": "$default", "stage": "$default", "time": "26/Nov/2026:12:00:00 +0000", "timeEpoch": 1795700000000}},
                "isBase64Encoded": false}}"#
            )
        }
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

async fn put(moto: &moto::Moto, item: &[(&str, AttributeValue)]) {
    let item: HashMap<String, AttributeValue> = item
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    moto.dynamodb()
        .put_item()
        .table_name(TABLE)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

fn hash(source: &str, host: &str, secret: &str) -> String {
    HashToken::compute_as_sent(
        source.parse().unwrap(),
        &ddns_core::SentName::parse(&format!("{host}.")),
        &SharedSecret::new(secret),
    )
    .to_hex()
}

async fn call(
    api: &ddns_lambda::LambdaApi,
    kind: Kind,
    query: &[(&str, &str)],
    source: &str,
) -> (u16, String) {
    let request = lambda_http::request::from_str(&event(kind, query, source)).unwrap();
    let response = handle(api, request).await;
    let status = response.status().as_u16();
    let body = match response.body() {
        lambda_http::Body::Text(t) => t.clone(),
        other => panic!("unexpected body {other:?}"),
    };
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "application/json"
    );
    (status, body)
}

/// The Lambda's API over the moto table and the zone `zone_id`, accepting
/// `api_keys`, and the provider behind it.
async fn api_for(
    moto: &moto::Moto,
    zone_id: &str,
    api_keys: ApiKeys,
) -> (ddns_lambda::LambdaApi, Route53Provider) {
    let store = moto.handle(TABLE).await;
    let provider = moto.zone_provider(zone_id, "example.com").await;
    let config = LambdaConfig::new(60)
        .with_api_keys(api_keys)
        .with_zone(HostedZone {
            name: Hostname::parse("example.com").unwrap(),
            zone_id: zone_id.to_owned(),
        });
    (lambda(store, config, &moto.config).await, provider)
}

/// The Lambda's API over `store` and the zones of `config`, as
/// `api_from_env` builds it: one provider, sharing the store's directory
/// of hosted zones.
async fn lambda(
    store: DynamoDbStore,
    config: LambdaConfig,
    sdk: &aws_config::SdkConfig,
) -> ddns_lambda::LambdaApi {
    let provider = provider_for(&config.zones, store.zone_directory(), sdk.clone())
        .await
        .unwrap();
    api_over(store, provider, config).unwrap()
}

/// moto with the table, the zone and `home.example.com.` A (secret `pw`,
/// internal addresses allowed, plus `extra` attributes), and the API over
/// them; `None` when moto is not installed (the harness said so).
async fn home_record(
    extra: &[(&str, AttributeValue)],
) -> Option<(moto::Moto, ddns_lambda::LambdaApi)> {
    let moto = moto::Moto::start().await?;
    moto.create_table(TABLE).await;
    let zone_id = moto.create_zone("example.com").await;
    let mut item = vec![
        ("hostname", s("home.example.com.")),
        ("record_type", s("A")),
        ("shared_secret", s("pw")),
        ("allow_internal", AttributeValue::Bool(true)),
    ];
    item.extend(extra.iter().cloned());
    put(&moto, &item).await;
    let (api, _) = api_for(&moto, &zone_id, ApiKeys::none()).await;
    Some((moto, api))
}

fn ok(m: &str) -> String {
    format!(r#"{{"return_message": "{m}", "return_status": "success"}}"#)
}

fn fail(m: &str) -> String {
    format!(r#"{{"return_message": "{m}", "return_status": "fail"}}"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_through_every_event_kind() {
    let Some(moto) = moto::Moto::start().await else {
        return;
    };
    moto.create_table(TABLE).await;
    let zone_id = moto.create_zone("example.com").await;
    // Items as the original stack wrote them (no lock_record on one).
    for (host, secret, extra) in [
        (
            "home.example.com.",
            "secret-home",
            vec![
                ("allow_internal", AttributeValue::Bool(false)),
                ("read_privilege", AttributeValue::Bool(true)),
                ("mac_address", s("51:6B:00:A6:F5:77")),
            ],
        ),
        (
            "locked.example.com.",
            "secret-locked",
            vec![("lock_record", AttributeValue::Bool(true))],
        ),
        (
            "lan.example.com.",
            "secret-lan",
            vec![
                ("allow_internal", AttributeValue::Bool(true)),
                ("ttl", AttributeValue::N("120".into())),
            ],
        ),
        (
            "multi.example.com.",
            "secret-multi",
            vec![("allow_internal", AttributeValue::Bool(true))],
        ),
    ] {
        let mut item = vec![
            ("hostname", s(host)),
            ("record_type", s("A")),
            ("shared_secret", s(secret)),
        ];
        item.extend(extra);
        put(&moto, &item).await;
    }
    // A record set by hand with two values, for message 7.
    let client = aws_sdk_route53::Client::new(&moto.config);
    let rrset = ResourceRecordSet::builder()
        .name("multi.example.com.")
        .r#type(RrType::A)
        .ttl(60)
        .resource_records(
            ResourceRecord::builder()
                .value("192.0.2.1")
                .build()
                .unwrap(),
        )
        .resource_records(
            ResourceRecord::builder()
                .value("192.0.2.2")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    client
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Upsert)
                        .resource_record_set(rrset)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let (api, provider) = api_for(&moto, &zone_id, ApiKeys::none()).await;

    for (i, kind) in [Kind::Rest, Kind::HttpApi, Kind::FunctionUrl]
        .into_iter()
        .enumerate()
    {
        let me = format!("198.51.100.{}", 10 + i);
        let me = me.as_str();
        assert_eq!(
            call(&api, kind, &[("mode", "get")], me).await,
            (200, ok(me)),
            "{kind:?}"
        );
        let h = hash(me, "home.example.com", "secret-home");
        let set = [
            ("mode", "set"),
            ("hostname", "home.example.com"),
            ("hash", h.as_str()),
        ];
        assert_eq!(
            call(&api, kind, &set, me).await.1,
            ok(&format!(
                "Your hostname record home.example.com. has been set to {me}"
            )),
            "{kind:?}"
        );
        assert_eq!(
            call(&api, kind, &set, me).await.1,
            ok("Your IP address matches the current Route53 DNS record."),
            "{kind:?}"
        );
        let host = Hostname::parse("home.example.com").unwrap();
        assert_eq!(
            ddns_core::DnsProvider::current(
                &provider,
                &ddns_core::RecordKey::new(host.clone(), ddns_core::RecordType::A),
            )
            .await
            .unwrap(),
            [me.parse::<std::net::IpAddr>().unwrap()]
        );

        let lan = format!("192.168.7.{}", 1 + i);
        let cases: Vec<(Vec<(&str, String)>, String)> = vec![
            (vec![("mode", "delete".into())], fail("You must pass mode=get, mode=set or mode=list_hosts arguments.")),
            (vec![("mode", "set".into()), ("hostname", "home.example.com".into()), ("hash", "abc".into())], fail("You must pass a valid sha256 hash in the hash= argument.")),
            (vec![("mode", "set".into()), ("hostname", "nobody.example.com".into()), ("hash", hash(me, "nobody.example.com", "x"))], fail("There was an issue finding or reading the DyanmoDB config item for nobody.example.com.: A")),
            (vec![("mode", "set".into()), ("hostname", "home.example.com".into()), ("hash", hash(me, "home.example.com", "wrong"))], fail("Validation hashes do not match.")),
            (vec![("mode", "set".into()), ("hostname", "locked.example.com".into()), ("hash", hash(me, "locked.example.com", "secret-locked"))], fail("The record for locked.example.com. is locked, update denied.")),
            (vec![("mode", "set".into()), ("hostname", "home.example.com".into()), ("hash", h.clone()), ("internalIp", "10.0.0.7".into())], fail("DDB Permissions for home.example.com. disallow internal IPs, update denied.")),
            (vec![("mode", "set".into()), ("hostname", "lan.example.com".into()), ("hash", hash(me, "lan.example.com", "secret-lan")), ("internalIp", "bogus".into())], fail("The internalIp argument is not a valid IPv4 or IPv6 address.")),
            (vec![("mode", "set".into()), ("hostname", "lan.example.com".into()), ("hash", hash(me, "lan.example.com", "secret-lan")), ("internalIp", "224.0.0.9".into())], fail("The address 224.0.0.9 is not a unicast host address and cannot be set.")),
            (vec![("mode", "list_hosts".into()), ("hostname", "lan.example.com".into()), ("hash", hash(me, "lan.example.com", "secret-lan"))], fail("record lacks read permissions")),
            (vec![("mode", "set".into()), ("hostname", "multi.example.com".into()), ("hash", hash(me, "multi.example.com", "secret-multi")), ("internalIp", "192.0.2.9".into())], fail("You should only have a single value for your dynamic record.  You currently have more than one.")),
            (vec![("mode", "set".into()), ("hostname", "lan.example.com".into()), ("hash", hash(me, "lan.example.com", "secret-lan")), ("internalIp", lan.clone())], ok(&format!("Your hostname record lan.example.com. has been set to {lan}"))),
            (vec![("mode", "list_hosts".into()), ("hostname", "home.example.com".into()), ("hash", h.clone())], r#"{"return_message": [{"record_type": "A", "hostname": "home.example.com.", "mac_address": "51:6B:00:A6:F5:77"}], "return_status": "success"}"#.to_owned()),
        ];
        for (query, expected) in cases {
            let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (status, body) = call(&api, kind, &query, me).await;
            assert_eq!((status, body), (200, expected), "{kind:?} {query:?}");
        }
    }

    // The items keep the original layout after all this.
    let item = moto.item(TABLE, "home.example.com.", "A").await;
    assert_eq!(item.get("ip_address"), Some(&s("198.51.100.12")));
    assert!(matches!(item.get("last_checked"), Some(AttributeValue::S(t)) if t.len() == 26));
}

#[tokio::test]
async fn function_keys_and_missing_sources() {
    let Some(moto) = moto::Moto::start().await else {
        return;
    };
    moto.create_table(TABLE).await;
    let zone_id = moto.create_zone("example.com").await;
    let (api, _) = api_for(&moto, &zone_id, ApiKeys::new(["k1"])).await;
    let (status, body) = call(&api, Kind::FunctionUrl, &[("mode", "get")], "198.51.100.1").await;
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    // An event without a request context cannot name its source.
    let request = lambda_http::Request::new(lambda_http::Body::Empty);
    let response = handle(&api, request).await;
    assert!(
        matches!(response.body(), lambda_http::Body::Text(t) if t.contains("no source address"))
    );
}

#[tokio::test]
async fn dyndns2_on_nic_update() {
    let Some((_moto, api)) = home_record(&[]).await else {
        return;
    };
    // HTTP API event on /nic/update with Basic auth (home.example.com:pw).
    let event = event(
        Kind::HttpApi,
        &[("hostname", "home.example.com"), ("myip", "198.51.100.44")],
        "198.51.100.1",
    )
    .replace(r#""rawPath": "/""#, r#""rawPath": "/nic/update""#)
    .replace(r#""path": "/""#, r#""path": "/nic/update""#)
    .replace(
        r#""headers": {"host""#,
        r#""headers": {"authorization": "Basic aG9tZS5leGFtcGxlLmNvbTpwdw==", "host""#,
    );
    let response = handle(&api, lambda_http::request::from_str(&event).unwrap()).await;
    assert_eq!(response.status(), 200);
    assert!(
        matches!(response.body(), lambda_http::Body::Text(t) if t == "good 198.51.100.44\n"),
        "{:?}",
        response.body()
    );
}

#[tokio::test]
async fn signed_requests_and_require_signed_through_dynamodb() {
    use ddns_core::signed::{Nonce, SignedMessage, SignedMode, SignedProof};
    let Some((moto, api)) = home_record(&[("require_signed", AttributeValue::Bool(true))]).await
    else {
        return;
    };
    let source = "198.51.100.1";

    // The legacy hash is refused for this record.
    let h = hash(source, "home.example.com", "pw");
    let (_, body) = call(
        &api,
        Kind::Rest,
        &[
            ("mode", "set"),
            ("hostname", "home.example.com"),
            ("hash", &h),
        ],
        source,
    )
    .await;
    assert!(body.contains("accepts only signed requests"), "{body}");

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let message = SignedMessage::new(
        SignedMode::Set,
        Hostname::parse("home.example.com").unwrap(),
        source.parse().unwrap(),
        now,
        Nonce::generate().unwrap(),
    );
    let proof = SignedProof::for_message(&message, &SharedSecret::new("pw"));
    let query = [
        ("mode", "set"),
        ("hostname", "home.example.com"),
        ("signature", proof.signature.as_str()),
        ("timestamp", proof.timestamp.as_str()),
        ("nonce", proof.nonce.as_str()),
    ];
    let (_, body) = call(&api, Kind::HttpApi, &query, source).await;
    assert_eq!(
        body,
        ok("Your hostname record home.example.com. has been set to 198.51.100.1")
    );
    // The same request again, through another event kind: refused by the
    // guard kept in the table.
    let (_, body) = call(&api, Kind::FunctionUrl, &query, source).await;
    assert!(body.contains("already used"), "{body}");
    let item = moto.item(TABLE, "home.example.com.", "A").await;
    assert_eq!(
        item.get("last_signed"),
        Some(&AttributeValue::N(now.to_string()))
    );
}

/// An A record item for `hostname` (with its dot) with the secret `pw`,
/// as the original stack wrote it.
async fn put_a(moto: &moto::Moto, hostname: &str) {
    let item = [
        ("hostname", s(hostname)),
        ("record_type", s("A")),
        ("shared_secret", s("pw")),
    ];
    put(moto, &item).await;
}

/// The body of a `set` of `host` from `source` with the secret `pw`.
async fn token_set(api: &ddns_lambda::LambdaApi, kind: Kind, host: &str, source: &str) -> String {
    let hash = hash(source, host, "pw");
    let query = [("mode", "set"), ("hostname", host), ("hash", hash.as_str())];
    call(api, kind, &query, source).await.1
}

/// A REST API event for dyndns2 at `path` (the stage prefix as API Gateway
/// passes it), with Basic credentials `home.example.com:pw`.
fn rest_dyndns2_event(path: &str, myip: &str) -> String {
    event(
        Kind::Rest,
        &[("hostname", "home.example.com"), ("myip", myip)],
        "198.51.100.1",
    )
    .replace(r#""path": "/""#, &format!(r#""path": "{path}""#))
    .replace(
        r#""headers": {"Host""#,
        r#""headers": {"Authorization": "Basic aG9tZS5leGFtcGxlLmNvbTpwdw==", "Host""#,
    )
}

#[tokio::test]
async fn dyndns2_under_a_stage_prefix_routes_as_the_server_does() {
    let Some((_moto, api)) = home_record(&[]).await else {
        return;
    };
    for (path, myip) in [
        ("/prod/nic/update", "198.51.100.45"),
        ("/nic/update", "198.51.100.46"),
    ] {
        let request = lambda_http::request::from_str(&rest_dyndns2_event(path, myip)).unwrap();
        let response = handle(&api, request).await;
        assert!(
            matches!(response.body(), lambda_http::Body::Text(t) if *t == format!("good {myip}\n")),
            "{path}: {:?}",
            response.body()
        );
    }
}

#[tokio::test]
async fn a_backend_failure_is_logged_with_its_cause() {
    let Some(moto) = moto::Moto::start().await else {
        return;
    };
    moto.create_table(TABLE).await;
    put_a(&moto, "home.example.com.").await;
    // A hosted zone id that does not exist: every Route 53 call fails.
    let (api, _) = api_for(&moto, "ZNOSUCHZONE", ApiKeys::none()).await;
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let api = api.with_log(std::sync::Arc::new(move |line: &str| {
        sink.lock().unwrap().push(line.to_owned());
    }));
    let source = "198.51.100.61";
    let body = token_set(&api, Kind::Rest, "home.example.com", source).await;
    assert!(body.contains(r#""return_status": "fail""#), "{body}");
    assert!(
        !body.contains("ZNOSUCHZONE"),
        "no backend detail reaches the client: {body}"
    );
    let lines = lines.lock().unwrap();
    let line = lines
        .iter()
        .find(|l| l.contains("the DNS provider failed"))
        .unwrap_or_else(|| panic!("no backend failure logged: {lines:?}"));
    // Route 53's own words: the cause, not only the kind of failure.
    assert!(
        line.contains("No hosted zone found with ID: ZNOSUCHZONE"),
        "the cause is logged: {line}"
    );
    assert!(line.contains(source) && line.contains("mode=set"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosted_zones_are_each_changed_through_their_own_zone() {
    use ddns_core::{DnsProvider, RecordType};
    let Some(moto) = moto::Moto::start().await else {
        return;
    };
    moto.create_table(TABLE).await;
    let mut providers = Vec::new();
    let mut config = LambdaConfig::new(60);
    for zone in ["example.com", "example.net"] {
        let id = moto.create_zone(zone).await;
        config = config.with_zone(HostedZone {
            name: Hostname::parse(zone).unwrap(),
            zone_id: id.clone(),
        });
        let provider = moto.zone_provider(&id, zone).await;
        providers.push((Hostname::parse(zone).unwrap(), provider));
        put_a(&moto, &format!("home.{zone}.")).await;
    }
    put_a(&moto, "home.example.org.").await;
    let api = lambda(moto.handle(TABLE).await, config, &moto.config).await;
    for (host, source) in [
        ("home.example.com", "198.51.100.71"),
        ("home.example.net", "198.51.100.72"),
    ] {
        let body = token_set(&api, Kind::HttpApi, host, source).await;
        assert_eq!(
            body,
            ok(&format!(
                "Your hostname record {host}. has been set to {source}"
            )),
            "{host}"
        );
    }
    // Each record is in its own hosted zone, and only there.
    for ((zone, provider), (other, expected)) in providers.iter().zip([
        ("home.example.net", "198.51.100.71"),
        ("home.example.com", "198.51.100.72"),
    ]) {
        let own = Hostname::parse(&format!("home.{}", zone.without_trailing_dot())).unwrap();
        assert_eq!(
            provider
                .current(&ddns_core::RecordKey::new(own.clone(), RecordType::A))
                .await
                .unwrap(),
            [expected.parse::<std::net::IpAddr>().unwrap()],
            "{zone}"
        );
        let elsewhere = provider
            .current(&ddns_core::RecordKey::new(
                Hostname::parse(other).unwrap(),
                RecordType::A,
            ))
            .await;
        assert!(
            elsewhere.map_or(true, |v| v.is_empty()),
            "{other} must not be in {zone}"
        );
    }
    // A record in no hosted zone the function serves: message 2.
    let source = "198.51.100.73";
    let body = token_set(&api, Kind::HttpApi, "home.example.org", source).await;
    assert_eq!(
        body,
        fail(
            "There was an issue finding or reading the DyanmoDB config item for home.example.org.: A"
        )
    );
}

/// Posts `body` from `source`: the status, the body, and the CORS headers.
async fn post(
    api: &ddns_lambda::LambdaApi,
    body: &str,
    source: &str,
) -> (u16, String, Vec<String>) {
    let request = lambda_http::request::from_str(&function_url_post(body, source)).unwrap();
    let response = handle(api, request).await;
    let text = match response.body() {
        lambda_http::Body::Text(t) => t.clone(),
        other => panic!("unexpected body {other:?}"),
    };
    let cors = [
        "access-control-allow-headers",
        "access-control-allow-origin",
        "access-control-allow-methods",
    ]
    .iter()
    .map(|h| {
        response
            .headers()
            .get(*h)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    })
    .collect();
    (response.status().as_u16(), text, cors)
}

fn upstream(status: &str, message: &str) -> String {
    let mut quoted = String::new();
    ddns_core::protocols::json::push_str(&mut quoted, message);
    format!(r#"{{"return_status": "{status}", "return_message": {quoted}}}"#)
}

/// What the upstream client does for `set`: the address from the `get`
/// answer (what matches `[0-9.]+`), then SHA-256 over ip + host + secret.
async fn upstream_client_set(
    api: &ddns_lambda::LambdaApi,
    host: &str,
    secret: &str,
    source: &str,
) -> (u16, String) {
    use sha2::Digest as _;
    let (_, got, _) = post(api, r#"{"execution_mode":"get"}"#, source).await;
    let ip: String = got
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find(|part| part.matches('.').count() == 3)
        .unwrap()
        .to_owned();
    let hash = hex::encode(sha2::Sha256::digest(format!("{ip}{host}{secret}")));
    let body = format!(
        r#"{{"execution_mode":"set","ddns_hostname":"{host}","validation_hash":"{hash}"}}"#
    );
    let (status, text, _) = post(api, &body, source).await;
    (status, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upstream_protocol_on_its_own_table_through_a_function_url() {
    let Some(moto) = moto::Moto::start().await else {
        return;
    };
    // The rewrite's table, as its users have it: the table is the only
    // configuration; the item names its hosted zone.
    moto.create_current_table("upstream-ddns").await;
    let zone_id = moto.create_zone("example.com").await;
    moto.put_current_item("upstream-ddns", "home.example.com", &zone_id, "s3cret")
        .await;
    let store = DynamoDbStore::builder()
        .with_table("upstream-ddns")
        .with_sdk_config(moto.config.clone())
        .build()
        .await
        .unwrap();
    let api = lambda(store, LambdaConfig::new(60), &moto.config).await;
    let source = "198.51.100.20";

    let (status, body, cors) = post(&api, r#"{"execution_mode": "get"}"#, source).await;
    assert_eq!((status, body), (200, upstream("success", source)));
    assert_eq!(cors, ["Content-Type", "*", "GET"]);
    assert_eq!(
        upstream_client_set(&api, "home.example.com", "s3cret", source).await,
        (
            201,
            upstream(
                "success",
                &format!("home.example.com has been updated to {source}")
            )
        )
    );
    assert_eq!(
        upstream_client_set(&api, "home.example.com", "s3cret", source).await,
        (
            200,
            upstream(
                "success",
                "Your IP address matches the current Route53 DNS record."
            )
        )
    );
    assert_eq!(
        upstream_client_set(&api, "home.example.com", "wrong", source).await,
        (401, upstream("fail", "Validation hashes do not match."))
    );
    let provider = moto.zone_provider(&zone_id, "example.com").await;
    let key = ddns_core::RecordKey::new(
        Hostname::parse("home.example.com").unwrap(),
        ddns_core::RecordType::A,
    );
    assert_eq!(
        ddns_core::DnsProvider::current(&provider, &key)
            .await
            .unwrap(),
        [source.parse::<std::net::IpAddr>().unwrap()]
    );

    let set = |host: &str, hash: &str| {
        format!(
            r#"{{"execution_mode": "set", "ddns_hostname": "{host}", "validation_hash": "{hash}"}}"#
        )
    };
    for (body, status, message) in [
        (
            r#"{"execution_mode": "delete"}"#.to_owned(),
            400,
            "You must pass mode=get or mode=set arguments.".to_owned(),
        ),
        (
            set("nobody.example.com", &"a".repeat(64)),
            403,
            "There was an issue finding or reading nobody.example.com configuration from dynamoDB table: upstream-ddns".to_owned(),
        ),
        (
            set("home.example.com", "abc"),
            400,
            "You must pass a valid sha256 hash in the hash= argument.".to_owned(),
        ),
    ] {
        let (got_status, got, cors) = post(&api, &body, source).await;
        assert_eq!((got_status, got), (status, upstream("fail", &message)), "{body}");
        assert_eq!(cors, ["Content-Type", "*", "GET"]);
    }

    // Route 53 fails (the zone is gone): a fixed message, no AWS words.
    moto.delete_zone(&zone_id).await;
    let (status, body) =
        upstream_client_set(&api, "home.example.com", "s3cret", "198.51.100.21").await;
    assert_eq!(
        (status, body.as_str()),
        (
            500,
            upstream(
                "fail",
                "The DNS update could not be completed; the operator should check the function's logs."
            )
            .as_str()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dyndns2_through_rest_needs_no_api_key_while_the_seed_api_does() {
    let Some(moto) = moto::Moto::start().await else {
        return;
    };
    moto.create_table(TABLE).await;
    let zone_id = moto.create_zone("example.com").await;
    put(
        &moto,
        &[
            ("hostname", s("home.example.com.")),
            ("record_type", s("A")),
            ("shared_secret", s("pw")),
        ],
    )
    .await;
    let (api, _) = api_for(&moto, &zone_id, ApiKeys::new(["k1"])).await;
    let source = "198.51.100.30";
    // A REST event on /nic/update with Basic credentials and no key.
    let rest = event(Kind::Rest, &[("hostname", "home.example.com")], source)
        .replace(r#""path": "/""#, r#""path": "/nic/update""#)
        .replace(
            r#""headers": {"Host""#,
            r#""headers": {"Authorization": "Basic aG9tZS5leGFtcGxlLmNvbTpwdw==", "Host""#,
        );
    let response = handle(&api, lambda_http::request::from_str(&rest).unwrap()).await;
    assert!(
        matches!(response.body(), lambda_http::Body::Text(t) if t == &format!("good {source}\n")),
        "{:?}",
        response.body()
    );
    // The seed API on the same function wants the key.
    let (status, body) = call(&api, Kind::Rest, &[("mode", "get")], source).await;
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
}
