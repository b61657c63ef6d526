//! The trace spans of store writes. They are opened only when the
//! `Recorder` says traces are on: with traces off a write builds no span at
//! all, not even a disabled one.

use tracing::Span;

use crate::observe::Recorder;

/// `store.write`: one write, from the call to its answer (queueing and the
/// commit included), as a child of whatever span the caller is in.
pub(super) fn write_span(
    recorder: &Recorder,
    system: &'static str,
    operation: &'static str,
) -> Span {
    if recorder.spans() {
        tracing::debug_span!(
            "store.write",
            db.system.name = system,
            db.operation.name = operation,
        )
    } else {
        Span::none()
    }
}
