//! The ddns-client binary against a ddns-server on loopback: get, set, the
//! cache, list_hosts, discovery from a fixture neighbour table, daemon
//! mode, and the errors a user meets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use ddns_core::{Hostname, Record, RecordConfig, RecordKey, RecordType, SharedSecret};
use ddns_server::{Config, RunningServer};

const SECRET: &str = "s3cr%t\\x with spaces";

async fn server(dir: &Path) -> RunningServer {
    let text = format!(
        "[http]\nlisten = [\"127.0.0.1:0\"]\n[limits]\nenabled = false\n[dns]\nlisten = [\"127.0.0.1:0\"]\n[service]\ncoalesce_window_ms = 5\n[store]\nkind = \"sqlite\"\npath = \"{}\"\n",
        dir.join("ddns.sqlite3").display()
    );
    let server = RunningServer::start(Config::parse(&text).unwrap().validate().unwrap())
        .await
        .unwrap();
    let store = server.service().store();
    for (host, t, mac, read) in [
        (
            "home.example.com",
            RecordType::A,
            Some("02:00:00:00:00:01"),
            true,
        ),
        (
            "printer.example.com",
            RecordType::A,
            Some("51:6B:00:A6:F5:77"),
            true,
        ),
        (
            "printer.example.com",
            RecordType::Aaaa,
            Some("51:6B:00:A6:F5:77"),
            true,
        ),
        ("nomac.example.com", RecordType::A, None, true),
        (
            "absent.example.com",
            RecordType::A,
            Some("02:00:00:00:00:99"),
            true,
        ),
    ] {
        let mut config = RecordConfig::new(SharedSecret::new(SECRET))
            .with_allow_internal(true)
            .with_read_privilege(read);
        if let Some(mac) = mac {
            config = config.with_mac_address(mac);
        }
        store
            .create(&Record::new(
                RecordKey::new(Hostname::parse(host).unwrap(), t),
                config,
            ))
            .await
            .unwrap();
    }
    server
}

fn url(server: &RunningServer) -> String {
    format!("http://{}/", server.http_addrs()[0])
}

