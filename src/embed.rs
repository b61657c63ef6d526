//! The library face: another tonic service embeds longrun, mounts the
//! Operations service next to its own, and runs its work as operations whose
//! cancellation arrives as a `CancellationToken`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use longrun::embed::{Longrun, TaskResult};
//! let longrun = Longrun::open("sqlite::memory:", Default::default()).await?;
//! let operation = longrun
//!     .spawn("projects/p/locations/l", |task| async move {
//!         tokio::select! {
//!             () = task.cancelled() => TaskResult::Cancelled,
//!             () = tokio::time::sleep(std::time::Duration::from_secs(5)) => TaskResult::empty(),
//!         }
//!     })
//!     .await?;
//! println!("started {}", operation.name);
//! tonic::transport::Server::builder()
//!     .add_service(longrun.operations_service())
//!     .serve("127.0.0.1:50051".parse()?)
//!     .await?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::auth::Caller;
use crate::domain::{ErrorStatus, Operation, Outcome, Payload};
use crate::grpc::{ControlGrpc, OperationsGrpc};
use crate::pb;
use crate::server::{DEFAULT_CACHE_ENTRIES, ServerError, load_registry, open_store};
use crate::service::{
    BackgroundTasks, Core, CreateRequest, ServiceError, ServiceSettings, SystemClock,
};
use crate::store::PgSettings;

/// How an embedded task ended.
#[derive(Clone, Debug)]
pub enum TaskResult {
    /// Success, with the response message.
    Response(Payload),
    /// Failure, with a `google.rpc.Code` and a message.
    Failed(ErrorStatus),
    /// The task stopped because it was asked to (CANCELLED).
    Cancelled,
}

impl TaskResult {
    /// Success with `google.protobuf.Empty`.
    pub fn empty() -> Self {
        TaskResult::Response(Payload {
            type_url: crate::registry::type_url("google.protobuf.Empty"),
            value: Vec::new(),
        })
    }

    /// Success with any prost message, packed as `Any`.
    pub fn response<M: prost::Name>(message: &M) -> Self {
        TaskResult::Response(Payload {
            type_url: M::type_url(),
            value: message.encode_to_vec(),
        })
    }
}

/// What a running task can see and do.
pub struct TaskContext {
    name: String,
    cancel: CancellationToken,
    core: Core,
}

impl TaskContext {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Cancelled as soon as a client asks to cancel the operation.
    pub fn cancel_token(&self) -> &CancellationToken {
        &self.cancel
    }

    pub async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }

    /// Reports progress: replaces the operation's metadata.
    pub async fn report(&self, metadata: Payload) -> Result<(), ServiceError> {
        self.core
            .update_operation(&Caller::trusted(), self.name.clone(), Some(metadata))
            .await
            .map(|_| ())
    }
}

/// longrun inside another process.
pub struct Longrun {
    core: Core,
    background: BackgroundTasks,
    domain: Arc<str>,
}

impl Longrun {
    /// Opens the store (`sqlite://FILE`, `sqlite::memory:`, `postgres://...`)
    /// and starts the background timers.
    pub async fn open(database: &str, settings: ServiceSettings) -> Result<Self, ServerError> {
        let registry = load_registry(&[])?;
        let opened = open_store(database, DEFAULT_CACHE_ENTRIES, &PgSettings::default()).await?;
        let core = Core::new(opened.store, registry, settings, Arc::new(SystemClock)).await?;
        let background = BackgroundTasks::spawn(&core, opened.feed);
        Ok(Self {
            core,
            background,
            domain: Arc::from("longrun"),
        })
    }

    /// The use cases, for calls without gRPC.
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// `google.longrunning.Operations`, ready for `Server::add_service`.
    /// Every caller is trusted: authenticate in your own stack, or put
    /// `longrun::grpc::auth::AuthLayer` in front, whose `Caller` wins.
    pub fn operations_service(
        &self,
    ) -> pb::longrunning::operations_server::OperationsServer<OperationsGrpc> {
        pb::longrunning::operations_server::OperationsServer::new(
            OperationsGrpc::new(self.core.clone(), &self.domain)
                .with_default_caller(Caller::trusted()),
        )
    }

    /// The control API, for workers in other processes. Trusts every
    /// caller, as `operations_service` does.
    pub fn control_service(
        &self,
    ) -> pb::control::operations_control_server::OperationsControlServer<ControlGrpc> {
        pb::control::operations_control_server::OperationsControlServer::new(
            ControlGrpc::new(self.core.clone(), &self.domain)
                .with_default_caller(Caller::trusted()),
        )
    }

    /// Creates an operation under `parent` and runs `task` for it. The task's
    /// result completes the operation; a cancel request cancels the task's
    /// token, and the grace period bounds how long the task may take to stop.
    pub async fn spawn<F, Fut>(&self, parent: &str, task: F) -> Result<Operation, ServiceError>
    where
        F: FnOnce(TaskContext) -> Fut + Send + 'static,
        Fut: Future<Output = TaskResult> + Send + 'static,
    {
        // The embedding process acts for itself: a trusted caller.
        let trusted = Caller::trusted();
        let op = self
            .core
            .create_operation(
                &trusted,
                CreateRequest {
                    parent: parent.to_owned(),
                    ..CreateRequest::default()
                },
            )
            .await?;
        let name = op.name.as_str().to_owned();
        // Watching marks the work as started, so a cancel waits for the task.
        let mut events = self.core.watch_operation(&trusted, name.clone()).await?;
        let cancel = CancellationToken::new();
        let relay = cancel.clone();
        tokio::spawn(async move {
            while let Some(Ok(event)) = events.next().await {
                if event.cancel_requested {
                    relay.cancel();
                    return;
                }
                if event.operation.is_done() {
                    return;
                }
            }
        });
        let context = TaskContext {
            name: name.clone(),
            cancel,
            core: self.core.clone(),
        };
        let core = self.core.clone();
        tokio::spawn(async move {
            let outcome = match task(context).await {
                TaskResult::Response(payload) => Outcome::Response(payload),
                TaskResult::Failed(status) => Outcome::Error(status),
                TaskResult::Cancelled => {
                    Outcome::Error(ErrorStatus::cancelled("cancelled by the task"))
                }
            };
            // The grace timer may have ended it first; then its result stands.
            if let Err(err) = core
                .complete_operation(&Caller::trusted(), name.clone(), Some(outcome))
                .await
            {
                tracing::debug!(operation = %name, error = %err, "task result not recorded");
            }
        });
        Ok(op)
    }

    /// Ends Waits and Watches, stops the timers and flushes the store.
    pub async fn shutdown(self) {
        self.core.begin_shutdown();
        self.background.join().await;
        self.core.close_store().await;
    }
}
