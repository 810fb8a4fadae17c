//! Inbound RFC 2136 UPDATE on the embedded DNS, signed with TSIG (RFC
//! 8945), for the records' own keys.
//!
//! [`DnsUpdates`] finds the key of a TSIG-signed message (the record of
//! the host the key is named after, [`DdnsService::update_key`]), checks
//! the MAC and the time, evaluates the prerequisites against the zone as
//! it is served (RFC 2136 section 3.2), works out the RRsets the update
//! section leaves (section 3.4) and hands them to
//! [`DdnsService::dns_update`], which decides what the key may change and
//! changes it through the same store and provider as HTTP requests.
//! Answers: REFUSED for an unsigned message or a change outside the key's
//! scope; NOTAUTH with TSIG error BADKEY (unsigned) for an unknown key or
//! algorithm, BADSIG (unsigned) for a wrong MAC, BADTIME (signed) for a
//! time outside the fudge; the prerequisite codes of section 3.2.

use std::collections::BTreeMap;
use std::sync::Arc;

use ddns_core::admin::{AdminError, RecordAdmin};
use ddns_core::{
    DdnsService, DnsUpdateRequest, Failure, Hostname, RecordKey, RecordName, RecordValue,
    RrsetUpdate, SharedSecret, UpdateGrant, hickory,
};
use hickory_server::proto::op::ResponseCode;
use hickory_server::proto::rr::rdata::tsig::TsigAlgorithm;
use hickory_server::proto::rr::{
    DNSClass, LowerName, RData, Record, RecordType, TSigResponseContext, TSigner,
};
use hickory_server::server::Request;
use tracing::info;

use crate::data::ZoneData;
use crate::key::{self, Key, Refusal};

/// Default TSIG fudge: how far a message's signing time may be from the
/// server's clock, in seconds (RFC 8945 recommends 300).
pub const DEFAULT_TSIG_FUDGE: u16 = 300;

/// Dynamic updates on the embedded DNS with the records' own TSIG keys.
///
/// A record `HOST`'s key is named `HOST.`, uses hmac-sha256 or
/// hmac-sha512, and its secret is the record's shared secret
/// (`printf %s "$SECRET" | base64` prints it in base64). It may change the
/// host's own A and AAAA records and the TXT values at
/// `_acme-challenge.HOST`. hmac-md5 is not offered: hickory's TSIG has no
/// MD5, and such keys are answered BADKEY.
#[derive(Debug, Clone)]
pub struct DnsUpdates {
    service: Arc<DdnsService>,
    fudge: u16,
    operators: Option<Arc<Operators>>,
}

/// The operator keys and the administration their changes go through.
#[derive(Debug)]
struct Operators {
    admin: RecordAdmin,
    keys: Vec<OperatorKey>,
}

/// An operator's TSIG key from the configuration, with what it may
/// change ([`UpdateGrant`]s, like BIND's `update-policy`): for
/// external-dns, Kea DHCP-DDNS and the like. Its changes are the
/// operator's ([`RecordAdmin::set_values`], [`RecordAdmin::remove`]): a
/// name's record is made when needed, and no record's address rules apply.
/// A key with a host's name takes the place of that host's own key.
#[derive(Clone)]
pub struct OperatorKey {
    key: Key,
    grants: Vec<UpdateGrant>,
}

impl std::fmt::Debug for OperatorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorKey")
            .field("key", &self.key)
            .field("grants", &self.grants)
            .finish()
    }
}

