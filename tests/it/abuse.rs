//! What the server does with requests and connections made to hurt it, at
//! the level of bytes on one socket: the refusals hyper makes itself below
//! the router carry Google's error envelope like every other refusal, and
//! the limits the connection-abuse scenarios (tests/faults/abuse) found
//! missing stay in place. The scenarios themselves, with their figures,
//! are run by tests/faults/abuse/run.sh.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

const DOMAIN: &str = "cloudaicompanion.googleapis.com";

struct Raw {
    head: String,
    body: Vec<u8>,
}

impl Raw {
    fn status(&self) -> u16 {
        self.head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("a status line")
    }

    fn has_header(&self, line: &str) -> bool {
        self.head
            .split("\r\n")
            .any(|l| l.eq_ignore_ascii_case(line))
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// Sends `request` as it is on a fresh connection and reads until the
/// server closes it (each request here is one the server answers once and
/// then hangs up on).
async fn raw(addr: SocketAddr, request: &[u8]) -> Raw {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    // The server may answer and close before it has read it all (a 431
    // stops reading at the limit): a failed write is not the test's point.
    let _ = stream.write_all(request).await;
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.expect("the server closes the connection");
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole head");
    Raw {
        head: String::from_utf8_lossy(&out[..split]).into_owned(),
        body: out[split + 4..].to_vec(),
    }
}

fn assert_envelope(answer: &Raw, status: u16, reason: &str) {
    assert_eq!(answer.status(), status, "{}", answer.head);
    assert!(
        answer.has_header("content-type: application/json; charset=utf-8"),
        "{}",
        answer.head
    );
    assert!(answer.has_header("connection: close"), "{}", answer.head);
    let json = answer.json();
    assert_eq!(json["error"]["code"], status, "{json}");
    assert_eq!(json["error"]["status"], "INVALID_ARGUMENT", "{json}");
    assert_eq!(json["error"]["details"][0]["reason"], reason, "{json}");
    assert_eq!(json["error"]["details"][0]["domain"], DOMAIN, "{json}");
}

#[tokio::test]
async fn a_100_kb_path_gets_414_in_the_envelope_on_both_ports() {
    let server = TestServer::start().await;
    let request = format!(
        "GET /v1/{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(100_000)
    );
    for addr in [server.server.public_addr, server.server.control_addr] {
        let answer = raw(addr, request.as_bytes()).await;
        assert_envelope(&answer, 414, "URI_TOO_LONG");
    }
}

#[tokio::test]
async fn headers_over_16_kib_get_431_in_the_envelope_as_over_h2() {
    let server = TestServer::start().await;
    // Under hyper's read buffer, which would have let it through, and over
    // the header list h2 allows.
    let request = format!(
        "GET /v1/projects/p/locations/l/operations/o HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(20_000)
    );
    let answer = raw(server.server.public_addr, request.as_bytes()).await;
    assert_eq!(answer.status(), 431, "{}", answer.head);
    let json = answer.json();
    assert_eq!(
        json["error"]["details"][0]["reason"], "HEADERS_TOO_LARGE",
        "{json}"
    );
    assert_eq!(json["error"]["details"][0]["domain"], DOMAIN, "{json}");
    let message = json["error"]["message"].as_str().expect("a message");
    assert!(message.contains("16384 bytes"), "{message}");
}

#[tokio::test]
async fn a_head_past_the_read_buffer_gets_431_in_the_envelope() {
    let server = TestServer::start().await;
    let request = format!(
        "GET /v1/x HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(300_000)
    );
    let answer = raw(server.server.public_addr, request.as_bytes()).await;
    assert_envelope(&answer, 431, "HEADERS_TOO_LARGE");
}

#[tokio::test]
async fn more_than_100_headers_get_431_in_the_envelope() {
    let server = TestServer::start().await;
    let headers: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    let request = format!("GET /v1/x HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
    let answer = raw(server.server.public_addr, request.as_bytes()).await;
    assert_envelope(&answer, 431, "HEADERS_TOO_LARGE");
}

#[tokio::test]
async fn a_malformed_request_line_gets_400_in_the_envelope() {
    let server = TestServer::start().await;
    for request in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /v1/x HTTP/1.1\r\nBad Header Name: v\r\n\r\n",
    ] {
        let answer = raw(server.server.public_addr, request).await;
        assert_envelope(&answer, 400, "MALFORMED_REQUEST");
    }
}

#[tokio::test]
async fn a_request_before_the_refusal_on_the_same_connection_is_answered_as_usual() {
    let server = TestServer::start().await;
    let op = server.create().await;
    let request = format!(
        "GET /v1/{} HTTP/1.1\r\nHost: x\r\n\r\nGET /{} HTTP/1.1\r\nHost: x\r\n\r\n",
        op.name,
        "a".repeat(70_000)
    );
    let answer = raw(server.server.public_addr, request.as_bytes()).await;
    assert_eq!(answer.status(), 200, "{}", answer.head);
    let rest = String::from_utf8_lossy(&answer.body).into_owned();
    let (first, second) = rest.split_once("HTTP/1.1 414 ").expect("then the 414");
    assert!(first.contains(&op.name), "{first}");
    assert!(second.contains("\"URI_TOO_LONG\""), "{second}");
}

/// Slowloris, found by tests/faults/abuse: a thousand connects at once
/// overflowed tokio's default accept queue (128), and every connect the
/// kernel dropped waited out a 1 s SYN retransmit, the attacker's and a
/// normal client's alike.
#[tokio::test]
async fn slowloris_a_burst_of_1000_connects_is_accepted_without_retransmits() {
    let server = TestServer::start().await;
    let addr = server.server.public_addr;
    // Blocking connects from one thread, as fast as the kernel takes them,
    // while the server's accept loop runs on the test's runtime.
    let slowest = tokio::task::spawn_blocking(move || {
        let mut held = Vec::new();
        let mut slowest = Duration::ZERO;
        for _ in 0..1000 {
            let began = Instant::now();
            let stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
                .expect("connect");
            slowest = slowest.max(began.elapsed());
            held.push(stream);
        }
        slowest
    })
    .await
    .expect("the connecting thread");
    assert!(
        slowest < Duration::from_millis(500),
        "a connect took {slowest:?}: the kernel dropped it from a full accept queue"
    );
}
