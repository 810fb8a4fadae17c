//! Zone transfers to a zone's secondaries: who may have the zone, and the
//! AXFR answer itself (RFC 5936), cut into messages and signed one by one
//! with the secondary's TSIG key (RFC 8945 section 5.3.1).
//!
//! An IXFR (RFC 1995) is answered with the whole zone in the same form,
//! which the RFC allows when no history is kept; secondaries take it as a
//! full transfer.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use hickory_server::proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_server::proto::rr::rdata::tsig::{TSIG, make_tsig_record};
use hickory_server::proto::rr::{DNSClass, RData, Record, RecordSet, RecordType};
use hickory_server::proto::serialize::binary::{BinEncodable, BinEncoder};
use hickory_server::server::Request;
use tracing::info;

use crate::data::ZoneData;
use crate::key::{self, Checked, Key, Refusal};
use crate::update::DEFAULT_TSIG_FUDGE;

/// Records' encoded size past which a transfer message is cut: well below
/// the 64 KiB a DNS message over TCP may hold, as BIND and Knot do.
const MESSAGE_BUDGET: usize = 16 * 1024;

/// A secondary name server of a zone: where its NOTIFY goes, and the TSIG
/// key it signs its transfer requests with.
///
/// Transfers are answered to requests from the secondary's IP address
/// (any port) only; with a key, only to requests signed with it, and the
/// answer and the NOTIFY are signed with it too. Without a key, the
/// address alone lets a request through: give a key wherever the
/// secondary supports one.
///
/// ```
/// use ddns_authoritative::Secondary;
/// let secondary = Secondary::new("192.0.2.53:53".parse()?)
///     .with_key("transfer-key", "hmac-sha256", b"0123456789abcdef0123456789abcdef".to_vec())?;
/// assert_eq!(secondary.key_name().as_deref(), Some("transfer-key."));
/// assert!(format!("{secondary:?}").contains("[REDACTED]"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secondary {
    address: SocketAddr,
    key: Option<Key>,
}

impl Secondary {
    /// The secondary at `address`: NOTIFY goes to it, and transfer
    /// requests from its IP address are answered.
    pub fn new(address: SocketAddr) -> Self {
        Self { address, key: None }
    }

    /// Requires the TSIG key `name` with `algorithm` (`hmac-sha256`,
    /// `hmac-sha384` or `hmac-sha512`) and the secret's bytes on the
    /// secondary's requests, and signs what it is sent.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] for a bad name, an algorithm not
    /// offered, or an empty secret.
    pub fn with_key(
        mut self,
        name: &str,
        algorithm: &str,
        secret: Vec<u8>,
    ) -> ddns_core::Result<Self> {
        self.key = Some(Key::new(name, algorithm, secret, "transfer keys")?);
        Ok(self)
    }

    /// Where NOTIFY is sent; its IP address is the one transfers are
    /// answered to.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The name of the secondary's TSIG key, fully qualified.
    pub fn key_name(&self) -> Option<String> {
        self.key.as_ref().map(|k| k.name().to_string())
    }

    pub(crate) fn key(&self) -> Option<&Key> {
        self.key.as_ref()
    }

    /// True when `ip` is the secondary's address (an IPv4-mapped IPv6
    /// address counts as its IPv4 address).
    fn is_at(&self, ip: IpAddr) -> bool {
        self.address.ip().to_canonical() == ip.to_canonical()
    }
}

