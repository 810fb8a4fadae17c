//! # ddns-server
//!
//! The standalone ddns server, as a library so tests and embedders can start
//! it in-process: the seed API over HTTP (with `/healthz` and `/metrics`),
//! an embedded authoritative DNS server for the zone, records in SQLite,
//! the admin listener's REST API and web page behind admin tokens, and the
//! admin commands of the `ddns-server` binary.
//!
//! ```no_run
//! use ddns_server::{Config, RunningServer};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::load(None)?.validate()?;
//! let server = RunningServer::start(config).await?;
//! println!("HTTP on {:?}, DNS on {:?}", server.http_addrs(), server.dns_addrs());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

pub mod acme_settings;
pub mod admin;
pub mod app;
mod backends;
pub mod cli;
pub mod config;
mod connections;
mod control;
mod health;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod settings;
pub mod tls;
pub mod tokens;
mod webadmin;

/// The admin listener's REST API: its routes (method and path template)
/// and its OpenAPI document, as the server serves them.
pub mod admin_api {
    pub use crate::webadmin::{ROUTES, openapi_json};
}

pub use app::{RunningServer, StartError};
pub use backends::open_store;
pub use config::{Config, ConfigError};
pub use settings::ValidConfig;
