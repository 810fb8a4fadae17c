//! The conformance suites every adapter runs (feature `conformance`).
//!
//! [`store`] checks a [`RecordStore`] and [`provider`] a [`DnsProvider`]
//! against the contracts documented on the traits; [`paged_store`] also
//! checks listing pages against the store's page size; [`shared_store`]
//! races two services over two handles of one store, as two servers
//! sharing a table do. Each suite works under a fresh random label, so it
//! can run against a shared backend (an emulator, a real BIND) alongside
//! other tests, and removes the records it created.
//! A failed check panics with a message naming the contract it broke, which
//! is what a test wants.
//!
//! ```
//! # #[cfg(feature = "conformance")]
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! use ddns_core::memory::{MemoryProvider, MemoryStore};
//! use ddns_core::{conformance, Hostname};
//! conformance::store(&MemoryStore::new()).await;
//! let zone = Hostname::parse("example.com")?;
//! conformance::provider(&MemoryProvider::new().with_zone(zone.clone()), &zone).await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?; Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// This module is test code shipped for other crates' tests: a broken
// contract must stop the test with a message, so unwrapping is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::domain::hostname::Hostname;
use crate::domain::record::{
    AccessUpdate, ChangeUpdate, GroupMember, Record, RecordConfig, RecordKey, RecordState,
    RecordType,
};
use crate::domain::secret::SharedSecret;
use crate::domain::timestamp::Timestamp;
use crate::domain::value::{RecordValue, TxtValue};
use crate::error::Error;
use crate::ports::provider::{DnsChange, DnsProvider};
use crate::ports::store::RecordStore;

/// Records in the discovery group the store suite builds: more than one
/// page of most backends, to exercise internal pagination.
const GROUP_SIZE: usize = 130;

fn random_label() -> String {
    let token = SharedSecret::generate(12).expect("the system has randomness");
    format!("conf-{}", token.expose_secret())
}

fn name(base: &str, label: &str) -> Hostname {
    Hostname::parse(&format!("{label}.{base}")).expect("suite names are valid")
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("suite addresses are valid")
}

fn txt_values(texts: &[&str]) -> Vec<RecordValue> {
    texts
        .iter()
        .map(|t| RecordValue::Txt(TxtValue::new(t).expect("suite TXT values are valid")))
        .collect()
}

/// The values of an RRset in a fixed order, to compare sets.
fn sorted(mut values: Vec<RecordValue>) -> Vec<RecordValue> {
    values.sort();
    values
}

fn full_record(key: RecordKey, secret: &str) -> Record {
    let config = RecordConfig::new(SharedSecret::new(secret))
        .with_ttl(321)
        .with_lock(true)
        .with_allow_internal(true)
        .with_read_privilege(false)
        .with_mac_address("51:6B:00:A6:F5:77")
        .with_comment("conformance \"record\" — ünïcode")
        .with_require_signed(true);
    let state = RecordState {
        values: vec![
            match key.record_type() {
                RecordType::Aaaa => ip("2001:db8::42"),
                _ => ip("198.51.100.42"),
            }
            .into(),
        ],
        last_accessed: Some(ip("198.51.100.9")),
        last_checked: Some(Timestamp::from_unix_micros(1_532_624_645_123_456)),
        last_updated: Some(Timestamp::from_unix_micros(1_532_624_600_000_001)),
        last_signed: Some(1_532_624_645),
    };
    Record::new(key, config).with_state(state)
}

fn ghost_key(base: &str) -> RecordKey {
    RecordKey::new(name(base, "ghost"), RecordType::A)
}

/// Runs the [`RecordStore`] contract checks against `store`.
///
/// # Panics
///
/// On the first broken contract, with a message saying which.
pub async fn store(store: &dyn RecordStore) {
    store_checks(store, None).await;
}

/// [`store`], for a store whose listing pages hold at most `page_size`
/// records: also checks that no page is larger and that the suite's
/// records (more than 140) are spread over as many pages as that takes.
/// Give a small page size (most stores have a builder setting) so that the
/// listing crosses many pages.
///
/// # Panics
///
/// On the first broken contract, with a message saying which.
pub async fn paged_store(store: &dyn RecordStore, page_size: usize) {
    store_checks(store, Some(page_size.max(1))).await;
}

/// Walks [`RecordStore::list_page`] to the end; returns the size of each
/// page and every record. Fails on a cursor that leads nowhere new.
async fn walk_pages(store: &dyn RecordStore) -> (Vec<usize>, Vec<Record>) {
    let mut cursor = None;
    let mut seen = BTreeSet::new();
    let mut pages = Vec::new();
    let mut all = Vec::new();
    loop {
        let page = store.list_page(cursor).await.expect("list_page");
        pages.push(page.records.len());
        all.extend(page.records);
        match page.next {
            Some(next) => {
                assert!(
                    seen.insert(next.as_str().to_owned()),
                    "list_page returned the cursor {next:?} twice"
                );
                cursor = Some(next);
            }
            None => return (pages, all),
        }
    }
}

