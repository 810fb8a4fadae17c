//! [`Rfc2136Provider`]: the `DnsProvider` over RFC 2136 dynamic updates.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use ddns_core::batching::apply_in_zone;
use ddns_core::{ChangeResult, DnsChange, DnsProvider, Hostname, RecordKey, RecordValue, hickory};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType as Rt, TSigner};

use crate::error::Rfc2136Error;
use crate::key::TsigKey;
use crate::wire::{self, Build, exchange_tcp, exchange_udp, read_answer};

/// What a signed query says about the key.
enum KeyProbe {
    /// The key is known and valid.
    Accepted,
    /// The server does not serve the zone.
    ZoneNotServed,
    /// The server does not accept the key.
    Rejected,
}

/// The results of applying a chunk, boxed because halving recurses.
type ChunkFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Vec<Result<(), Rfc2136Error>>> + Send + 'a>>;

/// Changes per UPDATE message by default: about 76 bytes each, so 500 stay
/// far below the 65,535-byte limit; larger ones are split further if they
/// do not fit.
pub const DEFAULT_CHANGES_PER_MESSAGE: usize = 500;

/// How long to wait for the server by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds an [`Rfc2136Provider`]; see [`Rfc2136Provider::builder`].
#[derive(Debug, Clone)]
pub struct Rfc2136ProviderBuilder {
    server: SocketAddr,
    zone: Hostname,
    key: Option<TsigKey>,
    timeout: Duration,
    changes_per_message: usize,
    tcp_reads: bool,
}

impl Rfc2136ProviderBuilder {
    /// Signs updates with `key` (without one, updates go unsigned, which
    /// only a server allowing updates by address accepts).
    #[must_use]
    pub fn with_key(mut self, key: TsigKey) -> Self {
        self.key = Some(key);
        self
    }

    /// How long to wait for each answer (default 5 s).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Most changes per UPDATE message (default 500, at least 1).
    #[must_use]
    pub fn with_changes_per_message(mut self, n: usize) -> Self {
        self.changes_per_message = n.max(1);
        self
    }

    /// Reads over TCP instead of UDP.
    #[must_use]
    pub fn with_tcp_reads(mut self, tcp: bool) -> Self {
        self.tcp_reads = tcp;
        self
    }

    /// The provider.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] when the zone or the key cannot be
    /// used.
    pub fn build(self) -> ddns_core::Result<Rfc2136Provider> {
        let zone_name = wire::name(&self.zone)?;
        let signer = self.key.as_ref().map(TsigKey::signer).transpose()?;
        let key_name = self
            .key
            .as_ref()
            .map_or_else(|| "(none)".to_owned(), TsigKey::name);
        Ok(Rfc2136Provider {
            server: self.server,
            zone: self.zone,
            zone_name,
            signer,
            key_name,
            timeout: self.timeout,
            changes_per_message: self.changes_per_message,
            tcp_reads: self.tcp_reads,
            sent: Arc::new(AtomicU64::new(0)),
        })
    }
}

impl From<Rfc2136Error> for Build {
    fn from(e: Rfc2136Error) -> Self {
        Self::Failed(e)
    }
}

/// A [`DnsProvider`] that changes records with RFC 2136 UPDATE messages
/// signed with TSIG, sent over TCP to the zone's primary server.
///
/// Each change replaces its RRset atomically (delete the RRset, add the
/// record, in one message); a batch becomes as few messages as fit. When the
/// server refuses a message (REFUSED, NOTZONE), its changes are sent again
/// one by one so that only the refused ones fail. Timeouts and network
/// errors are retried once: an update is an idempotent replacement. Key
/// problems (BADKEY, BADSIG, BADTIME) are never retried and are reported as
/// authentication errors.
///
/// ```no_run
/// use ddns_core::Hostname;
/// use ddns_rfc2136::{Rfc2136Provider, TsigKey};
///
/// # fn build() -> ddns_core::Result<Rfc2136Provider> {
/// let provider = Rfc2136Provider::builder("127.0.0.1:53".parse().unwrap(), Hostname::parse("example.com").unwrap())
///     .with_key(TsigKey::from_bind_file(std::path::Path::new("/etc/bind/ddns.key"))?)
///     .build()?;
/// # Ok(provider) }
/// ```
#[derive(Clone)]
pub struct Rfc2136Provider {
    server: SocketAddr,
    zone: Hostname,
    zone_name: Name,
    signer: Option<TSigner>,
    key_name: String,
    timeout: Duration,
    changes_per_message: usize,
    tcp_reads: bool,
    sent: Arc<AtomicU64>,
}

