//! Every outcome of the seed API (PROTOCOL section 1), byte for byte,
//! through the codec and the service over the in-memory adapters.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use ddns_core::protocols::seed::ApiKeys;
use ddns_core::{Record, RecordStore, RecordType};

#[tokio::test]
async fn get_reflects_the_source_address_only() {
    let f = Fixture::new();
    for (source, shown) in [
        (PUBLIC_V4, PUBLIC_V4),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("::ffff:198.51.100.7", PUBLIC_V4),
    ] {
        let r = f.query("mode=get", source).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type, "application/json");
        assert_eq!(r.body, success(shown));
        // Old clients pull the address out with [0-9.]+: no other digits.
        let digits: String = r
            .body
            .replace(shown, "")
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        assert_eq!(digits, "", "get body has stray digits: {}", r.body);
    }
    assert_eq!(f.dns.calls().reads, 0, "get must touch no backend");
}

#[tokio::test]
async fn unknown_or_missing_mode_fails_instead_of_falling_through() {
    let f = Fixture::new();
    let expected = fail("You must pass mode=get, mode=set or mode=list_hosts arguments.");
    for q in [
        "",
        "mode=",
        "mode=GET",
        "mode=delete",
        "hostname=x",
        "mode=list",
    ] {
        assert_eq!(f.query(q, PUBLIC_V4).await.body, expected, "query {q:?}");
    }
}

#[tokio::test]
async fn set_changes_the_record_then_reports_it_matches() {
    let f = Fixture::new();
    let r = f.set(HOST, PUBLIC_V4, "").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        success("Your hostname record home.example.com. has been set to 198.51.100.7")
    );
    let rrset = f.dns.rrset(&key(HOST, RecordType::A)).unwrap();
    assert_eq!(rrset.values, [ip(PUBLIC_V4)]);
    assert_eq!(
        rrset.ttl, 60,
        "the default TTL applies to a record without one"
    );
    let state = f.state(HOST, RecordType::A).await;
    assert_eq!(state.address(), Some(ip(PUBLIC_V4)));
    assert_eq!(state.last_accessed, Some(ip(PUBLIC_V4)));
    assert_eq!(state.last_checked, Some(START));
    assert_eq!(state.last_updated, Some(START));

    let again = f.set(HOST, PUBLIC_V4, "").await;
    assert_eq!(
        again.body,
        success("Your IP address matches the current Route53 DNS record.")
    );
}

#[tokio::test]
async fn set_over_ipv6_sets_aaaa_and_keeps_the_hostname_spelling() {
    let f = Fixture::new();
    let r = f.set("Home.Example.com.", PUBLIC_V6, "").await;
    assert_eq!(
        r.body,
        success("Your hostname record Home.Example.com. has been set to 2001:db8:1::7")
    );
    assert_eq!(
        f.dns.rrset(&key(HOST, RecordType::Aaaa)).unwrap().values,
        [ip(PUBLIC_V6)]
    );
    assert!(f.dns.rrset(&key(HOST, RecordType::A)).is_none());
}

#[tokio::test]
async fn message_1_hash_format() {
    let f = Fixture::new();
    let expected = fail("You must pass a valid sha256 hash in the hash= argument.");
    let good = hash(PUBLIC_V4, HOST);
    for bad in [
        String::new(),
        good[..63].to_owned(),
        format!("{good}0"),
        format!("{}z", &good[..63]),
    ] {
        let q = format!("mode=set&hostname={HOST}&hash={bad}");
        assert_eq!(f.query(&q, PUBLIC_V4).await.body, expected, "hash {bad:?}");
        let q = format!("mode=list_hosts&hostname={HOST}&hash={bad}");
        assert_eq!(f.query(&q, PUBLIC_V4).await.body, expected, "hash {bad:?}");
    }
    // Upper-case hex is accepted.
    let upper = format!("mode=set&hostname={HOST}&hash={}", good.to_uppercase());
    assert!(
        f.query(&upper, PUBLIC_V4)
            .await
            .body
            .contains("has been set")
    );
}