async fn store_checks(store: &dyn RecordStore, page_size: Option<usize>) {
    let base = format!("{}.conformance.example", random_label());
    let mut created: Vec<RecordKey> = Vec::new();

    // get of a missing record is Ok(None).
    let a_key = RecordKey::new(name(&base, "host"), RecordType::A);
    assert_eq!(
        store.get(&a_key).await.expect("get of a missing record"),
        None,
        "get must return Ok(None) for a missing record"
    );

    // create, then get returns every field as written.
    let secret = "s3cr%t\\x \"q\" ✓";
    let a = full_record(a_key.clone(), secret);
    store.create(&a).await.expect("create a new record");
    created.push(a_key.clone());
    let read = store
        .get(&a_key)
        .await
        .expect("get")
        .expect("created record exists");
    assert_eq!(read, a, "get must return the record exactly as created");

    // A second create with the same key is a conflict and changes nothing.
    let clash = Record::new(a_key.clone(), RecordConfig::new(SharedSecret::new("other")));
    match store.create(&clash).await {
        Err(Error::Conflict { .. }) => {}
        other => panic!("create of an existing key must be Conflict, got {other:?}"),
    }
    assert_eq!(
        store.get(&a_key).await.unwrap().unwrap(),
        a,
        "a refused create must change nothing"
    );

    // Of creates racing for one new key, exactly one wins; the others are
    // Conflict and the stored row is the winner's.
    let raced_key = RecordKey::new(name(&base, "raced"), RecordType::A);
    let contenders: Vec<Record> = (0..8)
        .map(|i| {
            Record::new(
                raced_key.clone(),
                RecordConfig::new(SharedSecret::new(format!("contender-{i}"))),
            )
        })
        .collect();
    let outcomes = futures_util::future::join_all(contenders.iter().map(|r| store.create(r))).await;
    let winners: Vec<usize> = outcomes
        .iter()
        .enumerate()
        .filter_map(|(i, o)| o.is_ok().then_some(i))
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one of 8 racing creates of one key must win: {outcomes:?}"
    );
    for outcome in &outcomes {
        assert!(
            matches!(outcome, Ok(()) | Err(Error::Conflict { .. })),
            "a losing create must be Conflict, got {outcome:?}"
        );
    }
    created.push(raced_key.clone());
    assert_eq!(
        store.get(&raced_key).await.unwrap(),
        Some(contenders[winners[0]].clone()),
        "the stored record is the winning create's"
    );

    // TTLs round-trip at their edges: none (the default), 0 and the largest
    // DNS allows.
    for (label, ttl) in [
        ("ttl-none", None),
        ("ttl-zero", Some(0)),
        ("ttl-max", Some(crate::domain::record::MAX_TTL)),
    ] {
        let key = RecordKey::new(name(&base, label), RecordType::Aaaa);
        let mut config = RecordConfig::new(SharedSecret::new(label));
        config.ttl = ttl;
        let record = Record::new(key.clone(), config);
        store.create(&record).await.expect("create with a TTL");
        created.push(key.clone());
        assert_eq!(
            store.get(&key).await.unwrap().map(|r| r.config.ttl),
            Some(ttl),
            "the TTL {ttl:?} must read back as written"
        );
    }

    // A and AAAA of one name are different records.
    let aaaa_key = RecordKey::try_new(a_key.name().clone(), RecordType::Aaaa).unwrap();
    assert_eq!(
        store.get(&aaaa_key).await.unwrap(),
        None,
        "AAAA must be distinct from A"
    );
    let aaaa = Record::new(
        aaaa_key.clone(),
        RecordConfig::new(SharedSecret::new("six")),
    );
    store.create(&aaaa).await.expect("create AAAA beside A");
    created.push(aaaa_key.clone());
    assert_eq!(store.get(&aaaa_key).await.unwrap().unwrap(), aaaa);
    assert_eq!(
        store.get(&a_key).await.unwrap().unwrap(),
        a,
        "creating AAAA must not touch A"
    );

    // A TXT record: an owner name with an underscore label, several values
    // (quotes, a backslash, a value longer than one string), written and
    // compared as a set by record_change, and cleared by an empty one.
    let txt_key = RecordKey::txt(
        crate::domain::hostname::RecordName::parse(&format!("_acme-challenge.txt.{base}")).unwrap(),
    );
    let first_values = txt_values(&["token-one", r#"say "hi" \ bye"#]);
    let mut txt = Record::new(txt_key.clone(), RecordConfig::new(SharedSecret::new("txt")));
    txt.state.values = first_values.clone();
    store.create(&txt).await.expect("create a TXT record");
    created.push(txt_key.clone());
    assert_eq!(
        store.get(&txt_key).await.unwrap().unwrap(),
        txt,
        "a TXT record with two values must read back as written"
    );
    let long = "k".repeat(300);
    let second_values = txt_values(&["token-two", &long]);
    let txt_change = |previous: &[RecordValue], values: &[RecordValue], micros| ChangeUpdate {
        previous: previous.to_vec(),
        values: values.to_vec(),
        at: Timestamp::from_unix_micros(micros),
    };
    assert!(
        !store
            .record_change(
                &txt_key,
                txt_change(&second_values, &first_values, 1_700_000_000_000_001)
            )
            .await
            .unwrap(),
        "a TXT record_change from values the record does not hold must lose"
    );
    assert!(
        store
            .record_change(
                &txt_key,
                txt_change(&first_values, &second_values, 1_700_000_000_000_002)
            )
            .await
            .unwrap(),
        "a TXT record_change from the values held must write"
    );
    let state = store.get(&txt_key).await.unwrap().unwrap().state;
    assert_eq!(
        state.values, second_values,
        "TXT values longer than one string must round-trip"
    );
    assert!(
        store
            .record_change(
                &txt_key,
                txt_change(&second_values, &[], 1_700_000_000_000_003)
            )
            .await
            .unwrap(),
        "a record_change to no value must write"
    );
    let state = store.get(&txt_key).await.unwrap().unwrap().state;
    assert!(
        state.values.is_empty(),
        "an emptied RRset reads back as no value"
    );
    assert_eq!(
        state.last_updated,
        Some(Timestamp::from_unix_micros(1_700_000_000_000_003))
    );

    // Access write-back touches only its two fields.
    let access = AccessUpdate {
        source: ip("203.0.113.77"),
        at: Timestamp::from_unix_micros(1_700_000_000_000_007),
    };
    store
        .record_access(&a_key, access)
        .await
        .expect("record_access");
    let mut expected = a.clone();
    expected.state.last_accessed = Some(access.source);
    expected.state.last_checked = Some(access.at);
    assert_eq!(
        store.get(&a_key).await.unwrap().unwrap(),
        expected,
        "record_access must write last_accessed and last_checked only"
    );

    // Change write-back touches only its two fields, and only while the
    // record holds the address the writer read.
    let change = ChangeUpdate::address(
        expected.state.address(),
        ip("198.51.100.200"),
        Timestamp::from_unix_micros(1_700_000_100_000_000),
    );
    assert!(
        store
            .record_change(&a_key, change.clone())
            .await
            .expect("record_change"),
        "record_change from the current address must write"
    );
    expected.state.values.clone_from(&change.values);
    expected.state.last_updated = Some(change.at);
    assert_eq!(
        store.get(&a_key).await.unwrap().unwrap(),
        expected,
        "record_change must write ip_address and last_updated only"
    );
    let stale = ChangeUpdate::address(
        Some(ip("198.51.100.1")),
        ip("198.51.100.201"),
        Timestamp::from_unix_micros(1_700_000_200_000_000),
    );
    assert!(
        !store
            .record_change(&a_key, stale)
            .await
            .expect("record_change"),
        "record_change from an address the record no longer holds must lose"
    );
    assert_eq!(
        store.get(&a_key).await.unwrap().unwrap(),
        expected,
        "a lost record_change writes nothing"
    );
    // Of writers racing from the same address, exactly one wins.
    for round in 0..10u8 {
        let from = store.get(&a_key).await.unwrap().unwrap().state.address();
        let racer = |last: u8| {
            ChangeUpdate::address(
                from,
                IpAddr::from([192, 0, 2, last]),
                Timestamp::from_unix_micros(1_700_000_300_000_000 + i64::from(round)),
            )
        };
        let (x, y) = tokio::join!(
            store.record_change(&a_key, racer(2 * round)),
            store.record_change(&a_key, racer(2 * round + 1))
        );
        let (x, y) = (
            x.expect("racing record_change"),
            y.expect("racing record_change"),
        );
        assert!(
            x ^ y,
            "exactly one of two racing record_changes must win ({x}, {y})"
        );
        let winner = if x { 2 * round } else { 2 * round + 1 };
        assert_eq!(
            store.get(&a_key).await.unwrap().unwrap().state.address(),
            Some(IpAddr::from([192, 0, 2, winner])),
            "the winner's address is stored"
        );
    }
    expected = store.get(&a_key).await.unwrap().unwrap();

    // Write-backs of a missing record fail with NotFound and create nothing.
    let ghost = ghost_key(&base);
    assert!(
        matches!(
            store.record_access(&ghost, access).await,
            Err(Error::NotFound { .. })
        ),
        "record_access of a missing record must be NotFound"
    );
    assert!(
        matches!(
            store.record_change(&ghost, change).await,
            Err(Error::NotFound { .. })
        ),
        "record_change of a missing record must be NotFound"
    );
    assert_eq!(
        store.get(&ghost).await.unwrap(),
        None,
        "write-backs must not create records"
    );

    // The replay guard moves forward only, touches nothing else, and is
    // atomic under concurrency.
    let signed_at = 1_700_000_000;
    assert!(
        store
            .advance_replay_guard(&a_key, signed_at)
            .await
            .expect("advance_replay_guard"),
        "a newer timestamp must advance the guard"
    );
    expected.state.last_signed = Some(signed_at);
    assert_eq!(
        store.get(&a_key).await.unwrap().unwrap(),
        expected,
        "advance_replay_guard must write last_signed only"
    );
    for stale in [signed_at, signed_at - 1, 0] {
        assert!(
            !store.advance_replay_guard(&a_key, stale).await.unwrap(),
            "a timestamp not newer than the guard ({stale}) must be refused"
        );
    }
    assert_eq!(
        store.get(&a_key).await.unwrap().unwrap().state.last_signed,
        Some(signed_at),
        "a refused timestamp must not move the guard"
    );
    assert!(
        store.advance_replay_guard(&aaaa_key, 1).await.unwrap(),
        "a record without a guard accepts any timestamp"
    );
    let racers = (0..8).map(|_| store.advance_replay_guard(&a_key, signed_at + 1));
    let won = futures_util::future::join_all(racers)
        .await
        .into_iter()
        .map(|r| r.expect("concurrent advance_replay_guard"))
        .filter(|advanced| *advanced)
        .count();
    assert_eq!(
        won, 1,
        "of concurrent advances to one timestamp exactly one must win"
    );
    expected.state.last_signed = Some(signed_at + 1);
    assert!(
        matches!(
            store.advance_replay_guard(&ghost_key(&base), 1).await,
            Err(Error::NotFound { .. })
        ),
        "advance_replay_guard of a missing record must be NotFound"
    );
    assert_eq!(
        store.get(&ghost_key(&base)).await.unwrap(),
        None,
        "advance_replay_guard must not create records"
    );

    // Many access writes at once: existing records written, missing skipped.
    let many = AccessUpdate {
        source: ip("203.0.113.78"),
        at: Timestamp::from_unix_micros(1_700_000_000_500_000),
    };
    store
        .record_access_many(&[
            (a_key.clone(), many),
            (ghost.clone(), many),
            (aaaa_key.clone(), many),
        ])
        .await
        .expect("record_access_many skips missing records");
    expected.state.last_accessed = Some(many.source);
    expected.state.last_checked = Some(many.at);
    assert_eq!(
        store.get(&a_key).await.unwrap().unwrap(),
        expected,
        "record_access_many must write the access state"
    );
    let six = store.get(&aaaa_key).await.unwrap().unwrap().state;
    assert_eq!(
        (six.last_accessed, six.last_checked),
        (Some(many.source), Some(many.at))
    );
    assert_eq!(
        store.get(&ghost).await.unwrap(),
        None,
        "record_access_many must not create records"
    );

    // update_config replaces the configuration and keeps the state.
    let new_config = RecordConfig::new(SharedSecret::new("rotated"))
        .with_read_privilege(true)
        .with_allow_internal(false);
    store
        .update_config(&a_key, &new_config)
        .await
        .expect("update_config");
    let updated = store.get(&a_key).await.unwrap().unwrap();
    assert_eq!(
        updated.config, new_config,
        "update_config must replace the whole configuration"
    );
    assert_eq!(
        updated.state, expected.state,
        "update_config must keep the state"
    );
    assert!(
        matches!(
            store.update_config(&ghost, &new_config).await,
            Err(Error::NotFound { .. })
        ),
        "update_config of a missing record must be NotFound"
    );
    assert_eq!(
        store.get(&ghost).await.unwrap(),
        None,
        "update_config must not create records"
    );

    // State write-backs racing each other lose nothing.
    for round in 0..10u8 {
        let access = AccessUpdate {
            source: IpAddr::from([198, 51, 100, round]),
            at: Timestamp::from_unix_micros(1_800_000_000_000_000 + i64::from(round)),
        };
        let change = ChangeUpdate::address(
            store.get(&aaaa_key).await.unwrap().unwrap().state.address(),
            IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0x113, u16::from(round)]),
            Timestamp::from_unix_micros(1_900_000_000_000_000 + i64::from(round)),
        );
        let (x, y) = tokio::join!(
            store.record_access(&aaaa_key, access),
            store.record_change(&aaaa_key, change.clone())
        );
        x.expect("concurrent record_access");
        assert!(
            y.expect("concurrent record_change"),
            "the change was written"
        );
        let state = store.get(&aaaa_key).await.unwrap().unwrap().state;
        assert_eq!(
            state.last_accessed,
            Some(access.source),
            "a concurrent record_change lost an access write"
        );
        assert_eq!(
            state.values, change.values,
            "a concurrent record_access lost a change write"
        );
    }

    // The discovery group: same secret and read_privilege, both types,
    // across more records than one page.
    let group_secret = SharedSecret::new(format!("group-{base}"));
    let mut expected_group = BTreeSet::new();
    for i in 0..GROUP_SIZE {
        let record_type = if i % 2 == 0 {
            RecordType::A
        } else {
            RecordType::Aaaa
        };
        let key = RecordKey::new(name(&base, &format!("member{i}")), record_type);
        let mut config = RecordConfig::new(group_secret.clone()).with_read_privilege(true);
        if i % 3 != 0 {
            config =
                config.with_mac_address(format!("02:00:00:00:{:02X}:{:02X}", i / 256, i % 256));
        }
        store
            .create(&Record::new(key.clone(), config.clone()))
            .await
            .expect("create group member");
        created.push(key.clone());
        expected_group.insert(GroupMember {
            key,
            mac_address: config.mac_address,
        });
    }
    // Same secret without read privilege, and read privilege with another secret.
    for (label, config) in [
        ("outsider-noread", RecordConfig::new(group_secret.clone())),
        (
            "outsider-other",
            RecordConfig::new(SharedSecret::new("other-group")).with_read_privilege(true),
        ),
    ] {
        let key = RecordKey::new(name(&base, label), RecordType::A);
        store
            .create(&Record::new(key.clone(), config))
            .await
            .expect("create outsider");
        created.push(key);
    }
    let group: Vec<GroupMember> = store
        .discovery_group(&group_secret)
        .await
        .expect("discovery_group");
    let got: BTreeSet<GroupMember> = group.iter().cloned().collect();
    assert_eq!(
        got.len(),
        group.len(),
        "discovery_group returned a member twice"
    );
    assert_eq!(
        got, expected_group,
        "discovery_group must return exactly the records with the secret and read_privilege"
    );
    assert!(
        store
            .discovery_group(&SharedSecret::new(format!("none-{base}")))
            .await
            .unwrap()
            .is_empty(),
        "an unknown secret has an empty group"
    );

    // Listing returns every record once, page by page.
    let (pages, all) = walk_pages(store).await;
    if let Some(size) = page_size {
        let ours = created.len();
        assert!(
            pages.iter().all(|&n| n <= size),
            "a page holds more than the store's page size {size}: {pages:?}"
        );
        assert!(
            pages.len() >= ours.div_ceil(size),
            "{ours} records in pages of {size} need at least {} pages, got {}",
            ours.div_ceil(size),
            pages.len()
        );
    }
    let listed: Vec<RecordKey> = all
        .into_iter()
        .map(|r| r.key)
        .filter(|k| k.name().as_str().ends_with(&format!("{base}.")))
        .collect();
    let listed_set: BTreeSet<&RecordKey> = listed.iter().collect();
    assert_eq!(
        listed_set.len(),
        listed.len(),
        "list_page returned a record twice"
    );
    let created_set: BTreeSet<&RecordKey> = created.iter().collect();
    assert_eq!(listed_set, created_set, "listing must return every record");

    // delete removes, and a second delete is NotFound.
    follower_checks(store, &base, &mut created).await;

    for key in &created {
        store.delete(key).await.expect("delete an existing record");
    }
    assert_eq!(
        store.get(&a_key).await.unwrap(),
        None,
        "a deleted record must be gone"
    );
    assert!(
        matches!(store.delete(&a_key).await, Err(Error::NotFound { .. })),
        "delete of a missing record must be NotFound"
    );
    assert!(
        store
            .discovery_group(&group_secret)
            .await
            .unwrap()
            .is_empty(),
        "deleted records must leave their group"
    );
}

