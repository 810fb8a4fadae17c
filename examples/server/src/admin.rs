//! The admin subcommands: a thin layer that turns command-line arguments
//! into the core's [`RecordAdmin`] use cases and prints their outcome.
//!
//! Every rule (zones, MAC addresses, secret strength, removal order) lives
//! in `ddns_core::admin`. Output goes to the writer given, so the commands
//! are testable; secrets are printed only when generated (once), and by
//! `list`/`show` when asked.

use std::io::Write;
use std::net::IpAddr;
use std::path::Path;

use ddns_core::admin::{AddRecord, Changed, RecordAdmin, SecretChoice, UpdateRecord};
use ddns_core::prefix::{InterfaceId, PrefixFollow};
use ddns_core::{
    HashToken, Hostname, RecordKey, RecordName, RecordState, RecordStore, RecordType, RecordValue,
    SharedSecret, TxtValue,
};

use crate::backends::{Providers, open_store};
use crate::cli::{AddArgs, ImportArgs, TxtSetArgs, Types, UpdateArgs};
use crate::control::{self, Request};
use crate::settings::ValidConfig;

pub use ddns_core::admin::{GENERATED_SECRET_DIGITS, MIN_SECRET_BITS};

/// Why an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Bad input, with what is accepted.
    #[error("{0}")]
    Input(String),
    /// A use case refused or failed.
    #[error(transparent)]
    Admin(#[from] ddns_core::admin::AdminError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] ddns_core::Error),
    /// The backends could not be opened.
    #[error(transparent)]
    Start(#[from] Box<crate::app::StartError>),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

/// The record administration over the configured store and zones, for a
/// command run beside (or without) the server. Embedded zones are not
/// served by this process: a removal reaches a running server's DNS through
/// its control socket ([`remove`]).
///
/// # Errors
///
/// [`AdminError::Start`] when the store or a provider cannot be opened.
pub async fn open(
    config: &ValidConfig,
) -> Result<(RecordAdmin, std::sync::Arc<dyn RecordStore>), AdminError> {
    let store = open_store(config).await.map_err(Box::new)?;
    let providers = Providers::build(config, false).await.map_err(Box::new)?;
    let admin = RecordAdmin::new(store.clone(), providers.router, config.core_zones());
    Ok((admin, store))
}

fn hostname(text: &str) -> Result<Hostname, AdminError> {
    Hostname::parse(text).map_err(|e| AdminError::Input(format!("{text:?}: {e}")))
}

/// `--prefix-from ROUTER --ipv6-interface-id ID`, when given.
fn follow(from: Option<String>, id: Option<String>) -> Result<Option<PrefixFollow>, AdminError> {
    let (Some(from), Some(id)) = (from, id) else {
        return Ok(None);
    };
    let id: InterfaceId = id
        .parse()
        .map_err(|e: ddns_core::prefix::PrefixError| AdminError::Input(e.to_string()))?;
    Ok(Some(PrefixFollow::new(hostname(&from)?, id)))
}

/// A record's owner name: a host name, or a TXT name with underscore
/// labels.
fn record_name(text: &str) -> Result<RecordName, AdminError> {
    RecordName::parse(text).map_err(|e| AdminError::Input(format!("{text:?}: {e}")))
}

/// A record's values as one line: each in presentation form, separated by
/// spaces; `-` for none.
fn values_text(state: &RecordState) -> String {
    RecordValue::stored_form(&state.values).map_or_else(|| "-".to_owned(), |v| v.replace('\n', " "))
}

/// Prints a use case's warnings, and the secret it generated: the only
/// time that secret is shown.
fn report(changed: &Changed, out: &mut dyn Write, warnings: &mut dyn Write) -> std::io::Result<()> {
    for warning in &changed.warnings {
        writeln!(warnings, "warning: {warning}")?;
    }
    if let Some(secret) = &changed.generated_secret {
        writeln!(out, "secret: {}", secret.expose_secret())?;
        writeln!(
            out,
            "The secret is shown only now; give it to the client and keep it safe."
        )?;
    }
    Ok(())
}

fn given_secret(secret: Option<String>) -> Result<Option<SharedSecret>, AdminError> {
    match secret {
        Some(s) if s.is_empty() => Err(AdminError::Input("the secret cannot be empty".into())),
        Some(s) => Ok(Some(SharedSecret::new(s))),
        None => Ok(None),
    }
}

/// `import`: reads the upstream table and copies its records into the
/// configured store (with `--apply`), reporting each record copied or not
/// and why; hosted zone ids the items name are listed, for the operator to
/// serve those zones.
///
/// # Errors
///
/// [`AdminError::Store`] when the table cannot be read or the store fails.
pub async fn import(
    admin: &RecordAdmin,
    args: ImportArgs,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let mut builder = ddns_aws::DynamoDbStore::builder().with_table(&args.table);
    if let Some(layout) = &args.layout {
        builder = builder.with_layout(layout.parse()?);
    }
    if let Some(region) = args.region {
        builder = builder.with_region(region);
    }
    if let Some(url) = args.endpoint_url {
        builder = builder.with_endpoint_url(url);
    }
    let source = builder.build().await?;
    let survey = source.survey().await?;
    let mut zones: Vec<String> = survey
        .records
        .iter()
        .filter_map(|(_, zone)| zone.clone())
        .collect();
    zones.sort();
    zones.dedup();
    let zone_of: std::collections::HashMap<RecordKey, String> = survey
        .records
        .iter()
        .filter_map(|(record, zone)| Some((record.key.clone(), zone.clone()?)))
        .collect();
    let records = survey
        .records
        .into_iter()
        .map(|(record, _)| record)
        .collect();
    let report = admin.import(records, args.apply).await?;
    if !args.apply {
        writeln!(
            out,
            "dry run: nothing is written; run again with --apply to copy"
        )?;
    }
    let verb = if args.apply { "copied" } else { "would copy" };
    for key in &report.copied {
        match zone_of.get(key) {
            Some(zone) => writeln!(out, "{verb} {key} (hosted zone {zone})")?,
            None => writeln!(out, "{verb} {key}")?,
        }
    }
    for refusal in &report.refused {
        writeln!(out, "cannot copy {}: {}", refusal.name, refusal.reason)?;
    }
    for (hostname, reason) in &survey.unreadable {
        writeln!(out, "cannot copy item {hostname:?}: {reason}")?;
    }
    if !zones.is_empty() {
        writeln!(
            out,
            "the table names the hosted zones {}: serve their zones here ([[zone]] sections) for the records in them",
            zones.join(", ")
        )?;
    }
    writeln!(
        out,
        "{} {}, {} cannot be copied (layout {} of table {})",
        report.copied.len(),
        if args.apply { "copied" } else { "to copy" },
        report.refused.len() + survey.unreadable.len(),
        source.layout(),
        source.table()
    )?;
    Ok(())
}

/// `add`: creates the records, printing a generated secret once.
///
/// # Errors
///
/// [`AdminError`] for a name outside the zones, a bad MAC, or an existing
/// record (nothing is created then).
pub async fn add(
    admin: &RecordAdmin,
    args: AddArgs,
    out: &mut dyn Write,
    warnings: &mut dyn Write,
) -> Result<(), AdminError> {
    let mut request = AddRecord::new(hostname(&args.hostname)?);
    request.types = args.types.list();
    if let Some(secret) = given_secret(args.secret)? {
        request.secret = SecretChoice::Given(secret);
    }
    request.strict = args.strict;
    request.ttl = args.ttl;
    request.lock_record = args.locked;
    request.allow_internal = args.allow_internal;
    request.read_privilege = args.read_privilege;
    request.require_signed = args.require_signed;
    request.mac_address = args.mac;
    request.comment = args.comment;
    request.follow = follow(args.prefix_from, args.ipv6_interface_id)?;
    if request.follow.is_some() && args.types == Types::Both {
        request.types = vec![RecordType::Aaaa];
    }
    let name = request.hostname.clone();
    let changed = admin.add(request).await?;
    let types: Vec<&str> = changed
        .keys
        .iter()
        .map(|k| k.record_type().as_str())
        .collect();
    writeln!(out, "added {name} ({})", types.join(", "))?;
    report(&changed, out, warnings)?;
    Ok(())
}

fn flag(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// `list`: one line per record.
///
/// # Errors
///
/// The store's error.
pub async fn list(
    admin: &RecordAdmin,
    show_secrets: bool,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let records = admin.list().await?;
    write!(
        out,
        "{:<40} {:<5} {:>6} {:<6} {:<8} {:<5} {:<39} {:<26}",
        "HOSTNAME", "TYPE", "TTL", "LOCKED", "INTERNAL", "READ", "VALUES", "LAST_UPDATED"
    )?;
    writeln!(out, "{}", if show_secrets { " SECRET" } else { "" })?;
    for r in &records {
        write!(
            out,
            "{:<40} {:<5} {:>6} {:<6} {:<8} {:<5} {:<39} {:<26}",
            r.key.name().as_str(),
            r.key.record_type().as_str(),
            or_dash(r.config.ttl),
            flag(r.config.lock_record),
            flag(r.config.allow_internal),
            flag(r.config.read_privilege),
            values_text(&r.state),
            or_dash(r.state.last_updated),
        )?;
        if show_secrets {
            write!(out, " {}", r.config.shared_secret.expose_secret())?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{} record(s)", records.len())?;
    Ok(())
}

/// `show`: every field of a host's records.
///
/// # Errors
///
/// [`AdminError::Input`] when the host has no record of the types asked.
pub async fn show(
    admin: &RecordAdmin,
    name: &str,
    types: Types,
    show_secret: bool,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    for r in admin.show(record_name(name)?, &types.list()).await? {
        let c = &r.config;
        let s = &r.state;
        writeln!(out, "{} {}", r.key.name(), r.key.record_type())?;
        let secret = if show_secret {
            c.shared_secret.expose_secret().to_owned()
        } else {
            "(hidden; --show-secret)".to_owned()
        };
        for (k, v) in [
            ("shared_secret", secret),
            ("ttl", or_dash(c.ttl)),
            ("lock_record", c.lock_record.to_string()),
            ("allow_internal", c.allow_internal.to_string()),
            ("read_privilege", c.read_privilege.to_string()),
            ("require_signed", c.require_signed.to_string()),
            ("mac_address", or_dash(c.mac_address.as_ref())),
            ("comment", or_dash(c.comment.as_ref())),
            (
                "prefix_from",
                or_dash(c.follow.as_ref().map(|f| &f.prefix_from)),
            ),
            (
                "interface_id",
                or_dash(c.follow.as_ref().map(|f| f.interface_id)),
            ),
            ("values", values_text(s)),
            ("last_accessed", or_dash(s.last_accessed)),
            ("last_checked", or_dash(s.last_checked)),
            ("last_updated", or_dash(s.last_updated)),
            ("last_signed", or_dash(s.last_signed)),
        ] {
            writeln!(out, "  {k:<15} {v}")?;
        }
    }
    Ok(())
}

/// `update`: changes the given settings, keeping the others.
///
/// # Errors
///
/// [`AdminError`] for a missing record or a bad value.
pub async fn update(
    admin: &RecordAdmin,
    args: UpdateArgs,
    out: &mut dyn Write,
    warnings: &mut dyn Write,
) -> Result<(), AdminError> {
    let mut request = UpdateRecord::new(hostname(&args.hostname)?);
    request.types = args.types.list();
    request.secret = match (given_secret(args.secret)?, args.new_secret) {
        (Some(secret), _) => SecretChoice::Given(secret),
        (None, true) => SecretChoice::Generate,
        (None, false) => SecretChoice::Default,
    };
    request.strict = args.strict;
    request.ttl = match (args.ttl, args.default_ttl) {
        (_, true) => Some(None),
        (Some(ttl), false) => Some(Some(ttl)),
        (None, false) => None,
    };
    request.allow_internal = args.allow_internal;
    request.read_privilege = args.read_privilege;
    request.require_signed = args.require_signed;
    request.mac_address = args.mac.map(|m| (!m.is_empty()).then_some(m));
    request.comment = args.comment.map(|c| (!c.is_empty()).then_some(c));
    request.follow = match follow(args.prefix_from, args.ipv6_interface_id)? {
        Some(follow) => Some(Some(follow)),
        None if args.stop_following => Some(None),
        None => None,
    };
    let changed = admin.update(request).await?;
    for key in &changed.keys {
        writeln!(out, "updated {key}")?;
    }
    report(&changed, out, warnings)?;
    Ok(())
}

/// `lock` and `unlock`.
///
/// # Errors
///
/// [`AdminError`] for a missing record.
pub async fn set_lock(
    admin: &RecordAdmin,
    name: &str,
    types: Types,
    locked: bool,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let changed = admin
        .set_lock(record_name(name)?, &types.list(), locked)
        .await?;
    for key in &changed.keys {
        writeln!(out, "{} {key}", if locked { "locked" } else { "unlocked" })?;
    }
    Ok(())
}

/// Runs `request` through the running server listening on
/// `control_socket` when there is one (its embedded DNS changes at once),
/// else here; prints each record changed and the warnings.
async fn run_request(
    admin: &RecordAdmin,
    control_socket: Option<&Path>,
    request: Request,
    out: &mut dyn Write,
    warnings: &mut dyn Write,
) -> Result<(), AdminError> {
    let verb = request.verb();
    if let Some(path) = control_socket
        && let Some(result) = control::through_server(path, &request).await
    {
        let (changed, warned) = result.map_err(|message| {
            AdminError::Input(format!("the running server refused the request: {message}"))
        })?;
        for key in changed {
            writeln!(out, "{verb} {key}")?;
        }
        for warning in warned {
            writeln!(warnings, "warning: {warning}")?;
        }
        return Ok(());
    }
    let changed = request.run(admin).await?;
    for key in &changed.keys {
        writeln!(out, "{verb} {key}")?;
    }
    report(&changed, out, warnings)?;
    Ok(())
}

/// `remove`: the names leave DNS first, then the store; through the
/// running server when one listens on `control_socket`.
///
/// # Errors
///
/// [`AdminError`] saying which step failed.
pub async fn remove(
    admin: &RecordAdmin,
    control_socket: Option<&Path>,
    name: &str,
    types: Types,
    out: &mut dyn Write,
    warnings: &mut dyn Write,
) -> Result<(), AdminError> {
    let name = record_name(name)?;
    // The zone rule is checked here too, so a name in no zone gets the
    // same answer with or without a running server.
    admin.check_in_zone(&name)?;
    let types = types.list();
    run_request(
        admin,
        control_socket,
        Request::Remove { name, types },
        out,
        warnings,
    )
    .await
}

/// `txt set`: the TXT RRset at the name holds exactly the values given;
/// through the running server when one listens on `control_socket`.
///
/// # Errors
///
/// [`AdminError`] for a bad value, a name in no zone, or a failed step.
pub async fn set_txt(
    admin: &RecordAdmin,
    control_socket: Option<&Path>,
    args: TxtSetArgs,
    out: &mut dyn Write,
    warnings: &mut dyn Write,
) -> Result<(), AdminError> {
    let name = record_name(&args.name)?;
    admin.check_in_zone(&name)?;
    let values = args
        .values
        .iter()
        .map(|text| {
            TxtValue::new(text).map_err(|e| {
                AdminError::Input(format!(
                    "{:?}: {e}",
                    text.chars().take(40).collect::<String>()
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let request = Request::SetTxt {
        name,
        ttl: args.ttl,
        values,
    };
    run_request(admin, control_socket, request, out, warnings).await
}

/// `token`: the hash a client sends for `hostname` from `ip`.
///
/// # Errors
///
/// [`AdminError::Input`] when no secret is given and the record is missing.
pub async fn token(
    store: &dyn RecordStore,
    hostname: &str,
    ip: IpAddr,
    secret: Option<String>,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let sent = ddns_core::SentName::parse(hostname);
    let secret = match secret {
        Some(s) => SharedSecret::new(s),
        None => {
            let name = Hostname::parse(hostname)
                .map_err(|e| AdminError::Input(format!("{hostname:?}: {e}")))?;
            let key = RecordKey::new(name, RecordType::for_address(ip));
            store
                .get(&key)
                .await?
                .ok_or_else(|| AdminError::Input(format!("no record {key}; pass --secret")))?
                .config
                .shared_secret
        }
    };
    writeln!(
        out,
        "{}",
        HashToken::compute_as_sent(ip, &sent, &secret).to_hex()
    )?;
    Ok(())
}

/// `ds`: the DS record of the signed zone `zone` (the only signed zone
/// when not given) for the registrar, and its DNSKEY, from the key file,
/// which is made when missing (as the server would at its start).
///
/// # Errors
///
/// [`AdminError::Input`] when no zone, or not that zone, is signed;
/// [`AdminError::Start`] when the key file cannot be read or made.
pub fn ds(config: &ValidConfig, zone: Option<&str>, out: &mut dyn Write) -> Result<(), AdminError> {
    let signed: Vec<&crate::settings::ZoneSpec> =
        config.zones.iter().filter(|z| z.dnssec.is_some()).collect();
    let names = || {
        signed
            .iter()
            .map(|z| z.name.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let spec = match zone {
        Some(wanted) => {
            let wanted = Hostname::parse(wanted)
                .map_err(|e| AdminError::Input(format!("{wanted:?}: {e}")))?;
            signed.iter().find(|z| z.name == wanted).copied().ok_or_else(|| {
                AdminError::Input(format!(
                    "{wanted} is not a signed zone here (signed: {}); set dnssec = true in its zone section",
                    if signed.is_empty() { "none".to_owned() } else { names() }
                ))
            })?
        }
        None => match signed.as_slice() {
            [only] => only,
            [] => {
                return Err(AdminError::Input(
                    "no zone is signed; set dnssec = true in [zone] (or a [[zones]] entry)".into(),
                ));
            }
            _ => {
                return Err(AdminError::Input(format!(
                    "several zones are signed ({}); name one",
                    names()
                )));
            }
        },
    };
    let Some(dnssec) = &spec.dnssec else {
        return Ok(());
    };
    let key = crate::backends::zone_dnssec(config, spec, dnssec).map_err(Box::new)?;
    let key = key.key();
    writeln!(
        out,
        "; {}: key tag {}, ECDSA P-256 SHA-256 (algorithm 13), one key signing the zone (CSK)",
        spec.name,
        key.key_tag()
    )?;
    writeln!(
        out,
        "; give the DS record to the registrar of {} (or the DNSKEY, where it asks for that):",
        spec.name
    )?;
    writeln!(out, "{}", key.ds_record(&spec.name)?)?;
    writeln!(out, "{}", key.dnskey_record(&spec.name, 3600)?)?;
    Ok(())
}

/// `acme-settings`: the ACME clients' settings for `hostname`
/// ([`crate::acme_settings`]), with the secret of its A record (or of its
/// AAAA record when it has none).
///
/// # Errors
///
/// [`AdminError::Input`] when the host has no record or lies in no zone.
pub async fn acme_settings(
    store: &dyn RecordStore,
    config: &ValidConfig,
    hostname: &str,
    api_url: Option<String>,
    dns_server: Option<std::net::SocketAddr>,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let host =
        Hostname::parse(hostname).map_err(|e| AdminError::Input(format!("{hostname:?}: {e}")))?;
    let mut secret = None;
    for record_type in RecordType::ADDRESSES {
        if let Some(record) = store
            .get(&RecordKey::new(host.clone(), record_type))
            .await?
        {
            secret = Some(record.config.shared_secret);
            break;
        }
    }
    let secret = secret.ok_or_else(|| {
        AdminError::Input(format!(
            "{host} has no A or AAAA record; add it first with `ddns-server add {host}`"
        ))
    })?;
    // The core's rule picks the zone (the longest that holds the name).
    let zone = config
        .core_zones()
        .containing(&host)
        .and_then(|zone| config.zones.iter().find(|z| &z.name == zone.name()))
        .ok_or_else(|| AdminError::Input(format!("{host} lies in no zone served")))?;
    let embedded = matches!(zone.provider, crate::settings::ProviderSpec::Embedded);
    let api_url = match api_url {
        Some(url) => url,
        None => config
            .http
            .listen
            .first()
            .map(|addr| format!("http://{addr}"))
            .ok_or_else(|| AdminError::Input("no http.listen address; pass --api-url".into()))?,
    };
    let dns = dns_server.or_else(|| config.dns.listen.first().copied());
    let text = crate::acme_settings::render(&crate::acme_settings::Target {
        host: &host,
        zone: &zone.name,
        secret: &secret,
        api_url: &api_url,
        dns: dns.filter(|_| embedded),
    });
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// The admin tokens' file of `config`.
///
/// # Errors
///
/// [`AdminError::Input`] when there is none (a DynamoDB store and no
/// `[admin_http] tokens_file`).
pub fn token_file(config: &ValidConfig) -> Result<crate::tokens::TokenFile, AdminError> {
    config
        .admin
        .tokens_file
        .clone()
        .map(crate::tokens::TokenFile::new)
        .ok_or_else(|| {
            AdminError::Input(
                "no admin token file: set [admin_http] tokens_file (there is no default beside a DynamoDB store)".into(),
            )
        })
}

/// `admin-token create|list|revoke`.
///
/// # Errors
///
/// [`AdminError::Input`] for a bad name, scope or file.
pub fn admin_token(
    config: &ValidConfig,
    command: crate::cli::AdminTokenCommand,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    use crate::cli::AdminTokenCommand;
    use crate::tokens::Scope;
    let file = token_file(config)?;
    let failed = |e: crate::tokens::TokenError| AdminError::Input(e.to_string());
    match command {
        AdminTokenCommand::Create(args) => {
            let under = match &args.under {
                Some(text) => {
                    let name = hostname(text)?;
                    if config.core_zones().containing(&name).is_none() {
                        return Err(AdminError::Input(format!(
                            "--under {name}: the name lies in no zone served ({})",
                            config.zone_names()
                        )));
                    }
                    Some(name)
                }
                None => None,
            };
            let scope = Scope {
                read_only: args.read_only,
                under,
            };
            let token = file
                .create(&args.name, scope.clone(), args.expires_in)
                .map_err(failed)?;
            writeln!(out, "token: {}", token.expose_secret())?;
            writeln!(out, "name: {} ({})", args.name, scope.describe())?;
            if let Some(valid) = args.expires_in {
                writeln!(out, "expires in: {}", humantime::format_duration(valid))?;
            }
            writeln!(
                out,
                "The token is shown only now; send it as `Authorization: Bearer <token>` or sign in with it on the admin page."
            )?;
        }
        AdminTokenCommand::List => {
            let tokens = file.list().map_err(failed)?;
            writeln!(out, "{:<24} {:<44} EXPIRES", "NAME", "SCOPE")?;
            let now = crate::tokens::unix_now();
            for token in &tokens {
                let expires = match token.expires {
                    None => "never".to_owned(),
                    Some(_) if token.expired_at(now) => "expired".to_owned(),
                    Some(at) => format!(
                        "in {}",
                        humantime::format_duration(std::time::Duration::from_secs(
                            at.saturating_sub(now)
                        ))
                    ),
                };
                writeln!(
                    out,
                    "{:<24} {:<44} {}",
                    token.name,
                    token.scope.describe(),
                    expires
                )?;
            }
            writeln!(
                out,
                "{} token(s) in {}",
                tokens.len(),
                file.path().display()
            )?;
        }
        AdminTokenCommand::Revoke { name } => {
            file.revoke(&name).map_err(failed)?;
            writeln!(out, "revoked {name}")?;
        }
    }
    Ok(())
}

/// `man`: the man page on `out`, or with `dir` one page per command
/// written there (`ddns-server.1`, `ddns-server-add.1`, …).
///
/// # Errors
///
/// [`AdminError::Output`] when a page cannot be written.
pub fn man_pages(
    command: clap::Command,
    dir: Option<&Path>,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    match dir {
        None => clap_mangen::Man::new(command).render(out)?,
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            clap_mangen::generate_to(command, dir)?;
            writeln!(out, "man pages written to {}", dir.display())?;
        }
    }
    Ok(())
}

/// `check-config`: the configuration is valid (it got here) and the TLS
/// files it names load; prints what the server would serve.
///
/// # Errors
///
/// [`AdminError::Input`] naming the setting whose files are unusable.
pub fn check_config(config: &ValidConfig, out: &mut dyn Write) -> Result<(), AdminError> {
    if let Some(tls) = &config.tls {
        crate::tls::TlsCertificates::load(tls).map_err(|e| AdminError::Input(e.to_string()))?;
    }
    let addrs = |addrs: &[std::net::SocketAddr]| {
        if addrs.is_empty() {
            "none".to_owned()
        } else {
            addrs
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    writeln!(out, "the configuration is valid; the server would serve:")?;
    for zone in &config.zones {
        let signed = if zone.dnssec.is_some() {
            ", signed"
        } else {
            ""
        };
        writeln!(
            out,
            "  zone {} through {} (default TTL {} s{signed})",
            zone.name,
            zone.provider.kind(),
            zone.default_ttl
        )?;
    }
    writeln!(
        out,
        "  HTTP (seed API, dyndns2): {}",
        addrs(&config.http.listen)
    )?;
    let https = config.tls.as_ref().map_or(&[][..], |t| &t.listen[..]);
    writeln!(out, "  HTTPS: {}", addrs(https))?;
    if config.has_embedded_zone() {
        writeln!(out, "  DNS (UDP and TCP): {}", addrs(&config.dns.listen))?;
    }
    if config.admin_http.is_empty() {
        writeln!(out, "  admin API and page: none (no [admin_http])")?;
    } else {
        writeln!(
            out,
            "  admin API and page{}: {} (tokens in {})",
            if config.admin.tls { " over HTTPS" } else { "" },
            addrs(&config.admin_http),
            config
                .admin
                .tokens_file
                .as_ref()
                .map_or_else(|| "-".to_owned(), |p| p.display().to_string())
        )?;
    }
    writeln!(out, "  store: {}", config.store_description())?;
    writeln!(
        out,
        "  rate limits: {}",
        if config.limits.enabled { "on" } else { "off" }
    )?;
    writeln!(
        out,
        "  trusted proxies: {}",
        if config.http.trusted_proxies.is_empty() {
            "none".to_owned()
        } else {
            config
                .http
                .trusted_proxies
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    )?;
    Ok(())
}

/// The SQLite database of `config`.
fn sqlite_path(config: &ValidConfig) -> Result<&Path, AdminError> {
    config.db_path().ok_or_else(|| {
        AdminError::Input(
            "the store is DynamoDB: back it up with the table's point-in-time recovery or on-demand backups".into(),
        )
    })
}

/// `backup FILE`: a consistent copy of the live database (SQLite's online
/// backup API), made 0600.
///
/// # Errors
///
/// [`AdminError::Store`] naming the file that failed.
pub fn backup(config: &ValidConfig, file: &Path, out: &mut dyn Write) -> Result<(), AdminError> {
    let database = sqlite_path(config)?;
    ddns_sqlite::backup(database, file)?;
    let size = std::fs::metadata(file).map_or(0, |m| m.len());
    writeln!(
        out,
        "backed up {} to {} ({size} bytes)",
        database.display(),
        file.display()
    )?;
    Ok(())
}

/// `restore FILE`: puts a backup in place of the database, refused while
/// a server answers on the database's control socket.
///
/// # Errors
///
/// [`AdminError::Input`] while a server runs; [`AdminError::Store`] for a
/// damaged backup or an unwritable database.
pub async fn restore(
    config: &ValidConfig,
    file: &Path,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let database = sqlite_path(config)?;
    if let Some(socket) = &config.control_socket
        && control::server_answers(socket).await
    {
        return Err(AdminError::Input(format!(
            "a ddns-server is running on {} (it answers on {}); stop it, restore, then start it again",
            database.display(),
            socket.display()
        )));
    }
    ddns_sqlite::restore(file, database)?;
    writeln!(
        out,
        "restored {} from {}; start the server",
        database.display(),
        file.display()
    )?;
    Ok(())
}
