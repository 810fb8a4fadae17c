//! The REST API under `/api/v1/`: JSON in and out, admin tokens as
//! `Authorization: Bearer`, errors as `application/problem+json`, and an
//! OpenAPI document generated from the handlers' annotations (served at
//! `/api/v1/openapi.json`, and checked against [`ROUTES`] by the tests).
//!
//! Request bodies are parsed into the API's own types here, then into the
//! core's validated types (names, record types, values), so the
//! operations only ever see those.

use std::net::IpAddr;

use bytes::Bytes;
use ddns_core::admin::{AddRecord, Changed, SecretChoice, UpdateRecord};
use ddns_core::prefix::{InterfaceId, PrefixFollow};
use ddns_core::{Hostname, Record, RecordName, RecordType, SharedSecret, Timestamp, TxtValue};
use hyper::header::CONTENT_TYPE;
use hyper::http::request::Parts;
use hyper::{Method, StatusCode};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::WebAdmin;
use super::problem::{Problem, ProblemBody};
use crate::http::{Reply, reply};
use crate::tokens::{Caller, Refusal};

/// Every route of the API: method and path template. The dispatcher
/// matches against it, and the tests check that the OpenAPI document
/// names exactly these.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/whoami"),
    ("GET", "/api/v1/records"),
    ("POST", "/api/v1/records"),
    ("GET", "/api/v1/records/{name}"),
    ("PATCH", "/api/v1/records/{name}"),
    ("DELETE", "/api/v1/records/{name}"),
    ("POST", "/api/v1/records/{name}/lock"),
    ("POST", "/api/v1/records/{name}/unlock"),
    ("POST", "/api/v1/records/{name}/rotate-secret"),
    ("PUT", "/api/v1/txt/{name}"),
    ("DELETE", "/api/v1/txt/{name}"),
];

/// Records in one page of a listing by default, and at most.
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 1000;

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "ddns admin API",
        description = "Record administration of a ddns server: list, add, update, lock, unlock, remove, rotate secrets, TXT values. Authenticate with an admin token (`ddns-server admin-token create NAME`) as `Authorization: Bearer <token>`."
    ),
    paths(
        openapi_document,
        whoami,
        list_records,
        add_record,
        show_records,
        update_records,
        remove_records,
        lock_records,
        unlock_records,
        rotate_secret,
        set_txt,
        delete_txt
    ),
    components(schemas(
        RecordView,
        RecordList,
        ChangeResult,
        NewRecord,
        RecordChanges,
        TxtValues,
        WhoAmI,
        ProblemBody
    )),
    modifiers(&BearerAuth),
    tags((name = "records", description = "Hosts' A, AAAA and TXT records"))
)]
struct ApiDoc;

/// Adds the bearer-token security scheme.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An admin token from `ddns-server admin-token create NAME`",
                    ))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document as JSON.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// A record as the API shows it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RecordView {
    /// The owner name, without the trailing dot.
    #[schema(example = "home.example.com")]
    name: String,
    /// `A`, `AAAA` or `TXT`.
    #[serde(rename = "type")]
    #[schema(example = "A")]
    record_type: String,
    /// The TTL in seconds; `null`: the zone's default.
    ttl: Option<u32>,
    /// The values published, in presentation form.
    #[schema(example = json!(["198.51.100.7"]))]
    values: Vec<String>,
    /// Whether the system never changes it.
    locked: bool,
    /// Whether internal addresses and others than the client's are taken.
    allow_internal: bool,
    /// Whether it belongs to its secret's discovery group.
    read_privilege: bool,
    /// Whether only signed requests may change it.
    require_signed: bool,
    /// The host's MAC address.
    mac_address: Option<String>,
    /// The operator's comment.
    comment: Option<String>,
    /// The router whose prefix this AAAA record follows.
    prefix_from: Option<String>,
    /// The interface identifier kept under that prefix.
    interface_id: Option<String>,
    /// When its values last changed (RFC 3339, UTC).
    last_updated: Option<String>,
    /// When a client last confirmed them.
    last_checked: Option<String>,
    /// The address of the last client request.
    last_accessed: Option<String>,
}

