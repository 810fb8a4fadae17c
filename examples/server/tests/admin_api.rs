//! The admin REST API through the real binary: tokens made with
//! `ddns-server admin-token create` (full, read-only, scoped to a
//! subdomain, expired), every route, the OpenAPI document against the
//! routes, pagination over 1,000 records, hostile input, and failed tokens
//! limited per source. Records are made with the defaults; the hosts'
//! clients send from public documentation addresses through the trusted
//! proxy, and DNS is read with `dig`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;

use common::{Reply, Spawned, admin, get, printed_token, request, server_command};
use serde_json::{Value, json};

use common::ADMIN_CONFIG as CONFIG;

/// A running server and a token of each kind.
struct Admin {
    _dir: tempfile::TempDir,
    server: Spawned,
    api: SocketAddr,
    full: String,
    viewer: String,
    lan: String,
    expired: String,
}

fn start() -> Option<Admin> {
    common::dig(&["-v"])?;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ddns.toml"), CONFIG).unwrap();
    let token = |args: &[&str]| {
        let mut all = vec!["--config", "ddns.toml", "admin-token", "create"];
        all.extend_from_slice(args);
        printed_token(&admin(dir.path(), &all))
    };
    let full = token(&["ops"]);
    let viewer = token(&["viewer", "--read-only"]);
    let lan = token(&["lan", "--under", "lan.example.com"]);
    let expired = token(&["old", "--expires-in", "0s"]);
    let mut command = server_command();
    command
        .current_dir(dir.path())
        .args(["--config", "ddns.toml"]);
    let server = Spawned::start(command);
    let api = server.admin.expect("an admin listener");
    Some(Admin {
        _dir: dir,
        server,
        api,
        full,
        viewer,
        lan,
        expired,
    })
}

impl Admin {
    /// `method path` with `token` and a JSON `body`.
    async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Reply {
        let bearer = format!("Bearer {token}");
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut headers = vec![("Authorization", bearer.as_str())];
        if !body.is_empty() {
            headers.push(("Content-Type", "application/json"));
        }
        request(self.api, method, path, &headers, body.as_bytes()).await
    }

    async fn json(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let reply = self.call(method, path, &self.full, body).await;
        (reply.status, parse(&reply))
    }

    /// The names (and types) of every record, read a page at a time.
    async fn all_records(&self, token: &str, limit: usize) -> Vec<(String, String)> {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let path = format!("/api/v1/records?limit={limit}&cursor={cursor}");
            let reply = self.call("GET", &path, token, None).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            let page = parse(&reply);
            let records = page["records"].as_array().unwrap();
            assert!(records.len() <= limit);
            for r in records {
                seen.push((
                    r["name"].as_str().unwrap().to_owned(),
                    r["type"].as_str().unwrap().to_owned(),
                ));
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => return seen,
            }
        }
    }

    fn dig(&self, name: &str, rtype: &str) -> String {
        let dns = self.server.dns.unwrap();
        common::dig(&[
            "@127.0.0.1",
            "-p",
            &dns.port().to_string(),
            "+short",
            name,
            rtype,
        ])
        .unwrap()
        .trim()
        .to_owned()
    }

    /// A seed API `set` for `host` from the public `source`, through the
    /// trusted proxy; the answer's status.
    async fn seed_set(&self, host: &str, secret: &str, source: &str) -> Reply {
        let hash = ddns_core::HashToken::compute_as_sent(
            source.parse().unwrap(),
            &ddns_core::SentName::parse(host),
            &ddns_core::SharedSecret::new(secret),
        )
        .to_hex();
        get(
            self.server.http,
            &format!("/?mode=set&hostname={host}&hash={hash}"),
            &[("X-Forwarded-For", source)],
        )
        .await
    }
}

fn parse(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", reply.status, reply.body))
}

