//! Every dyndns2 return code, and dual-stack updates in both orders,
//! through the codec and the service over the in-memory adapters.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::*;
use ddns_core::memory::MemoryProvider;
use ddns_core::mock::MockRecordStore;
use ddns_core::protocols::HttpResponse;
use ddns_core::protocols::dyndns2::{Dyndns2Api, Dyndns2Params, Dyndns2Request};
use ddns_core::{
    DdnsService, Hostname, Record, RecordConfig, RecordStore, RecordType, SharedSecret,
};

async fn update(api: &Dyndns2Api, query: &str, auth: Option<&str>, source: &str) -> HttpResponse {
    api.handle(
        Dyndns2Request::new(Dyndns2Params::from_query(query), ip(source)).with_authorization(auth),
    )
    .await
}

fn fixture() -> (Fixture, Dyndns2Api) {
    let f = Fixture::with_records([
        Record::new(key(HOST, RecordType::A), config().with_allow_internal(true)),
        Record::new(
            key(HOST, RecordType::Aaaa),
            config().with_allow_internal(true),
        ),
        Record::new(key("v4only.example.com", RecordType::A), config()),
        Record::new(
            key("locked.example.com", RecordType::A),
            config().with_lock(true),
        ),
        Record::new(
            key("other.example.com", RecordType::A),
            RecordConfig::new(SharedSecret::new("another secret")),
        ),
    ]);
    let api = Dyndns2Api::new(f.service.clone());
    (f, api)
}

/// A `hostname=` naming 21 hosts: one more than an update may name.
fn over_twenty_names() -> String {
    let names: Vec<String> = (0..21).map(|i| format!("h{i}.example.com")).collect();
    format!("hostname={}", names.join(","))
}

/// An API over a store whose every read fails as a locked database does.
fn api_over_a_failing_store() -> Dyndns2Api {
    let mut store = MockRecordStore::new();
    store
        .expect_get()
        .returning(|_| Err(ddns_core::Error::unavailable("database is locked", true)));
    let service = DdnsService::builder(Arc::new(store), Arc::new(MemoryProvider::new())).build();
    Dyndns2Api::new(Arc::new(service))
}

#[tokio::test]
async fn good_then_nochg() {
    let (f, api) = fixture();
    let auth = basic(HOST, SECRET);
    let r = update(
        &api,
        &format!("hostname={HOST}&myip=198.51.100.7"),
        Some(&auth),
        PUBLIC_V4,
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (200, "good 198.51.100.7\n"));
    assert!(r.content_type.starts_with("text/plain"));
    assert_eq!(
        f.dns.rrset(&key(HOST, RecordType::A)).unwrap().values,
        [ip("198.51.100.7")]
    );
    let r = update(
        &api,
        &format!("hostname={HOST}&myip=198.51.100.7"),
        Some(&auth),
        PUBLIC_V4,
    )
    .await;
    assert_eq!(r.body, "nochg 198.51.100.7\n");
    // Without myip: the source address.
    let r = update(
        &api,
        &format!("hostname={HOST}"),
        Some(&auth),
        "198.51.100.9",
    )
    .await;
    assert_eq!(r.body, "good 198.51.100.9\n");
    // An unparseable myip is ignored, as dyndns2 says.
    let r = update(
        &api,
        &format!("hostname={HOST}&myip=garbage"),
        Some(&auth),
        "198.51.100.9",
    )
    .await;
    assert_eq!(r.body, "nochg 198.51.100.9\n");
}

