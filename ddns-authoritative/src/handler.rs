//! The hickory `ZoneHandler` answering queries from [`ZoneData`], and
//! standing in for every name outside the zones served.

use std::sync::Arc;

use async_trait::async_trait;
use hickory_server::dnssec::NxProofKind;
use hickory_server::proto::op::ResponseCode;
use hickory_server::proto::rr::{LowerName, Name, RecordType, TSigResponseContext};
use hickory_server::server::{Request, RequestInfo};
use hickory_server::zone_handler::{
    AuthLookup, AxfrPolicy, LookupControlFlow, LookupError, LookupOptions, LookupRecords,
    Nsec3QueryInfo, ZoneHandler, ZoneTransfer, ZoneType,
};

use crate::data::{Absence, ZoneData};
use crate::key::unix_now;
use crate::transfer::{self, Secondary};
use crate::update::DnsUpdates;

/// What a handler answers for.
enum Serves {
    /// One zone's data.
    Zone(Arc<ZoneData>),
    /// Every name outside the zones served (registered at the root).
    Outside(LowerName),
}

/// Answers for one zone: A, AAAA and TXT from the data, SOA and NS
/// synthesised, NODATA and NXDOMAIN told apart. Zone transfers reaching
/// the handler (over UDP, or to names that are no zone's apex) are
/// REFUSED: the TCP loop answers the secondaries' own. Dynamic updates are
/// REFUSED unless [`DnsUpdates`] are served. Queries signed with a
/// secondary's key, or with an update key, get signed answers. The handler of
/// [`ZoneAnswerer::outside`] answers REFUSED to queries and NOTAUTH to
/// updates for names in no zone (RFC 2136 section 3.1.1; hickory's catalog
/// would answer SERVFAIL).
pub(crate) struct ZoneAnswerer {
    serves: Serves,
    updates: Option<Arc<DnsUpdates>>,
    /// What the handler tells hickory's catalog about denial: NSEC3, in
    /// every zone, though a signed zone's denial is NSEC. The catalog asks
    /// a handler that declares NSEC for proofs on wildcard answers only,
    /// and logs a warning for every other positive answer; one that
    /// declares NSEC3 is asked on every answer, positive and (with the DO
    /// bit) negative, through [`ZoneHandler::nsec3_records`], which gives
    /// the zone's NSEC records for negative answers and nothing for
    /// positive ones (or in an unsigned zone).
    proofs: NxProofKind,
}

impl ZoneAnswerer {
    /// The handler of the zone `data`.
    pub(crate) fn new(data: Arc<ZoneData>, updates: Option<Arc<DnsUpdates>>) -> Self {
        Self::serving(Serves::Zone(data), updates)
    }

    /// The handler of every name outside the zones served.
    pub(crate) fn outside() -> Self {
        Self::serving(Serves::Outside(LowerName::from(Name::root())), None)
    }

    fn serving(serves: Serves, updates: Option<Arc<DnsUpdates>>) -> Self {
        Self {
            serves,
            updates,
            proofs: NxProofKind::Nsec3 {
                algorithm: Default::default(),
                salt: Arc::new([]),
                iterations: 0,
                opt_out: false,
            },
        }
    }

    fn answer(
        &self,
        name: &LowerName,
        rtype: RecordType,
        options: LookupOptions,
    ) -> LookupControlFlow<AuthLookup> {
        let Serves::Zone(data) = &self.serves else {
            return LookupControlFlow::Break(Err(LookupError::from(ResponseCode::Refused)));
        };
        // IXFR reaches here as a query; like AXFR, it is refused.
        if matches!(rtype, RecordType::IXFR | RecordType::AXFR) {
            return LookupControlFlow::Break(Err(LookupError::from(ResponseCode::Refused)));
        }
        let result = match data.answer(name, rtype) {
            Ok(sets) => Ok(AuthLookup::answers(
                LookupRecords::many(options, sets),
                None,
            )),
            Err(Absence::NoData) => Err(LookupError::NameExists),
            Err(Absence::NoName) => Err(LookupError::from(ResponseCode::NXDomain)),
            Err(Absence::OutsideZone) => Err(LookupError::from(ResponseCode::Refused)),
        };
        LookupControlFlow::Break(result)
    }
}

#[async_trait]
impl ZoneHandler for ZoneAnswerer {
    fn zone_type(&self) -> ZoneType {
        ZoneType::Primary
    }