/// A problem answer: its status, content type and detail.
fn problem(reply: &Reply) -> String {
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json"),
        "{} {}",
        reply.status,
        reply.body
    );
    let body = parse(reply);
    assert_eq!(body["status"].as_u64(), Some(u64::from(reply.status)));
    assert!(body["title"].is_string());
    body["detail"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_works_through_the_binary_and_matches_the_openapi_document() {
    let Some(a) = start() else { return };

    // The document served names exactly the routes, and each answers.
    let doc = get(a.api, "/api/v1/openapi.json", &[]).await;
    assert_eq!(doc.status, 200);
    let doc = parse(&doc);
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    let routes: BTreeSet<(String, String)> = ddns_server::admin_api::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, routes);
    for (method, path) in &routes {
        let concrete = path.replace("{name}", "absent.example.com");
        let reply = a.call(method, &concrete, &a.viewer, None).await;
        assert_ne!(reply.status, 405, "{method} {concrete}: {}", reply.body);
        if reply.status == 404 {
            assert!(
                !problem(&reply).contains("no such API path"),
                "{method} {concrete} is no route"
            );
        }
    }

    // Who each token is; the expired and missing ones are refused.
    let (status, me) = a.json("GET", "/api/v1/whoami", None).await;
    assert_eq!((status, me["name"].as_str()), (200, Some("ops")));
    let lan = parse(&a.call("GET", "/api/v1/whoami", &a.lan, None).await);
    assert_eq!(lan["under"].as_str(), Some("lan.example.com"));
    let expired = a.call("GET", "/api/v1/whoami", &a.expired, None).await;
    assert_eq!(expired.status, 401);
    assert!(problem(&expired).contains("expired"));
    let missing = get(a.api, "/api/v1/whoami", &[]).await;
    assert_eq!(missing.status, 401);
    assert!(
        missing
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    problem(&missing);

    // Add with the defaults: the secret once, never again.
    let (status, added) = a
        .json(
            "POST",
            "/api/v1/records",
            Some(json!({"name": "home.example.com", "comment": "the family router"})),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    let secret = added["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 32);
    assert_eq!(
        added["changed"],
        json!(["home.example.com. A", "home.example.com. AAAA"])
    );
    let shown = a
        .call("GET", "/api/v1/records/home.example.com", &a.full, None)
        .await;
    assert_eq!(shown.status, 200);
    assert!(
        !shown.body.contains(&secret),
        "a secret is never shown again"
    );
    let shown = parse(&shown);
    assert_eq!(shown["records"].as_array().unwrap().len(), 2);
    assert_eq!(shown["records"][0]["allow_internal"], json!(false));
    assert_eq!(shown["records"][0]["comment"], json!("the family router"));

    // The host's client sets its address; the API and DNS show it.
    let set = a
        .seed_set("home.example.com", &secret, "198.51.100.7")
        .await;
    assert!(set.body.contains("success"), "{}", set.body);
    let (_, shown) = a
        .json("GET", "/api/v1/records/home.example.com?type=A", None)
        .await;
    assert_eq!(shown["records"][0]["values"], json!(["198.51.100.7"]));
    assert!(
        shown["records"][0]["last_updated"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(a.dig("home.example.com", "A"), "198.51.100.7");

    // Update: a TTL, then back to the zone's; a comment cleared.
    let (status, _) = a
        .json(
            "PATCH",
            "/api/v1/records/home.example.com",
            Some(json!({"ttl": 30, "comment": null})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, shown) = a
        .json("GET", "/api/v1/records/home.example.com", None)
        .await;
    assert_eq!(shown["records"][0]["ttl"], json!(30));
    assert_eq!(shown["records"][0]["comment"], json!(null));
    a.json(
        "PATCH",
        "/api/v1/records/home.example.com",
        Some(json!({"ttl": null})),
    )
    .await;
    let (_, shown) = a
        .json("GET", "/api/v1/records/home.example.com", None)
        .await;
    assert_eq!(shown["records"][0]["ttl"], json!(null));

    // Lock: the client's next change is refused; unlock lets it in.
    let (status, _) = a
        .json("POST", "/api/v1/records/home.example.com/lock", None)
        .await;
    assert_eq!(status, 200);
    let refused = a
        .seed_set("home.example.com", &secret, "198.51.100.8")
        .await;
    assert!(refused.body.contains("fail"), "{}", refused.body);
    assert_eq!(a.dig("home.example.com", "A"), "198.51.100.7");
    a.json("POST", "/api/v1/records/home.example.com/unlock", None)
        .await;
    let (_, shown) = a
        .json("GET", "/api/v1/records/home.example.com", None)
        .await;
    assert_eq!(shown["records"][0]["locked"], json!(false));

    // Rotate: the old secret stops working, the new one works.
    let (status, rotated) = a
        .json(
            "POST",
            "/api/v1/records/home.example.com/rotate-secret",
            None,
        )
        .await;
    assert_eq!(status, 200);
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    let old = a
        .seed_set("home.example.com", &secret, "198.51.100.9")
        .await;
    assert!(old.body.contains("fail"), "{}", old.body);
    let new = a
        .seed_set("home.example.com", &new_secret, "198.51.100.9")
        .await;
    assert!(new.body.contains("success"), "{}", new.body);
    assert_eq!(a.dig("home.example.com", "A"), "198.51.100.9");

    // TXT values (an ACME challenge, by hand) reach DNS and leave it.
    let (status, _) = a
        .json(
            "PUT",
            "/api/v1/txt/_acme-challenge.home.example.com",
            Some(json!({"values": ["token-one", "token-two"], "ttl": 60})),
        )
        .await;
    assert_eq!(status, 200);
    let txt = a.dig("_acme-challenge.home.example.com", "TXT");
    assert!(
        txt.contains("\"token-one\"") && txt.contains("\"token-two\""),
        "{txt}"
    );
    let (status, _) = a
        .json(
            "DELETE",
            "/api/v1/txt/_acme-challenge.home.example.com",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(a.dig("_acme-challenge.home.example.com", "TXT"), "");

    // A host that follows the router's prefix (AAAA only).
    let (status, follower) = a
        .json(
            "POST",
            "/api/v1/records",
            Some(json!({"name": "nas.example.com", "prefix_from": "home.example.com", "interface_id": "::2"})),
        )
        .await;
    assert_eq!(status, 201, "{follower}");
    assert_eq!(follower["changed"], json!(["nas.example.com. AAAA"]));
    let (_, shown) = a.json("GET", "/api/v1/records/nas.example.com", None).await;
    assert_eq!(
        shown["records"][0]["prefix_from"],
        json!("home.example.com")
    );
    assert_eq!(shown["records"][0]["interface_id"], json!("::2"));
    let (status, _) = a
        .json(
            "PATCH",
            "/api/v1/records/nas.example.com",
            Some(json!({"types": ["AAAA"], "prefix_from": null})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, shown) = a.json("GET", "/api/v1/records/nas.example.com", None).await;
    assert_eq!(shown["records"][0]["prefix_from"], json!(null));

    // Remove: out of DNS and the store.
    let (status, removed) = a
        .json("DELETE", "/api/v1/records/home.example.com", None)
        .await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(a.dig("home.example.com", "A"), "");
    let gone = a
        .call("GET", "/api/v1/records/home.example.com", &a.full, None)
        .await;
    assert_eq!(gone.status, 404);
    problem(&gone);

    // Every change was logged with the token's name.
    let log = a.server.log().join("\n");
    for action in [
        "add",
        "update",
        "lock",
        "unlock",
        "rotate-secret",
        "txt-set",
        "remove",
    ] {
        let needle = format!("token=ops action=\"{action}\"");
        assert!(log.contains(&needle), "no {needle} in the log:\n{log}");
    }
    assert!(!log.contains(&new_secret), "a secret reached the log");
}

#[tokio::test(flavor = "multi_thread")]
async fn scopes_limit_what_a_token_reads_and_changes() {
    let Some(a) = start() else { return };
    for name in ["home.example.com", "nas.lan.example.com"] {
        let (status, body) = a
            .json("POST", "/api/v1/records", Some(json!({ "name": name })))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let before = a.all_records(&a.full, 1000).await;

    // Read-only: reads everything, changes nothing.
    assert_eq!(a.all_records(&a.viewer, 1000).await, before);
    for (method, path, body) in [
        (
            "POST",
            "/api/v1/records",
            Some(json!({"name": "x.example.com"})),
        ),
        (
            "PATCH",
            "/api/v1/records/home.example.com",
            Some(json!({"ttl": 5})),
        ),
        ("POST", "/api/v1/records/home.example.com/lock", None),
        (
            "POST",
            "/api/v1/records/home.example.com/rotate-secret",
            None,
        ),
        ("DELETE", "/api/v1/records/home.example.com", None),
        (
            "PUT",
            "/api/v1/txt/home.example.com",
            Some(json!({"values": ["x"]})),
        ),
    ] {
        let reply = a.call(method, path, &a.viewer, body).await;
        assert_eq!(reply.status, 403, "{method} {path}: {}", reply.body);
        assert!(problem(&reply).contains("read-only"));
    }

    // Scoped to lan.example.com: sees and changes only names under it.
    let seen = a.all_records(&a.lan, 1000).await;
    assert_eq!(
        seen,
        [
            ("nas.lan.example.com".to_owned(), "A".to_owned()),
            ("nas.lan.example.com".to_owned(), "AAAA".to_owned())
        ]
    );
    for (method, path, body) in [
        ("GET", "/api/v1/records/home.example.com", None),
        (
            "POST",
            "/api/v1/records",
            Some(json!({"name": "evil.example.com"})),
        ),
        (
            "POST",
            "/api/v1/records",
            Some(json!({"name": "evillan.example.com"})),
        ),
        (
            "PATCH",
            "/api/v1/records/home.example.com",
            Some(json!({"ttl": 5})),
        ),
        ("DELETE", "/api/v1/records/home.example.com", None),
        (
            "POST",
            "/api/v1/records/home.example.com/rotate-secret",
            None,
        ),
        (
            "PUT",
            "/api/v1/txt/_acme-challenge.home.example.com",
            Some(json!({"values": ["x"]})),
        ),
    ] {
        let reply = a.call(method, path, &a.lan, body).await;
        assert_eq!(reply.status, 403, "{method} {path}: {}", reply.body);
        assert!(problem(&reply).contains("lan.example.com"));
    }
    let reply = a
        .call(
            "POST",
            "/api/v1/records/nas.lan.example.com/lock",
            &a.lan,
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let after = a.all_records(&a.full, 1000).await;
    assert_eq!(after, before, "no refused call changed a record");
    let log = a.server.log().join("\n");
    assert!(log.contains("token=lan action=\"lock\""), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_cover_a_thousand_records_exactly_once() {
    let Some(a) = start() else { return };
    let a = std::sync::Arc::new(a);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let a = a.clone();
        tasks.spawn(async move {
            for i in (worker..1000).step_by(8) {
                let (status, body) = a
                    .json(
                        "POST",
                        "/api/v1/records",
                        Some(json!({"name": format!("host{i:04}.example.com"), "types": ["A"]})),
                    )
                    .await;
                assert_eq!(status, 201, "{body}");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let all = a.all_records(&a.full, 1000).await;
    for limit in [1000, 100, 333, 7] {
        let paged = a.all_records(&a.full, limit).await;
        assert_eq!(paged, all, "pages of {limit}");
    }
    let hosts: Vec<&(String, String)> = all.iter().filter(|(n, _)| n.starts_with("host")).collect();
    assert_eq!(hosts.len(), 1000);
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, all, "sorted, each once");
    let (_, first) = a.json("GET", "/api/v1/records?limit=10", None).await;
    assert_eq!(first["total"].as_u64(), Some(all.len() as u64));
    let (_, found) = a.json("GET", "/api/v1/records?q=HOST099", None).await;
    let names: Vec<&str> = found["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 10, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("host099")));
}

/// A hostile request: method, path, headers, body, the status expected
/// and words its detail must hold.
type Hostile<'a> = (
    &'a str,
    &'a str,
    Vec<(&'a str, &'a str)>,
    &'a [u8],
    u16,
    &'a str,
);

#[tokio::test(flavor = "multi_thread")]
async fn hostile_input_gets_clear_errors_and_changes_nothing() {
    let Some(a) = start() else { return };
    let (status, _) = a
        .json(
            "POST",
            "/api/v1/records",
            Some(json!({"name": "home.example.com"})),
        )
        .await;
    assert_eq!(status, 201);
    let before = a.all_records(&a.full, 1000).await;
    let bearer = format!("Bearer {}", a.full);
    let auth = ("Authorization", bearer.as_str());
    let json_type = ("Content-Type", "application/json");
    let huge = vec![b'{'; 200_000];
    let cases: Vec<Hostile<'_>> = vec![
        (
            "POST",
            "/api/v1/records",
            vec![auth, json_type],
            b"{\"name\": ",
            400,
            "not what this call takes",
        ),
        (
            "POST",
            "/api/v1/records",
            vec![auth, json_type],
            b"[1, 2]",
            400,
            "not what this call takes",
        ),
        (
            "POST",
            "/api/v1/records",
            vec![auth, json_type],
            b"{\"name\": 42}",
            400,
            "expected a string",
        ),
        (
            "POST",
            "/api/v1/records",
            vec![auth, json_type],
            b"{\"name\": \"x.example.com\", \"ttl\": \"long\"}",
            400,
            "not what this call takes",
        ),
        (
            "POST",
            "/api/v1/records",
            vec![auth, json_type],
            b"{\"name\": \"x.example.com\", \"admin\": true}",
            400,
            "unknown field",
        ),
        (
            "POST",
            "/api/v1/records",
            vec![auth, json_type],
            b"{\"name\": \"x.example.com\", \"ttl\": -1}",
            400,
            "not what this call takes",
        ),
        (
            "POST",
            "/api/v1/records",
            vec![auth, json_type],
            &huge,
            413,
            "at most",
        ),
        (
            "POST",
            "/api/v1/records",
            vec![auth, ("Content-Type", "text/plain")],
            b"{\"name\": \"x.example.com\"}",
            415,
            "application/json",
        ),
        (
            "POST",
            "/api/v1/records",
            vec![auth, json_type],
            b"{\"name\": \"www.example.org\"}",
            422,
            "zones",
        ),
        (
            "POST",
            "/api/v1/records",
            vec![auth, json_type],
            b"{\"name\": \"bad name.example.com\"}",
            422,
            "bad name",
        ),
        (
            "POST",
            "/api/v1/records",
            vec![auth, json_type],
            b"{\"name\": \"x.example.com\", \"mac_address\": \"nope\"}",
            422,
            "MAC",
        ),
        (
            "POST",
            "/api/v1/records",
            vec![auth, json_type],
            b"{\"name\": \"x.example.com\", \"types\": [\"MX\"]}",
            422,
            "record type",
        ),
        (
            "POST",
            "/api/v1/records",
            vec![auth, json_type],
            b"{\"name\": \"x.example.com\", \"prefix_from\": \"home.example.com\"}",
            422,
            "together",
        ),
        (
            "POST",
            "/api/v1/records",
            vec![auth, json_type],
            b"{\"name\": \"home.example.com\"}",
            409,
            "exists",
        ),
        (
            "PATCH",
            "/api/v1/records/home.example.com",
            vec![auth, json_type],
            b"{\"ttl\": 4294967295}",
            422,
            "TTL",
        ),
        (
            "PATCH",
            "/api/v1/records/absent.example.com",
            vec![auth, json_type],
            b"{\"ttl\": 5}",
            404,
            "no record",
        ),
        (
            "PUT",
            "/api/v1/txt/_x.example.com",
            vec![auth, json_type],
            b"{\"values\": [\"caf\xc3\xa9\"]}",
            422,
            "caf",
        ),
        (
            "PUT",
            "/api/v1/txt/_x.example.org",
            vec![auth, json_type],
            b"{\"values\": [\"ok\"]}",
            422,
            "zones",
        ),
        (
            "GET",
            "/api/v1/records?limit=0",
            vec![auth],
            b"",
            400,
            "limit",
        ),
        (
            "GET",
            "/api/v1/records?limit=abc",
            vec![auth],
            b"",
            400,
            "limit",
        ),
        (
            "GET",
            "/api/v1/records?cursor=zz",
            vec![auth],
            b"",
            400,
            "cursor",
        ),
        (
            "GET",
            "/api/v1/records/%3Cscript%3E",
            vec![auth],
            b"",
            422,
            "script",
        ),
        (
            "PUT",
            "/api/v1/records/home.example.com",
            vec![auth],
            b"",
            405,
            "GET, PATCH, DELETE",
        ),
        (
            "GET",
            "/api/v2/records",
            vec![auth],
            b"",
            404,
            "no such API path",
        ),
        (
            "GET",
            "/api/v1/records",
            vec![("Authorization", "Basic b3BzOnNlY3JldA==")],
            b"",
            401,
            "Bearer",
        ),
    ];
    for (method, path, headers, body, status, says) in cases {
        let reply = request(a.api, method, path, &headers, body).await;
        let label = format!(
            "{method} {path} {:?}",
            String::from_utf8_lossy(&body[..body.len().min(60)])
        );
        assert_eq!(reply.status, status, "{label}: {}", reply.body);
        let detail = problem(&reply);
        assert!(detail.contains(says), "{label}: {detail}");
    }
    assert_eq!(
        a.all_records(&a.full, 1000).await,
        before,
        "nothing changed"
    );
    let mut a = a;
    assert!(
        a.server.child.try_wait().unwrap().is_none(),
        "the server still runs"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_guessing_tokens_is_refused_and_others_are_not() {
    let Some(a) = start() else { return };
    let attacker = "203.0.113.66";
    let call = |token: String, source: &'static str| {
        let api = a.api;
        async move {
            let bearer = format!("Bearer {token}");
            request(
                api,
                "GET",
                "/api/v1/whoami",
                &[("Authorization", &bearer), ("X-Forwarded-For", source)],
                b"",
            )
            .await
        }
    };
    for guess in 0..10 {
        let reply = call(format!("ddns_{guess:064}"), attacker).await;
        assert_eq!(reply.status, 401, "{}", reply.body);
    }
    // Past the limit even a good token from that source is refused...
    let refused = call(a.full.clone(), attacker).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.header("retry-after"), Some("60"));
    assert!(problem(&refused).contains("wait a minute"));
    // ... while another source goes on.
    let other = call(a.full.clone(), "198.51.100.7").await;
    assert_eq!(other.status, 200, "{}", other.body);
    let log = a.server.log().join("\n");
    assert!(log.contains("source=203.0.113.66"), "{log}");
}

#[test]
fn admin_tokens_are_listed_and_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ddns.toml"), CONFIG).unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["--config", "ddns.toml", "admin-token"];
        all.extend_from_slice(args);
        admin(dir.path(), &all)
    };
    let token = printed_token(&run(&["create", "ops", "--expires-in", "30d"]));
    let list = run(&["list"]);
    assert!(
        list.contains("ops") && list.contains("read-write, every name"),
        "{list}"
    );
    assert!(!list.contains(&token), "a token is never listed");
    let file = std::fs::read_to_string(dir.path().join("ddns.sqlite3.admin-tokens.json")).unwrap();
    assert!(!file.contains(&token), "only its hash is stored");
    assert!(run(&["revoke", "ops"]).contains("revoked ops"));
    assert!(run(&["list"]).contains("0 token(s)"));
    for (args, says) in [
        (vec!["create", "bad name"], "not a usable token name"),
        (vec!["create", "x", "--under", "example.org"], "no zone"),
        (vec!["revoke", "nobody"], "no token is named"),
    ] {
        let mut all = vec!["--config", "ddns.toml", "admin-token"];
        all.extend_from_slice(&args);
        let out = server_command()
            .current_dir(dir.path())
            .args(&all)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}