/// Prefix followers: the setting round-trips through create and
/// `update_config`, and `followers` finds exactly the AAAA records that
/// name the source.
async fn follower_checks(store: &dyn RecordStore, base: &str, created: &mut Vec<RecordKey>) {
    use crate::domain::prefix::PrefixFollow;
    let router = name(base, "router");
    let other_router = name(base, "other-router");
    let follow = |from: &Hostname, id: &str| {
        PrefixFollow::new(from.clone(), id.parse().expect("a valid interface id"))
    };
    let mut expected = Vec::new();
    for (label, from) in [("nas", &router), ("cam", &router), ("tv", &other_router)] {
        let key = RecordKey::new(name(base, label), RecordType::Aaaa);
        let config = RecordConfig::new(SharedSecret::new(label)).with_follow(follow(from, "::2:1"));
        let record = Record::new(key.clone(), config);
        store.create(&record).await.expect("create a follower");
        created.push(key.clone());
        assert_eq!(
            store.get(&key).await.expect("get").as_ref(),
            Some(&record),
            "a follower must read back with its prefix source and interface id"
        );
        if from == &router {
            expected.push(record);
        }
    }
    let sorted = |mut records: Vec<Record>| {
        records.sort_by(|a, b| a.key.cmp(&b.key));
        records
    };
    assert_eq!(
        sorted(store.followers(&router).await.expect("followers")),
        sorted(expected.clone()),
        "followers must return exactly the AAAA records that name the source"
    );
    // update_config moves a follower to another source, and clears it.
    let moved = expected[0].key.clone();
    let config =
        RecordConfig::new(SharedSecret::new("nas")).with_follow(follow(&other_router, "::9"));
    store
        .update_config(&moved, &config)
        .await
        .expect("update_config of a follower");
    let read = store.get(&moved).await.expect("get").expect("exists");
    assert_eq!(
        read.config.follow, config.follow,
        "update_config must write the follow setting"
    );
    assert_eq!(
        store.followers(&router).await.expect("followers").len(),
        1,
        "a follower moved to another source must leave the first one's followers"
    );
    store
        .update_config(&moved, &RecordConfig::new(SharedSecret::new("nas")))
        .await
        .expect("update_config clearing the follow setting");
    assert_eq!(
        store
            .followers(&other_router)
            .await
            .expect("followers")
            .len(),
        1,
        "a cleared follow setting must leave the followers"
    );
}