#[tokio::test]
async fn message_2_no_record_for_name_and_type() {
    let f = Fixture::with_records([Record::new(key(HOST, RecordType::A), config())]);
    // No AAAA record: an IPv6 set fails with the type in the message.
    let r = f.set(HOST, PUBLIC_V6, "").await;
    assert_eq!(
        r.body,
        fail(
            "There was an issue finding or reading the DyanmoDB config item for home.example.com.: AAAA"
        )
    );
    // Unknown name, hostname missing, and a name that is not a host name.
    let r = f.set("nobody.example.com", PUBLIC_V4, "").await;
    assert_eq!(
        r.body,
        fail(
            "There was an issue finding or reading the DyanmoDB config item for nobody.example.com.: A"
        )
    );
    let q = format!("mode=set&hash={}", hash(PUBLIC_V4, ""));
    assert_eq!(
        f.query(&q, PUBLIC_V4).await.body,
        fail("There was an issue finding or reading the DyanmoDB config item for .: A")
    );
    let q = format!(
        "mode=list_hosts&hostname=bad%22name&hash={}",
        hash(PUBLIC_V4, "bad\"name")
    );
    assert_eq!(
        f.query(&q, PUBLIC_V4).await.body,
        fail(r#"There was an issue finding or reading the DyanmoDB config item for bad\"name.: A"#)
    );
}

#[tokio::test]
async fn message_3_hash_mismatch_writes_nothing() {
    let f = Fixture::new();
    // Right format, computed for another source address.
    let q = format!(
        "mode=set&hostname={HOST}&hash={}",
        hash("198.51.100.8", HOST)
    );
    assert_eq!(
        f.query(&q, PUBLIC_V4).await.body,
        fail("Validation hashes do not match.")
    );
    let q = format!(
        "mode=list_hosts&hostname={HOST}&hash={}",
        hash("198.51.100.8", HOST)
    );
    assert_eq!(
        f.query(&q, PUBLIC_V4).await.body,
        fail("Validation hashes do not match.")
    );
    // Computed without the trailing dot: the hash covers the dotted name.
    let bare = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(format!("{PUBLIC_V4}{HOST}{SECRET}")))
    };
    let q = format!("mode=set&hostname={HOST}&hash={bare}");
    assert_eq!(
        f.query(&q, PUBLIC_V4).await.body,
        fail("Validation hashes do not match.")
    );

    let record = f
        .store
        .get(&key(HOST, RecordType::A))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.state,
        Default::default(),
        "a failed hash must write nothing"
    );
    assert_eq!(
        f.dns.calls(),
        Default::default(),
        "a failed hash must call no provider"
    );
}

#[tokio::test]
async fn message_4_locked_record_after_the_hash() {
    let f = Fixture::with_records([Record::new(
        key(HOST, RecordType::A),
        config().with_lock(true),
    )]);
    let r = f.set(HOST, PUBLIC_V4, "").await;
    assert_eq!(
        r.body,
        fail("The record for home.example.com. is locked, update denied.")
    );
    assert_eq!(f.dns.calls(), Default::default());
    // The authenticated request is still recorded as an access.
    let state = f.state(HOST, RecordType::A).await;
    assert_eq!(state.last_accessed, Some(ip(PUBLIC_V4)));
    assert_eq!(state.address(), None);
    // With a wrong hash the lock is not revealed.
    let q = format!("mode=set&hostname={HOST}&hash={}", hash("192.0.2.1", HOST));
    assert_eq!(
        f.query(&q, PUBLIC_V4).await.body,
        fail("Validation hashes do not match.")
    );
}

#[tokio::test]
async fn message_5_internal_addresses_need_allow_internal() {
    let f = Fixture::new();
    let denied =
        fail("DDB Permissions for home.example.com. disallow internal IPs, update denied.");
    // An internal address, another public address, and an internal source.
    assert_eq!(
        f.set(HOST, PUBLIC_V4, "&internalIp=192.168.1.20")
            .await
            .body,
        denied
    );
    assert_eq!(
        f.set(HOST, PUBLIC_V4, "&internalIp=198.51.100.99")
            .await
            .body,
        denied
    );
    assert_eq!(f.set(HOST, "10.0.0.5", "").await.body, denied);
    // internalIp equal to the source address is fine.
    assert!(
        f.set(HOST, PUBLIC_V4, "&internalIp=198.51.100.7")
            .await
            .body
            .contains("has been set")
    );
    assert_eq!(f.dns.calls().batches, 1);

    // allow_internal: any unicast address, either family, from either family.
    let f = Fixture::with_records([
        Record::new(key(HOST, RecordType::A), config().with_allow_internal(true)),
        Record::new(
            key(HOST, RecordType::Aaaa),
            config().with_allow_internal(true),
        ),
    ]);
    assert_eq!(
        f.set(HOST, PUBLIC_V6, "&internalIp=192.168.0.1").await.body,
        success("Your hostname record home.example.com. has been set to 192.168.0.1")
    );
    assert_eq!(
        f.set(HOST, PUBLIC_V4, "&internalIp=fd00::1").await.body,
        success("Your hostname record home.example.com. has been set to fd00::1")
    );
    // A mapped address is set as IPv4.
    assert_eq!(
        f.set(HOST, PUBLIC_V4, "&internalIp=%3A%3Affff%3A10.1.2.3")
            .await
            .body,
        success("Your hostname record home.example.com. has been set to 10.1.2.3")
    );
}

