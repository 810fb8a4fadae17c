//! Talking to a ddns server (or the original Lambda) over the seed API.

use std::net::IpAddr;
use std::time::Duration;

use ddns_core::signed::{Nonce, SignedMessage, SignedMode, SignedProof};
use ddns_core::{HashToken, Hostname, SharedSecret};
use serde_json::Value;

/// Why a call failed, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached.
    #[error("cannot reach {url}: {detail}; check the URL and the network")]
    Unreachable {
        /// The URL called.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The server answered something that is not the seed API's JSON.
    #[error(
        "{url} answered HTTP {status} with something that is not the ddns API's JSON: {snippet:?}; check the URL"
    )]
    NotJson {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        snippet: String,
    },
    /// The API key was refused (HTTP 403).
    #[error("{url} refused the request (HTTP 403 Forbidden); check --api-key")]
    Forbidden {
        /// The URL called.
        url: String,
    },
    /// The server answered `fail`.
    #[error("{0}")]
    Failed(String),
    /// Bad input given to the client.
    #[error("{0}")]
    Input(String),
}

/// A parsed answer: `return_status` was `success`.
#[derive(Debug, Clone)]
pub struct Answer {
    /// `return_message`: a string, or the host list for `list_hosts`.
    pub message: Value,
}

impl Answer {
    /// The message as text.
    pub fn text(&self) -> String {
        match &self.message {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// A host of a discovery group, as `list_hosts` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupHost {
    /// The host name, with its trailing dot.
    pub hostname: String,
    /// `A` or `AAAA`.
    pub record_type: String,
    /// The MAC address, when configured.
    pub mac_address: Option<String>,
}

/// A client of the seed API at one URL.
#[derive(Debug, Clone)]
pub struct SeedClient {
    http: reqwest::Client,
    url: String,
    api_key: Option<String>,
    signed: bool,
}

impl SeedClient {
    /// A client of `url` (http or https), optionally sending `api_key`,
    /// connecting over IPv4 only, IPv6 only, or either (`family`).
    ///
    /// # Errors
    ///
    /// [`ClientError::Input`] for a URL that is not http(s).
    pub fn new(
        url: &str,
        api_key: Option<String>,
        family: Option<IpVersion>,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ClientError::Input(format!(
                "--url {url:?} must start with http:// or https://"
            )));
        }
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("ddns-client/", env!("CARGO_PKG_VERSION")));
        builder = match family {
            Some(IpVersion::V4) => builder.local_address(IpAddr::from([0, 0, 0, 0])),
            Some(IpVersion::V6) => builder.local_address(IpAddr::from([0u16; 8])),
            None => builder,
        };
        let http = builder
            .build()
            .map_err(|e| ClientError::Input(format!("cannot set up HTTP: {e}")))?;
        Ok(Self {
            http,
            url: url.to_owned(),
            api_key,
            signed: false,
        })
    }

    /// Sends signed requests (`docs/PROTOCOL.md` section 7) instead of hash
    /// tokens when `signed` is true.
    #[must_use]
    pub fn with_signed(mut self, signed: bool) -> Self {
        self.signed = signed;
        self
    }

    /// The proof arguments of a `set` or `list_hosts`: a hash token for
    /// `public_ip`, or a fresh signature over `address`.
    fn proof(
        &self,
        mode: SignedMode,
        hostname: &str,
        secret: &SharedSecret,
        public_ip: IpAddr,
        address: IpAddr,
    ) -> Result<Vec<(&'static str, String)>, ClientError> {
        if !self.signed {
            return Ok(vec![("hash", token(public_ip, hostname, secret))]);
        }
        let name = Hostname::parse(hostname)
            .map_err(|e| ClientError::Input(format!("--hostname {hostname:?}: {e}")))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| ClientError::Input("the system clock is before 1970".into()))?
            .as_secs();
        let nonce = Nonce::generate().map_err(|e| ClientError::Input(e.to_string()))?;
        let message = SignedMessage::new(mode, name, address, now, nonce);
        let SignedProof {
            signature,
            timestamp,
            nonce,
        } = SignedProof::for_message(&message, secret);
        Ok(vec![
            ("signature", signature),
            ("timestamp", timestamp),
            ("nonce", nonce),
        ])
    }

    async fn call(&self, params: &[(&str, &str)]) -> Result<Answer, ClientError> {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let separator = if self.url.contains('?') { '&' } else { '?' };
        let mut request = self.http.get(format!("{}{separator}{query}", self.url));
        if let Some(key) = &self.api_key {
            request = request.header("x-api-key", key);
        }
        let response = request.send().await.map_err(|e| ClientError::Unreachable {
            url: self.url.clone(),
            detail: error_chain(&e),
        })?;
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .map_err(|e| ClientError::Unreachable {
                url: self.url.clone(),
                detail: error_chain(&e),
            })?;
        if status == 403 {
            return Err(ClientError::Forbidden {
                url: self.url.clone(),
            });
        }
        let not_json = || ClientError::NotJson {
            url: self.url.clone(),
            status,
            snippet: body.chars().take(80).collect(),
        };
        let json: Value = serde_json::from_str(&body).map_err(|_| not_json())?;
        let message = json.get("return_message").cloned().ok_or_else(not_json)?;
        match json.get("return_status").and_then(Value::as_str) {
            Some("success") => Ok(Answer { message }),
            Some("fail") => Err(ClientError::Failed(Answer { message }.text())),
            _ => Err(not_json()),
        }
    }

    /// `mode=get`: this host's public address as the server sees it.
    ///
    /// # Errors
    ///
    /// A [`ClientError`] when the call fails or the answer is no address.
    pub async fn public_ip(&self) -> Result<IpAddr, ClientError> {
        let text = self.call(&[("mode", "get")]).await?.text();
        text.parse().map_err(|_| {
            ClientError::Failed(format!(
                "the server reported {text:?} as the public address"
            ))
        })
    }

    /// `mode=set` of `hostname`, authenticated for `public_ip`, setting
    /// `internal_ip` when given, and reporting the delegated `prefix` when
    /// given (`ipv6prefix=`, hash requests only).
    ///
    /// # Errors
    ///
    /// A [`ClientError`], [`ClientError::Failed`] carrying the server's
    /// message for a refusal.
    pub async fn set(
        &self,
        hostname: &str,
        secret: &SharedSecret,
        public_ip: IpAddr,
        internal_ip: Option<IpAddr>,
        prefix: Option<&str>,
    ) -> Result<String, ClientError> {
        let address = internal_ip.unwrap_or(public_ip);
        let proof = self.proof(SignedMode::Set, hostname, secret, public_ip, address)?;
        let internal = internal_ip.map(|ip| ip.to_string());
        let mut params = vec![("mode", "set"), ("hostname", hostname)];
        params.extend(proof.iter().map(|(k, v)| (*k, v.as_str())));
        if let Some(ip) = internal.as_deref() {
            params.push(("internalIp", ip));
        }
        if let Some(prefix) = prefix {
            params.push(("ipv6prefix", prefix));
        }
        Ok(self.call(&params).await?.text())
    }

    /// `mode=list_hosts`: the discovery group of `hostname`.
    ///
    /// # Errors
    ///
    /// A [`ClientError`].
    pub async fn list_hosts(
        &self,
        hostname: &str,
        secret: &SharedSecret,
        public_ip: IpAddr,
    ) -> Result<Vec<GroupHost>, ClientError> {
        let proof = self.proof(
            SignedMode::ListHosts,
            hostname,
            secret,
            public_ip,
            public_ip,
        )?;
        let mut params = vec![("mode", "list_hosts"), ("hostname", hostname)];
        params.extend(proof.iter().map(|(k, v)| (*k, v.as_str())));
        let answer = self.call(&params).await?;
        let Value::Array(items) = answer.message else {
            return Err(ClientError::Failed(format!(
                "list_hosts answered {}",
                answer.text()
            )));
        };
        Ok(items
            .iter()
            .map(|item| GroupHost {
                hostname: item
                    .get("hostname")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                record_type: item
                    .get("record_type")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                mac_address: item
                    .get("mac_address")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            })
            .collect())
    }
}

/// The hash token for `hostname` (a trailing dot is added when missing).
pub fn token(public_ip: IpAddr, hostname: &str, secret: &SharedSecret) -> String {
    HashToken::compute_as_sent(public_ip, &ddns_core::SentName::parse(hostname), secret).to_hex()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Which IP version to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IpVersion {
    /// IPv4.
    #[value(name = "ipv4")]
    V4,
    /// IPv6.
    #[value(name = "ipv6")]
    V6,
}
