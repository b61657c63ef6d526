//! The refusals hyper makes below the router, in Google's error envelope.
//!
//! An HTTP/1 request hyper cannot parse never reaches a service: hyper
//! answers it itself, with an empty body, and closes the connection: 414
//! for a URI over its fixed 65,534 bytes, 431 for a head larger than the
//! read buffer (or with more than 100 headers), 400 for a malformed request
//! line or header. hyper has no hook for those answers, and the URI limit
//! cannot be raised, so this wraps the connection's IO and replaces exactly
//! those answers on their way out with the same status, the envelope as
//! body, and `connection: close` (hyper closes after them).
//!
//! What is replaced has to be one of hyper's automatic answers and nothing
//! else. They are recognised by their whole head: status 400, 414 or 431
//! and no headers but `connection: close`, `content-length: 0` and `date`;
//! every answer of ours carries a content type. A head is only looked for
//! where one can start: on an HTTP/1 connection (not one that opened with
//! the h2 preface), at the start of a write that follows a write taken
//! whole (hyper queues a whole head and writes it in one go; after a short
//! write the next one continues the same bytes). A body that begins a write
//! is JSON, which escapes CR and LF, or a gRPC-Web frame, whose first byte
//! is a flag byte, 0x00 or 0x80, never `H`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tonic::Code;

use crate::transcode::TranscodeError;
use crate::transcode::status::error_body;

/// The envelopes for hyper's three automatic refusals, rendered once per
/// port (they depend only on the service name and the limits).
#[derive(Debug)]
pub(super) struct Refusals {
    uri_too_long: Bytes,
    head_too_large: Bytes,
    malformed: Bytes,
}

/// hyper's longest request URI (`MAX_URI_LEN` in its HTTP/1 parser).
const HYPER_MAX_URI_BYTES: usize = 65_534;
/// hyper's most headers in one HTTP/1 request.
const HYPER_MAX_HEADERS: usize = 100;

impl Refusals {
    pub(super) fn new(domain: &str, max_head_bytes: usize) -> Self {
        let render = |err: TranscodeError| Bytes::from(error_body(&err, domain).1);
        Self {
            uri_too_long: render(
                TranscodeError::new(
                    Code::InvalidArgument,
                    "URI_TOO_LONG",
                    format!("the request URI is longer than {HYPER_MAX_URI_BYTES} bytes"),
                )
                .with_http_status(StatusCode::URI_TOO_LONG),
            ),
            head_too_large: render(
                TranscodeError::new(
                    Code::InvalidArgument,
                    "HEADERS_TOO_LARGE",
                    format!(
                        "the request head is larger than {max_head_bytes} bytes \
                         or has more than {HYPER_MAX_HEADERS} headers"
                    ),
                )
                .with_http_status(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
            ),
            malformed: render(
                TranscodeError::new(
                    Code::InvalidArgument,
                    "MALFORMED_REQUEST",
                    "the HTTP/1.1 request line or a header could not be parsed",
                )
                .with_http_status(StatusCode::BAD_REQUEST),
            ),
        }
    }

    /// When `written` starts with one of hyper's automatic answers: the
    /// length of its head, and what to send instead.
    fn replace(&self, written: &[u8]) -> Option<(usize, Bytes)> {
        let end = find(written, b"\r\n\r\n")? + 4;
        let head = std::str::from_utf8(&written[..end - 4]).ok()?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next()?;
        let body = match status_line.get(..13)? {
            "HTTP/1.1 400 " => &self.malformed,
            "HTTP/1.1 414 " => &self.uri_too_long,
            "HTTP/1.1 431 " => &self.head_too_large,
            _ => return None,
        };
        let (mut close, mut empty, mut date) = (false, false, None);
        for line in lines {
            match line.split_once(": ")? {
                ("connection", "close") => close = true,
                ("content-length", "0") => empty = true,
                ("date", value) => date = Some(value),
                _ => return None,
            }
        }
        let date = date.filter(|_| close && empty)?;
        let mut answer = format!(
            "{status_line}\r\ncontent-type: application/json; charset=utf-8\r\n\
             connection: close\r\ncontent-length: {}\r\ndate: {date}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        answer.extend_from_slice(body);
        Some((end, Bytes::from(answer)))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    /// Nothing read yet.
    Unknown,
    Http1,
    /// Opened with the h2 preface: frames, never an HTTP/1 head.
    Http2,
}

/// A connection's IO that puts the envelope into hyper's own refusals.
pub(super) struct Enveloped<T> {
    inner: T,
    refusals: std::sync::Arc<Refusals>,
    protocol: Protocol,
    /// The last write was taken whole, so the next one starts new bytes.
    at_boundary: bool,
    /// What is left to send of a replaced answer.
    pending: Bytes,
}

impl<T> Enveloped<T> {
    pub(super) fn new(inner: T, refusals: std::sync::Arc<Refusals>) -> Self {
        Self {
            inner,
            refusals,
            protocol: Protocol::Unknown,
            at_boundary: true,
            pending: Bytes::new(),
        }
    }
}

impl<T: AsyncWrite + Unpin> Enveloped<T> {
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending.advance(n);
        }
        Poll::Ready(Ok(()))
    }

    /// Takes the head of `written` if it is one of hyper's refusals; the
    /// answer that replaces it goes out with this write or the next flush.
    fn take_refusal(&mut self, cx: &mut Context<'_>, written: &[u8]) -> Option<usize> {
        if self.protocol != Protocol::Http1 || !self.at_boundary {
            return None;
        }
        let (taken, answer) = self.refusals.replace(written)?;
        self.pending = answer;
        // Errors and a full socket show again on the flush that follows.
        let _ = self.drain(cx);
        Some(taken)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Enveloped<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        if self.protocol == Protocol::Unknown && buf.filled().len() > before {
            // "PRI " is no HTTP/1 method hyper would answer: a 400 at most,
            // which on an h2 connection nobody reads as HTTP/1.
            self.protocol = if buf.filled()[before..].starts_with(b"PRI ") {
                Protocol::Http2
            } else {
                Protocol::Http1
            };
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Enveloped<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.drain(cx))?;
        if let Some(taken) = this.take_refusal(cx, buf) {
            return Poll::Ready(Ok(taken));
        }
        let n = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        this.at_boundary = n == buf.len();
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.drain(cx))?;
        if let Some(first) = bufs.iter().find(|b| !b.is_empty())
            && let Some(taken) = this.take_refusal(cx, first)
        {
            return Poll::Ready(Ok(taken));
        }
        let n = ready!(Pin::new(&mut this.inner).poll_write_vectored(cx, bufs))?;
        this.at_boundary = n == bufs.iter().map(|b| b.len()).sum::<usize>();
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