/// Decides whether `request` (a transfer request, or a signed query) comes
/// from one of `secondaries`: from a secondary's address, and signed with
/// its key when it has one. `Ok(Some)` carries the checked signature the
/// answer is signed with; `Ok(None)` lets an unsigned request of a
/// secondary without a key through.
///
/// # Errors
///
/// REFUSED for an address that is no secondary's or a missing signature;
/// NOTAUTH with the TSIG error (BADKEY, BADSIG, BADTIME) for a key that is
/// not the secondary's, a wrong MAC, or a time outside the fudge.
pub(crate) fn authorize(
    secondaries: &[Secondary],
    request: &Request,
    now: u64,
) -> Result<Option<Checked>, Refusal> {
    let peer = request.src();
    let mut at_peer = secondaries.iter().filter(|s| s.is_at(peer.ip())).peekable();
    if at_peer.peek().is_none() {
        info!(%peer, "zone transfer refused: not from a configured secondary");
        return Err((ResponseCode::Refused, None));
    }
    let Some(tsig) = request.signature.as_deref() else {
        if at_peer.any(|s| s.key.is_none()) {
            return Ok(None);
        }
        info!(%peer, "zone transfer refused: the secondary's requests must be TSIG-signed");
        return Err((ResponseCode::Refused, None));
    };
    let Some(key) = at_peer
        .filter_map(Secondary::key)
        .find(|k| k.is_named(&tsig.name) && k.algorithm_is(&tsig.data.algorithm))
    else {
        info!(%peer, key = %tsig.name, "zone transfer refused: not the secondary's TSIG key (BADKEY)");
        return Err(key::unknown_key(request, now));
    };
    let Some(signer) = key.signer(DEFAULT_TSIG_FUDGE) else {
        return Err(key::unknown_key(request, now));
    };
    key::check(request, now, signer).map(Some)
}

/// The zone a transfer request (AXFR or IXFR, class IN, of a zone's apex)
/// asks for; `None` for every other message.
pub(crate) fn zone_of<'z>(zones: &'z [Arc<ZoneData>], request: &Request) -> Option<&'z ZoneData> {
    if request.metadata.op_code != OpCode::Query
        || request.metadata.message_type != MessageType::Query
    {
        return None;
    }
    let [query] = request.queries.queries() else {
        return None;
    };
    if !matches!(query.query_type(), RecordType::AXFR | RecordType::IXFR)
        || query.query_class() != DNSClass::IN
    {
        return None;
    }
    zones
        .iter()
        .find(|zone| zone.origin() == query.name())
        .map(|zone| &**zone)
}

/// The encoded answer refusing `request`, signed when the refusal says
/// so; `None` when it cannot be encoded.
pub(crate) fn refusal(request: &Request, (code, context): Refusal) -> Option<Vec<u8>> {
    let mut message = Message::error_msg(request.metadata.id, OpCode::Query, code);
    if let Some(query) = request.queries.queries().first() {
        message.add_query(query.original().clone());
    }
    let bytes = message.to_vec().ok()?;
    let Some(context) = context else {
        return Some(bytes);
    };
    message.set_signature(context.sign(&bytes).ok()?);
    message.to_vec().ok()
}

/// The messages of one AXFR answer, made one at a time as the connection
/// writes them: SOA, every RRset of the zone, SOA again, from one snapshot
/// of the zone.
pub(crate) struct Axfr {
    zone: ddns_core::Hostname,
    id: u16,
    query: Option<Query>,
    sets: Vec<Arc<RecordSet>>,
    /// The next RRset, and the next record in it.
    at: (usize, usize),
    signing: Option<Signing>,
    /// Scratch space for measuring records.
    scratch: Vec<u8>,
}

/// The signature chain of a transfer: each message's MAC covers the one
/// before it.
struct Signing {
    checked: Checked,
    now: u64,
    previous_mac: Option<Vec<u8>>,
}

impl Axfr {
    /// The answer to `request` from `zone`, signed when `signing` is given.
    pub(crate) fn new(
        zone: &ZoneData,
        request: &Request,
        signing: Option<Checked>,
        now: u64,
    ) -> Self {
        Self {
            zone: zone.config().origin().clone(),
            id: request.metadata.id,
            query: request
                .queries
                .queries()
                .first()
                .map(|q| q.original().clone()),
            sets: zone.transfer_sets(),
            at: (0, 0),
            signing: signing.map(|checked| Signing {
                checked,
                now,
                previous_mac: None,
            }),
            scratch: Vec::with_capacity(512),
        }
    }

