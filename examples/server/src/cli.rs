//! The command line: global settings, `serve` (the default) and the admin
//! subcommands.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Overrides;

/// The version line: the version, and the backends this build has.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (providers: embedded, rfc2136, route53; stores: sqlite, dynamodb)"
);

/// The ddns server: the seed API over HTTP and an authoritative DNS server
/// for one zone, with records in SQLite. Without a subcommand it serves.
#[derive(Debug, Parser)]
#[command(name = "ddns-server", version = VERSION, about, long_about = None)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, short, env = "DDNS_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// The zone served (overrides `zone.name`).
    #[arg(long, env = "DDNS_ZONE", global = true)]
    pub zone: Option<String>,
    /// The SQLite database file (overrides `store.path`).
    #[arg(long, env = "DDNS_DB", global = true)]
    pub db: Option<PathBuf>,
    /// HTTP listen addresses, comma-separated (overrides `http.listen`).
    #[arg(long, env = "DDNS_HTTP_LISTEN", value_delimiter = ',', global = true)]
    pub http_listen: Option<Vec<SocketAddr>>,
    /// DNS listen addresses, comma-separated (overrides `dns.listen`).
    #[arg(long, env = "DDNS_DNS_LISTEN", value_delimiter = ',', global = true)]
    pub dns_listen: Option<Vec<SocketAddr>>,
    /// Log filter, e.g. `info` or `ddns_server=debug`.
    #[arg(
        long,
        env = "DDNS_LOG",
        default_value = "info,hickory_server=warn",
        global = true
    )]
    pub log: String,
    /// Log format: `text` for people, `json` for log shippers (one JSON
    /// object per line).
    #[arg(
        long,
        env = "DDNS_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        global = true
    )]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The settings that replace the configuration file's.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            zone: self.zone.clone(),
            db: self.db.clone(),
            http_listen: self.http_listen.clone(),
            dns_listen: self.dns_listen.clone(),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP and DNS until SIGTERM or SIGINT (the default).
    Serve,
    /// Check the configuration (and the TLS files it names) without
    /// starting anything, and print what it would serve.
    CheckConfig,
    /// Write a consistent copy of the live SQLite database to FILE (made
    /// 0600), while the server runs.
    Backup {
        /// The new file; an existing one is refused.
        file: PathBuf,
    },
    /// Replace the SQLite database with the backup FILE (refused while a
    /// server answers on the database's control socket).
    Restore {
        /// The backup.
        file: PathBuf,
    },
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page, or write one per command into --dir.
    Man {
        /// Write `ddns-server.1` and a page per subcommand here.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Add a record (A and AAAA by default), printing its secret once.
    Add(AddArgs),
    /// List records; secrets only with --show-secrets.
    List {
        /// Print the shared secrets too.
        #[arg(long)]
        show_secrets: bool,
    },
    /// Show one host's records.
    Show {
        /// The host name.
        hostname: String,
        /// Which record types.
        #[arg(long = "type", value_enum, default_value_t = Types::Both)]
        types: Types,
        /// Print the shared secret too.
        #[arg(long)]
        show_secret: bool,
    },
    /// Change settings of a host's records.
    Update(UpdateArgs),
    /// Lock a host's records: the system never changes them.
    Lock(Target),
    /// Unlock a host's records.
    Unlock(Target),
    /// Remove a host's records (`--type txt` for a TXT name).
    Remove(Target),
    /// Set or delete TXT records.
    #[command(subcommand)]
    Txt(TxtCommand),
    /// Print ready-to-paste ACME DNS-01 settings for a host (lego, certbot,
    /// acme.sh, acme-dns clients, nsupdate), with its record's secret.
    AcmeSettings {
        /// The host name.
        hostname: String,
        /// The API's base URL as clients reach it (default: the first
        /// `http.listen` address).
        #[arg(long)]
        api_url: Option<String>,
        /// The embedded DNS as clients reach it (default: the first
        /// `dns.listen` address).
        #[arg(long)]
        dns_server: Option<SocketAddr>,
    },
    /// Print the DS record of a signed zone (`dnssec = true`) to give its
    /// registrar, and its DNSKEY; makes the key when there is none yet.
    Ds {
        /// The zone (default: the only signed zone).
        zone: Option<String>,
    },
    /// Copy the records of an upstream DynamoDB table (the 2018 stack's or
    /// the rewrite's layout) into the configured store. Without --apply it
    /// only reports what it would copy and what it cannot.
    Import(ImportArgs),
    /// Create, list or revoke the admin tokens of the REST API and the web
    /// page (`[admin_http]`).
    #[command(subcommand)]
    AdminToken(AdminTokenCommand),
    /// Print the hash a client would send for a host from an address.
    Token {
        /// The host name, as the client sends it.
        #[arg(long)]
        hostname: String,
        /// The client's public address.
        #[arg(long)]
        ip: IpAddr,
        /// The secret; read from the host's record when not given.
        #[arg(long, env = "DDNS_SECRET", hide_env_values = true)]
        secret: Option<String>,
    },
}