/// RFC 3339 (UTC) for a stored time.
pub(crate) fn rfc3339(t: Timestamp) -> String {
    let text = t.to_string();
    match text.split_once(' ') {
        Some((day, time)) => format!("{day}T{time}Z"),
        None => text,
    }
}

impl RecordView {
    pub(crate) fn of(record: &Record) -> Self {
        let (c, s) = (&record.config, &record.state);
        Self {
            name: record.key.name().without_trailing_dot().to_owned(),
            record_type: record.key.record_type().as_str().to_owned(),
            ttl: c.ttl,
            values: s.values.iter().map(ToString::to_string).collect(),
            locked: c.lock_record,
            allow_internal: c.allow_internal,
            read_privilege: c.read_privilege,
            require_signed: c.require_signed,
            mac_address: c.mac_address.clone(),
            comment: c.comment.clone(),
            prefix_from: c
                .follow
                .as_ref()
                .map(|f| f.prefix_from.without_trailing_dot().to_owned()),
            interface_id: c.follow.as_ref().map(|f| f.interface_id.to_string()),
            last_updated: s.last_updated.map(rfc3339),
            last_checked: s.last_checked.map(rfc3339),
            last_accessed: s.last_accessed.map(|a| a.to_string()),
        }
    }
}

/// One page of a listing.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RecordList {
    /// The records of this page, by name and type.
    records: Vec<RecordView>,
    /// How many records match in all.
    total: usize,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// What a change did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ChangeResult {
    /// The records changed, as `name. TYPE`.
    #[schema(example = json!(["home.example.com. A", "home.example.com. AAAA"]))]
    changed: Vec<String>,
    /// The secret made by this call: shown only now.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    /// Advice (a weak secret given, a second DNS deletion that failed).
    warnings: Vec<String>,
}

impl ChangeResult {
    fn of(changed: Changed) -> Self {
        Self {
            changed: changed.keys.iter().map(ToString::to_string).collect(),
            secret: changed
                .generated_secret
                .map(|s| s.expose_secret().to_owned()),
            warnings: changed.warnings,
        }
    }
}

/// A host to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewRecord {
    /// The host name; it must lie in a zone served (and in the token's
    /// scope).
    #[schema(example = "home.example.com")]
    name: String,
    /// The record types to create (default `["A", "AAAA"]`).
    #[serde(default)]
    types: Option<Vec<String>>,
    /// The shared secret; a random one is made (and returned once) when
    /// left out.
    #[serde(default)]
    secret: Option<String>,
    /// Refuse a given secret weaker than 128 bits instead of warning.
    #[serde(default)]
    strict: bool,
    /// The TTL in seconds (default: the zone's).
    #[serde(default)]
    ttl: Option<u32>,
    /// Create the records locked.
    #[serde(default)]
    locked: bool,
    /// Take internal addresses and others than the client's own.
    #[serde(default)]
    allow_internal: bool,
    /// Join the secret's discovery group.
    #[serde(default)]
    read_privilege: bool,
    /// Accept only signed requests.
    #[serde(default)]
    require_signed: bool,
    /// The host's MAC address (six hex pairs).
    #[serde(default)]
    mac_address: Option<String>,
    /// A comment for the operator.
    #[serde(default)]
    comment: Option<String>,
    /// Follow the prefix this router reports (AAAA only; with
    /// `interface_id`).
    #[serde(default)]
    prefix_from: Option<String>,
    /// The interface identifier kept under the prefix, like `::2`.
    #[serde(default)]
    interface_id: Option<String>,
}

