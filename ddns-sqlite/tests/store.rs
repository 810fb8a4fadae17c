//! SqliteStore against real SQLite files: the shared conformance suite,
//! seeding, schema versions, bad files, locking and concurrency.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic
)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ddns_core::{
    AccessUpdate, ChangeUpdate, Error, Hostname, Record, RecordConfig, RecordKey, RecordName,
    RecordStore, RecordType, RecordValue, SharedSecret, Timestamp, TxtValue, conformance,
};
use ddns_sqlite::{SCHEMA_VERSION, SqliteStore};

fn db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("ddns.sqlite3")
}

/// Makes a file the test wrote itself owner-only, as the store requires.
fn private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn zone() -> Hostname {
    Hostname::parse("example.com").unwrap()
}

fn key(host: &str, t: RecordType) -> RecordKey {
    RecordKey::new(Hostname::parse(host).unwrap(), t)
}

fn record(host: &str) -> Record {
    Record::new(
        key(host, RecordType::A),
        RecordConfig::new(SharedSecret::new("secret")),
    )
}

async fn open_err(path: &Path) -> Error {
    SqliteStore::open(path).await.expect_err("open must fail")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conforms_to_the_record_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(db(&dir)).await.unwrap();
    conformance::store(&store).await;
    // And again on the same file, reopened: nothing left behind.
    drop(store);
    let store = SqliteStore::open(db(&dir)).await.unwrap();
    assert!(store.list_all().await.unwrap().is_empty());
    conformance::store(&store).await;
    // And with pages of 7: the listing crosses some twenty pages.
    drop(store);
    let paged = SqliteStore::builder(db(&dir))
        .with_page_size(7)
        .open()
        .await
        .unwrap();
    conformance::paged_store(&paged, 7).await;
}

#[tokio::test]
async fn a_new_database_is_seeded_once() {
    let dir = tempfile::tempdir().unwrap();
    let open = || SqliteStore::builder(db(&dir)).with_seed_zone(zone()).open();
    let store = open().await.unwrap();
    let first = store.list_all().await.unwrap();
    assert_eq!(first.len(), 2);
    for row in &first {
        assert_eq!(row.key.name().as_str(), "example-record.example.com.");
        assert_eq!(row.config.ttl, Some(60));
        assert!(row.config.allow_internal && !row.config.lock_record && !row.config.read_privilege);
        assert_eq!(row.config.mac_address.as_deref(), Some("0A:0A:0A:0A:0A:0A"));
        assert_eq!(row.config.comment.as_deref(), Some("example record"));
        assert_eq!(row.config.shared_secret.expose_secret().len(), 16);
    }
    assert_ne!(first[0].config.shared_secret, first[1].config.shared_secret);
    // The operator deletes one; reopening must not bring it back or reseed.
    store.delete(&first[0].key).await.unwrap();
    drop(store);
    let again = open().await.unwrap().list_all().await.unwrap();
    assert_eq!(again, vec![first[1].clone()]);
    // Without a zone nothing is seeded.
    let other = tempfile::tempdir().unwrap();
    let bare = SqliteStore::open(db(&other)).await.unwrap();
    assert!(bare.list_all().await.unwrap().is_empty());
}

#[tokio::test]
async fn every_connection_of_the_store_runs_wal_with_synchronous_full() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::builder(db(&dir))
        .with_readers(3)
        .open()
        .await
        .unwrap();
    let settings = store.connection_settings().await.unwrap();
    // One writer, then the three readers.
    assert_eq!(
        settings.iter().map(|c| c.reader).collect::<Vec<_>>(),
        [false, true, true, true]
    );
    for connection in &settings {
        assert_eq!(connection.journal_mode, "wal", "{connection:?}");
        assert_eq!(connection.synchronous, "FULL", "{connection:?}");
        assert!(connection.foreign_keys, "{connection:?}");
        assert!(connection.secure_delete, "{connection:?}");
        assert_eq!(connection.query_only, connection.reader, "{connection:?}");
    }
}