impl std::fmt::Debug for Rfc2136Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rfc2136Provider")
            .field("server", &self.server)
            .field("zone", &self.zone)
            .field("key", &self.key_name)
            .field("timeout", &self.timeout)
            .field("changes_per_message", &self.changes_per_message)
            .finish_non_exhaustive()
    }
}

/// Environment variables read by [`Rfc2136Provider::from_env`].
pub const ENV_SERVER: &str = "DDNS_RFC2136_SERVER";
/// The zone.
pub const ENV_ZONE: &str = "DDNS_RFC2136_ZONE";
/// The BIND-style key file.
pub const ENV_KEY_FILE: &str = "DDNS_RFC2136_KEY_FILE";

impl Rfc2136Provider {
    /// A builder for the zone `zone` on the primary server `server`.
    pub fn builder(server: SocketAddr, zone: Hostname) -> Rfc2136ProviderBuilder {
        Rfc2136ProviderBuilder {
            server,
            zone,
            key: None,
            timeout: DEFAULT_TIMEOUT,
            changes_per_message: DEFAULT_CHANGES_PER_MESSAGE,
            tcp_reads: false,
        }
    }

    /// A builder from `DDNS_RFC2136_SERVER` (address:port),
    /// `DDNS_RFC2136_ZONE` and, if set, `DDNS_RFC2136_KEY_FILE`.
    ///
    /// # Errors
    ///
    /// [`ddns_core::Error::InvalidInput`] naming the variable that is
    /// missing or wrong.
    pub fn from_env() -> ddns_core::Result<Rfc2136ProviderBuilder> {
        let var = |name: &str| {
            std::env::var(name)
                .map_err(|_| ddns_core::Error::invalid_input(format!("{name} is not set")))
        };
        let server = var(ENV_SERVER)?;
        let server: SocketAddr = server.parse().map_err(|_| {
            ddns_core::Error::invalid_input(format!(
                "{ENV_SERVER}={server:?} is not an address:port"
            ))
        })?;
        let zone = var(ENV_ZONE)?;
        let zone = Hostname::parse(&zone)
            .map_err(|e| ddns_core::Error::invalid_input(format!("{ENV_ZONE}={zone:?}: {e}")))?;
        let mut builder = Self::builder(server, zone);
        if let Ok(path) = std::env::var(ENV_KEY_FILE) {
            builder = builder.with_key(TsigKey::from_bind_file(&PathBuf::from(path))?);
        }
        Ok(builder)
    }

    /// The zone this provider changes.
    pub fn zone(&self) -> &Hostname {
        &self.zone
    }

