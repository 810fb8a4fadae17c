//! Prefix delegation through the codecs and the service over the in-memory
//! adapters: a router's report moves its followers in one DNS batch, an
//! unchanged prefix costs no DNS call, and every refusal leaves the
//! records as they were.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::IpAddr;

use common::*;
use ddns_core::prefix::PrefixFollow;
use ddns_core::protocols::HttpResponse;
use ddns_core::protocols::dyndns2::{Dyndns2Api, Dyndns2Params, Dyndns2Request};
use ddns_core::{Hostname, Record, RecordConfig, RecordType, SharedSecret};

const ROUTER: &str = "router.example.com";
const ROUTER_SECRET: &str = "router-secret-0123456789abcdef";
const FOLLOWERS: [(&str, &str); 3] = [
    ("nas.example.com", "::211:32ff:fe12:3456"),
    ("cam.example.com", "::2"),
    ("printer.example.com", "::a:b:c:d"),
];

fn follower(host: &str, id: &str) -> Record {
    let follow = PrefixFollow::new(Hostname::parse(ROUTER).unwrap(), id.parse().unwrap());
    Record::new(
        key(host, RecordType::Aaaa),
        RecordConfig::new(SharedSecret::new(format!("{host} own secret"))).with_follow(follow),
    )
}

fn router_records() -> Vec<Record> {
    let config = RecordConfig::new(SharedSecret::new(ROUTER_SECRET));
    vec![
        Record::new(key(ROUTER, RecordType::A), config.clone()),
        Record::new(key(ROUTER, RecordType::Aaaa), config),
    ]
}

fn fixture(extra: impl IntoIterator<Item = Record>) -> (Fixture, Dyndns2Api) {
    let mut records = router_records();
    records.extend(FOLLOWERS.iter().map(|(h, id)| follower(h, id)));
    records.extend(extra);
    let f = Fixture::with_records(records);
    let api = Dyndns2Api::new(f.service.clone());
    (f, api)
}

async fn update(api: &Dyndns2Api, query: &str, password: &str) -> HttpResponse {
    let auth = basic(ROUTER, password);
    api.handle(
        Dyndns2Request::new(Dyndns2Params::from_query(query), ip(PUBLIC_V4))
            .with_authorization(Some(&auth)),
    )
    .await
}

/// The FRITZ!Box's query: raw `/` and `:`, both addresses in `myip`.
fn fritzbox(prefix: &str) -> String {
    format!("hostname={ROUTER}&myip={PUBLIC_V4},2001:db8:1:2300::1&ip6lanprefix={prefix}")
}

fn dns_of(f: &Fixture, host: &str) -> Vec<IpAddr> {
    f.dns
        .rrset(&key(host, RecordType::Aaaa))
        .map(|r| r.addresses())
        .unwrap_or_default()
}

async fn stored(f: &Fixture, host: &str) -> Option<IpAddr> {
    f.state(host, RecordType::Aaaa).await.address()
}

/// Every follower holds `prefix` + its id, in DNS and in the store.
async fn assert_followers_at(f: &Fixture, prefix: &str) {
    for (host, id) in FOLLOWERS {
        let net: ipnet::Ipv6Net = prefix.parse().unwrap();
        let id: std::net::Ipv6Addr = id.parse().unwrap();
        let want = IpAddr::V6((u128::from(net.network()) | u128::from(id)).into());
        assert_eq!(dns_of(f, host), [want], "{host} in DNS");
        assert_eq!(stored(f, host).await, Some(want), "{host} in the store");
    }
}

