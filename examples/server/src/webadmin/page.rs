//! The web page: server-rendered HTML (maud), no script, a strict
//! Content-Security-Policy, forms that post back with a CSRF token, and
//! secrets shown only in the page that made them, never in a URL.
//!
//! Paths: `/` (sign in, or the hosts), `/hosts/NAME` (a host, its
//! actions), `/hosts/NAME/remove` (the confirmation), and the forms'
//! targets `/signin`, `/signout`, `/hosts`, `/hosts/NAME/{lock, unlock,
//! rotate, remove}`.

use std::net::IpAddr;

use bytes::Bytes;
use ddns_core::admin::{AddRecord, Changed};
use ddns_core::{Hostname, Record, RecordName, RecordType};
use hyper::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, COOKIE, HeaderValue, LOCATION, REFERRER_POLICY,
    SET_COOKIE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use hyper::http::request::Parts;
use hyper::{Method, StatusCode};
use maud::{DOCTYPE, Markup, html};

use super::WebAdmin;
use super::api::rfc3339;
use super::client_settings;
use super::desk::DeskError;
use super::problem::Problem;
use super::session::{LIFETIME, PRE_SESSION_COOKIE, SESSION_COOKIE, random_hex};
use crate::http::{BodyError, Reply, reply};
use crate::tokens::Caller;

/// The page's Content-Security-Policy: its own stylesheet, its own forms,
/// nothing else (no script at all).
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = include_str!("style.css");

/// Hosts the list shows at most; a search narrows it.
const MAX_ROWS: usize = 500;

