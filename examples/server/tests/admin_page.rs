//! The admin web page in a real browser: Debian's headless Chromium
//! driven over WebDriver (chromedriver, through fantoccini) against the
//! real binary. It signs in with a token made by `admin-token create`,
//! adds a host with the defaults, reads its secret and the ddclient
//! settings, finds the host in the list, sees the address its client set
//! (through the seed API from a public address) after a reload, locks it,
//! and removes it with the confirmation. A form posted without the CSRF
//! token is refused. On failure a screenshot and the page's HTML are saved
//! under `target/test-artifacts/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Spawned, admin, get, printed_token, request, server_command};
use ddns_testkit::servers::free_port;
use ddns_testkit::tools;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use common::ADMIN_CONFIG as CONFIG;

const HOST: &str = "home.example.com";
const PUBLIC: &str = "198.51.100.7";

/// Where screenshots and page sources go.
fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// chromedriver on a free loopback port, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Driver {
    fn start(binary: &std::path::Path, dir: &std::path::Path) -> Self {
        let port = free_port();
        let log = dir.join("chromedriver.log");
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut driver = Self { child, port, log };
        driver.wait_until_ready();
        driver
    }

    /// Waits (at most 20 s) until `GET /status` answers 200.
    fn wait_until_ready(&mut self) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let begun = Instant::now();
        let mut last = String::new();
        while begun.elapsed() < Duration::from_secs(20) {
            match common::http_status_line(addr, "/status") {
                Ok(line) if line.starts_with("HTTP/1.1 200") => return,
                Ok(line) => last = line,
                Err(e) => last = e.to_string(),
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                last = format!("exited with {status}");
                break;
            }
            // Paces the next /status query; readiness is its answer.
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "chromedriver did not answer within 20 s (last: {last}); its log:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WebDriver session of headless Chromium, with the flags that keep it
/// off the network and a profile of its own.
async fn browser(driver: &Driver, chromium: &std::path::Path, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1200,900",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "no browser session: {e}; chromedriver's log:\n{}",
                std::fs::read_to_string(&driver.log).unwrap_or_default()
            )
        })
}

/// A failed step, said as text.
type Step<T> = Result<T, String>;

fn step<T, E: std::fmt::Display>(what: &str, result: Result<T, E>) -> Step<T> {
    result.map_err(|e| format!("{what}: {e}"))
}

/// The element `css` once it is on the page (at most 10 s).
async fn element(c: &Client, css: &str) -> Step<fantoccini::elements::Element> {
    step(
        &format!("waiting for {css}"),
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await,
    )
}

async fn text(c: &Client, css: &str) -> Step<String> {
    let found = element(c, css).await?;
    step(&format!("the text of {css}"), found.text().await)
}

async fn click(c: &Client, css: &str) -> Step<()> {
    let found = element(c, css).await?;
    step(&format!("clicking {css}"), found.click().await)
}

async fn screenshot(c: &Client, name: &str) {
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(artifacts().join(name), png);
    }
}

/// Everything the walk through the page needs.
struct Scene {
    admin_url: String,
    admin: SocketAddr,
    http: SocketAddr,
    dns: SocketAddr,
    token: String,
}

/// A seed API `set` of `HOST` from `PUBLIC` with `secret`, through the
/// trusted proxy: the answer's body.
async fn seed_set(http: SocketAddr, secret: &str) -> String {
    let hash = ddns_core::HashToken::compute_as_sent(
        PUBLIC.parse().unwrap(),
        &ddns_core::SentName::parse(HOST),
        &ddns_core::SharedSecret::new(secret),
    )
    .to_hex();
    get(
        http,
        &format!("/?mode=set&hostname={HOST}&hash={hash}"),
        &[("X-Forwarded-For", PUBLIC)],
    )
    .await
    .body
}

fn dig_a(dns: SocketAddr) -> String {
    common::dig(&[
        "@127.0.0.1",
        "-p",
        &dns.port().to_string(),
        "+short",
        HOST,
        "A",
    ])
    .unwrap()
    .trim()
    .to_owned()
}

