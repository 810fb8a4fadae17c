//! The `ddns-server` binary: admin subcommands on a real database, refusals
//! of bad configuration, and serving until SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use ddns_core::{HashToken, SharedSecret};

mod common;

fn bin() -> Command {
    common::server_command()
}

fn run(dir: &Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn err(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?} should fail: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn admin_commands_manage_records() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let added = ok(
        d,
        &[
            "add",
            "home.example.com",
            "--ttl",
            "120",
            "--mac",
            "51:6B:00:A6:F5:77",
        ],
    );
    assert!(
        added.starts_with("added home.example.com. (A, AAAA)"),
        "{added}"
    );
    let secret = common::printed_secret(&added);
    assert_eq!(secret.len(), 32, "128-bit secret");
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));

    // The database was created and seeded in the working directory.
    assert!(d.join("ddns.sqlite3").exists());
    let list = ok(d, &["list"]);
    assert!(
        list.contains("example-record.example.com.") && list.contains("home.example.com."),
        "{list}"
    );
    assert!(list.contains("4 record(s)"), "{list}");
    assert!(!list.contains(&secret), "list must not print secrets");
    assert!(ok(d, &["list", "--show-secrets"]).contains(&secret));

    let shown = ok(d, &["show", "home.example.com", "--type", "a"]);
    assert!(
        shown.contains("ttl             120") && shown.contains("51:6B:00:A6:F5:77"),
        "{shown}"
    );
    assert!(!shown.contains(&secret));
    assert!(ok(d, &["show", "home.example.com", "--show-secret"]).contains(&secret));

    assert!(ok(d, &["lock", "home.example.com"]).contains("locked home.example.com. A"));
    assert!(
        ok(d, &["show", "home.example.com", "--type", "aaaa"]).contains("lock_record     true")
    );
    ok(d, &["unlock", "home.example.com", "--type", "aaaa"]);
    assert!(
        ok(d, &["show", "home.example.com", "--type", "aaaa"]).contains("lock_record     false")
    );

    ok(
        d,
        &[
            "update",
            "home.example.com",
            "--ttl",
            "30",
            "--allow-internal",
            "true",
            "--comment",
            "router",
        ],
    );
    let shown = ok(d, &["show", "home.example.com", "--type", "a"]);
    assert!(
        shown.contains("ttl             30")
            && shown.contains("allow_internal  true")
            && shown.contains("router"),
        "{shown}"
    );

    // Signed requests: required on add, switched off and on by update.
    ok(
        d,
        &[
            "add",
            "signed.example.com",
            "--type",
            "a",
            "--require-signed",
        ],
    );
    let shown = ok(d, &["show", "signed.example.com"]);
    assert!(
        shown.contains("require_signed  true") && shown.contains("last_signed     -"),
        "{shown}"
    );
    ok(
        d,
        &["update", "signed.example.com", "--require-signed", "false"],
    );
    assert!(ok(d, &["show", "signed.example.com"]).contains("require_signed  false"));
    ok(d, &["remove", "signed.example.com"]);
    assert!(ok(d, &["show", "home.example.com", "--type", "a"]).contains("require_signed  false"));

    // token matches the hash a client computes, with the stored secret.
    let token = ok(
        d,
        &[
            "token",
            "--hostname",
            "home.example.com",
            "--ip",
            "198.51.100.7",
        ],
    );
    let expected = HashToken::compute_as_sent(
        "198.51.100.7".parse().unwrap(),
        &ddns_core::SentName::parse("home.example.com."),
        &SharedSecret::new(secret.clone()),
    );
    assert_eq!(token.trim(), expected.to_hex());
    let token = ok(
        d,
        &[
            "token",
            "--hostname",
            "x.example.com",
            "--ip",
            "2001:db8::1",
            "--secret",
            "s",
        ],
    );
    assert_eq!(
        token.trim(),
        HashToken::compute_as_sent(
            "2001:db8::1".parse().unwrap(),
            &ddns_core::SentName::parse("x.example.com."),
            &SharedSecret::new("s")
        )
        .to_hex()
    );

    // A given secret is not printed back.
    let added = ok(
        d,
        &[
            "add",
            "v4only.example.com",
            "--type",
            "a",
            "--secret",
            "given-secret",
        ],
    );
    assert!(
        !added.contains("given-secret") && added.contains("(A)"),
        "{added}"
    );

    // Refusals are clear and change nothing.
    assert!(err(d, &["add", "home.example.com"]).contains("already exists"));
    let outside = err(d, &["add", "elsewhere.example.org"]);
    assert!(
        outside.contains("in none of the zones") && outside.contains("(example.com.)"),
        "{outside}"
    );
    assert!(err(d, &["add", "bad_name.example.com"]).contains("bad_name.example.com"));
    assert!(err(d, &["add", "m.example.com", "--mac", "zz"]).contains("not a MAC address"));
    assert!(err(d, &["show", "nobody.example.com"]).contains("no record for nobody.example.com."));

    // Weak secrets: a warning, or a refusal with --strict.
    let out = run(d, &["add", "weak.example.com", "--secret", "short"]);
    assert!(out.status.success());
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(
        warning.contains("warning: the secret has about 30 bits of strength"),
        "{warning}"
    );
    assert!(
        !warning.contains("short"),
        "the warning must not repeat the secret: {warning}"
    );
    let e = err(
        d,
        &["add", "weak2.example.com", "--secret", "short", "--strict"],
    );
    assert!(e.contains("under the 128 required"), "{e}");
    assert!(
        err(d, &["show", "weak2.example.com"]).contains("no record"),
        "nothing was created"
    );
    let e = err(
        d,
        &["update", "weak.example.com", "--secret", "tiny", "--strict"],
    );
    assert!(e.contains("under the 128 required"), "{e}");
    let strong = run(
        d,
        &[
            "add",
            "strong.example.com",
            "--secret",
            "0123456789abcdef0123456789abcdef",
            "--strict",
        ],
    );
    assert!(
        strong.status.success() && strong.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&strong.stderr)
    );

    assert!(ok(d, &["remove", "home.example.com"]).contains("removed home.example.com. AAAA"));
    assert!(ok(d, &["list"]).contains("7 record(s)"));
}

