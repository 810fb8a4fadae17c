//! Domain types: names, records and their values, zones, secrets, time,
//! and the rules that need no I/O (the hash token, signed requests, the
//! address and lock policy).

pub(crate) mod auth;
pub mod challenge;
pub(crate) mod grant;
pub(crate) mod hostname;
pub mod policy;
pub mod prefix;
pub(crate) mod record;
pub(crate) mod secret;
pub mod signed;
pub(crate) mod timestamp;
pub(crate) mod value;
pub(crate) mod zone;
