//! # ddns-sqlite
//!
//! The SQLite [`RecordStore`](ddns_core::RecordStore) of ddns: the embedded
//! default of the standalone server, in one file, crash-safe.
//!
//! - The table is the record table of the wire contract (`docs/PROTOCOL.md`
//!   section 3), with the same attribute names, keyed by (hostname,
//!   record_type), with an index for discovery groups.
//! - The schema is versioned (`PRAGMA user_version`) and migrated forward
//!   at open; a database from a newer ddns is refused, not misread.
//! - Writes are durable when they return: WAL journal with
//!   `synchronous=FULL`. Blocking SQLite calls run on tokio's blocking pool.
//! - A new database is seeded with the example records of the configured
//!   zone; an existing one never is.
//! - [`backup`] copies the live database with SQLite's online backup API
//!   (a consistent snapshot, while the server writes), [`restore`] puts a
//!   backup back.
//! - Every failure is a [`ddns_core::Error`] naming the file and what to do;
//!   no `rusqlite` type appears in the API.
//!
//! ```
//! use ddns_core::RecordStore;
//! use ddns_sqlite::SqliteStore;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let dir = tempfile::tempdir()?;
//! let store = SqliteStore::open(dir.path().join("ddns.sqlite3")).await?;
//! assert!(store.list_all().await?.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?; Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backup;
mod error;
mod row;
mod schema;
mod store;

pub use backup::{backup, restore};
pub use schema::SCHEMA_VERSION;
pub use store::{
    ConnectionSettings, DEFAULT_BUSY_TIMEOUT, DEFAULT_PAGE_SIZE, DEFAULT_PATH, DEFAULT_READERS,
    ENV_PATH, ENV_ZONE, SqliteStore, SqliteStoreBuilder,
};
