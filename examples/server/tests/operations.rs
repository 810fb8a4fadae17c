//! Running the server for real, through the binary: `--version`,
//! `check-config` on good and broken files, shell completions and man
//! pages, JSON logs parsed line by line, systemd's readiness protocol
//! (`READY=1`, `STOPPING=1`), the public example configuration
//! (`contrib/ddns.toml`) started on loopback ports, and a backup taken
//! during a stream of updates. `DDNS_TEST_SERVER_BIN` runs these against
//! another build (CI: the one `cargo install` put in a scratch root).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{Spawned, admin, basic, get, printed_secret, server_command};

/// Runs the binary in `dir` with `args`; its output, whatever the status.
fn run(dir: &Path, args: &[&str]) -> Output {
    server_command()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `contrib/ddns.toml` on loopback: free ports, the database and TLS
/// files in `dir` (a fresh self-signed certificate).
fn public_example_in(dir: &Path) -> String {
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    std::fs::write(dir.join("fullchain.pem"), generated.cert.pem()).unwrap();
    std::fs::write(
        dir.join("privkey.pem"),
        generated.signing_key.serialize_pem(),
    )
    .unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../contrib/ddns.toml"
    ))
    .unwrap();
    let adapted = text
        .replace("[::]:80", "127.0.0.1:0")
        .replace("[::]:443", "127.0.0.1:0")
        .replace("[::]:53", "127.0.0.1:0")
        .replace("127.0.0.1:8081", "127.0.0.1:0")
        .replace(
            "/run/credentials/ddns-server.service/",
            &format!("{}/", dir.display()),
        )
        .replace("/var/lib/ddns/", &format!("{}/", dir.display()));
    assert_ne!(adapted, text);
    adapted
}

#[test]
fn version_names_the_version_and_the_backends() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--version"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!("ddns-server {}", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    for backend in ["embedded", "rfc2136", "route53", "sqlite", "dynamodb"] {
        assert!(text.contains(backend), "{text}");
    }
}

#[test]
fn check_config_passes_a_good_file_and_names_the_setting_of_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("good.toml"), public_example_in(d)).unwrap();
    let good = run(d, &["--config", "good.toml", "check-config"]);
    assert!(good.status.success(), "{}", stderr(&good));
    let said = stdout(&good);
    for line in [
        "zone dyn.example.net.",
        "HTTPS: 127.0.0.1:0",
        "rate limits: on",
        "trusted proxies: none",
    ] {
        assert!(said.contains(line), "{line:?} in:\n{said}");
    }
    assert!(
        !d.join("ddns.sqlite3").exists(),
        "nothing was started or created"
    );

    for (text, setting) in [
        ("[http]\nmax_connections = 0\n", "http.max_connections"),
        ("[zone]\nname = \"not a zone!\"\n", "zone.name"),
        (
            "[limits]\nsource_prefix_v4 = 40\n",
            "limits.source_prefix_v4",
        ),
        ("[http]\nlisten = [\"nowhere\"]\n", "listen"),
        (
            "[tls]\nlisten = [\"127.0.0.1:0\"]\ncert = \"missing.pem\"\nkey = \"missing.pem\"\n",
            "tls.cert",
        ),
    ] {
        std::fs::write(d.join("broken.toml"), text).unwrap();
        let broken = run(d, &["--config", "broken.toml", "check-config"]);
        assert!(!broken.status.success(), "{text}");
        let error = stderr(&broken);
        assert!(error.contains(setting), "{setting} in: {error}");
        assert!(!error.contains("panicked"), "{error}");
    }
}