/// `Some(value)` for a field present in the JSON (`null` included), so
/// that `null` can mean "clear" and absence "keep".
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Settings to change; a field left out is kept, `null` clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordChanges {
    /// The record types to change (default `["A", "AAAA"]`).
    #[serde(default)]
    types: Option<Vec<String>>,
    /// A TTL in seconds; `null`: the zone's default.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    ttl: Option<Option<u32>>,
    /// Take internal addresses and others than the client's own.
    #[serde(default)]
    allow_internal: Option<bool>,
    /// Join or leave the discovery group.
    #[serde(default)]
    read_privilege: Option<bool>,
    /// Accept only signed requests.
    #[serde(default)]
    require_signed: Option<bool>,
    /// A MAC address; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    mac_address: Option<Option<String>>,
    /// A comment; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    comment: Option<Option<String>>,
    /// A router to follow (with `interface_id`); `null` stops following.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    prefix_from: Option<Option<String>>,
    /// The interface identifier that goes with `prefix_from`.
    #[serde(default)]
    interface_id: Option<String>,
    /// A new shared secret (to make a random one, use `rotate-secret`).
    #[serde(default)]
    secret: Option<String>,
    /// Refuse a given secret weaker than 128 bits instead of warning.
    #[serde(default)]
    strict: bool,
}

/// The values of a TXT RRset.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TxtValues {
    /// Each the text of one value (printable ASCII; over 255 bytes is
    /// split into several strings).
    #[schema(example = json!(["v=spf1 -all"]))]
    values: Vec<String>,
    /// The TTL in seconds (default: the record's, else the zone's).
    #[serde(default)]
    ttl: Option<u32>,
}

/// The token a request was made with.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WhoAmI {
    /// The token's name.
    name: String,
    /// Whether it only reads.
    read_only: bool,
    /// The name it is limited to (with the names under it); `null`: all.
    under: Option<String>,
}

/// A handler's answer: a status and a JSON body, or a problem.
type Answer = Result<(StatusCode, String), Problem>;

fn json(status: StatusCode, body: &impl Serialize) -> Answer {
    serde_json::to_string(body)
        .map(|text| (status, text))
        .map_err(|e| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Answer not written",
                format!("the answer could not be written as JSON: {e}"),
            )
        })
}

/// What a request asked, parsed.
struct Call<'a> {
    caller: Caller,
    query: Vec<(String, String)>,
    body: &'a Bytes,
    json_body: bool,
}

impl Call<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as `T`, refusing other content types and bad JSON.
    fn body<T: for<'de> Deserialize<'de>>(&self) -> Result<T, Problem> {
        if !self.json_body {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "JSON expected",
                "send the body as JSON with Content-Type: application/json".into(),
            ));
        }
        serde_json::from_slice(self.body).map_err(|e| {
            Problem::bad_request(format!(
                "the body is not what this call takes: {e}; the OpenAPI document at /api/v1/openapi.json describes it"
            ))
        })
    }

    /// The `type` parameter (comma-separated), or `default`.
    fn types(&self, default: &[RecordType]) -> Result<Vec<RecordType>, Problem> {
        match self.param("type") {
            None | Some("") => Ok(default.to_vec()),
            Some(text) => parse_types(text.split(',')),
        }
    }
}

fn parse_types<'a>(texts: impl Iterator<Item = &'a str>) -> Result<Vec<RecordType>, Problem> {
    texts
        .map(|t| {
            t.trim().parse::<RecordType>().map_err(|_| {
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Invalid value",
                    format!("{t:?} is not a record type here; use A, AAAA or TXT"),
                )
            })
        })
        .collect()
}

fn invalid(detail: String) -> Problem {
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid value", detail)
}

fn hostname(text: &str) -> Result<Hostname, Problem> {
    Hostname::parse(text).map_err(|e| invalid(format!("{text:?}: {e}")))
}

fn record_name(text: &str) -> Result<RecordName, Problem> {
    RecordName::parse(text).map_err(|e| invalid(format!("{text:?}: {e}")))
}

fn follow(from: Option<&str>, id: Option<&str>) -> Result<Option<PrefixFollow>, Problem> {
    match (from, id) {
        (None, None) => Ok(None),
        (Some(from), Some(id)) => {
            let id: InterfaceId = id
                .parse()
                .map_err(|e: ddns_core::prefix::PrefixError| invalid(e.to_string()))?;
            Ok(Some(PrefixFollow::new(hostname(from)?, id)))
        }
        _ => Err(invalid(
            "prefix_from and interface_id go together: give both, or neither".into(),
        )),
    }
}

