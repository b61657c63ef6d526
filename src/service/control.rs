//! The control API for producers and workers (docs/behaviour.md §4): Create, Update,
//! Complete and Watch.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::access::{WireDuration, duration_field};
use super::error::StoreResult;
use super::{Change, Core, ServiceError, subject};
use crate::auth::{Caller, Permission, ServerPass};
use crate::domain::{
    CancelState, ErrorStatus, NewOperation, Operation, OperationId, Outcome, Payload, RequestId,
};
use crate::observe::{Ended, Waiter};
use crate::store::{Inserted, same_request};

#[derive(Clone, Debug, Default)]
pub struct CreateRequest {
    pub parent: String,
    pub operation_id: String,
    pub metadata: Option<Payload>,
    pub request_id: String,
    /// `None`: the server default. Negative values are INVALID_ARGUMENT.
    pub cancel_grace: Option<WireDuration>,
}

/// One state of a watched operation.
#[derive(Clone, Debug)]
pub struct WatchEvent {
    pub operation: Arc<Operation>,
    pub cancel_requested: bool,
}

pub type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchEvent, ServiceError>> + Send>>;

/// Events a slow watcher may have queued before it counts as lagging.
const WATCH_BUFFER: usize = 8;

impl Core {
    pub async fn create_operation(
        &self,
        caller: &Caller,
        request: CreateRequest,
    ) -> Result<Operation, ServiceError> {
        let pass = self.authorized_parent(caller, Permission::Create, &request.parent)?;
        let cancel_grace = duration_field("cancel_grace", request.cancel_grace)?;
        let id = if request.operation_id.is_empty() {
            OperationId::from_random(rand::random())
        } else {
            OperationId::client_chosen(&request.operation_id)?
        };
        let request_id = match request.request_id.as_str() {
            "" => None,
            text => Some(RequestId::parse(text)?),
        };
        let metadata = request
            .metadata
            .or_else(|| self.inner.metadata.default_metadata());
        let new = NewOperation {
            name: pass.parent().operation(&id),
            metadata,
            request_id: request_id.clone(),
            cancel_grace: cancel_grace.unwrap_or(self.inner.settings.default_cancel_grace),
        };
        let mut op = Operation::create(new, self.now());
        self.inner.metadata.stamp(&mut op);
        // At most two rounds: an expired operation that still holds the name
        // or the request id is removed once, then the insert is retried.
        for _ in 0..2 {
            match self
                .store()
                .insert(&pass, &op)
                .await
                .about(|| subject(&op.name))?
            {
                Inserted::Created(created) => {
                    self.recorder().operation_created();
                    return Ok(created);
                }
                Inserted::Conflict(existing) if existing.is_expired(self.now()) => {
                    // Retention ended: the name is free for callers (docs/behaviour.md §10),
                    // whether or not the purge has run yet. Removing it is
                    // retention's work, done here early: the server's own.
                    let expired = ServerPass::for_server_work().operation(existing.name);
                    let name = expired.name();
                    self.store()
                        .delete(&expired)
                        .await
                        .about(|| subject(name))?;
                }
                Inserted::Conflict(existing) if same_request(&existing, request_id.as_ref()) => {
                    return Ok(existing);
                }
                Inserted::Conflict(existing) => {
                    return Err(ServiceError::AlreadyExists(existing.name.to_string()));
                }
            }
        }
        Err(ServiceError::Contended(op.name.to_string()))
    }

    pub async fn update_operation(
        &self,
        caller: &Caller,
        name: String,
        metadata: Option<Payload>,
    ) -> Result<Operation, ServiceError> {
        let pass = self.authorized_operation(caller, Permission::Update, name)?;
        self.transition(&pass, |op, now| {
            op.update_metadata(metadata.clone(), now)
                .map(Some)
                .map_err(|e| ServiceError::from_transition(e, op.name.as_str()))
        })
        .await
    }