async fn client(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_ddns-client"))
            .args(&args)
            .env_remove("DDNS_SECRET")
            .env_remove("DDNS_URL")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn args(server: &RunningServer, extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        "--url".to_owned(),
        url(server),
        "--hostname".into(),
        "home.example.com".into(),
        "--secret".into(),
        SECRET.into(),
    ];
    a.extend(extra.iter().map(|s| (*s).to_owned()));
    a
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn ip_of(server: &RunningServer, host: &str, t: RecordType) -> Option<IpAddr> {
    ddns_testkit::records::stored_state(server.service().store().as_ref(), host, t)
        .await
        .address()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_set_and_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path()).await;

    let o = client(args(&server, &["get"])).await;
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "127.0.0.1\n")
    );

    let o = client(args(&server, &[])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "Your hostname record home.example.com. has been set to 127.0.0.1\n"
    );
    let o = client(args(&server, &[])).await;
    assert_eq!(
        stdout(&o),
        "Your IP address matches the current Route53 DNS record.\n"
    );

    // --ip-source with an address, and with an interface (loopback).
    let o = client(args(&server, &["--ip-source", "192.168.1.50"])).await;
    assert_eq!(
        stdout(&o),
        "Your hostname record home.example.com. has been set to 192.168.1.50\n"
    );
    let o = client(args(
        &server,
        &["--ip-source", "lo", "--ip-version", "ipv4"],
    ))
    .await;
    assert_eq!(
        stdout(&o),
        "Your hostname record home.example.com. has been set to 127.0.0.1\n",
        "{}",
        stderr(&o)
    );

    // The cache: the second run within the window sends nothing.
    let cache = dir.path().join("cache");
    let cache = cache.to_str().unwrap();
    let cached_run = args(
        &server,
        &[
            "--ip-source",
            "192.168.1.51",
            "--cache",
            "10",
            "--cache-dir",
            cache,
        ],
    );
    let o = client(cached_run.clone()).await;
    assert!(
        stdout(&o).contains("has been set to 192.168.1.51"),
        "{}",
        stdout(&o)
    );
    let o = client(cached_run).await;
    assert_eq!(
        stdout(&o),
        "192.168.1.51 was sent less than 10 minutes ago; not sending it again.\n"
    );
    // A different address is sent despite the cache.
    let o = client(args(
        &server,
        &[
            "--ip-source",
            "192.168.1.52",
            "--cache",
            "10",
            "--cache-dir",
            cache,
        ],
    ))
    .await;
    assert!(stdout(&o).contains("has been set to 192.168.1.52"));
    assert_eq!(
        ip_of(&server, "home.example.com", RecordType::A).await,
        Some("192.168.1.52".parse().unwrap())
    );

    // The secret from a file.
    let file = dir.path().join("secret");
    std::fs::write(&file, format!("{SECRET}\n")).unwrap();
    let o = client(vec![
        "--url".into(),
        url(&server),
        "--hostname".into(),
        "home.example.com".into(),
        "--secret-file".into(),
        file.display().to_string(),
    ])
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_clear_and_exit_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path()).await;
    let mut wrong = args(&server, &[]);
    wrong[5] = "not the secret".into();
    let o = client(wrong).await;
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "error: Validation hashes do not match.\n");

    let o = client(vec![
        "--url".into(),
        format!("http://{}/metrics", server.http_addrs()[0]),
        "get".into(),
    ])
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("not the ddns API's JSON"),
        "{}",
        stderr(&o)
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let o = client(vec![
        "--url".into(),
        format!("http://{closed}/"),
        "--timeout".into(),
        "2s".into(),
        "get".into(),
    ])
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!("cannot reach http://{closed}/")),
        "{}",
        stderr(&o)
    );

    let o = client(vec!["--url".into(), "ftp://x".into(), "get".into()]).await;
    assert!(stderr(&o).contains("must start with http:// or https://"));
    let o = client(vec![
        "--url".into(),
        url(&server),
        "--hostname".into(),
        "home.example.com".into(),
    ])
    .await;
    assert!(
        stderr(&o).contains("a secret is required"),
        "{}",
        stderr(&o)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_hosts_and_discovery_from_a_fixture_table() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path()).await;
    let o = client(args(&server, &["--list-hosts"])).await;
    assert_eq!(
        stdout(&o),
        "absent.example.com. A 02:00:00:00:00:99\nhome.example.com. A 02:00:00:00:00:01\nnomac.example.com. A -\nprinter.example.com. A 51:6B:00:A6:F5:77\nprinter.example.com. AAAA 51:6B:00:A6:F5:77\n"
    );

    let table = dir.path().join("neigh");
    std::fs::write(
        &table,
        "IP address       HW type     Flags       HW address            Mask     Device\n\
         192.168.0.20     0x1         0x2         51:6b:00:a6:f5:77     *        eth0\n\
         192.168.0.1      0x1         0x2         02:00:00:00:00:01     *        eth0\n\
         fd00::20 dev eth0 lladdr 51:6B:00:A6:F5:77 REACHABLE\n",
    )
    .unwrap();
    let table = table.display().to_string();
    let o = client(args(
        &server,
        &["discover", "--dry-run", "--neighbours-file", &table],
    ))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("would set printer.example.com. A to 192.168.0.20"),
        "{out}"
    );
    assert!(
        out.contains("would set printer.example.com. AAAA to fd00::20"),
        "{out}"
    );
    assert!(
        out.contains("absent.example.com. A: no neighbour has MAC 02:00:00:00:00:99; skipped"),
        "{out}"
    );
    assert!(
        out.contains("nomac.example.com. A: no MAC address configured; skipped"),
        "{out}"
    );
    assert!(
        !out.contains("home.example.com"),
        "the caller's own record is not set: {out}"
    );
    assert_eq!(
        ip_of(&server, "printer.example.com", RecordType::A).await,
        None,
        "a dry run changes nothing"
    );

    let o = client(args(&server, &["discover", "--neighbours-file", &table])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o)
            .contains("Your hostname record printer.example.com. has been set to 192.168.0.20")
    );
    assert_eq!(
        ip_of(&server, "printer.example.com", RecordType::A).await,
        Some("192.168.0.20".parse().unwrap())
    );
    assert_eq!(
        ip_of(&server, "printer.example.com", RecordType::Aaaa).await,
        Some("fd00::20".parse().unwrap())
    );
    server.shutdown().await;
}