    /// How many UPDATE messages this provider (and its clones) sent.
    pub fn messages_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Sends one UPDATE with `changes`, retrying once on a transient failure.
    async fn send(&self, changes: &[&DnsChange]) -> Result<(), Build> {
        match self.send_once(changes).await {
            Err(Build::Failed(e)) if e.is_transient() => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                self.send_once(changes).await
            }
            other => other,
        }
    }

    async fn send_once(&self, changes: &[&DnsChange]) -> Result<(), Build> {
        let mut message = wire::update_message(&self.zone_name, changes)?;
        let id = message.metadata.id;
        let (bytes, mut verifier) = wire::encode(&mut message, self.signer.as_ref())?;
        self.sent.fetch_add(1, Ordering::Relaxed);
        let answer = exchange_tcp(self.server, &bytes, self.timeout).await?;
        let answer = read_answer(self.server, &answer, id, verifier.as_mut(), &self.key_name)?;
        let names = || {
            let mut names: Vec<String> = changes.iter().map(|c| c.name().to_string()).collect();
            names.dedup();
            names.join(", ")
        };
        match answer.message.metadata.response_code {
            ResponseCode::NoError => Ok(()),
            ResponseCode::Refused => Err(Build::Failed(Rfc2136Error::Refused {
                server: self.server,
                key: self.key_name.clone(),
                names: names(),
                answer: "REFUSED",
            })),
            ResponseCode::NotAuth => Err(Build::Failed(Rfc2136Error::NotAuth {
                server: self.server,
                zone: self.zone.to_string(),
            })),
            ResponseCode::NotZone => Err(Build::Failed(Rfc2136Error::NotZone {
                server: self.server,
                zone: self.zone.to_string(),
                names: names(),
            })),
            other => Err(Build::Failed(Rfc2136Error::Rcode {
                server: self.server,
                rcode: other.to_string(),
            })),
        }
    }

    /// Applies `changes`, splitting messages that do not fit and isolating
    /// refused changes; returns one result per change.
    fn apply_chunk<'a>(&'a self, changes: Vec<&'a DnsChange>) -> ChunkFuture<'a> {
        Box::pin(async move {
            match self.send(&changes).await {
                Ok(()) => changes.iter().map(|_| Ok(())).collect(),
                Err(Build::TooLarge) if changes.len() > 1 => {
                    let mut first = changes;
                    let second = first.split_off(first.len() / 2);
                    let mut results = self.apply_chunk(first).await;
                    results.extend(self.apply_chunk(second).await);
                    results
                }
                Err(Build::TooLarge) => vec![Err(Rfc2136Error::Encode {
                    detail: "one change does not fit in a DNS message".into(),
                })],
                Err(Build::Failed(Rfc2136Error::Refused { .. } | Rfc2136Error::NotZone { .. }))
                    if changes.len() > 1 =>
                {
                    self.one_by_one(changes).await
                }
                Err(Build::Failed(e @ Rfc2136Error::BadKey { certain: false, .. })) => {
                    match self.probe_key().await {
                        // The key is good, so the server refuses these
                        // changes to it (Knot answers that with BADKEY).
                        KeyProbe::Accepted if changes.len() > 1 => self.one_by_one(changes).await,
                        KeyProbe::Accepted => {
                            let names = changes.iter().map(|c| c.name().to_string()).collect();
                            vec![Err(Rfc2136Error::Refused {
                                server: self.server,
                                key: self.key_name.clone(),
                                names,
                                answer: "BADKEY for a key the server accepts",
                            })]
                        }
                        KeyProbe::ZoneNotServed => {
                            let e = Rfc2136Error::NotAuth {
                                server: self.server,
                                zone: self.zone.to_string(),
                            };
                            changes.iter().map(|_| Err(e.clone())).collect()
                        }
                        KeyProbe::Rejected => changes.iter().map(|_| Err(e.clone())).collect(),
                    }
                }
                Err(Build::Failed(e)) => changes.iter().map(|_| Err(e.clone())).collect(),
            }
        })
    }

    /// Sends each change alone, to find which ones the server refuses.
    async fn one_by_one(&self, changes: Vec<&DnsChange>) -> Vec<Result<(), Rfc2136Error>> {
        let mut results = Vec::with_capacity(changes.len());
        for change in changes {
            results.extend(self.apply_chunk(vec![change]).await);
        }
        results
    }

    /// Asks the server, with a signed SOA query for the zone, whether it
    /// accepts the key and serves the zone.
    async fn probe_key(&self) -> KeyProbe {
        let Some(signer) = &self.signer else {
            return KeyProbe::Rejected;
        };
        let mut message = wire::query_message(self.zone_name.clone(), Rt::SOA);
        let id = message.metadata.id;
        let Ok((bytes, mut verifier)) = wire::encode(&mut message, Some(signer)) else {
            return KeyProbe::Rejected;
        };
        let Ok(raw) = exchange_tcp(self.server, &bytes, self.timeout).await else {
            return KeyProbe::Rejected;
        };
        // A server that does not serve the zone refuses before it looks at
        // the key, and may not sign that answer.
        if hickory_proto::op::Message::from_vec(&raw)
            .is_ok_and(|m| m.metadata.response_code == ResponseCode::Refused)
        {
            return KeyProbe::ZoneNotServed;
        }
        match read_answer(self.server, &raw, id, verifier.as_mut(), &self.key_name) {
            Ok(a) if a.message.metadata.response_code == ResponseCode::NoError => {
                KeyProbe::Accepted
            }
            _ => KeyProbe::Rejected,
        }
    }

    async fn query(&self, owner: Name, rtype: Rt) -> Result<wire::Answer, Rfc2136Error> {
        let mut message = wire::query_message(owner, rtype);
        let id = message.metadata.id;
        let (bytes, _) = wire::encode(&mut message, None).map_err(|e| match e {
            Build::Failed(e) => e,
            Build::TooLarge => Rfc2136Error::Encode {
                detail: "query too large".into(),
            },
        })?;
        let raw = if self.tcp_reads {
            exchange_tcp(self.server, &bytes, self.timeout).await?
        } else {
            let raw = exchange_udp(self.server, &bytes, id, self.timeout).await?;
            let truncated =
                hickory_proto::op::Message::from_vec(&raw).is_ok_and(|m| m.metadata.truncation);
            if truncated {
                exchange_tcp(self.server, &bytes, self.timeout).await?
            } else {
                raw
            }
        };
        read_answer(self.server, &raw, id, None, &self.key_name)
    }
}