#[tokio::test]
async fn the_table_uses_the_record_table_names_and_is_durable_wal() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(db(&dir)).await.unwrap();
    store.create(&record("h.example.com")).await.unwrap();
    let conn = rusqlite::Connection::open(db(&dir)).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info('records')")
        .unwrap();
    let columns: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        columns,
        [
            "hostname",
            "record_type",
            "shared_secret",
            "ttl",
            "lock_record",
            "allow_internal",
            "read_privilege",
            "mac_address",
            "comment",
            "ip_address",
            "last_accessed",
            "last_checked",
            "last_updated",
            "require_signed",
            "last_signed",
            "txt_values",
            "prefix_from",
            "interface_id"
        ]
    );
    // The discovery query uses the index.
    assert_discovery_uses_its_index(&conn);
    // State is written in the record table's formats.
    let k = key("h.example.com", RecordType::A);
    store
        .record_change(
            &k,
            ChangeUpdate::address(
                None,
                "::ffff:198.51.100.7".parse().unwrap(),
                Timestamp::from_unix_micros(1_532_624_645_000_042),
            ),
        )
        .await
        .unwrap();
    let (ip, at): (String, String) = conn
        .query_row("SELECT ip_address, last_updated FROM records", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(
        (ip.as_str(), at.as_str()),
        ("198.51.100.7", "2018-07-26 17:04:05.000042")
    );
}

/// Checks that the discovery query on `conn` is planned on its index.
fn assert_discovery_uses_its_index(conn: &rusqlite::Connection) {
    let plan: String = conn
        .query_row(
            "EXPLAIN QUERY PLAN SELECT hostname FROM records WHERE shared_secret = 'x' AND read_privilege = 1",
            [],
            |r| r.get(3),
        )
        .unwrap();
    assert!(plan.contains("records_discovery"), "{plan}");
}

/// A database made by `sql` (an older version's schema and rows), opened,
/// and so migrated, by this version.
async fn open_written_by(sql: &str) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    rusqlite::Connection::open(db(&dir))
        .unwrap()
        .execute_batch(sql)
        .unwrap();
    private(&db(&dir));
    let store = SqliteStore::open(db(&dir)).await.unwrap();
    (dir, store)
}