fn given_secret(secret: Option<String>) -> Result<SecretChoice, Problem> {
    match secret {
        Some(s) if s.is_empty() => Err(invalid("the secret cannot be empty".into())),
        Some(s) => Ok(SecretChoice::Given(SharedSecret::new(s))),
        None => Ok(SecretChoice::Default),
    }
}

/// The OpenAPI document of this API.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "This document (no token needed)", content_type = "application/json"))
)]
fn openapi_document() -> Answer {
    Ok((StatusCode::OK, openapi_json()))
}

/// The token the request was made with, and its scope.
#[utoipa::path(
    get,
    path = "/api/v1/whoami",
    tag = "meta",
    responses(
        (status = 200, description = "The token's name and scope", body = WhoAmI),
        (status = 401, description = "No usable token", body = ProblemBody, content_type = "application/problem+json")
    ),
    security(("admin_token" = []))
)]
fn whoami(call: &Call<'_>) -> Answer {
    json(
        StatusCode::OK,
        &WhoAmI {
            name: call.caller.name.clone(),
            read_only: call.caller.scope.read_only,
            under: call
                .caller
                .scope
                .under
                .as_ref()
                .map(|h| h.without_trailing_dot().to_owned()),
        },
    )
}

/// Lists the records the token may see, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/records",
    tag = "records",
    params(
        ("q" = Option<String>, Query, description = "Only names (or comments) containing this text, in any case"),
        ("limit" = Option<usize>, Query, description = "Records per page, 1 to 1000 (default 100)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before")
    ),
    responses(
        (status = 200, description = "One page of records", body = RecordList),
        (status = 400, description = "A bad limit or cursor", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = ProblemBody, content_type = "application/problem+json")
    ),
    security(("admin_token" = []))
)]
async fn list_records(web: &WebAdmin, call: &Call<'_>) -> Answer {
    let limit = match call.param("limit") {
        None | Some("") => DEFAULT_PAGE,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(Problem::bad_request(format!(
                    "limit={text:?}: give a number from 1 to {MAX_PAGE}"
                )));
            }
        },
    };
    let after = match call.param("cursor") {
        None | Some("") => None,
        Some(text) => Some(decode_cursor(text).ok_or_else(|| {
            Problem::bad_request("the cursor is not one this API gave; start again without it")
        })?),
    };
    let records = web.desk.list(&call.caller, call.param("q")).await?;
    let total = records.len();
    let start = match &after {
        // Records are sorted by name and type: resume after the cursor.
        Some((name, record_type)) => records
            .iter()
            .position(|r| {
                (r.key.name().as_str(), r.key.record_type()) > (name.as_str(), *record_type)
            })
            .unwrap_or(total),
        None => 0,
    };
    let page: Vec<&Record> = records.iter().skip(start).take(limit).collect();
    let next_cursor = (start + page.len() < total)
        .then(|| page.last().map(|r| encode_cursor(r)))
        .flatten();
    json(
        StatusCode::OK,
        &RecordList {
            records: page.into_iter().map(RecordView::of).collect(),
            total,
            next_cursor,
        },
    )
}

/// The cursor after `record`: its name and type, as hex (opaque to
/// clients).
fn encode_cursor(record: &Record) -> String {
    hex::encode(format!(
        "{} {}",
        record.key.name(),
        record.key.record_type()
    ))
}

/// The name and type a cursor holds.
fn decode_cursor(text: &str) -> Option<(String, RecordType)> {
    let text = String::from_utf8(hex::decode(text).ok()?).ok()?;
    let (name, record_type) = text.split_once(' ')?;
    Some((name.to_owned(), record_type.parse().ok()?))
}

