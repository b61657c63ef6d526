//! The embedded SQLite backend: one file (or a throwaway in-memory database)
//! per server.
//!
//! Owns: opening the database with durable settings (WAL, `synchronous=FULL`,
//! a busy timeout), the embedded migrations, the one writer task that
//! group-commits every write, and a small pool of read-only connections.
//! Must not import tonic, http, auth or service; no sqlx type leaves here.

mod codec;
#[cfg(test)]
mod disk_full;
mod error;
mod reads;
mod schema;
mod writer;
mod writes;

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use sqlx::ConnectOptions;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::OnceCell;

use self::error::translate;
use self::writer::{Request, Writer};
use super::{Inserted, ListQuery, OperationStore, StoreError, Swapped, bulk};
use crate::domain::{Operation, OperationName};
use crate::observe::Recorder;

/// How long a connection waits for a lock held by another connection or
/// process before the call fails as `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Read connections. WAL lets them read while the writer commits.
const READERS: u32 = 4;

/// An `OperationStore` on SQLite. See the module docs for how it writes.
pub struct SqliteStore {
    readers: SqlitePool,
    writer: Writer,
    page_token_key: OnceCell<[u8; 32]>,
}

/// Counters of the writer, for metrics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Transactions committed, each one fsync (on a file).
    pub commits: u64,
    /// Successful writes committed; a request that failed inside a
    /// committed group is not counted.
    pub writes: u64,
}

/// The settings one connection actually runs with, as SQLite reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionPragmas {
    /// `wal` for a file, `memory` for an in-memory database.
    pub journal_mode: String,
    /// `off`, `normal`, `full` or `extra`.
    pub synchronous: String,
    pub busy_timeout: Duration,
    pub query_only: bool,
}

/// What an operator (or a test) needs to check that the store is durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics {
    pub writer: ConnectionPragmas,
    pub reader: ConnectionPragmas,
    /// The newest migration applied.
    pub schema_version: Option<i64>,
}

/// Where a `sqlite:` URL points.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    File,
    Memory,
}

fn target(url: &str) -> Result<Target, StoreError> {
    let invalid = |why: &str| StoreError::Backend(format!("invalid database url {url:?}: {why}"));
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| invalid("expected sqlite://PATH, sqlite:PATH or sqlite::memory:"))?;
    let (path, params) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() {
        // SQLite would open a private database per connection.
        return Err(invalid("no file path"));
    }
    // `mode=memory` with a name is a named in-memory database, shared by
    // every connection of this process that uses the name.
    let memory_mode = params.split('&').any(|param| param == "mode=memory");
    if path == ":memory:" || memory_mode {
        return Ok(Target::Memory);
    }
    Ok(Target::File)
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `url`:
    /// `sqlite://path/to/file.db`, `sqlite:path.db` or `sqlite::memory:`.
    /// Each `sqlite::memory:` store is a new, empty database that lives as
    /// long as the store.
    pub async fn open(url: &str) -> Result<SqliteStore, StoreError> {
        Self::open_with(url, Recorder::default()).await
    }

    /// `open`, reporting write latencies and group commits to `recorder`.
    pub async fn open_with(url: &str, recorder: Recorder) -> Result<SqliteStore, StoreError> {
        Self::open_tuned(url, recorder, &[]).await
    }

    /// `open_with`, the writer connection also running `writer_pragmas`
    /// (tests limit its `max_page_count` to fill the database).
    async fn open_tuned(
        url: &str,
        recorder: Recorder,
        writer_pragmas: &[(&'static str, &'static str)],
    ) -> Result<SqliteStore, StoreError> {
        let target = target(url)?;
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|err| StoreError::Backend(format!("invalid database url {url:?}: {err}")))?
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(false);
        let writer_options = match target {
            // Switching to WAL needs an exclusive lock that the busy timeout
            // does not wait for, so only the writer asks, once, at open.
            Target::File => options
                .clone()
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal),
            Target::Memory => options.clone(),
        };
        let writer_options = writer_pragmas
            .iter()
            .fold(writer_options, |options, &(key, value)| {
                options.pragma(key, value)
            });
        let mut conn = writer_options.connect().await.map_err(translate)?;
        schema::migrate(&mut conn).await?;
        // The in-memory database lives while a connection is open; the
        // writer's connection is opened first and closed last.
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options.pragma("query_only", "ON"))
            .await
            .map_err(translate)?;
        Ok(SqliteStore {
            readers,
            writer: Writer::spawn(conn, recorder),
            page_token_key: OnceCell::new(),
        })
    }

    /// How many commits and acknowledged writes the writer has made.
    pub fn write_stats(&self) -> WriteStats {
        self.writer.stats()
    }

    /// The settings the writer and a reader connection run with.
    pub async fn diagnostics(&self) -> Result<Diagnostics, StoreError> {
        let writer = self.writer.submit(Request::Pragmas).await?;
        let mut conn = self.readers.acquire().await.map_err(translate)?;
        let reader = reads::pragmas(&mut conn).await?;
        let schema_version = reads::schema_version(&mut *conn).await?;
        Ok(Diagnostics {
            writer,
            reader,
            schema_version,
        })
    }
}

