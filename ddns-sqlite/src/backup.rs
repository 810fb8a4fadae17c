//! Backups of a live database with SQLite's online backup API, and
//! restores from them.
//!
//! A backup copies every page in one step under one read transaction, so
//! it is a consistent snapshot of the database as committed when it began
//! (WAL included): every change acknowledged before the backup started is
//! in it, and writers go on meanwhile. A file copy of a WAL database while
//! it is written gives no such guarantee.

use std::path::Path;

use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};

use crate::error::SqliteError;

/// Copies the database at `database` into a new file `destination`
/// (created 0600; an existing file is refused), while other connections
/// and processes go on reading and writing it.
///
/// # Errors
///
/// A [`ddns_core::Error`] naming the file: the database cannot be opened
/// or read, the destination exists or cannot be written.
pub fn backup(database: &Path, destination: &Path) -> ddns_core::Result<()> {
    if !database.exists() {
        return Err(SqliteError::BackupSource {
            path: database.to_path_buf(),
        }
        .into());
    }
    create_private(destination)?;
    let result = (|| {
        let source = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| SqliteError::from_sqlite(database, e))?;
        let mut copy =
            Connection::open(destination).map_err(|e| SqliteError::from_sqlite(destination, e))?;
        copy_pages(&source, database, &mut copy, destination)?;
        check_integrity(&copy, destination)
    })();
    if result.is_err() {
        // Half a backup is worse than none.
        let _ = std::fs::remove_file(destination);
    }
    result.map_err(Into::into)
}

/// Replaces the database at `database` with the backup at `backup`, after
/// checking that the backup is a whole SQLite database. Run it with no
/// server on the database: the caller checks that none answers on its
/// control socket.
///
/// # Errors
///
/// A [`ddns_core::Error`] naming the file: the backup is missing, not a
/// database or damaged, or the database cannot be written.
pub fn restore(backup: &Path, database: &Path) -> ddns_core::Result<()> {
    if !backup.exists() {
        return Err(SqliteError::BackupSource {
            path: backup.to_path_buf(),
        }
        .into());
    }
    let source = Connection::open_with_flags(backup, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| SqliteError::from_sqlite(backup, e))?;
    check_integrity(&source, backup)?;
    if !database.exists() {
        create_private(database)?;
    }
    let mut target =
        Connection::open(database).map_err(|e| SqliteError::from_sqlite(database, e))?;
    copy_pages(&source, backup, &mut target, database)?;
    check_integrity(&target, database)?;
    Ok(())
}

/// Copies every page of `source` into `target` in one step.
fn copy_pages(
    source: &Connection,
    source_path: &Path,
    target: &mut Connection,
    target_path: &Path,
) -> Result<(), SqliteError> {
    let backup =
        Backup::new(source, target).map_err(|e| SqliteError::from_sqlite(target_path, e))?;
    // -1: every page at once, under one read transaction of the source, so
    // writers elsewhere cannot make the copy start over.
    backup
        .step(-1)
        .map_err(|e| SqliteError::from_sqlite(source_path, e))?;
    Ok(())
}

/// Refuses a database that `PRAGMA integrity_check` does not call ok.
fn check_integrity(conn: &Connection, path: &Path) -> Result<(), SqliteError> {
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(|e| SqliteError::from_sqlite(path, e))?;
    if verdict == "ok" {
        Ok(())
    } else {
        Err(SqliteError::Corrupt {
            path: path.to_path_buf(),
            detail: verdict,
        })
    }
}

/// Creates `path` empty with owner-only permissions; refuses an existing
/// file ([`SqliteError::Exists`]). The store creates a new database so
/// too.
pub(crate) fn create_private(path: &Path) -> Result<(), SqliteError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(SqliteError::Exists {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(SqliteError::Create {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;
    use ddns_core::{
        Hostname, Record, RecordConfig, RecordKey, RecordStore, RecordType, SharedSecret,
    };

    #[tokio::test]
    async fn a_backup_holds_what_was_stored_and_restores_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ddns.sqlite3");
        let store = SqliteStore::open(&db).await.unwrap();
        let key = RecordKey::new(Hostname::parse("home.example.com").unwrap(), RecordType::A);
        store
            .create(&Record::new(
                key.clone(),
                RecordConfig::new(SharedSecret::new("s")),
            ))
            .await
            .unwrap();
        let copy = dir.path().join("backup.sqlite3");
        backup(&db, &copy).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = backup(&db, &copy).unwrap_err().to_string();
        assert!(again.contains("exists"), "{again}");

        store.delete(&key).await.unwrap();
        drop(store);
        restore(&copy, &db).unwrap();
        let store = SqliteStore::open(&db).await.unwrap();
        assert!(store.get(&key).await.unwrap().is_some(), "restored");

        std::fs::write(dir.path().join("junk"), b"not a database at all").unwrap();
        let junk = restore(&dir.path().join("junk"), &db)
            .unwrap_err()
            .to_string();
        assert!(junk.contains("junk"), "{junk}");
        let missing = backup(&dir.path().join("none.sqlite3"), &dir.path().join("b2"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("none.sqlite3"), "{missing}");
    }
}
