//! `longrun operations wait`: short WaitOperation calls in a loop, so the
//! person at the terminal sees progress (on stderr) while the server does the
//! waiting; then the final operation on stdout.

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

use anyhow::bail;
use clap::Args;

use super::client::{Session, duration, emit, with_deadline};
use super::output::{longrun_metadata, result_text};
use super::status::one_line;
use crate::pb;

/// Each WaitOperation asks the server to hold on for at most this long, so
/// the progress line moves even when nothing changes.
const POLL: Duration = Duration::from_secs(2);
/// A server that answers early (a small wait cap, a zero deadline) must not
/// turn the loop into a busy one.
const MIN_ROUND: Duration = Duration::from_millis(250);
/// Room for the network on top of the requested wait: the server answers at
/// the end of the wait, never with DEADLINE_EXCEEDED (docs/behaviour.md §2).
const DEADLINE_SLACK: Duration = Duration::from_secs(10);

#[derive(Args, Debug)]
pub struct WaitArgs {
    /// The operation: projects/P/locations/L/operations/ID.
    pub name: String,

    /// How long to wait in all before giving up (then exit 1).
    #[arg(long, default_value = "60s", value_parser = duration)]
    pub timeout: Duration,
}

/// The request of one round: the poll interval, or what is left of the
/// overall timeout when that is shorter.
pub fn wait_request(name: &str, remaining: Duration) -> pb::longrunning::WaitOperationRequest {
    let wait = remaining.min(POLL);
    pb::longrunning::WaitOperationRequest {
        name: name.to_owned(),
        timeout: Some(prost_types::Duration {
            seconds: i64::try_from(wait.as_secs()).unwrap_or(i64::MAX),
            nanos: i32::try_from(wait.subsec_nanos()).unwrap_or(0),
        }),
    }
}

/// `waiting 12s: running, cancel requested: no, status: copying blobs`.
/// The cancel flag and status appear only when the metadata is
/// longrun.v1.OperationMetadata.
pub fn progress_line(elapsed: Duration, op: &pb::longrunning::Operation) -> String {
    let state = if op.done {
        format!("done ({})", result_text(op))
    } else {
        "running".to_owned()
    };
    let mut line = format!("waiting {}s: {state}", elapsed.as_secs());
    if let Some(metadata) = longrun_metadata(op) {
        line.push_str(if metadata.requested_cancellation {
            ", cancel requested: yes"
        } else {
            ", cancel requested: no"
        });
        if !metadata.status_message.is_empty() {
            line.push_str(&format!(", status: {}", one_line(&metadata.status_message)));
        }
    }
    line
}

/// Progress on stderr: rewritten in place on a terminal, one line per round
/// otherwise (a log keeps every line).
struct Progress {
    terminal: bool,
    dirty: bool,
}

impl Progress {
    fn show(&mut self, line: &str) {
        let mut stderr = std::io::stderr().lock();
        // Progress is a courtesy: a closed stderr must not fail the wait.
        let _ = if self.terminal {
            self.dirty = true;
            write!(stderr, "\r\x1b[2K{line}").and_then(|()| stderr.flush())
        } else {
            writeln!(stderr, "{line}")
        };
    }

    fn finish(&mut self) {
        if self.dirty {
            let _ = writeln!(std::io::stderr());
            self.dirty = false;
        }
    }
}

pub async fn wait(session: &Session, args: &WaitArgs) -> anyhow::Result<()> {
    let mut client = session.public().await?;
    let mut progress = Progress {
        terminal: std::io::stderr().is_terminal(),
        dirty: false,
    };
    let start = Instant::now();
    let op = loop {
        let round = Instant::now();
        let remaining = args.timeout.saturating_sub(start.elapsed());
        let request = wait_request(&args.name, remaining);
        let deadline = remaining.min(POLL) + session.call_timeout.unwrap_or(DEADLINE_SLACK);
        let result = client
            .wait_operation(with_deadline(request, Some(deadline)))
            .await;
        let op = match result {
            Ok(response) => response.into_inner(),
            Err(status) => {
                progress.finish();
                return Err(session.rpc_error("WaitOperation", &session.server, &status));
            }
        };
        progress.show(&progress_line(start.elapsed(), &op));
        if op.done || start.elapsed() >= args.timeout {
            break op;
        }
        let spent = round.elapsed();
        if spent < MIN_ROUND {
            let left = args.timeout.saturating_sub(start.elapsed());
            tokio::time::sleep((MIN_ROUND - spent).min(left)).await;
        }
    };
    progress.finish();
    let printed = emit(&session.printer().operation(&op)?);
    // The timeout decides the exit status even when stdout went away.
    if !op.done {
        bail!(
            "timed out after {}: operation {} is not done yet",
            humanize(args.timeout),
            args.name
        );
    }
    printed
}

fn humanize(duration: Duration) -> String {
    if duration.subsec_nanos() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{:.3}s", duration.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    fn op(done: bool, status: &str, cancel: bool) -> pb::longrunning::Operation {
        let metadata = pb::control::OperationMetadata {
            status_message: status.to_owned(),
            requested_cancellation: cancel,
            ..Default::default()
        };
        pb::longrunning::Operation {
            name: "projects/p/locations/l/operations/x".into(),
            metadata: Some(prost_types::Any {
                type_url: "type.googleapis.com/longrun.v1.OperationMetadata".into(),
                value: metadata.encode_to_vec(),
            }),
            done,
            result: None,
        }
    }

    #[test]
    fn progress_line_shows_elapsed_state_cancel_and_status() {
        assert_eq!(
            progress_line(Duration::from_millis(12_400), &op(false, "copying", true)),
            "waiting 12s: running, cancel requested: yes, status: copying"
        );
        assert_eq!(
            progress_line(Duration::ZERO, &op(false, "", false)),
            "waiting 0s: running, cancel requested: no"
        );
    }

    #[test]
    fn progress_line_of_foreign_metadata_has_state_only() {
        let mut op = op(true, "", false);
        op.metadata = Some(prost_types::Any {
            type_url: "type.googleapis.com/acme.v1.Progress".into(),
            value: Vec::new(),
        });
        op.result = Some(pb::longrunning::operation::Result::Response(
            prost_types::Any {
                type_url: "type.googleapis.com/acme.v1.Done".into(),
                value: Vec::new(),
            },
        ));
        assert_eq!(
            progress_line(Duration::from_secs(3), &op),
            "waiting 3s: done (response: acme.v1.Done)"
        );
    }

    #[test]
    fn wait_request_asks_for_the_poll_or_the_rest_of_the_timeout() {
        let long = wait_request("n", Duration::from_secs(60));
        assert_eq!(long.name, "n");
        assert_eq!(
            long.timeout,
            Some(prost_types::Duration {
                seconds: 2,
                nanos: 0
            })
        );
        let short = wait_request("n", Duration::from_millis(300));
        assert_eq!(
            short.timeout,
            Some(prost_types::Duration {
                seconds: 0,
                nanos: 300_000_000
            })
        );
        let none = wait_request("n", Duration::ZERO);
        assert_eq!(none.timeout, Some(prost_types::Duration::default()));
    }
}
