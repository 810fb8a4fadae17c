//! NOTIFY (RFC 1996) to a zone's secondaries: after every batch of changes
//! each secondary is told the zone changed, so it transfers the zone at
//! once instead of at its next refresh.
//!
//! One task per secondary follows the zone's serial. Batches that land
//! while a NOTIFY is on its way fold into the next one, so a burst of
//! changes costs a handful of NOTIFYs (and transfers), not one per change.
//! An unanswered NOTIFY is sent again, waiting 1, 2, 4 and 8 s; a newer
//! serial takes over from an older one still being retried. A NOTIFY is
//! also sent when the server starts, so secondaries catch up after a
//! restart.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_server::proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_server::proto::rr::RecordType;
use tokio::net::UdpSocket;
use tracing::{debug, info, warn};

use crate::data::ZoneData;
use crate::key::unix_now;
use crate::transfer::Secondary;
use crate::update::DEFAULT_TSIG_FUDGE;

/// How many times one serial's NOTIFY is sent before giving up on it.
const ATTEMPTS: u32 = 5;

/// How long the first attempt waits for an answer; each retry doubles it.
const FIRST_WAIT: Duration = Duration::from_secs(1);

/// The least time between two NOTIFYs to one secondary: changes arriving
/// faster are told together.
const SPACING: Duration = Duration::from_millis(100);

/// Tells `secondary` about every new serial of `zone`, until the zone is
/// dropped or the task aborted.
pub(crate) async fn follow(zone: Arc<ZoneData>, secondary: Secondary) {
    let mut serials = zone.serial_changes();
    let mut first = true;
    loop {
        if !first && serials.changed().await.is_err() {
            return;
        }
        first = false;
        let serial = *serials.borrow_and_update();
        let mut wait = FIRST_WAIT;
        for attempt in 1..=ATTEMPTS {
            match send(&zone, &secondary, wait).await {
                Ok(()) => {
                    debug!(zone = %zone.config().origin(), secondary = %secondary.address(), serial, "NOTIFY answered");
                    break;
                }
                Err(reason) if attempt == ATTEMPTS => {
                    warn!(zone = %zone.config().origin(), secondary = %secondary.address(), serial, %reason,
                        "NOTIFY unanswered after {ATTEMPTS} attempts; the secondary will catch up at its SOA refresh");
                }
                Err(reason) => {
                    info!(zone = %zone.config().origin(), secondary = %secondary.address(), serial, attempt, %reason, "NOTIFY failed; sending it again");
                }
            }
            // A newer serial gets its own NOTIFY at once.
            if serials.has_changed().unwrap_or(true) {
                break;
            }
            wait = wait.saturating_mul(2);
        }
        tokio::time::sleep(SPACING).await;
    }
}

/// Sends one NOTIFY for the zone's current SOA and waits up to `wait` for
/// the secondary's answer (NOERROR, and correctly signed when a key is
/// set).
async fn send(zone: &ZoneData, secondary: &Secondary, wait: Duration) -> Result<(), String> {
    let target = secondary.address();
    let local: SocketAddr = if target.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local)
        .await
        .map_err(|e| format!("cannot open a UDP socket: {e}"))?;
    let mut id = [0u8; 2];
    getrandom::fill(&mut id).map_err(|e| format!("no random message ID: {e}"))?;
    let id = u16::from_be_bytes(id);
    let soa = zone.soa();
    let mut message = Message::new(id, MessageType::Query, OpCode::Notify);
    message.metadata.authoritative = true;
    message.add_query(Query::query(soa.name().clone(), RecordType::SOA));
    message.add_answers(soa.records_without_rrsigs().cloned());
    let mut verifier = None;
    if let Some(key) = secondary.key() {
        let signer = key
            .signer(DEFAULT_TSIG_FUDGE)
            .ok_or("the key's algorithm cannot sign")?;
        let (signature, chain) = signer
            .sign_message(&message, unix_now())
            .map_err(|e| format!("cannot sign: {e}"))?;
        message.set_signature(signature);
        verifier = chain;
    }
    let bytes = message
        .to_vec()
        .map_err(|e| format!("cannot encode: {e}"))?;
    socket
        .send_to(&bytes, target)
        .await
        .map_err(|e| format!("cannot send: {e}"))?;
    let deadline = tokio::time::Instant::now() + wait;
    let mut buffer = vec![0u8; 4096];
    loop {
        let (length, from) = tokio::time::timeout_at(deadline, socket.recv_from(&mut buffer))
            .await
            .map_err(|_| format!("no answer within {} s", wait.as_secs()))?
            .map_err(|e| format!("cannot receive: {e}"))?;
        let answer = &buffer[..length];
        if from != target {
            continue;
        }
        let Ok(parsed) = Message::from_vec(answer) else {
            continue;
        };
        if parsed.metadata.id != id || parsed.metadata.message_type != MessageType::Response {
            continue;
        }
        if parsed.metadata.response_code != ResponseCode::NoError {
            return Err(format!("answered {}", parsed.metadata.response_code));
        }
        if let Some(verifier) = &mut verifier
            && verifier.verify(answer).is_err()
        {
            return Err("the answer's TSIG signature does not verify".into());
        }
        return Ok(());
    }
}