/// The version 1 table, as ddns 0.1 created it, with one row in it.
const VERSION_1: &str = r"
    CREATE TABLE records (
        hostname TEXT NOT NULL, record_type TEXT NOT NULL CHECK (record_type IN ('A', 'AAAA')),
        shared_secret TEXT NOT NULL, ttl INTEGER, lock_record INTEGER NOT NULL DEFAULT 0,
        allow_internal INTEGER NOT NULL DEFAULT 0, read_privilege INTEGER NOT NULL DEFAULT 0,
        mac_address TEXT, comment TEXT, ip_address TEXT, last_accessed TEXT,
        last_checked TEXT, last_updated TEXT, PRIMARY KEY (hostname, record_type)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX records_discovery ON records (shared_secret) WHERE read_privilege = 1;
    INSERT INTO records (hostname, record_type, shared_secret, ttl, lock_record, allow_internal,
        read_privilege, ip_address, last_updated)
    VALUES ('old.example.com.', 'A', 'kept', 120, 1, 0, 1, '198.51.100.7',
        '2018-07-26 17:04:05.000042');
    PRAGMA user_version = 1;
";

#[tokio::test]
async fn a_version_1_database_is_migrated_in_place() {
    let (dir, store) = open_written_by(VERSION_1).await;
    let k = key("old.example.com", RecordType::A);
    let old = store.get(&k).await.unwrap().expect("the row survives");
    assert_eq!(old.config.shared_secret, SharedSecret::new("kept"));
    assert_eq!(old.config.ttl, Some(120));
    assert!(old.config.lock_record && old.config.read_privilege);
    assert!(
        !old.config.require_signed,
        "old rows do not require signing"
    );
    assert_eq!(old.state.address(), Some("198.51.100.7".parse().unwrap()));
    assert_eq!(old.state.last_signed, None);
    // The new columns work, and the version moved.
    assert!(store.advance_replay_guard(&k, 7).await.unwrap());
    store
        .update_config(&k, &old.config.clone().with_require_signed(true))
        .await
        .unwrap();
    drop(store);
    let store = SqliteStore::open(db(&dir)).await.unwrap();
    let read = store.get(&k).await.unwrap().unwrap();
    assert!(read.config.require_signed);
    assert_eq!(read.state.last_signed, Some(7));
    let version: i64 = rusqlite::Connection::open(db(&dir))
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

/// The version 2 table, as ddns 0.2 created it (version 1 and the
/// signed-request columns), with an A and an AAAA row of one discovery
/// group.
const VERSION_2: &str = r"
    CREATE TABLE records (
        hostname TEXT NOT NULL, record_type TEXT NOT NULL CHECK (record_type IN ('A', 'AAAA')),
        shared_secret TEXT NOT NULL,
        ttl INTEGER CHECK (ttl IS NULL OR ttl BETWEEN 0 AND 2147483647),
        lock_record INTEGER NOT NULL DEFAULT 0 CHECK (lock_record IN (0, 1)),
        allow_internal INTEGER NOT NULL DEFAULT 0 CHECK (allow_internal IN (0, 1)),
        read_privilege INTEGER NOT NULL DEFAULT 0 CHECK (read_privilege IN (0, 1)),
        mac_address TEXT, comment TEXT, ip_address TEXT, last_accessed TEXT,
        last_checked TEXT, last_updated TEXT, PRIMARY KEY (hostname, record_type)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX records_discovery ON records (shared_secret) WHERE read_privilege = 1;
    ALTER TABLE records ADD COLUMN require_signed INTEGER NOT NULL DEFAULT 0
        CHECK (require_signed IN (0, 1));
    ALTER TABLE records ADD COLUMN last_signed INTEGER
        CHECK (last_signed IS NULL OR last_signed >= 0);
    INSERT INTO records (hostname, record_type, shared_secret, ttl, lock_record, allow_internal,
        read_privilege, mac_address, comment, ip_address, last_accessed, last_checked,
        last_updated, require_signed, last_signed)
    VALUES
        ('nas.example.com.', 'A', 'group', 300, 0, 1, 1, '0A:0B:0C:0D:0E:0F', 'the NAS',
         '198.51.100.7', '203.0.113.9', '2018-07-26 17:04:05.000042',
         '2018-07-26 17:04:05.000042', 1, 1532624645),
        ('nas.example.com.', 'AAAA', 'group', NULL, 1, 0, 1, NULL, NULL,
         '2001:db8::7', NULL, NULL, NULL, 0, NULL);
    PRAGMA user_version = 2;
";

#[tokio::test]
async fn a_version_2_database_is_migrated_in_place_and_takes_txt_records() {
    let (dir, store) = open_written_by(VERSION_2).await;
    // Every row and every column survives the table's rebuild.
    let a = store
        .get(&key("nas.example.com", RecordType::A))
        .await
        .unwrap()
        .expect("the A row survives");
    assert_eq!(a.config.shared_secret, SharedSecret::new("group"));
    assert_eq!(a.config.ttl, Some(300));
    assert!(a.config.allow_internal && a.config.read_privilege && a.config.require_signed);
    assert_eq!(a.config.mac_address.as_deref(), Some("0A:0B:0C:0D:0E:0F"));
    assert_eq!(a.config.comment.as_deref(), Some("the NAS"));
    assert_eq!(a.state.address(), Some("198.51.100.7".parse().unwrap()));
    assert_eq!(a.state.last_accessed, Some("203.0.113.9".parse().unwrap()));
    assert_eq!(a.state.last_signed, Some(1_532_624_645));
    assert_eq!(
        a.state.last_updated.map(|t| t.to_string()).as_deref(),
        Some("2018-07-26 17:04:05.000042")
    );
    let aaaa = store
        .get(&key("nas.example.com", RecordType::Aaaa))
        .await
        .unwrap()
        .expect("the AAAA row survives");
    assert!(aaaa.config.lock_record && aaaa.config.ttl.is_none());
    assert_eq!(aaaa.state.address(), Some("2001:db8::7".parse().unwrap()));
    // The discovery group still works, through the rebuilt index.
    assert_eq!(
        store
            .discovery_group(&SharedSecret::new("group"))
            .await
            .unwrap()
            .len(),
        2
    );
    // A TXT record with two values, at an underscore name, now fits.
    let txt_key = RecordKey::txt(RecordName::parse("_acme-challenge.nas.example.com").unwrap());
    let mut txt = Record::new(txt_key.clone(), RecordConfig::new(SharedSecret::new("t")));
    txt.state.values = ["first", "second"]
        .iter()
        .map(|t| RecordValue::Txt(TxtValue::new(t).unwrap()))
        .collect();
    store.create(&txt).await.unwrap();
    drop(store);
    let store = SqliteStore::open(db(&dir)).await.unwrap();
    assert_eq!(store.get(&txt_key).await.unwrap().unwrap(), txt);
    let conn = rusqlite::Connection::open(db(&dir)).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let (stored, address): (String, Option<String>) = conn
        .query_row(
            "SELECT txt_values, ip_address FROM records WHERE record_type = 'TXT'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (stored.as_str(), address),
        ("\"first\"\n\"second\"", None),
        "TXT values are stored one per line, quoted, beside an empty ip_address"
    );
    assert_discovery_uses_its_index(&conn);
    // The type check still refuses what no version knows.
    let refused = conn.execute(
        "INSERT INTO records (hostname, record_type, shared_secret) VALUES ('x.example.com.', 'MX', 's')",
        [],
    );
    assert!(refused.is_err(), "an MX row must be refused");
}

#[tokio::test]
async fn the_replay_guard_survives_a_restart() {
    use ddns_core::memory::MemoryProvider;
    use ddns_core::protocols::seed::{ApiKeys, SeedApi, SeedHttpRequest, SeedParams};
    use ddns_core::signed::{Nonce, SignedMessage, SignedMode, SignedProof};

    let dir = tempfile::tempdir().unwrap();
    let host = "signed.example.com";
    let source: IpAddr = "198.51.100.7".parse().unwrap();
    let secret = SharedSecret::new("secret");
    let now = u64::try_from(Timestamp::now().unix_micros() / 1_000_000).unwrap();
    let message = SignedMessage::new(
        SignedMode::Set,
        Hostname::parse(host).unwrap(),
        source,
        now,
        Nonce::generate().unwrap(),
    );
    let proof = SignedProof::for_message(&message, &secret);
    let query = format!(
        "mode=set&hostname={host}&signature={}&timestamp={}&nonce={}",
        proof.signature, proof.timestamp, proof.nonce
    );
    let send = |store: SqliteStore| {
        let query = query.clone();
        async move {
            let service =
                ddns_core::DdnsService::builder(Arc::new(store), Arc::new(MemoryProvider::new()))
                    .build();
            SeedApi::new(Arc::new(service), ApiKeys::none())
                .handle(SeedHttpRequest::new(SeedParams::from_query(&query), source))
                .await
                .body
        }
    };
    let store = SqliteStore::open(db(&dir)).await.unwrap();
    store.create(&record(host)).await.unwrap();
    let first = send(store).await;
    assert!(first.contains("has been set to"), "{first}");
    // A new process on the same file refuses the same request.
    let again = send(SqliteStore::open(db(&dir)).await.unwrap()).await;
    assert!(again.contains("already used"), "{again}");
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(SqliteStore::open(db(&dir)).await.unwrap());
    let conn = rusqlite::Connection::open(db(&dir)).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let err = open_err(&db(&dir)).await;
    let text = err.to_string();
    assert!(
        text.contains("newer") && text.contains("upgrade ddns"),
        "{text}"
    );
    assert!(text.contains(&db(&dir).display().to_string()), "{text}");
}

#[tokio::test]
async fn a_missing_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/ddns.sqlite3");
    let text = open_err(&path).await.to_string();
    assert!(
        text.contains("does not exist") && text.contains("no/such/dir"),
        "{text}"
    );
    assert!(!path.exists());
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let content = b"hostname,record_type\nnot a database at all, but text long enough to fill a header........................................................";
    std::fs::write(&path, content).unwrap();
    private(&path);
    let text = open_err(&path).await.to_string();
    assert!(text.contains("is not a SQLite database"), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        content,
        "the file must be left as it was"
    );
}

fn corrupt(path: &Path) {
    // Overwrite pages in the middle of the file with garbage.
    let mut bytes = std::fs::read(path).unwrap();
    let page = 4096;
    assert!(
        bytes.len() > 6 * page,
        "database too small to corrupt: {}",
        bytes.len()
    );
    for b in &mut bytes[2 * page + 100..5 * page] {
        *b = 0xA5;
    }
    std::fs::write(path, bytes).unwrap();
}

async fn populated(path: &Path, n: usize) {
    let store = SqliteStore::open(path).await.unwrap();
    store
        .import(
            (0..n)
                .map(|i| record(&format!("host{i}.example.com")))
                .collect(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_corrupted_database_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    populated(&path, 2000).await;
    corrupt(&path);
    let err = open_err(&path).await;
    let text = err.to_string();
    assert!(
        text.contains("corrupt") && text.contains(".recover"),
        "{text}"
    );
    assert!(!err.is_retryable());
    // Without the check at open, the first query that meets the damage says so.
    let store = SqliteStore::builder(&path)
        .with_integrity_check(false)
        .open()
        .await
        .expect("the header is intact, so the database opens");
    let err = store
        .list_all()
        .await
        .expect_err("listing a corrupted table must fail");
    assert!(err.to_string().contains("corrupt"), "{err}");
}

/// Tools this test needs; see DDNS_REQUIRE_INTEGRATION in the README.
fn require(what: &str, why: &str) {
    if std::env::var("DDNS_REQUIRE_INTEGRATION").as_deref() == Ok("1") {
        panic!("{what} is required for this test ({why}); install it or run as root");
    }
    println!("SKIPPED: {what} unavailable ({why})");
}

#[tokio::test]
async fn a_read_only_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    drop(SqliteStore::open(&path).await.unwrap());
    // Root ignores file modes, so make the file immutable instead.
    let status = std::process::Command::new("chattr")
        .arg("+i")
        .arg(&path)
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        return require("chattr +i (root on ext4)", "to make the database read-only");
    }
    let result = SqliteStore::open(&path).await;
    std::process::Command::new("chattr")
        .arg("-i")
        .arg(&path)
        .status()
        .unwrap();
    let err = result.expect_err("a read-only database must be refused");
    let text = err.to_string();
    assert!(
        text.contains("read-only") && text.contains(&path.display().to_string()),
        "{text}"
    );
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
}

#[tokio::test]
async fn a_locked_database_is_busy_and_retryable() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let store = SqliteStore::builder(&path)
        .with_busy_timeout(Duration::from_millis(100))
        .open()
        .await
        .unwrap();
    store.create(&record("h.example.com")).await.unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let access = AccessUpdate {
        source: "198.51.100.7".parse().unwrap(),
        at: Timestamp::now(),
    };
    let err = store
        .record_access(&key("h.example.com", RecordType::A), access)
        .await
        .expect_err("the write must time out");
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("busy"), "{err}");
    other.execute_batch("ROLLBACK").unwrap();
    store
        .record_access(&key("h.example.com", RecordType::A), access)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_lose_no_update_and_readers_see_whole_rows() {
    const RECORDS: usize = 8;
    const ROUNDS: u32 = 60;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::builder(db(&dir))
            .with_readers(3)
            .open()
            .await
            .unwrap(),
    );
    let hosts: Vec<String> = (0..RECORDS).map(|i| format!("c{i}.example.com")).collect();
    for h in &hosts {
        store.create(&record(h)).await.unwrap();
    }
    let config_for = |round: u32| {
        RecordConfig::new(SharedSecret::new(format!("s{round}")))
            .with_ttl(round + 1)
            .with_comment(format!("round {round}"))
    };
    let mut tasks = Vec::new();
    for h in &hosts {
        let k = key(h, RecordType::A);
        // One task per kind of write, per record, all at once.
        let (s, kk) = (store.clone(), k.clone());
        tasks.push(tokio::spawn(async move {
            for round in 0..ROUNDS {
                let source = IpAddr::from([198, 51, 100, round as u8]);
                let at = Timestamp::from_unix_micros(i64::from(round));
                s.record_access(&kk, AccessUpdate { source, at })
                    .await
                    .unwrap();
            }
        }));
        let (s, kk) = (store.clone(), k.clone());
        tasks.push(tokio::spawn(async move {
            // The only writer of this record's address: it knows what it
            // wrote last, so every compare-and-set must win.
            let mut previous = None;
            for round in 0..ROUNDS {
                let ip_address = IpAddr::from([203, 0, 113, round as u8]);
                let at = Timestamp::from_unix_micros(1_000 + i64::from(round));
                let change = ChangeUpdate::address(previous, ip_address, at);
                assert!(s.record_change(&kk, change).await.unwrap());
                previous = Some(ip_address);
            }
        }));
        let (s, kk) = (store.clone(), k.clone());
        tasks.push(tokio::spawn(async move {
            for round in 0..ROUNDS {
                s.update_config(&kk, &config_for(round)).await.unwrap();
            }
        }));
        let (s, kk) = (store.clone(), k.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..ROUNDS {
                let r = s.get(&kk).await.unwrap().unwrap();
                // A config is written whole: its fields always agree.
                if let Some(ttl) = r.config.ttl {
                    assert_eq!(r.config.comment, Some(format!("round {}", ttl - 1)));
                    assert_eq!(
                        r.config.shared_secret,
                        SharedSecret::new(format!("s{}", ttl - 1))
                    );
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let last = ROUNDS - 1;
    for h in &hosts {
        let r = store.get(&key(h, RecordType::A)).await.unwrap().unwrap();
        assert_eq!(
            r.state.last_accessed,
            Some(IpAddr::from([198, 51, 100, last as u8])),
            "{h}"
        );
        assert_eq!(
            r.state.last_checked,
            Some(Timestamp::from_unix_micros(i64::from(last)))
        );
        assert_eq!(
            r.state.address(),
            Some(IpAddr::from([203, 0, 113, last as u8])),
            "{h}"
        );
        assert_eq!(
            r.state.last_updated,
            Some(Timestamp::from_unix_micros(1_000 + i64::from(last)))
        );
        assert_eq!(r.config, config_for(last), "{h}");
    }
    assert_eq!(store.integrity_check().await.unwrap(), ["ok"]);
}

#[tokio::test]
async fn import_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(db(&dir)).await.unwrap();
    let err = store
        .import(vec![
            record("a.example.com"),
            record("b.example.com"),
            record("a.example.com"),
        ])
        .await
        .expect_err("a repeated key must fail the import");
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    assert!(store.list_all().await.unwrap().is_empty());
    assert_eq!(
        store.import(vec![record("a.example.com")]).await.unwrap(),
        1
    );
}

#[test]
fn works_without_a_tokio_runtime() {
    // Embedders on other executors: calls run inline.
    let dir = tempfile::tempdir().unwrap();
    let store = futures_lite_block_on(SqliteStore::open(db(&dir))).unwrap();
    futures_lite_block_on(store.create(&record("h.example.com"))).unwrap();
    assert!(
        futures_lite_block_on(store.get(&key("h.example.com", RecordType::A)))
            .unwrap()
            .is_some()
    );
}

/// A minimal executor for a future that never waits (the store runs inline
/// without a runtime).
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

#[tokio::test]
async fn the_database_and_its_wal_and_shm_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let store = SqliteStore::open(&path).await.unwrap();
    store.create(&record("private.example.com")).await.unwrap();
    let sidecar = |suffix: &str| PathBuf::from(format!("{}{suffix}", path.display()));
    for file in [path.clone(), sidecar("-wal"), sidecar("-shm")] {
        assert!(
            file.exists(),
            "{} exists while the store is open",
            file.display()
        );
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

#[tokio::test]
async fn a_database_others_can_read_is_refused_naming_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    drop(SqliteStore::open(&path).await.unwrap());
    for readable in [0o640, 0o604, 0o644] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(readable)).unwrap();
        let err = open_err(&path).await;
        let text = err.to_string();
        assert!(
            text.contains(&format!("chmod 600 {}", path.display())) && text.contains("other users"),
            "{readable:o}: {text}"
        );
        assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
    }
    private(&path);
    assert!(SqliteStore::open(&path).await.is_ok(), "0600 opens again");
}

#[tokio::test]
async fn replaced_and_removed_secrets_do_not_linger_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let old = "old-secret-that-must-vanish-7f3a9c";
    {
        let store = SqliteStore::open(&path).await.unwrap();
        let k = key("rotated.example.com", RecordType::A);
        store
            .create(&Record::new(
                k.clone(),
                RecordConfig::new(SharedSecret::new(old)),
            ))
            .await
            .unwrap();
        let gone = key("removed.example.com", RecordType::A);
        store
            .create(&Record::new(
                gone.clone(),
                RecordConfig::new(SharedSecret::new(format!("{old}-2"))),
            ))
            .await
            .unwrap();
        store
            .update_config(&k, &RecordConfig::new(SharedSecret::new("new-secret")))
            .await
            .unwrap();
        store.delete(&gone).await.unwrap();
    }
    // The last connection closed: the WAL was checkpointed into the file.
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    let mut bytes = std::fs::read(&path).unwrap();
    if let Ok(more) = std::fs::read(&wal) {
        bytes.extend(more);
    }
    let found = bytes.windows(old.len()).any(|w| w == old.as_bytes());
    assert!(
        !found,
        "the old secret is still in the database's free space"
    );
    assert!(
        bytes.windows(10).any(|w| w == b"new-secret"),
        "the new secret is stored"
    );
}