/// Adds a host's records; a generated secret is in the answer, once.
#[utoipa::path(
    post,
    path = "/api/v1/records",
    tag = "records",
    request_body = NewRecord,
    responses(
        (status = 201, description = "Added; `secret` holds the generated secret, shown only now", body = ChangeResult),
        (status = 400, description = "The body is not JSON of this shape", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Outside the token's scope, or a read-only token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "The record exists", body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A value breaks a rule (a name in no zone, a bad MAC address)", body = ProblemBody, content_type = "application/problem+json")
    ),
    security(("admin_token" = []))
)]
async fn add_record(web: &WebAdmin, call: &Call<'_>) -> Answer {
    let body: NewRecord = call.body()?;
    let mut request = AddRecord::new(hostname(&body.name)?);
    if let Some(types) = &body.types {
        request.types = parse_types(types.iter().map(String::as_str))?;
    }
    request.secret = given_secret(body.secret)?;
    request.strict = body.strict;
    request.ttl = body.ttl;
    request.lock_record = body.locked;
    request.allow_internal = body.allow_internal;
    request.read_privilege = body.read_privilege;
    request.require_signed = body.require_signed;
    request.mac_address = body.mac_address;
    request.comment = body.comment;
    request.follow = follow(body.prefix_from.as_deref(), body.interface_id.as_deref())?;
    if request.follow.is_some() && body.types.is_none() {
        request.types = vec![RecordType::Aaaa];
    }
    let changed = web.desk.add(&call.caller, request).await?;
    json(StatusCode::CREATED, &ChangeResult::of(changed))
}

/// The records at a name.
#[utoipa::path(
    get,
    path = "/api/v1/records/{name}",
    tag = "records",
    params(
        ("name" = String, Path, description = "The owner name"),
        ("type" = Option<String>, Query, description = "Comma-separated types (default: A, AAAA and TXT)")
    ),
    responses(
        (status = 200, description = "The records", body = RecordList),
        (status = 403, description = "Outside the token's scope", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No record of those types", body = ProblemBody, content_type = "application/problem+json")
    ),
    security(("admin_token" = []))
)]
async fn show_records(web: &WebAdmin, call: &Call<'_>, name: &RecordName) -> Answer {
    let records = web
        .desk
        .show(&call.caller, name, &call.types(&RecordType::ALL)?)
        .await?;
    json(
        StatusCode::OK,
        &RecordList {
            total: records.len(),
            records: records.iter().map(RecordView::of).collect(),
            next_cursor: None,
        },
    )
}

/// Changes settings of a host's records (the secret, TTL, rules, comment,
/// prefix following); what is left out is kept.
#[utoipa::path(
    patch,
    path = "/api/v1/records/{name}",
    tag = "records",
    params(("name" = String, Path, description = "The host name")),
    request_body = RecordChanges,
    responses(
        (status = 200, description = "Changed", body = ChangeResult),
        (status = 400, description = "The body is not JSON of this shape", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Outside the token's scope, or a read-only token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No record of those types", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A value breaks a rule", body = ProblemBody, content_type = "application/problem+json")
    ),
    security(("admin_token" = []))
)]
async fn update_records(web: &WebAdmin, call: &Call<'_>, name: &RecordName) -> Answer {
    let body: RecordChanges = call.body()?;
    let mut request = UpdateRecord::new(hostname(name.as_str())?);
    if let Some(types) = &body.types {
        request.types = parse_types(types.iter().map(String::as_str))?;
    }
    request.secret = given_secret(body.secret)?;
    request.strict = body.strict;
    request.ttl = body.ttl;
    request.allow_internal = body.allow_internal;
    request.read_privilege = body.read_privilege;
    request.require_signed = body.require_signed;
    request.mac_address = body.mac_address;
    request.comment = body.comment;
    request.follow = match (body.prefix_from, body.interface_id) {
        (None, None) => None,
        (Some(None), None) => Some(None),
        (Some(from), id) => Some(follow(from.as_deref(), id.as_deref())?),
        (None, Some(_)) => {
            return Err(invalid(
                "interface_id goes with prefix_from: give both".into(),
            ));
        }
    };
    let changed = web.desk.update(&call.caller, request).await?;
    json(StatusCode::OK, &ChangeResult::of(changed))
}

