//! Connection caps shared by every HTTP(S) listener: a global count, and
//! a count per source prefix (trusted proxies exempt), so that a few
//! thousand idle connections from a few addresses cannot take every slot.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use ddns_core::protocols::forwarded::TrustedProxies;
use ipnet::IpNet;
use tokio::sync::Semaphore;

use crate::limits::source_prefix;

/// Open connections per source prefix, capped; trusted proxies are not
/// counted.
#[derive(Debug)]
pub(crate) struct SourceConnections {
    open: Mutex<HashMap<IpNet, usize>>,
    cap: usize,
    prefixes: (u8, u8),
    exempt: TrustedProxies,
}

/// The caps every listener shares: all connections, and per source.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionCaps {
    pub(crate) all: Arc<Semaphore>,
    pub(crate) per_source: Arc<SourceConnections>,
}

/// One counted connection; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct ConnectionSlot {
    owner: Arc<SourceConnections>,
    peer: Option<IpNet>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        if let Some(peer) = self.peer {
            let mut open = self
                .owner
                .open
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(count) = open.get_mut(&peer) {
                *count -= 1;
                if *count == 0 {
                    open.remove(&peer);
                }
            }
        }
    }
}

impl SourceConnections {
    /// At most `cap` connections per source, sources keyed by the IPv4 and
    /// IPv6 prefix lengths `prefixes` (those of `[limits]`).
    pub(crate) fn new(cap: usize, prefixes: (u8, u8), exempt: TrustedProxies) -> Self {
        Self {
            open: Mutex::new(HashMap::new()),
            cap,
            prefixes,
            exempt,
        }
    }

    /// A slot for a connection from `peer`, or `None` when its source has
    /// `cap` connections open already.
    pub(crate) fn take(self: &Arc<Self>, peer: IpAddr) -> Option<ConnectionSlot> {
        if self.exempt.trusts(peer) {
            return Some(ConnectionSlot {
                owner: self.clone(),
                peer: None,
            });
        }
        let peer = source_prefix(peer, self.prefixes.0, self.prefixes.1);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(peer).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(ConnectionSlot {
            owner: self.clone(),
            peer: Some(peer),
        })
    }
}
