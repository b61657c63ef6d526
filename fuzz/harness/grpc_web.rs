//! gRPC-Web framing, end to end: a real server (in-memory SQLite, both
//! listeners on loopback ports) is sent the rest of the input as the body
//! of a gRPC-Web call. The first byte picks the method (public or control),
//! the second the content type (binary or base64 text, with or without
//! `+proto`). Whatever the frames and the message in them, the answer is
//! no HTTP 5xx and no INTERNAL, UNKNOWN or DATA_LOSS: a malformed frame or
//! message is the client's error.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use longrun::server::{RunningServer, ServerConfig};
use longrun::service::ServiceSettings;

/// (control listener?, gRPC path).
pub const METHODS: &[(bool, &str)] = &[
    (false, "/google.longrunning.Operations/ListOperations"),
    (false, "/google.longrunning.Operations/GetOperation"),
    (false, "/google.longrunning.Operations/DeleteOperation"),
    (false, "/google.longrunning.Operations/CancelOperation"),
    (false, "/google.longrunning.Operations/WaitOperation"),
    (true, "/longrun.v1.OperationsControl/CreateOperation"),
    (true, "/longrun.v1.OperationsControl/UpdateOperation"),
    (true, "/longrun.v1.OperationsControl/CompleteOperation"),
    (true, "/longrun.v1.OperationsControl/WatchOperation"),
];

pub const CONTENT_TYPES: &[&str] = &[
    "application/grpc-web",
    "application/grpc-web+proto",
    "application/grpc-web-text",
    "application/grpc-web-text+proto",
];

/// The gRPC codes that say the server, not the client, is at fault.
const SERVER_FAULTS: &[u32] = &[2, 13, 15];

/// Longest a call may take: Waits and Watches end at the deadline sent,
/// far sooner, so a call this slow is a hang.
const CALL_LIMIT: Duration = Duration::from_secs(20);

/// How long a Watch's stream is read before it counts as open.
const WATCH_LIMIT: Duration = Duration::from_secs(1);

struct Setup {
    runtime: tokio::runtime::Runtime,
    client: Client<HttpConnector, Full<Bytes>>,
    public: SocketAddr,
    control: SocketAddr,
    /// Kept for the process: the server stops when it is dropped.
    _server: RunningServer,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let config = ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            control_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database: "sqlite::memory:".into(),
            console: false,
            service: ServiceSettings {
                // Producers' metadata is decoded and stamped as this type.
                default_metadata_type: Some("longrun.v1.OperationMetadata".into()),
                wait_cap: Duration::from_millis(50),
                ..ServiceSettings::default()
            },
            ..ServerConfig::default()
        };
        let server = runtime
            .block_on(longrun::server::start(config))
            .expect("the server starts");
        let client = Client::builder(TokioExecutor::new()).build_http();
        Setup {
            public: server.public_addr,
            control: server.control_addr,
            _server: server,
            client,
            runtime,
        }
    })
}

pub fn check(data: &[u8]) {
    let [method, content_type, body @ ..] = data else {
        return;
    };
    let (control, path) = METHODS[usize::from(*method) % METHODS.len()];
    let content_type = CONTENT_TYPES[usize::from(*content_type) % CONTENT_TYPES.len()];
    let setup = setup();
    let addr = if control { setup.control } else { setup.public };
    let request = http::Request::post(format!("http://{addr}{path}"))
        .header(http::header::CONTENT_TYPE, content_type)
        .header("x-grpc-web", "1")
        .header(http::header::ACCEPT, content_type)
        .header("grpc-timeout", "200m")
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("a request");
    let watch = path.ends_with("/WatchOperation");
    let answered = setup.runtime.block_on(async {
        let response = tokio::time::timeout(CALL_LIMIT, setup.client.request(request))
            .await
            .expect("the call is answered")
            .expect("the server answers");
        let (parts, body) = response.into_parts();
        // A Watch of an operation that exists streams on past its
        // grpc-timeout (the edge's deadline covers the answer's headers,
        // not the stream): an open stream is a Watch doing its job.
        let limit = if watch { WATCH_LIMIT } else { CALL_LIMIT };
        let read = tokio::time::timeout(limit, body.collect()).await;
        if !watch {
            assert!(read.is_ok(), "{path}: the answer ends");
        }
        let bytes = read
            .ok()
            .map(|read| read.expect("the answer is read").to_bytes());
        (parts.status, parts.headers, bytes)
    });
    let (status, headers, answer) = answered;
    assert!(!status.is_server_error(), "{path} answered HTTP {status}");
    let Some(answer) = answer else {
        assert!(
            status.is_success(),
            "{path}: a stream open after HTTP {status}"
        );
        return;
    };
    // tonic-web answers in text only to a client that accepts it.
    let text = headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|answer| answer.as_bytes().starts_with(b"application/grpc-web-text"));
    let Some(code) = grpc_status(&headers, &answer, text) else {
        // Only an answer that is not gRPC-Web at all may lack a status.
        assert!(
            !status.is_success(),
            "{path} answered without a grpc-status: {headers:?} {answer:?}"
        );
        return;
    };
    assert!(
        !SERVER_FAULTS.contains(&code),
        "{path} ({content_type}) answered gRPC status {code}: {headers:?} {answer:?}"
    );
}

/// The call's status: in the headers (trailers-only) or in the trailer
/// frame at the end of the body.
fn grpc_status(headers: &http::HeaderMap, body: &[u8], text: bool) -> Option<u32> {
    if let Some(code) = headers.get("grpc-status") {
        return std::str::from_utf8(code.as_bytes()).ok()?.parse().ok();
    }
    let decoded;
    let mut frames = if text {
        // Each chunk is padded base64 on its own: decode quantum by quantum.
        decoded = body
            .chunks(4)
            .filter_map(|quantum| STANDARD.decode(quantum).ok())
            .flatten()
            .collect::<Vec<u8>>();
        &decoded[..]
    } else {
        body
    };
    while let [flag, a, b, c, d, rest @ ..] = frames {
        let len = usize::try_from(u32::from_be_bytes([*a, *b, *c, *d])).ok()?;
        let payload = rest.get(..len)?;
        if flag & 0x80 != 0 {
            let trailers = std::str::from_utf8(payload).ok()?;
            return trailers.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.trim()
                    .eq_ignore_ascii_case("grpc-status")
                    .then(|| value.trim().parse().ok())?
            });
        }
        frames = &rest[len..];
    }
    None
}