#[tokio::test]
async fn a_fritzbox_report_sets_the_router_and_moves_every_follower_in_one_batch() {
    let (f, api) = fixture([]);
    let r = update(&api, &fritzbox("2001:db8:1:2300::/56"), ROUTER_SECRET).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "good 198.51.100.7 2001:db8:1:2300::1\n");
    assert_eq!(
        f.dns
            .rrset(&key(ROUTER, RecordType::A))
            .unwrap()
            .addresses(),
        [ip(PUBLIC_V4)]
    );
    assert_followers_at(&f, "2001:db8:1:2300::/56").await;
    let sizes = f.dns.call_sizes();
    assert!(
        sizes.applies.contains(&3),
        "the three followers go in one call: {sizes:?}"
    );

    // The same prefix again: no DNS call at all, router or followers.
    let before = f.dns.calls();
    let r = update(&api, &fritzbox("2001:db8:1:2300::/56"), ROUTER_SECRET).await;
    assert_eq!(r.body, "nochg 198.51.100.7 2001:db8:1:2300::1\n");
    assert_eq!(
        f.dns.calls(),
        before,
        "an unchanged prefix calls no provider"
    );

    // A new prefix: all three move in one batch.
    let before = f.dns.calls();
    let r = update(&api, &fritzbox("2001:db8:2:4500::/56"), ROUTER_SECRET).await;
    assert_eq!(r.body, "nochg 198.51.100.7 2001:db8:1:2300::1\n");
    let after = f.dns.calls();
    assert_eq!(after.batches - before.batches, 1, "one batch for the move");
    assert_eq!(after.changes - before.changes, 3);
    assert_followers_at(&f, "2001:db8:2:4500::/56").await;
}

#[tokio::test]
async fn the_dynv6_form_and_its_removal() {
    let (f, api) = fixture([]);
    let query = format!("hostname={ROUTER}&ipv6prefix=2001:db8:7:700::/56");
    let r = update(&api, &query, ROUTER_SECRET).await;
    assert!(r.body.starts_with("good "), "{}", r.body);
    assert_followers_at(&f, "2001:db8:7:700::/56").await;

    let query = format!("hostname={ROUTER}&ipv6prefix=-");
    let r = update(&api, &query, ROUTER_SECRET).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (host, _) in FOLLOWERS {
        assert!(dns_of(&f, host).is_empty(), "{host} is gone from DNS");
        assert_eq!(stored(&f, host).await, None, "{host} holds no address");
    }
    // Removing again changes nothing and calls no provider.
    let before = f.dns.calls();
    update(&api, &query, ROUTER_SECRET).await;
    assert_eq!(f.dns.calls().batches, before.batches);
}

#[tokio::test]
async fn a_prefix_of_the_wrong_length_or_form_changes_nothing() {
    let (f, api) = fixture([]);
    for prefix in [
        "2001:db8::/40",
        "2001:db8:1:2:3::/80",
        "not-a-prefix",
        "::/56",
    ] {
        let r = update(&api, &fritzbox(prefix), ROUTER_SECRET).await;
        assert_eq!(r.status, 400, "{prefix}: {}", r.body);
        assert!(r.body.starts_with("badprefix "), "{prefix}: {}", r.body);
        for word in ["ok", "good", "true", "updated", "nochg"] {
            assert!(!r.body.contains(word), "{prefix}: {:?} has {word}", r.body);
        }
    }
    let r = update(&api, &fritzbox("2001:db8::/40"), ROUTER_SECRET).await;
    assert!(r.body.contains("/48 to /64"), "{}", r.body);
    assert_eq!(
        f.dns.calls().changes,
        0,
        "nothing changed, not even the router"
    );
    assert!(f.dns.rrset(&key(ROUTER, RecordType::A)).is_none());
}

#[tokio::test]
async fn a_wrong_password_or_another_hosts_password_moves_nothing() {
    let (f, api) = fixture([]);
    let r = update(&api, &fritzbox("2001:db8:1:2300::/56"), "wrong").await;
    assert_eq!(r.status, 401);
    // A follower's own secret does not move its siblings either.
    let nas_secret = "nas.example.com own secret";
    let r = update(&api, &fritzbox("2001:db8:1:2300::/56"), nas_secret).await;
    assert_eq!(r.status, 401);
    let auth = basic("nas.example.com", nas_secret);
    let query = "hostname=nas.example.com&myip=2001:db8:9::1&ip6lanprefix=2001:db8:1:2300::/56";
    let r = api
        .handle(
            Dyndns2Request::new(Dyndns2Params::from_query(query), ip("203.0.113.66"))
                .with_authorization(Some(&auth)),
        )
        .await;
    assert!(
        r.body.starts_with("good"),
        "the NAS sets itself: {}",
        r.body
    );
    for (host, _) in &FOLLOWERS[1..] {
        assert!(dns_of(&f, host).is_empty(), "{host} did not move");
    }
}