#[test]
fn completions_and_man_pages_come_from_the_command_line_definition() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for shell in ["bash", "zsh", "fish"] {
        let out = run(d, &["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(
            script.contains("check-config") && script.contains("admin-token"),
            "{shell}"
        );
    }
    let page = run(d, &["man"]);
    assert!(page.status.success());
    let page = stdout(&page);
    assert!(page.contains(".TH ddns-server 1"), "{page}");
    assert!(page.contains("check\\-config"), "{page}");
    let out = run(d, &["man", "--dir", "man"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for file in ["ddns-server.1", "ddns-server-backup.1", "ddns-server-add.1"] {
        assert!(d.join("man").join(file).exists(), "{file}");
    }
}

/// Lines of `child`'s stderr, read on a thread.
fn lines(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    let stderr = child.stderr.take().unwrap();
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

const LOOPBACK: &str = "[http]\nlisten = [\"127.0.0.1:0\"]\ntrusted_proxies = [\"127.0.0.1/32\"]\n\
    [dns]\nlisten = [\"127.0.0.1:0\"]\n[store]\nkind = \"sqlite\"\npath = \"ddns.sqlite3\"\n";

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_are_one_object_per_line_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("ddns.toml"), LOOPBACK).unwrap();
    let secret = printed_secret(&admin(
        d,
        &["--config", "ddns.toml", "add", "home.example.com"],
    ));
    let mut child = server_command()
        .current_dir(d)
        .args(["--config", "ddns.toml"])
        .env("DDNS_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = lines(&mut child);
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let http: SocketAddr = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = log
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no start line; the log:\n{}", seen.join("\n")));
        let object: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        seen.push(line);
        if object["fields"]["message"] == "ddns-server started" {
            let listed = object["fields"]["http"].as_str().unwrap();
            break listed.trim_matches(['[', ']']).parse().unwrap();
        }
    };
    // A refused and an accepted update, so that the request lines show.
    let wrong = get(
        http,
        "/nic/update?hostname=home.example.com&myip=198.51.100.7",
        &[(
            "Authorization",
            &basic("home.example.com", "wrong-password"),
        )],
    )
    .await;
    assert_eq!(wrong.status, 401);
    let good = get(
        http,
        "/nic/update?hostname=home.example.com&myip=198.51.100.7",
        &[("Authorization", &basic("home.example.com", &secret))],
    )
    .await;
    assert!(good.body.starts_with("good"), "{}", good.body);
    let status = common::terminate(&mut child);
    assert!(status.success(), "{status}");
    seen.extend(log.iter());
    let mut answered = 0;
    for line in &seen {
        let object: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            object["timestamp"].is_string() && object["level"].is_string(),
            "{line}"
        );
        assert!(object["fields"]["message"].is_string(), "{line}");
        assert!(
            !line.contains(&secret) && !line.contains("wrong-password"),
            "{line}"
        );
        if object["fields"]["message"] == "answered" {
            answered += 1;
        }
    }
    assert!(answered >= 1, "no request line in:\n{}", seen.join("\n"));
    assert!(seen.last().unwrap().contains("ddns-server stopped"));
}

