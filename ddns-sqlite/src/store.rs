//! [`SqliteStore`]: the `RecordStore` on one SQLite file.
//!
//! One writer connection and a few reader connections (WAL lets readers run
//! beside the writer). Every call runs on tokio's blocking pool, never on
//! the async executor's threads. Each write is its own transaction, and with
//! `synchronous=FULL` a write that returned `Ok` is on disk.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use ddns_core::{
    AccessUpdate, ChangeUpdate, GroupMember, Hostname, Record, RecordConfig, RecordKey,
    RecordValue, SharedSecret,
};
use ddns_core::{ListCursor, RecordPage, RecordStore};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::error::SqliteError;
use crate::row::{COLUMNS, RawRow, guard_value, insert};
use crate::schema::{SCHEMA_VERSION, migrate};

/// Records in one [`RecordStore::list_page`] page, unless
/// [`SqliteStoreBuilder::with_page_size`] says otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 500;

/// `PRAGMA synchronous` FULL: the WAL is synced at every commit.
const SYNCHRONOUS_FULL: i64 = 2;

/// How long a statement waits for a lock held by another connection or
/// process before failing as busy, by default.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Reader connections by default.
pub const DEFAULT_READERS: usize = 2;

/// Environment variable naming the database file for [`SqliteStoreBuilder::from_env`].
pub const ENV_PATH: &str = "DDNS_SQLITE_PATH";

/// Environment variable naming the zone whose example records seed a new
/// database, for [`SqliteStoreBuilder::from_env`].
pub const ENV_ZONE: &str = "DDNS_ZONE";

/// The database file used when none is configured.
pub const DEFAULT_PATH: &str = "ddns.sqlite3";

/// Opens a [`SqliteStore`]; see [`SqliteStore::builder`].
#[derive(Debug, Clone)]
pub struct SqliteStoreBuilder {
    path: PathBuf,
    seed_zone: Option<Hostname>,
    busy_timeout: Duration,
    readers: usize,
    check_integrity: bool,
    page_size: usize,
}