    pub async fn complete_operation(
        &self,
        caller: &Caller,
        name: String,
        outcome: Option<Outcome>,
    ) -> Result<Operation, ServiceError> {
        let pass = self.authorized_operation(caller, Permission::Complete, name)?;
        let Some(outcome) = outcome else {
            return Err(ServiceError::InvalidArgument {
                field: "result",
                message: "set exactly one of response or error".into(),
            });
        };
        if let Outcome::Error(status) = &outcome
            && status.code == 0
        {
            return Err(ServiceError::InvalidArgument {
                field: "error.code",
                message: "an error must have a non-zero code; send a response for success".into(),
            });
        }
        let retention = self.inner.settings.retention;
        let done = self
            .transition(&pass, |op, now| {
                op.complete(outcome.clone(), now, retention)
                    .map(Some)
                    .map_err(|e| ServiceError::from_transition(e, op.name.as_str()))
            })
            .await?;
        self.recorder().operation_ended(match &outcome {
            Outcome::Response(_) => Ended::Response,
            Outcome::Error(status)
                if status.code == ErrorStatus::CANCELLED && done.cancel_requested() =>
            {
                Ended::CancelledByWorker
            }
            Outcome::Error(_) => Ended::Error,
        });
        Ok(done)
    }

    /// The current state first, then every change, ending after done. Opening
    /// a Watch marks the work as started, so later cancels wait for the worker.
    pub async fn watch_operation(
        &self,
        caller: &Caller,
        name: String,
    ) -> Result<WatchStream, ServiceError> {
        let pass = self.authorized_operation(caller, Permission::Watch, name)?;
        let permit = self.waiter_permit(Waiter::Watch)?;
        let mut subscription = self.inner.notifier.subscribe(pass.name());
        let first = self
            .transition(&pass, |op, now| Ok(op.mark_started(now)))
            .await?;
        let (sender, receiver) = mpsc::channel(WATCH_BUFFER);
        let core = self.clone();
        tokio::spawn(async move {
            // Held for as long as the stream is open.
            let _permit = permit;
            let shutdown = core.inner.shutdown.clone();
            let mut last_version = first.version;
            let mut done = first.is_done();
            let mut delivered = false;
            let first = Arc::new(first);
            core.report_delivery(&first, &mut delivered);
            if sender.send(Ok(event(first))).await.is_err() {
                return;
            }
            while !done {
                let change = tokio::select! {
                    change = subscription.next() => change,
                    () = shutdown.cancelled() => return,
                    () = sender.closed() => return,
                };
                let latest = match change {
                    Change::Updated(op) => op,
                    Change::Deleted => {
                        let _ = sender
                            .send(Err(ServiceError::NotFound(pass.name().to_string())))
                            .await;
                        return;
                    }
                    Change::Unknown => match core.load(&pass).await {
                        Ok(op) => Arc::new(op),
                        Err(err) => {
                            let _ = sender.send(Err(err)).await;
                            return;
                        }
                    },
                };
                if latest.version <= last_version {
                    continue;
                }
                last_version = latest.version;
                done = latest.is_done();
                core.report_delivery(&latest, &mut delivered);
                if sender.send(Ok(event(latest))).await.is_err() {
                    return;
                }
            }
        });
        Ok(Box::pin(ReceiverStream::new(receiver)))
    }
}

impl Core {
    /// The first event of a Watch that tells a running operation's worker
    /// to cancel: how long after the request it reached them. Once per Watch.
    fn report_delivery(&self, op: &Operation, delivered: &mut bool) {
        if *delivered || op.is_done() || !self.recorder().is_on() {
            return;
        }
        if let CancelState::Requested { at, .. } = op.cancel {
            *delivered = true;
            // Another replica's clock may be ahead: never negative.
            let latency = self.now().duration_since(at).unwrap_or_default();
            self.recorder().cancel_delivered(latency);
        }
    }
}

fn event(operation: Arc<Operation>) -> WatchEvent {
    WatchEvent {
        cancel_requested: operation.cancel_requested(),
        operation,
    }
}