#[tokio::test]
async fn garbled_flags_fail_closed_and_an_empty_secret_reads_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    // Opening runs quick_check, which refuses a table that breaks its CHECK
    // constraints; a row garbled while the store runs is read fail-closed.
    let store = SqliteStore::open(&path).await.unwrap();
    store.create(&record("fine.example.com")).await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "PRAGMA ignore_check_constraints = ON;
         INSERT INTO records (hostname, record_type, shared_secret, lock_record, allow_internal,
             read_privilege, require_signed)
         VALUES ('garbled.example.com.', 'A', '', 2, 7, -1, 5);",
    )
    .unwrap();
    drop(conn);
    let r = store
        .get(&key("garbled.example.com", RecordType::A))
        .await
        .unwrap()
        .expect("the row is read, not an error");
    assert!(
        r.config.lock_record,
        "a lock that is not 0 or 1 reads as locked"
    );
    assert!(r.config.require_signed, "likewise require_signed");
    assert!(
        !r.config.allow_internal && !r.config.read_privilege,
        "permissions read as off"
    );
    assert!(r.config.shared_secret.is_empty());
    let all = store.list_all().await.unwrap();
    assert!(
        all.len() == 2 && all.iter().any(|x| x.key == r.key),
        "the whole table is still listed: {all:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_services_on_one_file_converge_within_one_more_request_each() {
    let dir = tempfile::tempdir().unwrap();
    let first = SqliteStore::open(db(&dir)).await.unwrap();
    let second = SqliteStore::open(db(&dir)).await.unwrap();
    conformance::shared_store(Arc::new(first), Arc::new(second), 100).await;
}

