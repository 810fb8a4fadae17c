//! DNS over TCP, bounded: at most [`TcpLimits`]' number of connections at
//! once (more are closed at accept), and each one closed when no complete
//! query arrives within the idle time. hickory's own TCP listener bounds
//! idle time only, so a few thousand idle connections could hold every
//! descriptor; this loop answers with the same catalog as UDP.
//!
//! Zone transfers are answered here, before the catalog: hickory's
//! catalog sends one message per request, and a zone needs many. A
//! transfer of a zone's apex goes to [`crate::transfer`], which decides
//! whether the peer is a secondary and makes the messages; the rest reach
//! the catalog, which refuses them.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use hickory_server::net::NetError;
use hickory_server::net::runtime::TokioTime;
use hickory_server::net::xfer::Protocol;
use hickory_server::proto::rr::Record;
use hickory_server::proto::serialize::binary::BinEncoder;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::{Catalog, MessageResponse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::data::ZoneData;
use crate::key::unix_now;
use crate::transfer::{self, Axfr};

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
pub(crate) async fn serve(
    listener: TcpListener,
    catalog: Arc<Catalog>,
    zones: Arc<[Arc<ZoneData>]>,
    limits: TcpLimits,
) {
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
        let catalog = catalog.clone();
        let zones = zones.clone();
        connections.spawn(async move {
            connection(stream, peer, &catalog, &zones, limits.idle_timeout).await;
            drop(slot);
        });
    }
}

/// Answers the queries of one connection, in order, until it closes, sends
/// something that is not a DNS message, or stays idle too long.
async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    catalog: &Catalog,
    zones: &[Arc<ZoneData>],
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
        let Ok(request) = Request::from_bytes(message, peer, Protocol::Tcp) else {
            return;
        };
        if let Some(zone) = transfer::zone_of(zones, &request) {
            if !send_transfer(&mut stream, zone, &request, idle).await {
                return;
            }
            continue;
        }
        let answer = Collected::default();
        catalog
            .handle_request::<_, TokioTime>(&request, answer.clone())
            .await;
        let Some(bytes) = answer.take() else {
            continue;
        };
        if !write_message(&mut stream, &bytes, idle).await {
            return;
        }
    }
}

/// Answers the transfer `request` of `zone`: the zone, in as many
/// messages as it takes, or the refusal. False when the connection must
/// close (it failed, or the transfer could not be finished).
async fn send_transfer(
    stream: &mut TcpStream,
    zone: &ZoneData,
    request: &Request,
    idle: Duration,
) -> bool {
    let now = unix_now();
    let signing = match transfer::authorize(zone.config().secondaries(), request, now) {
        Ok(signing) => signing,
        Err(refusal) => {
            return match transfer::refusal(request, refusal) {
                Some(bytes) => write_message(stream, &bytes, idle).await,
                None => false,
            };
        }
    };
    let mut axfr = Axfr::new(zone, request, signing, now);
    let mut messages = 0u32;
    while let Some(message) = axfr.next_message() {
        match message {
            Ok(bytes) => {
                if !write_message(stream, &bytes, idle).await {
                    info!(zone = %zone.config().origin(), peer = %request.src(), "zone transfer cut off: the secondary stopped reading");
                    return false;
                }
                messages += 1;
            }
            Err(reason) => {
                warn!(zone = %zone.config().origin(), %reason, "zone transfer stopped: a message cannot be encoded");
                return false;
            }
        }
    }
    info!(zone = %zone.config().origin(), peer = %request.src(), serial = axfr.serial(), messages, "zone transferred");
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

/// Keeps the encoded response of one request.
#[derive(Clone, Default)]
struct Collected(Arc<Mutex<Option<Vec<u8>>>>);

impl Collected {
    fn take(&self) -> Option<Vec<u8>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

#[async_trait]
impl ResponseHandler for Collected {
    async fn send_response<'a>(
        &mut self,
        response: MessageResponse<
            '_,
            'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
        >,
    ) -> Result<ResponseInfo, NetError> {
        let mut bytes = Vec::with_capacity(512);
        let info = response.destructive_emit(&mut BinEncoder::new(&mut bytes))?;
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(bytes);
        Ok(info)
    }
}