/// Removes a host's records: from DNS first, then from the store.
#[utoipa::path(
    delete,
    path = "/api/v1/records/{name}",
    tag = "records",
    params(
        ("name" = String, Path, description = "The host name"),
        ("type" = Option<String>, Query, description = "Comma-separated types (default: A and AAAA)")
    ),
    responses(
        (status = 200, description = "Removed", body = ChangeResult),
        (status = 403, description = "Outside the token's scope, or a read-only token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No record of those types", body = ProblemBody, content_type = "application/problem+json"),
        (status = 502, description = "DNS did not take the deletion; nothing was removed", body = ProblemBody, content_type = "application/problem+json")
    ),
    security(("admin_token" = []))
)]
async fn remove_records(web: &WebAdmin, call: &Call<'_>, name: &RecordName) -> Answer {
    let types = call.types(&RecordType::ADDRESSES)?;
    let changed = web.desk.remove(&call.caller, name, &types).await?;
    json(StatusCode::OK, &ChangeResult::of(changed))
}

/// Locks a host's records: no client changes them.
#[utoipa::path(
    post,
    path = "/api/v1/records/{name}/lock",
    tag = "records",
    params(
        ("name" = String, Path, description = "The host name"),
        ("type" = Option<String>, Query, description = "Comma-separated types (default: A and AAAA)")
    ),
    responses(
        (status = 200, description = "Locked", body = ChangeResult),
        (status = 403, description = "Outside the token's scope, or a read-only token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No record of those types", body = ProblemBody, content_type = "application/problem+json")
    ),
    security(("admin_token" = []))
)]
async fn lock_records(web: &WebAdmin, call: &Call<'_>, name: &RecordName) -> Answer {
    let types = call.types(&RecordType::ADDRESSES)?;
    let changed = web.desk.set_lock(&call.caller, name, &types, true).await?;
    json(StatusCode::OK, &ChangeResult::of(changed))
}

/// Unlocks a host's records.
#[utoipa::path(
    post,
    path = "/api/v1/records/{name}/unlock",
    tag = "records",
    params(
        ("name" = String, Path, description = "The host name"),
        ("type" = Option<String>, Query, description = "Comma-separated types (default: A and AAAA)")
    ),
    responses(
        (status = 200, description = "Unlocked", body = ChangeResult),
        (status = 403, description = "Outside the token's scope, or a read-only token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No record of those types", body = ProblemBody, content_type = "application/problem+json")
    ),
    security(("admin_token" = []))
)]
async fn unlock_records(web: &WebAdmin, call: &Call<'_>, name: &RecordName) -> Answer {
    let types = call.types(&RecordType::ADDRESSES)?;
    let changed = web.desk.set_lock(&call.caller, name, &types, false).await?;
    json(StatusCode::OK, &ChangeResult::of(changed))
}

/// Gives a host's records a new random secret, in the answer once.
#[utoipa::path(
    post,
    path = "/api/v1/records/{name}/rotate-secret",
    tag = "records",
    params(
        ("name" = String, Path, description = "The host name"),
        ("type" = Option<String>, Query, description = "Comma-separated types (default: A and AAAA)")
    ),
    responses(
        (status = 200, description = "Rotated; `secret` is the new secret, shown only now", body = ChangeResult),
        (status = 403, description = "Outside the token's scope, or a read-only token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No record of those types", body = ProblemBody, content_type = "application/problem+json")
    ),
    security(("admin_token" = []))
)]
async fn rotate_secret(web: &WebAdmin, call: &Call<'_>, name: &RecordName) -> Answer {
    let types = call.types(&RecordType::ADDRESSES)?;
    let changed = web.desk.rotate(&call.caller, name, &types).await?;
    json(StatusCode::OK, &ChangeResult::of(changed))
}