async fn walk(c: &Client, s: &Scene) -> Step<()> {
    // Sign in.
    step("opening the page", c.goto(&s.admin_url).await)?;
    element(c, "#token").await?;
    let field = element(c, "#token").await?;
    step("typing the token", field.send_keys(&s.token).await)?;
    click(c, "form[action='/signin'] button").await?;
    let who = text(c, "header .who").await?;
    if !who.contains("ops") {
        return Err(format!("not signed in as ops: {who:?}"));
    }

    // The session cookie is HttpOnly and SameSite=Strict.
    let cookie = step(
        "the session cookie",
        c.get_named_cookie("ddns_session").await,
    )?;
    if cookie.http_only() != Some(true) || format!("{:?}", cookie.same_site()) != "Some(Strict)" {
        return Err(format!(
            "the session cookie is not HttpOnly, SameSite=Strict: {cookie:?}"
        ));
    }
    let session = cookie.value().to_owned();

    // Add a host with the defaults; its secret and ddclient settings.
    let name = element(c, "#name").await?;
    step("typing the host", name.send_keys(HOST).await)?;
    click(c, "#add button").await?;
    let secret = text(c, "#secret").await?;
    if secret.len() != 32 || !secret.chars().all(|ch| ch.is_ascii_hexdigit()) {
        return Err(format!("the secret shown is not 32 hex digits: {secret:?}"));
    }
    let url = step("the address", c.current_url().await)?;
    if url.as_str().contains(&secret) {
        return Err(format!("the secret is in the URL {url}"));
    }
    let ddclient = text(c, "#settings-ddclient pre").await?;
    for line in [
        "protocol=dyndns2",
        "server=ddns.example.net",
        "ssl=yes",
        &format!("login={HOST}"),
        &format!("password='{secret}'"),
    ] {
        if !ddclient.contains(line) {
            return Err(format!("the ddclient settings lack {line:?}:\n{ddclient}"));
        }
    }
    for id in ["ddns-client", "curl", "inadyn", "fritzbox", "acme"] {
        let settings = text(c, &format!("#settings-{id} pre")).await?;
        if !settings.contains(HOST) {
            return Err(format!("the {id} settings lack the host:\n{settings}"));
        }
    }
    screenshot(c, "admin-page-secret.png").await;

    // The host is in the list, with no address yet.
    click(c, "a[href='/']").await?;
    let row = format!("tr[data-host='{HOST}']");
    let before = text(c, &format!("{row} td[data-type='A']")).await?;
    if !before.is_empty() {
        return Err(format!("a new host has an address: {before:?}"));
    }

    // Its client sets the address; a reload shows it.
    let answer = seed_set(s.http, &secret).await;
    if !answer.contains("success") {
        return Err(format!("the seed API refused the host's client: {answer}"));
    }
    step("reloading", c.refresh().await)?;
    let shown = text(c, &format!("{row} td[data-type='A']")).await?;
    if shown != PUBLIC {
        return Err(format!("the list shows {shown:?}, not {PUBLIC}"));
    }
    screenshot(c, "admin-page-hosts.png").await;

    // Readable on a phone: nothing wider than the screen but the table,
    // which scrolls in its own box.
    step("a phone's window", c.set_window_size(390, 844).await)?;
    let fits = step(
        "measuring",
        c.execute(
            "return document.body.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await,
    )?;
    if fits != json!(true) {
        return Err("the page is wider than a phone's screen".into());
    }
    screenshot(c, "admin-page-phone.png").await;
    step("a desktop window", c.set_window_size(1200, 900).await)?;

    // Lock it: the page says so, and the client is refused.
    click(c, &format!("{row} a")).await?;
    click(c, "#lock").await?;
    let button = text(c, "#lock").await?;
    if button != "Unlock" {
        return Err(format!("after locking, the button says {button:?}"));
    }
    let state = text(c, "tr[data-type='A'] td.state").await?;
    if state != "locked" {
        return Err(format!("after locking, the state is {state:?}"));
    }
    if !seed_set(s.http, &secret).await.contains("fail") {
        return Err("a locked record took a client's change".into());
    }

    // A form posted without the CSRF token (or with a wrong one) is
    // refused, even with the session cookie, and changes nothing.
    let cookie_header = format!("ddns_session={session}");
    for body in ["", "csrf=00ff00ff"] {
        let forged = request(
            s.admin,
            "POST",
            &format!("/hosts/{HOST}/unlock"),
            &[
                ("Cookie", cookie_header.as_str()),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        )
        .await;
        if forged.status != 403 {
            return Err(format!(
                "a form with {body:?} got {}: {}",
                forged.status, forged.body
            ));
        }
    }
    step("reloading", c.refresh().await)?;
    let state = text(c, "tr[data-type='A'] td.state").await?;
    if state != "locked" {
        return Err(format!("a forged form changed the lock: {state:?}"));
    }

    // Remove it, through the confirmation.
    click(c, "#remove").await?;
    click(c, "#confirm").await?;
    let notice = text(c, "p.notice").await?;
    if !notice.contains(HOST) {
        return Err(format!("no removal notice: {notice:?}"));
    }
    let rows = step("the rows", c.find_all(Locator::Css(&row)).await)?;
    if !rows.is_empty() {
        return Err("the removed host is still listed".into());
    }
    let dns = dig_a(s.dns);
    if !dns.is_empty() {
        return Err(format!("DNS still answers {dns:?} for the removed host"));
    }

    // Sign out: the session ends.
    click(c, "form[action='/signout'] button").await?;
    element(c, "#token").await?;
    let after = get(
        s.admin,
        &format!("/hosts/{HOST}"),
        &[("Cookie", cookie_header.as_str())],
    )
    .await;
    if after.status != 303 {
        return Err(format!(
            "a signed-out session still opens pages: {}",
            after.status
        ));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_signs_in_adds_reads_the_secret_locks_and_removes_a_host() {
    let Some(chromium) = tools::required("chromium", "apt-get install chromium") else {
        return;
    };
    let Some(chromedriver) = tools::required("chromedriver", "apt-get install chromium-driver")
    else {
        return;
    };
    if common::dig(&["-v"]).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ddns.toml"), CONFIG).unwrap();
    let out = admin(
        dir.path(),
        &["--config", "ddns.toml", "admin-token", "create", "ops"],
    );
    let token = printed_token(&out);
    let mut command = server_command();
    command
        .current_dir(dir.path())
        .args(["--config", "ddns.toml"]);
    let server = Spawned::start(command);
    let admin_addr = server.admin.unwrap();

    // The page's headers: a strict CSP, no script allowed at all.
    let front = get(admin_addr, "/", &[]).await;
    assert_eq!(front.status, 200);
    let csp = front.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(front.header("x-frame-options"), Some("DENY"));
    assert!(!front.body.contains("<script"), "the page has no script");

    let driver = Driver::start(&chromedriver, dir.path());
    let profile = dir.path().join("profile");
    let c = browser(&driver, &chromium, &profile).await;
    let scene = Scene {
        admin_url: format!("http://{admin_addr}/"),
        admin: admin_addr,
        http: server.http,
        dns: server.dns.unwrap(),
        token,
    };
    let walked = walk(&c, &scene).await;
    if walked.is_err() {
        screenshot(&c, "admin-page-failure.png").await;
        if let Ok(html) = c.source().await {
            let _ = std::fs::write(artifacts().join("admin-page-failure.html"), html);
        }
    }
    let _ = c.close().await;
    if let Err(failure) = walked {
        panic!(
            "{failure}\n(screenshot and HTML in {}); the server's log:\n{}",
            artifacts().display(),
            server.log().join("\n")
        );
    }
    let log = server.log().join("\n");
    for action in ["add", "lock", "remove"] {
        let needle = format!("token=ops action=\"{action}\"");
        assert!(log.contains(&needle), "no {needle} in the log:\n{log}");
    }
    assert!(
        log.contains("a form without a valid CSRF token was refused"),
        "{log}"
    );
}