impl OperatorKey {
    /// A key named `name` (`kea-ddns`), with `algorithm` (`hmac-sha256`,
    /// `hmac-sha384` or `hmac-sha512`), its secret's bytes, and its grants.
    ///
    /// ```
    /// use ddns_authoritative::OperatorKey;
    /// use ddns_core::{RecordName, RecordType, UpdateGrant};
    /// let lan = UpdateGrant::subdomain(RecordName::parse("lan.example.com")?, vec![RecordType::A]);
    /// let key = OperatorKey::new("kea-ddns", "hmac-sha256", b"0123456789abcdef".to_vec(), vec![lan])?;
    /// assert!(format!("{key:?}").contains("[REDACTED]"));
    /// assert!(OperatorKey::new("kea-ddns", "hmac-md5", vec![1], vec![]).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] for a bad name, an algorithm not
    /// offered, or an empty secret.
    pub fn new(
        name: &str,
        algorithm: &str,
        secret: Vec<u8>,
        grants: Vec<UpdateGrant>,
    ) -> ddns_core::Result<Self> {
        Ok(Self {
            key: Key::new(name, algorithm, secret, "update keys")?,
            grants,
        })
    }

    /// The key's name, fully qualified.
    pub fn name(&self) -> String {
        self.key.name().to_string()
    }

    /// True when some grant covers `key`.
    fn permits(&self, key: &RecordKey) -> bool {
        self.grants.iter().any(|g| g.permits(key))
    }
}

/// Whose key signed a message.
enum Signer {
    /// A record's own key.
    Record {
        host: Hostname,
        secret: SharedSecret,
    },
    /// The operator key at this index.
    Operator(usize),
}

/// A message whose key and MAC checked out.
pub(crate) struct Verified {
    signer: Signer,
    pub(crate) context: TSigResponseContext,
}

impl DnsUpdates {
    /// Updates decided by `service`.
    pub fn new(service: Arc<DdnsService>) -> Self {
        Self {
            service,
            fudge: DEFAULT_TSIG_FUDGE,
            operators: None,
        }
    }

    /// Accepts `keys` too, whose changes go through `admin`.
    #[must_use]
    pub fn with_operator_keys(mut self, admin: RecordAdmin, keys: Vec<OperatorKey>) -> Self {
        self.operators = (!keys.is_empty()).then(|| Arc::new(Operators { admin, keys }));
        self
    }

    /// Sets the TSIG fudge in seconds (default [`DEFAULT_TSIG_FUDGE`]).
    #[must_use]
    pub fn with_fudge(mut self, fudge: u16) -> Self {
        self.fudge = fudge;
        self
    }

    /// Checks a message's TSIG: the key, the MAC and the time. `now` is
    /// the server's time in Unix seconds.
    pub(crate) async fn verify(&self, request: &Request, now: u64) -> Result<Verified, Refusal> {
        let Some(tsig) = request.signature.as_deref() else {
            return Err((ResponseCode::Refused, None));
        };
        let algorithm = &tsig.data.algorithm;
        if let Some((index, key)) = self.operators.as_ref().and_then(|operators| {
            operators
                .keys
                .iter()
                .enumerate()
                .find(|(_, key)| key.key.is_named(&tsig.name))
        }) {
            if !key.key.algorithm_is(algorithm) {
                info!(key = %tsig.name, %algorithm, "DNS message refused: not the operator key's algorithm");
                return Err(key::unknown_key(request, now));
            }
            let Some(signer) = key.key.signer(self.fudge) else {
                return Err(key::unknown_key(request, now));
            };
            return Self::checked(request, now, signer, Signer::Operator(index));
        }
        if !matches!(
            algorithm,
            TsigAlgorithm::HmacSha256 | TsigAlgorithm::HmacSha512
        ) {
            info!(key = %tsig.name, %algorithm, "DNS message refused: TSIG algorithm not offered");
            return Err(key::unknown_key(request, now));
        }
        let Ok(host) = Hostname::parse(&tsig.name.to_ascii()) else {
            return Err(key::unknown_key(request, now));
        };
        let secret = match self.service.update_key(&host).await {
            Ok(Some(secret)) => secret,
            Ok(None) => {
                info!(key = %tsig.name, "DNS message refused: no such TSIG key");
                return Err(key::unknown_key(request, now));
            }
            Err(failure) => {
                info!(key = %tsig.name, detail = ?failure.operator_detail(), "DNS message failed: the key could not be read");
                return Err((ResponseCode::ServFail, None));
            }
        };
        let Ok(signer) = TSigner::new(
            secret.expose_secret().as_bytes().to_vec(),
            algorithm.clone(),
            tsig.name.clone(),
            self.fudge,
        ) else {
            return Err(key::unknown_key(request, now));
        };
        Self::checked(request, now, signer, Signer::Record { host, secret })
    }