/// How many seed-API `get`s the server answered, from its `/metrics`.
fn gets_answered(server: &RunningServer) -> u64 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.http_addrs()[0]).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text.lines()
        .filter(|l| {
            l.starts_with("ddns_requests_total{")
                && l.contains("mode=\"get\"")
                && l.contains("outcome=\"success\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_mode_updates_once_and_keeps_checking() {
    const EVERY: Duration = Duration::from_millis(300);
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path()).await;
    let before = gets_answered(&server);
    let mut child = Command::new(env!("CARGO_BIN_EXE_ddns-client"))
        .args(args(
            &server,
            &["--every", "300ms", "--ip-source", "192.168.1.77"],
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Each check asks the server for the public address (a `get`): wait
    // for the first check and four more, for at most 20 s, noting when
    // the second and the fifth came.
    let begun = std::time::Instant::now();
    let mut second = None;
    let fifth = loop {
        let checks = gets_answered(&server) - before;
        if checks >= 2 && second.is_none() {
            second = Some(std::time::Instant::now());
        }
        if checks >= 5 {
            break std::time::Instant::now();
        }
        if begun.elapsed() > Duration::from_secs(20) || child.try_wait().unwrap().is_some() {
            child.kill().ok();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the daemon made {checks} checks in {:?} (every 300ms asked); stderr: {}",
                begun.elapsed(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    // Three intervals lie between the second check and the fifth: the
    // daemon waits its interval after each check, never less.
    let spacing = fifth - second.unwrap();
    assert!(
        spacing >= EVERY * 3 - Duration::from_millis(60),
        "checks 2 to 5 came {spacing:?} apart, less than three intervals of {EVERY:?}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text, "Your hostname record home.example.com. has been set to 192.168.1.77\n",
        "updates only on change"
    );
    assert_eq!(
        ip_of(&server, "home.example.com", RecordType::A).await,
        Some("192.168.1.77".parse().unwrap())
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_requests_open_records_that_require_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path()).await;
    let key = RecordKey::new(Hostname::parse("home.example.com").unwrap(), RecordType::A);
    let store = server.service().store();
    let config = store.get(&key).await.unwrap().unwrap().config;
    store
        .update_config(&key, &config.with_require_signed(true))
        .await
        .unwrap();

    // The hash token is refused with a message saying what to do.
    let o = client(args(&server, &["--ip-source", "10.0.0.1"])).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("accepts only signed requests"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        ip_of(&server, "home.example.com", RecordType::A).await,
        None
    );

    // --signed sets it, and lists the group, each with a fresh nonce.
    let o = client(args(&server, &["--signed", "--ip-source", "10.0.0.1"])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("has been set to 10.0.0.1"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        ip_of(&server, "home.example.com", RecordType::A).await,
        Some("10.0.0.1".parse().unwrap())
    );
    let guard = store
        .get(&key)
        .await
        .unwrap()
        .unwrap()
        .state
        .last_signed
        .expect("the replay guard moved");
    // A second request in a later second goes through too: wait for the
    // clock to pass the guard's second.
    while std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        <= guard
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let o = client(args(&server, &["--signed", "--list-hosts"])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("printer.example.com."),
        "{}",
        stdout(&o)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_reports_its_prefix_and_the_followers_move() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path()).await;
    let router = Hostname::parse("home.example.com").unwrap();
    for (host, id) in [
        ("nas.example.com", "::211:32ff:fe12:3456"),
        ("cam.example.com", "::2"),
    ] {
        server
            .service()
            .store()
            .create(&Record::new(
                RecordKey::new(Hostname::parse(host).unwrap(), RecordType::Aaaa),
                RecordConfig::new(SharedSecret::new(format!("{host} secret"))).with_follow(
                    ddns_core::prefix::PrefixFollow::new(router.clone(), id.parse().unwrap()),
                ),
            ))
            .await
            .unwrap();
    }
    let o = client(args(&server, &["--ipv6-prefix", "2001:db8:1:2300::/56"])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("moved 2 of 2"), "{}", stdout(&o));
    assert_eq!(
        ip_of(&server, "nas.example.com", RecordType::Aaaa).await,
        Some("2001:db8:1:2300:211:32ff:fe12:3456".parse().unwrap())
    );
    assert_eq!(
        ip_of(&server, "cam.example.com", RecordType::Aaaa).await,
        Some("2001:db8:1:2300::2".parse().unwrap())
    );

    // From an interface without a global address: a clear error, nothing sent.
    let o = client(args(&server, &["--ipv6-prefix-from", "lo/56"])).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no global IPv6 address") && stderr(&o).contains("--ipv6-prefix"),
        "{}",
        stderr(&o)
    );
    // A prefix the server refuses is reported as its message.
    let o = client(args(&server, &["--ipv6-prefix", "2001:db8::/32"])).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/48 to /64"), "{}", stderr(&o));
    // Signed requests do not carry a prefix: said before anything is sent.
    let o = client(args(
        &server,
        &["--signed", "--ipv6-prefix", "2001:db8:1:2300::/56"],
    ))
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        ip_of(&server, "cam.example.com", RecordType::Aaaa).await,
        Some("2001:db8:1:2300::2".parse().unwrap()),
        "nothing moved"
    );
    server.shutdown().await;
}
