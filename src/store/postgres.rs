//! The PostgreSQL backend, for several `longrun serve` replicas sharing one
//! database.
//!
//! Owns: the connection pool and its bounds (size, acquire timeout,
//! statement timeout), the embedded migrations, the LISTEN connection that
//! feeds other replicas' changes to this one, and translating SQLSTATEs.
//! Must not import tonic, http, auth or service; no sqlx type leaves here.
//!
//! Every call is bounded in time: when the database is away, callers get
//! `Unavailable` within about `acquire_timeout`, never a hang, and the pool
//! reconnects by itself when it is back.

mod error;
mod listener;
mod schema;
mod statements;

use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{OnceCell, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use self::error::translate;
use self::listener::Channels;
use super::spans::write_span;
use super::{
    ChangeFeed, Inserted, ListQuery, OperationStore, OutsideChange, StoreError, Swapped, bulk,
};
use crate::domain::{Operation, OperationName};
use crate::observe::{PoolProbe, PoolStats, Recorder};

/// How a replica uses the database (the `--pg-*` flags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgSettings {
    /// Connections in this replica's pool. The database's `max_connections`
    /// must cover every replica's pool plus one listener each.
    pub max_connections: u32,
    /// How long a call waits for a connection (or to open one) before it
    /// fails with UNAVAILABLE.
    pub acquire_timeout: Duration,
    /// The server-side `statement_timeout` of every connection.
    pub statement_timeout: Duration,
    /// Apply migrations at open; otherwise require the current schema.
    pub migrate: bool,
    /// Wake other replicas with LISTEN/NOTIFY. Off for PostgreSQL-compatible
    /// engines without it (CockroachDB, YugabyteDB): replicas then see each
    /// other's changes only through the service's polling backstop.
    pub notify: bool,
}

impl Default for PgSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(1),
            statement_timeout: Duration::from_secs(5),
            migrate: true,
            notify: true,
        }
    }
}

/// Capacity of the change feed between the listener and the server.
const FEED_CAPACITY: usize = 4096;
/// With LISTEN/NOTIFY, a change is lost only if the listener's connection
/// drops, and that is reported as a gap; the backstop covers what nobody
/// foresaw, so it can be slow and spare the database a re-read of every
/// open Wait and Watch each few seconds.
const NOTIFIED_BACKSTOP: Duration = Duration::from_secs(30);
/// Without a feed (`--pg-notify=false`), polling is how changes arrive.
const POLLING_BACKSTOP: Duration = Duration::from_secs(3);
/// Idle time after which a pooled connection is checked before use.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);
/// The `application_name` of connections when the URL sets none.
const APPLICATION_NAME: &str = "longrun";

/// An `OperationStore` on PostgreSQL. See the module docs.
pub struct PgStore {
    pool: PgPool,
    listener_pool: PgPool,
    channels: Channels,
    /// The longest one call may take, all waits included.
    call_timeout: Duration,
    page_token_key: OnceCell<[u8; 32]>,
    notify: bool,
    stop: CancellationToken,
    listener_task: Mutex<Option<JoinHandle<()>>>,
    /// Keeps a feed without a listener open until `close`.
    quiet_feed: Mutex<Option<mpsc::Sender<OutsideChange>>>,
    recorder: Recorder,
    /// Calls in flight; those beyond the connections in use are waiting.
    in_flight: Arc<AtomicU32>,
}

/// The pool's state for metrics, read at scrape time. sqlx counts open
/// and idle connections but not callers waiting for one, so that is
/// estimated from the calls in flight.
struct Probe {
    pool: PgPool,
    in_flight: Arc<AtomicU32>,
}

impl PoolProbe for Probe {
    fn stats(&self) -> PoolStats {
        let size = self.pool.size();
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        let busy = size.saturating_sub(idle);
        PoolStats {
            size,
            idle,
            waiting: self.in_flight.load(Ordering::Relaxed).saturating_sub(busy),
        }
    }
}

/// Counts a call in flight until dropped.
struct InFlight<'a>(&'a AtomicU32);

