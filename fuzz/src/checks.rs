//! The properties the fuzz targets check, one function per target. Each
//! takes arbitrary bytes and panics when a property fails, which is what
//! both libFuzzer and a test want.
//!
//! This file is also compiled into `ddns-core/tests/fuzz_regressions.rs`
//! (by path), so it uses only `ddns-core` and `tokio`.

use std::cell::RefCell;
use std::net::IpAddr;
use std::sync::Arc;

use ddns_core::memory::{MemoryProvider, MemoryStore};
use ddns_core::protocols::HttpResponse;
use ddns_core::protocols::dyndns2::{Dyndns2Api, Dyndns2Params, Dyndns2Request};
use ddns_core::protocols::seed::{ApiKeys, SeedApi, SeedHttpRequest, SeedParams};
use ddns_core::signed::SignedMessage;
use ddns_core::{
    DdnsService, Hostname, MAX_TXT_STRING, MAX_TXT_TEXT, Record, RecordConfig, RecordKey,
    RecordName, RecordType, SharedSecret, TxtValue,
};

/// The secret of the fixture's records.
pub const SECRET: &str = "0123456789abcdef0123456789abcdef";

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

/// Runs `future` on this thread's runtime (built once).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    RUNTIME.with(|cell| {
        let mut slot = cell.borrow_mut();
        let runtime = slot.get_or_insert_with(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a current-thread runtime")
        });
        runtime.block_on(future)
    })
}

/// A service over fresh in-memory adapters with `home.example.com` (A and
/// AAAA, internal addresses allowed, in a discovery group) and a locked
/// `locked.example.com`.
fn follower(interface_id: &str) -> RecordConfig {
    let router = Hostname::parse("home.example.com").expect("fixture name");
    let id = interface_id.parse().expect("fixture interface id");
    RecordConfig::new(SharedSecret::new("a follower's own secret"))
        .with_follow(ddns_core::prefix::PrefixFollow::new(router, id))
}

fn service() -> Arc<DdnsService> {
    let record = |host: &str, t, config: RecordConfig| {
        let key = RecordKey::new(Hostname::parse(host).expect("fixture name"), t);
        Record::new(key, config)
    };
    let open = RecordConfig::new(SharedSecret::new(SECRET))
        .with_allow_internal(true)
        .with_read_privilege(true);
    let store = MemoryStore::with_records([
        record("home.example.com", RecordType::A, open.clone()),
        record("home.example.com", RecordType::Aaaa, open),
        record(
            "locked.example.com",
            RecordType::A,
            RecordConfig::new(SharedSecret::new(SECRET)).with_lock(true),
        ),
        // Followers of home.example.com's prefix: one that fits a /64,
        // one that does not.
        record("nas.example.com", RecordType::Aaaa, follower("::2")),
        record(
            "wide.example.com",
            RecordType::Aaaa,
            follower("::1:0:0:0:2"),
        ),
    ]);
    Arc::new(DdnsService::builder(Arc::new(store), Arc::new(MemoryProvider::new())).build())
}

fn source(selector: u8) -> IpAddr {
    if selector.is_multiple_of(2) {
        IpAddr::from([198, 51, 100, 7])
    } else {
        IpAddr::from([0x2001, 0xdb8, 1, 0, 0, 0, 0, 7])
    }
}

/// The seed codec on any query string: never a panic, always one of the
/// protocol's two JSON shapes (or API Gateway's 403), in ASCII.
pub fn seed(data: &[u8]) {
    let (selector, rest) = data.split_first().unwrap_or((&0, &[]));
    let query = String::from_utf8_lossy(rest);
    let api_key = (selector & 2 != 0).then_some("key");
    let keys = if selector & 4 != 0 {
        ApiKeys::new(["key"])
    } else {
        ApiKeys::none()
    };
    let api = SeedApi::new(service(), keys);
    let response = block_on(
        api.handle(
            SeedHttpRequest::new(SeedParams::from_query(&query), source(*selector))
                .with_api_key(api_key),
        ),
    );
    assert_seed_shape(&response);
}

