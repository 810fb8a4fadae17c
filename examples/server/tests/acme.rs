//! ACME DNS-01 with the clients people already run and a real CA, all on
//! loopback: pebble (the ACME test CA) validates against the embedded DNS
//! (or against BIND behind the rfc2136 provider) while lego (httpreq,
//! rfc2136) and certbot (certbot-dns-rfc2136; the manual plugin with the
//! acme-dns client library pyacmedns) get a certificate for
//! `home.example.com` and `*.home.example.com` with nothing but the
//! record's own secret, a record made with `add HOST` and its defaults.
//! Then `nsupdate` with the record's key: its own address yes, anything
//! else REFUSED, wrong keys BADKEY/BADSIG, a stale time BADTIME; and
//! hostile messages that change nothing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Spawned, admin, basic, dig, post, server_command};
use ddns_testkit::acme::Pebble;
use ddns_testkit::servers::{DnsServer, KEY_NAME};
use ddns_testkit::tools::{missing, required};

const HOST: &str = "home.example.com";

/// A server with `config` in a fresh directory, `home.example.com` added
/// with the defaults, and its secret.
struct Setup {
    dir: tempfile::TempDir,
    server: Spawned,
    secret: String,
}

fn config_text(extra: &str) -> String {
    format!(
        "[http]\nlisten = [\"127.0.0.1:0\"]\n[dns]\nlisten = [\"127.0.0.1:0\"]\n[store]\nkind = \"sqlite\"\npath = \"ddns.sqlite3\"\n{extra}\n"
    )
}

fn setup(extra: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("acme.toml"), config_text(extra)).unwrap();
    let secret = add(dir.path(), HOST);
    let mut command = server_command();
    command
        .current_dir(dir.path())
        .args(["--config", "acme.toml"]);
    let server = Spawned::start(command);
    Setup {
        dir,
        server,
        secret,
    }
}

/// `add host` with the defaults; returns the secret it printed.
fn add(dir: &Path, host: &str) -> String {
    common::printed_secret(&admin(dir, &["--config", "acme.toml", "add", host]))
}

impl Setup {
    fn dns(&self) -> SocketAddr {
        self.server.dns.expect("the embedded DNS")
    }

    fn api(&self) -> String {
        format!("http://{}", self.server.http)
    }

    fn tsig_secret(&self) -> String {
        ddns_core::SharedSecret::new(self.secret.as_str()).tsig_base64()
    }

    /// The `acme-settings` line that starts with `prefix`.
    fn setting(&self, prefix: &str) -> String {
        let out = admin(
            self.dir.path(),
            &[
                "--config",
                "acme.toml",
                "acme-settings",
                HOST,
                "--api-url",
                &self.api(),
                "--dns-server",
                &self.dns().to_string(),
            ],
        );
        out.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{out}"))
            .to_owned()
    }
}

/// `dig +short name TXT` at `dns`, one value per line ("" for none).
fn txt(dns: SocketAddr, name: &str) -> String {
    ddns_testkit::dns::dig_short(dns, name, "TXT").unwrap_or_default()
}

/// `dig +short name A` at `dns`.
fn a(dns: SocketAddr, name: &str) -> String {
    ddns_testkit::dns::dig_short(dns, name, "A").unwrap_or_default()
}

/// The tools a test needs, or `None` (skipped, or failed under
/// DDNS_REQUIRE_INTEGRATION=1) when one is missing.
fn tools(names: &[(&str, &str)]) -> Option<Vec<PathBuf>> {
    let mut found = Vec::new();
    for (binary, install) in names {
        found.push(required(binary, install)?);
    }
    dig(&["-v"])?;
    Some(found)
}

/// Runs an ACME client (at most 180 s), which must succeed; returns its
/// wall time.
fn issue(what: &str, mut command: Command, logs: &[&dyn Fn() -> String]) -> Duration {
    let begun = Instant::now();
    let out = command.output().unwrap();
    let elapsed = begun.elapsed();
    if !out.status.success() {
        let extra: Vec<String> = logs.iter().map(|log| log()).collect();
        panic!(
            "{what} failed ({}):\n{}\n{}\n--- logs ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            extra.join("\n---\n")
        );
    }
    println!(
        "TIMING {what}: one issuance took {} ms",
        elapsed.as_millis()
    );
    elapsed
}