impl<'a> InFlight<'a> {
    fn enter(count: &'a AtomicU32) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn options(url: &str, settings: &PgSettings) -> Result<PgConnectOptions, StoreError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|err| StoreError::Backend(format!("invalid database url: {err}")))?;
    let millis = settings.statement_timeout.as_millis().max(1);
    let options = options.options([("statement_timeout", format!("{millis}ms"))]);
    Ok(match options.get_application_name() {
        Some(_) => options,
        None => options.application_name(APPLICATION_NAME),
    })
}

/// Applies the migrations to the database at `url` (`longrun migrate`).
pub async fn migrate(url: &str) -> Result<(), StoreError> {
    let mut conn = options(url, &PgSettings::default())?
        .connect()
        .await
        .map_err(translate)?;
    let migrated = schema::migrate(&mut conn).await;
    let _ = conn.close().await;
    migrated
}

impl PgStore {
    /// Connects, migrates (or checks the schema), and starts listening for
    /// other replicas' changes. The feed is for the server's notifier.
    pub async fn open(
        url: &str,
        settings: &PgSettings,
    ) -> Result<(PgStore, ChangeFeed), StoreError> {
        Self::open_with(url, settings, Recorder::default()).await
    }

    /// `open`, reporting writes, the pool and feed reconnects to `recorder`.
    pub async fn open_with(
        url: &str,
        settings: &PgSettings,
        recorder: Recorder,
    ) -> Result<(PgStore, ChangeFeed), StoreError> {
        let options = options(url, settings)?;
        let listener_name = format!(
            "{}-listener",
            options.get_application_name().unwrap_or(APPLICATION_NAME)
        );
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.acquire_timeout)
            // Pinging before every use would double the round trips under
            // load. A connection idle for a while may have died with the
            // database (or a proxy) meanwhile: only those are pinged, and
            // dropped when they do not answer, so a recovered database is
            // not met with a pool full of dead connections.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for < PING_IDLE_AFTER {
                        return Ok(true);
                    }
                    Ok(conn.ping().await.is_ok())
                })
            })
            .connect_with(options.clone())
            .await
            .map_err(translate)?;
        let opened = Self::prepare(&pool, settings).await;
        let schema = match opened {
            Ok(schema) => schema,
            Err(err) => {
                pool.close().await;
                return Err(err);
            }
        };
        let channels = Channels::for_schema(&schema);
        // One connection of its own, so LISTEN never waits behind the pool.
        let listener_pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(settings.acquire_timeout)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(options.application_name(&listener_name));
        let backstop = if settings.notify {
            NOTIFIED_BACKSTOP
        } else {
            POLLING_BACKSTOP
        };
        let (sender, feed) = ChangeFeed::channel(FEED_CAPACITY, backstop);
        let stop = CancellationToken::new();
        let (task, quiet_feed) = if settings.notify {
            let first = match listener::listen(&listener_pool, &channels).await {
                Ok(first) => first,
                Err(err) => {
                    pool.close().await;
                    return Err(err);
                }
            };
            let task = tokio::spawn(listener::run(
                first,
                listener_pool.clone(),
                channels.clone(),
                sender,
                stop.clone(),
                recorder.clone(),
            ));
            (Some(task), None)
        } else {
            // A feed that stays open and silent: the server still runs its
            // polling backstop for it.
            (None, Some(sender))
        };
        let store = PgStore {
            pool,
            listener_pool,
            channels,
            call_timeout: settings.acquire_timeout + settings.statement_timeout,
            page_token_key: OnceCell::new(),
            notify: settings.notify,
            stop,
            listener_task: Mutex::new(task),
            quiet_feed: Mutex::new(quiet_feed),
            recorder,
            in_flight: Arc::new(AtomicU32::new(0)),
        };
        store.recorder.watch_pool(Arc::new(Probe {
            pool: store.pool.clone(),
            in_flight: Arc::clone(&store.in_flight),
        }));
        Ok((store, feed))
    }

    /// Migrates or checks the schema; returns the schema our tables are in.
    async fn prepare(pool: &PgPool, settings: &PgSettings) -> Result<String, StoreError> {
        let mut conn = pool.acquire().await.map_err(translate)?;
        if settings.migrate {
            schema::migrate(&mut conn).await?;
        } else {
            schema::check(&mut conn).await?;
        }
        sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&mut *conn)
            .await
            .map_err(translate)
    }

    /// Runs one call within `call_timeout`, so a database that stopped
    /// answering (a dropped network, not a refused connection) still fails
    /// the call instead of holding it forever.
    async fn bounded<T>(
        &self,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        if self.stop.is_cancelled() {
            return Err(StoreError::Closed);
        }
        let _in_flight = InFlight::enter(&self.in_flight);
        match tokio::time::timeout(self.call_timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Unavailable(format!(
                "the database did not answer within {:?}",
                self.call_timeout
            ))),
        }
    }

    /// `bounded`, timed as a store write, in its trace span.
    async fn write<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = self.recorder.is_on().then(std::time::Instant::now);
        let span = write_span(&self.recorder, "postgresql", operation);
        let result = self.bounded(call).instrument(span).await;
        if let Some(started) = started {
            self.recorder.store_write(started.elapsed());
        }
        result
    }

    /// The channel a write of `op` notifies on, if notifications are on.
    fn channel_for(&self, op: &Operation) -> Option<&str> {
        if !self.notify {
            None
        } else if op.pending_cancel_deadline().is_some() {
            Some(&self.channels.deadlines)
        } else {
            Some(&self.channels.changes)
        }
    }
}

