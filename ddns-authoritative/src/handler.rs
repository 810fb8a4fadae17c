//! The hickory `ZoneHandler` answering queries from [`ZoneData`].

use std::sync::Arc;

use async_trait::async_trait;
use hickory_server::dnssec::NxProofKind;
use hickory_server::proto::op::ResponseCode;
use hickory_server::proto::rr::{LowerName, RecordType, TSigResponseContext};
use hickory_server::server::{Request, RequestInfo};
use hickory_server::zone_handler::{
    AuthLookup, AxfrPolicy, LookupControlFlow, LookupError, LookupOptions, LookupRecords,
    Nsec3QueryInfo, ZoneHandler, ZoneType,
};

use crate::data::{Absence, ZoneData};
use crate::update::DnsUpdates;

/// Answers for one zone: A and AAAA from the data, SOA and NS synthesised,
/// NODATA and NXDOMAIN told apart, REFUSED outside the zone. Zone transfers
/// are refused; dynamic updates too, unless [`DnsUpdates`] are served, and
/// then TSIG-signed queries get signed answers.
pub(crate) struct ZoneAnswerer {
    data: Arc<ZoneData>,
    updates: Option<Arc<DnsUpdates>>,
    /// hickory's catalog (built with TSIG, hence DNSSEC, support) asks
    /// every positive answer for NSEC3 records when the zone declares
    /// NSEC3 and logs a warning per answer when it declares nothing. The
    /// zone is unsigned and has no such records: it declares NSEC3 and
    /// answers none, which leaves every response as it was.
    no_proofs: NxProofKind,
}

/// The server's time in Unix seconds, as TSIG counts it.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl ZoneAnswerer {
    pub(crate) fn new(data: Arc<ZoneData>, updates: Option<Arc<DnsUpdates>>) -> Self {
        Self {
            data,
            updates,
            no_proofs: NxProofKind::Nsec3 {
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
        let result = match self.data.answer(name, rtype) {
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
        self.data.origin()
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
        // A signed query (certbot signs its SOA lookups) gets a signed
        // answer, or the TSIG error its signature earns.
        let mut context = None;
        if let Some(updates) = &self.updates
            && request.signature.is_some()
        {
            match updates.verify(request, unix_now()).await {
                Ok(verified) => context = Some(verified.context),
                Err((code, refused)) => {
                    return (
                        LookupControlFlow::Break(Err(LookupError::from(code))),
                        refused,
                    );
                }
            }
        }
        let flow = match request.request_info() {
            Ok(info) => self.answer(info.query.name(), info.query.query_type(), lookup_options),
            Err(e) => LookupControlFlow::Break(Err(e)),
        };
        (flow, context)
    }

    async fn update(
        &self,
        request: &Request,
        now: u64,
    ) -> (Result<bool, ResponseCode>, Option<TSigResponseContext>) {
        match &self.updates {
            Some(updates) => updates.update(&self.data, request, now).await,
            None => (Err(ResponseCode::Refused), None),
        }
    }

    async fn nsec3_records(
        &self,
        _info: Nsec3QueryInfo<'_>,
        _lookup_options: LookupOptions,
    ) -> LookupControlFlow<AuthLookup> {
        // Not signed: no NSEC3 records either.
        LookupControlFlow::Break(Ok(AuthLookup::default()))
    }

    fn nx_proof_kind(&self) -> Option<&NxProofKind> {
        Some(&self.no_proofs)
    }

    async fn nsec_records(
        &self,
        _name: &LowerName,
        _lookup_options: LookupOptions,
    ) -> LookupControlFlow<AuthLookup> {
        // The zone is not signed: there are no NSEC records to give.
        LookupControlFlow::Break(Ok(AuthLookup::default()))
    }
}

/// Stands in the catalog for every name outside the zones served, so that
/// such names get a clear answer: REFUSED for queries, NOTAUTH for
/// updates (RFC 2136 section 3.1.1; hickory's catalog would otherwise
/// answer SERVFAIL).
pub(crate) struct OutsideZones {
    root: LowerName,
}

impl OutsideZones {
    pub(crate) fn new() -> Self {
        Self {
            root: LowerName::from(hickory_server::proto::rr::Name::root()),
        }
    }
}

#[async_trait]
impl ZoneHandler for OutsideZones {
    fn zone_type(&self) -> ZoneType {
        ZoneType::Primary
    }

    fn axfr_policy(&self) -> AxfrPolicy {
        AxfrPolicy::Deny
    }

    fn origin(&self) -> &LowerName {
        &self.root
    }

    async fn lookup(
        &self,
        _name: &LowerName,
        _rtype: RecordType,
        _request_info: Option<&RequestInfo<'_>>,
        _lookup_options: LookupOptions,
    ) -> LookupControlFlow<AuthLookup> {
        LookupControlFlow::Break(Err(LookupError::from(ResponseCode::Refused)))
    }

    async fn search(
        &self,
        _request: &Request,
        _lookup_options: LookupOptions,
    ) -> (LookupControlFlow<AuthLookup>, Option<TSigResponseContext>) {
        (
            LookupControlFlow::Break(Err(LookupError::from(ResponseCode::Refused))),
            None,
        )
    }

    async fn update(
        &self,
        _request: &Request,
        _now: u64,
    ) -> (Result<bool, ResponseCode>, Option<TSigResponseContext>) {
        (Err(ResponseCode::NotAuth), None)
    }

    async fn nsec_records(
        &self,
        _name: &LowerName,
        _lookup_options: LookupOptions,
    ) -> LookupControlFlow<AuthLookup> {
        LookupControlFlow::Break(Ok(AuthLookup::default()))
    }

    async fn nsec3_records(
        &self,
        _info: Nsec3QueryInfo<'_>,
        _lookup_options: LookupOptions,
    ) -> LookupControlFlow<AuthLookup> {
        LookupControlFlow::Break(Ok(AuthLookup::default()))
    }

    fn nx_proof_kind(&self) -> Option<&NxProofKind> {
        None
    }
}