#[tokio::test]
async fn never_settable_addresses_fail_even_with_allow_internal() {
    let f = Fixture::with_records([
        Record::new(key(HOST, RecordType::A), config().with_allow_internal(true)),
        Record::new(
            key(HOST, RecordType::Aaaa),
            config().with_allow_internal(true),
        ),
    ]);
    for (addr, shown) in [
        ("0.0.0.0", "0.0.0.0"),
        ("224.0.0.1", "224.0.0.1"),
        ("255.255.255.255", "255.255.255.255"),
        ("ff02%3A%3A1", "ff02::1"),
        ("%3A%3A", "::"),
    ] {
        assert_eq!(
            f.set(HOST, PUBLIC_V4, &format!("&internalIp={addr}"))
                .await
                .body,
            fail(&format!(
                "The address {shown} is not a unicast host address and cannot be set."
            ))
        );
    }
    assert_eq!(f.dns.calls().batches, 0);
}

#[tokio::test]
async fn invalid_internal_ip_gets_its_own_message() {
    let f = Fixture::new();
    for bad in [
        "banana",
        "300.1.1.1",
        "1.2.3",
        "192.168.1.1%2F24",
        "%3Cscript%3E",
    ] {
        assert_eq!(
            f.set(HOST, PUBLIC_V4, &format!("&internalIp={bad}"))
                .await
                .body,
            fail("The internalIp argument is not a valid IPv4 or IPv6 address."),
            "internalIp {bad:?}"
        );
    }
    // An empty internalIp means "not given".
    assert!(
        f.set(HOST, PUBLIC_V4, "&internalIp=")
            .await
            .body
            .contains("has been set")
    );
}

#[tokio::test]
async fn message_6_list_hosts_needs_read_privilege() {
    let f = Fixture::new();
    assert_eq!(
        f.list_hosts(HOST, PUBLIC_V4).await.body,
        fail("record lacks read permissions")
    );
}

#[tokio::test]
async fn list_hosts_returns_the_group_in_the_original_layout() {
    let member = |host: &str, t, mac: Option<&str>| {
        let mut c = config().with_read_privilege(true);
        if let Some(mac) = mac {
            c = c.with_mac_address(mac);
        }
        Record::new(key(host, t), c)
    };
    let outsider = Record::new(
        key("other.example.com", RecordType::A),
        ddns_core::RecordConfig::new(ddns_core::SharedSecret::new("other"))
            .with_read_privilege(true),
    );
    let f = Fixture::with_records([
        member(HOST, RecordType::A, Some("0A:0A:0A:0A:0A:01")),
        member("foo.example.com", RecordType::A, Some("51:6B:00:A6:F5:77")),
        member(
            "foo.example.com",
            RecordType::Aaaa,
            Some("51:6B:00:A6:F5:77"),
        ),
        member("nomac.example.com", RecordType::A, None),
        Record::new(key("noread.example.com", RecordType::A), config()),
        outsider,
    ]);
    let r = f.list_hosts(HOST, PUBLIC_V4).await;
    assert_eq!(
        r.body,
        concat!(
            r#"{"return_message": ["#,
            r#"{"record_type": "A", "hostname": "foo.example.com.", "mac_address": "51:6B:00:A6:F5:77"}, "#,
            r#"{"record_type": "AAAA", "hostname": "foo.example.com.", "mac_address": "51:6B:00:A6:F5:77"}, "#,
            r#"{"record_type": "A", "hostname": "home.example.com.", "mac_address": "0A:0A:0A:0A:0A:01"}, "#,
            r#"{"record_type": "A", "hostname": "nomac.example.com."}"#,
            r#"], "return_status": "success"}"#
        )
    );
    // list_hosts from IPv6 looks up the caller's AAAA record, which is absent.
    assert_eq!(
        f.list_hosts(HOST, PUBLIC_V6).await.body,
        fail(
            "There was an issue finding or reading the DyanmoDB config item for home.example.com.: AAAA"
        )
    );
    assert_eq!(
        f.dns.calls(),
        Default::default(),
        "list_hosts must not touch DNS"
    );
}