/// A database as version 3 (before prefix followers) left it.
const VERSION_3: &str = r"
    CREATE TABLE records (
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
    CREATE INDEX records_discovery ON records (shared_secret) WHERE read_privilege = 1;
    INSERT INTO records (hostname, record_type, shared_secret, comment, ip_address)
    VALUES ('nas.example.com.', 'AAAA', 'nas-secret', 'the NAS', '2001:db8:1:2300:211:32ff:fe12:3456');
    PRAGMA user_version = 3;
";

#[tokio::test]
async fn a_version_3_database_is_migrated_and_its_records_can_follow_a_prefix() {
    use ddns_core::prefix::PrefixFollow;
    let (dir, store) = open_written_by(VERSION_3).await;
    let nas = key("nas.example.com", RecordType::Aaaa);
    let before = store.get(&nas).await.unwrap().expect("the row survives");
    assert_eq!(before.config.follow, None, "old rows follow nothing");
    assert_eq!(before.config.comment.as_deref(), Some("the NAS"));
    let router = Hostname::parse("router.example.com").unwrap();
    assert!(store.followers(&router).await.unwrap().is_empty());

    let follow = PrefixFollow::new(router.clone(), "::211:32ff:fe12:3456".parse().unwrap());
    let config = before.config.clone().with_follow(follow.clone());
    store.update_config(&nas, &config).await.unwrap();
    drop(store);
    let store = SqliteStore::open(db(&dir)).await.unwrap();
    let after = store.get(&nas).await.unwrap().unwrap();
    assert_eq!(after.config.follow, Some(follow));
    assert_eq!(after.state, before.state, "the address is kept");
    let followers = store.followers(&router).await.unwrap();
    assert_eq!(followers, vec![after.clone()]);
    let other = Hostname::parse("other.example.com").unwrap();
    assert!(store.followers(&other).await.unwrap().is_empty());

    // Clearing it makes the record an ordinary one again.
    let mut plain = after.config.clone();
    plain.follow = None;
    store.update_config(&nas, &plain).await.unwrap();
    assert!(store.followers(&router).await.unwrap().is_empty());
    let conn = rusqlite::Connection::open(db(&dir)).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[tokio::test]
async fn a_follow_half_set_by_hand_is_a_row_error() {
    let (_dir, store) = open_written_by(VERSION_3).await;
    drop(store);
    let conn = rusqlite::Connection::open(db(&_dir)).unwrap();
    conn.execute(
        "UPDATE records SET prefix_from = 'router.example.com.' WHERE record_type = 'AAAA'",
        [],
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(db(&_dir)).await.unwrap();
    let error = store
        .get(&key("nas.example.com", RecordType::Aaaa))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("prefix_from"), "{error}");
}