    /// Checks the message's MAC and time with `tsigner`, for `signer`.
    fn checked(
        request: &Request,
        now: u64,
        tsigner: TSigner,
        signer: Signer,
    ) -> Result<Verified, Refusal> {
        let checked = key::check(request, now, tsigner)?;
        Ok(Verified {
            signer,
            context: checked.context(request.metadata.id, now),
        })
    }

    /// Processes an UPDATE for the zone `data`: true when something
    /// changed.
    pub(crate) async fn update(
        &self,
        data: &ZoneData,
        request: &Request,
        now: u64,
    ) -> (Result<bool, ResponseCode>, Option<TSigResponseContext>) {
        let verified = match self.verify(request, now).await {
            Ok(verified) => verified,
            Err((code, context)) => return (Err(code), context),
        };
        let context = Some(verified.context);
        let rrsets = match plan_request(data, request) {
            Ok(rrsets) => rrsets,
            Err(code) => {
                info!(%code, "DNS UPDATE refused");
                return (Err(code), context);
            }
        };
        if rrsets.is_empty() {
            return (Ok(false), context);
        }
        let source = request.src().ip();
        let result = match verified.signer {
            Signer::Record { host, secret } => {
                let result = self
                    .service
                    .dns_update(DnsUpdateRequest::new(host.clone(), secret, rrsets, source))
                    .await
                    .map_err(|failure| (response_code(&failure), format!("{failure:?}")));
                (host.to_string(), result)
            }
            Signer::Operator(index) => match &self.operators {
                Some(operators) => {
                    let key = &operators.keys[index];
                    (key.name(), operators.apply(key, rrsets).await)
                }
                None => (String::new(), Err((ResponseCode::ServFail, String::new()))),
            },
        };
        match result {
            (key, Ok(changed)) => {
                info!(%key, %source, changed, "DNS UPDATE applied");
                (Ok(changed > 0), context)
            }
            (key, Err((code, reason))) => {
                info!(%key, %source, %code, reason, "DNS UPDATE refused");
                (Err(code), context)
            }
        }
    }
}

impl Operators {
    /// Applies `rrsets` signed with the operator key `key`: every one
    /// must be granted (else REFUSED, nothing changed); each is then set
    /// or, left empty, removed with its record.
    async fn apply(
        &self,
        key: &OperatorKey,
        rrsets: Vec<RrsetUpdate>,
    ) -> Result<usize, (ResponseCode, String)> {
        if let Some(denied) = rrsets.iter().find(|r| !key.permits(&r.key)) {
            return Err((
                ResponseCode::Refused,
                format!("the key {} has no grant for {}", key.name(), denied.key),
            ));
        }
        let mut changed = 0;
        for rrset in rrsets {
            let result = if rrset.values.is_empty() {
                self.admin
                    .remove(rrset.key.name(), &[rrset.key.record_type()])
                    .await
            } else {
                self.admin
                    .set_values(rrset.key.clone(), rrset.values, rrset.ttl)
                    .await
            };
            match result {
                Ok(_) => changed += 1,
                // Deleting what is not there changes nothing.
                Err(AdminError::Missing { .. }) => {}
                Err(e @ AdminError::Invalid(_)) => {
                    return Err((ResponseCode::Refused, e.to_string()));
                }
                Err(e) => return Err((ResponseCode::ServFail, e.to_string())),
            }
        }
        Ok(changed)
    }
}