#[async_trait]
impl DnsProvider for Rfc2136Provider {
    async fn current(&self, key: &RecordKey) -> ddns_core::Result<Vec<RecordValue>> {
        let name = key.name();
        if !name.is_in_zone(&self.zone) {
            return Err(Rfc2136Error::OutsideZone {
                name: name.to_string(),
                zone: self.zone.to_string(),
            }
            .into());
        }
        let owner = wire::name(name)?;
        let rtype = hickory::wire_type(key.record_type());
        let answer = self.query(owner.clone(), rtype).await?;
        match answer.message.metadata.response_code {
            ResponseCode::NoError | ResponseCode::NXDomain => {}
            ResponseCode::Refused => {
                return Err(Rfc2136Error::NotAuth {
                    server: self.server,
                    zone: self.zone.to_string(),
                }
                .into());
            }
            other => {
                return Err(Rfc2136Error::Rcode {
                    server: self.server,
                    rcode: other.to_string(),
                }
                .into());
            }
        }
        answer
            .message
            .answers
            .iter()
            .filter(|r| r.name.eq_case(&owner) || r.name == owner)
            .filter_map(|r| hickory::value(&r.data, key.record_type()))
            .map(|value| {
                value.map_err(|e| {
                    Rfc2136Error::Unreadable {
                        server: self.server,
                        key: key.to_string(),
                        detail: e.to_string(),
                    }
                    .into()
                })
            })
            .collect()
    }

    fn max_batch_size(&self) -> usize {
        self.changes_per_message
    }

    async fn apply(&self, changes: &[DnsChange]) -> Vec<ChangeResult> {
        apply_in_zone(
            changes,
            &self.zone,
            self.changes_per_message,
            |batch| async move {
                self.apply_chunk(batch)
                    .await
                    .into_iter()
                    .map(|r| r.map_err(Into::into))
                    .collect()
            },
        )
        .await
    }
}
