//! `Operation` and its lifecycle: creation, and every transition (cancel with
//! or without a grace period, complete, update metadata, mark started, grace
//! expiry, retention) decided from plain values and a `now`.

use std::time::{Duration, SystemTime};

use super::{ErrorStatus, OperationName, Payload, RequestId};

/// How an operation ended. A done operation has exactly one of these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Response(Payload),
    Error(ErrorStatus),
}

/// Where a cancel request stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelState {
    NotRequested,
    /// A client asked; the worker has until `deadline` to acknowledge or
    /// finish, after which the server ends the operation as cancelled.
    Requested {
        at: SystemTime,
        deadline: SystemTime,
    },
}

/// One long-running operation and everything the server remembers about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    pub name: OperationName,
    pub metadata: Option<Payload>,
    /// `None` while running; set exactly once.
    pub outcome: Option<Outcome>,
    pub create_time: SystemTime,
    pub update_time: SystemTime,
    pub end_time: Option<SystemTime>,
    pub cancel: CancelState,
    /// How long a cancel waits for the worker.
    pub cancel_grace: Duration,
    /// True once a worker has shown up (watched or updated the operation);
    /// a cancel of work nobody started ends it at once.
    pub started: bool,
    pub request_id: Option<RequestId>,
    /// When a done operation is forgotten (retention).
    pub expire_time: Option<SystemTime>,
    /// Bumped by every change; stores use it for compare-and-swap.
    pub version: i64,
}

/// What a producer asks for when it creates an operation.
#[derive(Clone, Debug)]
pub struct NewOperation {
    pub name: OperationName,
    pub metadata: Option<Payload>,
    pub request_id: Option<RequestId>,
    pub cancel_grace: Duration,
}

/// A transition that the current state does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the operation is already done")]
    AlreadyDone,
}

/// What a cancel request does to an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelDecision {
    /// Done already: the result stays, the request is a successful no-op.
    AlreadyDone,
    /// Asked before: a successful no-op.
    AlreadyRequested,
    /// Nobody started the work, or the grace is zero: done now as cancelled.
    CancelledNow(Operation),
    /// The worker is told and has until the deadline.
    AwaitWorker(Operation),
}

const CANCELLED_BY_REQUEST: &str = "operation cancelled by request";
const CANCELLED_AFTER_GRACE: &str =
    "operation cancelled: the worker did not finish within the cancel grace period";

impl Operation {
    pub fn create(new: NewOperation, now: SystemTime) -> Self {
        Self {
            name: new.name,
            metadata: new.metadata,
            outcome: None,
            create_time: now,
            update_time: now,
            end_time: None,
            cancel: CancelState::NotRequested,
            cancel_grace: new.cancel_grace,
            started: false,
            request_id: new.request_id,
            expire_time: None,
            version: 1,
        }
    }

    pub fn is_done(&self) -> bool {
        self.outcome.is_some()
    }

    pub fn cancel_requested(&self) -> bool {
        matches!(self.cancel, CancelState::Requested { .. })
    }

    /// The grace deadline still pending, if any: what a timer must watch.
    pub fn pending_cancel_deadline(&self) -> Option<SystemTime> {
        match (&self.cancel, self.is_done()) {
            (CancelState::Requested { deadline, .. }, false) => Some(*deadline),
            _ => None,
        }
    }

