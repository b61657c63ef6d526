//! The change feed: one LISTEN connection per replica, turning
//! notifications into `OutsideChange`s.
//!
//! sqlx's `PgListener` reconnects on its own and drops whatever was notified
//! while it was away. `try_recv` says when that happened (`Ok(None)`, once
//! it listens again); any error makes us build a fresh listener ourselves.
//! Either way the feed reports a `Gap` only after LISTEN is in place again,
//! so a re-read that follows the gap cannot miss a later change.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::error::translate;
use crate::domain::OperationName;
use crate::observe::Recorder;
use crate::store::{OutsideChange, StoreError};

/// The two channels a store notifies on; both carry operation names.
#[derive(Clone, Debug)]
pub(super) struct Channels {
    /// Any change a Wait or Watch may care about, and deletes.
    pub(super) changes: String,
    /// Writes that recorded a pending cancel deadline: grace timers look.
    pub(super) deadlines: String,
}

impl Channels {
    /// Channels scoped to one schema, so deployments sharing a database in
    /// different schemas do not wake each other. PostgreSQL truncates
    /// identifiers at 63 bytes; schemas are short in practice.
    pub(super) fn for_schema(schema: &str) -> Self {
        Self {
            changes: format!("longrun.{schema}"),
            deadlines: format!("longrun.{schema}.grace"),
        }
    }
}

/// Longest pause between attempts to listen again while the database is away.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Connects and listens; the first connection failure is the caller's.
pub(super) async fn listen(pool: &PgPool, channels: &Channels) -> Result<PgListener, StoreError> {
    let mut listener = PgListener::connect_with(pool).await.map_err(translate)?;
    // The store closes this pool itself, after stopping the task.
    listener.ignore_pool_close_event(true);
    listener
        .listen_all([channels.changes.as_str(), channels.deadlines.as_str()])
        .await
        .map_err(translate)?;
    Ok(listener)
}

/// Relays notifications until `stop` or until nobody reads the feed.
pub(super) async fn run(
    mut listener: PgListener,
    pool: PgPool,
    channels: Channels,
    feed: mpsc::Sender<OutsideChange>,
    stop: CancellationToken,
    recorder: Recorder,
) {
    loop {
        let received = tokio::select! {
            received = listener.try_recv() => received,
            () = stop.cancelled() => return,
        };
        let change = match received {
            Ok(Some(notification)) => {
                let Ok(name) = OperationName::parse(notification.payload()) else {
                    tracing::debug!(payload = notification.payload(), "ignored a notification");
                    continue;
                };
                OutsideChange::Changed {
                    name,
                    cancel_deadline: notification.channel() == channels.deadlines,
                }
            }
            // Reconnected and listening again; what was sent meanwhile is lost.
            Ok(None) => {
                tracing::warn!("the change feed reconnected; waiters re-read");
                recorder.feed_reconnected();
                OutsideChange::Gap
            }
            Err(err) => {
                tracing::warn!(error = %err, "the change feed lost its connection");
                drop(listener);
                let Some(fresh) = relisten(&pool, &channels, &stop).await else {
                    return;
                };
                listener = fresh;
                recorder.feed_reconnected();
                OutsideChange::Gap
            }
        };
        if feed.send(change).await.is_err() {
            return;
        }
    }
}

/// Tries to listen again with growing pauses; `None` once stopped.
async fn relisten(
    pool: &PgPool,
    channels: &Channels,
    stop: &CancellationToken,
) -> Option<PgListener> {
    let mut backoff = Duration::from_millis(50);
    loop {
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = stop.cancelled() => return None,
        }
        match listen(pool, channels).await {
            Ok(listener) => {
                tracing::info!("the change feed is listening again");
                return Some(listener);
            }
            Err(err) => tracing::debug!(error = %err, "the change feed cannot listen yet"),
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
