//! ddns-server with the `dynamodb` store and the `route53` provider, against
//! moto: two server processes (credentials from the environment, as on
//! EC2) share one table and one zone.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;
use ddns_testkit::moto;

use std::process::Command;

use common::{Spawned, get};
use ddns_core::{DnsProvider, HashToken, Hostname, RecordStore, RecordType, SharedSecret};

fn command(dir: &std::path::Path) -> Command {
    let mut c = common::server_command();
    c.current_dir(dir)
        .args(["--config", "aws.toml"])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    c
}

/// Runs an admin command on the config in `dir`, which must succeed;
/// returns what it printed.
fn run(dir: &std::path::Path, args: &[&str]) -> String {
    let out = command(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A server on the config in `dir`, started and answering HTTP.
fn serve(dir: &std::path::Path) -> Spawned {
    let server = Spawned::start(command(dir));
    let started = server
        .log()
        .into_iter()
        .find(|l| l.contains("ddns-server started"))
        .expect("the server logs its start");
    assert!(started.contains("providers=[\"route53\"]"), "{started}");
    server
}

/// A directory with `aws.toml`: the `dynamodb` store on a new `table` and
/// the `route53` provider on a new hosted zone `example.com` in moto, after
/// the sections in `extra`. Returns the directory and the zone's id.
async fn aws_config(moto: &moto::Moto, table: &str, extra: &str) -> (tempfile::TempDir, String) {
    moto.create_table(table).await;
    let zone_id = moto.create_zone("example.com").await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("aws.toml"),
        format!(
            r#"{extra}[zone]
name = "example.com"
[store]
kind = "dynamodb"
table = "{table}"
endpoint_url = "{url}"
[provider]
kind = "route53"
zone_id = "{zone_id}"
endpoint_url = "{url}"
"#,
            url = moto.url
        ),
    )
    .unwrap();
    (dir, zone_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_a_dynamodb_table_and_a_route53_zone() {
    let Some(moto) = moto::Moto::start().await else {
        return;
    };
    let (dir, zone_id) = aws_config(
        &moto,
        "fleet-config",
        "[http]\nlisten = [\"127.0.0.1:0\"]\ntrusted_proxies = [\"127.0.0.1/32\"]\n\
         [service]\nrecord_cache_ttl_ms = 0\n",
    )
    .await;
    // The admin commands work on the DynamoDB table too.
    run(
        dir.path(),
        &["add", "home.example.com", "--type", "a", "--secret", "s"],
    );

    let one = serve(dir.path());
    let two = serve(dir.path());
    let set = |server: &Spawned, source: &'static str| {
        let hash = HashToken::compute_as_sent(
            source.parse().unwrap(),
            &ddns_core::SentName::parse("home.example.com."),
            &SharedSecret::new("s"),
        )
        .to_hex();
        let addr = server.http;
        async move {
            get(
                addr,
                &format!("/?mode=set&hostname=home.example.com&hash={hash}"),
                &[("X-Forwarded-For", source)],
            )
            .await
            .body
        }
    };
    assert!(
        set(&one, "198.51.100.7")
            .await
            .contains("has been set to 198.51.100.7")
    );
    // The other server sees the change made through the first.
    assert!(set(&two, "198.51.100.7").await.contains("matches"));
    assert!(
        set(&two, "198.51.100.8")
            .await
            .contains("has been set to 198.51.100.8")
    );
    assert!(
        set(&one, "198.51.100.8").await.contains("matches"),
        "the shared store tells server one of the change"
    );
    let provider = moto.zone_provider(&zone_id, "example.com").await;
    let host = Hostname::parse("home.example.com").unwrap();
    assert_eq!(
        provider
            .current(&ddns_core::RecordKey::new(host.clone(), RecordType::A))
            .await
            .unwrap(),
        ["198.51.100.8".parse::<std::net::IpAddr>().unwrap()]
    );

    // remove takes the RRset out of the hosted zone, then the item out of
    // the table, while both servers run.
    let out = command(dir.path())
        .args(["remove", "home.example.com"])
        .output()
        .unwrap();
    assert!(
        out.status.success()
            && String::from_utf8_lossy(&out.stdout).contains("removed home.example.com. A"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The RRset is gone, and a later request gets message 2 without
    // bringing the name back.
    for source in [None, Some("198.51.100.9")] {
        if let Some(source) = source {
            let after = set(&one, source).await;
            assert!(
                after.contains("config item for home.example.com."),
                "a removed record answers message 2: {after}"
            );
        }
        let left = provider
            .current(&ddns_core::RecordKey::new(host.clone(), RecordType::A))
            .await
            .unwrap();
        assert!(
            left.is_empty(),
            "the Route 53 RRset is still there: {left:?}"
        );
    }
}

/// The TXT values Route 53 holds at `name`, as its API returns them.
async fn route53_txt(moto: &moto::Moto, zone_id: &str, name: &str) -> Vec<String> {
    let client = aws_sdk_route53::Client::new(&moto.config);
    let out = client
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .start_record_name(name)
        .start_record_type(aws_sdk_route53::types::RrType::Txt)
        .send()
        .await
        .unwrap();
    let mut values: Vec<String> = out
        .resource_record_sets()
        .iter()
        .filter(|set| {
            set.r#type() == &aws_sdk_route53::types::RrType::Txt
                && set.name().trim_end_matches('.') == name
        })
        .flat_map(|set| set.resource_records())
        .map(|r| r.value().to_owned())
        .collect();
    values.sort();
    values
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn txt_rrsets_with_two_values_through_the_cli_in_route53_and_dynamodb() {
    let Some(moto) = moto::Moto::start().await else {
        return;
    };
    let (dir, zone_id) = aws_config(&moto, "txt-config", "").await;
    let run = |args: &[&str]| run(dir.path(), args);
    let name = "_acme-challenge.home.example.com";
    let token = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
    let long = format!(r#"say "hi" \ {}"#, "x".repeat(260));
    let set = run(&["txt", "set", name, token, &long]);
    assert!(set.contains(&format!("set {name}. TXT")), "{set}");
    // Route 53 holds each value in its quoted form, the long one as two
    // strings, with quotes and the backslash escaped.
    let mut expected = vec![
        format!("\"{token}\""),
        format!(
            r#""say \"hi\" \\ {}" "{}""#,
            "x".repeat(255 - 11),
            "x".repeat(260 - (255 - 11))
        ),
    ];
    expected.sort();
    assert_eq!(route53_txt(&moto, &zone_id, name).await, expected);
    // The item keeps the original attribute names, with the values in
    // `txt_values`.
    let item = moto.item("txt-config", &format!("{name}."), "TXT").await;
    let stored = match item.get("txt_values") {
        Some(aws_sdk_dynamodb::types::AttributeValue::S(s)) => s.clone(),
        other => panic!("txt_values is {other:?}"),
    };
    assert_eq!(stored.lines().count(), 2, "{stored}");
    assert!(!item.contains_key("ip_address"));
    assert!(matches!(
        item.get("shared_secret"),
        Some(aws_sdk_dynamodb::types::AttributeValue::S(_))
    ));
    // Replaced by one value, then deleted: the RRset and the item go.
    run(&["txt", "set", name, "only"]);
    assert_eq!(route53_txt(&moto, &zone_id, name).await, ["\"only\""]);
    let deleted = run(&["txt", "delete", name]);
    assert!(
        deleted.contains(&format!("removed {name}. TXT")),
        "{deleted}"
    );
    assert!(route53_txt(&moto, &zone_id, name).await.is_empty());
    let listed = run(&["list"]);
    assert!(!listed.contains("_acme-challenge"), "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acme_challenges_over_httpreq_and_acme_dns_reach_route53() {
    let Some(moto) = moto::Moto::start().await else {
        return;
    };
    let (dir, zone_id) =
        aws_config(&moto, "acme-config", "[http]\nlisten = [\"127.0.0.1:0\"]\n").await;
    let secret = common::printed_secret(&run(dir.path(), &["add", "home.example.com"]));
    let server = serve(dir.path());
    let name = "_acme-challenge.home.example.com";
    let (one, two) = (
        "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0",
        "Q-iwZg0ZWOktZsjELmeiukbHX_XiNncUxehvL5tuElk",
    );
    let auth = common::basic("home.example.com", &secret);
    let httpreq = |path: &'static str, value: String| {
        let (http, auth) = (server.http, auth.clone());
        async move {
            let body = format!(r#"{{"fqdn": "{name}.", "value": "{value}"}}"#);
            let reply =
                common::post(http, path, &[("Authorization", &auth)], body.as_bytes()).await;
            assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        }
    };
    for value in [one, two] {
        httpreq("/present", value.to_owned()).await;
    }
    // Both values at once, quoted, in Route 53; the item in DynamoDB.
    let mut expected = vec![format!("\"{one}\""), format!("\"{two}\"")];
    expected.sort();
    assert_eq!(route53_txt(&moto, &zone_id, name).await, expected);
    let item = moto.item("acme-config", &format!("{name}."), "TXT").await;
    assert!(item.contains_key("txt_values"), "{item:?}");
    // acme-dns keeps the last two.
    let reply = common::post(
        server.http,
        "/update",
        &[("X-Api-User", "home.example.com"), ("X-Api-Key", &secret)],
        format!(r#"{{"subdomain": "home.example.com", "txt": "{one}X"}}"#).as_bytes(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(route53_txt(&moto, &zone_id, name).await.len(), 2);
    // Cleaned up: the RRset and the item go.
    for value in [two.to_owned(), format!("{one}X")] {
        httpreq("/cleanup", value).await;
    }
    assert!(route53_txt(&moto, &zone_id, name).await.is_empty());
    assert!(!run(dir.path(), &["list"]).contains("_acme-challenge"));
}

/// Issue 18 with the AWS backends: 50 hosts follow a router's prefix; one
/// report moves them all in one ChangeResourceRecordSets call (counted by
/// moto), the items keep the setting in DynamoDB, and the same report
/// again makes no call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_followers_move_in_one_route53_call() {
    let Some(moto) = moto::Moto::start().await else {
        return;
    };
    let (dir, zone_id) = aws_config(
        &moto,
        "prefix-config",
        "[http]\nlisten = [\"127.0.0.1:0\"]\ntrusted_proxies = [\"127.0.0.1/32\"]\n",
    )
    .await;
    let secret = common::printed_secret(&run(dir.path(), &["add", "router.example.com"]));
    // The admin makes the first follower; the rest go in through the
    // table the same way the admin writes them.
    run(
        dir.path(),
        &[
            "add",
            "host0.example.com",
            "--prefix-from",
            "router.example.com",
            "--ipv6-interface-id",
            "::1000",
        ],
    );
    let store = moto.handle("prefix-config").await;
    let first = store
        .get(&ddns_core::RecordKey::new(
            Hostname::parse("host0.example.com").unwrap(),
            RecordType::Aaaa,
        ))
        .await
        .unwrap()
        .expect("the admin wrote the follower to DynamoDB");
    assert_eq!(
        first
            .config
            .follow
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("::1000 from router.example.com.")
    );
    for i in 1..50 {
        let mut record = first.clone();
        record.key = ddns_core::RecordKey::new(
            Hostname::parse(&format!("host{i}.example.com")).unwrap(),
            RecordType::Aaaa,
        );
        record.config.follow = Some(ddns_core::prefix::PrefixFollow::new(
            Hostname::parse("router.example.com").unwrap(),
            format!("::{:x}", 0x1000 + i).parse().unwrap(),
        ));
        store.create(&record).await.unwrap();
    }
    let server = serve(dir.path());
    let report = |prefix: &'static str| {
        let auth = common::basic("router.example.com", &secret);
        let addr = server.http;
        async move {
            get(
                addr,
                &format!(
                    "/nic/update?hostname=router.example.com&myip=198.51.100.7&ip6lanprefix={prefix}"
                ),
                &[
                    ("Authorization", &auth),
                    ("X-Forwarded-For", "198.51.100.7"),
                    ("User-Agent", "Fritz!Box DDNS/1.0.1"),
                ],
            )
            .await
        }
    };
    let r = report("2001:db8:4:400::/56").await;
    assert_eq!(r.body, "good 198.51.100.7\n");
    let before = moto.route53_change_calls();
    let r = report("2001:db8:9:900::/56").await;
    assert_eq!(r.body, "nochg 198.51.100.7\n");
    assert_eq!(
        moto.route53_change_calls() - before,
        1,
        "50 followers in one ChangeResourceRecordSets call; log:\n{}",
        server.log().join("\n")
    );
    let provider = moto.zone_provider(&zone_id, "example.com").await;
    for i in 0..50u32 {
        let key = ddns_core::RecordKey::new(
            Hostname::parse(&format!("host{i}.example.com")).unwrap(),
            RecordType::Aaaa,
        );
        let want: std::net::IpAddr = format!("2001:db8:9:900::{:x}", 0x1000 + i).parse().unwrap();
        assert_eq!(
            provider.current(&key).await.unwrap(),
            [want],
            "{key} in Route 53"
        );
        let stored = store.get(&key).await.unwrap().unwrap();
        assert_eq!(stored.state.address(), Some(want), "{key} in DynamoDB");
    }
    let before = moto.route53_change_calls();
    let r = report("2001:db8:9:900::/56").await;
    assert_eq!(r.body, "nochg 198.51.100.7\n");
    assert_eq!(
        moto.route53_change_calls(),
        before,
        "an unchanged prefix calls no provider"
    );
}

/// The upstream protocol (`POST` JSON) on the DynamoDB store and Route 53:
/// the upstream client `dyndns.sh` sets the record, gets `nochg`'s answer
/// the second time and 401 with a wrong secret; every other row of the
/// protocol's table answers its status and exact body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upstream_protocol_over_dynamodb_and_route53() {
    use ddns_testkit::upstream::{self, ClientRun};
    let Some(moto) = moto::Moto::start().await else {
        return;
    };
    let (dir, zone_id) = aws_config(
        &moto,
        "upstream-config",
        "[http]\nlisten = [\"127.0.0.1:0\"]\ntrusted_proxies = [\"127.0.0.1/32\"]\n",
    )
    .await;
    let secret = common::printed_secret(&run(dir.path(), &["add", "home.example.com"]));
    let server = serve(dir.path());
    let url = format!("http://{}/", server.http);
    let answer = |status: &str, message: &str| {
        let mut quoted = String::new();
        ddns_core::protocols::json::push_str(&mut quoted, message);
        format!(r#"{{"return_status": "{status}", "return_message": {quoted}}}"#)
    };
    let client = |mode: &str, host: &str, secret: &str, source: &str| {
        upstream::run(mode, &url, host, secret, source)
    };
    let Some(first) = client("set", "home.example.com", &secret, "198.51.100.7") else {
        return;
    };
    let changed = |host: &str, ip: &str| ClientRun {
        body: answer("success", &format!("{host} has been updated to {ip}")),
        status: 201,
    };
    assert_eq!(first, changed("home.example.com", "198.51.100.7"));
    assert_eq!(
        client("set", "home.example.com", &secret, "198.51.100.7").unwrap(),
        ClientRun {
            body: answer(
                "success",
                "Your IP address matches the current Route53 DNS record."
            ),
            status: 200
        }
    );
    assert_eq!(
        client("set", "home.example.com", "not-the-secret", "198.51.100.7").unwrap(),
        ClientRun {
            body: answer("fail", "Validation hashes do not match."),
            status: 401
        }
    );
    assert_eq!(
        client("get", "home.example.com", &secret, "198.51.100.9").unwrap(),
        ClientRun {
            body: answer("success", "198.51.100.9"),
            status: 200
        }
    );
    // The hash covers the name as sent, in the client's spelling.
    assert_eq!(
        client("set", "HOME.example.com", &secret, "198.51.100.8").unwrap(),
        changed("HOME.example.com", "198.51.100.8")
    );
    let provider = moto.zone_provider(&zone_id, "example.com").await;
    let key =
        ddns_core::RecordKey::new(Hostname::parse("home.example.com").unwrap(), RecordType::A);
    let in_dns = provider.current(&key).await.unwrap();
    let store = moto.handle("upstream-config").await;
    let stored =
        ddns_testkit::records::stored_state(&store, "home.example.com", RecordType::A).await;
    assert_eq!(
        in_dns,
        ["198.51.100.8".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(stored.address(), Some("198.51.100.8".parse().unwrap()));

    // The other rows, over raw HTTP.
    let xff = [("X-Forwarded-For", "198.51.100.8")];
    let post = |body: String| {
        let addr = server.http;
        async move { common::post(addr, "/", &xff, body.as_bytes()).await }
    };
    let set_body = |host: &str, hash: &str| {
        format!(
            r#"{{"execution_mode": "set", "ddns_hostname": "{host}", "validation_hash": "{hash}"}}"#
        )
    };
    let rows = [
        (
            r#"{"execution_mode": "list"}"#.to_owned(),
            400,
            answer("fail", "You must pass mode=get or mode=set arguments."),
        ),
        (
            set_body("nothere.example.com", &"0".repeat(64)),
            403,
            answer(
                "fail",
                "There was an issue finding or reading nothere.example.com configuration from dynamoDB table: upstream-config",
            ),
        ),
        (
            set_body("home.example.com", "abc"),
            400,
            answer(
                "fail",
                "You must pass a valid sha256 hash in the hash= argument.",
            ),
        ),
    ];
    for (body, status, expected) in rows {
        let reply = post(body.clone()).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (status, expected.as_str()),
            "{body}"
        );
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
        assert_eq!(
            reply.header("access-control-allow-headers"),
            Some("Content-Type")
        );
        assert_eq!(reply.header("access-control-allow-methods"), Some("GET"));
    }
    let preflight = common::raw(
        server.http,
        "OPTIONS / HTTP/1.1\r\nHost: ddns.test\r\nConnection: close",
    )
    .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-methods"),
        Some("GET, POST, OPTIONS")
    );

    // A Route 53 failure: the zone is gone. The answer is a fixed message,
    // with nothing of AWS's error in it.
    moto.delete_zone(&zone_id).await;
    let xff = [("X-Forwarded-For", "198.51.100.10")];
    let hash = upstream_hash("198.51.100.10", "home.example.com", &secret);
    let body = set_body("home.example.com", &hash);
    let reply = common::post(server.http, "/", &xff, body.as_bytes()).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (
            500,
            answer(
                "fail",
                "The DNS update could not be completed; the operator should check the function's logs."
            )
            .as_str()
        )
    );
    assert!(!reply.body.contains(&zone_id) && !reply.body.contains("NoSuchHostedZone"));
}

/// The upstream protocol's hash: SHA-256 over the address, the host name
/// exactly as sent and the secret.
fn upstream_hash(ip: &str, host: &str, secret: &str) -> String {
    ddns_core::HashToken::compute_as_sent(
        ip.parse().unwrap(),
        &ddns_core::SentName::exact(host),
        &SharedSecret::new(secret),
    )
    .to_hex()
}

/// `import` from the rewrite's table into SQLite and from a 2018 table into
/// another 2018 table: the dry run reports and writes nothing, `--apply`
/// copies what it reported, and what cannot be copied is said with why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_copies_upstream_tables_of_either_layout() {
    let Some(moto) = moto::Moto::start().await else {
        return;
    };
    let com = moto.create_zone("example.com").await;
    let net = moto.create_zone("example.net").await;
    moto.create_current_table("rewrite").await;
    moto.put_current_item("rewrite", "home.example.com", &com, "s-home")
        .await;
    moto.put_current_item("rewrite", "nas.example.net", &net, "s-nas")
        .await;
    moto.dynamodb()
        .put_item()
        .table_name("rewrite")
        .item(
            "hostname",
            aws_sdk_dynamodb::types::AttributeValue::S("bad_name!".into()),
        )
        .send()
        .await
        .unwrap();

    // Into SQLite: the zone example.com is served.
    let sqlite = tempfile::tempdir().unwrap();
    std::fs::write(
        sqlite.path().join("aws.toml"),
        format!(
            "[zone]\nname = \"example.com\"\n[store]\nkind = \"sqlite\"\npath = \"{}\"\n",
            sqlite.path().join("ddns.sqlite3").display()
        ),
    )
    .unwrap();
    let import = |dir: &std::path::Path, table: &str, apply: bool| {
        let mut args = vec![
            "import",
            "--table",
            table,
            "--endpoint-url",
            moto.url.as_str(),
        ];
        if apply {
            args.push("--apply");
        }
        run(dir, &args)
    };
    let dry = import(sqlite.path(), "rewrite", false);
    for line in [
        "dry run: nothing is written",
        "would copy home.example.com. A",
        "cannot copy nas.example.net. A: ",
        "cannot copy item \"bad_name!\": ",
        "1 to copy, 2 cannot be copied (layout current of table rewrite)",
    ] {
        assert!(dry.contains(line), "{line:?} missing from:\n{dry}");
    }
    assert!(
        dry.contains(&format!(
            "would copy home.example.com. A (hosted zone {com})"
        )) && dry.contains(&net),
        "the hosted zones are named: {dry}"
    );
    assert!(
        !run(sqlite.path(), &["list"]).contains("home.example.com"),
        "a dry run writes nothing"
    );
    let applied = import(sqlite.path(), "rewrite", true);
    assert!(applied.contains("copied home.example.com. A"), "{applied}");
    let listed = run(sqlite.path(), &["list", "--show-secrets"]);
    assert!(
        listed.contains("home.example.com.") && listed.contains("s-home"),
        "{listed}"
    );
    // A second run copies nothing twice.
    let again = import(sqlite.path(), "rewrite", true);
    assert!(
        again.contains("cannot copy home.example.com. A: the store holds this record already"),
        "{again}"
    );

    // From a 2018 table, with a hand-spelled key and a record without a
    // secret, into another 2018 table.
    moto.create_table("old").await;
    // (DynamoDB refuses an empty secret in the index: the item has none.)
    for (host, secret) in [
        ("Lab.Example.com.", Some("s-lab")),
        ("empty.example.com.", None),
    ] {
        let text = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.into());
        let mut put = moto
            .dynamodb()
            .put_item()
            .table_name("old")
            .item("hostname", text(host))
            .item("record_type", text("A"))
            .item("ip_address", text("198.51.100.60"));
        if let Some(secret) = secret {
            put = put.item("shared_secret", text(secret));
        }
        put.send().await.unwrap();
    }
    let (target, _) = aws_config(&moto, "new", "").await;
    let out = import(target.path(), "old", true);
    assert!(out.contains("copied lab.example.com. A"), "{out}");
    assert!(
        out.contains("cannot copy empty.example.com. A: it has no shared secret"),
        "{out}"
    );
    let copied = moto.item("new", "lab.example.com.", "A").await;
    assert_eq!(
        copied
            .get("shared_secret")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("s-lab")
    );
    assert_eq!(
        copied
            .get("ip_address")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("198.51.100.60"),
        "the state comes along"
    );
}
