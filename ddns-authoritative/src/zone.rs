//! The zone's own settings and the records synthesised from them.
//!
//! A dynamic zone has no zone file: its SOA and NS records come from
//! [`ZoneConfig`], and its A and AAAA records from the changes the DNS
//! provider applies. The SOA serial starts at the Unix time the zone is
//! loaded and grows by one with every applied batch; a
//! [`crate::SerialFile`] keeps it from going back across restarts even
//! when more batches than seconds pass.

use std::time::{SystemTime, UNIX_EPOCH};

use ddns_core::{Hostname, RecordName};
use hickory_server::proto::rr::rdata::{NS, SOA};
use hickory_server::proto::rr::{Name, RData, RecordSet, RecordType};

use crate::error::AuthoritativeError;
use crate::transfer::Secondary;

/// The SOA's timers, in seconds: how secondaries follow the zone
/// (`refresh`, `retry`, `expire`) and how long resolvers keep a negative
/// answer (`minimum`, also the SOA's own TTL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoaTimers {
    /// How often a secondary checks the serial without a NOTIFY.
    pub refresh: u32,
    /// How soon a secondary tries again after a failed check.
    pub retry: u32,
    /// How long a secondary keeps answering without reaching the primary.
    pub expire: u32,
    /// The negative-caching TTL.
    pub minimum: u32,
}

impl Default for SoaTimers {
    /// Refresh 1 hour, retry 10 minutes, expire 2 weeks (a secondary keeps
    /// serving through a long outage of the primary), minimum 60 s
    /// (answers change often).
    fn default() -> Self {
        Self {
            refresh: 3600,
            retry: 600,
            expire: 1_209_600,
            minimum: 60,
        }
    }
}

impl SoaTimers {
    /// Checks the timers as RFC 1912 advises: each from 1 s to 2^31 - 1 s,
    /// retry below refresh, expire above refresh + retry. The error names
    /// the field and says why.
    ///
    /// ```
    /// use ddns_authoritative::SoaTimers;
    /// assert!(SoaTimers::default().check().is_ok());
    /// let bad = SoaTimers { retry: 7200, ..SoaTimers::default() };
    /// assert_eq!(bad.check().unwrap_err().0, "retry");
    /// ```
    ///
    /// # Errors
    ///
    /// The field and the reason, for the first timer that is wrong.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        for (field, value) in [
            ("refresh", self.refresh),
            ("retry", self.retry),
            ("expire", self.expire),
            ("minimum", self.minimum),
        ] {
            if value == 0 || i32::try_from(value).is_err() {
                return Err((
                    field,
                    format!("{value} is not from 1 to 2147483647 seconds"),
                ));
            }
        }
        if self.retry >= self.refresh {
            return Err((
                "retry",
                format!("it must be shorter than refresh ({} s)", self.refresh),
            ));
        }
        if u64::from(self.expire) <= u64::from(self.refresh) + u64::from(self.retry) {
            return Err((
                "expire",
                format!(
                    "it must exceed refresh + retry ({} s); a week or more is usual",
                    u64::from(self.refresh) + u64::from(self.retry)
                ),
            ));
        }
        Ok(())
    }
}

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
    ns_ttl: u32,
    timers: SoaTimers,
    secondaries: Vec<Secondary>,
}

impl ZoneConfig {
    /// The zone `origin` with defaults: name server `ns1.<origin>`,
    /// hostmaster `hostmaster.<origin>`, [`SoaTimers::default`], NS TTL
    /// 3600 s.
    pub fn new(origin: Hostname) -> Self {
        let under = |label: &str| origin.child(label).unwrap_or_else(|_| origin.clone());
        Self {
            nameservers: vec![under("ns1")],
            hostmaster: under("hostmaster"),
            origin,
            ns_ttl: 3600,
            timers: SoaTimers::default(),
            secondaries: Vec::new(),
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
        self.timers.minimum = ttl;
        self
    }

    /// Sets the SOA's timers (check them with [`SoaTimers::check`] first;
    /// values past 2^31 - 1 are sent as that).
    #[must_use]
    pub fn with_soa_timers(mut self, timers: SoaTimers) -> Self {
        self.timers = timers;
        self
    }

    /// Sets the zone's secondaries: they may transfer the zone (AXFR, and
    /// IXFR answered as AXFR) and get a NOTIFY after every batch of
    /// changes. None by default: every transfer is refused.
    #[must_use]
    pub fn with_secondaries(mut self, secondaries: Vec<Secondary>) -> Self {
        self.secondaries = secondaries;
        self
    }

    /// The zone's secondaries.
    pub fn secondaries(&self) -> &[Secondary] {
        &self.secondaries
    }

    /// The SOA's timers.
    pub fn soa_timers(&self) -> SoaTimers {
        self.timers
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
        let signed = |value: u32| i32::try_from(value).unwrap_or(i32::MAX);
        let t = self.timers;
        let soa = SOA::new(
            name(&self.nameservers[0])?,
            name(&self.hostmaster)?,
            serial,
            signed(t.refresh),
            signed(t.retry),
            signed(t.expire),
            t.minimum,
        );
        let mut set = RecordSet::with_ttl(origin, RecordType::SOA, t.minimum);
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
