//! The control socket: how an admin command reaches a running server.
//!
//! The embedded DNS lives in the server's memory, so a record removed (or
//! a TXT RRset set) by another process would not be served until a
//! restart. The server therefore listens on a Unix socket (`[control]
//! socket`, by default next to the SQLite file, mode 0600) and
//! `ddns-server remove` and `ddns-server txt set` ask it to do the work:
//! the running server changes DNS at once, then the store. When no server
//! listens, the command does the work itself.
//!
//! The protocol is one request line, answered by lines naming each record
//! changed (`removed <name> <type>` or `set <name> <type>`), `warning
//! <text>` lines, and a last line `ok` or `error <message>`. Requests:
//!
//! - `remove <name> <types>` (types: `A`, `AAAA`, `TXT`, comma-separated);
//! - `txt <name> <ttl or ->` followed, for each value, by a tab and the
//!   value in presentation form (`"one" "two"`; TXT values are printable
//!   ASCII, so a tab cannot occur inside one).

use std::path::{Path, PathBuf};
use std::time::Duration;

use ddns_core::admin::{AdminError, Changed, RecordAdmin};
use ddns_core::{RecordName, RecordType, TxtValue};

/// How long a connection may take to send its request.
#[cfg(unix)]
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a command waits for the server's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest request line accepted: room for a TXT RRset of many long
/// values.
#[cfg(unix)]
const MAX_REQUEST: u64 = 64 * 1024;

/// A change asked of a running server: the records it changed and its
/// warnings, or why not.
pub(crate) type RemoteResult = Result<(Vec<String>, Vec<String>), String>;

/// What a command asks the running server to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    /// Remove the records of these types at the name.
    Remove {
        /// The name.
        name: RecordName,
        /// The types.
        types: Vec<RecordType>,
    },
    /// Set the TXT RRset at the name.
    SetTxt {
        /// The name.
        name: RecordName,
        /// The TTL to set, if any.
        ttl: Option<u32>,
        /// The values.
        values: Vec<TxtValue>,
    },
}

impl Request {
    /// The word that starts each line naming a record the request changed.
    pub(crate) fn verb(&self) -> &'static str {
        match self {
            Self::Remove { .. } => "removed",
            Self::SetTxt { .. } => "set",
        }
    }

    /// The request line, with its newline.
    fn line(&self) -> String {
        match self {
            Self::Remove { name, types } => {
                let types: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
                format!("remove {name} {}\n", types.join(","))
            }
            Self::SetTxt { name, ttl, values } => {
                let ttl = ttl.map_or_else(|| "-".to_owned(), |t| t.to_string());
                let mut line = format!("txt {name} {ttl}");
                for value in values {
                    line.push('\t');
                    line.push_str(&value.to_string());
                }
                line.push('\n');
                line
            }
        }
    }

    /// Parses a request line.
    fn parse(line: &str) -> Result<Self, String> {
        let line = line.trim_end_matches(['\n', '\r']);
        let mut fields = line.split('\t');
        let head = fields.next().unwrap_or_default();
        let mut words = head.split(' ');
        let name = |text: &str| RecordName::parse(text).map_err(|e| format!("{text:?}: {e}"));
        match (words.next(), words.next(), words.next(), words.next()) {
            (Some("remove"), Some(owner), Some(types), None) if fields.next().is_none() => {
                let types = types
                    .split(',')
                    .map(|t| t.parse::<RecordType>().map_err(|e| e.to_string()))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Self::Remove {
                    name: name(owner)?,
                    types,
                })
            }
            (Some("txt"), Some(owner), Some(ttl), None) => {
                let ttl = match ttl {
                    "-" => None,
                    t => Some(t.parse().map_err(|_| format!("{t:?} is not a TTL"))?),
                };
                let values = fields
                    .map(|v| v.parse::<TxtValue>().map_err(|e| e.to_string()))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Self::SetTxt {
                    name: name(owner)?,
                    ttl,
                    values,
                })
            }
            _ => Err(
                "unknown request; send `remove <name> <types>` or `txt <name> <ttl>` and tab-separated values"
                    .into(),
            ),
        }
    }

    /// Runs the request on `admin`.
    pub(crate) async fn run(self, admin: &RecordAdmin) -> Result<Changed, AdminError> {
        match self {
            Self::Remove { name, types } => admin.remove(&name, &types).await,
            Self::SetTxt { name, ttl, values } => admin.set_txt(&name, values, ttl).await,
        }
    }
}

