//! One DNS message in, its answer out, without sockets: the one path the
//! TCP loop, the fuzz target and an embedder with its own transport share.
//! Queries and updates go to hickory's catalog over the zones' handlers;
//! a zone transfer over TCP goes to [`crate::transfer`].

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use hickory_server::net::NetError;
use hickory_server::net::runtime::TokioTime;
use hickory_server::net::xfer::Protocol;
use hickory_server::proto::rr::Record;
use hickory_server::proto::serialize::binary::BinEncoder;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::{Catalog, MessageResponse, ZoneHandler as _};

use crate::data::ZoneData;
use crate::handler::ZoneAnswerer;
use crate::key::unix_now;
use crate::transfer::{self, Axfr};
use crate::update::DnsUpdates;

/// What one request is answered with.
pub(crate) enum Answer {
    /// One message.
    Message(Vec<u8>),
    /// The messages of a zone transfer, made as they are sent.
    Transfer(Box<Axfr>),
    /// Nothing (hickory drops some malformed requests unanswered).
    Nothing,
    /// Not a DNS message: over TCP, the connection is closed.
    Unreadable,
}

/// Answers DNS messages for one or more zones without sockets: what
/// [`crate::DnsServer`] answers over TCP, for a caller with its own
/// transport (and for fuzzing).
///
/// ```
/// use std::sync::Arc;
/// use ddns_authoritative::{Responder, ZoneConfig, ZoneData};
/// use ddns_core::Hostname;
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let zone = Arc::new(ZoneData::new(ZoneConfig::new(Hostname::parse("example.com")?))?);
/// let responder = Responder::new(&[zone], None)?;
/// // A query for example.com. SOA (id 0x1234, no recursion).
/// let query = b"\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x06\x00\x01";
/// let answers = responder.respond(query.to_vec(), "192.0.2.1:5353".parse()?, false).await;
/// assert_eq!(answers.len(), 1);
/// assert_eq!(&answers[0][..2], b"\x12\x34");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?; Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Responder {
    catalog: Catalog,
    zones: Vec<Arc<ZoneData>>,
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field(
                "zones",
                &self
                    .zones
                    .iter()
                    .map(|z| z.config().origin().to_string())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Responder {
    /// Answers for `zones`, and RFC 2136 UPDATE through `updates` when
    /// given (REFUSED otherwise).
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] for no zone or a zone given
    /// twice.
    pub fn new(zones: &[Arc<ZoneData>], updates: Option<DnsUpdates>) -> ddns_core::Result<Self> {
        Ok(Self::from_parts(
            catalog(zones, updates.map(Arc::new))?,
            zones,
        ))
    }

    /// A responder over `catalog`, which answers for `zones`.
    pub(crate) fn from_parts(catalog: Catalog, zones: &[Arc<ZoneData>]) -> Self {
        Self {
            catalog,
            zones: zones.to_vec(),
        }
    }

    /// The answer to `message` from `src`, over TCP when `over_tcp`: one
    /// message, the many of a zone transfer, or none for input hickory
    /// leaves unanswered.
    pub async fn respond(&self, message: Vec<u8>, src: SocketAddr, over_tcp: bool) -> Vec<Vec<u8>> {
        let protocol = if over_tcp {
            Protocol::Tcp
        } else {
            Protocol::Udp
        };
        match self.answer(message, src, protocol).await {
            Answer::Message(bytes) => vec![bytes],
            Answer::Transfer(mut axfr) => {
                let mut messages = Vec::new();
                while let Some(Ok(bytes)) = axfr.next_message() {
                    messages.push(bytes);
                }
                messages
            }
            Answer::Nothing | Answer::Unreadable => Vec::new(),
        }
    }

    /// What `message` from `src` over `protocol` is answered with.
    pub(crate) async fn answer(
        &self,
        message: Vec<u8>,
        src: SocketAddr,
        protocol: Protocol,
    ) -> Answer {
        let Ok(request) = Request::from_bytes(message, src, protocol) else {
            return Answer::Unreadable;
        };
        if protocol == Protocol::Tcp
            && let Some(zone) = transfer::zone_of(&self.zones, &request)
        {
            let now = unix_now();
            return match transfer::authorize(zone.config().secondaries(), &request, now) {
                Ok(signing) => Answer::Transfer(Box::new(Axfr::new(zone, &request, signing, now))),
                Err(refusal) => {
                    transfer::refusal(&request, refusal).map_or(Answer::Unreadable, Answer::Message)
                }
            };
        }
        let answer = Collected::default();
        self.catalog
            .handle_request::<_, TokioTime>(&request, answer.clone())
            .await;
        answer.take().map_or(Answer::Nothing, Answer::Message)
    }
}

/// hickory's catalog over `zones`: each zone's handler, and one at the
/// root for every name outside them.
///
/// # Errors
///
/// [`ddns_core::Error::InvalidInput`] for no zone or a zone given twice.
pub(crate) fn catalog(
    zones: &[Arc<ZoneData>],
    updates: Option<Arc<DnsUpdates>>,
) -> ddns_core::Result<Catalog> {
    if zones.is_empty() {
        return Err(ddns_core::Error::invalid_input(
            "the DNS server needs at least one zone to answer for",
        ));
    }
    for (i, zone) in zones.iter().enumerate() {
        if zones[..i].iter().any(|z| z.origin() == zone.origin()) {
            return Err(ddns_core::Error::invalid_input(format!(
                "the zone {} is given twice; give each zone once",
                zone.config().origin()
            )));
        }
    }
    let mut catalog = Catalog::new();
    let outside = ZoneAnswerer::outside();
    catalog.upsert(outside.origin().clone(), vec![Arc::new(outside)]);
    for zone in zones {
        catalog.upsert(
            zone.origin().clone(),
            vec![Arc::new(ZoneAnswerer::new(zone.clone(), updates.clone()))],
        );
    }
    Ok(catalog)
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