/// Adds the headers every page answer carries.
fn secured(mut response: Reply) -> Reply {
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn page(status: StatusCode, markup: Markup) -> Reply {
    secured(reply(
        status,
        "text/html; charset=utf-8",
        markup.into_string(),
    ))
}

fn with_cookies(mut response: Reply, cookies: &[String]) -> Reply {
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// A 303 to `location` (after a form's change: reloading then repeats
/// nothing).
fn see_other(location: &str, cookies: &[String]) -> Reply {
    let mut response = secured(reply(StatusCode::SEE_OTHER, "text/plain", ""));
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    with_cookies(response, cookies)
}

/// The whole document around `body`.
fn layout(title: &str, caller: Option<(&Caller, &str)>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · ddns" }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                header {
                    a.brand href="/" { "ddns" }
                    @if let Some((caller, csrf)) = caller {
                        span.who { "Signed in as " strong { (caller.name) } " (" (caller.scope.describe()) ")" }
                        form.inline method="post" action="/signout" {
                            input type="hidden" name="csrf" value=(csrf);
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A message page with a way back.
fn notice_page(status: StatusCode, title: &str, message: &str) -> Reply {
    page(
        status,
        layout(
            title,
            None,
            html! {
                h1 { (title) }
                p.error role="alert" { (message) }
                p { a href="/" { "Back to the hosts" } }
            },
        ),
    )
}

/// The answer to a body that could not be read.
pub(super) fn body_refused(e: &BodyError) -> Reply {
    match e {
        BodyError::TooLarge { max } => notice_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            &format!("The form must be at most {max} bytes."),
        ),
        BodyError::Slow => notice_page(
            StatusCode::REQUEST_TIMEOUT,
            "Too slow",
            "The form did not arrive in time; send it again.",
        ),
    }
}

/// The value of cookie `name`.
fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// A form's fields.
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &Bytes) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn checked(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| !v.is_empty())
    }
}

/// A signed-in browser: its session id, its CSRF token and the caller.
struct Signed {
    session: String,
    csrf: String,
    caller: Caller,
}

impl WebAdmin {
    fn cookie_attributes(&self, max_age: u64) -> String {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        format!("; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}")
    }

    /// The signed-in browser behind the request, if its session and token
    /// are still good.
    fn signed_in(&self, parts: &Parts) -> Option<Signed> {
        let session = cookie(parts, SESSION_COOKIE)?;
        let digest = self.sessions.digest(session)?;
        match self.tokens.by_digest(&digest) {
            Ok(Ok(caller)) => Some(Signed {
                session: session.to_owned(),
                csrf: self.sessions.csrf(session),
                caller,
            }),
            Ok(Err(_)) => {
                self.sessions.end(session);
                None
            }
            Err(e) => {
                tracing::error!(error = %e, "admin page: the token file cannot be read");
                None
            }
        }
    }
}

/// Answers one page request.
pub(super) async fn handle(web: &WebAdmin, source: IpAddr, parts: &Parts, body: &Bytes) -> Reply {
    let path = parts.uri.path();
    let method = &parts.method;
    match (method, path) {
        (&Method::GET, "/static/style.css") => {
            return secured(reply(StatusCode::OK, "text/css; charset=utf-8", STYLE));
        }
        (&Method::GET, "/") => {
            return match web.signed_in(parts) {
                Some(signed) => hosts_page(web, &signed, parts).await,
                None => sign_in_page(web, parts, StatusCode::OK, None),
            };
        }
        (&Method::POST, "/signin") => return sign_in(web, source, parts, body),
        _ => {}
    }
    let Some(signed) = web.signed_in(parts) else {
        return if method == Method::GET {
            see_other("/", &[])
        } else {
            notice_page(
                StatusCode::UNAUTHORIZED,
                "Signed out",
                "Your session has ended. Sign in again.",
            )
        };
    };
    let form = Form::parse(body);
    if method == Method::POST
        && !form
            .get("csrf")
            .is_some_and(|t| web.sessions.csrf_matches(&signed.session, t))
    {
        tracing::warn!(%source, path, "admin page: a form without a valid CSRF token was refused");
        return notice_page(
            StatusCode::FORBIDDEN,
            "Form refused",
            "The form is out of date or came from another site. Reload the page and try again.",
        );
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (&Method::POST, ["signout"]) => {
            web.sessions.end(&signed.session);
            see_other(
                "/",
                &[format!("{SESSION_COOKIE}={}", web.cookie_attributes(0))],
            )
        }
        (&Method::POST, ["hosts"]) => add_host(web, &signed, &form).await,
        (&Method::GET, ["hosts", name]) => {
            with_name(name, |name| host_page(web, &signed, name)).await
        }
        (&Method::GET, ["hosts", name, "remove"]) => {
            with_name(name, |name| async move { confirm_remove(&signed, &name) }).await
        }
        (&Method::POST, ["hosts", name, action]) => {
            let action = *action;
            with_name(name, |name| host_action(web, &signed, name, action)).await
        }
        _ => notice_page(StatusCode::NOT_FOUND, "Not found", "There is no such page."),
    }
}

/// Runs `then` with the record name in a path segment, or answers 404.
async fn with_name<F, Fut>(text: &str, then: F) -> Reply
where
    F: FnOnce(RecordName) -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    match RecordName::parse(text) {
        Ok(name) => then(name).await,
        Err(_) => notice_page(StatusCode::NOT_FOUND, "Not found", "There is no such host."),
    }
}

fn sign_in_page(web: &WebAdmin, parts: &Parts, status: StatusCode, error: Option<&str>) -> Reply {
    let (pre, cookies) = match cookie(parts, PRE_SESSION_COOKIE) {
        Some(pre) if pre.len() == 64 => (pre.to_owned(), Vec::new()),
        _ => match random_hex(32) {
            Ok(pre) => {
                let set = format!(
                    "{PRE_SESSION_COOKIE}={pre}{}",
                    web.cookie_attributes(LIFETIME.as_secs())
                );
                (pre, vec![set])
            }
            Err(e) => {
                tracing::error!(error = %e, "admin page: no random value for the sign-in form");
                return notice_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Unavailable",
                    "The server cannot make a sign-in form now; see its log.",
                );
            }
        },
    };
    let csrf = web.sessions.csrf(&pre);
    let markup = layout(
        "Sign in",
        None,
        html! {
            h1 { "Sign in" }
            @if let Some(error) = error {
                p.error role="alert" { (error) }
            }
            form.card method="post" action="/signin" {
                input type="hidden" name="csrf" value=(csrf);
                label for="token" { "Admin token" }
                input #token type="password" name="token" autocomplete="current-password" required;
                button type="submit" { "Sign in" }
            }
            p.hint { "Make a token on the server with " code { "ddns-server admin-token create NAME" } "." }
        },
    );
    with_cookies(page(status, markup), &cookies)
}