/// What an UPDATE `message` would change in `zone`: its prerequisites
/// evaluated against what the zone serves (RFC 2136 section 3.2) and the
/// RRsets its update section leaves (section 3.4), only those that differ
/// from what is served. The signature is not checked and the scope of a
/// key not decided here ([`DnsUpdates`] does both); the server calls this
/// after the TSIG check, and tests and the fuzz target call it on any
/// bytes.
///
/// ```
/// use ddns_authoritative::{ResponseCode, ZoneConfig, ZoneData, plan_update};
/// use ddns_core::Hostname;
/// let zone = ZoneData::new(ZoneConfig::new(Hostname::parse("example.com")?))?;
/// assert_eq!(plan_update(&zone, b"not a DNS message"), Err(ResponseCode::FormErr));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// The RCODE to answer: FORMERR for a message that does not parse or is
/// not an UPDATE of one zone, NOTAUTH for another zone, NOTZONE for a
/// name outside it, a prerequisite's code, REFUSED for a type or value
/// the zone does not hold.
pub fn plan_update(zone: &ZoneData, message: &[u8]) -> Result<Vec<RrsetUpdate>, ResponseCode> {
    let request = Request::from_bytes(
        message.to_vec(),
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        hickory_server::net::xfer::Protocol::Udp,
    )
    .map_err(|_| ResponseCode::FormErr)?;
    if request.metadata.op_code != hickory_server::proto::op::OpCode::Update {
        return Err(ResponseCode::FormErr);
    }
    let info = request.request_info().map_err(|_| ResponseCode::FormErr)?;
    if info.query.query_type() != RecordType::SOA {
        return Err(ResponseCode::FormErr);
    }
    if info.query.name() != zone.origin() {
        return Err(ResponseCode::NotAuth);
    }
    plan_request(zone, &request)
}

/// [`plan_update`] of a parsed request.
fn plan_request(data: &ZoneData, request: &Request) -> Result<Vec<RrsetUpdate>, ResponseCode> {
    check_prerequisites(data, &request.answers)?;
    plan(data, &request.authorities)
}

/// The RCODE of a failure of the service.
fn response_code(failure: &Failure) -> ResponseCode {
    match failure {
        Failure::Backend { .. } | Failure::ConcurrentUpdate { .. } => ResponseCode::ServFail,
        _ => ResponseCode::Refused,
    }
}

/// True when `rdata` is the empty data of a prerequisite or deletion.
fn is_empty(rdata: &RData) -> bool {
    matches!(rdata, RData::Update0(_) | RData::NULL(..))
}

/// The owner of `record` when it lies in the zone.
fn owner(data: &ZoneData, record: &Record) -> Result<LowerName, ResponseCode> {
    let owner = LowerName::from(&record.name);
    if data.origin().zone_of(&owner) {
        Ok(owner)
    } else {
        Err(ResponseCode::NotZone)
    }
}

/// The managed key of `owner` and `rtype`, when the zone can hold it.
fn managed_key(owner: &LowerName, rtype: RecordType) -> Option<RecordKey> {
    let record_type = hickory::record_type(rtype)?;
    let name = RecordName::parse(&owner.to_string()).ok()?;
    RecordKey::try_new(name, record_type).ok()
}