#[cfg(unix)]
#[test]
fn systemd_hears_ready_then_stopping_and_the_server_exits_cleanly() {
    use std::os::unix::net::UnixDatagram;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("ddns.toml"), LOOPBACK).unwrap();
    let socket_path = d.join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut command = server_command();
    command
        .current_dir(d)
        .args(["--config", "ddns.toml"])
        .env("NOTIFY_SOCKET", &socket_path);
    let mut server = Spawned::start(command);
    let mut buf = [0u8; 256];
    let n = socket.recv(&mut buf).expect("READY=1 within 30 s");
    let message = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(message.lines().any(|l| l == "READY=1"), "{message:?}");
    // Ready means ready: the API answers now.
    assert!(
        common::http_status_line(server.http, "/healthz")
            .unwrap()
            .starts_with("HTTP/1.1 200")
    );
    let status = server.stop();
    assert!(status.success(), "{status}");
    let n = socket.recv(&mut buf).expect("STOPPING=1");
    let message = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(message.lines().any(|l| l == "STOPPING=1"), "{message:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_public_example_configuration_serves_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("ddns.toml"), public_example_in(d)).unwrap();
    let secret = printed_secret(&admin(
        d,
        &["--config", "ddns.toml", "add", "home.dyn.example.net"],
    ));
    let mut command = server_command();
    command.current_dir(d).args(["--config", "ddns.toml"]);
    let server = Spawned::start(command);
    let started = server
        .wait_for_log("ddns-server started", Duration::from_secs(1))
        .unwrap();
    assert!(started.contains("https=[127.0.0.1:"), "{started}");
    assert!(server.admin.is_some(), "{started}");
    // With no trusted proxy, the router's update is taken from its own
    // address; loopback is internal, so a default record refuses it.
    let update = get(
        server.http,
        "/nic/update?hostname=home.dyn.example.net",
        &[("Authorization", &basic("home.dyn.example.net", &secret))],
    )
    .await;
    assert_eq!(update.body.trim(), "abuse", "{}", update.body);
    let dns = server.dns.unwrap();
    ddns_testkit::probe::soa_answered(dns, "dyn.example.net", false).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join("ddns.sqlite3"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the database is private");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_during_updates_holds_every_change_acknowledged_before_it() {
    const HOSTS: usize = 16;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A stream of updates from a few hosts: the per-host limits would
    // refuse most of it (tests/limits.rs tests them).
    std::fs::write(
        d.join("ddns.toml"),
        format!("{LOOPBACK}[limits]\nenabled = false\n"),
    )
    .unwrap();
    let mut secrets = Vec::new();
    for i in 0..HOSTS {
        let host = format!("h{i:02}.example.com");
        secrets.push((
            host.clone(),
            printed_secret(&admin(d, &["--config", "ddns.toml", "add", &host])),
        ));
    }
    let mut command = server_command();
    command.current_dir(d).args(["--config", "ddns.toml"]);
    let mut server = Spawned::start(command);
    let http = server.http;

    // Each host's client moves its address in turn; every acknowledged
    // address is noted, in order.
    let acknowledged =
        std::sync::Arc::new(std::sync::Mutex::new(vec![Vec::<String>::new(); HOSTS]));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (progress, mut updates) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut clients = tokio::task::JoinSet::new();
    for (i, (host, secret)) in secrets.iter().cloned().enumerate() {
        let (acknowledged, stop, progress) = (acknowledged.clone(), stop.clone(), progress.clone());
        clients.spawn(async move {
            let auth = basic(&host, &secret);
            for step in 1..=250u32 {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let address = if i % 2 == 0 {
                    format!("198.51.100.{step}")
                } else {
                    format!("203.0.113.{step}")
                };
                let reply = get(
                    http,
                    &format!("/nic/update?hostname={host}&myip={address}"),
                    &[("Authorization", &auth)],
                )
                .await;
                assert!(reply.body.starts_with("good"), "{host}: {}", reply.body);
                acknowledged.lock().unwrap()[i].push(address);
                let _ = progress.send(());
            }
        });
    }
    // Let the stream run, then back up while it goes on.
    // Woken by each acknowledged update (no sleep), for at most 60 s.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged
        .lock()
        .unwrap()
        .iter()
        .map(Vec::len)
        .min()
        .unwrap()
        < 20
    {
        if let Some(done) = clients.try_join_next() {
            done.unwrap();
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let woke = tokio::time::timeout(left, updates.recv()).await;
        assert!(
            matches!(woke, Ok(Some(()))),
            "the clients did not make 20 updates each within 60 s; the log:\n{}",
            server.log().join("\n")
        );
    }
    let before: Vec<usize> = acknowledged.lock().unwrap().iter().map(Vec::len).collect();
    let out = run(d, &["--config", "ddns.toml", "backup", "backup.sqlite3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after: Vec<usize> = acknowledged.lock().unwrap().iter().map(Vec::len).collect();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    while let Some(done) = clients.join_next().await {
        done.unwrap();
    }
    assert!(
        after.iter().zip(&before).any(|(a, b)| a > b),
        "updates went on during the backup"
    );

    let copy = d.join("backup.sqlite3");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(verdict, "ok");
    drop(conn);
    let store = ddns_sqlite::SqliteStore::open(&copy).await.unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    let mut backed_up = Vec::new();
    for (i, (host, _)) in secrets.iter().enumerate() {
        let state =
            ddns_testkit::records::stored_state(&store, host, ddns_core::RecordType::A).await;
        let held = state.values.first().map(ToString::to_string).unwrap();
        let position = acknowledged[i]
            .iter()
            .position(|a| *a == held)
            .unwrap_or_else(|| panic!("{host}: the backup holds {held}, never acknowledged"));
        assert!(
            position + 1 >= before[i],
            "{host}: the backup holds change {} but {} were acknowledged before it began",
            position + 1,
            before[i]
        );
        backed_up.push(held);
    }
    drop(store);

    // Restore: refused while the server runs, done once it stopped.
    let refused = run(d, &["--config", "ddns.toml", "restore", "backup.sqlite3"]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("running"), "{}", stderr(&refused));
    assert!(server.stop().success());
    let restored = run(d, &["--config", "ddns.toml", "restore", "backup.sqlite3"]);
    assert!(restored.status.success(), "{}", stderr(&restored));
    let store = ddns_sqlite::SqliteStore::open(d.join("ddns.sqlite3"))
        .await
        .unwrap();
    for ((host, _), held) in secrets.iter().zip(&backed_up) {
        let state =
            ddns_testkit::records::stored_state(&store, host, ddns_core::RecordType::A).await;
        assert_eq!(
            state.values.first().map(ToString::to_string).as_ref(),
            Some(held),
            "{host}"
        );
    }
}