#[tokio::test]
async fn message_7_more_than_one_value() {
    let f = Fixture::new();
    f.dns.set_rrset(
        key(HOST, RecordType::A),
        60,
        vec![ip("192.0.2.1"), ip("192.0.2.2")],
    );
    let expected = fail(
        "You should only have a single value for your dynamic record.  You currently have more than one.",
    );
    assert_eq!(f.set(HOST, PUBLIC_V4, "").await.body, expected);
    // Even when one of the values is the requested address.
    f.dns.set_rrset(
        key(HOST, RecordType::A),
        60,
        vec![ip(PUBLIC_V4), ip("192.0.2.2")],
    );
    assert_eq!(f.set(HOST, PUBLIC_V4, "").await.body, expected);
    assert_eq!(f.dns.calls().batches, 0);
}

#[tokio::test]
async fn api_key_is_checked_before_anything_else() {
    let f = Fixture::build(
        [Record::new(key(HOST, RecordType::A), config())],
        ApiKeys::new(["key-one", "key-two"]),
        Duration::from_secs(300),
    );
    for presented in [None, Some(""), Some("key-on"), Some("KEY-ONE")] {
        let r = f.query_with_key("mode=get", PUBLIC_V4, presented).await;
        assert_eq!(r.status, 403, "key {presented:?}");
        assert_eq!(r.body, r#"{"message":"Forbidden"}"#);
        assert_eq!(r.content_type, "application/json");
    }
    // Even a malformed request is 403 without a key.
    assert_eq!(
        f.query_with_key("mode=nonsense", PUBLIC_V4, None)
            .await
            .status,
        403
    );
    for presented in ["key-one", "key-two"] {
        let r = f
            .query_with_key("mode=get", PUBLIC_V4, Some(presented))
            .await;
        assert_eq!((r.status, r.body), (200, success(PUBLIC_V4)));
    }
}

#[tokio::test]
async fn backend_failures_get_clear_messages_without_details() {
    let f = Fixture::new();
    f.dns.set_unavailable(true);
    let r = f.set(HOST, PUBLIC_V4, "").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        fail("The DNS backend is temporarily unavailable; try again later.")
    );
    assert_eq!(
        f.state(HOST, RecordType::A).await.address(),
        None,
        "the store must not record an address DNS does not have"
    );
    f.dns.set_unavailable(false);
    assert!(
        f.set(HOST, PUBLIC_V4, "")
            .await
            .body
            .contains("has been set")
    );

    // A refusal by the backend for this one name.
    let f = Fixture::new();
    f.dns
        .fail_changes_to(ddns_core::Hostname::parse(HOST).unwrap());
    assert_eq!(
        f.set(HOST, PUBLIC_V4, "").await.body,
        fail(
            "The DNS backend failed to complete the request; the operator should check the server's logs."
        )
    );
}

#[tokio::test]
async fn record_ttl_is_published() {
    let f = Fixture::with_records([Record::new(
        key(HOST, RecordType::A),
        config().with_ttl(300),
    )]);
    f.set(HOST, PUBLIC_V4, "").await;
    assert_eq!(f.dns.rrset(&key(HOST, RecordType::A)).unwrap().ttl, 300);
}

#[tokio::test]
async fn percent_encoded_parameters_are_decoded() {
    let f = Fixture::new();
    let q = format!(
        "mode=%73et&hostname=home%2Eexample%2Ecom&hash={}",
        hash(PUBLIC_V4, HOST)
    );
    assert_eq!(
        f.query(&q, PUBLIC_V4).await.body,
        success("Your hostname record home.example.com. has been set to 198.51.100.7")
    );
}
