//! DNS over TCP, bounded: at most [`TcpLimits`]' number of connections at
//! once (more are closed at accept), and each one closed when no complete
//! query arrives within the idle time. hickory's own TCP listener bounds
//! idle time only, so a few thousand idle connections could hold every
//! descriptor; this loop answers through [`crate::Responder`], with the
//! same catalog as UDP.
//!
//! Zone transfers are streamed from here: hickory's catalog sends one
//! message per request, and a zone needs many, made one at a time as the
//! secondary reads them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::net::xfer::Protocol;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::respond::{Answer, Responder};
use crate::transfer::Axfr;

/// Default cap on DNS TCP connections served at once.
pub const DEFAULT_TCP_MAX_CONNECTIONS: usize = 256;

/// Default time a DNS TCP connection may stay idle.
pub const DEFAULT_TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Bounds on the DNS server's TCP connections.
///
/// ```
/// use std::time::Duration;
/// use ddns_authoritative::TcpLimits;
/// let limits = TcpLimits::new(64, Duration::from_secs(5));
/// assert_eq!(limits.max_connections(), 64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpLimits {
    max_connections: usize,
    idle_timeout: Duration,
}

impl Default for TcpLimits {
    fn default() -> Self {
        Self::new(DEFAULT_TCP_MAX_CONNECTIONS, DEFAULT_TCP_IDLE_TIMEOUT)
    }
}

impl TcpLimits {
    /// At most `max_connections` at once (at least 1), each closed after
    /// `idle_timeout` without a query.
    pub fn new(max_connections: usize, idle_timeout: Duration) -> Self {
        Self {
            max_connections: max_connections.max(1),
            idle_timeout,
        }
    }

    /// Connections served at once.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// How long a connection may wait for its next query.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }
}

/// Accepts and serves connections on `listener` until the task is aborted.
pub(crate) async fn serve(listener: TcpListener, responder: Arc<Responder>, limits: TcpLimits) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut connections = JoinSet::new();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(_) => {
                // Out of descriptors and the like: pause, then go on.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Reap finished connections so the set stays small.
        while connections.try_join_next().is_some() {}
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let responder = responder.clone();
        connections.spawn(async move {
            connection(stream, peer, &responder, limits.idle_timeout).await;
            drop(slot);
        });
    }
}

/// Answers the queries of one connection, in order, until it closes, sends
/// something that is not a DNS message, or stays idle too long.
async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    responder: &Responder,
    idle: Duration,
) {
    loop {
        let mut length = [0u8; 2];
        if !matches!(
            tokio::time::timeout(idle, stream.read_exact(&mut length)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        let mut message = vec![0u8; usize::from(u16::from_be_bytes(length))];
        if !matches!(
            tokio::time::timeout(idle, stream.read_exact(&mut message)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        let sent = match responder.answer(message, peer, Protocol::Tcp).await {
            Answer::Message(bytes) => write_message(&mut stream, &bytes, idle).await,
            Answer::Transfer(axfr) => send_transfer(&mut stream, *axfr, peer, idle).await,
            Answer::Nothing => true,
            Answer::Unreadable => false,
        };
        if !sent {
            return;
        }
    }
}

/// Sends the messages of a zone transfer as they are made. False when the
/// connection must close (it failed, or the transfer could not be
/// finished).
async fn send_transfer(
    stream: &mut TcpStream,
    mut axfr: Axfr,
    peer: SocketAddr,
    idle: Duration,
) -> bool {
    let mut messages = 0u32;
    while let Some(message) = axfr.next_message() {
        match message {
            Ok(bytes) => {
                if !write_message(stream, &bytes, idle).await {
                    info!(zone = %axfr.zone(), %peer, "zone transfer cut off: the secondary stopped reading");
                    return false;
                }
                messages += 1;
            }
            Err(reason) => {
                warn!(zone = %axfr.zone(), %reason, "zone transfer stopped: a message cannot be encoded");
                return false;
            }
        }
    }
    info!(zone = %axfr.zone(), %peer, serial = axfr.serial(), messages, "zone transferred");
    true
}

/// Writes one DNS message with its two-byte length. False when it cannot
/// be framed or written within `idle`.
async fn write_message(stream: &mut TcpStream, bytes: &[u8], idle: Duration) -> bool {
    let Ok(length) = u16::try_from(bytes.len()) else {
        return false;
    };
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(bytes);
    matches!(
        tokio::time::timeout(idle, stream.write_all(&framed)).await,
        Ok(Ok(()))
    )
}