/// RFC 2136 section 3.2: every prerequisite must hold.
fn check_prerequisites(data: &ZoneData, prerequisites: &[Record]) -> Result<(), ResponseCode> {
    // Value-dependent prerequisites are compared as whole RRsets.
    let mut wanted: BTreeMap<RecordKey, Vec<RecordValue>> = BTreeMap::new();
    for rr in prerequisites {
        if rr.ttl != 0 {
            return Err(ResponseCode::FormErr);
        }
        let owner = owner(data, rr)?;
        let rtype = rr.record_type();
        let in_use = || data.answer(&owner, RecordType::ANY).is_ok();
        let exists = || data.answer(&owner, rtype).is_ok();
        match rr.dns_class {
            DNSClass::ANY | DNSClass::NONE if !is_empty(&rr.data) => {
                return Err(ResponseCode::FormErr);
            }
            DNSClass::ANY if rtype == RecordType::ANY => {
                if !in_use() {
                    return Err(ResponseCode::NXDomain);
                }
            }
            DNSClass::ANY => {
                if !exists() {
                    return Err(ResponseCode::NXRRSet);
                }
            }
            DNSClass::NONE if rtype == RecordType::ANY => {
                if in_use() {
                    return Err(ResponseCode::YXDomain);
                }
            }
            DNSClass::NONE => {
                if exists() {
                    return Err(ResponseCode::YXRRSet);
                }
            }
            DNSClass::IN => {
                let key = managed_key(&owner, rtype).ok_or(ResponseCode::NXRRSet)?;
                let value = hickory::value(&rr.data, key.record_type())
                    .and_then(Result::ok)
                    .ok_or(ResponseCode::NXRRSet)?;
                let values = wanted.entry(key).or_default();
                if !values.contains(&value) {
                    values.push(value);
                }
            }
            _ => return Err(ResponseCode::FormErr),
        }
    }
    for (key, values) in wanted {
        let mut held = data.values(&key);
        let mut values = values;
        held.sort();
        values.sort();
        if held != values {
            return Err(ResponseCode::NXRRSet);
        }
    }
    Ok(())
}

/// The working values of `key`: what the zone serves until the update
/// section changes them.
fn values_of<'a>(
    working: &'a mut BTreeMap<RecordKey, Vec<RecordValue>>,
    data: &ZoneData,
    key: RecordKey,
) -> &'a mut Vec<RecordValue> {
    working
        .entry(key)
        .or_insert_with_key(|key| data.values(key))
}

/// RFC 2136 section 3.4: the RRsets the update section leaves, starting
/// from what the zone serves; only those that differ from it.
fn plan(data: &ZoneData, updates: &[Record]) -> Result<Vec<RrsetUpdate>, ResponseCode> {
    let mut working: BTreeMap<RecordKey, Vec<RecordValue>> = BTreeMap::new();
    let mut ttls: BTreeMap<RecordKey, u32> = BTreeMap::new();
    for rr in updates {
        let owner = owner(data, rr)?;
        let rtype = rr.record_type();
        match rr.dns_class {
            DNSClass::IN => {
                if is_empty(&rr.data) {
                    return Err(ResponseCode::FormErr);
                }
                // Only A, AAAA and TXT are managed; SOA, NS and the rest
                // are not for dynamic updates.
                let key = managed_key(&owner, rtype).ok_or(ResponseCode::Refused)?;
                let value = hickory::value(&rr.data, key.record_type())
                    .ok_or(ResponseCode::FormErr)?
                    .map_err(|_| ResponseCode::Refused)?;
                let ttl = ttls.entry(key.clone()).or_insert(rr.ttl);
                *ttl = (*ttl).max(rr.ttl);
                let values = values_of(&mut working, data, key);
                if !values.contains(&value) {
                    values.push(value);
                }
            }
            DNSClass::ANY => {
                if rr.ttl != 0 || !is_empty(&rr.data) {
                    return Err(ResponseCode::FormErr);
                }
                let types: Vec<RecordType> = if rtype == RecordType::ANY {
                    vec![RecordType::A, RecordType::AAAA, RecordType::TXT]
                } else {
                    vec![rtype]
                };
                for t in types {
                    if let Some(key) = managed_key(&owner, t) {
                        values_of(&mut working, data, key).clear();
                    }
                }
            }
            DNSClass::NONE => {
                if rr.ttl != 0 || is_empty(&rr.data) {
                    return Err(ResponseCode::FormErr);
                }
                if let Some(key) = managed_key(&owner, rtype)
                    && let Some(Ok(value)) = hickory::value(&rr.data, key.record_type())
                {
                    values_of(&mut working, data, key).retain(|v| *v != value);
                }
            }
            _ => return Err(ResponseCode::FormErr),
        }
    }
    Ok(working
        .into_iter()
        .filter(|(key, values)| data.values(key) != *values)
        .map(|(key, values)| {
            let ttl = ttls.get(&key).copied();
            RrsetUpdate::new(key, values).with_ttl(ttl)
        })
        .collect())
}
