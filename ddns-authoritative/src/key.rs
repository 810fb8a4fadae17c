//! TSIG keys the server itself holds (operators' update keys, secondaries'
//! transfer keys), and the one check of a signed message against a key:
//! the MAC, then the time, with the answer RFC 8945 section 5.2 asks for
//! when either fails.

use hickory_server::proto::op::ResponseCode;
use hickory_server::proto::rr::rdata::tsig::{TsigAlgorithm, TsigError};
use hickory_server::proto::rr::{Name, TSigResponseContext, TSigner};
use hickory_server::server::Request;
use tracing::info;
use zeroize::Zeroizing;

/// Why a message is answered with an error: its code, and the TSIG
/// context of the answer (none for an unsigned message).
pub(crate) type Refusal = (ResponseCode, Option<TSigResponseContext>);

/// A named TSIG key with its algorithm and secret.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Key {
    name: Name,
    algorithm: TsigAlgorithm,
    secret: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("name", &self.name.to_string())
            .field("algorithm", &self.algorithm.to_string())
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

impl Key {
    /// The key `name` with `algorithm` (`hmac-sha256`, `hmac-sha384` or
    /// `hmac-sha512`) and the secret's bytes; `purpose` names what the key
    /// is for in errors ("update keys").
    pub(crate) fn new(
        name: &str,
        algorithm: &str,
        secret: Vec<u8>,
        purpose: &str,
    ) -> ddns_core::Result<Self> {
        let mut parsed = Name::from_ascii(name.trim()).map_err(|e| {
            ddns_core::Error::invalid_input(format!(
                "the TSIG key name {name:?} is not a DNS name: {e}"
            ))
        })?;
        parsed.set_fqdn(true);
        let algorithm = match algorithm
            .trim()
            .trim_end_matches('.')
            .to_ascii_lowercase()
            .as_str()
        {
            "hmac-sha256" => TsigAlgorithm::HmacSha256,
            "hmac-sha384" => TsigAlgorithm::HmacSha384,
            "hmac-sha512" => TsigAlgorithm::HmacSha512,
            other => {
                return Err(ddns_core::Error::invalid_input(format!(
                    "the TSIG algorithm {other:?} is not offered for {purpose}; use hmac-sha256, hmac-sha384 or hmac-sha512"
                )));
            }
        };
        if secret.is_empty() {
            return Err(ddns_core::Error::invalid_input(format!(
                "the secret of TSIG key {parsed} is empty"
            )));
        }
        Ok(Self {
            name: parsed,
            algorithm,
            secret: Zeroizing::new(secret),
        })
    }

    /// The key's name, fully qualified.
    pub(crate) fn name(&self) -> &Name {
        &self.name
    }

    /// True when a TSIG record owned by `owner` names this key.
    pub(crate) fn is_named(&self, owner: &Name) -> bool {
        *owner == self.name
    }

    /// True when the message's algorithm is the key's.
    pub(crate) fn algorithm_is(&self, algorithm: &TsigAlgorithm) -> bool {
        self.algorithm == *algorithm
    }

    /// A signer with this key and `fudge`; `None` only for an algorithm
    /// hickory cannot compute, which [`Key::new`] never accepts.
    pub(crate) fn signer(&self, fudge: u16) -> Option<TSigner> {
        TSigner::new(
            self.secret.to_vec(),
            self.algorithm.clone(),
            self.name.clone(),
            fudge,
        )
        .ok()
    }
}

/// A request whose MAC and time checked out: the signer, and the request's
/// MAC that the answer's signature covers.
pub(crate) struct Checked {
    pub(crate) signer: TSigner,
    pub(crate) request_mac: Vec<u8>,
}

impl Checked {
    /// The context that signs the one answer to the request.
    pub(crate) fn context(&self, id: u16, now: u64) -> TSigResponseContext {
        TSigResponseContext::new(id, now, self.signer.clone(), self.request_mac.clone(), None)
    }
}

/// Checks `request`'s TSIG with `signer`: the MAC (BADSIG, unsigned, when
/// wrong), then the time against `now` (BADTIME, signed, when outside the
/// fudge).
pub(crate) fn check(request: &Request, now: u64, signer: TSigner) -> Result<Checked, Refusal> {
    let id = request.metadata.id;
    let Some(tsig) = request.signature.as_deref() else {
        return Err((ResponseCode::Refused, None));
    };
    let range = match signer.verify_message_byte(request.as_slice(), None, true) {
        Ok((_, _, range)) => range,
        Err(_) => {
            info!(key = %tsig.name, peer = %request.src(), "DNS message refused: TSIG MAC does not verify (BADSIG)");
            return Err((
                ResponseCode::NotAuth,
                Some(TSigResponseContext::bad_signature(id, now, signer)),
            ));
        }
    };
    let request_mac = tsig.data.mac.clone();
    if !range.contains(&now) {
        info!(key = %tsig.name, peer = %request.src(), "DNS message refused: TSIG time outside the fudge (BADTIME)");
        return Err((
            ResponseCode::NotAuth,
            Some(TSigResponseContext::new(
                id,
                now,
                signer,
                request_mac,
                Some(TsigError::BadTime),
            )),
        ));
    }
    Ok(Checked {
        signer,
        request_mac,
    })
}

/// The answer to a message signed with a key the server does not hold:
/// NOTAUTH with BADKEY, unsigned.
pub(crate) fn unknown_key(request: &Request, now: u64) -> Refusal {
    let name = request
        .signature
        .as_deref()
        .map_or_else(Name::root, |tsig| tsig.name.clone());
    (
        ResponseCode::NotAuth,
        Some(TSigResponseContext::unknown_key(
            request.metadata.id,
            now,
            name,
        )),
    )
}

/// The server's time in Unix seconds, as TSIG counts it.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
