//! The ports the use cases decide through: where records live
//! ([`store`]), what changes DNS ([`provider`]) and the per-host request
//! budget ([`budget`]), with helpers for writing a provider ([`batching`]).

pub mod batching;
pub(crate) mod budget;
pub(crate) mod provider;
pub(crate) mod store;
