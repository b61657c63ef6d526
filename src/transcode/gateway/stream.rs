//! A server-streaming RPC over REST, as Google's front ends do it: one JSON
//! array, each message an element sent as it arrives; an error after the
//! call started becomes a last `{"error": ...}` element.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Request, Response, header};
use http_body_util::BodyExt;
use prost_reflect::DynamicMessage;
use tokio::sync::mpsc;
use tonic::Code;

use super::call::send;
use super::frame::next_message;
use super::reply::status_response;
use super::{BoxError, RestResponse, Shared};
use crate::transcode::response::{RenderOptions, render_response};
use crate::transcode::status::{error_body, error_body_from_status};
use crate::transcode::{Binding, TranscodeError};

type Chunks = mpsc::Sender<Result<http_body::Frame<Bytes>, Infallible>>;

/// Chunks a slow client may leave unread before the relay waits for it.
const CHUNK_BUFFER: usize = 8;

pub(super) async fn stream_response<S>(
    grpc: S,
    request: Request<tonic::body::Body>,
    binding: Binding,
    options: RenderOptions,
    shared: Arc<Shared>,
) -> RestResponse
where
    S: tower::Service<Request<tonic::body::Body>, Response = Response<tonic::body::Body>>,
    S::Error: Into<BoxError>,
{
    // A refusal before the first message is a plain error answer, with its
    // HTTP status: the array has not begun.
    let answer = match send(grpc, request).await {
        Ok(answer) => answer.into_body(),
        Err(status) => return status_response(&status, &shared.config),
    };
    let (sender, receiver) = mpsc::channel(CHUNK_BUFFER);
    tokio::spawn(relay(answer, binding, options, shared, sender));
    let body =
        http_body_util::StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(receiver));
    let mut response = Response::new(tonic::body::Body::new(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// Copies the gRPC stream into the JSON array until it ends or the client
/// goes away.
async fn relay(
    mut answer: tonic::body::Body,
    binding: Binding,
    options: RenderOptions,
    shared: Arc<Shared>,
    sender: Chunks,
) {
    let domain = &shared.config.domain;
    let mut array = JsonArray::new(sender);
    if !array.open().await {
        return;
    }
    let mut buffer = BytesMut::new();
    let mut failure = None;
    while let Some(frame) = answer.frame().await {
        let frame = match frame {
            Ok(frame) => frame,
            Err(status) => {
                failure = Some(status);
                break;
            }
        };
        let data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => {
                failure = failure.or_else(|| frame.trailers_ref().and_then(super::call::failure));
                continue;
            }
        };
        buffer.extend_from_slice(&data);
        while let Some(message) = next_message(&mut buffer) {
            let element = render_element(&binding, &message, &options, domain);
            if !array.push(element).await {
                return;
            }
        }
    }
    let last = failure.map(|status| error_body_from_status(&status, &shared.config.pool, domain).1);
    array.close(last).await;
}

/// One streamed message as JSON; one that cannot be shown becomes an error
/// element rather than ending the stream.
fn render_element(
    binding: &Binding,
    message: &Bytes,
    options: &RenderOptions,
    domain: &str,
) -> Vec<u8> {
    let rendered = DynamicMessage::decode(binding.method.output(), message.as_ref())
        .map_err(|err| {
            TranscodeError::new(Code::Internal, "RESPONSE_DECODE_FAILED", err.to_string())
        })
        .and_then(|message| render_response(binding, &message, options));
    match rendered {
        Ok(json) => json,
        Err(err) => error_body(&err, domain).1,
    }
}

/// The JSON array being written: `[`, elements with `,\n` between, `]`.
struct JsonArray {
    sender: Chunks,
    empty: bool,
}

impl JsonArray {
    fn new(sender: Chunks) -> Self {
        Self {
            sender,
            empty: true,
        }
    }

    /// False once the client has gone away.
    async fn send(&self, chunk: Vec<u8>) -> bool {
        self.sender
            .send(Ok(http_body::Frame::data(Bytes::from(chunk))))
            .await
            .is_ok()
    }

    async fn open(&self) -> bool {
        self.send(b"[".to_vec()).await
    }

    async fn push(&mut self, element: Vec<u8>) -> bool {
        let mut chunk = if self.empty {
            Vec::with_capacity(element.len())
        } else {
            b",\n".to_vec()
        };
        self.empty = false;
        chunk.extend_from_slice(&element);
        self.send(chunk).await
    }

    async fn close(mut self, last: Option<Vec<u8>>) {
        if let Some(element) = last
            && !self.push(element).await
        {
            return;
        }
        let _ = self.send(b"]".to_vec()).await;
    }
}