fn sign_in(web: &WebAdmin, source: IpAddr, parts: &Parts, body: &Bytes) -> Reply {
    let form = Form::parse(body);
    let pre = cookie(parts, PRE_SESSION_COOKIE).unwrap_or("");
    if pre.is_empty()
        || !form
            .get("csrf")
            .is_some_and(|t| web.sessions.csrf_matches(pre, t))
    {
        return sign_in_page(
            web,
            parts,
            StatusCode::FORBIDDEN,
            Some("The sign-in form was out of date; try again."),
        );
    }
    if !web.guard.admits(source) {
        return sign_in_page(
            web,
            parts,
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many failed sign-ins from this address; wait a minute."),
        );
    }
    let caller = match web.tokens.verify(form.get("token")) {
        Ok(Ok(caller)) => caller,
        Ok(Err(refusal)) => {
            web.guard.failed(source);
            tracing::info!(%source, ?refusal, "admin page: sign-in refused");
            return sign_in_page(
                web,
                parts,
                StatusCode::UNAUTHORIZED,
                Some("That token is unknown, revoked or expired."),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "admin page: the token file cannot be read");
            return sign_in_page(
                web,
                parts,
                StatusCode::INTERNAL_SERVER_ERROR,
                Some("The server cannot read its tokens; see its log."),
            );
        }
    };
    match web.sessions.start(caller.digest.clone()) {
        Ok(session) => {
            tracing::info!(token = %caller.name, %source, "admin page: signed in");
            see_other(
                "/",
                &[
                    format!(
                        "{SESSION_COOKIE}={session}{}",
                        web.cookie_attributes(LIFETIME.as_secs())
                    ),
                    format!("{PRE_SESSION_COOKIE}={}", web.cookie_attributes(0)),
                ],
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "admin page: no session could be made");
            notice_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Unavailable",
                "The server cannot start a session now; see its log.",
            )
        }
    }
}

/// One row of the hosts table: a name's records together.
struct HostRow<'a> {
    name: &'a RecordName,
    records: Vec<&'a Record>,
}

impl HostRow<'_> {
    fn values(&self, record_type: RecordType) -> String {
        self.records
            .iter()
            .filter(|r| r.key.record_type() == record_type)
            .flat_map(|r| r.state.values.iter().map(ToString::to_string))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn last_updated(&self) -> String {
        self.records
            .iter()
            .filter_map(|r| r.state.last_updated)
            .max()
            .map_or_else(|| "never".to_owned(), short_time)
    }

    fn lock_state(&self) -> &'static str {
        let locked = self.records.iter().filter(|r| r.config.lock_record).count();
        match locked {
            0 => "unlocked",
            n if n == self.records.len() => "locked",
            _ => "partly locked",
        }
    }
}

fn short_time(t: ddns_core::Timestamp) -> String {
    let text = rfc3339(t);
    // Seconds are enough on the page.
    match text.split_once('.') {
        Some((whole, _)) => format!("{} UTC", whole.replace('T', " ")),
        None => text,
    }
}

fn rows(records: &[Record]) -> Vec<HostRow<'_>> {
    let mut rows: Vec<HostRow<'_>> = Vec::new();
    for record in records {
        match rows.last_mut() {
            Some(row) if row.name == record.key.name() => row.records.push(record),
            _ => rows.push(HostRow {
                name: record.key.name(),
                records: vec![record],
            }),
        }
    }
    rows
}

