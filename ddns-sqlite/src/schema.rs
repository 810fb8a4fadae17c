//! The versioned schema and its forward migrations.
//!
//! The schema version lives in `PRAGMA user_version`. Opening a database runs,
//! in one immediate transaction, every migration above its version; a
//! database whose version is above [`SCHEMA_VERSION`] was written by a newer
//! ddns and is refused rather than misread. A database created by the
//! migration (version 0 before it) is seeded, in the same transaction, with
//! the example records of the configured zone; an existing one never is.

use std::path::Path;

use ddns_core::{Hostname, example_records};
use rusqlite::{Connection, TransactionBehavior};

use crate::error::SqliteError;
use crate::row;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 4;

/// The migrations, in order: `MIGRATIONS[n]` takes version `n` to `n + 1`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [
    // 0 -> 1: the record table of the wire contract, with the same
    // attribute names as the original DynamoDB table.
    r"
    CREATE TABLE records (
        hostname       TEXT    NOT NULL,
        record_type    TEXT    NOT NULL CHECK (record_type IN ('A', 'AAAA')),
        shared_secret  TEXT    NOT NULL,
        ttl            INTEGER CHECK (ttl IS NULL OR ttl BETWEEN 0 AND 2147483647),
        lock_record    INTEGER NOT NULL DEFAULT 0 CHECK (lock_record IN (0, 1)),
        allow_internal INTEGER NOT NULL DEFAULT 0 CHECK (allow_internal IN (0, 1)),
        read_privilege INTEGER NOT NULL DEFAULT 0 CHECK (read_privilege IN (0, 1)),
        mac_address    TEXT,
        comment        TEXT,
        ip_address     TEXT,
        last_accessed  TEXT,
        last_checked   TEXT,
        last_updated   TEXT,
        PRIMARY KEY (hostname, record_type)
    ) STRICT, WITHOUT ROWID;

    -- Discovery groups: records sharing a secret, with read privilege.
    CREATE INDEX records_discovery ON records (shared_secret) WHERE read_privilege = 1;
    ",
    // 1 -> 2: signed requests (docs/PROTOCOL.md section 7): the record
    // setting that requires them, and the replay guard (Unix seconds).
    r"
    ALTER TABLE records ADD COLUMN require_signed INTEGER NOT NULL DEFAULT 0
        CHECK (require_signed IN (0, 1));
    ALTER TABLE records ADD COLUMN last_signed INTEGER
        CHECK (last_signed IS NULL OR last_signed >= 0);
    ",
    // 2 -> 3: TXT records. SQLite cannot widen a CHECK constraint in
    // place, so the table is rebuilt with TXT among the types and a
    // `txt_values` column (one presentation-form value per line), every
    // row copied across, in the migration's transaction.
    r"
    CREATE TABLE records_v3 (
        hostname       TEXT    NOT NULL,
        record_type    TEXT    NOT NULL CHECK (record_type IN ('A', 'AAAA', 'TXT')),
        shared_secret  TEXT    NOT NULL,
        ttl            INTEGER CHECK (ttl IS NULL OR ttl BETWEEN 0 AND 2147483647),
        lock_record    INTEGER NOT NULL DEFAULT 0 CHECK (lock_record IN (0, 1)),
        allow_internal INTEGER NOT NULL DEFAULT 0 CHECK (allow_internal IN (0, 1)),
        read_privilege INTEGER NOT NULL DEFAULT 0 CHECK (read_privilege IN (0, 1)),
        mac_address    TEXT,
        comment        TEXT,
        ip_address     TEXT,
        last_accessed  TEXT,
        last_checked   TEXT,
        last_updated   TEXT,
        require_signed INTEGER NOT NULL DEFAULT 0 CHECK (require_signed IN (0, 1)),
        last_signed    INTEGER CHECK (last_signed IS NULL OR last_signed >= 0),
        txt_values     TEXT,
        PRIMARY KEY (hostname, record_type)
    ) STRICT, WITHOUT ROWID;

    INSERT INTO records_v3 (
        hostname, record_type, shared_secret, ttl, lock_record, allow_internal,
        read_privilege, mac_address, comment, ip_address, last_accessed, last_checked,
        last_updated, require_signed, last_signed
    )
    SELECT
        hostname, record_type, shared_secret, ttl, lock_record, allow_internal,
        read_privilege, mac_address, comment, ip_address, last_accessed, last_checked,
        last_updated, require_signed, last_signed
    FROM records;

    DROP TABLE records;
    ALTER TABLE records_v3 RENAME TO records;
    CREATE INDEX records_discovery ON records (shared_secret) WHERE read_privilege = 1;
    ",
    // 3 -> 4: AAAA records that follow a router's delegated prefix (issue
    // 18): the router's host name and the record's interface identifier,
    // both set or both empty.
    r"
    ALTER TABLE records ADD COLUMN prefix_from TEXT;
    ALTER TABLE records ADD COLUMN interface_id TEXT;
    CREATE INDEX records_followers ON records (prefix_from) WHERE prefix_from IS NOT NULL;
    ",
];

/// Brings the database on `conn` to [`SCHEMA_VERSION`], seeding a new one
/// with the example records of `seed_zone` when given. Returns true when
/// the database was new.
pub(crate) fn migrate(
    conn: &mut Connection,
    path: &Path,
    seed_zone: Option<&Hostname>,
) -> Result<bool, SqliteError> {
    let sqlite = |e| SqliteError::from_sqlite(path, e);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sqlite)?;
    let found: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(sqlite)?;
    if found > SCHEMA_VERSION {
        return Err(SqliteError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let is_new = found == 0;
    for (version, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.execute_batch(sql).map_err(sqlite)?;
        // `version` is below SCHEMA_VERSION, a small constant.
        tx.pragma_update(None, "user_version", version as i64 + 1)
            .map_err(sqlite)?;
    }
    if let (true, Some(zone)) = (is_new, seed_zone) {
        let rows = example_records(zone).map_err(|e| SqliteError::InvalidRow {
            path: path.to_path_buf(),
            column: "zone",
            value: e.to_string(),
        })?;
        for record in &rows {
            row::insert(&tx, record).map_err(sqlite)?;
        }
    }
    tx.commit().map_err(sqlite)?;
    Ok(is_new)
}