impl SqliteStoreBuilder {
    /// A builder for the database at `path`, with defaults for the rest.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            seed_zone: None,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            readers: DEFAULT_READERS,
            check_integrity: true,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    /// A builder configured from the environment: the file from
    /// `DDNS_SQLITE_PATH` (default `ddns.sqlite3` in the working directory)
    /// and the seed zone from `DDNS_ZONE` (none when unset).
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] when `DDNS_ZONE` is not a valid
    /// domain name.
    pub fn from_env() -> ddns_core::Result<Self> {
        let path =
            std::env::var_os(ENV_PATH).map_or_else(|| PathBuf::from(DEFAULT_PATH), PathBuf::from);
        let mut builder = Self::new(path);
        if let Ok(zone) = std::env::var(ENV_ZONE) {
            let zone = Hostname::parse(&zone).map_err(|e| {
                ddns_core::Error::invalid_input(format!("{ENV_ZONE}={zone:?}: {e}"))
            })?;
            builder = builder.with_seed_zone(zone);
        }
        Ok(builder)
    }

    /// Seeds a new database with the example records of `zone`
    /// (`example-record.<zone>.`, A and AAAA). An existing database is never
    /// seeded.
    #[must_use]
    pub fn with_seed_zone(mut self, zone: Hostname) -> Self {
        self.seed_zone = Some(zone);
        self
    }

    /// How long to wait for a lock before failing as busy (default
    /// [`DEFAULT_BUSY_TIMEOUT`]).
    #[must_use]
    pub fn with_busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How many reader connections to keep (default [`DEFAULT_READERS`]; at
    /// least one).
    #[must_use]
    pub fn with_readers(mut self, readers: usize) -> Self {
        self.readers = readers.max(1);
        self
    }

    /// Whether to run `PRAGMA quick_check` when opening (default on), so a
    /// corrupted file is refused at start rather than at some later query.
    #[must_use]
    pub fn with_integrity_check(mut self, check: bool) -> Self {
        self.check_integrity = check;
        self
    }

    /// How many records one [`RecordStore::list_page`] page holds (default
    /// [`DEFAULT_PAGE_SIZE`]; at least one). Small pages are for tests that
    /// cross page boundaries with few records.
    #[must_use]
    pub fn with_page_size(mut self, records: usize) -> Self {
        self.page_size = records.max(1);
        self
    }

    /// Opens (creating, migrating and seeding as needed) the database.
    ///
    /// # Errors
    ///
    /// A [`ddns_core::Error`] naming the file and what to do: its directory
    /// is missing, it is read-only, not a SQLite database, corrupted, or of
    /// a newer schema.
    pub async fn open(self) -> ddns_core::Result<SqliteStore> {
        let path = self.path.clone();
        run_blocking(&path, move || self.open_blocking()).await
    }

    fn open_blocking(self) -> Result<SqliteStore, SqliteError> {
        let path = self.path;
        if let Some(dir) = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
        {
            return Err(SqliteError::MissingDirectory {
                dir: dir.to_path_buf(),
                path,
            });
        }
        secure_files(&path)?;
        let mut writer = connect(&path, self.busy_timeout)?;
        let mode: String = writer
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(|e| SqliteError::from_sqlite(&path, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(SqliteError::NoWal { path, mode });
        }
        if self.check_integrity {
            quick_check(&writer, &path)?;
        }
        migrate(&mut writer, &path, self.seed_zone.as_ref())?;
        let readers = (0..self.readers)
            .map(|_| {
                let conn = connect(&path, self.busy_timeout)?;
                conn.pragma_update(None, "query_only", true)
                    .map_err(|e| SqliteError::from_sqlite(&path, e))?;
                Ok(Mutex::new(conn))
            })
            .collect::<Result<Vec<_>, SqliteError>>()?;
        Ok(SqliteStore {
            pool: Arc::new(Pool {
                path,
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
                page_size: self.page_size,
            }),
        })
    }
}

/// Opens one connection with the store's settings, refusing a read-only
/// file or one that is not a database.
fn connect(path: &Path, busy_timeout: Duration) -> Result<Connection, SqliteError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_EXRESCODE;
    let conn = Connection::open_with_flags(path, flags).map_err(|source| SqliteError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let sqlite = |e| SqliteError::from_sqlite(path, e);
    if conn.is_readonly(rusqlite::MAIN_DB).map_err(sqlite)? {
        return Err(SqliteError::ReadOnly {
            path: path.to_path_buf(),
        });
    }
    conn.busy_timeout(busy_timeout).map_err(sqlite)?;
    // Reading the header is what tells a database from any other file.
    conn.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
        .map_err(sqlite)?;
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA trusted_schema = OFF;
         PRAGMA cell_size_check = ON;
         PRAGMA secure_delete = ON;",
    )
    .map_err(sqlite)?;
    // A setting SQLite ignores fails silently; durability is read back.
    let level: i64 = conn
        .pragma_query_value(None, "synchronous", |row| row.get(0))
        .map_err(sqlite)?;
    if level < SYNCHRONOUS_FULL {
        return Err(SqliteError::NotDurable {
            path: path.to_path_buf(),
            level,
        });
    }
    Ok(conn)
}

/// Keeps the shared secrets private to the server's user: a new database is
/// created mode 0600 (SQLite gives its `-wal` and `-shm` files the mode of
/// the database, so they follow), and an existing database, WAL or shared
/// memory file that group or others can read is refused.
#[cfg(unix)]
fn secure_files(path: &Path) -> Result<(), SqliteError> {
    use std::os::unix::fs::PermissionsExt;

    match crate::backup::create_private(path) {
        Ok(()) | Err(SqliteError::Exists { .. }) => {}
        Err(e) => return Err(e),
    }
    let mut companions = [
        path.to_path_buf(),
        sidecar(path, "-wal"),
        sidecar(path, "-shm"),
    ];
    for file in &mut companions {
        // A missing -wal or -shm is fine: SQLite creates it like the database.
        if let Ok(meta) = std::fs::metadata(&*file) {
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o044 != 0 {
                return Err(SqliteError::ReadableByOthers {
                    path: std::mem::take(file),
                    mode,
                });
            }
        }
    }
    Ok(())
}