    fn axfr_policy(&self) -> AxfrPolicy {
        AxfrPolicy::Deny
    }

    fn origin(&self) -> &LowerName {
        match &self.serves {
            Serves::Zone(data) => data.origin(),
            Serves::Outside(root) => root,
        }
    }

    async fn lookup(
        &self,
        name: &LowerName,
        rtype: RecordType,
        _request_info: Option<&RequestInfo<'_>>,
        lookup_options: LookupOptions,
    ) -> LookupControlFlow<AuthLookup> {
        self.answer(name, rtype, lookup_options)
    }

    async fn search(
        &self,
        request: &Request,
        lookup_options: LookupOptions,
    ) -> (LookupControlFlow<AuthLookup>, Option<TSigResponseContext>) {
        // A signed query gets a signed answer, or the TSIG error its
        // signature earns: secondaries sign their SOA checks with their
        // transfer keys, certbot its SOA lookups with a record's key.
        let mut context = None;
        if let Some(tsig) = request.signature.as_deref() {
            let now = unix_now();
            let secondaries = match &self.serves {
                Serves::Zone(data) => data.config().secondaries(),
                Serves::Outside(_) => &[],
            };
            let verified = if secondaries
                .iter()
                .filter_map(Secondary::key)
                .any(|k| k.is_named(&tsig.name))
            {
                Some(
                    transfer::authorize(secondaries, request, now)
                        .map(|checked| checked.map(|c| c.context(request.metadata.id, now))),
                )
            } else if let Some(updates) = &self.updates {
                Some(updates.verify(request, now).await.map(|v| Some(v.context)))
            } else {
                None
            };
            match verified {
                Some(Ok(signed)) => context = signed,
                Some(Err((code, refused))) => {
                    return (
                        LookupControlFlow::Break(Err(LookupError::from(code))),
                        refused,
                    );
                }
                None => {}
            }
        }
        let flow = match request.request_info() {
            Ok(info) => self.answer(info.query.name(), info.query.query_type(), lookup_options),
            Err(e) => LookupControlFlow::Break(Err(e)),
        };
        (flow, context)
    }

    async fn zone_transfer(
        &self,
        _request: &Request,
        _lookup_options: LookupOptions,
        _now: u64,
    ) -> Option<(
        Result<ZoneTransfer, LookupError>,
        Option<TSigResponseContext>,
    )> {
        // Transfers over TCP to the zone's secondaries never reach the
        // catalog (see the `tcp` module); the rest are refused. (The
        // trait's default, NOTIMP, reaches the client as an empty NOERROR
        // through hickory's catalog, which a secondary takes for a
        // broken transfer.)
        Some((Err(LookupError::from(ResponseCode::Refused)), None))
    }

    async fn update(
        &self,
        request: &Request,
        now: u64,
    ) -> (Result<bool, ResponseCode>, Option<TSigResponseContext>) {
        match (&self.serves, &self.updates) {
            (Serves::Zone(data), Some(updates)) => updates.update(data, request, now).await,
            (Serves::Zone(_), None) => (Err(ResponseCode::Refused), None),
            (Serves::Outside(_), _) => (Err(ResponseCode::NotAuth), None),
        }
    }

    async fn nsec3_records(
        &self,
        info: Nsec3QueryInfo<'_>,
        lookup_options: LookupOptions,
    ) -> LookupControlFlow<AuthLookup> {
        // The zone's NSEC proofs for a negative answer (see `proofs`);
        // nothing for a positive one, or in an unsigned zone.
        let proofs = match &self.serves {
            Serves::Zone(data) if data.is_signed() && !data.answers(info.qname, info.qtype) => {
                data.denial(info.qname)
            }
            _ => Vec::new(),
        };
        LookupControlFlow::Break(Ok(AuthLookup::answers(
            LookupRecords::many(lookup_options, proofs),
            None,
        )))
    }

    fn nx_proof_kind(&self) -> Option<&NxProofKind> {
        Some(&self.proofs)
    }

    async fn nsec_records(
        &self,
        _name: &LowerName,
        _lookup_options: LookupOptions,
    ) -> LookupControlFlow<AuthLookup> {
        // Never asked: the handler declares NSEC3 (see `proofs`), and its
        // NSEC proofs go out through `nsec3_records`.
        LookupControlFlow::Break(Ok(AuthLookup::default()))
    }
}
