//! HTTPS in ddns-server: the seed API over TLS beside plain HTTP, the
//! certificate reloaded on SIGHUP (a bad one refused, the old one kept),
//! unusable files refused at start naming the setting, and the admin
//! listener over HTTPS with `Secure` cookies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

mod common;

/// A fresh self-signed certificate for `localhost` and 127.0.0.1: (cert
/// PEM, key PEM, cert DER).
fn certificate() -> (String, String, Vec<u8>) {
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    (
        generated.cert.pem(),
        generated.signing_key.serialize_pem(),
        generated.cert.der().to_vec(),
    )
}

fn write_pair(dir: &Path, cert: &str, key: &str) {
    // Written beside and renamed, as certbot and friends do.
    for (name, text) in [("cert.pem", cert), ("key.pem", key)] {
        let tmp = dir.join(format!("{name}.new"));
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, dir.join(name)).unwrap();
    }
}

fn config(dir: &Path) -> String {
    format!(
        "[http]\nlisten = [\"127.0.0.1:0\"]\n[dns]\nlisten = [\"127.0.0.1:0\"]\n\
         [tls]\nlisten = [\"127.0.0.1:0\"]\ncert = \"{0}/cert.pem\"\nkey = \"{0}/key.pem\"\n\
         [store]\nkind = \"sqlite\"\npath = \"{0}/ddns.sqlite3\"\n",
        dir.display()
    )
}

/// The server's log lines, read on a thread.
fn log_lines(child: &mut Child) -> Receiver<String> {
    let stderr = child.stderr.take().unwrap();
    let (send, receive) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

fn wait_for(lines: &Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("the server never logged {needle:?}");
}

fn connector(trusted: &[&[u8]]) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    for der in trusted {
        roots.add(CertificateDer::from(der.to_vec())).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// `GET /?mode=get` over TLS: (the server's certificate, the response).
async fn https_get(port: u16, connector: &TlsConnector) -> (Vec<u8>, String) {
    https_get_path(port, connector, "/?mode=get").await
}

/// `GET path` over TLS: (the server's certificate, the response).
async fn https_get_path(port: u16, connector: &TlsConnector, path: &str) -> (Vec<u8>, String) {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    let served = tls.get_ref().1.peer_certificates().unwrap()[0].to_vec();
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = String::new();
    // The server may close without close_notify after Connection: close.
    let _ = tls.read_to_string(&mut answer).await;
    (served, answer)
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_serves_the_api_and_reloads_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (cert_a, key_a, der_a) = certificate();
    let (cert_b, key_b, der_b) = certificate();
    write_pair(d, &cert_a, &key_a);
    std::fs::write(d.join("ddns.toml"), config(d)).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_ddns-server"))
        .args(["--config", &d.join("ddns.toml").display().to_string()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = log_lines(&mut child);
    let started = wait_for(&lines, "ddns-server started");
    let https = common::logged_port(&started, "https");
    let http = common::logged_port(&started, "http");
    let trust_both = connector(&[&der_a, &der_b]);

    let (served, answer) = https_get(https, &trust_both).await;
    assert_eq!(served, der_a, "the configured certificate is served");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.ends_with(r#"{"return_message": "127.0.0.1", "return_status": "success"}"#),
        "{answer}"
    );
    // A client that does not trust the certificate is refused.
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", https))
        .await
        .unwrap();
    let untrusted = connector(&[&der_b])
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await;
    assert!(untrusted.is_err(), "an untrusted certificate must fail");
    // Plain HTTP stays available.
    let mut plain = tokio::net::TcpStream::connect(("127.0.0.1", http))
        .await
        .unwrap();
    plain
        .write_all(b"GET /?mode=get HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    plain.read_to_string(&mut answer).await.unwrap();
    assert!(
        answer.contains(r#""return_message": "127.0.0.1""#),
        "{answer}"
    );

    // SIGHUP after the files changed: new connections get the new one.
    write_pair(d, &cert_b, &key_b);
    signal(&child, "HUP");
    wait_for(&lines, "TLS certificate reloaded");
    let (served, answer) = https_get(https, &trust_both).await;
    assert_eq!(served, der_b, "the reloaded certificate is served");
    assert!(answer.contains("127.0.0.1"), "{answer}");

    // A key that does not belong to the certificate: refused, B kept.
    write_pair(d, &cert_a, &key_b);
    signal(&child, "HUP");
    let refused = wait_for(&lines, "TLS certificate not reloaded");
    assert!(refused.contains("tls.key"), "{refused}");
    let (served, _) = https_get(https, &trust_both).await;
    assert_eq!(
        served, der_b,
        "a failed reload keeps the certificate in use"
    );

    let status = common::terminate(&mut child);
    assert!(status.success(), "exit status {status}");
}

#[tokio::test]
async fn unusable_files_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let start = |text: String| async move {
        let config = ddns_server::Config::parse(&text)
            .unwrap()
            .validate()
            .unwrap();
        match ddns_server::RunningServer::start(config).await {
            Ok(server) => {
                server.shutdown().await;
                panic!("the server started with unusable TLS files");
            }
            Err(e) => e.to_string(),
        }
    };
    let missing = start(config(d)).await;
    assert!(
        missing.contains("tls.cert") && missing.contains("cert.pem"),
        "{missing}"
    );

    let (cert_a, _, _) = certificate();
    let (_, key_b, _) = certificate();
    write_pair(d, &cert_a, "not a key");
    let garbage = start(config(d)).await;
    assert!(
        garbage.contains("tls.key") && garbage.contains("private key"),
        "{garbage}"
    );

    write_pair(d, &cert_a, &key_b);
    let mismatch = start(config(d)).await;
    assert!(mismatch.contains("cannot be used together"), "{mismatch}");

    let empty = ddns_server::Config::parse(&format!(
        "[tls]\nlisten = []\ncert = \"{0}/cert.pem\"\nkey = \"{0}/key.pem\"\n",
        d.display()
    ))
    .unwrap()
    .validate()
    .unwrap_err()
    .to_string();
    assert!(empty.contains("tls.listen"), "{empty}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_listener_speaks_https_with_secure_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (cert, key, der) = certificate();
    write_pair(d, &cert, &key);
    let text = format!(
        "{}[admin_http]\nlisten = [\"127.0.0.1:0\"]\ntls = true\n",
        config(d)
    );
    std::fs::write(d.join("ddns.toml"), text).unwrap();
    let mut command = common::server_command();
    command.current_dir(d).args(["--config", "ddns.toml"]);
    let server = common::Spawned::start(command);
    let admin = server.admin.expect("an admin listener").port();
    let (served, answer) = https_get_path(admin, &connector(&[&der]), "/").await;
    assert_eq!(served, der);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("Sign in"), "{answer}");
    let cookie = answer
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie in {answer}"));
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    // Plain HTTP on the admin port is no way in.
    let plain = common::http_status_line(server.admin.unwrap(), "/");
    assert!(
        !plain.as_deref().unwrap_or("").starts_with("HTTP/1.1 200"),
        "{plain:?}"
    );

    let without = ddns_server::Config::parse("[admin_http]\ntls = true\n")
        .unwrap()
        .validate()
        .unwrap_err()
        .to_string();
    assert!(
        without.contains("admin_http.tls") && without.contains("[tls]"),
        "{without}"
    );
}