/// The `admin-token` subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminTokenCommand {
    /// Make a token and print it once; only its hash is kept.
    Create(AdminTokenArgs),
    /// List the tokens: names, scopes and expiry (never the tokens).
    List,
    /// Revoke a token: it stops working at its next use, in a running
    /// server too.
    Revoke {
        /// The token's name.
        name: String,
    },
}

/// `admin-token create`.
#[derive(Debug, Args)]
pub struct AdminTokenArgs {
    /// The token's name, logged with every change made with it (letters,
    /// digits, `-`, `_`, `.`, `@`).
    pub name: String,
    /// Reads only: lists and shows, no change.
    #[arg(long)]
    pub read_only: bool,
    /// Only the names at or under this one (a zone or a subdomain).
    #[arg(long, value_name = "NAME")]
    pub under: Option<String>,
    /// Stop working after this long, like `90d` or `12h`.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub expires_in: Option<std::time::Duration>,
}

/// The TXT subcommands.
#[derive(Debug, Subcommand)]
pub enum TxtCommand {
    /// Make the TXT RRset at a name hold exactly the values given (creating
    /// its record when needed).
    Set(TxtSetArgs),
    /// Delete the TXT RRset at a name, and its record.
    Delete {
        /// The name, e.g. `_acme-challenge.home.example.com`.
        name: String,
    },
}

/// `txt set`.
#[derive(Debug, Args)]
pub struct TxtSetArgs {
    /// The name; may have labels that start with an underscore.
    pub name: String,
    /// The values: each argument is the text of one value (printable
    /// ASCII; a text over 255 bytes is split into several strings).
    #[arg(required = true)]
    pub values: Vec<String>,
    /// TTL in seconds (default: the record's, else the zone's default TTL).
    #[arg(long, value_parser = ttl_value())]
    pub ttl: Option<u32>,
}

/// `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The upstream table.
    #[arg(long)]
    pub table: String,
    /// Its layout: `classic` (hash key hostname, range key record_type)
    /// or `current` (hash key hostname, data JSON); read from the table's
    /// key schema when not given.
    #[arg(long)]
    pub layout: Option<String>,
    /// The table's AWS region (default: from the environment).
    #[arg(long)]
    pub region: Option<String>,
    /// An endpoint override, for local emulators.
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// Copy the records; without it, nothing is written.
    #[arg(long)]
    pub apply: bool,
}

/// Which record types a command works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Types {
    /// IPv4 only.
    A,
    /// IPv6 only.
    Aaaa,
    /// A and AAAA.
    Both,
    /// TXT only.
    Txt,
}

impl Types {
    /// The types selected.
    pub fn list(self) -> Vec<ddns_core::RecordType> {
        use ddns_core::RecordType;
        match self {
            Self::A => vec![RecordType::A],
            Self::Aaaa => vec![RecordType::Aaaa],
            Self::Both => RecordType::ADDRESSES.to_vec(),
            Self::Txt => vec![RecordType::Txt],
        }
    }
}

/// A host and record types.
#[derive(Debug, Args)]
pub struct Target {
    /// The host name.
    pub hostname: String,
    /// Which record types.
    #[arg(long = "type", value_enum, default_value_t = Types::Both)]
    pub types: Types,
}

