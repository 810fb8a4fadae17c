//! The hickory `ZoneHandler` answering queries from [`ZoneData`].

use std::sync::Arc;

use async_trait::async_trait;
use hickory_server::proto::op::ResponseCode;
use hickory_server::proto::rr::{LowerName, RecordType, TSigResponseContext};
use hickory_server::server::{Request, RequestInfo};
use hickory_server::zone_handler::{
    AuthLookup, AxfrPolicy, LookupControlFlow, LookupError, LookupOptions, LookupRecords,
    ZoneHandler, ZoneType,
};

use crate::data::{Absence, ZoneData};

/// Answers for one zone: A and AAAA from the data, SOA and NS synthesised,
/// NODATA and NXDOMAIN told apart, REFUSED outside the zone. Zone transfers
/// and dynamic updates are refused.
pub(crate) struct ZoneAnswerer {
    data: Arc<ZoneData>,
}

impl ZoneAnswerer {
    pub(crate) fn new(data: Arc<ZoneData>) -> Self {
        Self { data }
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
        let flow = match request.request_info() {
            Ok(info) => self.answer(info.query.name(), info.query.query_type(), lookup_options),
            Err(e) => LookupControlFlow::Break(Err(e)),
        };
        (flow, None)
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
