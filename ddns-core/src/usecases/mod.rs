//! The use cases: a client's requests (`service`: updates, discovery, ACME
//! challenges, RFC 2136 with a record's key) and the operator's
//! record administration ([`admin`]), with their typed requests and
//! outcomes.

pub mod admin;
pub(crate) mod outcome;
pub(crate) mod record_lock;
pub(crate) mod request;
pub(crate) mod service;
