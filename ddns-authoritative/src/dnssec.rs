//! DNSSEC online signing: the zone's key, and the signatures and NSEC
//! records made with it.
//!
//! One ECDSA P-256 / SHA-256 key (algorithm 13) signs everything: a
//! combined signing key (CSK, DNSKEY flags 257), so the registrar's DS
//! names the same key that signs the records, and there is one key file to
//! keep. Authenticated denial is NSEC (RFC 4034): the chain is kept in
//! canonical order and mended where a change touches it. NSEC lets anyone
//! list the zone's names by walking the chain; NSEC3 with no extra
//! iterations (RFC 9276) would only slow that down, at the price of larger
//! answers and hashing on every negative answer, and the names of a
//! dynamic zone answer to anyone who asks for them anyway.
//!
//! Signatures start an hour before they are made (clock skew) and last the
//! configured validity; a signature is made again once half its validity
//! has passed.

use std::fmt;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use hickory_server::proto::dnssec::crypto::EcdsaSigningKey;
use hickory_server::proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, NSEC, RRSIG, SigInput};
use hickory_server::proto::dnssec::{Algorithm, DigestType, DnssecSigner, SigningKey, TBS};
use hickory_server::proto::rr::{
    DNSClass, Name, RData, Record, RecordSet, RecordType, SerialNumber,
};
use rustls_pki_types::PrivatePkcs8KeyDer;
use zeroize::Zeroizing;

use crate::error::AuthoritativeError;

/// How long before its signing a signature is already valid, for clocks
/// that run behind.
const BACKDATED_SECS: u32 = 3600;

/// The signature validity used unless another is set: 14 days.
pub const DEFAULT_SIGNATURE_VALIDITY: Duration = Duration::from_secs(14 * 86_400);

/// The shortest signature validity accepted.
pub const MIN_SIGNATURE_VALIDITY: Duration = Duration::from_secs(10);

/// The PEM label of the key file.
const PEM_LABEL: &str = "PRIVATE KEY";

/// A zone's DNSSEC key: ECDSA P-256 / SHA-256 (algorithm 13), used as a
/// combined signing key (CSK: DNSKEY flags 257).
///
/// It is kept in a PEM file (PKCS#8, as `openssl genpkey -algorithm EC
/// -pkeyopt ec_paramgen_curve:P-256` writes it) created with mode 0600.
///
/// ```
/// use ddns_authoritative::ZoneKey;
/// let key = ZoneKey::generate()?;
/// assert!(format!("{key:?}").contains("[REDACTED]"));
/// let zone: ddns_core::Hostname = ddns_core::Hostname::parse("example.com")?;
/// assert!(key.dnskey_record(&zone, 3600)?.contains(" DNSKEY 257 3 13 "));
/// assert!(key.ds_record(&zone)?.contains(&format!(" DS {} 13 2 ", key.key_tag())));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ZoneKey {
    pkcs8: Zeroizing<Vec<u8>>,
    dnskey: DNSKEY,
    tag: u16,
}

impl fmt::Debug for ZoneKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZoneKey")
            .field("key_tag", &self.tag)
            .field("algorithm", &"ECDSAP256SHA256")
            .field("private_key", &"[REDACTED]")
            .finish()
    }
}

impl ZoneKey {
    /// A new random key.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::Unavailable`] when the system has no random
    /// source.
    pub fn generate() -> ddns_core::Result<Self> {
        let pkcs8 = EcdsaSigningKey::generate_pkcs8(Algorithm::ECDSAP256SHA256)
            .map_err(|e| AuthoritativeError::Key(format!("cannot generate a key: {e}")))?;
        Self::from_pkcs8(pkcs8.secret_pkcs8_der().to_vec())
    }

