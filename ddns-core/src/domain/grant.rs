//! What an operator's TSIG key may change through RFC 2136 UPDATE, in the
//! manner of BIND's `update-policy` rules `name` (exactly one name) and
//! `subdomain` (a name and everything below it), each for some record
//! types. A record's own key needs no grant: its scope is fixed
//! (`DdnsService::dns_update`).
//!
//! ```
//! use ddns_core::{RecordKey, RecordName, RecordType, UpdateGrant};
//! let lan = UpdateGrant::subdomain(RecordName::parse("lan.example.com")?, vec![RecordType::A]);
//! let laptop = RecordKey::try_new(RecordName::parse("laptop.lan.example.com")?, RecordType::A)?;
//! assert!(lan.permits(&laptop));
//! let elsewhere = RecordKey::try_new(RecordName::parse("www.example.com")?, RecordType::A)?;
//! assert!(!lan.permits(&elsewhere));
//! let txt = RecordKey::txt(RecordName::parse("laptop.lan.example.com")?);
//! assert!(!lan.permits(&txt));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::domain::hostname::RecordName;
use crate::domain::record::{RecordKey, RecordType};

/// Which names a grant covers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrantScope {
    /// Exactly this name.
    Name(RecordName),
    /// This name and every name below it.
    Subdomain(RecordName),
}

/// One rule of an operator key: names and the record types at them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateGrant {
    scope: GrantScope,
    types: Vec<RecordType>,
}

impl UpdateGrant {
    /// The records of `types` at exactly `name`.
    pub fn name(name: RecordName, types: Vec<RecordType>) -> Self {
        Self {
            scope: GrantScope::Name(name),
            types,
        }
    }

    /// The records of `types` at `name` and every name below it.
    pub fn subdomain(name: RecordName, types: Vec<RecordType>) -> Self {
        Self {
            scope: GrantScope::Subdomain(name),
            types,
        }
    }

    /// The names covered.
    pub fn scope(&self) -> &GrantScope {
        &self.scope
    }

    /// The types covered.
    pub fn types(&self) -> &[RecordType] {
        &self.types
    }

    /// True when the grant covers `key`'s name and type.
    pub fn permits(&self, key: &RecordKey) -> bool {
        if !self.types.contains(&key.record_type()) {
            return false;
        }
        let name = key.name().as_str();
        match &self.scope {
            GrantScope::Name(exact) => name == exact.as_str(),
            GrantScope::Subdomain(base) => {
                name == base.as_str()
                    || name
                        .strip_suffix(base.as_str())
                        .is_some_and(|rest| rest.ends_with('.'))
            }
        }
    }
}