/// File permissions are the platform's business elsewhere.
#[cfg(not(unix))]
fn secure_files(_path: &Path) -> Result<(), SqliteError> {
    Ok(())
}

/// `path` with `suffix` appended to its file name (`db.sqlite3-wal`).
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn quick_check(conn: &Connection, path: &Path) -> Result<(), SqliteError> {
    let mut stmt = conn
        .prepare("PRAGMA quick_check")
        .map_err(|e| SqliteError::from_sqlite(path, e))?;
    let problems: Vec<String> = stmt
        .query_map([], |row| row.get(0))
        .and_then(Iterator::collect)
        .map_err(|e| SqliteError::from_sqlite(path, e))?;
    match problems.as_slice() {
        [ok] if ok == "ok" => Ok(()),
        _ => Err(SqliteError::Corrupt {
            path: path.to_path_buf(),
            detail: problems
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join("; "),
        }),
    }
}

/// Runs `f` on tokio's blocking pool (inline when there is no runtime).
async fn run_blocking<T, F>(path: &Path, f: F) -> ddns_core::Result<T>
where
    F: FnOnce() -> Result<T, SqliteError> + Send + 'static,
    T: Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => match runtime.spawn_blocking(f).await {
            Ok(result) => result.map_err(Into::into),
            Err(e) => Err(SqliteError::Task {
                path: path.to_path_buf(),
                detail: e.to_string(),
            }
            .into()),
        },
        Err(_) => f().map_err(Into::into),
    }
}

#[derive(Debug)]
struct Pool {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    page_size: usize,
}

fn lock(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A connection is left consistent by SQLite itself; a panic elsewhere
    // while holding the lock does not make it unusable.
    conn.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pool {
    fn reader(&self) -> MutexGuard<'_, Connection> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        lock(&self.readers[i])
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        lock(&self.writer)
    }

    fn sqlite(&self) -> impl Fn(rusqlite::Error) -> SqliteError + '_ {
        |e| SqliteError::from_sqlite(&self.path, e)
    }

    /// Runs one write statement on the writer; returns the rows changed.
    fn execute(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize, SqliteError> {
        let conn = self.writer();
        let mut stmt = conn.prepare_cached(sql).map_err(self.sqlite())?;
        stmt.execute(params).map_err(self.sqlite())
    }
}

/// The settings one connection of a [`SqliteStore`] runs with, read back
/// from SQLite by [`SqliteStore::connection_settings`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionSettings {
    /// True for a reader connection (`query_only`), false for the writer.
    pub reader: bool,
    /// `PRAGMA journal_mode`, lower case (`"wal"`).
    pub journal_mode: String,
    /// `PRAGMA synchronous`: `"OFF"`, `"NORMAL"`, `"FULL"` or `"EXTRA"`.
    pub synchronous: &'static str,
    /// `PRAGMA query_only`.
    pub query_only: bool,
    /// `PRAGMA foreign_keys`.
    pub foreign_keys: bool,
    /// `PRAGMA secure_delete` (deleted secrets are overwritten).
    pub secure_delete: bool,
}

