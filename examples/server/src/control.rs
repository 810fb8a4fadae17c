//! The control socket: how an admin command reaches a running server.
//!
//! The embedded DNS lives in the server's memory, so a record removed by
//! another process would stay published until a restart. The server
//! therefore listens on a Unix socket (`[control] socket`, by default next
//! to the SQLite file, mode 0600) and `ddns-server remove` asks it to do
//! the removal: the running server takes the name out of DNS at once, then
//! out of the store. When no server listens, the command does the work
//! itself.
//!
//! The protocol is one request line, `remove <hostname> <types>` (types:
//! `A`, `AAAA` or `A,AAAA`), answered by `removed <hostname> <type>` and
//! `warning <text>` lines and a last line `ok` or `error <message>`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ddns_core::admin::{AdminError, RecordAdmin};
use ddns_core::{Hostname, RecordType};

/// How long a connection may take to send its request.
#[cfg(unix)]
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a command waits for the server's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest request line accepted.
#[cfg(unix)]
const MAX_REQUEST: u64 = 1024;

/// A removal asked of a running server: the records it removed and its
/// warnings, or why not.
pub(crate) type RemoteResult = Result<(Vec<String>, Vec<String>), String>;

fn request_line(hostname: &Hostname, types: &[RecordType]) -> String {
    let types: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    format!("remove {} {}\n", hostname, types.join(","))
}

/// Parses a request line into the name and types to remove.
fn parse_request(line: &str) -> Result<(Hostname, Vec<RecordType>), String> {
    let mut words = line.split_whitespace();
    match (words.next(), words.next(), words.next(), words.next()) {
        (Some("remove"), Some(name), Some(types), None) => {
            let name = Hostname::parse(name).map_err(|e| format!("{name:?}: {e}"))?;
            let types = types
                .split(',')
                .map(|t| t.parse::<RecordType>().map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((name, types))
        }
        _ => Err("unknown request; send `remove <hostname> <A|AAAA|A,AAAA>`".into()),
    }
}

/// The answer lines for a removal's outcome.
fn answer(result: Result<ddns_core::admin::Changed, AdminError>) -> String {
    match result {
        Ok(changed) => {
            let mut text = String::new();
            for key in changed.keys {
                text.push_str(&format!("removed {key}\n"));
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
            Ok(Ok(_)) => match parse_request(&line) {
                Ok((name, types)) => {
                    let result = admin.remove(&name, &types).await;
                    match &result {
                        Ok(changed) => {
                            tracing::info!(hostname = %name, removed = changed.keys.len(), "control: records removed");
                        }
                        Err(e) => {
                            tracing::warn!(hostname = %name, error = %e, "control: removal failed")
                        }
                    }
                    answer(result)
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

/// Asks the server listening on `path` to remove `hostname`'s records of
/// `types`. `None` when no server listens there (no socket file, or nobody
/// accepts): the caller does the removal itself.
pub(crate) async fn remove_through_server(
    path: &Path,
    hostname: &Hostname,
    types: &[RecordType],
) -> Option<RemoteResult> {
    #[cfg(unix)]
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::UnixStream::connect(path).await.ok()?;
        let exchange = async {
            stream
                .write_all(request_line(hostname, types).as_bytes())
                .await?;
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
        let (mut removed, mut warnings) = (Vec::new(), Vec::new());
        for line in text.lines() {
            if let Some(key) = line.strip_prefix("removed ") {
                removed.push(key.to_owned());
            } else if let Some(warning) = line.strip_prefix("warning ") {
                warnings.push(warning.to_owned());
            } else if line == "ok" {
                return Some(Ok((removed, warnings)));
            } else if let Some(message) = line.strip_prefix("error ") {
                return Some(Err(message.to_owned()));
            }
        }
        Some(Err("the running server's answer ended early".into()))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, hostname, types, ANSWER_TIMEOUT);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_bad_ones_are_refused() {
        let name = Hostname::parse("home.example.com").unwrap();
        let line = request_line(&name, &RecordType::ALL);
        assert_eq!(line, "remove home.example.com. A,AAAA\n");
        assert_eq!(
            parse_request(&line).unwrap(),
            (name, RecordType::ALL.to_vec())
        );
        assert!(parse_request("remove").is_err());
        assert!(parse_request("remove a.example.com MX").is_err());
        assert!(parse_request("drop a.example.com A").is_err());
        assert!(parse_request("remove bad_name A").is_err());
    }
}