/// `add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The host name; must lie in the zone.
    pub hostname: String,
    /// Which record types to create.
    #[arg(long = "type", value_enum, default_value_t = Types::Both)]
    pub types: Types,
    /// The shared secret; a random 128-bit one is generated when not given.
    #[arg(long, env = "DDNS_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// TTL in seconds, at most 2147483647 (default: the zone's default TTL).
    #[arg(long, value_parser = ttl_value())]
    pub ttl: Option<u32>,
    /// Allow internal addresses and addresses other than the client's own.
    #[arg(long)]
    pub allow_internal: bool,
    /// Make the record a member of its secret's discovery group.
    #[arg(long)]
    pub read_privilege: bool,
    /// Accept only signed requests (docs/PROTOCOL.md section 7) for the
    /// record: hash tokens and dyndns2 passwords are refused.
    #[arg(long)]
    pub require_signed: bool,
    /// The host's MAC address, for network discovery.
    #[arg(long)]
    pub mac: Option<String>,
    /// A comment for the operator.
    #[arg(long)]
    pub comment: Option<String>,
    /// Create the record locked.
    #[arg(long)]
    pub locked: bool,
    /// Make the AAAA record follow the prefix that this host (a router)
    /// reports: its address becomes that prefix plus
    /// `--ipv6-interface-id`. Implies `--type aaaa`.
    #[arg(long, value_name = "ROUTER", requires = "ipv6_interface_id")]
    pub prefix_from: Option<String>,
    /// The host's interface identifier, the low bits of its IPv6 address
    /// kept when the prefix changes (like `::211:32ff:fe12:3456`).
    #[arg(long, value_name = "ID", requires = "prefix_from")]
    pub ipv6_interface_id: Option<String>,
    /// Refuse a given secret weaker than 128 bits instead of warning.
    #[arg(long)]
    pub strict: bool,
}

/// `update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The host name.
    pub hostname: String,
    /// Which record types.
    #[arg(long = "type", value_enum, default_value_t = Types::Both)]
    pub types: Types,
    /// A new TTL in seconds, at most 2147483647.
    #[arg(long, conflicts_with = "default_ttl", value_parser = ttl_value())]
    pub ttl: Option<u32>,
    /// Use the zone's default TTL.
    #[arg(long)]
    pub default_ttl: bool,
    /// Allow (true) or refuse (false) internal addresses.
    #[arg(long)]
    pub allow_internal: Option<bool>,
    /// Join (true) or leave (false) the discovery group.
    #[arg(long)]
    pub read_privilege: Option<bool>,
    /// Accept only signed requests (true), or hash tokens and passwords
    /// too (false).
    #[arg(long)]
    pub require_signed: Option<bool>,
    /// A new MAC address (empty to clear).
    #[arg(long)]
    pub mac: Option<String>,
    /// A new comment (empty to clear).
    #[arg(long)]
    pub comment: Option<String>,
    /// Follow the prefix this host (a router) reports, with
    /// `--ipv6-interface-id` (AAAA records only).
    #[arg(
        long,
        value_name = "ROUTER",
        requires = "ipv6_interface_id",
        conflicts_with = "stop_following"
    )]
    pub prefix_from: Option<String>,
    /// The interface identifier that goes with `--prefix-from`.
    #[arg(long, value_name = "ID", requires = "prefix_from")]
    pub ipv6_interface_id: Option<String>,
    /// Stop following a prefix; the record keeps the address it holds.
    #[arg(long)]
    pub stop_following: bool,
    /// A new shared secret.
    #[arg(
        long,
        env = "DDNS_SECRET",
        hide_env_values = true,
        conflicts_with = "new_secret"
    )]
    pub secret: Option<String>,
    /// Generate a new random secret and print it once.
    #[arg(long)]
    pub new_secret: bool,
    /// Refuse a given secret weaker than 128 bits instead of warning.
    #[arg(long)]
    pub strict: bool,
}

/// A TTL as DNS allows it: 0 to 2147483647 seconds (RFC 2181).
fn ttl_value() -> impl clap::builder::TypedValueParser<Value = u32> {
    clap::value_parser!(u32).range(..=i64::from(ddns_core::MAX_TTL))
}
