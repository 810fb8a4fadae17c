//! Real dyndns2 clients from Debian against the server: ddclient 3.10 and
//! inadyn 2.10, each configured by the test to talk plain HTTP to
//! 127.0.0.1 with a forced address, run once; the record is then checked in
//! the store and in DNS. A wrong password must make each client report an
//! authentication failure.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::Command;

use common::{addresses, config_in, query, stored_state};
use ddns_core::{Hostname, Record, RecordConfig, RecordKey, RecordType, SharedSecret};
use ddns_server::RunningServer;
use hickory_net::proto::rr::RecordType as Rt;

const SECRET: &str = "client-secret-0123456789";

fn tool(name: &str, package: &str) -> Option<std::path::PathBuf> {
    ddns_testkit::tools::required(name, &format!("apt-get install {package}"))
}

async fn server(dir: &Path) -> RunningServer {
    let server = RunningServer::start(config_in(dir, |c| c.http.trusted_proxies.clear()))
        .await
        .unwrap();
    let key = RecordKey::new(Hostname::parse("home.example.com").unwrap(), RecordType::A);
    let config = RecordConfig::new(SharedSecret::new(SECRET))
        .with_allow_internal(true)
        .with_ttl(90);
    server
        .service()
        .store()
        .create(&Record::new(key, config))
        .await
        .unwrap();
    server
}

async fn check(server: &RunningServer, ip: &str) {
    let state = stored_state(server, "home.example.com", RecordType::A).await;
    assert_eq!(
        state.address(),
        Some(ip.parse().unwrap()),
        "the store holds the address"
    );
    let answer = query(server.dns_addrs()[0], "home.example.com.", Rt::A).await;
    assert_eq!(
        addresses(&answer),
        [(ip.parse::<IpAddr>().unwrap(), 90)],
        "DNS answers the address"
    );
}

async fn run(command: Command) -> String {
    let mut command = command;
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ddclient_command(
    binary: &Path,
    dir: &Path,
    http: SocketAddr,
    password: &str,
    ip: &str,
    name: &str,
) -> Command {
    let conf = dir.join(format!("{name}.conf"));
    std::fs::write(
        &conf,
        format!(
            "daemon=0\nsyslog=no\nssl=no\nprotocol=dyndns2\nserver=127.0.0.1:{}\nlogin=home.example.com\npassword='{password}'\nuse=ip, ip={ip}\nhome.example.com\n",
            http.port()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&conf, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let mut c = Command::new(binary);
    c.args(["-daemon=0", "-foreground", "-force", "-verbose", "-file"])
        .arg(&conf)
        .arg("-cache")
        .arg(dir.join(format!("{name}.cache")));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddclient_updates_and_reports_bad_passwords() {
    let Some(ddclient) = tool("ddclient", "ddclient") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path()).await;
    let http = server.http_addrs()[0];

    let out = run(ddclient_command(
        &ddclient,
        dir.path(),
        http,
        SECRET,
        "198.51.100.7",
        "good",
    ))
    .await;
    assert!(
        out.contains("SUCCESS:  updating home.example.com: good: IP address set to 198.51.100.7"),
        "{out}"
    );
    check(&server, "198.51.100.7").await;

    let out = run(ddclient_command(
        &ddclient,
        dir.path(),
        http,
        "wrong",
        "198.51.100.8",
        "bad",
    ))
    .await;
    assert!(
        out.contains("FAILED:") && out.contains("authorization failed"),
        "{out}"
    );
    check(&server, "198.51.100.7").await;
    server.shutdown().await;
}

fn inadyn_command(
    binary: &Path,
    dir: &Path,
    http: SocketAddr,
    password: &str,
    ip: &str,
    name: &str,
) -> Command {
    let conf = dir.join(format!("{name}.conf"));
    std::fs::write(
        &conf,
        format!(
            "period = 300\ncustom test {{\n    username    = home.example.com\n    password    = {password}\n    ddns-server = 127.0.0.1:{}\n    ddns-path   = \"/nic/update?hostname=%h&myip=%i\"\n    ssl         = false\n    hostname    = home.example.com\n}}\n",
            http.port()
        ),
    )
    .unwrap();
    let mut c = Command::new(binary);
    c.args([
        "--once",
        "--force",
        "--foreground",
        "--loglevel=info",
        "--cmd",
    ])
    .arg(format!("echo {ip}"))
    .arg("--config")
    .arg(&conf)
    .arg(format!(
        "--cache-dir={}",
        dir.join(format!("{name}-cache")).display()
    ))
    .arg(format!(
        "--pidfile={}",
        dir.join(format!("{name}.pid")).display()
    ));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inadyn_updates_and_reports_bad_passwords() {
    let Some(inadyn) = tool("inadyn", "inadyn") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path()).await;
    let http = server.http_addrs()[0];

    let out = run(inadyn_command(
        &inadyn,
        dir.path(),
        http,
        SECRET,
        "198.51.100.9",
        "good",
    ))
    .await;
    assert!(
        out.contains("Successful alias table update for home.example.com => new IP# 198.51.100.9"),
        "{out}"
    );
    check(&server, "198.51.100.9").await;

    let out = run(inadyn_command(
        &inadyn,
        dir.path(),
        http,
        "wrong",
        "198.51.100.10",
        "bad",
    ))
    .await;
    assert!(out.contains("Authentication failure"), "{out}");
    check(&server, "198.51.100.9").await;
    server.shutdown().await;
}
