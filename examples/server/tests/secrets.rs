//! No secret is ever logged, counted or echoed: the real binary, logging at
//! `trace`, is driven through every protocol and failure path (hash token,
//! signed request, dyndns2 password, API key, a DNS backend that fails,
//! rate limiting, malformed input), with clients at public addresses
//! through a trusted loopback proxy. Then its whole log (from the first
//! line), its `/metrics` and every answer (status line, headers, body) are
//! searched for every secret, hash, signature, password, API key,
//! `Authorization` value and TSIG key that was configured or sent.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::net::SocketAddr;
use std::path::Path;

use common::{Reply, Spawned, admin, basic, get, home_hash, server_command};
use ddns_core::signed::{Nonce, SignedMessage, SignedMode, SignedProof};
use ddns_core::{Hostname, SharedSecret};

const SECRET: &str = "home-secret-never-logged-0a1b2c3d";
const API_KEY: &str = "api-key-never-logged-4e5f6a7b";
const WRONG_API_KEY: &str = "wrong-api-key-never-logged-8c9d";
const WRONG_PASSWORD: &str = "wrong-password-never-logged-0e1f";
const TSIG_SECRET: &str = "dHNpZy1zZWNyZXQtbmV2ZXItbG9nZ2VkLTAxMjM0NTY3";
const OWNER: &str = "198.51.100.7";
const STRANGER: &str = "203.0.113.50";

/// Everything sent or configured that must never come back out.
#[derive(Default)]
struct Secrets(Vec<String>);

impl Secrets {
    fn keep(&mut self, value: impl Into<String>) -> String {
        let value = value.into();
        self.0.push(value.clone());
        value
    }

