//! What every call carries besides its message: a deadline header the edge
//! checks, and a request id on every error (docs/behaviour.md §6, §8).

use tonic::Code;

use super::{CallOptions, Deadline, Env};
use crate::support::PARENT;

every_transport!(
    a_malformed_deadline_header_is_invalid_argument,
    errors_carry_the_callers_request_id_or_a_new_one,
);

async fn a_malformed_deadline_header_is_invalid_argument(env: Env) {
    let s = env.start().await;
    let client = s.client.with(CallOptions {
        deadline: Some(Deadline::Malformed("soon")),
        ..CallOptions::default()
    });
    let err = client
        .get(&format!("{PARENT}/operations/x"))
        .await
        .expect_err("refused");
    assert_eq!(err.code, Code::InvalidArgument);
    assert_eq!(err.reason(), "INVALID_GRPC_TIMEOUT");
    assert_eq!(err.message, "malformed grpc-timeout header");
}

async fn errors_carry_the_callers_request_id_or_a_new_one(env: Env) {
    let s = env.start().await;
    let missing = format!("{PARENT}/operations/missing");
    let traced = s.client.with(CallOptions {
        request_id: Some("trace-abc-123".into()),
        ..CallOptions::default()
    });
    let err = traced.get(&missing).await.expect_err("missing");
    assert_eq!(err.request_id.as_deref(), Some("trace-abc-123"));
    let err = s.get(&missing).await.expect_err("missing");
    let made = err.request_id.expect("a request id is made");
    assert_eq!(made.len(), 16, "{made}");
    assert!(made.bytes().all(|b| b.is_ascii_hexdigit()), "{made}");
}