#[test]
fn bad_configuration_is_refused_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("unknown.toml"),
        "[http]\nlisen = [\"127.0.0.1:8080\"]\n",
    )
    .unwrap();
    let e = err(d, &["--config", "unknown.toml", "list"]);
    assert!(e.contains("unknown.toml") && e.contains("lisen"), "{e}");

    std::fs::write(d.join("addr.toml"), "[dns]\nlisten = [\"localhost:53\"]\n").unwrap();
    let e = err(d, &["--config", "addr.toml", "list"]);
    assert!(e.contains("addr.toml") && e.contains("listen"), "{e}");

    let e = err(d, &["--config", "missing.toml", "list"]);
    assert!(
        e.contains("cannot read the configuration file missing.toml"),
        "{e}"
    );

    let e = err(d, &["--zone", "not a zone", "list"]);
    assert!(e.contains("zone.name = \"not a zone\""), "{e}");

    let e = bin()
        .current_dir(d)
        .args(["--http-listen", "nonsense", "list"])
        .output()
        .unwrap();
    assert!(!e.status.success());
    assert!(
        String::from_utf8_lossy(&e.stderr).contains("--http-listen"),
        "clap names the flag"
    );

    // A database whose directory is missing.
    let e = err(d, &["--db", "no/such/dir/x.sqlite3", "list"]);
    assert!(
        e.contains("no/such/dir") && e.contains("does not exist"),
        "{e}"
    );

    // Environment overrides work like flags.
    let out = bin()
        .current_dir(d)
        .env("DDNS_ZONE", "example.net")
        .args(["add", "h.example.net", "--secret", "s"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn serves_until_sigterm_logging_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        d,
        &[
            "add",
            "home.example.com",
            "--allow-internal",
            "--secret",
            "s3cret-never-logged",
        ],
    );
    let hash = ok(
        d,
        &[
            "token",
            "--hostname",
            "home.example.com",
            "--ip",
            "127.0.0.1",
        ],
    );
    let hash = hash.trim().to_owned();
    let mut command = bin();
    command.current_dir(d).args([
        "--http-listen",
        "127.0.0.1:0",
        "--dns-listen",
        "127.0.0.1:0",
        "--log",
        "debug",
    ]);
    let mut server = common::Spawned::start(command);
    let started = server
        .log()
        .into_iter()
        .find(|l| l.contains("ddns-server started"))
        .expect("the start is logged");
    assert!(started.contains("zones=[\"example.com.\"]"), "{started}");
    let request = format!(
        "GET /?mode=set&hostname=home.example.com&hash={hash} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    );
    let mut stream = std::net::TcpStream::connect(server.http).unwrap();
    std::io::Write::write_all(&mut stream, request.as_bytes()).unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    assert!(answer.contains("has been set to 127.0.0.1"), "{answer}");

    let status = server.stop();
    assert!(status.success(), "exit status {status}");
    let rest = server.log();
    assert!(
        rest.iter().any(|l| l.contains("mode=\"set\"")),
        "the request is logged: {rest:?}"
    );
    assert!(
        rest.iter().any(|l| l.contains("ddns-server stopped")),
        "{rest:?}"
    );
    for line in &rest {
        assert!(
            !line.contains(&hash) && !line.contains("s3cret-never-logged"),
            "a credential was logged: {line}"
        );
    }
}
