//! The clock-skew fault scenario (tests/faults/replicas, scenario 3), made
//! deterministic: one replica's clock is five minutes off, through the
//! server's injectable clock instead of libfaketime. A cancel grace must end
//! after the grace by the database's clock whichever replica took the cancel
//! and whichever replica's timer ends it; a replica that judged deadlines by
//! its own clock ended them at once (the one ahead ended the other's
//! deadlines, the one behind wrote deadlines already past).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use longrun::pb::control as ctl;
use longrun::service::{Clock, ServiceSettings};
use tokio::time::Instant;

use super::replica_config;
use crate::support::postgres::PgSchema;
use crate::support::*;

const SKEW: Duration = Duration::from_secs(300);
const GRACE: Duration = Duration::from_secs(1);
/// The timer sleeps until the earliest deadline it knows, woken by the
/// other replica's notification; its backstop look is every 5 s.
const LATE_BOUND: Duration = Duration::from_secs(6);

#[derive(Debug)]
struct Skewed {
    ahead: bool,
}

impl Clock for Skewed {
    fn now(&self) -> SystemTime {
        if self.ahead {
            SystemTime::now() + SKEW
        } else {
            SystemTime::now() - SKEW
        }
    }
}

/// A replica on a clock `SKEW` off, and one on the true clock.
async fn skewed_pair(schema: &PgSchema, ahead: bool) -> (TestServer, TestServer) {
    let mut config = replica_config(schema.url("skewed"), ServiceSettings::default());
    config.clock = Arc::new(Skewed { ahead });
    let skewed = TestServer::with_config(config, None).await;
    let honest = TestServer::with_config(
        replica_config(schema.url("honest"), ServiceSettings::default()),
        None,
    )
    .await;
    (skewed, honest)
}

/// Creates an operation with `GRACE` on `on`, starts it with a Watch there,
/// cancels it on `cancel_on` and returns how long after the cancel was
/// acknowledged the operation ended, and how.
async fn grace_runs_out(on: &TestServer, cancel_on: &TestServer) -> (Duration, Option<i32>) {
    let op = on
        .create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            cancel_grace: Some(pb_duration(GRACE)),
            ..Default::default()
        })
        .await;
    let mut watch = on.watch(&op.name).await;
    assert!(!next_event(&mut watch).await.cancel_requested);
    cancel_on.cancel(&op.name).await.expect("cancel");
    let cancelled = Instant::now();
    loop {
        let event = next_event(&mut watch).await;
        let current = event.operation.expect("operation");
        if current.done {
            return (cancelled.elapsed(), error_code(&current));
        }
        assert!(
            cancelled.elapsed() < GRACE + LATE_BOUND,
            "the grace never ran out"
        );
    }
}

fn assert_on_time(case: &str, (after, code): (Duration, Option<i32>)) {
    assert_eq!(code, Some(1), "{case}: ended CANCELLED by the timer");
    // The cancel's acknowledgement came after the deadline was written, so
    // the grace cannot have run out less than GRACE before; a little slack
    // for the database's clock reading.
    assert!(
        after >= GRACE - Duration::from_millis(100),
        "{case}: the grace ended {after:?} after the cancel, before its {GRACE:?}"
    );
    assert!(
        after < GRACE + LATE_BOUND,
        "{case}: the grace ended {after:?} after the cancel"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_skew_replica_ahead_does_not_end_graces_early() {
    let Some(schema) = PgSchema::create().await else {
        return;
    };
    let (ahead, honest) = skewed_pair(&schema, true).await;
    // The honest replica writes the deadline; the one ahead must not take
    // it for past.
    assert_on_time(
        "cancel on the honest replica",
        grace_runs_out(&honest, &honest).await,
    );
    // The replica ahead writes it; the honest one must not wait five minutes
    // more (and the one ahead not end it early by its own clock).
    assert_on_time(
        "cancel on the replica ahead",
        grace_runs_out(&ahead, &ahead).await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_skew_replica_behind_does_not_write_past_deadlines() {
    let Some(schema) = PgSchema::create().await else {
        return;
    };
    let (behind, honest) = skewed_pair(&schema, false).await;
    assert_on_time(
        "cancel on the replica behind",
        grace_runs_out(&behind, &behind).await,
    );
    assert_on_time(
        "cancel on the honest replica",
        grace_runs_out(&honest, &honest).await,
    );
}