#[tokio::test]
async fn dual_stack_in_both_orders() {
    let (f, api) = fixture();
    let auth = basic(HOST, SECRET);
    for (myip, v4, v6) in [
        ("198.51.100.7,2001:db8::7", "198.51.100.7", "2001:db8::7"),
        ("2001:db8::8,198.51.100.8", "198.51.100.8", "2001:db8::8"),
    ] {
        let r = update(
            &api,
            &format!("hostname={HOST}&myip={myip}"),
            Some(&auth),
            PUBLIC_V4,
        )
        .await;
        assert_eq!(r.body, format!("good {v4} {v6}\n"), "myip={myip}");
        assert_eq!(
            f.dns.rrset(&key(HOST, RecordType::A)).unwrap().values,
            [ip(v4)]
        );
        assert_eq!(
            f.dns.rrset(&key(HOST, RecordType::Aaaa)).unwrap().values,
            [ip(v6)]
        );
    }
    // myipv6 carries IPv6 too.
    let r = update(
        &api,
        &format!("hostname={HOST}&myip=198.51.100.8&myipv6=2001:db8::9"),
        Some(&auth),
        PUBLIC_V4,
    )
    .await;
    assert_eq!(r.body, "good 198.51.100.8 2001:db8::9\n");
    // A host with only an A record: the IPv6 part is skipped.
    let auth = basic("v4only.example.com", SECRET);
    let r = update(
        &api,
        "hostname=v4only.example.com&myip=2001:db8::1,198.51.100.7",
        Some(&auth),
        "198.51.100.7",
    )
    .await;
    assert_eq!(r.body, "good 198.51.100.7\n");
}

#[tokio::test]
async fn one_line_per_host_in_order() {
    let (_f, api) = fixture();
    let auth = basic(HOST, SECRET);
    let query = format!(
        "hostname={HOST},nobody.example.com,bad_name.example.com,locked.example.com,other.example.com,com&myip=198.51.100.7"
    );
    let r = update(&api, &query, Some(&auth), PUBLIC_V4).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        "good 198.51.100.7\nnohost\nnotfqdn\nabuse\nnohost\nnotfqdn\n"
    );
}

#[tokio::test]
async fn policy_refusals_are_abuse() {
    let (_f, api) = fixture();
    // allow_internal false: never an internal address, and never one that
    // is not unicast (nor one that embeds such an IPv4 address).
    let auth = basic("v4only.example.com", SECRET);
    for myip in ["192.168.1.5", "224.0.0.1", "::ffff:10.0.0.1"] {
        let r = update(
            &api,
            &format!("hostname=v4only.example.com&myip={myip}"),
            Some(&auth),
            PUBLIC_V4,
        )
        .await;
        assert_eq!(r.body, "abuse\n", "{myip}");
    }
    // The password vouches for any public address, not only the source.
    let r = update(
        &api,
        "hostname=v4only.example.com&myip=198.51.100.99",
        Some(&auth),
        PUBLIC_V4,
    )
    .await;
    assert_eq!(r.body, "good 198.51.100.99\n");
}

#[tokio::test]
async fn numhost_over_twenty_names() {
    let (_f, api) = fixture();
    let auth = basic("h0.example.com", SECRET);
    let r = update(&api, &over_twenty_names(), Some(&auth), PUBLIC_V4).await;
    assert_eq!((r.status, r.body.as_str()), (200, "numhost\n"));
}

