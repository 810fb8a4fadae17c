//! A loopback implementation of the Lambda Runtime API, enough for a
//! custom runtime (`bootstrap`) to take one event and answer it: the
//! cold-start benchmark (`benches/coldstart.sh`) and the tests that run the
//! real binary use it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// How long one invocation may take before it fails.
pub const INVOCATION_LIMIT: Duration = Duration::from_secs(20);

/// What one cold invocation gave.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// Exec → the function's first answer reaching the Runtime API.
    pub took: Duration,
    /// The path it posted to (`.../response` or `.../error`).
    pub path: String,
    /// What it posted: the response JSON (`statusCode`, `body`, ...).
    pub answer: String,
}

/// One HTTP request read off a connection: method, path, body.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, body))
}

/// Serves one connection: `event` on the first `next` of the run (later
/// polls wait until the process is stopped); each answer goes to
/// `answers`.
fn serve(
    stream: TcpStream,
    event: Arc<String>,
    served: Arc<AtomicBool>,
    answers: mpsc::Sender<(Instant, String, String)>,
) {
    let Ok(mut write) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some((method, path, body)) = read_request(&mut reader) {
        let at = Instant::now();
        let reply = if method == "GET" && path.ends_with("/runtime/invocation/next") {
            if served.swap(true, Ordering::SeqCst) {
                std::thread::sleep(INVOCATION_LIMIT);
                return;
            }
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() + 10_000);
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nlambda-runtime-aws-request-id: req-1\r\nlambda-runtime-deadline-ms: {deadline}\r\nlambda-runtime-invoked-function-arn: arn:aws:lambda:eu-west-1:123456789012:function:ddns\r\nlambda-runtime-trace-id: Root=1-00000000-000000000000000000000000\r\ncontent-length: {}\r\n\r\n{event}",
                event.len()
            )
        } else {
            if path.contains("/response") || path.contains("/error") {
                let text = String::from_utf8_lossy(&body).into_owned();
                let _ = answers.send((at, path.clone(), text));
            }
            "HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n".to_owned()
        };
        if write.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// Starts `binary` cold, with the Lambda environment, `env` and a Runtime
/// API on loopback that hands it `event`; returns its first answer and how
/// long it took from exec. The process is stopped afterwards.
///
/// # Errors
///
/// A text with the function's log when it does not answer in
/// [`INVOCATION_LIMIT`].
pub fn invoke(binary: &str, env: &[(&str, &str)], event: &str) -> Result<Invocation, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let api = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::channel();
    let event = Arc::new(event.to_owned());
    std::thread::spawn(move || {
        let served = Arc::new(AtomicBool::new(false));
        for stream in listener.incoming().flatten() {
            let (event, served, tx) = (event.clone(), served.clone(), tx.clone());
            std::thread::spawn(move || serve(stream, event, served, tx));
        }
    });
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "ddns")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/ddns")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "ddns")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| format!("{binary}: {e}"))?;
    let answer = rx.recv_timeout(INVOCATION_LIMIT);
    let _ = child.kill();
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let (at, path, answer) = answer.map_err(|_| {
        format!(
            "{binary} did not answer within {INVOCATION_LIMIT:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    Ok(Invocation {
        took: at - started,
        path,
        answer,
    })
}

/// A Function URL event: `POST /` with `body` from `source`, as the
/// rewrite's clients send it.
pub fn function_url_post(body: &str, source: &str) -> String {
    let body = serde_json::to_string(body).unwrap();
    format!(
        r#"{{"version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
        "headers": {{"host": "abcdefgh.lambda-url.us-east-1.on.aws", "content-type": "application/json"}},
        "requestContext": {{"accountId": "anonymous", "apiId": "abcdefgh", "domainName": "abcdefgh.lambda-url.us-east-1.on.aws", "domainPrefix": "abcdefgh",
          "http": {{"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "{source}", "userAgent": "curl/8"}},
          "requestId": "req-2", "routeKey": "$default", "stage": "$default", "time": "02/Dec/2026:12:00:00 +0000", "timeEpoch": 1796212800000}},
        "body": {body}, "isBase64Encoded": false}}"#
    )
}

/// An API Gateway REST event: `GET /` with `query` (the
/// `queryStringParameters` object as JSON text) from `source`.
pub fn rest_get_event(query: &str, source: &str) -> String {
    format!(
        r#"{{"resource": "/", "path": "/", "httpMethod": "GET", "headers": {{"Host": "abc.execute-api.us-east-1.amazonaws.com"}},
        "multiValueHeaders": {{}}, "queryStringParameters": {query}, "multiValueQueryStringParameters": {{}},
        "pathParameters": null, "stageVariables": null,
        "requestContext": {{"accountId": "123456789012", "resourceId": "r1", "stage": "prod", "requestId": "req-1",
          "identity": {{"sourceIp": "{source}", "userAgent": "curl/8"}}, "resourcePath": "/", "httpMethod": "GET", "apiId": "abc"}},
        "body": null, "isBase64Encoded": false}}"#
    )
}
