//! The admin subcommands, working on the configured store.
//!
//! Output goes to the writer given, so the commands are testable; secrets
//! are printed only by `add` (once), and by `list`/`show` when asked.

use std::io::Write;
use std::net::IpAddr;

use ddns_core::{
    HashToken, Hostname, Record, RecordConfig, RecordKey, RecordStore, RecordType, SharedSecret,
};

use crate::cli::{AddArgs, Types, UpdateArgs};

/// Hex digits of a generated secret: 128 bits.
pub const GENERATED_SECRET_DIGITS: usize = 32;

/// The strength below which a given secret is warned about (or refused
/// with `--strict`).
pub const MIN_SECRET_BITS: usize = 128;

/// Checks a secret given on the command line: under [`MIN_SECRET_BITS`]
/// it is refused with `strict`, else a warning goes to `warnings`.
fn check_strength(
    secret: &SharedSecret,
    strict: bool,
    warnings: &mut dyn Write,
) -> Result<(), AdminError> {
    let bits = secret.estimated_bits();
    if bits >= MIN_SECRET_BITS {
        return Ok(());
    }
    let message = format!(
        "the secret has about {bits} bits of strength, under the {MIN_SECRET_BITS} recommended; \
         leave --secret out to get a random one"
    );
    if strict {
        return Err(AdminError::Input(format!("{message} (refused: --strict)")));
    }
    writeln!(warnings, "warning: {message}")?;
    Ok(())
}

/// Prints a secret the command generated: the only time it is shown.
fn print_new_secret(secret: &SharedSecret, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "secret: {}", secret.expose_secret())?;
    writeln!(
        out,
        "The secret is shown only now; give it to the client and keep it safe."
    )
}

/// Why an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Bad input, with what is accepted.
    #[error("{0}")]
    Input(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] ddns_core::Error),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

fn hostname_in_zone(text: &str, zone: &Hostname) -> Result<Hostname, AdminError> {
    let name = Hostname::parse(text).map_err(|e| AdminError::Input(format!("{text:?}: {e}")))?;
    if !name.is_in_zone(zone) {
        return Err(AdminError::Input(format!(
            "{name} is not in the zone {zone}; records must lie in the zone the server answers for"
        )));
    }
    Ok(name)
}

fn check_mac(mac: &str) -> Result<(), AdminError> {
    let parts: Vec<&str> = mac.split([':', '-']).collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(AdminError::Input(format!(
            "{mac:?} is not a MAC address; write six hex pairs like 51:6B:00:A6:F5:77"
        )))
    }
}

async fn existing(
    store: &dyn RecordStore,
    name: &Hostname,
    types: Types,
) -> Result<Vec<Record>, AdminError> {
    let mut found = Vec::new();
    for t in types.list() {
        if let Some(r) = store.get(&RecordKey::new(name.clone(), t)).await? {
            found.push(r);
        }
    }
    if found.is_empty() {
        return Err(AdminError::Input(format!(
            "no record for {name} ({types:?}); add it first"
        )));
    }
    Ok(found)
}