#[async_trait]
impl OperationStore for PgStore {
    async fn insert(&self, op: &Operation) -> Result<Inserted, StoreError> {
        self.write("insert", statements::insert(&self.pool, op))
            .await
    }

    /// A statement per thousand. Other replicas are not notified: their
    /// timers find an imported pending cancel deadline at their next scan.
    async fn import(&self, ops: &[Operation]) -> Result<u64, StoreError> {
        let mut inserted = 0;
        for chunk in ops.chunks(bulk::CHUNK) {
            inserted += self
                .write("import", statements::import(&self.pool, chunk))
                .await?;
        }
        Ok(inserted)
    }

    async fn get(&self, name: &OperationName) -> Result<Option<Operation>, StoreError> {
        self.bounded(statements::get(&self.pool, name.as_str()))
            .await
    }

    async fn swap(&self, next: &Operation) -> Result<Swapped, StoreError> {
        let channel = self.channel_for(next);
        self.write("swap", statements::swap(&self.pool, next, channel))
            .await
    }

    async fn delete(&self, name: &OperationName) -> Result<bool, StoreError> {
        let channel = self.notify.then_some(self.channels.changes.as_str());
        self.write("delete", statements::delete(&self.pool, name, channel))
            .await
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<Operation>, StoreError> {
        self.bounded(statements::list(&self.pool, query)).await
    }

    async fn due_cancellations(
        &self,
        now: SystemTime,
        limit: u32,
    ) -> Result<Vec<Operation>, StoreError> {
        self.bounded(statements::due_cancellations(&self.pool, now, limit))
            .await
    }

    async fn next_cancel_deadline(&self) -> Result<Option<SystemTime>, StoreError> {
        self.bounded(statements::next_cancel_deadline(&self.pool))
            .await
    }

    async fn purge_expired(&self, now: SystemTime, limit: u32) -> Result<u64, StoreError> {
        self.write(
            "purge_expired",
            statements::purge_expired(&self.pool, now, limit),
        )
        .await
    }

    async fn page_token_key(&self) -> Result<[u8; 32], StoreError> {
        let key = self
            .page_token_key
            .get_or_try_init(|| {
                self.bounded(statements::page_token_key(&self.pool, rand::random()))
            })
            .await?;
        Ok(*key)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.bounded(async {
            sqlx::query("SELECT 1")
                .execute(&self.pool)
                .await
                .map(drop)
                .map_err(translate)
        })
        .await
    }

    async fn database_time(&self) -> Result<Option<SystemTime>, StoreError> {
        self.bounded(statements::database_time(&self.pool))
            .await
            .map(Some)
    }

    async fn close(&self) {
        self.stop.cancel();
        let task = self
            .listener_task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
        drop(
            self.quiet_feed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take(),
        );
        self.listener_pool.close().await;
        self.pool.close().await;
    }
}