impl ConnectionSettings {
    fn read(conn: &Connection, reader: bool, path: &Path) -> Result<Self, SqliteError> {
        let sqlite = |e| SqliteError::from_sqlite(path, e);
        let int = |name: &str| {
            conn.pragma_query_value(None, name, |row| row.get::<_, i64>(0))
                .map_err(sqlite)
        };
        let journal_mode: String = conn
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .map_err(sqlite)?;
        let synchronous = match int("synchronous")? {
            0 => "OFF",
            1 => "NORMAL",
            2 => "FULL",
            _ => "EXTRA",
        };
        Ok(Self {
            reader,
            journal_mode: journal_mode.to_ascii_lowercase(),
            synchronous,
            query_only: int("query_only")? != 0,
            foreign_keys: int("foreign_keys")? != 0,
            secure_delete: int("secure_delete")? != 0,
        })
    }
}

/// A [`RecordStore`] on a SQLite file.
///
/// ```
/// use ddns_core::{Hostname, RecordStore};
/// use ddns_sqlite::SqliteStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let dir = tempfile::tempdir()?;
/// let store = SqliteStore::builder(dir.path().join("ddns.sqlite3"))
///     .with_seed_zone(Hostname::parse("example.com")?)
///     .open()
///     .await?;
/// // A new database holds the two example records.
/// assert_eq!(store.list_all().await?.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?; Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: Arc<Pool>,
}

impl SqliteStore {
    /// A builder for the database at `path`.
    pub fn builder(path: impl Into<PathBuf>) -> SqliteStoreBuilder {
        SqliteStoreBuilder::new(path)
    }

    /// Opens the database at `path` with the defaults (no seeding).
    ///
    /// # Errors
    ///
    /// As [`SqliteStoreBuilder::open`].
    pub async fn open(path: impl Into<PathBuf>) -> ddns_core::Result<Self> {
        Self::builder(path).open().await
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.pool.path
    }

    /// The schema version this build reads and writes.
    pub fn schema_version() -> i64 {
        SCHEMA_VERSION
    }

    /// Inserts many records in one transaction (for imports and tests):
    /// all or nothing. Returns how many were inserted.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::Conflict`] when a key already exists or repeats;
    /// nothing is inserted then.
    pub async fn import(&self, records: Vec<Record>) -> ddns_core::Result<usize> {
        self.write(move |pool| {
            let mut conn = pool.writer();
            let tx = conn.transaction().map_err(pool.sqlite())?;
            for record in &records {
                insert(&tx, record).map_err(pool.sqlite())?;
            }
            tx.commit().map_err(pool.sqlite())?;
            Ok(records.len())
        })
        .await
    }

    /// Runs `PRAGMA integrity_check` and returns its findings (`["ok"]` for
    /// a sound database).
    ///
    /// # Errors
    ///
    /// When the check itself cannot run.
    pub async fn integrity_check(&self) -> ddns_core::Result<Vec<String>> {
        self.write(|pool| {
            let conn = pool.writer();
            let mut stmt = conn
                .prepare("PRAGMA integrity_check")
                .map_err(pool.sqlite())?;
            stmt.query_map([], |row| row.get(0))
                .and_then(Iterator::collect)
                .map_err(pool.sqlite())
        })
        .await
    }

    /// Reads back the settings of every connection the store holds (the
    /// writer first, then each reader), as SQLite reports them now: what
    /// durability and safety the store really runs with.
    ///
    /// # Errors
    ///
    /// When a setting cannot be read.
    pub async fn connection_settings(&self) -> ddns_core::Result<Vec<ConnectionSettings>> {
        self.write(|pool| {
            let mut settings = vec![ConnectionSettings::read(&pool.writer(), false, &pool.path)?];
            for reader in &pool.readers {
                settings.push(ConnectionSettings::read(&lock(reader), true, &pool.path)?);
            }
            Ok(settings)
        })
        .await
    }