#[tokio::test]
async fn badauth_is_a_401_with_a_challenge() {
    let (f, api) = fixture();
    for auth in [
        None,
        Some("Bearer x".to_owned()),
        Some(basic(HOST, "wrong password")),
        Some(basic("someone-else.example.com", SECRET)),
    ] {
        let r = update(
            &api,
            &format!("hostname={HOST}&myip=198.51.100.7"),
            auth.as_deref(),
            PUBLIC_V4,
        )
        .await;
        assert_eq!((r.status, r.body.as_str()), (401, "badauth\n"), "{auth:?}");
        assert_eq!(
            r.headers,
            [("www-authenticate", r#"Basic realm="ddns""#.to_owned())]
        );
    }
    assert_eq!(f.dns.calls().batches, 0, "nothing changed");
    let state = f
        .store
        .get(&key(HOST, RecordType::A))
        .await
        .unwrap()
        .unwrap()
        .state;
    assert_eq!(
        state.last_checked, None,
        "nothing written for an unauthenticated request"
    );
}

#[tokio::test]
async fn dnserr_when_dns_fails_and_911_when_the_store_fails() {
    let (f, api) = fixture();
    f.dns.set_unavailable(true);
    let auth = basic(HOST, SECRET);
    let r = update(
        &api,
        &format!("hostname={HOST}&myip=198.51.100.7"),
        Some(&auth),
        PUBLIC_V4,
    )
    .await;
    assert_eq!(r.body, "dnserr\n");

    let api = api_over_a_failing_store();
    let r = update(
        &api,
        &format!("hostname={HOST}&myip=198.51.100.7"),
        Some(&auth),
        PUBLIC_V4,
    )
    .await;
    assert_eq!(r.body, "911\n");
}

#[tokio::test]
async fn user_name_may_be_any_requested_host_in_any_spelling() {
    let (_f, api) = fixture();
    let auth = basic("HOME.example.com.", SECRET);
    let r = update(
        &api,
        &format!("hostname=v4only.example.com,{HOST}&myip=198.51.100.7"),
        Some(&auth),
        "198.51.100.7",
    )
    .await;
    assert_eq!(r.body, "good 198.51.100.7\ngood 198.51.100.7\n");
    let _ = Hostname::parse(HOST).unwrap();
}

/// Words that update clients take for success wherever they appear in an
/// answer (inadyn matches substrings of the body, not the first word).
const INADYN_SUCCESS_WORDS: [&str; 5] = ["ok", "good", "true", "updated", "nochg"];

#[tokio::test]
async fn every_refusal_the_codec_writes_avoids_the_words_inadyn_reads_as_success() {
    let (f, api) = fixture();
    let auth = basic(HOST, SECRET);
    let mut answers = Vec::new();
    // nohost, notfqdn and abuse, one line each, after the line of the name
    // the password opens (a success, left out).
    let r = update(
        &api,
        &format!(
            "hostname={HOST},nobody.example.com,bad_name.example.com,locked.example.com,com\
             &myip=198.51.100.7"
        ),
        Some(&auth),
        PUBLIC_V4,
    )
    .await;
    let (first, refusals) = r.body.split_once('\n').unwrap();
    assert_eq!(first, "good 198.51.100.7");
    answers.push(refusals.to_owned());
    // abuse for an address a default record may not hold.
    let v4only = basic("v4only.example.com", SECRET);
    let r = update(
        &api,
        "hostname=v4only.example.com&myip=192.168.1.5",
        Some(&v4only),
        PUBLIC_V4,
    )
    .await;
    answers.push(r.body);
    // numhost.
    let r = update(&api, &over_twenty_names(), Some(&auth), PUBLIC_V4).await;
    answers.push(r.body);
    // badauth.
    let r = update(
        &api,
        &format!("hostname={HOST}"),
        Some(&basic(HOST, "wrong")),
        PUBLIC_V4,
    )
    .await;
    answers.push(r.body);
    // dnserr (a new address, so DNS must be written).
    f.dns.set_unavailable(true);
    let r = update(
        &api,
        &format!("hostname={HOST}&myip=198.51.100.8"),
        Some(&auth),
        PUBLIC_V4,
    )
    .await;
    answers.push(r.body);
    // 911.
    let r = update(
        &api_over_a_failing_store(),
        &format!("hostname={HOST}&myip=198.51.100.7"),
        Some(&auth),
        PUBLIC_V4,
    )
    .await;
    answers.push(r.body);

    let codes: Vec<&str> = answers
        .iter()
        .flat_map(|body| body.lines())
        .map(|line| line.split(' ').next().unwrap_or(line))
        .collect();
    assert_eq!(
        codes,
        [
            "nohost", "notfqdn", "abuse", "notfqdn", "abuse", "numhost", "badauth", "dnserr", "911"
        ],
        "every refusal code, as the codec wrote it"
    );
    for body in &answers {
        for word in INADYN_SUCCESS_WORDS {
            assert!(
                !body.contains(word),
                "the refusal {body:?} contains {word:?}, which inadyn reads as success"
            );
        }
    }
}