async fn hosts_page(web: &WebAdmin, signed: &Signed, parts: &Parts) -> Reply {
    let query: Vec<(String, String)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let search = param("q").unwrap_or("");
    let removed = param("removed");
    let records = match web.desk.list(&signed.caller, Some(search)).await {
        Ok(records) => records,
        Err(e) => {
            return notice_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Unavailable",
                &e.to_string(),
            );
        }
    };
    let all = rows(&records);
    let total = all.len();
    let rows = &all[..total.min(MAX_ROWS)];
    let writable = !signed.caller.scope.read_only;
    let markup = layout(
        "Hosts",
        Some((&signed.caller, &signed.csrf)),
        html! {
            h1 { "Hosts" }
            @if let Some(name) = removed {
                p.notice role="status" { (name) " was removed." }
            }
            form.search method="get" action="/" {
                label for="q" { "Search" }
                input #q type="search" name="q" value=(search) placeholder="name or comment";
                button type="submit" { "Search" }
            }
            div.scroll {
                table #hosts {
                    thead { tr { th { "Host" } th { "IPv4" } th { "IPv6" } th { "Last update" } th { "State" } } }
                    tbody {
                        @for row in rows {
                            tr data-host=(row.name.without_trailing_dot()) {
                                td { a href={ "/hosts/" (row.name.without_trailing_dot()) } { (row.name.without_trailing_dot()) } }
                                td.addr data-type="A" { (row.values(RecordType::A)) }
                                td.addr data-type="AAAA" { (row.values(RecordType::Aaaa)) }
                                td { (row.last_updated()) }
                                td.state { (row.lock_state()) }
                            }
                        }
                    }
                }
            }
            p.hint {
                @if total > rows.len() {
                    "The first " (rows.len()) " of " (total) " hosts; search to find the others."
                } @else {
                    (total) " host(s)"
                }
            }
            @if writable {
                h2 { "Add a host" }
                form.card #add method="post" action="/hosts" {
                    input type="hidden" name="csrf" value=(signed.csrf);
                    label for="name" { "Host name" }
                    input #name type="text" name="name" required placeholder="home.example.com" autocapitalize="none" spellcheck="false";
                    label for="comment" { "Comment (optional)" }
                    input #comment type="text" name="comment";
                    label.check { input type="checkbox" name="allow_internal" value="1"; " Allow internal addresses (LAN, loopback)" }
                    button type="submit" { "Add" }
                }
            }
        },
    );
    page(StatusCode::OK, markup)
}

/// The page for an operation that failed, with the API's status for it.
fn refused(e: DeskError) -> Reply {
    let problem = Problem::from(e);
    error_page(problem.status(), problem.detail())
}

async fn add_host(web: &WebAdmin, signed: &Signed, form: &Form) -> Reply {
    let text = form.get("name").unwrap_or("").trim();
    let host = match Hostname::parse(text) {
        Ok(host) => host,
        Err(e) => {
            return error_page(StatusCode::UNPROCESSABLE_ENTITY, &format!("{text:?}: {e}"));
        }
    };
    let mut request = AddRecord::new(host.clone());
    request.comment = form
        .get("comment")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    request.allow_internal = form.checked("allow_internal");
    match web.desk.add(&signed.caller, request).await {
        Ok(changed) => secret_page(web, signed, &host, &changed, "added"),
        Err(e) => refused(e),
    }
}

fn error_page(status: StatusCode, message: &str) -> Reply {
    notice_page(status, "Not done", message)
}

/// The page that shows a secret just made, once, with every client's
/// settings.
fn secret_page(
    web: &WebAdmin,
    signed: &Signed,
    host: &Hostname,
    changed: &Changed,
    verb: &str,
) -> Reply {
    let Some(secret) = &changed.generated_secret else {
        return see_other(&format!("/hosts/{}", host.without_trailing_dot()), &[]);
    };
    let name = host.without_trailing_dot();
    let settings = client_settings::for_host(host, secret, &web.targets);
    let markup = layout(
        name,
        Some((&signed.caller, &signed.csrf)),
        html! {
            h1 { (name) " " (verb) }
            @for warning in &changed.warnings {
                p.error role="alert" { (warning) }
            }
            div.card.secret {
                p { "Its secret, shown only now: give it to the host's client and keep it safe." }
                code #secret { (secret.expose_secret()) }
            }
            h2 { "Client settings" }
            @for s in &settings {
                section.settings id={ "settings-" (s.id) } {
                    h3 { (s.title) }
                    pre { (s.text) }
                }
            }
            p { a href={ "/hosts/" (name) } { "Manage " (name) } " · " a href="/" { "All hosts" } }
        },
    );
    page(StatusCode::OK, markup)
}