    /// Fails naming `what` and the secret when `text` holds one.
    fn assert_absent(&self, what: &str, text: &str) {
        for secret in &self.0 {
            assert!(
                !text.contains(secret.as_str()),
                "{what} holds the secret {secret:?}:\n{text}"
            );
        }
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A signed `mode` of home.example.com from OWNER under `secret`; the
/// query and its signature.
fn signed(mode: SignedMode, secret: &str) -> (String, String) {
    let message = SignedMessage::new(
        mode,
        Hostname::parse("home.example.com").unwrap(),
        OWNER.parse().unwrap(),
        now(),
        Nonce::generate().unwrap(),
    );
    let proof = SignedProof::for_message(&message, &SharedSecret::new(secret));
    let query = format!(
        "/?mode={}&hostname=home.example.com&signature={}&timestamp={}&nonce={}",
        mode.as_str(),
        proof.signature,
        proof.timestamp,
        proof.nonce
    );
    (query, proof.signature)
}

/// A server in `dir` on `config`, with home.example.com made by plain
/// `add` (A and AAAA), logging everything.
fn start(dir: &Path, config: &str) -> Spawned {
    std::fs::write(dir.join("ddns.toml"), config).unwrap();
    admin(
        dir,
        &[
            "--config",
            "ddns.toml",
            "add",
            "home.example.com",
            "--secret",
            SECRET,
        ],
    );
    let mut command = server_command();
    command
        .current_dir(dir)
        .args(["--config", "ddns.toml", "--log", "trace"]);
    Spawned::start(command)
}

/// Sends a request from `source` (through the trusted proxy) and keeps the
/// whole answer for the final search.
async fn ask(
    answers: &mut Vec<Reply>,
    http: SocketAddr,
    path: &str,
    source: &str,
    headers: &[(&str, &str)],
) -> usize {
    let mut all = vec![("X-Forwarded-For", source)];
    all.extend_from_slice(headers);
    answers.push(get(http, path, &all).await);
    answers.len() - 1
}

fn answer_text(reply: &Reply) -> String {
    let headers: Vec<String> = reply
        .headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}"))
        .collect();
    format!("{}\n{}\n{}", reply.status, headers.join("\n"), reply.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_log_the_metrics_or_an_answer() {
    let mut secrets = Secrets::default();
    secrets.keep(SECRET);
    secrets.keep(API_KEY);
    secrets.keep(WRONG_API_KEY);
    secrets.keep(WRONG_PASSWORD);
    secrets.keep(TSIG_SECRET);
    let key = [("x-api-key", API_KEY)];
    let mut answers = Vec::new();
    // Each refused request comes from an address of its own, so that no
    // refusal spends another's budget (the stranger below spends one).
    let mut probers = 30u8..;
    let mut prober = || format!("198.51.100.{}", probers.next().unwrap());

    // The embedded DNS: every protocol, successes and refusals.
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(
        dir.path(),
        &format!(
            "[http]\nlisten = [\"127.0.0.1:0\"]\ntrusted_proxies = [\"127.0.0.1/32\"]\n\
             api_keys = [\"{API_KEY}\"]\n[dns]\nlisten = [\"127.0.0.1:0\"]\n[zone]\n\
             name = \"example.com\"\n[store]\nkind = \"sqlite\"\npath = \"ddns.sqlite3\"\n"
        ),
    );
    let http = server.http;
    let good = secrets.keep(home_hash(OWNER, SECRET));
    let i = ask(&mut answers, http, "/?mode=get", OWNER, &key).await;
    assert!(answers[i].body.contains(OWNER), "{}", answers[i].body);
    let path = format!("/?mode=set&hostname=home.example.com&hash={good}");
    let i = ask(&mut answers, http, &path, OWNER, &key).await;
    assert!(
        answers[i].body.contains("has been set to 198.51.100.7"),
        "{}",
        answers[i].body
    );
    let path = format!("/?mode=list_hosts&hostname=home.example.com&hash={good}");
    ask(&mut answers, http, &path, OWNER, &key).await;
    // Wrong hash, missing and wrong API key, malformed hash and name.
    let wrong = secrets.keep(home_hash(OWNER, "not the secret"));
    let path = format!("/?mode=set&hostname=home.example.com&hash={wrong}");
    let i = ask(&mut answers, http, &path, &prober(), &key).await;
    assert!(
        answers[i].body.contains("Validation hashes do not match."),
        "{}",
        answers[i].body
    );
    let path = format!("/?mode=set&hostname=home.example.com&hash={good}");
    let i = ask(&mut answers, http, &path, &prober(), &[]).await;
    assert_eq!(answers[i].status, 403, "no API key");
    let i = ask(
        &mut answers,
        http,
        &path,
        &prober(),
        &[("x-api-key", WRONG_API_KEY)],
    )
    .await;
    assert_eq!(answers[i].status, 403, "a wrong API key");
    let short = secrets.keep("0123456789abcdef0123");
    let path = format!("/?mode=set&hostname=home.example.com&hash={short}");
    ask(&mut answers, http, &path, &prober(), &key).await;
    let path = format!("/?mode=set&hostname=not_a..name&hash={good}");
    ask(&mut answers, http, &path, &prober(), &key).await;
    // Signed: a good set and list, a wrong signature, a malformed one.
    let (query, signature) = signed(SignedMode::Set, SECRET);
    secrets.keep(signature);
    let i = ask(&mut answers, http, &query, OWNER, &key).await;
    assert_eq!(answers[i].status, 200, "{}", answers[i].body);
    let (query, signature) = signed(SignedMode::ListHosts, SECRET);
    secrets.keep(signature);
    ask(&mut answers, http, &query, OWNER, &key).await;
    let (query, signature) = signed(SignedMode::Set, "not the secret");
    secrets.keep(signature);
    let i = ask(&mut answers, http, &query, OWNER, &key).await;
    assert!(
        answers[i]
            .body
            .contains("Validation signatures do not match."),
        "{}",
        answers[i].body
    );
    let malformed = secrets.keep("zz".repeat(32));
    let path = format!(
        "/?mode=set&hostname=home.example.com&signature={malformed}&timestamp={}&nonce=0123456789abcdef",
        now()
    );
    ask(&mut answers, http, &path, &prober(), &key).await;
    // dyndns2: good, a wrong password, a malformed Authorization.
    let authorization = secrets.keep(basic("home.example.com", SECRET));
    secrets.keep(authorization.trim_start_matches("Basic "));
    let i = ask(
        &mut answers,
        http,
        "/nic/update?hostname=home.example.com&myip=198.51.100.8",
        OWNER,
        &[("Authorization", &authorization)],
    )
    .await;
    assert_eq!(answers[i].body, "good 198.51.100.8\n");
    let refused = secrets.keep(basic("home.example.com", WRONG_PASSWORD));
    secrets.keep(refused.trim_start_matches("Basic "));
    let i = ask(
        &mut answers,
        http,
        "/nic/update?hostname=home.example.com",
        &prober(),
        &[("Authorization", &refused)],
    )
    .await;
    assert_eq!(answers[i].body, "badauth\n");
    let garbled = secrets.keep("Basic !!never-logged-garble!!");
    ask(
        &mut answers,
        http,
        "/nic/update?hostname=home.example.com",
        &prober(),
        &[("Authorization", &garbled)],
    )
    .await;
    // A stranger guessing hashes until the limiter refuses.
    let mut limited = false;
    for n in 0..40 {
        let guess = secrets.keep(home_hash(STRANGER, &format!("guess {n}")));
        let path = format!("/?mode=set&hostname=home.example.com&hash={guess}");
        let i = ask(&mut answers, http, &path, STRANGER, &key).await;
        if answers[i].body.contains("Too many requests") {
            limited = true;
            break;
        }
    }
    assert!(limited, "the stranger was never rate-limited");
    let metrics = get(http, "/metrics", &[]).await;
    assert_eq!(metrics.status, 200);
    secrets.assert_absent("/metrics", &answer_text(&metrics));
    assert!(server.stop().success());
    let log = server.log().join("\n");
    assert!(
        log.contains("mode=\"set\"") && log.contains("TRACE"),
        "the log is at trace level and holds the requests:\n{log}"
    );
    secrets.assert_absent("the log of the embedded server", &log);

    // A DNS backend that fails: RFC 2136 with a TSIG key, to a port where
    // nothing listens.
    let dead = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(
        dir.path(),
        &format!(
            "[http]\nlisten = [\"127.0.0.1:0\"]\ntrusted_proxies = [\"127.0.0.1/32\"]\n\
             [zone]\nname = \"example.com\"\n[store]\nkind = \"sqlite\"\npath = \"ddns.sqlite3\"\n\
             [provider]\nkind = \"rfc2136\"\nserver = \"{dead}\"\nkey_name = \"ddns-key\"\n\
             key_secret = \"{TSIG_SECRET}\"\ntimeout_secs = 1\n"
        ),
    );
    let path = format!("/?mode=set&hostname=home.example.com&hash={good}");
    let i = ask(&mut answers, server.http, &path, OWNER, &[]).await;
    assert!(
        answers[i]
            .body
            .contains("The DNS backend is temporarily unavailable"),
        "{}",
        answers[i].body
    );
    let i = ask(
        &mut answers,
        server.http,
        "/nic/update?hostname=home.example.com&myip=198.51.100.9",
        OWNER,
        &[("Authorization", &authorization)],
    )
    .await;
    assert_eq!(answers[i].body, "dnserr\n");
    assert!(server.stop().success());
    let log = server.log().join("\n");
    assert!(
        log.contains("backend failure") && log.contains("outcome=\"dnserr\""),
        "the backend failures are logged:\n{log}"
    );
    secrets.assert_absent("the log of the RFC 2136 server", &log);

    for reply in &answers {
        secrets.assert_absent("an answer", &answer_text(reply));
    }
    println!(
        "{} answers, two whole trace logs and /metrics hold none of {} secrets",
        answers.len(),
        secrets.0.len()
    );
}
