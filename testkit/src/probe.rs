//! Readiness of a DNS server by a real query: the zone's SOA over UDP or
//! TCP; and the body of a plain HTTP GET, for the counters the test
//! servers expose.

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

/// Asks `addr` for the SOA of `zone`, over TCP or UDP, with a 2 s timeout:
/// Ok when the answer is NOERROR and holds the SOA, else what was wrong.
pub fn soa_answered(addr: SocketAddr, zone: &str, tcp: bool) -> Result<(), String> {
    use hickory_proto::op::{Message, Query, ResponseCode};
    use hickory_proto::rr::{Name, RecordType};
    use std::io::{Read, Write};

    let timeout = Duration::from_secs(2);
    let name = Name::from_ascii(format!("{zone}.")).map_err(|e| e.to_string())?;
    let mut query = Message::query();
    query.add_query(Query::query(name, RecordType::SOA));
    let wire = query.to_vec().map_err(|e| e.to_string())?;
    let io = |e: std::io::Error| format!("{} {addr}: {e}", if tcp { "TCP" } else { "UDP" });
    let answer = if tcp {
        let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(io)?;
        stream.set_read_timeout(Some(timeout)).map_err(io)?;
        let length = u16::try_from(wire.len()).map_err(|e| e.to_string())?;
        stream.write_all(&length.to_be_bytes()).map_err(io)?;
        stream.write_all(&wire).map_err(io)?;
        let mut length = [0u8; 2];
        stream.read_exact(&mut length).map_err(io)?;
        let mut answer = vec![0u8; usize::from(u16::from_be_bytes(length))];
        stream.read_exact(&mut answer).map_err(io)?;
        answer
    } else {
        let socket = UdpSocket::bind("127.0.0.1:0").map_err(io)?;
        socket.set_read_timeout(Some(timeout)).map_err(io)?;
        socket.send_to(&wire, addr).map_err(io)?;
        let mut answer = vec![0u8; 4096];
        let n = socket.recv(&mut answer).map_err(io)?;
        answer.truncate(n);
        answer
    };
    let answer = Message::from_vec(&answer).map_err(|e| e.to_string())?;
    if answer.metadata.id != query.metadata.id {
        return Err("the answer's id is not the query's".to_owned());
    }
    if answer.metadata.response_code != ResponseCode::NoError {
        return Err(format!("SOA of {zone}: {}", answer.metadata.response_code));
    }
    if !answer
        .answers
        .iter()
        .any(|r| r.record_type() == RecordType::SOA)
    {
        return Err(format!("SOA of {zone}: NOERROR without the SOA"));
    }
    Ok(())
}

/// The body of `GET path` at `addr` over HTTP/1.0 (a 5 s timeout; the
/// server must close the connection or send `Content-Length`).
///
/// # Panics
///
/// When the server cannot be reached or answers no body.
pub fn http_body(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("GET {addr}{path}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap_or_else(|e| panic!("GET {addr}{path}: {e}"));
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap_or_else(|e| panic!("GET {addr}{path}: {e}"));
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .unwrap_or_else(|e| panic!("GET {addr}{path}: {e}"));
    match answer.split_once("\r\n\r\n") {
        Some((_, body)) => body.to_owned(),
        None => panic!("GET {addr}{path} answered no body: {answer}"),
    }
}
