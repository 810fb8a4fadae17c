//! # ddns-client
//!
//! The reference client of the seed API, in Rust: it replaces the original
//! bash client and network-discovery script, so a host needs no curl, jq or
//! shasum. It updates a host's record with its public address (or an
//! interface's, or a given one), lists its discovery group, runs network
//! discovery, and can keep running (`--every 5m`).
//!
//! Exit status: 0 on success, 1 on failure, with the reason on stderr.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ddns_core::SharedSecret;

pub mod api;
pub mod cache;
pub mod ip_source;
pub mod neighbours;
pub mod prefix_source;

use api::{ClientError, IpVersion, SeedClient};
use cache::Cache;
use ip_source::IpSource;
use prefix_source::InterfacePrefix;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "ddns-client",
    version,
    about = "Point a host's DNS name at its current address"
)]
pub struct Cli {
    /// The API endpoint, e.g. `https://ddns.example.com/` (`http://` works too).
    #[arg(long, env = "DDNS_URL")]
    pub url: String,
    /// The host name to update (or to list or discover the group of).
    #[arg(long, env = "DDNS_HOSTNAME")]
    pub hostname: Option<String>,
    /// The record's shared secret (prefer --secret-file or DDNS_SECRET:
    /// arguments show in the process list).
    #[arg(long, env = "DDNS_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// A file holding the shared secret (first line).
    #[arg(long, conflicts_with = "secret")]
    pub secret_file: Option<PathBuf>,
    /// The API key (x-api-key), when the API requires one.
    #[arg(long, env = "DDNS_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Sign requests (HMAC-SHA256 with a timestamp and a nonce, docs/PROTOCOL.md
    /// section 7) instead of sending the replayable hash token. Required by
    /// records with `require_signed`; needs a clock within 5 minutes of the
    /// server's.
    #[arg(long, env = "DDNS_SIGNED")]
    pub signed: bool,
    /// What to publish: `public` (the address the server sees), an IP
    /// address, or an interface name.
    #[arg(long, default_value = "public")]
    pub ip_source: IpSource,
    /// For a router: report the IPv6 prefix delegated to it (CIDR, like
    /// 2001:db8:1:2300::/56, or `-` to remove the addresses), which moves
    /// the hosts that follow its prefix. Needs hash requests (not
    /// `--signed`).
    #[arg(long, value_name = "PREFIX", conflicts_with_all = ["ipv6_prefix_from", "signed"])]
    pub ipv6_prefix: Option<String>,
    /// For a router: report the prefix of this interface's global IPv6
    /// address, masked to the length given (like eth0/56).
    #[arg(long, value_name = "IFACE/LEN", conflicts_with = "signed")]
    pub ipv6_prefix_from: Option<InterfacePrefix>,
    /// Talk to the server over IPv4 or IPv6 only (and so set the A or the
    /// AAAA record).
    #[arg(long, value_enum)]
    pub ip_version: Option<IpVersion>,
    /// Skip the update when the same address was sent less than this many
    /// minutes ago.
    #[arg(long, value_name = "MINUTES")]
    pub cache: Option<u64>,
    /// Where the cache lives (default ~/.cache/ddns-client).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// List the host's discovery group instead of updating.
    #[arg(long)]
    pub list_hosts: bool,
    /// Keep running: check every DURATION (e.g. 5m) and update on change.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub every: Option<Duration>,
    /// How long to wait for the server.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// What to do instead of updating.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the public address the server sees.
    Get,
    /// Network discovery: set every other host of the group to the address
    /// its MAC address has in the neighbour table.
    Discover {
        /// Print what would be set, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Read the neighbour table from this file (`/proc/net/arp` and
        /// `ip -6 neigh` formats) instead of the system's.
        #[arg(long, env = "DDNS_NEIGHBOURS_FILE")]
        neighbours_file: Option<PathBuf>,
    },
}

impl Cli {
    fn client(&self) -> Result<SeedClient, ClientError> {
        Ok(SeedClient::new(
            &self.url,
            self.api_key.clone(),
            self.ip_version,
            self.timeout,
        )?
        .with_signed(self.signed))
    }

    /// The prefix to report, if any.
    fn prefix(&self) -> Result<Option<String>, ClientError> {
        match (&self.ipv6_prefix, &self.ipv6_prefix_from) {
            (Some(prefix), _) => Ok(Some(prefix.clone())),
            (None, Some(from)) => from.resolve().map(Some),
            (None, None) => Ok(None),
        }
    }

    fn hostname(&self) -> Result<&str, ClientError> {
        self.hostname
            .as_deref()
            .ok_or_else(|| ClientError::Input("--hostname is required".into()))
    }

    fn secret(&self) -> Result<SharedSecret, ClientError> {
        if let Some(secret) = &self.secret {
            return Ok(SharedSecret::new(secret.clone()));
        }
        if let Some(path) = &self.secret_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ClientError::Input(format!(
                    "cannot read the secret file {}: {e}",
                    path.display()
                ))
            })?;
            let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
            return Ok(SharedSecret::new(line));
        }
        Err(ClientError::Input(
            "a secret is required: --secret-file, DDNS_SECRET or --secret".into(),
        ))
    }
}

/// Runs the command once (or for ever with `--every`), writing results to
/// `out` and, in daemon mode, errors to `err`.
///
/// # Errors
///
/// The first failure, when not in daemon mode.
pub async fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), ClientError> {
    match (&cli.command, cli.every) {
        (Some(Command::Get), _) => {
            let ip = cli.client()?.public_ip().await?;
            write_line(out, &ip.to_string());
            Ok(())
        }
        (
            Some(Command::Discover {
                dry_run,
                neighbours_file,
            }),
            _,
        ) => discover(cli, *dry_run, neighbours_file.as_ref(), out).await,
        (None, _) if cli.list_hosts => list(cli, out).await,
        (None, Some(every)) => daemon(cli, every, out, err).await,
        (None, None) => update(cli, None, out).await.map(drop),
    }
}