/// A command under `timeout 180`.
fn bounded(program: &Path) -> Command {
    let mut command = Command::new("timeout");
    command.arg("180").arg(program);
    command
}

/// The certificate at `path` names the host and its wildcard.
fn assert_certificate(path: &Path) {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("DNS:home.example.com") && text.contains("DNS:*.home.example.com"),
        "{}: {text}",
        path.display()
    );
}

fn lego(pebble: &Pebble, lego: &Path, dir: &Path, dns: SocketAddr, provider: &str) -> Command {
    let mut command = bounded(lego);
    command
        .env("LEGO_CA_CERTIFICATES", &pebble.ca_bundle)
        .args(["--accept-tos", "--email", "admin@example.org", "--server"])
        .arg(&pebble.directory)
        .arg("--path")
        .arg(dir)
        .args(["--domains", HOST, "--domains", "*.home.example.com"])
        .args(["--dns", provider, "--dns.resolvers"])
        .arg(dns.to_string())
        .args(["--dns.disable-cp", "run"]);
    // Poll every second, for at most a minute (the provider's own names).
    let prefix = provider.to_ascii_uppercase();
    command
        .env(format!("{prefix}_POLLING_INTERVAL"), "1")
        .env(format!("{prefix}_PROPAGATION_TIMEOUT"), "60");
    command
}

/// lego's httpreq settings for our API at `api`, as the host `HOST`.
fn httpreq(command: &mut Command, api: String, secret: &str) {
    command
        .env("HTTPREQ_ENDPOINT", api)
        .env("HTTPREQ_USERNAME", HOST)
        .env("HTTPREQ_PASSWORD", secret);
}

fn certbot(pebble: &Pebble, certbot: &Path, dir: &Path) -> Command {
    let mut command = bounded(certbot);
    command
        .env("REQUESTS_CA_BUNDLE", &pebble.ca_bundle)
        .args([
            "certonly",
            "--non-interactive",
            "--agree-tos",
            "--register-unsafely-without-email",
            "--server",
        ])
        .arg(&pebble.directory)
        .arg("--config-dir")
        .arg(dir.join("config"))
        .arg("--work-dir")
        .arg(dir.join("work"))
        .arg("--logs-dir")
        .arg(dir.join("logs"))
        .args(["-d", HOST, "-d", "*.home.example.com"]);
    command
}

/// After a client's cleanup: no challenge value in DNS, and no challenge
/// row in the store.
fn assert_challenge_gone(setup: &Setup) {
    assert_eq!(txt(setup.dns(), "_acme-challenge.home.example.com"), "");
    let listed = admin(setup.dir.path(), &["--config", "acme.toml", "list"]);
    assert!(!listed.contains("_acme-challenge"), "{listed}");
}