    /// The key in `der` (PKCS#8).
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] when it is not an ECDSA P-256
    /// key.
    pub fn from_pkcs8(der: Vec<u8>) -> ddns_core::Result<Self> {
        let pkcs8 = Zeroizing::new(der);
        let signing = signing_key(&pkcs8)?;
        let public = signing
            .to_public_key()
            .map_err(|e| AuthoritativeError::Key(format!("no public key: {e}")))?;
        let dnskey = DNSKEY::new(true, true, false, public);
        let tag = dnskey
            .calculate_key_tag()
            .map_err(|e| AuthoritativeError::Key(format!("no key tag: {e}")))?;
        Ok(Self { pkcs8, dnskey, tag })
    }

    /// The key in the PEM file at `path`, or a new one written there
    /// (mode 0600, never over an existing file) when there is none. The
    /// flag says whether it was made now.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::Unavailable`] when the file cannot be read or
    /// written; [`ddns_core::Error::InvalidInput`] when it holds no ECDSA
    /// P-256 key.
    pub fn load_or_generate(path: &Path) -> ddns_core::Result<(Self, bool)> {
        match std::fs::read_to_string(path) {
            Ok(text) => return Ok((Self::from_pem(&text, path)?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(file_error(path, "read", &e)),
        }
        let key = Self::generate()?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options
            .open(path)
            .map_err(|e| file_error(path, "create", &e))?;
        file.write_all(key.to_pem().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| file_error(path, "write", &e))?;
        Ok((key, true))
    }

    fn from_pem(text: &str, path: &Path) -> ddns_core::Result<Self> {
        let begin = format!("-----BEGIN {PEM_LABEL}-----");
        let end = format!("-----END {PEM_LABEL}-----");
        let body = text
            .split_once(&begin)
            .and_then(|(_, rest)| rest.split_once(&end))
            .map(|(body, _)| body)
            .ok_or_else(|| {
                ddns_core::Error::invalid_input(format!(
                    "the DNSSEC key file {} holds no \"{PEM_LABEL}\" PEM block",
                    path.display()
                ))
            })?;
        let compact: String = body.split_whitespace().collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| {
                ddns_core::Error::invalid_input(format!(
                    "the DNSSEC key file {} is not valid PEM: {e}",
                    path.display()
                ))
            })?;
        Self::from_pkcs8(der)
    }

    /// The key as a PEM file's text.
    fn to_pem(&self) -> Zeroizing<String> {
        let encoded =
            Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*self.pkcs8));
        let mut pem = Zeroizing::new(format!("-----BEGIN {PEM_LABEL}-----\n"));
        for line in encoded.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str(&format!("-----END {PEM_LABEL}-----\n"));
        pem
    }

    /// The key tag of the DNSKEY (RFC 4034 appendix B).
    pub fn key_tag(&self) -> u16 {
        self.tag
    }

    /// The zone's DNSKEY record in presentation form
    /// (`example.com. 3600 IN DNSKEY 257 3 13 ...`).
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] when `zone` cannot be a DNS name.
    pub fn dnskey_record(&self, zone: &ddns_core::Hostname, ttl: u32) -> ddns_core::Result<String> {
        let origin = crate::zone::name(zone)?;
        Ok(Record::from_rdata(
            origin,
            ttl,
            RData::DNSSEC(DNSSECRData::DNSKEY(self.dnskey.clone())),
        )
        .to_string())
    }

    /// The DS record (SHA-256 digest) to give the parent zone's registry,
    /// in presentation form (`example.com. 3600 IN DS TAG 13 2 HEX`).
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] when `zone` cannot be a DNS name.
    pub fn ds_record(&self, zone: &ddns_core::Hostname) -> ddns_core::Result<String> {
        let origin = crate::zone::name(zone)?;
        let digest = self
            .dnskey
            .to_digest(&origin, DigestType::SHA256)
            .map_err(|e| AuthoritativeError::Key(format!("no DS digest: {e}")))?;
        let ds = DS::new(
            self.tag,
            Algorithm::ECDSAP256SHA256,
            DigestType::SHA256,
            digest.as_ref().to_vec(),
        );
        Ok(Record::from_rdata(origin, 3600, RData::DNSSEC(DNSSECRData::DS(ds))).to_string())
    }
}

/// The ring key of `pkcs8`.
fn signing_key(pkcs8: &[u8]) -> Result<EcdsaSigningKey, AuthoritativeError> {
    EcdsaSigningKey::from_pkcs8(
        &PrivatePkcs8KeyDer::from(pkcs8.to_vec()),
        Algorithm::ECDSAP256SHA256,
    )
    .map_err(|e| AuthoritativeError::Key(format!("not an ECDSA P-256 key (PKCS#8): {e}")))
}

fn file_error(path: &Path, what: &str, e: &std::io::Error) -> ddns_core::Error {
    ddns_core::Error::unavailable(
        format!("cannot {what} the DNSSEC key file {}: {e}", path.display()),
        false,
    )
}

/// How a zone is signed: its key and the signatures' validity.
///
/// ```
/// use std::time::Duration;
/// use ddns_authoritative::{Dnssec, ZoneKey};
/// let dnssec = Dnssec::new(ZoneKey::generate()?).with_validity(Duration::from_secs(7 * 86_400));
/// assert_eq!(dnssec.validity(), Duration::from_secs(7 * 86_400));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Dnssec {
    key: Arc<ZoneKey>,
    validity: Duration,
}

impl Dnssec {
    /// Signing with `key`, signatures valid for
    /// [`DEFAULT_SIGNATURE_VALIDITY`].
    pub fn new(key: ZoneKey) -> Self {
        Self {
            key: Arc::new(key),
            validity: DEFAULT_SIGNATURE_VALIDITY,
        }
    }

    /// Sets how long a signature is valid (at least
    /// [`MIN_SIGNATURE_VALIDITY`]; days are usual). Each is made again
    /// once half of it has passed.
    #[must_use]
    pub fn with_validity(mut self, validity: Duration) -> Self {
        self.validity = validity.max(MIN_SIGNATURE_VALIDITY);
        self
    }

    /// How long a signature is valid.
    pub fn validity(&self) -> Duration {
        self.validity
    }

