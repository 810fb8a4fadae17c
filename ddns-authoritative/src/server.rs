//! Running the DNS server: UDP and TCP listeners over one or more zones,
//! and the NOTIFY senders of the zones' secondaries. UDP is hickory's; TCP
//! is the bounded loop of the `tcp` module, which also answers zone
//! transfers.

use std::net::SocketAddr;
use std::sync::Arc;

use hickory_server::Server;
use hickory_server::zone_handler::Catalog;
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinSet;

use crate::data::ZoneData;
use crate::error::AuthoritativeError;
use crate::respond::{self, Responder};
use crate::tcp::{self, TcpLimits};
use crate::update::DnsUpdates;
use crate::{dnssec, notify};

/// A running authoritative DNS server for one or more zones.
///
/// ```no_run
/// use std::sync::Arc;
/// use ddns_authoritative::{DnsServer, ZoneConfig, ZoneData};
/// use ddns_core::Hostname;
///
/// # async fn run() -> ddns_core::Result<()> {
/// let zone = Arc::new(ZoneData::new(ZoneConfig::new(Hostname::parse("example.com").map_err(|e| ddns_core::Error::invalid_input(e.to_string()))?))?);
/// let server = DnsServer::bind(&["127.0.0.1:5353".parse().unwrap()], zone).await?;
/// println!("answering on {:?}", server.local_addrs());
/// server.shutdown().await;
/// # Ok(()) }
/// ```
pub struct DnsServer {
    server: Server<Catalog>,
    /// The TCP loops, the NOTIFY senders and the signature refreshers.
    tasks: JoinSet<()>,
    local_addrs: Vec<SocketAddr>,
}

impl std::fmt::Debug for DnsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsServer")
            .field("local_addrs", &self.local_addrs)
            .finish_non_exhaustive()
    }
}

impl DnsServer {
    /// Listens on UDP and TCP at each of `addrs` (port 0 picks a free port,
    /// the same for UDP and TCP of one address) and answers for `zone`.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::Unavailable`] naming the address that could not
    /// be bound.
    pub async fn bind(addrs: &[SocketAddr], zone: Arc<ZoneData>) -> ddns_core::Result<Self> {
        Self::bind_with(addrs, zone, TcpLimits::default()).await
    }

    /// [`DnsServer::bind`] with bounds on TCP connections: at most
    /// `tcp.max_connections()` at once (more are closed at accept), each
    /// closed after `tcp.idle_timeout()` without a query.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::Unavailable`] naming the address that could not
    /// be bound.
    pub async fn bind_with(
        addrs: &[SocketAddr],
        zone: Arc<ZoneData>,
        tcp: TcpLimits,
    ) -> ddns_core::Result<Self> {
        Self::bind_zones(addrs, &[zone], tcp).await
    }

    /// [`DnsServer::bind_with`] for several zones: each answers with its
    /// own SOA, NS and serial; a name in a zone nested in another is
    /// answered by the inner zone; names in none are REFUSED.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] for no zone or a zone given
    /// twice; [`ddns_core::Error::Unavailable`] naming the address that
    /// could not be bound.
    pub async fn bind_zones(
        addrs: &[SocketAddr],
        zones: &[Arc<ZoneData>],
        tcp: TcpLimits,
    ) -> ddns_core::Result<Self> {
        Self::bind_zones_with_updates(addrs, zones, tcp, None).await
    }

    /// [`DnsServer::bind_zones`] that also accepts RFC 2136 UPDATE
    /// messages signed with the records' own TSIG keys, when `updates` is
    /// given ([`DnsUpdates`]); without it updates are REFUSED.
    ///
    /// # Errors
    ///
    /// As [`DnsServer::bind_zones`].
    pub async fn bind_zones_with_updates(
        addrs: &[SocketAddr],
        zones: &[Arc<ZoneData>],
        tcp: TcpLimits,
        updates: Option<DnsUpdates>,
    ) -> ddns_core::Result<Self> {
        let updates = updates.map(Arc::new);
        let mut server = Server::new(respond::catalog(zones, updates.clone())?);
        let responder = Arc::new(Responder::from_parts(
            respond::catalog(zones, updates)?,
            zones,
        ));
        let mut tasks = JoinSet::new();
        let mut local_addrs = Vec::new();
        for &addr in addrs {
            let (udp, listener, local) = bind_pair(addr).await?;
            server.register_socket(udp);
            tasks.spawn(tcp::serve(listener, responder.clone(), tcp));
            local_addrs.push(local);
        }
        for zone in zones {
            if zone.is_signed() {
                tasks.spawn(dnssec::keep_fresh(zone.clone()));
            }
            for secondary in zone.config().secondaries() {
                tasks.spawn(notify::follow(zone.clone(), secondary.clone()));
            }
        }
        Ok(Self {
            server,
            tasks,
            local_addrs,
        })
    }

    /// The addresses the server answers on (UDP and TCP alike).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// Stops listening and waits for queries in flight to be answered.
    pub async fn shutdown(mut self) {
        self.tasks.shutdown().await;
        // Errors here are from listeners already gone; nothing to add.
        let _ = self.server.shutdown_gracefully().await;
    }
}

/// Binds UDP and TCP on the same address and port, returning both and the
/// address they got. With port 0 the UDP port is chosen first and TCP takes
/// the same one, retrying a few times if another program holds it.
async fn bind_pair(
    addr: SocketAddr,
) -> Result<(UdpSocket, TcpListener, SocketAddr), AuthoritativeError> {
    let attempts = if addr.port() == 0 { 20 } else { 1 };
    let mut last = None;
    for _ in 0..attempts {
        let udp = UdpSocket::bind(addr)
            .await
            .map_err(|source| AuthoritativeError::Bind {
                addr,
                protocol: "udp",
                source,
            })?;
        let bound = udp
            .local_addr()
            .map_err(|source| AuthoritativeError::Bind {
                addr,
                protocol: "udp",
                source,
            })?;
        match TcpListener::bind(bound).await {
            Ok(tcp) => return Ok((udp, tcp, bound)),
            Err(source) => {
                last = Some(AuthoritativeError::Bind {
                    addr: bound,
                    protocol: "tcp",
                    source,
                });
            }
        }
    }
    Err(last.unwrap_or(AuthoritativeError::Bind {
        addr,
        protocol: "tcp",
        source: std::io::Error::other("no attempt was made"),
    }))
}