async fn host_page(web: &WebAdmin, signed: &Signed, name: RecordName) -> Reply {
    let records = match web.desk.show(&signed.caller, &name, &RecordType::ALL).await {
        Ok(records) => records,
        Err(e) => {
            return refused(e);
        }
    };
    let shown = name.without_trailing_dot();
    let all_locked = records
        .iter()
        .filter(|r| r.key.record_type().is_address())
        .all(|r| r.config.lock_record);
    let has_address = records.iter().any(|r| r.key.record_type().is_address());
    let writable = !signed.caller.scope.read_only;
    let markup = layout(
        shown,
        Some((&signed.caller, &signed.csrf)),
        html! {
            h1 { (shown) }
            div.scroll {
                table #records {
                    thead { tr { th { "Type" } th { "Values" } th { "TTL" } th { "Last update" } th { "Last client" } th { "State" } } }
                    tbody {
                        @for r in &records {
                            tr data-type=(r.key.record_type().as_str()) {
                                td { (r.key.record_type().as_str()) }
                                td.addr { (r.state.values.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")) }
                                td { (r.config.ttl.map_or_else(|| "zone default".to_owned(), |t| format!("{t} s"))) }
                                td { (r.state.last_updated.map_or_else(|| "never".to_owned(), short_time)) }
                                td { (r.state.last_accessed.map_or_else(|| "-".to_owned(), |a| a.to_string())) }
                                td.state { (if r.config.lock_record { "locked" } else { "unlocked" }) }
                            }
                        }
                    }
                }
            }
            @if let Some(comment) = records.iter().find_map(|r| r.config.comment.as_deref()) {
                p { "Comment: " (comment) }
            }
            @if writable && has_address {
                div.actions {
                    form.inline method="post" action={ "/hosts/" (shown) "/" (if all_locked { "unlock" } else { "lock" }) } {
                        input type="hidden" name="csrf" value=(signed.csrf);
                        button #lock type="submit" { (if all_locked { "Unlock" } else { "Lock" }) }
                    }
                    form.inline method="post" action={ "/hosts/" (shown) "/rotate" } {
                        input type="hidden" name="csrf" value=(signed.csrf);
                        button #rotate type="submit" { "New secret" }
                    }
                    a.button.danger #remove href={ "/hosts/" (shown) "/remove" } { "Remove…" }
                }
            }
            p { a href="/" { "All hosts" } }
        },
    );
    page(StatusCode::OK, markup)
}

fn confirm_remove(signed: &Signed, name: &RecordName) -> Reply {
    let shown = name.without_trailing_dot();
    let markup = layout(
        "Remove",
        Some((&signed.caller, &signed.csrf)),
        html! {
            h1 { "Remove " (shown) "?" }
            p { "Its A and AAAA records leave DNS at once and its secret stops working. This cannot be undone." }
            form.inline method="post" action={ "/hosts/" (shown) "/remove" } {
                input type="hidden" name="csrf" value=(signed.csrf);
                button.danger #confirm type="submit" { "Remove " (shown) }
            }
            " "
            a.button href={ "/hosts/" (shown) } { "Cancel" }
        },
    );
    page(StatusCode::OK, markup)
}

async fn host_action(web: &WebAdmin, signed: &Signed, name: RecordName, action: &str) -> Reply {
    let types = RecordType::ADDRESSES;
    let shown = name.without_trailing_dot().to_owned();
    let result = match action {
        "lock" => web.desk.set_lock(&signed.caller, &name, &types, true).await,
        "unlock" => {
            web.desk
                .set_lock(&signed.caller, &name, &types, false)
                .await
        }
        "remove" => web.desk.remove(&signed.caller, &name, &types).await,
        "rotate" => match web.desk.rotate(&signed.caller, &name, &types).await {
            Ok(changed) => {
                return match Hostname::parse(name.as_str()) {
                    Ok(host) => secret_page(web, signed, &host, &changed, "has a new secret"),
                    Err(e) => error_page(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
                };
            }
            Err(e) => Err(e),
        },
        _ => {
            return notice_page(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such action.",
            );
        }
    };
    match result {
        Ok(_) if action == "remove" => {
            let query: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("removed", &shown)
                .finish();
            see_other(&format!("/?{query}"), &[])
        }
        Ok(_) => see_other(&format!("/hosts/{shown}"), &[]),
        Err(e) => refused(e),
    }
}
