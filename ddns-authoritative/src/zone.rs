//! The zone's own settings and the records synthesised from them.
//!
//! A dynamic zone has no zone file: its SOA and NS records come from
//! [`ZoneConfig`], and its A and AAAA records from the changes the DNS
//! provider applies. The SOA serial starts at the Unix time the zone is
//! loaded and grows by one with every applied batch, so it keeps increasing
//! across restarts as long as fewer changes than seconds pass.

use std::time::{SystemTime, UNIX_EPOCH};

use ddns_core::{Hostname, RecordName};
use hickory_server::proto::rr::rdata::{NS, SOA};
use hickory_server::proto::rr::{Name, RData, RecordSet, RecordType};

use crate::error::AuthoritativeError;

/// Settings of the zone the server is authoritative for.
///
/// ```
/// use ddns_authoritative::ZoneConfig;
/// use ddns_core::Hostname;
///
/// let zone = ZoneConfig::new(Hostname::parse("example.com")?);
/// assert_eq!(zone.nameservers()[0].as_str(), "ns1.example.com.");
/// assert_eq!(zone.hostmaster().as_str(), "hostmaster.example.com.");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneConfig {
    origin: Hostname,
    nameservers: Vec<Hostname>,
    hostmaster: Hostname,
    soa_ttl: u32,
    ns_ttl: u32,
    refresh: i32,
    retry: i32,
    expire: i32,
    negative_ttl: u32,
}

impl ZoneConfig {
    /// The zone `origin` with defaults: name server `ns1.<origin>`,
    /// hostmaster `hostmaster.<origin>`, SOA TTL and negative TTL 60 s
    /// (answers change often), NS TTL 3600 s.
    pub fn new(origin: Hostname) -> Self {
        let under = |label: &str| origin.child(label).unwrap_or_else(|_| origin.clone());
        Self {
            nameservers: vec![under("ns1")],
            hostmaster: under("hostmaster"),
            origin,
            soa_ttl: 60,
            ns_ttl: 3600,
            refresh: 3600,
            retry: 600,
            expire: 86_400,
            negative_ttl: 60,
        }
    }

    /// Sets the names of the zone's name servers (the NS records). An empty
    /// list is ignored: a zone needs at least one.
    #[must_use]
    pub fn with_nameservers(mut self, nameservers: Vec<Hostname>) -> Self {
        if !nameservers.is_empty() {
            self.nameservers = nameservers;
        }
        self
    }

    /// Sets the hostmaster mailbox of the SOA, as a domain name
    /// (`hostmaster.example.com.` stands for `hostmaster@example.com`).
    #[must_use]
    pub fn with_hostmaster(mut self, hostmaster: Hostname) -> Self {
        self.hostmaster = hostmaster;
        self
    }

    /// Sets the TTL of negative answers (the SOA's minimum field and TTL).
    #[must_use]
    pub fn with_negative_ttl(mut self, ttl: u32) -> Self {
        self.negative_ttl = ttl;
        self.soa_ttl = ttl;
        self
    }

    /// The zone's apex.
    pub fn origin(&self) -> &Hostname {
        &self.origin
    }

    /// The name servers.
    pub fn nameservers(&self) -> &[Hostname] {
        &self.nameservers
    }

    /// The hostmaster mailbox.
    pub fn hostmaster(&self) -> &Hostname {
        &self.hostmaster
    }

    /// The SOA RRset with `serial`.
    pub(crate) fn soa(&self, serial: u32) -> Result<RecordSet, AuthoritativeError> {
        let origin = name(&self.origin)?;
        let soa = SOA::new(
            name(&self.nameservers[0])?,
            name(&self.hostmaster)?,
            serial,
            self.refresh,
            self.retry,
            self.expire,
            self.negative_ttl,
        );
        let mut set = RecordSet::with_ttl(origin, RecordType::SOA, self.soa_ttl);
        set.add_rdata(RData::SOA(soa));
        Ok(set)
    }

    /// The NS RRset.
    pub(crate) fn ns(&self) -> Result<RecordSet, AuthoritativeError> {
        let mut set = RecordSet::with_ttl(name(&self.origin)?, RecordType::NS, self.ns_ttl);
        for ns in &self.nameservers {
            set.add_rdata(RData::NS(NS(name(ns)?)));
        }
        Ok(set)
    }
}

/// A hickory name for a validated owner name.
pub(crate) fn name(owner: impl AsRef<RecordName>) -> Result<Name, AuthoritativeError> {
    let owner = owner.as_ref();
    ddns_core::hickory::name(owner).map_err(|e| AuthoritativeError::Name {
        name: owner.to_string(),
        detail: e.to_string(),
    })
}

/// The first serial of a zone loaded now: the Unix time in seconds.
pub(crate) fn initial_serial() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| u32::try_from(d.as_secs()).ok())
        .unwrap_or(1)
}
