//! Persistence of operations behind one trait, with an embedded SQLite
//! backend (the default) and PostgreSQL for several replicas.
//!
//! Owns: schemas, migrations, transactions, translating backend errors into
//! `StoreError`. Uses only `domain` of the crate, and `observe` to report
//! writes (not auth, service or the protocol layers), and no tonic, http or
//! hyper; its trace spans are plain `tracing` spans (spans.rs), opened only
//! when the `Recorder` says traces are on. The store keeps
//! what the domain decides and never decides anything itself, except the one
//! thing only it can: compare-and-swap on an operation's version, which makes
//! "first writer wins" hold across tasks and replicas.

mod bulk;
mod cache;
mod codec;
mod feed;
pub mod postgres;
mod spans;
pub mod sqlite;

pub use cache::CachedStore;
pub use feed::{ChangeFeed, OutsideChange};
pub use postgres::{PgSettings, PgStore};
pub use sqlite::SqliteStore;

use std::time::SystemTime;

use async_trait::async_trait;

use crate::domain::{ErrorKind, Operation, OperationName, RequestId};

/// A failure of the storage backend. No backend type crosses this boundary.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("a stored operation could not be read: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Backend(String),
    /// The database refused a write because it raced with another one (a
    /// serialization failure, a deadlock, a unique key taken meanwhile);
    /// the caller may retry.
    #[error("the write raced with another one: {0}")]
    Conflict(String),
    #[error("the store is shut down")]
    Closed,
}

impl StoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::Unavailable(_) | StoreError::Closed => ErrorKind::Unavailable,
            StoreError::Corrupt(_) | StoreError::Backend(_) => ErrorKind::Internal,
            StoreError::Conflict(_) => ErrorKind::Aborted,
        }
    }
}

/// The result of inserting a new operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inserted {
    Created(Operation),
    /// An operation with the same name, or the same `(parent, request_id)`,
    /// exists; it is returned so the caller can decide about idempotency.
    Conflict(Operation),
}

/// The result of a compare-and-swap write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Swapped {
    Written(Operation),
    /// Someone else changed the operation first; here is its current state,
    /// or `None` if it was deleted.
    Stale(Option<Operation>),
}

/// Where a List page starts: after this (create_time, name) in list order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListCursor {
    pub create_time: SystemTime,
    pub name: String,
}

/// One batch of a List scan, in list order: newest `create_time` first, then
/// `name` ascending. Expired operations are never returned.
#[derive(Clone, Debug)]
pub struct ListQuery {
    pub project: String,
    /// `None` lists every location of the project.
    pub location: Option<String>,
    pub after: Option<ListCursor>,
    pub limit: u32,
    pub now: SystemTime,
    /// `Some(false)`: only running operations, read from their own index,
    /// so "what is running?" costs the running rows, not the table.
    pub done: Option<bool>,
}

#[async_trait]
pub trait OperationStore: Send + Sync + 'static {
    /// Inserts `op` (version 1) unless its name, or its parent and
    /// `request_id`, is taken.
    async fn insert(&self, op: &Operation) -> Result<Inserted, StoreError>;

    /// The bulk path: inserts many new operations at once, for loading a
    /// store (a migration from another system, a benchmark's million rows).
    /// Operations whose name, or parent and `request_id`, is taken are
    /// skipped and the stored ones left as they are; returns how many were
    /// inserted. Not atomic as a whole: after a failure, what was inserted
    /// before it stays. The SQL stores write a thousand per statement; this
    /// default inserts them one by one.
    async fn import(&self, ops: &[Operation]) -> Result<u64, StoreError> {
        let mut inserted = 0;
        for op in ops {
            if let Inserted::Created(_) = self.insert(op).await? {
                inserted += 1;
            }
        }
        Ok(inserted)
    }

    /// The stored operation, expired or not; the caller applies retention.
    async fn get(&self, name: &OperationName) -> Result<Option<Operation>, StoreError>;

    /// Writes `next` if the stored version is still `next.version - 1`.
    async fn swap(&self, next: &Operation) -> Result<Swapped, StoreError>;

    /// Forgets the operation. False when there was none.
    async fn delete(&self, name: &OperationName) -> Result<bool, StoreError>;

    /// One batch of a List scan.
    async fn list(&self, query: &ListQuery) -> Result<Vec<Operation>, StoreError>;

    /// Running operations whose cancel grace ended at or before `now`.
    async fn due_cancellations(
        &self,
        now: SystemTime,
        limit: u32,
    ) -> Result<Vec<Operation>, StoreError>;

    /// The earliest pending cancel deadline, so one timer can sleep until it.
    async fn next_cancel_deadline(&self) -> Result<Option<SystemTime>, StoreError>;

    /// Deletes up to `limit` operations whose retention ended; returns how many.
    async fn purge_expired(&self, now: SystemTime, limit: u32) -> Result<u64, StoreError>;

    /// The secret that authenticates page tokens, created on first use and
    /// shared by every server on the same database.
    async fn page_token_key(&self) -> Result<[u8; 32], StoreError>;

    /// Whether the database answers now; the server's health follows it.
    /// Stores that live in this process are always reachable.
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The database's own clock, read now, when several processes share
    /// the store: their grace deadlines and times must all come from one
    /// clock, whatever each machine's says. `None` (the default) for a store
    /// only this process writes, whose clock is then the only one.
    async fn database_time(&self) -> Result<Option<SystemTime>, StoreError> {
        Ok(None)
    }

    /// Finishes pending writes and closes connections.
    async fn close(&self);
}

/// True when a create carrying `request_id` is a retry of `existing`.
pub fn same_request(existing: &Operation, request_id: Option<&RequestId>) -> bool {
    request_id.is_some() && existing.request_id.as_ref() == request_id
}
