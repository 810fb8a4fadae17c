//! What goes wrong with SQLite, and how it maps into ddns-core's error.
//!
//! [`SqliteError`] stays private to the crate: callers see
//! [`ddns_core::Error`], with a message that names the database file and
//! says what to do, and this error as its source.

use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

/// Everything the SQLite store can fail at.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SqliteError {
    #[error("the directory {} of the database {} does not exist; create it or choose another path", dir.display(), path.display())]
    MissingDirectory { path: PathBuf, dir: PathBuf },

    #[error("cannot open the database {}: {source}; check that the path is a file the server's user can read and write", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("the database {} is read-only; make the file and its directory writable by the server's user", path.display())]
    ReadOnly { path: PathBuf },

    #[error("the database {} can be read by other users (mode {mode:04o}) and holds every record's shared secret; run `chmod 600 {}` and start again", path.display(), path.display())]
    ReadableByOthers { path: PathBuf, mode: u32 },

    #[error("cannot create the database {} with owner-only permissions: {source}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{} is not a SQLite database (or is encrypted); move it away or point the server at another path", path.display())]
    NotADatabase { path: PathBuf },

    #[error("the database {} is corrupted ({detail}); restore it from a backup, or salvage it with `sqlite3 {} .recover | sqlite3 new.sqlite3`", path.display(), path.display())]
    Corrupt { path: PathBuf, detail: String },

    #[error("the database {} has schema version {found}, newer than the {supported} this build knows; upgrade ddns rather than open it with an older version", path.display())]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error("the database {} is busy (locked by another connection or process); try again", path.display())]
    Busy {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("the database {} refused a value as out of range ({source}); a TTL is at most 2147483647 seconds", path.display())]
    OutOfRange {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("the database {} refused the write: {source}", path.display())]
    Constraint {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("the disk holding the database {} is full; free space and try again", path.display())]
    DiskFull {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("the journal mode of {} could not be set to WAL (it stayed {mode:?}); put the database on a local file system", path.display())]
    NoWal { path: PathBuf, mode: String },

    #[error("the database {} did not take synchronous=FULL (it reads back {level}); writes would not be durable, so it is not used: check that nothing (a SQLITE_DEFAULT_SYNCHRONOUS build option, an extension) overrides the setting", path.display())]
    NotDurable { path: PathBuf, level: i64 },

    #[error("a row of the database {} holds an invalid {column} ({value:?}); fix or delete it with sqlite3", path.display())]
    InvalidRow {
        path: PathBuf,
        column: &'static str,
        value: String,
    },

    #[error("SQLite failed on the database {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("the database task for {} stopped unexpectedly: {detail}", path.display())]
    Task { path: PathBuf, detail: String },

    #[error("{} does not exist; name the database (or the backup) to read", path.display())]
    BackupSource { path: PathBuf },

    #[error("{} exists already; remove it or choose another name", path.display())]
    Exists { path: PathBuf },
}

impl SqliteError {
    /// Classifies a SQLite error raised while working on `path`.
    pub(crate) fn from_sqlite(path: &Path, source: rusqlite::Error) -> Self {
        let path = path.to_path_buf();
        match source.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                Self::Busy { path, source }
            }
            Some(ErrorCode::ReadOnly) => Self::ReadOnly { path },
            Some(ErrorCode::NotADatabase) => Self::NotADatabase { path },
            Some(ErrorCode::DatabaseCorrupt) => Self::Corrupt {
                path,
                detail: source.to_string(),
            },
            // A CHECK constraint guards a value's range; the others (the key,
            // NOT NULL) are conflicts.
            Some(ErrorCode::ConstraintViolation)
                if matches!(
                    &source,
                    rusqlite::Error::SqliteFailure(e, _)
                        if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_CHECK
                ) =>
            {
                Self::OutOfRange { path, source }
            }
            Some(ErrorCode::ConstraintViolation) => Self::Constraint { path, source },
            Some(ErrorCode::DiskFull) => Self::DiskFull { path, source },
            Some(ErrorCode::CannotOpen) => Self::Open { path, source },
            _ => Self::Sqlite { path, source },
        }
    }
}

impl From<SqliteError> for ddns_core::Error {
    fn from(e: SqliteError) -> Self {
        let message = e.to_string();
        let base = match &e {
            SqliteError::Busy { .. } => Self::unavailable(message, true),
            SqliteError::DiskFull { .. } => Self::unavailable(message, true),
            SqliteError::ReadOnly { .. } | SqliteError::ReadableByOthers { .. } => {
                Self::permission_denied(message)
            }
            SqliteError::Constraint { .. } | SqliteError::Exists { .. } => Self::conflict(message),
            SqliteError::BackupSource { .. } => Self::not_found(message),
            SqliteError::OutOfRange { .. } => Self::invalid_input(message),
            SqliteError::MissingDirectory { .. }
            | SqliteError::Open { .. }
            | SqliteError::Create { .. }
            | SqliteError::NotADatabase { .. }
            | SqliteError::Corrupt { .. }
            | SqliteError::NewerSchema { .. }
            | SqliteError::NoWal { .. }
            | SqliteError::NotDurable { .. }
            | SqliteError::InvalidRow { .. }
            | SqliteError::Sqlite { .. }
            | SqliteError::Task { .. } => Self::unavailable(message, false),
        };
        base.with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_is_retryable_and_names_the_file() {
        let source = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        let err: ddns_core::Error =
            SqliteError::from_sqlite(Path::new("/var/lib/ddns/ddns.sqlite3"), source).into();
        assert!(err.is_retryable());
        assert!(
            err.to_string().contains("/var/lib/ddns/ddns.sqlite3"),
            "{err}"
        );
    }

    #[test]
    fn constraint_is_a_conflict_and_corruption_says_what_to_do() {
        let path = Path::new("db.sqlite3");
        let constraint = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
            None,
        );
        let err: ddns_core::Error = SqliteError::from_sqlite(path, constraint).into();
        assert!(matches!(err, ddns_core::Error::Conflict { .. }));
        let corrupt = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            None,
        );
        let err: ddns_core::Error = SqliteError::from_sqlite(path, corrupt).into();
        assert!(!err.is_retryable());
        assert!(err.to_string().contains(".recover"), "{err}");
    }
}