    /// True when retention has run out: the operation is gone for callers.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expire_time.is_some_and(|expire| expire <= now)
    }

    fn next(&self, now: SystemTime) -> Self {
        let mut next = self.clone();
        next.update_time = now.max(self.update_time);
        next.version = self.version + 1;
        next
    }

    fn finish(&self, outcome: Outcome, now: SystemTime, retention: Duration) -> Self {
        let mut next = self.next(now);
        next.settle(outcome, retention);
        next
    }

    /// Makes an already-bumped copy done; the end time is its update time.
    fn settle(&mut self, outcome: Outcome, retention: Duration) {
        let end = self.update_time;
        self.outcome = Some(outcome);
        self.end_time = Some(end);
        self.expire_time = Some(end.checked_add(retention).unwrap_or(end));
    }

    /// A client asks to cancel (docs/behaviour.md §2): done at once when nobody started
    /// the work or the grace is zero, otherwise the worker gets the grace.
    pub fn request_cancel(&self, now: SystemTime, retention: Duration) -> CancelDecision {
        if self.is_done() {
            return CancelDecision::AlreadyDone;
        }
        if self.cancel_requested() {
            return CancelDecision::AlreadyRequested;
        }
        let mut requested = self.next(now);
        let deadline = now.checked_add(self.cancel_grace).unwrap_or(now);
        requested.cancel = CancelState::Requested { at: now, deadline };
        if !self.started || self.cancel_grace.is_zero() {
            let outcome = Outcome::Error(ErrorStatus::cancelled(CANCELLED_BY_REQUEST));
            requested.settle(outcome, retention);
            return CancelDecision::CancelledNow(requested);
        }
        CancelDecision::AwaitWorker(requested)
    }

    /// The worker (or the producer) reports how the work ended. The first
    /// outcome wins; a done operation never changes.
    pub fn complete(
        &self,
        outcome: Outcome,
        now: SystemTime,
        retention: Duration,
    ) -> Result<Self, TransitionError> {
        if self.is_done() {
            return Err(TransitionError::AlreadyDone);
        }
        Ok(self.finish(outcome, now, retention))
    }

    /// The worker reports progress. Counts as the worker having started.
    /// Without metadata it is a heartbeat: the stored metadata stays, so a
    /// worker that only says "started" never erases the producer's.
    pub fn update_metadata(
        &self,
        metadata: Option<Payload>,
        now: SystemTime,
    ) -> Result<Self, TransitionError> {
        if self.is_done() {
            return Err(TransitionError::AlreadyDone);
        }
        let mut next = self.next(now);
        if let Some(metadata) = metadata {
            next.metadata = Some(metadata);
        }
        next.started = true;
        Ok(next)
    }

    /// A worker opened a Watch: from now on a cancel waits for it.
    /// `None` when nothing changes.
    pub fn mark_started(&self, now: SystemTime) -> Option<Self> {
        if self.started || self.is_done() {
            return None;
        }
        let mut next = self.next(now);
        next.started = true;
        Some(next)
    }

    /// The grace of a cancel request ran out with the work unfinished.
    /// `None` when there is nothing to do (done already, or not yet due).
    pub fn expire_cancel_grace(&self, now: SystemTime, retention: Duration) -> Option<Self> {
        let deadline = self.pending_cancel_deadline()?;
        if deadline > now {
            return None;
        }
        let outcome = Outcome::Error(ErrorStatus::cancelled(CANCELLED_AFTER_GRACE));
        Some(self.finish(outcome, now, retention))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
    }

    fn running(grace: Duration, started: bool) -> Operation {
        let name = OperationName::parse("projects/p/locations/l/operations/x").expect("name");
        let mut op = Operation::create(
            NewOperation {
                name,
                metadata: None,
                request_id: None,
                cancel_grace: grace,
            },
            at(0),
        );
        op.started = started;
        op
    }

    fn response() -> Outcome {
        Outcome::Response(Payload {
            type_url: "type.googleapis.com/google.protobuf.Empty".into(),
            value: vec![],
        })
    }

    #[test]
    fn cancel_of_unstarted_operation_ends_it_at_once() {
        let op = running(Duration::from_secs(30), false);
        let CancelDecision::CancelledNow(done) = op.request_cancel(at(5), RETENTION) else {
            panic!("expected immediate cancel");
        };
        let Some(Outcome::Error(status)) = &done.outcome else {
            panic!("expected an error outcome");
        };
        assert_eq!(status.code, ErrorStatus::CANCELLED);
        assert!(done.cancel_requested());
        assert_eq!(done.end_time, Some(at(5)));
        assert_eq!(done.expire_time, Some(at(5) + RETENTION));
        assert_eq!(done.version, op.version + 1);
    }

    #[test]
    fn cancel_with_zero_grace_ends_started_operation_at_once() {
        let op = running(Duration::ZERO, true);
        assert!(matches!(
            op.request_cancel(at(1), RETENTION),
            CancelDecision::CancelledNow(_)
        ));
    }

    #[test]
    fn cancel_of_started_operation_waits_for_worker_until_deadline() {
        let op = running(Duration::from_secs(10), true);
        let CancelDecision::AwaitWorker(waiting) = op.request_cancel(at(2), RETENTION) else {
            panic!("expected the worker to be asked");
        };
        assert!(!waiting.is_done());
        assert_eq!(waiting.pending_cancel_deadline(), Some(at(12)));
        assert_eq!(
            waiting.request_cancel(at(3), RETENTION),
            CancelDecision::AlreadyRequested
        );
        assert!(waiting.expire_cancel_grace(at(11), RETENTION).is_none());
        let expired = waiting
            .expire_cancel_grace(at(12), RETENTION)
            .expect("due at the deadline");
        assert!(matches!(&expired.outcome, Some(Outcome::Error(s)) if s.code == 1));
        assert_eq!(expired.pending_cancel_deadline(), None);
    }

    #[test]
    fn worker_completing_after_cancel_request_keeps_its_result() {
        let op = running(Duration::from_secs(10), true);
        let CancelDecision::AwaitWorker(waiting) = op.request_cancel(at(2), RETENTION) else {
            panic!("expected the worker to be asked");
        };
        let done = waiting
            .complete(response(), at(3), RETENTION)
            .expect("running");
        assert_eq!(done.outcome, Some(response()));
        assert!(done.expire_cancel_grace(at(100), RETENTION).is_none());
        assert_eq!(
            done.request_cancel(at(4), RETENTION),
            CancelDecision::AlreadyDone
        );
    }

    #[test]
    fn done_operation_never_changes() {
        let done = running(Duration::ZERO, true)
            .complete(response(), at(1), RETENTION)
            .expect("running");
        assert_eq!(
            done.complete(response(), at(2), RETENTION),
            Err(TransitionError::AlreadyDone)
        );
        assert_eq!(
            done.update_metadata(None, at(2)),
            Err(TransitionError::AlreadyDone)
        );
        assert_eq!(done.mark_started(at(2)), None);
    }

    #[test]
    fn update_marks_operation_started() {
        let op = running(Duration::from_secs(5), false);
        let updated = op.update_metadata(None, at(1)).expect("running");
        assert!(updated.started);
        assert!(matches!(
            updated.request_cancel(at(2), RETENTION),
            CancelDecision::AwaitWorker(_)
        ));
    }

    #[test]
    fn update_without_metadata_keeps_the_stored_metadata() {
        let stored = Payload {
            type_url: "type.googleapis.com/p.Meta".into(),
            value: vec![1, 2, 3],
        };
        let mut op = running(Duration::from_secs(5), false);
        op.metadata = Some(stored.clone());
        let heartbeat = op.update_metadata(None, at(1)).expect("running");
        assert_eq!(heartbeat.metadata, Some(stored));
        assert!(heartbeat.started);
        assert_eq!(heartbeat.version, op.version + 1);
    }

    #[test]
    fn update_with_metadata_replaces_it() {
        let mut op = running(Duration::from_secs(5), false);
        op.metadata = Some(Payload {
            type_url: "type.googleapis.com/p.Meta".into(),
            value: vec![1],
        });
        let fresh = Payload {
            type_url: "type.googleapis.com/p.Other".into(),
            value: vec![9],
        };
        let updated = op
            .update_metadata(Some(fresh.clone()), at(1))
            .expect("running");
        assert_eq!(updated.metadata, Some(fresh));
    }

    #[test]
    fn update_time_never_goes_backwards_when_clock_does() {
        let op = running(Duration::ZERO, false);
        let updated = op
            .update_metadata(None, at(0) - Duration::from_secs(60))
            .expect("running");
        assert_eq!(updated.update_time, at(0));
    }

    #[test]
    fn expiry_follows_retention() {
        let done = running(Duration::ZERO, true)
            .complete(response(), at(10), Duration::from_secs(60))
            .expect("running");
        assert!(!done.is_expired(at(69)));
        assert!(done.is_expired(at(70)));
    }
}