    /// The key.
    pub fn key(&self) -> &ZoneKey {
        &self.key
    }
}

/// The signer of one zone.
pub(crate) struct ZoneSigner {
    signer: DnssecSigner,
    tag: u16,
    validity: u32,
    /// The TTL of NSEC records: the SOA minimum (RFC 9077).
    nsec_ttl: u32,
}

impl fmt::Debug for ZoneSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZoneSigner")
            .field("validity", &self.validity)
            .finish_non_exhaustive()
    }
}

impl ZoneSigner {
    /// The signer of the zone `origin` with `dnssec`; NSEC records live
    /// `nsec_ttl` seconds.
    pub(crate) fn new(
        dnssec: &Dnssec,
        origin: Name,
        nsec_ttl: u32,
    ) -> Result<Self, AuthoritativeError> {
        let key = signing_key(&dnssec.key.pkcs8)?;
        let validity = u32::try_from(dnssec.validity.as_secs()).unwrap_or(u32::MAX / 4);
        Ok(Self {
            signer: DnssecSigner::new(
                dnssec.key.dnskey.clone(),
                Box::new(key),
                origin,
                dnssec.validity,
            ),
            tag: dnssec.key.tag,
            validity,
            nsec_ttl,
        })
    }

    /// How long a signature is valid, in seconds.
    pub(crate) fn validity(&self) -> u32 {
        self.validity
    }

    /// The zone's DNSKEY RRset, unsigned.
    pub(crate) fn dnskey_set(&self, ttl: u32) -> RecordSet {
        let mut set =
            RecordSet::with_ttl(self.signer.signer_name().clone(), RecordType::DNSKEY, ttl);
        set.add_rdata(RData::DNSSEC(DNSSECRData::DNSKEY(self.signer.to_dnskey())));
        set
    }

    /// The NSEC RRset at `owner`: the next owner in the chain and the
    /// types at `owner`.
    pub(crate) fn nsec_set(
        &self,
        owner: Name,
        next: Name,
        types: impl IntoIterator<Item = RecordType>,
    ) -> RecordSet {
        let nsec = RData::DNSSEC(DNSSECRData::NSEC(NSEC::new_cover_self(next, types)));
        let mut set = RecordSet::with_ttl(owner.clone(), RecordType::NSEC, self.nsec_ttl);
        // One record, in a vector of one (a million of them are kept).
        set.set_records(vec![Record::from_rdata(owner, self.nsec_ttl, nsec)]);
        set
    }

    /// Replaces the signature of `set` with one made at `now` (Unix
    /// seconds).
    pub(crate) fn sign(&self, set: &mut RecordSet, now: u32) -> Result<(), AuthoritativeError> {
        set.clear_rrsigs();
        let input = SigInput {
            type_covered: set.record_type(),
            algorithm: Algorithm::ECDSAP256SHA256,
            num_labels: set.name().num_labels(),
            original_ttl: set.ttl(),
            sig_expiration: SerialNumber::new(now.wrapping_add(self.validity)),
            sig_inception: SerialNumber::new(now.wrapping_sub(BACKDATED_SECS)),
            key_tag: self.tag,
            signer_name: self.signer.signer_name().clone(),
        };
        let signing_error = |e: &dyn fmt::Display| {
            AuthoritativeError::Key(format!(
                "cannot sign {} {}: {e}",
                set.name(),
                set.record_type()
            ))
        };
        let tbs = TBS::from_input(
            set.name(),
            DNSClass::IN,
            &input,
            set.records_without_rrsigs(),
        )
        .map_err(|e| signing_error(&e))?;
        let signature = self.signer.sign(&tbs).map_err(|e| signing_error(&e))?;
        let rrsig = Record::from_rdata(
            set.name().clone(),
            set.ttl(),
            RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(input, signature))),
        );
        // A vector of one: hickory's push would reserve four.
        set.set_rrsigs(vec![rrsig]);
        Ok(())
    }

    /// True when `set`'s signature is missing or half its validity or
    /// more has passed at `now`.
    pub(crate) fn due(&self, set: &RecordSet, now: u32) -> bool {
        set.rrsigs().iter().all(|rrsig| match &rrsig.data {
            RData::DNSSEC(DNSSECRData::RRSIG(sig)) => {
                let left = sig.input().sig_expiration.get().wrapping_sub(now);
                // A wrapped difference (expired) is huge: due too.
                left < self.validity / 2 || left > self.validity
            }
            _ => true,
        })
    }
}

/// Makes `zone`'s signatures again before they expire, until the task is
/// aborted.
pub(crate) async fn keep_fresh(zone: Arc<crate::data::ZoneData>) {
    let Some(interval) = zone.refresh_interval() else {
        return;
    };
    loop {
        tokio::time::sleep(interval).await;
        let signed = zone.refresh_signatures();
        if signed > 0 {
            tracing::info!(zone = %zone.config().origin(), signed, "signatures made again before they expire");
        }
    }
}