#[tokio::test]
async fn each_follower_keeps_its_own_rules() {
    let locked = follower("locked.example.com", "::5");
    let mut locked_cfg = locked.config.clone();
    locked_cfg.lock_record = true;
    let wide = follower("wide.example.com", "::1:0:0:0:5");
    let internal = follower("lan.example.com", "::6");
    let mut internal_cfg = internal.config.clone();
    internal_cfg.allow_internal = true;
    let other = Record::new(
        key("elsewhere.example.com", RecordType::Aaaa),
        RecordConfig::new(SharedSecret::new("x")).with_follow(PrefixFollow::new(
            Hostname::parse("other-router.example.com").unwrap(),
            "::7".parse().unwrap(),
        )),
    );
    let (f, api) = fixture([
        Record::new(locked.key.clone(), locked_cfg),
        wide,
        Record::new(internal.key.clone(), internal_cfg),
        other,
    ]);
    // A /64: the id with a bit at 64 does not fit; the locked one stays.
    let r = update(&api, &fritzbox("2001:db8:1:2300::/64"), ROUTER_SECRET).await;
    assert!(r.body.starts_with("good "), "{}", r.body);
    assert_followers_at(&f, "2001:db8:1:2300::/64").await;
    assert!(dns_of(&f, "locked.example.com").is_empty());
    assert!(
        dns_of(&f, "wide.example.com").is_empty(),
        "does not fit a /64"
    );
    assert!(
        dns_of(&f, "elsewhere.example.com").is_empty(),
        "follows another router"
    );
    assert_eq!(dns_of(&f, "lan.example.com"), [ip("2001:db8:1:2300::6")]);
    // The id fits a /56.
    update(&api, &fritzbox("2001:db8:1:2300::/56"), ROUTER_SECRET).await;
    assert_eq!(dns_of(&f, "wide.example.com"), [ip("2001:db8:1:2301::5")]);

    // A ULA prefix: only the follower with allow_internal takes it.
    let r = update(&api, &fritzbox("fd00:1:2:3::/64"), ROUTER_SECRET).await;
    assert!(r.body.starts_with("nochg "), "{}", r.body);
    assert_eq!(dns_of(&f, "lan.example.com"), [ip("fd00:1:2:3::6")]);
    assert_followers_at(&f, "2001:db8:1:2300::/56").await;
}

#[tokio::test]
async fn the_seed_api_takes_a_prefix_with_a_hash_token() {
    let mut records = router_records();
    for record in &mut records {
        record.config.shared_secret = SharedSecret::new(SECRET);
    }
    records.extend(FOLLOWERS.iter().map(|(h, id)| follower(h, id)));
    let f = Fixture::with_records(records);
    let source = PUBLIC_V4;
    let query = format!(
        "mode=set&hostname={ROUTER}&hash={}&ipv6prefix=2001:db8:5:5500::/56",
        hash(source, ROUTER)
    );
    let r = f.query(&query, source).await;
    assert!(r.body.contains("\"success\""), "{}", r.body);
    assert!(r.body.contains("moved 3 of 3"), "{}", r.body);
    assert_followers_at(&f, "2001:db8:5:5500::/56").await;

    let bad = format!(
        "mode=set&hostname={ROUTER}&hash={}&ipv6prefix=2001:db8::/32",
        hash(source, ROUTER)
    );
    let r = f.query(&bad, source).await;
    assert!(
        r.body.contains("\"fail\"") && r.body.contains("/48 to /64"),
        "{}",
        r.body
    );
    assert_followers_at(&f, "2001:db8:5:5500::/56").await;
}
