//! Which of hyper's answers get the envelope, and that nothing else on the
//! connection changes: our own answers, h2 connections, earlier responses.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

const DATE: &str = "date: Thu, 03 Dec 2026 13:31:40 GMT";

fn hyper_answer(status_line: &str) -> Vec<u8> {
    format!("{status_line}\r\nconnection: close\r\ncontent-length: 0\r\n{DATE}\r\n\r\n")
        .into_bytes()
}

fn refusals() -> Refusals {
    Refusals::new("longrun.example.com", 80 * 1024)
}

fn body_of(answer: &[u8]) -> serde_json::Value {
    let text = std::str::from_utf8(answer).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .expect("content-length")
        .parse()
        .expect("a number");
    assert_eq!(length, body.len(), "{text}");
    serde_json::from_str(body).expect("JSON")
}

#[test]
fn each_of_hypers_refusals_gets_the_envelope_with_its_status() {
    for (line, code, reason) in [
        ("HTTP/1.1 414 URI Too Long", 414, "URI_TOO_LONG"),
        (
            "HTTP/1.1 431 Request Header Fields Too Large",
            431,
            "HEADERS_TOO_LARGE",
        ),
        ("HTTP/1.1 400 Bad Request", 400, "MALFORMED_REQUEST"),
    ] {
        let written = hyper_answer(line);
        let (taken, answer) = refusals().replace(&written).expect("replaced");
        assert_eq!(taken, written.len());
        let text = String::from_utf8_lossy(&answer).into_owned();
        assert!(text.starts_with(&format!("{line}\r\n")), "{text}");
        assert!(text.contains("\r\nconnection: close\r\n"), "{text}");
        assert!(text.contains(&format!("\r\n{DATE}\r\n")), "{text}");
        assert!(text.contains("content-type: application/json"), "{text}");
        let body = body_of(&answer);
        assert_eq!(body["error"]["code"], code);
        assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
        assert_eq!(body["error"]["details"][0]["reason"], reason);
        assert_eq!(body["error"]["details"][0]["domain"], "longrun.example.com");
    }
}

#[test]
fn answers_of_our_own_are_left_alone() {
    let ours = [
        // Our own 400: it has a content type and a body.
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\n\
         content-length: 2\r\n{DATE}\r\n\r\n{}",
        // Empty, but a status hyper never sends itself.
        "HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n{DATE}\r\n\r\n",
        // hyper's head, but kept open: not one of its refusals.
        "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n{DATE}\r\n\r\n",
        // Not a whole head in this write.
        "HTTP/1.1 414 URI Too Long\r\nconnection: close\r\n",
        // HTTP/1.0 status line: hyper's refusals are always HTTP/1.1.
        "HTTP/1.0 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n{DATE}\r\n\r\n",
    ];
    for written in ours {
        let written = written.replace("{DATE}", DATE);
        assert!(
            refusals().replace(written.as_bytes()).is_none(),
            "{written}"
        );
    }
}

async fn through(first_read: &[u8], writes: &[&[u8]]) -> Vec<u8> {
    let (ours, mut theirs) = tokio::io::duplex(1 << 20);
    let mut io = Enveloped::new(ours, Arc::new(refusals()));
    theirs.write_all(first_read).await.expect("write");
    let mut buf = vec![0; first_read.len()];
    io.read_exact(&mut buf).await.expect("read");
    for write in writes {
        io.write_all(write).await.expect("write");
    }
    io.shutdown().await.expect("shutdown");
    drop(io);
    let mut out = Vec::new();
    theirs.read_to_end(&mut out).await.expect("read");
    out
}

#[tokio::test]
async fn an_http1_connection_gets_the_envelope_after_its_earlier_answers() {
    let earlier = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
    let refusal = hyper_answer("HTTP/1.1 414 URI Too Long");
    let out = through(b"GET / HTTP/1.1\r\n", &[earlier, &refusal]).await;
    assert!(out.starts_with(earlier));
    let body = body_of(&out[earlier.len()..]);
    assert_eq!(body["error"]["code"], 414);
}

#[tokio::test]
async fn an_h2_connection_is_never_rewritten() {
    let refusal = hyper_answer("HTTP/1.1 400 Bad Request");
    let out = through(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", &[&refusal]).await;
    assert_eq!(out, refusal);
}