/// `add`: creates the records, printing the secret once.
///
/// # Errors
///
/// [`AdminError`] for a name outside the zone, a bad MAC, or an existing
/// record (nothing is created then).
pub async fn add(
    store: &dyn RecordStore,
    zone: &Hostname,
    args: AddArgs,
    out: &mut dyn Write,
    warnings: &mut dyn Write,
) -> Result<(), AdminError> {
    let name = hostname_in_zone(&args.hostname, zone)?;
    if let Some(mac) = &args.mac {
        check_mac(mac)?;
    }
    let generated = args.secret.is_none();
    let secret = match args.secret {
        Some(s) if s.is_empty() => {
            return Err(AdminError::Input("the secret cannot be empty".into()));
        }
        Some(s) => {
            let secret = SharedSecret::new(s);
            check_strength(&secret, args.strict, warnings)?;
            secret
        }
        None => SharedSecret::generate(GENERATED_SECRET_DIGITS)?,
    };
    let mut config = RecordConfig::new(secret.clone())
        .with_lock(args.locked)
        .with_allow_internal(args.allow_internal)
        .with_read_privilege(args.read_privilege)
        .with_require_signed(args.require_signed);
    if let Some(ttl) = args.ttl {
        config = config.with_ttl(ttl);
    }
    if let Some(mac) = args.mac {
        config = config.with_mac_address(mac);
    }
    if let Some(comment) = args.comment {
        config = config.with_comment(comment);
    }
    let types = args.types.list();
    for &t in &types {
        if store.get(&RecordKey::new(name.clone(), t)).await?.is_some() {
            return Err(AdminError::Input(format!(
                "{name} {t} already exists; use update"
            )));
        }
    }
    for &t in &types {
        store
            .create(&Record::new(
                RecordKey::new(name.clone(), t),
                config.clone(),
            ))
            .await?;
    }
    let type_list: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    writeln!(out, "added {name} ({})", type_list.join(", "))?;
    if generated {
        print_new_secret(&secret, out)?;
    }
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
    store: &dyn RecordStore,
    show_secrets: bool,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let records = store.list_all().await?;
    write!(
        out,
        "{:<40} {:<5} {:>6} {:<6} {:<8} {:<5} {:<39} {:<26}",
        "HOSTNAME", "TYPE", "TTL", "LOCKED", "INTERNAL", "READ", "IP_ADDRESS", "LAST_UPDATED"
    )?;
    writeln!(out, "{}", if show_secrets { " SECRET" } else { "" })?;
    for r in &records {
        write!(
            out,
            "{:<40} {:<5} {:>6} {:<6} {:<8} {:<5} {:<39} {:<26}",
            r.key.hostname.as_str(),
            r.key.record_type.as_str(),
            or_dash(r.config.ttl),
            flag(r.config.lock_record),
            flag(r.config.allow_internal),
            flag(r.config.read_privilege),
            or_dash(r.state.ip_address),
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
    store: &dyn RecordStore,
    zone: &Hostname,
    hostname: &str,
    types: Types,
    show_secret: bool,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let name = hostname_in_zone(hostname, zone)?;
    for r in existing(store, &name, types).await? {
        let c = &r.config;
        let s = &r.state;
        writeln!(out, "{} {}", r.key.hostname, r.key.record_type)?;
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
            ("ip_address", or_dash(s.ip_address)),
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
/// [`AdminError::Input`] for a missing record or a bad value.
pub async fn update(
    store: &dyn RecordStore,
    zone: &Hostname,
    args: UpdateArgs,
    out: &mut dyn Write,
    warnings: &mut dyn Write,
) -> Result<(), AdminError> {
    let name = hostname_in_zone(&args.hostname, zone)?;
    if let Some(mac) = args.mac.as_deref().filter(|m| !m.is_empty()) {
        check_mac(mac)?;
    }
    let new_secret = match (&args.secret, args.new_secret) {
        (Some(s), _) if s.is_empty() => {
            return Err(AdminError::Input("the secret cannot be empty".into()));
        }
        (Some(s), _) => {
            let secret = SharedSecret::new(s.clone());
            check_strength(&secret, args.strict, warnings)?;
            Some(secret)
        }
        (None, true) => Some(SharedSecret::generate(GENERATED_SECRET_DIGITS)?),
        (None, false) => None,
    };
    for r in existing(store, &name, args.types).await? {
        let mut c = r.config.clone();
        if let Some(secret) = &new_secret {
            c.shared_secret = secret.clone();
        }
        if let Some(ttl) = args.ttl {
            c.ttl = Some(ttl);
        }
        if args.default_ttl {
            c.ttl = None;
        }
        if let Some(v) = args.allow_internal {
            c.allow_internal = v;
        }
        if let Some(v) = args.read_privilege {
            c.read_privilege = v;
        }
        if let Some(v) = args.require_signed {
            c.require_signed = v;
        }
        if let Some(mac) = &args.mac {
            c.mac_address = (!mac.is_empty()).then(|| mac.clone());
        }
        if let Some(comment) = &args.comment {
            c.comment = (!comment.is_empty()).then(|| comment.clone());
        }
        store.update_config(&r.key, &c).await?;
        writeln!(out, "updated {}", r.key)?;
    }
    if let (Some(secret), true) = (&new_secret, args.new_secret) {
        print_new_secret(secret, out)?;
    }
    Ok(())
}

/// `lock` and `unlock`.
///
/// # Errors
///
/// [`AdminError::Input`] for a missing record.
pub async fn set_lock(
    store: &dyn RecordStore,
    zone: &Hostname,
    hostname: &str,
    types: Types,
    locked: bool,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let name = hostname_in_zone(hostname, zone)?;
    for r in existing(store, &name, types).await? {
        let config = r.config.clone().with_lock(locked);
        store.update_config(&r.key, &config).await?;
        writeln!(
            out,
            "{} {}",
            if locked { "locked" } else { "unlocked" },
            r.key
        )?;
    }
    Ok(())
}

/// `remove`.
///
/// # Errors
///
/// [`AdminError::Input`] for a missing record.
pub async fn remove(
    store: &dyn RecordStore,
    zone: &Hostname,
    hostname: &str,
    types: Types,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let name = hostname_in_zone(hostname, zone)?;
    for r in existing(store, &name, types).await? {
        store.delete(&r.key).await?;
        writeln!(out, "removed {}", r.key)?;
    }
    Ok(())
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
    let sent = ddns_core::hostname::with_trailing_dot(hostname);
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
    writeln!(out, "{}", HashToken::compute(ip, &sent, &secret).to_hex())?;
    Ok(())
}