/// Makes the TXT RRset at a name hold exactly these values (for ACME
/// challenges, SPF and the like), creating its record when needed.
#[utoipa::path(
    put,
    path = "/api/v1/txt/{name}",
    tag = "records",
    params(("name" = String, Path, description = "The name; labels may start with an underscore")),
    request_body = TxtValues,
    responses(
        (status = 200, description = "Set, in DNS and the store", body = ChangeResult),
        (status = 403, description = "Outside the token's scope, or a read-only token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A bad value, no value, or a name in no zone", body = ProblemBody, content_type = "application/problem+json"),
        (status = 502, description = "DNS did not take the change; nothing was stored", body = ProblemBody, content_type = "application/problem+json")
    ),
    security(("admin_token" = []))
)]
async fn set_txt(web: &WebAdmin, call: &Call<'_>, name: &RecordName) -> Answer {
    let body: TxtValues = call.body()?;
    let values = body
        .values
        .iter()
        .map(|text| {
            TxtValue::new(text).map_err(|e| {
                invalid(format!(
                    "{:?}: {e}",
                    text.chars().take(40).collect::<String>()
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let changed = web
        .desk
        .set_txt(&call.caller, name, values, body.ttl)
        .await?;
    json(StatusCode::OK, &ChangeResult::of(changed))
}

/// Deletes the TXT RRset at a name, and its record.
#[utoipa::path(
    delete,
    path = "/api/v1/txt/{name}",
    tag = "records",
    params(("name" = String, Path, description = "The name")),
    responses(
        (status = 200, description = "Deleted", body = ChangeResult),
        (status = 403, description = "Outside the token's scope, or a read-only token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No TXT record there", body = ProblemBody, content_type = "application/problem+json")
    ),
    security(("admin_token" = []))
)]
async fn delete_txt(web: &WebAdmin, call: &Call<'_>, name: &RecordName) -> Answer {
    let changed = web
        .desk
        .remove(&call.caller, name, &[RecordType::Txt])
        .await?;
    json(StatusCode::OK, &ChangeResult::of(changed))
}

/// The route `path` matches for `method`: its template and the `{name}`
/// segment; `Err` with the methods the path takes (empty: no such path).
fn route<'p>(
    method: &str,
    path: &'p str,
) -> Result<(&'static str, Option<&'p str>), Vec<&'static str>> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut allowed = Vec::new();
    for &(route_method, template) in ROUTES {
        let pattern: Vec<&str> = template.split('/').collect();
        if pattern.len() != segments.len() {
            continue;
        }
        let mut name = None;
        let matched = pattern.iter().zip(&segments).all(|(p, s)| {
            if *p == "{name}" {
                name = Some(*s);
                !s.is_empty()
            } else {
                p == s
            }
        });
        if matched {
            if route_method == method {
                return Ok((template, name));
            }
            allowed.push(route_method);
        }
    }
    Err(allowed)
}

/// Answers one API request.
pub(super) async fn handle(web: &WebAdmin, source: IpAddr, parts: &Parts, body: &Bytes) -> Reply {
    match answer(web, source, parts, body).await {
        Ok((status, text)) => reply(status, "application/json", text),
        Err(problem) => problem.into_reply(),
    }
}

async fn answer(web: &WebAdmin, source: IpAddr, parts: &Parts, body: &Bytes) -> Answer {
    let method = parts.method.as_str();
    let (template, name) = match route(method, parts.uri.path()) {
        Ok(found) => found,
        Err(allowed) if allowed.is_empty() => {
            return Err(Problem::new(
                StatusCode::NOT_FOUND,
                "Not found",
                format!(
                    "no such API path: {}; /api/v1/openapi.json lists them",
                    parts.uri.path().chars().take(200).collect::<String>()
                ),
            ));
        }
        Err(allowed) => return Err(Problem::method_not_allowed(&allowed)),
    };
    if template == "/api/v1/openapi.json" {
        return openapi_document();
    }
    let caller = authenticate(web, source, parts)?;
    let call = Call {
        caller,
        query: form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect(),
        body,
        json_body: parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
            }),
    };
    let name = match name {
        Some(text) => Some(record_name(text)?),
        None => None,
    };
    match (parts.method.clone(), template, name) {
        (Method::GET, "/api/v1/whoami", _) => whoami(&call),
        (Method::GET, "/api/v1/records", _) => list_records(web, &call).await,
        (Method::POST, "/api/v1/records", _) => add_record(web, &call).await,
        (Method::GET, "/api/v1/records/{name}", Some(name)) => {
            show_records(web, &call, &name).await
        }
        (Method::PATCH, "/api/v1/records/{name}", Some(name)) => {
            update_records(web, &call, &name).await
        }
        (Method::DELETE, "/api/v1/records/{name}", Some(name)) => {
            remove_records(web, &call, &name).await
        }
        (Method::POST, "/api/v1/records/{name}/lock", Some(name)) => {
            lock_records(web, &call, &name).await
        }
        (Method::POST, "/api/v1/records/{name}/unlock", Some(name)) => {
            unlock_records(web, &call, &name).await
        }
        (Method::POST, "/api/v1/records/{name}/rotate-secret", Some(name)) => {
            rotate_secret(web, &call, &name).await
        }
        (Method::PUT, "/api/v1/txt/{name}", Some(name)) => set_txt(web, &call, &name).await,
        (Method::DELETE, "/api/v1/txt/{name}", Some(name)) => delete_txt(web, &call, &name).await,
        _ => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "Not found",
            "no such API path; /api/v1/openapi.json lists them".into(),
        )),
    }
}

