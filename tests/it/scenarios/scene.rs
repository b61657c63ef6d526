//! A scenario's world: a whole server in-process on ephemeral ports, on the
//! scenario's clock, and a client of it over the scenario's transport.

use std::sync::Arc;
use std::time::Duration;

use longrun::pb::{control as ctl, longrunning as lro};
use longrun::server::{RunningServer, ServerConfig};
use longrun::service::ServiceSettings;

use super::client::{Client, Events, Reply};
use super::time::TestClock;
use super::transport::Transport;
use crate::support::{PARENT, config, default_metadata_settings, pb_duration};

/// What every scenario is given: its transport and its clock.
#[derive(Clone)]
pub struct Env {
    pub transport: Transport,
    clock: Arc<TestClock>,
}

impl Env {
    pub fn new(transport: Transport) -> Self {
        Self {
            transport,
            clock: Arc::new(TestClock::new()),
        }
    }

    pub async fn start(&self) -> Scene {
        self.start_with(ServiceSettings::default()).await
    }

    /// A server started with `--default-metadata-type longrun.v1.OperationMetadata`.
    pub async fn start_with_default_metadata(&self) -> Scene {
        self.start_with(default_metadata_settings()).await
    }

    pub async fn start_with(&self, settings: ServiceSettings) -> Scene {
        self.start_config(config("sqlite::memory:".into(), settings))
            .await
    }

    /// A server on a database file that outlives it (for restarts).
    pub async fn start_on_file(&self, path: &std::path::Path) -> Scene {
        let url = format!("sqlite://{}", path.display());
        self.start_config(config(url, ServiceSettings::default()))
            .await
    }

    pub async fn start_config(&self, config: ServerConfig) -> Scene {
        let config = ServerConfig {
            clock: self.clock.clone(),
            ..config
        };
        let server = longrun::server::start(config).await.expect("server starts");
        let client = self
            .transport
            .connect(server.public_addr, server.control_addr)
            .await;
        Scene { client, server }
    }
}

/// Moves the paused clock by `by`, at once.
pub async fn advance(by: Duration) {
    tokio::time::advance(by).await;
}

pub struct Scene {
    pub client: Arc<dyn Client>,
    pub server: RunningServer,
}

impl Scene {
    pub async fn create(&self) -> lro::Operation {
        self.create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            ..Default::default()
        })
        .await
    }

    pub async fn create_with(&self, request: ctl::CreateOperationRequest) -> lro::Operation {
        self.client.create(request).await.expect("create succeeds")
    }

    pub async fn get(&self, name: &str) -> Reply<lro::Operation> {
        self.client.get(name).await
    }

    pub async fn cancel(&self, name: &str) -> Reply<()> {
        self.client.cancel(name).await
    }

    pub async fn complete(
        &self,
        name: &str,
        result: ctl::complete_operation_request::Result,
    ) -> Reply<lro::Operation> {
        self.client
            .complete(ctl::CompleteOperationRequest {
                name: name.into(),
                result: Some(result),
            })
            .await
    }

    pub async fn update(
        &self,
        name: &str,
        metadata: Option<prost_types::Any>,
    ) -> Reply<lro::Operation> {
        self.client
            .update(ctl::UpdateOperationRequest {
                name: name.into(),
                metadata,
            })
            .await
    }

    pub async fn wait(&self, name: &str, timeout: Option<Duration>) -> Reply<lro::Operation> {
        self.client
            .wait(lro::WaitOperationRequest {
                name: name.into(),
                timeout: timeout.map(pb_duration),
            })
            .await
    }

    pub async fn watch(&self, name: &str) -> Box<dyn Events> {
        self.client.watch(name).await.expect("watch opens")
    }

    /// Starts a Wait on an operation nobody waits on or watches yet, and
    /// returns once the server holds it, so what the scenario does next is
    /// what ends it.
    pub async fn spawn_wait(
        &self,
        name: &str,
        timeout: Duration,
    ) -> tokio::task::JoinHandle<Reply<lro::Operation>> {
        self.spawn_wait_over(Arc::clone(&self.client), name, timeout)
            .await
    }

    /// `spawn_wait` through `client` (the scene's, with other options).
    pub async fn spawn_wait_over(
        &self,
        client: Arc<dyn Client>,
        name: &str,
        timeout: Duration,
    ) -> tokio::task::JoinHandle<Reply<lro::Operation>> {
        let notifier = self.server.core().notifier().clone();
        let before = notifier.watched_count();
        let request = lro::WaitOperationRequest {
            name: name.into(),
            timeout: Some(pb_duration(timeout)),
        };
        let waiter = tokio::spawn(async move { client.wait(request).await });
        while notifier.watched_count() == before {
            tokio::task::yield_now().await;
        }
        waiter
    }

    /// Drains the server; open Waits return, Watches end.
    pub async fn stop(self) {
        drop(self.client);
        self.server.shutdown().await;
    }
}

/// The next event of a Watch: it must come, and be no error.
pub async fn next_event(events: &mut Box<dyn Events>) -> ctl::OperationEvent {
    events
        .next()
        .await
        .expect("the stream has not ended")
        .expect("the stream is healthy")
}