/// Runs the [`DnsProvider`] contract checks against `provider`, creating
/// names under a random label below `zone` (which the provider must serve).
///
/// # Panics
///
/// On the first broken contract, with a message saying which.
pub async fn provider(provider: &dyn DnsProvider, zone: &Hostname) {
    let base = format!("{}.{}", random_label(), zone.without_trailing_dot());
    let max = provider.max_batch_size();
    assert!(max >= 1, "max_batch_size must be at least 1");

    // A name that does not exist has no values.
    let host = name(&base, "host");
    assert_eq!(
        provider
            .current(&RecordKey::new(host.clone(), RecordType::A))
            .await
            .expect("current of a missing name"),
        Vec::<RecordValue>::new(),
        "current must be empty for a missing name"
    );

    // An upsert creates; a second replaces, leaving exactly one value.
    for value in ["198.51.100.1", "198.51.100.2"] {
        let results = provider
            .apply(&[DnsChange::upsert(host.clone(), 60, ip(value))])
            .await;
        assert_eq!(results.len(), 1, "apply must return one result per change");
        results[0].as_ref().expect("upsert in the zone");
        assert_eq!(
            provider
                .current(&RecordKey::new(host.clone(), RecordType::A))
                .await
                .unwrap(),
            [ip(value)],
            "after an upsert the record must hold exactly the new value"
        );
    }

    // AAAA lives beside A.
    let results = provider
        .apply(&[DnsChange::upsert(host.clone(), 120, ip("2001:db8::7"))])
        .await;
    results[0].as_ref().expect("AAAA upsert");
    assert_eq!(
        provider
            .current(&RecordKey::new(host.clone(), RecordType::Aaaa))
            .await
            .unwrap(),
        [ip("2001:db8::7")]
    );
    assert_eq!(
        provider
            .current(&RecordKey::new(host.clone(), RecordType::A))
            .await
            .unwrap(),
        [ip("198.51.100.2")],
        "an AAAA change must not touch A"
    );

    // A TXT RRset with two values at an underscore name, one of them with
    // quotes and a backslash and one longer than a single string, beside
    // the name's A; replaced by one value; then deleted.
    let challenge = RecordKey::txt(
        crate::domain::hostname::RecordName::parse(&format!("_acme-challenge.{}", host.as_str()))
            .unwrap(),
    );
    let long = format!("v={}", "x".repeat(300));
    let two = txt_values(&[
        "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0",
        r#"a "quoted" \ value"#,
    ]);
    let mut with_long = two.clone();
    with_long[1] = txt_values(&[&long])[0].clone();
    for values in [two, with_long] {
        let results = provider
            .apply(&[DnsChange::upsert_set(challenge.clone(), 60, values.clone()).unwrap()])
            .await;
        results[0].as_ref().expect("TXT upsert with two values");
        assert_eq!(
            sorted(provider.current(&challenge).await.unwrap()),
            sorted(values),
            "a TXT RRset must hold exactly its values, each string as sent"
        );
    }
    let one = txt_values(&["only"]);
    let results = provider
        .apply(&[DnsChange::upsert_set(challenge.clone(), 60, one.clone()).unwrap()])
        .await;
    results[0].as_ref().expect("TXT upsert with one value");
    assert_eq!(provider.current(&challenge).await.unwrap(), one);
    let results = provider
        .apply(&[DnsChange::delete(challenge.clone())])
        .await;
    results[0].as_ref().expect("delete a TXT RRset");
    assert_eq!(
        provider.current(&challenge).await.unwrap(),
        Vec::<RecordValue>::new(),
        "a deleted TXT RRset must be gone"
    );
    assert_eq!(
        provider
            .current(&RecordKey::new(host.clone(), RecordType::A))
            .await
            .unwrap(),
        [ip("198.51.100.2")],
        "TXT changes must not touch the A of the parent name"
    );

    // A batch larger than one backend call lands completely, in order.
    let count = (max + 1).min(1001);
    let changes: Vec<DnsChange> = (0..count)
        .map(|i| {
            let value = if i % 2 == 0 {
                IpAddr::from([203, 0, 113, u8::try_from(i % 250).unwrap_or(0) + 1])
            } else {
                ip(&format!("2001:db8::{:x}", i + 1))
            };
            DnsChange::upsert(name(&base, &format!("batch{i}")), 60, value)
        })
        .collect();
    let results = provider.apply(&changes).await;
    assert_eq!(
        results.len(),
        changes.len(),
        "apply must return one result per change"
    );
    for (change, result) in changes.iter().zip(&results) {
        assert!(result.is_ok(), "change {} failed: {result:?}", change.key());
    }
    for change in &changes {
        assert_eq!(
            provider.current(change.key()).await.unwrap(),
            change.values(),
            "{} must hold the batched value",
            change.key()
        );
    }

    // current_many answers every key in order, a missing one as empty.
    let missing = name(&base, "nobody");
    let keys = [
        RecordKey::new(host.clone(), RecordType::Aaaa),
        RecordKey::new(missing.clone(), RecordType::A),
        RecordKey::new(host.clone(), RecordType::A),
        changes[0].key().clone(),
    ];
    let answers: Vec<Vec<RecordValue>> = provider
        .current_many(&keys)
        .await
        .into_iter()
        .map(|r| r.expect("current_many"))
        .collect();
    assert_eq!(
        answers,
        [
            vec![RecordValue::from(ip("2001:db8::7"))],
            vec![],
            vec![RecordValue::from(ip("198.51.100.2"))],
            changes[0].values().to_vec()
        ],
        "current_many must answer each key in the order asked"
    );

    // A batch mixing changes that can and cannot apply: each gets its own
    // result, and the good ones land.
    let outside_name = Hostname::parse(&format!(
        "{}.not-{}",
        random_label(),
        zone.without_trailing_dot()
    ))
    .expect("outside name");
    let mixed = [
        DnsChange::upsert(name(&base, "mixed0"), 60, ip("203.0.113.10")),
        DnsChange::upsert(outside_name, 60, ip("203.0.113.11")),
        DnsChange::upsert(name(&base, "mixed2"), 60, ip("2001:db8::12")),
    ];
    let results = provider.apply(&mixed).await;
    assert_eq!(results.len(), 3, "one result per change of a mixed batch");
    assert!(
        results[0].is_ok() && results[1].is_err() && results[2].is_ok(),
        "in a mixed batch only the change outside the zone fails: {results:?}"
    );
    for change in [&mixed[0], &mixed[2]] {
        assert_eq!(
            provider.current(change.key()).await.unwrap(),
            change.values(),
            "the good changes of a mixed batch must land"
        );
    }

    // One record twice in a batch (callers split such batches): either the
    // whole batch is refused as invalid and nothing changes, or the
    // changes apply in order and the later one wins; never a success that
    // leaves the earlier value.
    let twice = name(&base, "twice");
    let duplicate = [
        DnsChange::upsert(twice.clone(), 60, ip("198.51.100.21")),
        DnsChange::upsert(twice.clone(), 60, ip("198.51.100.22")),
    ];
    let results = provider.apply(&duplicate).await;
    assert_eq!(results.len(), 2);
    let held = provider
        .current(&RecordKey::new(twice.clone(), RecordType::A))
        .await
        .unwrap();
    match (&results[0], &results[1]) {
        (Ok(()), Ok(())) => assert_eq!(
            held,
            [ip("198.51.100.22")],
            "a batch with a record twice that succeeds must leave the later value"
        ),
        (Err(Error::InvalidInput { .. }), Err(Error::InvalidInput { .. })) => assert!(
            held.is_empty(),
            "a refused batch must change nothing, the record holds {held:?}"
        ),
        other => panic!("a batch with one record twice gave {other:?}"),
    }

    // A name outside the zone is an error, not a silent success.
    let outside = Hostname::parse(&format!(
        "{}.not-{}",
        random_label(),
        zone.without_trailing_dot()
    ))
    .expect("outside name");
    let results = provider
        .apply(&[DnsChange::upsert(outside, 60, ip("198.51.100.3"))])
        .await;
    assert_eq!(results.len(), 1);
    assert!(results[0].is_err(), "a change outside the zone must fail");

    // An empty batch is fine and does nothing.
    assert!(
        provider.apply(&[]).await.is_empty(),
        "an empty batch gives no results"
    );

    // A deletion removes its RRset only: the AAAA of a name goes, its A
    // stays; deleting what is not there succeeds; a batch may mix
    // deletions and upserts.
    let aaaa = RecordKey::new(host.clone(), RecordType::Aaaa);
    let results = provider.apply(&[DnsChange::delete(aaaa.clone())]).await;
    results[0].as_ref().expect("delete an RRset");
    assert_eq!(
        provider
            .current(&RecordKey::new(host.clone(), RecordType::Aaaa))
            .await
            .unwrap(),
        Vec::<RecordValue>::new(),
        "a deleted RRset must be gone"
    );
    assert_eq!(
        provider
            .current(&RecordKey::new(host.clone(), RecordType::A))
            .await
            .unwrap(),
        [ip("198.51.100.2")],
        "deleting AAAA must not touch A"
    );
    let results = provider
        .apply(&[
            DnsChange::delete(aaaa.clone()),
            DnsChange::delete(RecordKey::new(name(&base, "never"), RecordType::A)),
            DnsChange::upsert(name(&base, "after-delete"), 60, ip("198.51.100.30")),
        ])
        .await;
    assert!(
        results.iter().all(Result::is_ok),
        "deleting what is not there succeeds, beside an upsert: {results:?}"
    );
    assert_eq!(
        provider
            .current(&RecordKey::new(name(&base, "after-delete"), RecordType::A))
            .await
            .unwrap(),
        [ip("198.51.100.30")]
    );

    // The suite removes everything it created, and it is gone.
    let mut made: Vec<RecordKey> = vec![
        RecordKey::new(host.clone(), RecordType::A),
        RecordKey::new(name(&base, "after-delete"), RecordType::A),
        RecordKey::new(name(&base, "mixed0"), RecordType::A),
        RecordKey::new(name(&base, "mixed2"), RecordType::Aaaa),
        RecordKey::new(twice.clone(), RecordType::A),
    ];
    made.extend(changes.iter().map(|c| c.key().clone()));
    let removals: Vec<DnsChange> = made.iter().cloned().map(DnsChange::delete).collect();
    let results = provider.apply(&removals).await;
    assert!(
        results.iter().all(Result::is_ok),
        "cleaning up must succeed: {:?}",
        results.iter().find(|r| r.is_err())
    );
    let left = provider.current_many(&made).await;
    for (key, values) in made.iter().zip(left) {
        assert_eq!(
            values.expect("current after cleanup"),
            Vec::<RecordValue>::new(),
            "{key} must be gone after the cleanup"
        );
    }
}