fn assert_seed_shape(r: &HttpResponse) {
    if r.status == 403 {
        assert_eq!(r.body, r#"{"message":"Forbidden"}"#);
        return;
    }
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.is_ascii(), "non-ASCII body: {:?}", r.body);
    assert!(r.body.starts_with(r#"{"return_message": "#), "{:?}", r.body);
    let success = r.body.ends_with(r#", "return_status": "success"}"#);
    let fail = r.body.ends_with(r#", "return_status": "fail"}"#);
    assert!(success || fail, "{:?}", r.body);
    assert_eq!(
        r.body.matches(r#""return_status""#).count(),
        1,
        "an injected key: {:?}",
        r.body
    );
}

/// The words a dyndns2 answer line may start with.
const DYNDNS2_WORDS: [&str; 8] = [
    "good", "nochg", "nohost", "notfqdn", "numhost", "abuse", "dnserr", "911",
];

/// The dyndns2 codec on any query and `Authorization` header (the input's
/// first line and the rest): never a panic; `badauth` only as a 401; else
/// one known line per host name (a single one for `notfqdn` and `numhost`).
pub fn dyndns2(data: &[u8]) {
    let (selector, rest) = data.split_first().unwrap_or((&0, &[]));
    let text = String::from_utf8_lossy(rest);
    let (query, authorization) = text.split_once('\n').unwrap_or((&text, ""));
    let api = Dyndns2Api::new(service());
    let response = block_on(
        api.handle(
            Dyndns2Request::new(Dyndns2Params::from_query(query), source(*selector))
                .with_authorization((!authorization.is_empty()).then_some(authorization)),
        ),
    );
    if response.status == 401 {
        assert_eq!(response.body.trim_end(), "badauth");
        return;
    }
    if response.status == 400 {
        // A prefix the rules refuse: one line, no word of success.
        let body = response.body.trim_end();
        assert!(
            body.starts_with("badprefix ") && !body.contains('\n'),
            "{response:?}"
        );
        for word in ["ok", "good", "true", "updated", "nochg"] {
            assert!(!body.contains(word), "{response:?}");
        }
        return;
    }
    assert_eq!(response.status, 200, "{response:?}");
    let lines: Vec<&str> = response.body.lines().collect();
    assert!(!lines.is_empty() && lines.len() <= 20, "{response:?}");
    for line in lines {
        let word = line.split(' ').next().unwrap_or_default();
        assert!(DYNDNS2_WORDS.contains(&word), "unknown line {line:?}");
    }
}

/// Host name parsing on any text: never a panic, and what it accepts is
/// canonical (lower case, trailing dot, within the length limits) and
/// parses back to itself.
pub fn hostname(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(name) = Hostname::parse(text) else {
        return;
    };
    let s = name.as_str();
    assert!(s.ends_with('.'), "{s:?}");
    assert!(s.len() <= 254, "{s:?} is longer than 253 characters");
    assert!(
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'),
        "{s:?}"
    );
    assert!(
        s.trim_end_matches('.')
            .split('.')
            .all(|label| (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')),
        "{s:?}"
    );
    assert_eq!(Hostname::parse(s).as_ref(), Ok(&name), "not idempotent");
    assert!(text.eq_ignore_ascii_case(s) || text.eq_ignore_ascii_case(s.trim_end_matches('.')));
}

/// TXT values and owner names on any text: never a panic; a value that
/// parses is within the limits and prints back to a text that parses to it;
/// a record name that parses keeps the name rules and reads back the same.
pub fn txt_value(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(value) = text.parse::<TxtValue>() {
        assert!(
            value.strings().all(|s| s.len() <= MAX_TXT_STRING),
            "{value}"
        );
        assert!(value.text().len() <= MAX_TXT_TEXT, "{value}");
        assert!(
            value.text().chars().all(|c| (' '..='~').contains(&c)),
            "{value}"
        );
        let shown = value.to_string();
        assert_eq!(shown.parse::<TxtValue>().as_ref(), Ok(&value), "{shown}");
    }
    if let Ok(value) = TxtValue::new(text) {
        assert_eq!(value.text(), text);
    }
    if let Ok(name) = RecordName::parse(text) {
        assert!(name.as_str().ends_with('.'));
        assert_eq!(RecordName::parse(name.as_str()).as_ref(), Ok(&name));
        if let Some(host) = name.as_hostname() {
            assert_eq!(Hostname::parse(name.as_str()), Ok(host));
        }
    }
}

/// Signed messages: whatever reads as a canonical message is exactly that
/// message's encoding (so no two messages share bytes).
pub fn signed(data: &[u8]) {
    if let Ok(message) = SignedMessage::from_canonical(data) {
        assert_eq!(message.canonical(), data);
    }
}
