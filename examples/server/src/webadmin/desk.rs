//! The operations the API and the page offer, each checked against the
//! caller's token scope before it reaches the core's [`RecordAdmin`], and
//! each change logged with the token's name.

use ddns_core::admin::{AddRecord, AdminError, Changed, RecordAdmin, UpdateRecord};
use ddns_core::prefix::PrefixFollow;
use ddns_core::{Hostname, Record, RecordName, RecordType, TxtValue};
use tracing::info;

use crate::tokens::Caller;

/// Why an operation was not done.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DeskError {
    /// The token's scope does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// A value the core never saw is unusable (a name, a type).
    #[error("{0}")]
    Input(String),
    /// The core refused or failed.
    #[error(transparent)]
    Admin(#[from] AdminError),
}

/// The scope-checked operations.
#[derive(Debug)]
pub(crate) struct Desk {
    admin: RecordAdmin,
}

/// Refuses `name` unless the caller's scope covers it.
fn may_read(caller: &Caller, name: &RecordName) -> Result<(), DeskError> {
    if caller.scope.covers(name) {
        return Ok(());
    }
    let under = caller
        .scope
        .under
        .as_ref()
        .map_or("", |h| h.without_trailing_dot());
    Err(DeskError::Forbidden(format!(
        "the token {:?} manages only names under {under}; {} is outside it",
        caller.name,
        name.without_trailing_dot()
    )))
}

/// Refuses changes by read-only tokens and to names outside the scope.
fn may_change(caller: &Caller, name: &RecordName) -> Result<(), DeskError> {
    if caller.scope.read_only {
        return Err(DeskError::Forbidden(format!(
            "the token {:?} is read-only; create a read-write token (ddns-server admin-token create NAME) to make changes",
            caller.name
        )));
    }
    may_read(caller, name)
}

/// Refuses changes to `host` the caller may not make, and a prefix source
/// it may not see; the host's name.
fn may_change_host(
    caller: &Caller,
    host: &Hostname,
    follow: Option<&PrefixFollow>,
) -> Result<RecordName, DeskError> {
    let name = AsRef::<RecordName>::as_ref(host).clone();
    may_change(caller, &name)?;
    if let Some(follow) = follow {
        may_read(caller, follow.prefix_from.as_ref())?;
    }
    Ok(name)
}

/// Logs the outcome of a change made with `caller`'s token.
fn logged(
    caller: &Caller,
    action: &'static str,
    name: &RecordName,
    result: Result<Changed, AdminError>,
) -> Result<Changed, DeskError> {
    match &result {
        Ok(changed) => info!(
            token = %caller.name,
            action,
            name = %name,
            records = changed.keys.len(),
            "admin: change made"
        ),
        Err(e) => {
            info!(token = %caller.name, action, name = %name, error = %e, "admin: change refused")
        }
    }
    Ok(result?)
}

impl Desk {
    pub(crate) fn new(admin: RecordAdmin) -> Self {
        Self { admin }
    }

    /// The records the caller may see whose name (or comment) contains
    /// `query` (any case), sorted by name and type.
    pub(crate) async fn list(
        &self,
        caller: &Caller,
        query: Option<&str>,
    ) -> Result<Vec<Record>, DeskError> {
        let query = query
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_ascii_lowercase);
        let mut records: Vec<Record> = self
            .admin
            .list()
            .await?
            .into_iter()
            .filter(|r| caller.scope.covers(r.key.name()))
            .filter(|r| match &query {
                None => true,
                Some(q) => {
                    r.key
                        .name()
                        .as_str()
                        .to_ascii_lowercase()
                        .contains(q.as_str())
                        || r.config
                            .comment
                            .as_deref()
                            .is_some_and(|c| c.to_lowercase().contains(q.as_str()))
                }
            })
            .collect();
        records.sort_by(|a, b| {
            (a.key.name().as_str(), a.key.record_type())
                .cmp(&(b.key.name().as_str(), b.key.record_type()))
        });
        Ok(records)
    }

    /// The records of `types` at `name`.
    pub(crate) async fn show(
        &self,
        caller: &Caller,
        name: &RecordName,
        types: &[RecordType],
    ) -> Result<Vec<Record>, DeskError> {
        may_read(caller, name)?;
        Ok(self.admin.show(name, types).await?)
    }

    /// Adds a host's records.
    pub(crate) async fn add(
        &self,
        caller: &Caller,
        request: AddRecord,
    ) -> Result<Changed, DeskError> {
        let name = may_change_host(caller, &request.hostname, request.follow.as_ref())?;
        logged(caller, "add", &name, self.admin.add(request).await)
    }

    /// Changes settings of a host's records.
    pub(crate) async fn update(
        &self,
        caller: &Caller,
        request: UpdateRecord,
    ) -> Result<Changed, DeskError> {
        let follow = request.follow.as_ref().and_then(Option::as_ref);
        let name = may_change_host(caller, &request.hostname, follow)?;
        logged(caller, "update", &name, self.admin.update(request).await)
    }

    /// Locks or unlocks records.
    pub(crate) async fn set_lock(
        &self,
        caller: &Caller,
        name: &RecordName,
        types: &[RecordType],
        locked: bool,
    ) -> Result<Changed, DeskError> {
        may_change(caller, name)?;
        let action = if locked { "lock" } else { "unlock" };
        logged(
            caller,
            action,
            name,
            self.admin.set_lock(name, types, locked).await,
        )
    }

    /// Gives records a new generated secret.
    pub(crate) async fn rotate(
        &self,
        caller: &Caller,
        name: &RecordName,
        types: &[RecordType],
    ) -> Result<Changed, DeskError> {
        may_change(caller, name)?;
        let hostname = ddns_core::Hostname::parse(name.as_str()).map_err(|e| {
            DeskError::Input(format!("{name}: only a host's records have secrets: {e}"))
        })?;
        logged(
            caller,
            "rotate-secret",
            name,
            self.admin.rotate_secret(hostname, types).await,
        )
    }

    /// Removes records, from DNS first.
    pub(crate) async fn remove(
        &self,
        caller: &Caller,
        name: &RecordName,
        types: &[RecordType],
    ) -> Result<Changed, DeskError> {
        may_change(caller, name)?;
        logged(caller, "remove", name, self.admin.remove(name, types).await)
    }

    /// Sets the TXT RRset at `name`.
    pub(crate) async fn set_txt(
        &self,
        caller: &Caller,
        name: &RecordName,
        values: Vec<TxtValue>,
        ttl: Option<u32>,
    ) -> Result<Changed, DeskError> {
        may_change(caller, name)?;
        logged(
            caller,
            "txt-set",
            name,
            self.admin.set_txt(name, values, ttl).await,
        )
    }
}
