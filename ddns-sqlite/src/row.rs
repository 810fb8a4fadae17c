//! Conversions between [`Record`]s and rows of the `records` table.
//!
//! Configuration columns must be valid (a record with a bad name or type is
//! an error naming the row). State columns are informational and written by
//! the system; a value an operator garbled by hand reads as absent.

use std::path::Path;

use ddns_core::prefix::{InterfaceId, PrefixFollow};
use ddns_core::{
    Hostname, Record, RecordConfig, RecordKey, RecordName, RecordState, RecordType, RecordValue,
    SharedSecret,
};
use rusqlite::types::Value;
use rusqlite::{Connection, Row, params};

use crate::error::SqliteError;

/// The columns, in the order [`RawRow::read`] expects them.
pub(crate) const COLUMNS: &str = "hostname, record_type, shared_secret, ttl, lock_record, \
     allow_internal, read_privilege, mac_address, comment, ip_address, last_accessed, \
     last_checked, last_updated, require_signed, last_signed, txt_values, prefix_from, \
     interface_id";

/// One row as SQLite holds it, before validation.
pub(crate) struct RawRow {
    hostname: String,
    record_type: String,
    shared_secret: Option<String>,
    ttl: Option<i64>,
    lock_record: Value,
    allow_internal: Value,
    read_privilege: Value,
    mac_address: Option<String>,
    comment: Option<String>,
    ip_address: Option<String>,
    last_accessed: Option<String>,
    last_checked: Option<String>,
    last_updated: Option<String>,
    require_signed: Value,
    last_signed: Option<i64>,
    txt_values: Option<String>,
    prefix_from: Option<String>,
    interface_id: Option<String>,
}

/// A flag column: 0 and 1 (SQLite's booleans) read as themselves, anything
/// else as `fail_closed`, with a warning naming the record.
fn flag(value: &Value, column: &str, hostname: &str, record_type: &str, fail_closed: bool) -> bool {
    match value {
        Value::Integer(0) => false,
        Value::Integer(1) => true,
        other => {
            tracing::warn!(
                record = %format_args!("{hostname} {record_type}"),
                column,
                value = ?other,
                read_as = fail_closed,
                "a flag of the record is not 0 or 1; it is read as the safe value, fix the row with sqlite3"
            );
            fail_closed
        }
    }
}

impl RawRow {
    /// Reads the [`COLUMNS`] of `row`.
    pub(crate) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            hostname: row.get(0)?,
            record_type: row.get(1)?,
            shared_secret: row.get(2)?,
            ttl: row.get(3)?,
            lock_record: row.get(4)?,
            allow_internal: row.get(5)?,
            read_privilege: row.get(6)?,
            mac_address: row.get(7)?,
            comment: row.get(8)?,
            ip_address: row.get(9)?,
            last_accessed: row.get(10)?,
            last_checked: row.get(11)?,
            last_updated: row.get(12)?,
            require_signed: row.get(13)?,
            last_signed: row.get(14)?,
            txt_values: row.get(15)?,
            prefix_from: row.get(16)?,
            interface_id: row.get(17)?,
        })
    }

    /// Validates the row into a [`Record`].
    pub(crate) fn into_record(self, path: &Path) -> Result<Record, SqliteError> {
        let invalid = |column, value: &str| SqliteError::InvalidRow {
            path: path.to_path_buf(),
            column,
            value: value.chars().take(80).collect(),
        };
        let name =
            RecordName::parse(&self.hostname).map_err(|_| invalid("hostname", &self.hostname))?;
        let record_type: RecordType = self
            .record_type
            .parse()
            .map_err(|_| invalid("record_type", &self.record_type))?;
        let key = RecordKey::try_new(name, record_type)
            .map_err(|_| invalid("hostname", &self.hostname))?;
        let flag = |value: &Value, column, fail_closed| {
            flag(
                value,
                column,
                &self.hostname,
                &self.record_type,
                fail_closed,
            )
        };
        let mut config =
            RecordConfig::new(SharedSecret::new(self.shared_secret.unwrap_or_default()))
                .with_lock(flag(&self.lock_record, "lock_record", true))
                .with_allow_internal(flag(&self.allow_internal, "allow_internal", false))
                .with_read_privilege(flag(&self.read_privilege, "read_privilege", false))
                .with_require_signed(flag(&self.require_signed, "require_signed", true));
        if let Some(ttl) = self.ttl {
            let ttl = u32::try_from(ttl).map_err(|_| invalid("ttl", &ttl.to_string()))?;
            config = config.with_ttl(ttl);
        }
        if let Some(mac) = self.mac_address {
            config = config.with_mac_address(mac);
        }
        if let Some(comment) = self.comment {
            config = config.with_comment(comment);
        }
        match (self.prefix_from, self.interface_id) {
            (None, None) => {}
            (Some(from), Some(id)) if record_type == RecordType::Aaaa => {
                let from = Hostname::parse(&from).map_err(|_| invalid("prefix_from", &from))?;
                let id: InterfaceId = id.parse().map_err(|_| invalid("interface_id", &id))?;
                config = config.with_follow(PrefixFollow::new(from, id));
            }
            (from, id) => {
                let shown = from.or(id).unwrap_or_default();
                return Err(invalid("prefix_from", &shown));
            }
        }
        let mut state = RecordState::default();
        let stored = if record_type.is_address() {
            self.ip_address
        } else {
            self.txt_values
        };
        state.values = stored
            .and_then(|s| RecordValue::from_stored_form(record_type, &s).ok())
            .unwrap_or_default();
        state.last_accessed = self.last_accessed.and_then(|s| s.parse().ok());
        state.last_checked = self.last_checked.and_then(|s| s.parse().ok());
        state.last_updated = self.last_updated.and_then(|s| s.parse().ok());
        state.last_signed = self.last_signed.and_then(|t| u64::try_from(t).ok());
        Ok(Record::new(key, config).with_state(state))
    }
}

/// Inserts `record`, configuration and state; a clash of keys is a
/// constraint violation.
pub(crate) fn insert(conn: &Connection, record: &Record) -> rusqlite::Result<usize> {
    let c = &record.config;
    let s = &record.state;
    let mut stmt = conn.prepare_cached(&format!(
        "INSERT INTO records ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
    ))?;
    stmt.execute(params![
        record.key.name().as_str(),
        record.key.record_type().as_str(),
        c.shared_secret.expose_secret(),
        c.ttl,
        c.lock_record,
        c.allow_internal,
        c.read_privilege,
        c.mac_address,
        c.comment,
        stored_if(record, true),
        s.last_accessed.map(|a| a.to_string()),
        s.last_checked.map(|t| t.to_string()),
        s.last_updated.map(|t| t.to_string()),
        c.require_signed,
        s.last_signed.map(guard_value).transpose()?,
        stored_if(record, false),
        c.follow.as_ref().map(|f| f.prefix_from.as_str().to_owned()),
        c.follow.as_ref().map(|f| f.interface_id.to_string()),
    ])
}

/// The stored form of `record`'s values when they go in the address
/// column (`address`) or the TXT one (`!address`); `None` for the other.
fn stored_if(record: &Record, address: bool) -> Option<String> {
    (record.key.record_type().is_address() == address)
        .then(|| RecordValue::stored_form(&record.state.values))
        .flatten()
}

/// A replay-guard timestamp as SQLite stores it (a signed 64-bit integer).
pub(crate) fn guard_value(timestamp: u64) -> rusqlite::Result<i64> {
    i64::try_from(timestamp).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}