    async fn read<T, F>(&self, f: F) -> ddns_core::Result<T>
    where
        F: FnOnce(&Pool, &Connection) -> Result<T, SqliteError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = Arc::clone(&self.pool);
        run_blocking(&self.pool.path, move || {
            let conn = pool.reader();
            f(&pool, &conn)
        })
        .await
    }

    async fn write<T, F>(&self, f: F) -> ddns_core::Result<T>
    where
        F: FnOnce(&Pool) -> Result<T, SqliteError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = Arc::clone(&self.pool);
        run_blocking(&self.pool.path, move || f(&pool)).await
    }

    /// Runs an UPDATE or DELETE of `key`; no row is `NotFound`.
    async fn modify<P>(
        &self,
        key: &RecordKey,
        sql: &'static str,
        params: P,
    ) -> ddns_core::Result<()>
    where
        P: rusqlite::Params + Send + 'static,
    {
        let changed = self.write(move |pool| pool.execute(sql, params)).await?;
        if changed > 0 {
            Ok(())
        } else {
            Err(ddns_core::Error::not_found(format!("record {key}")))
        }
    }
}

impl SqliteStore {
    /// Runs a conditional `UPDATE` of one record (its `?1` and `?2` are the
    /// key): true when it changed the row, false when the row exists but
    /// the condition did not hold, [`ddns_core::Error::NotFound`] when
    /// there is no row. The writer connection is held throughout, so the
    /// check and the write are one step for every caller of this store, and
    /// SQLite's write lock makes it one step across processes.
    async fn update_if<P>(
        &self,
        key: &RecordKey,
        sql: &'static str,
        params: P,
    ) -> ddns_core::Result<bool>
    where
        P: rusqlite::Params + Send + 'static,
    {
        let (hostname, record_type) = key_params(key);
        let missing = format!("record {key}");
        let updated = self
            .write(move |pool| {
                let conn = pool.writer();
                let changed = conn
                    .prepare_cached(sql)
                    .and_then(|mut stmt| stmt.execute(params))
                    .map_err(pool.sqlite())?;
                if changed > 0 {
                    return Ok(Some(true));
                }
                let exists = conn
                    .prepare_cached(
                        "SELECT 1 FROM records WHERE hostname = ?1 AND record_type = ?2",
                    )
                    .and_then(|mut stmt| stmt.exists(params![hostname, record_type]))
                    .map_err(pool.sqlite())?;
                Ok(exists.then_some(false))
            })
            .await?;
        updated.ok_or_else(|| ddns_core::Error::not_found(missing))
    }
}

/// Writes the access state of one record.
const ACCESS_SQL: &str = "UPDATE records SET last_accessed = ?3, last_checked = ?4 \
     WHERE hostname = ?1 AND record_type = ?2";

fn key_params(key: &RecordKey) -> (String, &'static str) {
    (key.name().as_str().to_owned(), key.record_type().as_str())
}