#[async_trait]
impl OperationStore for SqliteStore {
    async fn insert(&self, op: &Operation) -> Result<Inserted, StoreError> {
        let op = op.clone();
        self.writer.submit(|reply| Request::Insert(op, reply)).await
    }

    /// A statement, and at most a commit, per thousand.
    async fn import(&self, ops: &[Operation]) -> Result<u64, StoreError> {
        let mut inserted = 0;
        for chunk in ops.chunks(bulk::CHUNK) {
            let chunk = chunk.to_vec();
            inserted += self
                .writer
                .submit(|reply| Request::Import(chunk, reply))
                .await?;
        }
        Ok(inserted)
    }

    async fn get(&self, name: &OperationName) -> Result<Option<Operation>, StoreError> {
        reads::get(&self.readers, name.as_str()).await
    }

    async fn swap(&self, next: &Operation) -> Result<Swapped, StoreError> {
        let next = next.clone();
        self.writer.submit(|reply| Request::Swap(next, reply)).await
    }

    async fn delete(&self, name: &OperationName) -> Result<bool, StoreError> {
        let name = name.clone();
        self.writer
            .submit(|reply| Request::Delete(name, reply))
            .await
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<Operation>, StoreError> {
        reads::list(&self.readers, query).await
    }

    async fn due_cancellations(
        &self,
        now: SystemTime,
        limit: u32,
    ) -> Result<Vec<Operation>, StoreError> {
        reads::due_cancellations(&self.readers, now, limit).await
    }

    async fn next_cancel_deadline(&self) -> Result<Option<SystemTime>, StoreError> {
        reads::next_cancel_deadline(&self.readers).await
    }

    async fn purge_expired(&self, now: SystemTime, limit: u32) -> Result<u64, StoreError> {
        let now = codec::micros(now);
        self.writer
            .submit(|reply| Request::PurgeExpired { now, limit, reply })
            .await
    }

    async fn page_token_key(&self) -> Result<[u8; 32], StoreError> {
        let key = self
            .page_token_key
            .get_or_try_init(|| async {
                if let Some(key) = reads::page_token_key(&self.readers).await? {
                    return Ok(key);
                }
                // Another server on the same file may create one first; the
                // writer keeps whichever was stored first and returns it.
                let candidate: [u8; 32] = rand::random();
                self.writer
                    .submit(|reply| Request::PageTokenKey { candidate, reply })
                    .await
            })
            .await?;
        Ok(*key)
    }

    async fn close(&self) {
        self.writer.close().await;
        self.readers.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::{AssertSqlSafe, Row};

    /// SQLite's plan for `statement`, one step a line.
    async fn plan(store: &SqliteStore, statement: &str) -> String {
        let explain = AssertSqlSafe(format!("EXPLAIN QUERY PLAN {statement}"));
        let steps = sqlx::query(explain)
            .fetch_all(&store.readers)
            .await
            .expect("explain");
        steps
            .iter()
            .map(|step| step.get::<String, _>("detail"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[tokio::test]
    async fn scans_use_their_indexes_and_never_sort() {
        let store = SqliteStore::open("sqlite::memory:").await.expect("open");
        for (statement, index) in [
            (reads::LIST_IN_LOCATION, "operations_list_location"),
            (reads::LIST_IN_PROJECT, "operations_list_project"),
            (reads::LIST_DONE_IN_LOCATION, "operations_list_location"),
            (reads::LIST_DONE_IN_PROJECT, "operations_list_project"),
            (
                reads::LIST_RUNNING_IN_LOCATION,
                "operations_running_location",
            ),
            (reads::LIST_RUNNING_IN_PROJECT, "operations_running_project"),
            (reads::DUE_CANCELLATIONS, "operations_pending_cancel"),
            (reads::NEXT_CANCEL_DEADLINE, "operations_pending_cancel"),
            (writes::PURGE_EXPIRED, "operations_expire_time"),
        ] {
            let plan = plan(&store, statement).await;
            assert!(plan.contains(index), "{statement}\n{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{statement}\n{plan}");
            assert!(!plan.contains("SCAN operations"), "{statement}\n{plan}");
        }
        store.close().await;
    }

    #[test]
    fn urls_name_a_file_or_memory() {
        assert_eq!(target("sqlite::memory:").ok(), Some(Target::Memory));
        assert_eq!(
            target("sqlite://ops?mode=memory").ok(),
            Some(Target::Memory)
        );
        assert!(target("sqlite://?mode=memory").is_err());
        assert_eq!(target("sqlite://data/ops.db").ok(), Some(Target::File));
        assert_eq!(target("sqlite:ops.db").ok(), Some(Target::File));
        assert_eq!(target("sqlite:///var/lib/ops.db").ok(), Some(Target::File));
        assert!(target("postgres://host/db").is_err());
        assert!(target("sqlite://").is_err());
    }
}