    /// The zone being sent.
    pub(crate) fn zone(&self) -> &ddns_core::Hostname {
        &self.zone
    }

    /// The serial of the zone being sent.
    pub(crate) fn serial(&self) -> u32 {
        self.sets
            .first()
            .and_then(|soa| soa.records_without_rrsigs().next())
            .and_then(|record| match &record.data {
                RData::SOA(soa) => Some(soa.serial),
                _ => None,
            })
            .unwrap_or(0)
    }

    /// The next message of the answer, encoded; `None` once all are made.
    ///
    /// # Errors
    ///
    /// A record or signature that cannot be encoded (none of the zone's
    /// can): the transfer stops there.
    pub(crate) fn next_message(&mut self) -> Option<Result<Vec<u8>, String>> {
        let first = self.query.is_some();
        if !first && self.at.0 >= self.sets.len() {
            return None;
        }
        let mut message = Message::response(self.id, OpCode::Query);
        message.metadata.authoritative = true;
        if let Some(query) = self.query.take() {
            message.add_query(query);
        }
        let mut size = 0;
        while let Some(record) = self.current().cloned() {
            self.scratch.clear();
            let length = match record.emit(&mut BinEncoder::new(&mut self.scratch)) {
                Ok(()) => self.scratch.len(),
                Err(e) => return Some(Err(e.to_string())),
            };
            if size > 0 && size + length > MESSAGE_BUDGET {
                break;
            }
            size += length;
            message.add_answer(record);
            self.advance();
        }
        Some(self.finish(message))
    }

    /// The record at the cursor.
    fn current(&self) -> Option<&Record> {
        let (set, record) = self.at;
        self.sets
            .get(set)
            .and_then(|s| s.records_with_rrsigs().nth(record))
    }

    fn advance(&mut self) {
        let (set, record) = self.at;
        let in_set = self
            .sets
            .get(set)
            .map_or(0, |s| s.records_with_rrsigs().count());
        self.at = if record + 1 < in_set {
            (set, record + 1)
        } else {
            (set + 1, 0)
        };
    }

    /// Encodes `message`, signed as the next in the chain when the
    /// transfer is signed.
    fn finish(&mut self, mut message: Message) -> Result<Vec<u8>, String> {
        let bytes = message.to_vec().map_err(|e| e.to_string())?;
        let Some(signing) = &mut self.signing else {
            return Ok(bytes);
        };
        let signer = &signing.checked.signer;
        let stub = TSIG::new(
            signer.algorithm().clone(),
            signing.now,
            signer.fudge(),
            Vec::new(),
            self.id,
            None,
            Vec::new(),
        );
        // RFC 8945 section 5.3.1: the first message's MAC covers the
        // request's MAC, the message and all TSIG variables; each later
        // one covers the MAC before it, the message, and the time and
        // fudge only.
        let tbs = match &signing.previous_mac {
            None => signer
                .encode_response_tbs(&signing.checked.request_mac, &bytes, &stub)
                .map_err(|e| e.to_string())?,
            Some(previous) => {
                let mut tbs = Vec::with_capacity(previous.len() + bytes.len() + 10);
                let length = u16::try_from(previous.len()).map_err(|e| e.to_string())?;
                tbs.extend_from_slice(&length.to_be_bytes());
                tbs.extend_from_slice(previous);
                tbs.extend_from_slice(&bytes);
                let time = signing.now;
                tbs.extend_from_slice(&((time >> 32) as u16).to_be_bytes());
                tbs.extend_from_slice(&(time as u32).to_be_bytes());
                tbs.extend_from_slice(&signer.fudge().to_be_bytes());
                tbs
            }
        };
        let mac = signer.sign(&tbs).map_err(|e| e.to_string())?;
        signing.previous_mac = Some(mac.clone());
        message.set_signature(Box::new(make_tsig_record(
            signer.signer_name().clone(),
            stub.set_mac(mac),
        )));
        message.to_vec().map_err(|e| e.to_string())
    }
}