/// The parameters of [`ACCESS_SQL`].
type AccessParams = (String, &'static str, String, String);

fn access_params(key: &RecordKey, access: AccessUpdate) -> AccessParams {
    let (hostname, record_type) = key_params(key);
    (
        hostname,
        record_type,
        ip_text(access.source),
        access.at.to_string(),
    )
}

fn ip_text(addr: IpAddr) -> String {
    addr.to_canonical().to_string()
}

#[async_trait]
impl RecordStore for SqliteStore {
    async fn get(&self, key: &RecordKey) -> ddns_core::Result<Option<Record>> {
        let (hostname, record_type) = key_params(key);
        self.read(move |pool, conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM records WHERE hostname = ?1 AND record_type = ?2"
                ))
                .map_err(pool.sqlite())?;
            let raw = stmt
                .query_row(params![hostname, record_type], RawRow::read)
                .optional()
                .map_err(pool.sqlite())?;
            raw.map(|raw| raw.into_record(&pool.path)).transpose()
        })
        .await
    }

    async fn discovery_group(&self, secret: &SharedSecret) -> ddns_core::Result<Vec<GroupMember>> {
        let secret = secret.clone();
        self.read(move |pool, conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM records WHERE shared_secret = ?1 AND read_privilege = 1"
                ))
                .map_err(pool.sqlite())?;
            let raws: Vec<RawRow> = stmt
                .query_map(params![secret.expose_secret()], RawRow::read)
                .and_then(Iterator::collect)
                .map_err(pool.sqlite())?;
            raws.into_iter()
                .map(|raw| {
                    let record = raw.into_record(&pool.path)?;
                    Ok(GroupMember {
                        key: record.key,
                        mac_address: record.config.mac_address,
                    })
                })
                .collect()
        })
        .await
    }

    async fn followers(&self, source: &Hostname) -> ddns_core::Result<Vec<Record>> {
        let source = source.as_str().to_owned();
        self.read(move |pool, conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM records WHERE prefix_from = ?1 AND record_type = 'AAAA'"
                ))
                .map_err(pool.sqlite())?;
            let raws: Vec<RawRow> = stmt
                .query_map(params![source], RawRow::read)
                .and_then(Iterator::collect)
                .map_err(pool.sqlite())?;
            raws.into_iter()
                .map(|raw| raw.into_record(&pool.path))
                .collect()
        })
        .await
    }

    async fn record_access(&self, key: &RecordKey, access: AccessUpdate) -> ddns_core::Result<()> {
        self.modify(key, ACCESS_SQL, access_params(key, access))
            .await
    }

    async fn record_access_many(
        &self,
        updates: &[(RecordKey, AccessUpdate)],
    ) -> ddns_core::Result<()> {
        let rows: Vec<AccessParams> = updates
            .iter()
            .map(|(key, access)| access_params(key, *access))
            .collect();
        self.write(move |pool| {
            let mut conn = pool.writer();
            let tx = conn.transaction().map_err(pool.sqlite())?;
            {
                let mut stmt = tx.prepare_cached(ACCESS_SQL).map_err(pool.sqlite())?;
                for row in &rows {
                    // A record deleted meanwhile matches no row: skipped.
                    stmt.execute(row.clone()).map_err(pool.sqlite())?;
                }
            }
            tx.commit().map_err(pool.sqlite())
        })
        .await
    }

    async fn record_change(
        &self,
        key: &RecordKey,
        change: ChangeUpdate,
    ) -> ddns_core::Result<bool> {
        let (hostname, record_type) = key_params(key);
        let missing = format!("record {key}");
        let kind = key.record_type();
        let column = kind.values_attribute();
        let update_sql = format!(
            "UPDATE records SET {column} = ?3, last_updated = ?4 \
             WHERE hostname = ?1 AND record_type = ?2 AND {column} IS ?5"
        );
        let select_sql =
            format!("SELECT {column} FROM records WHERE hostname = ?1 AND record_type = ?2");
        let written = self
            .write(move |pool| {
                let conn = pool.writer();
                let update = |stored: Option<String>| {
                    conn.prepare_cached(&update_sql)
                        .and_then(|mut stmt| {
                            stmt.execute(params![
                                hostname,
                                record_type,
                                RecordValue::stored_form(&change.values),
                                change.at.to_string(),
                                stored
                            ])
                        })
                        .map_err(pool.sqlite())
                };
                // The usual case: the row holds the values as this store
                // writes them.
                if update(RecordValue::stored_form(&change.previous))? > 0 {
                    return Ok(Some(true));
                }
                // Otherwise read what the row holds: a value written by
                // hand that means the same values still matches.
                let stored: Option<Option<String>> = conn
                    .prepare_cached(&select_sql)
                    .and_then(|mut stmt| {
                        stmt.query_row(params![hostname, record_type], |row| row.get(0))
                            .optional()
                    })
                    .map_err(pool.sqlite())?;
                let Some(stored) = stored else {
                    return Ok(None);
                };
                let means = match stored.as_deref() {
                    Some(text) => RecordValue::from_stored_form(kind, text).ok(),
                    None => Some(Vec::new()),
                };
                if means.as_ref() != Some(&change.previous) {
                    return Ok(Some(false));
                }
                Ok(Some(update(stored)? > 0))
            })
            .await?;
        written.ok_or_else(|| ddns_core::Error::not_found(missing))
    }

    async fn advance_replay_guard(
        &self,
        key: &RecordKey,
        timestamp: u64,
    ) -> ddns_core::Result<bool> {
        let at = guard_value(timestamp).map_err(|e| SqliteError::from_sqlite(self.path(), e))?;
        let (hostname, record_type) = key_params(key);
        self.update_if(
            key,
            "UPDATE records SET last_signed = ?3 WHERE hostname = ?1 \
             AND record_type = ?2 AND (last_signed IS NULL OR last_signed < ?3)",
            (hostname, record_type, at),
        )
        .await
    }

    async fn create(&self, record: &Record) -> ddns_core::Result<()> {
        let record = record.clone();
        let key = record.key.clone();
        self.write(move |pool| {
            let conn = pool.writer();
            insert(&conn, &record).map(drop).map_err(pool.sqlite())
        })
        .await
        .map_err(|e| match e {
            ddns_core::Error::Conflict { .. } => {
                ddns_core::Error::conflict(format!("record {key} already exists")).with_source(e)
            }
            other => other,
        })
    }

    async fn update_config(&self, key: &RecordKey, config: &RecordConfig) -> ddns_core::Result<()> {
        let (hostname, record_type) = key_params(key);
        let c = config.clone();
        self.modify(
            key,
            "UPDATE records SET shared_secret = ?3, ttl = ?4, lock_record = ?5, \
             allow_internal = ?6, read_privilege = ?7, mac_address = ?8, comment = ?9, \
             require_signed = ?10, prefix_from = ?11, interface_id = ?12 \
             WHERE hostname = ?1 AND record_type = ?2",
            (
                hostname,
                record_type,
                c.shared_secret.expose_secret().to_owned(),
                c.ttl,
                c.lock_record,
                c.allow_internal,
                c.read_privilege,
                c.mac_address,
                c.comment,
                c.require_signed,
                c.follow.as_ref().map(|f| f.prefix_from.as_str().to_owned()),
                c.follow.as_ref().map(|f| f.interface_id.to_string()),
            ),
        )
        .await
    }

    async fn delete(&self, key: &RecordKey) -> ddns_core::Result<()> {
        let (hostname, record_type) = key_params(key);
        self.modify(
            key,
            "DELETE FROM records WHERE hostname = ?1 AND record_type = ?2",
            (hostname, record_type),
        )
        .await
    }

    async fn list_page(&self, cursor: Option<ListCursor>) -> ddns_core::Result<RecordPage> {
        let after = match &cursor {
            None => None,
            Some(c) => Some(
                c.as_str()
                    .split_once(' ')
                    .map(|(h, t)| (h.to_owned(), t.to_owned()))
                    .ok_or_else(|| {
                        ddns_core::Error::invalid_input(
                            "the listing cursor was not made by this store",
                        )
                    })?,
            ),
        };
        self.read(move |pool, conn| {
            let (hostname, record_type) = after.unwrap_or_default();
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM records WHERE (hostname, record_type) > (?1, ?2) \
                     ORDER BY hostname, record_type LIMIT ?3"
                ))
                .map_err(pool.sqlite())?;
            let page_size = pool.page_size;
            let limit = i64::try_from(page_size + 1).unwrap_or(i64::MAX);
            let raws: Vec<RawRow> = stmt
                .query_map(params![hostname, record_type, limit], RawRow::read)
                .and_then(Iterator::collect)
                .map_err(pool.sqlite())?;
            let more = raws.len() > page_size;
            let records = raws
                .into_iter()
                .take(page_size)
                .map(|raw| raw.into_record(&pool.path))
                .collect::<Result<Vec<_>, _>>()?;
            let next = match (more, records.last()) {
                (true, Some(last)) => Some(ListCursor::new(last.key.to_string())),
                _ => None,
            };
            Ok(RecordPage::new(records, next))
        })
        .await
    }
}