/// Two services, each over its own handle of one store (two servers on one
/// SQLite file or DynamoDB table) and one DNS whose calls take random time,
/// race on one record for `rounds` rounds. Checks what the service
/// documents across processes: of two concurrent sets exactly one takes
/// effect (the other is told [`crate::Failure::ConcurrentUpdate`]), store
/// and DNS agree right after the race, and after one more request from
/// each they hold the last request's address. Removes its record.
pub async fn shared_store(
    first: std::sync::Arc<dyn RecordStore>,
    second: std::sync::Arc<dyn RecordStore>,
    rounds: u8,
) {
    use std::sync::Arc;
    use std::time::Duration;

    use crate::adapters::memory::MemoryProvider;
    use crate::usecases::outcome::Failure;
    use crate::usecases::request::{Credential, SetRequest};
    use crate::usecases::service::DdnsService;

    let base = format!("{}.conformance.example", random_label());
    let key = RecordKey::new(name(&base, "raced"), RecordType::A);
    first
        .create(&Record::new(
            key.clone(),
            RecordConfig::new(SharedSecret::new("raced-secret")).with_allow_internal(true),
        ))
        .await
        .expect("create the raced record");
    let dns = Arc::new(MemoryProvider::new().with_latency(Duration::from_millis(2)));
    let services = [first.clone(), second]
        .map(|store| Arc::new(DdnsService::builder(store, dns.clone()).build()));
    let source = ip("198.51.100.7");
    let host = name(&base, "raced");
    let token =
        crate::domain::auth::HashToken::compute(source, &host, &SharedSecret::new("raced-secret"));
    let set = |service: Arc<DdnsService>, target: IpAddr| {
        let request = SetRequest::new(host.clone().into(), Credential::Token(token), source)
            .with_address(Some(target));
        async move { service.set(request).await }
    };
    let held = || async {
        let stored = first
            .get(&key)
            .await
            .expect("get")
            .expect("the raced record exists")
            .state
            .address();
        (stored, dns.rrset(&key).map(|r| r.addresses()))
    };
    for round in 0..rounds {
        let (a, b) = (
            IpAddr::from([10, 1, round, 1]),
            IpAddr::from([10, 2, round, 2]),
        );
        let (x, y) = tokio::join!(set(services[0].clone(), a), set(services[1].clone(), b));
        let winner = match (&x, &y) {
            (Err(Failure::ConcurrentUpdate { .. }), Ok(_)) => b,
            (Ok(_), Err(Failure::ConcurrentUpdate { .. })) => a,
            // Not concurrent after all: the one answered last stays.
            (Ok(_), Ok(_)) => held().await.0.expect("an address is stored"),
            other => panic!("round {round}: unexpected outcomes {other:?}"),
        };
        assert_eq!(
            held().await,
            (Some(winner), Some(vec![winner])),
            "round {round}: store and DNS must agree right after a race"
        );
        // One more request each, as each client's next poll.
        set(services[0].clone(), a)
            .await
            .expect("the follow-up set");
        set(services[1].clone(), b)
            .await
            .expect("the follow-up set");
        assert_eq!(
            held().await,
            (Some(b), Some(vec![b])),
            "round {round}: after one more request each, both hold the last one's address"
        );
    }
    first.delete(&key).await.expect("remove the raced record");
}
