//! DNS messages on the wire: building UPDATE and query messages, signing,
//! exchanging them over TCP or UDP, and reading the answers.
//!
//! Three pitfalls of hickory 0.26 are handled here rather than trusted to
//! its client: an answer's rcode and TSIG error field are read before any
//! signature check (a server that rejects the key answers unsigned, which
//! hickory's verifier reports as a misleading "truncated HMAC"); a message is
//! encoded, decoded again and compared, because an encoding over 65,535
//! bytes is cut short silently (just over it, only the TSIG record goes);
//! and a validly signed refusal is an error, not an answer.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ddns_core::{ChangeKind, DnsChange, hickory};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode, UpdateMessage};
use hickory_proto::rr::rdata::tsig::TsigError;
use hickory_proto::rr::{DNSClass, Name, Record, RecordType, TSigVerifier, TSigner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use crate::error::Rfc2136Error;

/// Why a message could not be sent as built.
#[derive(Debug)]
pub(crate) enum Build {
    /// It does not fit in one DNS message: send fewer changes.
    TooLarge,
    /// Anything else.
    Failed(Rfc2136Error),
}

fn encode_err(detail: impl ToString) -> Build {
    Build::Failed(Rfc2136Error::Encode {
        detail: detail.to_string(),
    })
}

fn random_id() -> u16 {
    let mut bytes = [0u8; 2];
    // A predictable ID only weakens spoofing protection, which TSIG covers.
    let _ = getrandom::fill(&mut bytes);
    u16::from_le_bytes(bytes)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A hickory name for a validated owner name.
pub(crate) fn name(owner: impl AsRef<ddns_core::RecordName>) -> Result<Name, Rfc2136Error> {
    let owner = owner.as_ref();
    hickory::name(owner).map_err(|e| Rfc2136Error::Encode {
        detail: format!("{owner}: {e}"),
    })
}

/// An UPDATE of `zone` applying every change in one message, atomically:
/// each deletes the RRset of its name and type, and an UPSERT then adds its
/// record (RFC 2136 section 2.5).
pub(crate) fn update_message(zone: &Name, changes: &[&DnsChange]) -> Result<Message, Rfc2136Error> {
    let mut message = Message::new(random_id(), MessageType::Query, OpCode::Update);
    message.metadata.recursion_desired = false;
    let mut zone_query = Query::query(zone.clone(), RecordType::SOA);
    zone_query.set_query_class(DNSClass::IN);
    message.add_zone(zone_query);
    for change in changes {
        let owner = name(change.name())?;
        let rtype = hickory::wire_type(change.record_type());
        let mut delete = Record::update0(owner.clone(), 0, rtype);
        delete.dns_class = DNSClass::ANY;
        message.add_update(delete);
        match change.kind() {
            ChangeKind::Upsert { ttl, values } => {
                for value in values {
                    message.add_update(Record::from_rdata(
                        owner.clone(),
                        *ttl,
                        hickory::rdata(value),
                    ));
                }
            }
            ChangeKind::Delete => {}
            _ => {
                return Err(Rfc2136Error::Encode {
                    detail: format!(
                        "{}: a kind of change this version cannot send",
                        change.name()
                    ),
                });
            }
        }
    }
    Ok(message)
}

/// A query for `name` and `rtype`.
pub(crate) fn query_message(owner: Name, rtype: RecordType) -> Message {
    let mut message = Message::new(random_id(), MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = false;
    message.add_query(Query::query(owner, rtype));
    message
}

/// Signs (when a signer is given) and encodes `message`, checking that the
/// bytes hold the whole message.
pub(crate) fn encode(
    message: &mut Message,
    signer: Option<&TSigner>,
) -> Result<(Vec<u8>, Option<TSigVerifier>), Build> {
    let verifier = match signer {
        Some(signer) => message.finalize(signer, now()).map_err(encode_err)?,
        None => None,
    };
    let bytes = message.to_vec().map_err(encode_err)?;
    if bytes.len() > usize::from(u16::MAX) {
        return Err(Build::TooLarge);
    }
    let back = Message::from_vec(&bytes).map_err(encode_err)?;
    let complete = back.authorities.len() == message.authorities.len()
        && back.queries.len() == message.queries.len()
        && back.signature().is_some() == signer.is_some();
    if complete {
        Ok((bytes, verifier))
    } else {
        Err(Build::TooLarge)
    }
}

fn network(server: SocketAddr) -> impl Fn(std::io::Error) -> Rfc2136Error {
    move |e| Rfc2136Error::Network {
        server,
        detail: e.to_string(),
    }
}

/// Sends `bytes` over TCP (with the two-byte length prefix) and returns
/// the answer's bytes.
pub(crate) async fn exchange_tcp(
    server: SocketAddr,
    bytes: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, Rfc2136Error> {
    let work = async {
        let mut stream = TcpStream::connect(server).await.map_err(network(server))?;
        let len = u16::try_from(bytes.len()).map_err(|_| Rfc2136Error::Encode {
            detail: "message over 65,535 bytes".into(),
        })?;
        let mut framed = Vec::with_capacity(bytes.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(bytes);
        stream.write_all(&framed).await.map_err(network(server))?;
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await.map_err(network(server))?;
        let mut answer = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream
            .read_exact(&mut answer)
            .await
            .map_err(network(server))?;
        Ok(answer)
    };
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or(Err(Rfc2136Error::Timeout {
            server,
            seconds: timeout.as_secs().max(1),
        }))
}

/// Sends `bytes` over UDP and returns the answer to message `id`.
pub(crate) async fn exchange_udp(
    server: SocketAddr,
    bytes: &[u8],
    id: u16,
    timeout: Duration,
) -> Result<Vec<u8>, Rfc2136Error> {
    let work = async {
        let local: SocketAddr = if server.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket = UdpSocket::bind(local).await.map_err(network(server))?;
        socket.connect(server).await.map_err(network(server))?;
        socket.send(bytes).await.map_err(network(server))?;
        let mut buffer = vec![0u8; 65_535];
        loop {
            let n = socket.recv(&mut buffer).await.map_err(network(server))?;
            // Ignore stray datagrams that answer something else.
            if n >= 2 && u16::from_be_bytes([buffer[0], buffer[1]]) == id {
                buffer.truncate(n);
                return Ok(buffer);
            }
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or(Err(Rfc2136Error::Timeout {
            server,
            seconds: timeout.as_secs().max(1),
        }))
}

/// What the server said to an UPDATE or a query.
pub(crate) struct Answer {
    pub(crate) message: Message,
}

/// Decodes an answer to message `id`, reading the rcode and the TSIG error
/// before checking the signature with `verifier`.
pub(crate) fn read_answer(
    server: SocketAddr,
    bytes: &[u8],
    id: u16,
    verifier: Option<&mut TSigVerifier>,
    key_name: &str,
) -> Result<Answer, Rfc2136Error> {
    let message = Message::from_vec(bytes).map_err(|e| Rfc2136Error::Malformed {
        server,
        detail: e.to_string(),
    })?;
    if message.metadata.id != id {
        return Err(Rfc2136Error::Malformed {
            server,
            detail: format!("answer to message {} instead of {id}", message.metadata.id),
        });
    }
    let tsig_error = message.signature().and_then(|s| s.data.error);
    match tsig_error {
        Some(TsigError::BadKey) => {
            return Err(Rfc2136Error::BadKey {
                server,
                key: key_name.to_owned(),
                reason: "BADKEY: the server does not know this key",
                certain: false,
            });
        }
        Some(TsigError::BadSig) => {
            return Err(Rfc2136Error::BadKey {
                server,
                key: key_name.to_owned(),
                reason: "BADSIG: the signature does not match the server's secret",
                certain: true,
            });
        }
        Some(TsigError::BadTime) => return Err(Rfc2136Error::BadTime { server }),
        _ => {}
    }
    if message.metadata.response_code == ResponseCode::NotAuth
        && verifier.is_some()
        && message.signature().is_none()
    {
        // BIND answers an unknown or wrong key with an unsigned NOTAUTH.
        return Err(Rfc2136Error::BadKey {
            server,
            key: key_name.to_owned(),
            reason: "NOTAUTH, unsigned: the server did not accept the key",
            certain: false,
        });
    }
    if let Some(verifier) = verifier {
        if message.signature().is_none() {
            return Err(Rfc2136Error::UnsignedAnswer {
                server,
                detail: format!("{} without TSIG", message.metadata.response_code),
            });
        }
        verifier
            .verify(bytes)
            .map_err(|e| Rfc2136Error::UnsignedAnswer {
                server,
                detail: e.to_string(),
            })?;
    }
    Ok(Answer { message })
}
