//! The port through which a deployment limits how often each host name may
//! be changed: [`HostBudget`].
//!
//! The service spends from a host name's budget only for a request that has
//! proved its credential (a matching hash, password or signature, past the
//! replay guard), after every check that a stranger could fail. A stranger
//! who knows only the name, however fast it sends, therefore never touches
//! the budget that the owner's requests spend; what strangers send is
//! limited by their source address, outside the core.

use std::fmt;

use crate::domain::hostname::Hostname;

/// Budgets of requests per host name (token buckets, say).
///
/// # Contract
///
/// - [`HostBudget::spend`] is called once for each record a request proved
///   its credential for, before anything of that request is written; a
///   dual-stack update spends twice (once for the A and once for the AAAA
///   record).
/// - It must not block: it runs on the request path.
/// - An implementation keeps state only for names it is called with, which
///   are names of existing records.
pub trait HostBudget: Send + Sync + fmt::Debug {
    /// Takes one request from `hostname`'s budget; false when it is spent,
    /// and the request is refused with
    /// [`Failure::HostRateLimited`](crate::Failure::HostRateLimited).
    fn spend(&self, hostname: &Hostname) -> bool;
}