/// The answer lines for a request's outcome.
fn answer(verb: &str, result: Result<Changed, AdminError>) -> String {
    match result {
        Ok(changed) => {
            let mut text = String::new();
            for key in changed.keys {
                text.push_str(&format!("{verb} {key}\n"));
            }
            for warning in changed.warnings {
                text.push_str(&format!("warning {}\n", one_line(&warning)));
            }
            text.push_str("ok\n");
            text
        }
        Err(e) => format!("error {}\n", one_line(&e.to_string())),
    }
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

/// The listening side, in the server.
#[cfg(unix)]
pub(crate) mod server {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::{UnixListener, UnixStream};
    use tokio::sync::watch;

    /// Binds `path` (mode 0600). A socket file left by a server that is no
    /// longer running is replaced; one a running server answers on is not.
    pub(crate) async fn bind(path: &Path) -> std::io::Result<UnixListener> {
        if path.exists() {
            if UnixStream::connect(path).await.is_ok() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AddrInUse,
                    "another ddns-server is running with this control socket; stop it, or set [control] socket",
                ));
            }
            std::fs::remove_file(path)?;
        }
        let listener = UnixListener::bind(path)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        Ok(listener)
    }

    /// Answers requests on `listener` until `stopped` turns true, then
    /// removes the socket file.
    pub(crate) async fn serve(
        listener: UnixListener,
        path: PathBuf,
        admin: RecordAdmin,
        mut stopped: watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                _ = stopped.changed() => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let admin = admin.clone();
                        tokio::spawn(async move { connection(stream, &admin).await });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "control socket: accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
        let _ = std::fs::remove_file(&path);
    }

    async fn connection(stream: UnixStream, admin: &RecordAdmin) {
        let (read, mut write) = stream.into_split();
        let mut line = String::new();
        let mut reader = BufReader::new(read.take(MAX_REQUEST));
        let reply = match tokio::time::timeout(REQUEST_TIMEOUT, reader.read_line(&mut line)).await {
            Ok(Ok(_)) => match Request::parse(&line) {
                Ok(request) => {
                    let verb = request.verb();
                    let what = request.line();
                    let result = request.run(admin).await;
                    match &result {
                        Ok(changed) => {
                            tracing::info!(request = %what.trim_end(), changed = changed.keys.len(), "control: request done");
                        }
                        Err(e) => {
                            tracing::warn!(request = %what.trim_end(), error = %e, "control: request failed")
                        }
                    }
                    answer(verb, result)
                }
                Err(message) => format!("error {}\n", one_line(&message)),
            },
            Ok(Err(e)) => format!("error cannot read the request: {e}\n"),
            Err(_) => "error no request within 5 s\n".to_owned(),
        };
        let _ = write.write_all(reply.as_bytes()).await;
        let _ = write.shutdown().await;
    }
}

/// Whether a server accepts connections on the control socket `path`.
pub(crate) async fn server_answers(path: &Path) -> bool {
    #[cfg(unix)]
    {
        tokio::net::UnixStream::connect(path).await.is_ok()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Sends `request` to the server listening on `path`. `None` when no
/// server listens there (no socket file, or nobody accepts): the caller
/// does the work itself.
pub(crate) async fn through_server(path: &Path, request: &Request) -> Option<RemoteResult> {
    #[cfg(unix)]
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::UnixStream::connect(path).await.ok()?;
        let exchange = async {
            stream.write_all(request.line().as_bytes()).await?;
            let mut text = String::new();
            stream.read_to_string(&mut text).await?;
            Ok::<String, std::io::Error>(text)
        };
        let text = match tokio::time::timeout(ANSWER_TIMEOUT, exchange).await {
            Ok(Ok(text)) => text,
            Ok(Err(e)) => return Some(Err(format!("the running server did not answer: {e}"))),
            Err(_) => {
                return Some(Err(format!(
                    "the running server did not answer within {} s",
                    ANSWER_TIMEOUT.as_secs()
                )));
            }
        };
        let (mut changed, mut warnings) = (Vec::new(), Vec::new());
        let prefix = format!("{} ", request.verb());
        for line in text.lines() {
            if let Some(key) = line.strip_prefix(&prefix) {
                changed.push(key.to_owned());
            } else if let Some(warning) = line.strip_prefix("warning ") {
                warnings.push(warning.to_owned());
            } else if line == "ok" {
                return Some(Ok((changed, warnings)));
            } else if let Some(message) = line.strip_prefix("error ") {
                return Some(Err(message.to_owned()));
            }
        }
        Some(Err("the running server's answer ended early".into()))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, request, ANSWER_TIMEOUT);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_bad_ones_are_refused() {
        let name = RecordName::parse("home.example.com").unwrap();
        let remove = Request::Remove {
            name: name.clone(),
            types: RecordType::ADDRESSES.to_vec(),
        };
        assert_eq!(remove.line(), "remove home.example.com. A,AAAA\n");
        assert_eq!(Request::parse(&remove.line()).unwrap(), remove);
        let txt = Request::SetTxt {
            name: RecordName::parse("_acme-challenge.home.example.com").unwrap(),
            ttl: Some(60),
            values: vec![
                TxtValue::new("one value").unwrap(),
                TxtValue::new(r#"with "quotes" and a \ backslash"#).unwrap(),
            ],
        };
        assert_eq!(Request::parse(&txt.line()).unwrap(), txt);
        for bad in [
            "remove",
            "remove a.example.com MX",
            "drop a.example.com A",
            "remove bad_name A",
            "txt a.example.com soon\t\"x\"",
            "txt a.example.com 60\tunquoted",
        ] {
            assert!(Request::parse(bad).is_err(), "{bad}");
        }
    }
}