#[test]
fn lego_and_certbot_get_a_certificate_for_a_host_and_its_wildcard() {
    let Some(found) = tools(&[
        ("lego", "apt-get install lego"),
        (
            "certbot",
            "apt-get install certbot python3-certbot-dns-rfc2136",
        ),
        ("openssl", "apt-get install openssl"),
    ]) else {
        return;
    };
    let (lego_bin, certbot_bin) = (&found[0], &found[1]);
    let setup = setup("");
    let Some(pebble) = Pebble::start(setup.dns()) else {
        return;
    };
    let work = setup.dir.path();
    let logs = |pebble: &Pebble, setup: &Setup| {
        format!("{}\n---\n{}", pebble.log(), setup.server.log().join("\n"))
    };

    // lego httpreq through the API, with Basic credentials.
    let mut command = lego(
        &pebble,
        lego_bin,
        &work.join("lego-httpreq"),
        setup.dns(),
        "httpreq",
    );
    httpreq(&mut command, setup.api(), &setup.secret);
    issue("lego --dns httpreq", command, &[&|| logs(&pebble, &setup)]);
    assert_certificate(&work.join("lego-httpreq/certificates/home.example.com.crt"));
    assert_challenge_gone(&setup);

    // lego rfc2136 at the embedded DNS, with the record's own TSIG key,
    // as `acme-settings` prints it.
    let printed = setup.setting("RFC2136_NAMESERVER=");
    assert!(
        printed.contains(&format!("RFC2136_TSIG_KEY={HOST}.")),
        "{printed}"
    );
    let mut command = lego(
        &pebble,
        lego_bin,
        &work.join("lego-rfc2136"),
        setup.dns(),
        "rfc2136",
    );
    command
        .env("RFC2136_NAMESERVER", setup.dns().to_string())
        .env("RFC2136_TSIG_KEY", format!("{HOST}."))
        .env("RFC2136_TSIG_ALGORITHM", "hmac-sha256.")
        .env("RFC2136_TSIG_SECRET", setup.tsig_secret())
        .env("RFC2136_SEQUENCE_INTERVAL", "1");
    issue("lego --dns rfc2136", command, &[&|| logs(&pebble, &setup)]);
    assert_certificate(&work.join("lego-rfc2136/certificates/home.example.com.crt"));
    assert_challenge_gone(&setup);

    // certbot with certbot-dns-rfc2136 (it signs its SOA lookups too).
    let ini = work.join("rfc2136.ini");
    std::fs::write(
        &ini,
        format!(
            "dns_rfc2136_server = {}\ndns_rfc2136_port = {}\ndns_rfc2136_name = {HOST}.\ndns_rfc2136_secret = {}\ndns_rfc2136_algorithm = HMAC-SHA256\n",
            setup.dns().ip(),
            setup.dns().port(),
            setup.tsig_secret()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&ini, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let certbot_dir = work.join("certbot-rfc2136");
    let mut command = certbot(&pebble, certbot_bin, &certbot_dir);
    command
        .args(["--dns-rfc2136", "--dns-rfc2136-credentials"])
        .arg(&ini)
        .args(["--dns-rfc2136-propagation-seconds", "1"]);
    issue(
        "certbot --dns-rfc2136",
        command,
        &[&|| logs(&pebble, &setup)],
    );
    assert_certificate(&certbot_dir.join("config/live/home.example.com/cert.pem"));
    assert_challenge_gone(&setup);
}

/// A python3 that can import pyacmedns (the acme-dns client library).
fn pyacmedns_python() -> Option<String> {
    let ok = Command::new("python3")
        .args(["-c", "import pyacmedns"])
        .output()
        .is_ok_and(|out| out.status.success());
    if ok {
        return Some("python3".to_owned());
    }
    missing(
        "the acme-dns client library pyacmedns",
        "pip install pyacmedns",
    )
}

#[test]
fn an_acme_dns_client_gets_a_certificate_and_its_values_expire() {
    let Some(found) = tools(&[
        ("certbot", "apt-get install certbot"),
        ("openssl", "apt-get install openssl"),
    ]) else {
        return;
    };
    let Some(python) = pyacmedns_python() else {
        return;
    };
    // acme-dns has no removal: values go by age (and by the cap of two).
    let setup = setup("[acme]\nmax_age_secs = 20\n");
    let Some(pebble) = Pebble::start(setup.dns()) else {
        return;
    };
    let work = setup.dir.path();
    // The account file as `acme-settings` prints it (lego's format, which
    // pyacmedns's Storage reads too).
    let account = setup.setting("{\"home.example.com\": ");
    std::fs::write(work.join("acme-dns.json"), &account).unwrap();
    std::fs::write(
        work.join("hook.py"),
        "import os\nfrom pyacmedns import Client, Storage\n\
         account = Storage(os.environ['ACMEDNS_STORAGE']).fetch(os.environ['CERTBOT_DOMAIN'])\n\
         Client(os.environ['ACMEDNS_URL']).update_txt_record(account, os.environ['CERTBOT_VALIDATION'])\n",
    )
    .unwrap();
    let certbot_dir = work.join("certbot-acme-dns");
    let mut command = certbot(&pebble, &found[0], &certbot_dir);
    command
        .env("ACMEDNS_STORAGE", work.join("acme-dns.json"))
        .env("ACMEDNS_URL", setup.api())
        .args([
            "--manual",
            "--preferred-challenges",
            "dns",
            "--manual-auth-hook",
        ])
        .arg(format!("{python} {}", work.join("hook.py").display()));
    issue(
        "certbot --manual with pyacmedns (acme-dns API)",
        command,
        &[&|| format!("{}\n---\n{}", pebble.log(), setup.server.log().join("\n"))],
    );
    assert_certificate(&certbot_dir.join("config/live/home.example.com/cert.pem"));
    // Both values (name and wildcard) were served at once; now they stay
    // until their maximum age, then the server removes them.
    assert_eq!(
        txt(setup.dns(), "_acme-challenge.home.example.com")
            .lines()
            .count(),
        2
    );
    let begun = Instant::now();
    while !txt(setup.dns(), "_acme-challenge.home.example.com").is_empty() {
        assert!(
            begun.elapsed() < Duration::from_secs(60),
            "the challenge values were not removed after their maximum age; log:\n{}",
            setup.server.log().join("\n")
        );
        setup.server.wait_for_log(
            "expired ACME challenge values removed",
            Duration::from_secs(5),
        );
    }
    assert_challenge_gone(&setup);
}

/// Runs `nsupdate` with `key` (`-y`) on `script`; its exit success and
/// what it printed.
fn nsupdate(key: Option<&str>, script: &str) -> (bool, String) {
    use std::io::Write;
    let mut command = Command::new("nsupdate");
    if let Some(key) = key {
        command.args(["-y", key]);
    }
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `nsupdate` of `lines` in example.com from 127.0.0.1 with `key`, which
/// must succeed.
fn update_ok(key: &str, dns: SocketAddr, lines: &str) {
    let (ok, out) = nsupdate(Some(key), &script("127.0.0.1", dns, "example.com", lines));
    assert!(ok, "{lines}: {out}");
}

/// An nsupdate script from `local` (the source address) to `dns`.
fn script(local: &str, dns: SocketAddr, zone: &str, lines: &str) -> String {
    format!(
        "local {local}\nserver {} {}\nzone {zone}\n{lines}\nsend\n",
        dns.ip(),
        dns.port()
    )
}

#[test]
fn nsupdate_with_the_records_key_changes_its_own_address_and_nothing_else() {
    if tools(&[("nsupdate", "apt-get install bind9-dnsutils")]).is_none() {
        return;
    }
    let setup = setup("");
    let dns = setup.dns();
    let _other = add(setup.dir.path(), "other.example.com");
    let key = format!("hmac-sha256:{HOST}.:{}", setup.tsig_secret());

    // The owner sets the host's address, as a dynamic DNS client.
    update_ok(
        &key,
        dns,
        "update delete home.example.com. A\nupdate add home.example.com. 60 A 198.51.100.7",
    );
    assert_eq!(a(dns, HOST), "198.51.100.7");
    let shown = admin(
        setup.dir.path(),
        &["--config", "acme.toml", "show", HOST, "--type", "a"],
    );
    assert!(shown.contains("198.51.100.7"), "{shown}");

    // Everything else, tried from another address, is refused: with the
    // record's key, whatever lies outside its scope or its rules...
    let attacker = "127.0.0.2";
    for lines in [
        "update add other.example.com. 60 A 198.51.100.66",
        "update add _acme-challenge.other.example.com. 60 TXT \"stolen\"",
        "update add home.example.com. 60 TXT \"not a challenge name\"",
        "update add x._acme-challenge.home.example.com. 60 TXT \"below\"",
        "update add example.com. 60 NS ns.attacker.example.",
        "update delete home.example.com. A\nupdate add home.example.com. 60 A 10.0.0.1",
        "update add home.example.com. 60 A 198.51.100.8",
    ] {
        let (ok, out) = nsupdate(Some(&key), &script(attacker, dns, "example.com", lines));
        assert!(!ok && out.contains("REFUSED"), "{lines}: {out}");
    }
    // ...and the host's own change without the right key.
    let hijack =
        "update delete home.example.com. A\nupdate add home.example.com. 60 A 198.51.100.66";
    let wrong = ddns_core::SharedSecret::new("wrong").tsig_base64();
    for (key, expected) in [
        (None, "REFUSED"),
        (Some(format!("hmac-sha256:{HOST}.:{wrong}")), "BADSIG"),
        (
            Some(format!(
                "hmac-sha256:nobody.example.com.:{}",
                setup.tsig_secret()
            )),
            "BADKEY",
        ),
        (
            Some(format!("hmac-md5:{HOST}.:{}", setup.tsig_secret())),
            "BADKEY",
        ),
    ] {
        let (ok, out) = nsupdate(
            key.as_deref(),
            &script(attacker, dns, "example.com", hijack),
        );
        assert!(
            !ok && out.contains(expected),
            "{key:?}: expected {expected}, got {out}"
        );
    }
    // An update for a zone not served is NOTAUTH.
    let (ok, out) = nsupdate(
        Some(&key),
        &script(
            attacker,
            dns,
            "example.net",
            "update add home.example.net. 60 A 198.51.100.66",
        ),
    );
    assert!(!ok && out.contains("NOTAUTH"), "{out}");

    // A stale signature: BADTIME, signed.
    let (rcode, tsig_error) = stale_update(dns, &setup.tsig_secret());
    assert_eq!(rcode, hickory_proto::op::ResponseCode::NotAuth);
    assert_eq!(
        tsig_error,
        Some(hickory_proto::rr::rdata::tsig::TsigError::BadTime)
    );

    // Nothing of it changed anything.
    assert_eq!(a(dns, HOST), "198.51.100.7");
    assert_eq!(a(dns, "other.example.com"), "");
    assert_eq!(txt(dns, "_acme-challenge.other.example.com"), "");
    assert_eq!(txt(dns, HOST), "");
    let log = setup.server.log().join("\n");
    assert!(
        log.contains("DNS UPDATE refused") && log.contains("BADSIG"),
        "{log}"
    );
}

/// Sends an UPDATE signed an hour ago; the response code and TSIG error.
fn stale_update(
    dns: SocketAddr,
    tsig_secret: &str,
) -> (
    hickory_proto::op::ResponseCode,
    Option<hickory_proto::rr::rdata::tsig::TsigError>,
) {
    use base64::Engine as _;
    use hickory_proto::op::{Message, MessageType, OpCode, Query};
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::rdata::tsig::TsigAlgorithm;
    use hickory_proto::rr::{Name, RData, Record, RecordType, TSigner};
    let key = base64::engine::general_purpose::STANDARD
        .decode(tsig_secret)
        .unwrap();
    let signer = TSigner::new(
        key,
        TsigAlgorithm::HmacSha256,
        Name::from_ascii("home.example.com.").unwrap(),
        300,
    )
    .unwrap();
    let mut message = Message::new(0x5151, MessageType::Query, OpCode::Update);
    message.add_query(Query::query(
        Name::from_ascii("example.com.").unwrap(),
        RecordType::SOA,
    ));
    message.add_authority(Record::from_rdata(
        Name::from_ascii("home.example.com.").unwrap(),
        60,
        RData::A(A::new(198, 51, 100, 99)),
    ));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    message.finalize(&signer, now - 3600).unwrap();
    let answer = exchange(dns, &message.to_vec().unwrap());
    let response = Message::from_vec(&answer).unwrap();
    let error = response.signature().and_then(|tsig| tsig.data.error);
    (response.metadata.response_code, error)
}

/// One UDP exchange with `dns` (2 s timeout).
fn exchange(dns: SocketAddr, message: &[u8]) -> Vec<u8> {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    socket.send_to(message, dns).unwrap();
    let mut buffer = vec![0u8; 4096];
    let (len, _) = socket.recv_from(&mut buffer).unwrap();
    buffer.truncate(len);
    buffer
}

#[test]
fn hostile_update_messages_change_nothing_and_break_nothing() {
    if tools(&[("nsupdate", "apt-get install bind9-dnsutils")]).is_none() {
        return;
    }
    let setup = setup("");
    let dns = setup.dns();
    let key = format!("hmac-sha256:{HOST}.:{}", setup.tsig_secret());

    // Garbage and truncated messages: no answer or FORMERR, never a crash.
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    for junk in [
        vec![],
        vec![0u8; 3],
        vec![0xff; 12],
        vec![0x12, 0x34, 0x28, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0xc0],
        (0..600u32).map(|i| (i * 7 % 251) as u8).collect(),
    ] {
        socket.send_to(&junk, dns).unwrap();
    }
    {
        use std::io::Write;
        let mut tcp = std::net::TcpStream::connect(dns).unwrap();
        tcp.write_all(&[0x00, 0x05, 0x28, 0x00, 0xff]).unwrap();
    }

    // More values than the cap in one message: the newest eight stay.
    let adds: String = (0..10)
        .map(|i| format!("update add _acme-challenge.home.example.com. 60 TXT \"value-{i:02}\"\n"))
        .collect();
    update_ok(&key, dns, &adds);
    let values = txt(dns, "_acme-challenge.home.example.com");
    assert_eq!(values.lines().count(), 8, "{values}");
    assert!(
        values.contains("value-09") && !values.contains("value-01"),
        "{values}"
    );

    // Oversized and multi-string values, prerequisites that fail: refused
    // with the right code, nothing changed.
    for (lines, expected) in [
        (
            format!(
                "update add _acme-challenge.home.example.com. 60 TXT \"{}\" \"{}\"",
                "a".repeat(200),
                "b".repeat(200)
            ),
            "REFUSED",
        ),
        (
            "prereq nxrrset _acme-challenge.home.example.com. TXT\nupdate add _acme-challenge.home.example.com. 60 TXT \"x\"".to_owned(),
            "YXRRSET",
        ),
        (
            "prereq yxdomain nothing-here.example.com.\nupdate add _acme-challenge.home.example.com. 60 TXT \"x\"".to_owned(),
            "NXDOMAIN",
        ),
    ] {
        let (ok, out) = nsupdate(Some(&key), &script("127.0.0.1", dns, "example.com", &lines));
        assert!(!ok && out.contains(expected), "{lines}: expected {expected}, got {out}");
    }
    assert_eq!(txt(dns, "_acme-challenge.home.example.com"), values);

    // A prerequisite that holds, and a delete of the whole RRset.
    update_ok(
        &key,
        dns,
        "prereq yxrrset _acme-challenge.home.example.com. TXT\nupdate delete _acme-challenge.home.example.com. TXT",
    );
    assert_eq!(txt(dns, "_acme-challenge.home.example.com"), "");
    // The server still answers, over UDP and TCP.
    ddns_testkit::probe::soa_answered(dns, "example.com", false).unwrap();
    ddns_testkit::probe::soa_answered(dns, "example.com", true).unwrap();
}

#[test]
fn lego_through_the_api_gets_a_certificate_validated_at_a_bind_primary() {
    let Some(found) = tools(&[
        ("lego", "apt-get install lego"),
        ("openssl", "apt-get install openssl"),
    ]) else {
        return;
    };
    let Some(bind) = DnsServer::bind() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ddns.key"),
        format!(
            "key \"{KEY_NAME}\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{}\";\n}};\n",
            bind.secret
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("acme.toml"),
        format!(
            "[http]\nlisten = [\"127.0.0.1:0\"]\n[store]\nkind = \"sqlite\"\npath = \"ddns.sqlite3\"\n\
             [[zones]]\nname = \"example.com\"\nprovider = {{ kind = \"rfc2136\", server = \"{}\", key_file = \"ddns.key\" }}\n",
            bind.addr
        ),
    )
    .unwrap();
    let secret = add(dir.path(), HOST);
    let mut command = server_command();
    command
        .current_dir(dir.path())
        .args(["--config", "acme.toml"]);
    let server = Spawned::start(command);
    let Some(pebble) = Pebble::start(bind.addr) else {
        return;
    };
    let mut command = lego(
        &pebble,
        &found[0],
        &dir.path().join("lego"),
        bind.addr,
        "httpreq",
    );
    httpreq(&mut command, format!("http://{}", server.http), &secret);
    issue(
        "lego --dns httpreq, validated at BIND",
        command,
        &[&|| {
            format!(
                "{}\n---\n{}\n---\n{}",
                pebble.log(),
                server.log().join("\n"),
                bind.log()
            )
        }],
    );
    assert_certificate(&dir.path().join("lego/certificates/home.example.com.crt"));
    assert_eq!(txt(bind.addr, "_acme-challenge.home.example.com"), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_http_requests_to_the_acme_interfaces_change_nothing() {
    if dig(&["-v"]).is_none() {
        return;
    }
    let setup = setup("");
    let other = add(setup.dir.path(), "other.example.com");
    let http = setup.server.http;
    let home = basic(HOST, &setup.secret);
    let token = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
    let httpreq = |fqdn: &str| format!(r#"{{"fqdn": "{fqdn}", "value": "{token}"}}"#);
    // Path, header lines, body, the status expected.
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, Vec<u8>, u16);
    let cases: Vec<Case<'_>> = vec![
        // A body past the limit is not read.
        (
            "/present",
            vec![("Authorization", home.clone())],
            vec![b'x'; 5000],
            413,
        ),
        // Another host's challenge name with this host's credentials.
        (
            "/present",
            vec![("Authorization", home.clone())],
            httpreq("_acme-challenge.other.example.com.").into_bytes(),
            403,
        ),
        // The other host's name with a wrong password, and no credentials.
        (
            "/present",
            vec![("Authorization", basic("other.example.com", &setup.secret))],
            httpreq("_acme-challenge.other.example.com.").into_bytes(),
            401,
        ),
        (
            "/present",
            vec![],
            httpreq("_acme-challenge.home.example.com.").into_bytes(),
            401,
        ),
        (
            "/present",
            vec![("Authorization", home.clone())],
            b"{not json".to_vec(),
            400,
        ),
        // acme-dns: another subdomain, a wrong key, registration.
        (
            "/update",
            vec![
                ("X-Api-User", HOST.to_owned()),
                ("X-Api-Key", setup.secret.clone()),
            ],
            format!(r#"{{"subdomain": "other.example.com", "txt": "{token}"}}"#).into_bytes(),
            401,
        ),
        (
            "/update",
            vec![
                ("X-Api-User", "other.example.com".to_owned()),
                ("X-Api-Key", setup.secret.clone()),
            ],
            format!(r#"{{"subdomain": "other.example.com", "txt": "{token}"}}"#).into_bytes(),
            401,
        ),
        ("/register", vec![], b"{}".to_vec(), 403),
        // POST elsewhere is the upstream protocol's: `{}` names no mode.
        ("/", vec![], b"{}".to_vec(), 400),
    ];
    for (path, headers, body, status) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let reply = post(http, path, &headers, &body).await;
        assert_eq!(reply.status, status, "{path} {headers:?}: {}", reply.body);
        if status == 401 && path == "/present" {
            assert!(reply.header("www-authenticate").is_some(), "{reply:?}");
        }
        if path == "/" {
            assert!(
                reply.body.starts_with(r#"{"return_status": "fail""#),
                "{}",
                reply.body
            );
        } else if status != 413 {
            assert!(reply.body.starts_with("{\"error\": "), "{}", reply.body);
        }
    }
    let health = common::get(http, "/health", &[]).await;
    assert_eq!(health.status, 200);
    // Nothing was set anywhere; the other record's secret still works.
    for name in [
        "_acme-challenge.home.example.com",
        "_acme-challenge.other.example.com",
    ] {
        assert_eq!(txt(setup.dns(), name), "");
    }
    let ok = post(
        http,
        "/present",
        &[("Authorization", &basic("other.example.com", &other))],
        httpreq("_acme-challenge.other.example.com.").as_bytes(),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(
        txt(setup.dns(), "_acme-challenge.other.example.com"),
        format!("\"{token}\"")
    );
}

#[test]
fn an_operator_key_changes_what_its_grants_cover_and_nothing_else() {
    if tools(&[("nsupdate", "apt-get install bind9-dnsutils")]).is_none() {
        return;
    }
    let kea = ddns_testkit::servers::random_secret();
    let setup = setup(&format!(
        "[[dns.operator_keys]]\nkey_name = \"kea-ddns\"\nkey_secret = \"{kea}\"\n\
         grants = [{{ subdomain = \"lan.example.com\", types = [\"A\", \"AAAA\"] }}]\n"
    ));
    let dns = setup.dns();
    let key = format!("hmac-sha256:kea-ddns.:{kea}");
    // A DHCP server registers a lease: an internal address, its TTL kept,
    // the record made on the way.
    update_ok(
        &key,
        dns,
        "update add laptop.lan.example.com. 300 A 192.168.1.5\nupdate add laptop.lan.example.com. 300 AAAA fd00::5",
    );
    assert_eq!(a(dns, "laptop.lan.example.com"), "192.168.1.5");
    let listed = admin(setup.dir.path(), &["--config", "acme.toml", "list"]);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("laptop.lan.example.com.") && l.contains(" 300 ")),
        "{listed}"
    );
    // Outside its grants: another name, another type, the host's records.
    for lines in [
        "update add www.example.com. 300 A 192.168.1.6",
        "update add laptop.lan.example.com. 300 TXT \"x\"",
        "update add home.example.com. 60 A 198.51.100.9",
    ] {
        let (ok, out) = nsupdate(Some(&key), &script("127.0.0.2", dns, "example.com", lines));
        assert!(!ok && out.contains("REFUSED"), "{lines}: {out}");
    }
    assert_eq!(a(dns, "www.example.com"), "");
    // The lease ends: the RRsets and the records go.
    update_ok(&key, dns, "update delete laptop.lan.example.com.");
    assert_eq!(a(dns, "laptop.lan.example.com"), "");
    let listed = admin(setup.dir.path(), &["--config", "acme.toml", "list"]);
    assert!(!listed.contains("laptop"), "{listed}");
}