/// The caller of a request's bearer token; failures are counted against
/// the source, which is refused for a minute past the limit.
fn authenticate(web: &WebAdmin, source: IpAddr, parts: &Parts) -> Result<Caller, Problem> {
    if !web.guard.admits(source) {
        return Err(Problem::too_many_failures());
    }
    let presented = parts
        .headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(token)
        });
    match web.tokens.verify(presented) {
        Ok(Ok(caller)) => Ok(caller),
        Ok(Err(refusal)) => {
            if refusal != Refusal::Missing {
                web.guard.failed(source);
                tracing::info!(%source, ?refusal, "admin API: token refused");
            }
            Err(Problem::unauthorized(match refusal {
                Refusal::Missing => {
                    "send an admin token as `Authorization: Bearer <token>` (ddns-server admin-token create NAME makes one)"
                }
                Refusal::Unknown => "the token is unknown or was revoked",
                Refusal::Expired => {
                    "the token has expired; create a new one (ddns-server admin-token create NAME)"
                }
            }))
        }
        Err(e) => {
            tracing::error!(error = %e, "admin API: the token file cannot be read");
            Err(Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Tokens unavailable",
                "the server cannot read its admin token file; the operator must fix it (see the server's log)".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_names_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap();
        let mut documented: Vec<(String, String)> = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                documented.push((method.to_ascii_uppercase(), path.clone()));
            }
        }
        documented.sort();
        let mut routes: Vec<(String, String)> = ROUTES
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        routes.sort();
        assert_eq!(documented, routes);
        assert!(doc["components"]["securitySchemes"]["admin_token"].is_object());
    }

    #[test]
    fn routes_match_names_and_say_which_methods_a_path_takes() {
        assert_eq!(
            route("POST", "/api/v1/records/home.example.com/lock"),
            Ok(("/api/v1/records/{name}/lock", Some("home.example.com")))
        );
        assert_eq!(
            route("GET", "/api/v1/records"),
            Ok(("/api/v1/records", None))
        );
        let Err(allowed) = route("PUT", "/api/v1/records/home.example.com") else {
            panic!("PUT is no route");
        };
        assert_eq!(allowed, ["GET", "PATCH", "DELETE"]);
        assert_eq!(route("GET", "/api/v1/nothing"), Err(vec![]));
        assert_eq!(route("GET", "/api/v1/records//lock"), Err(vec![]));
    }

    #[test]
    fn a_missing_field_keeps_and_null_clears() {
        let kept: RecordChanges = serde_json::from_str("{}").unwrap();
        assert_eq!(kept.ttl, None);
        let cleared: RecordChanges =
            serde_json::from_str(r#"{"ttl": null, "comment": null}"#).unwrap();
        assert_eq!(cleared.ttl, Some(None));
        assert_eq!(cleared.comment, Some(None));
        let set: RecordChanges = serde_json::from_str(r#"{"ttl": 30}"#).unwrap();
        assert_eq!(set.ttl, Some(Some(30)));
        assert!(serde_json::from_str::<RecordChanges>(r#"{"tll": 30}"#).is_err());
    }
}