fn write_line(out: &mut dyn Write, line: &str) {
    // Output that cannot be written has nowhere else to go.
    let _ = writeln!(out, "{line}");
}

/// What one update sent: the address, and the prefix if one was reported.
type Sent = (IpAddr, Option<String>);

/// One update; returns what it published. With `skip_if`, the same address
/// and prefix are not sent again.
async fn update(
    cli: &Cli,
    skip_if: Option<&Sent>,
    out: &mut dyn Write,
) -> Result<Sent, ClientError> {
    let hostname = cli.hostname()?;
    let secret = cli.secret()?;
    let client = cli.client()?;
    let public = client.public_ip().await?;
    let internal = cli.ip_source.resolve(cli.ip_version)?;
    let address = internal.unwrap_or(public);
    let prefix = cli.prefix()?;
    let sent = (address, prefix);
    if skip_if == Some(&sent) {
        return Ok(sent);
    }
    // The cache remembers addresses only: a prefix is always sent (the
    // server answers an unchanged one without a DNS call).
    let cache = cli.cache.filter(|_| sent.1.is_none()).map(|minutes| {
        let dir = cli.cache_dir.clone().unwrap_or_else(Cache::default_dir);
        (
            Cache::new(&dir, hostname),
            Duration::from_secs(minutes.saturating_mul(60)),
        )
    });
    if let Some((_, max_age)) = cache.as_ref().filter(|(c, age)| c.is_fresh(address, *age)) {
        write_line(
            out,
            &format!(
                "{address} was sent less than {} minutes ago; not sending it again.",
                max_age.as_secs() / 60
            ),
        );
        return Ok(sent);
    }
    let message = client
        .set(hostname, &secret, public, internal, sent.1.as_deref())
        .await?;
    write_line(out, &message);
    if let Some(Err(e)) = cache.as_ref().map(|(c, _)| c.record(address)) {
        write_line(out, &format!("warning: cannot write the cache: {e}"));
    }
    Ok(sent)
}

async fn list(cli: &Cli, out: &mut dyn Write) -> Result<(), ClientError> {
    let client = cli.client()?;
    let public = client.public_ip().await?;
    for host in client
        .list_hosts(cli.hostname()?, &cli.secret()?, public)
        .await?
    {
        write_line(
            out,
            &format!(
                "{} {} {}",
                host.hostname,
                host.record_type,
                host.mac_address.as_deref().unwrap_or("-")
            ),
        );
    }
    Ok(())
}

async fn discover(
    cli: &Cli,
    dry_run: bool,
    file: Option<&PathBuf>,
    out: &mut dyn Write,
) -> Result<(), ClientError> {
    let me = cli.hostname()?;
    let secret = cli.secret()?;
    let client = cli.client()?;
    let public = client.public_ip().await?;
    let hosts = client.list_hosts(me, &secret, public).await?;
    let table = match file {
        Some(path) => neighbours::parse(&std::fs::read_to_string(path).map_err(|e| {
            ClientError::Input(format!(
                "cannot read the neighbour table {}: {e}",
                path.display()
            ))
        })?),
        None => neighbours::system_table().await,
    };
    let own = ddns_core::with_trailing_dot(me).to_ascii_lowercase();
    let mut failures = 0;
    for host in hosts
        .iter()
        .filter(|h| h.hostname.to_ascii_lowercase() != own)
    {
        let Some(mac) = host.mac_address.as_deref().map(neighbours::normalise_mac) else {
            write_line(
                out,
                &format!(
                    "{} {}: no MAC address configured; skipped",
                    host.hostname, host.record_type
                ),
            );
            continue;
        };
        let v6 = host.record_type == "AAAA";
        let Some(neighbour) = table.iter().find(|n| n.mac == mac && n.ip.is_ipv6() == v6) else {
            write_line(
                out,
                &format!(
                    "{} {}: no neighbour has MAC {mac}; skipped",
                    host.hostname, host.record_type
                ),
            );
            continue;
        };
        if dry_run {
            write_line(
                out,
                &format!(
                    "would set {} {} to {}",
                    host.hostname, host.record_type, neighbour.ip
                ),
            );
            continue;
        }
        match client
            .set(&host.hostname, &secret, public, Some(neighbour.ip), None)
            .await
        {
            Ok(message) => write_line(out, &message),
            Err(e) => {
                failures += 1;
                write_line(out, &format!("{} {}: {e}", host.hostname, host.record_type));
            }
        }
    }
    if failures > 0 {
        return Err(ClientError::Failed(format!(
            "{failures} host(s) could not be set"
        )));
    }
    Ok(())
}

async fn daemon(
    cli: &Cli,
    every: Duration,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), ClientError> {
    let mut last = None;
    let mut backoff = Duration::from_secs(5).min(every);
    loop {
        match update(cli, last.as_ref(), out).await {
            Ok(sent) => {
                last = Some(sent);
                backoff = Duration::from_secs(5).min(every);
                tokio::time::sleep(every).await;
            }
            Err(ClientError::Input(message)) => return Err(ClientError::Input(message)),
            Err(e) => {
                let _ = writeln!(
                    err,
                    "error: {e}; retrying in {}",
                    humantime::format_duration(backoff)
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(every.max(Duration::from_secs(5)));
            }
        }
    }
}
