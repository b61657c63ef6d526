//! The read statements. Each takes any executor: the read pool for callers,
//! the writer's connection when a write must look first.

use std::time::{Duration, SystemTime};

use sqlx::{SqliteConnection, SqliteExecutor};

use super::ConnectionPragmas;
use super::codec::{decode, micros, select_operations, time};
use super::error::translate;
use crate::domain::Operation;
use crate::store::{ListQuery, StoreError};

/// The key of the page-token secret in `settings`.
pub(super) const PAGE_TOKEN_KEY: &str = "page_token_key";

// `create_time <= ?` bounds the index range so a page starts at the cursor
// instead of scanning every newer row; the OR keeps the exact keyset order
// (newest first, then name ascending). The ORDER BY matches the index, so
// SQLite sorts nothing (see the query-plan test).
macro_rules! list_statement {
    ($scope:literal, $done:literal) => {
        select_operations!(
            "WHERE ",
            $scope,
            $done,
            " AND create_time <= ? AND (create_time < ? OR name > ?) \
             AND (expire_time IS NULL OR expire_time > ?) \
             ORDER BY create_time DESC, name ASC LIMIT ?"
        )
    };
}
pub(super) const LIST_IN_LOCATION: &str = list_statement!("project = ? AND location = ?", "");
pub(super) const LIST_IN_PROJECT: &str = list_statement!("project = ?", "");
// `done = 0` repeats the partial index's condition so the planner uses it.
pub(super) const LIST_RUNNING_IN_LOCATION: &str =
    list_statement!("project = ? AND location = ?", " AND done = 0");
pub(super) const LIST_RUNNING_IN_PROJECT: &str = list_statement!("project = ?", " AND done = 0");
// Done operations are most of the table: the full index, filtered.
pub(super) const LIST_DONE_IN_LOCATION: &str =
    list_statement!("project = ? AND location = ?", " AND done = 1");
pub(super) const LIST_DONE_IN_PROJECT: &str = list_statement!("project = ?", " AND done = 1");

/// The List statement for a scope (one location or all) and a `done` value.
pub(super) fn list_statement(in_location: bool, done: Option<bool>) -> &'static str {
    match (in_location, done) {
        (true, None) => LIST_IN_LOCATION,
        (false, None) => LIST_IN_PROJECT,
        (true, Some(false)) => LIST_RUNNING_IN_LOCATION,
        (false, Some(false)) => LIST_RUNNING_IN_PROJECT,
        (true, Some(true)) => LIST_DONE_IN_LOCATION,
        (false, Some(true)) => LIST_DONE_IN_PROJECT,
    }
}
// Both repeat the partial index's condition so the planner can use it.
pub(super) const DUE_CANCELLATIONS: &str = select_operations!(
    "WHERE done = 0 AND cancel_deadline IS NOT NULL AND cancel_deadline <= ? \
     ORDER BY cancel_deadline LIMIT ?"
);
pub(super) const NEXT_CANCEL_DEADLINE: &str = "SELECT MIN(cancel_deadline) FROM operations \
     WHERE done = 0 AND cancel_deadline IS NOT NULL";

pub(super) async fn get<'c>(
    executor: impl SqliteExecutor<'c>,
    name: &str,
) -> Result<Option<Operation>, StoreError> {
    let row = sqlx::query(select_operations!("WHERE name = ?"))
        .bind(name.to_owned())
        .fetch_optional(executor)
        .await
        .map_err(translate)?;
    row.as_ref().map(decode).transpose()
}

pub(super) async fn list<'c>(
    executor: impl SqliteExecutor<'c>,
    query: &ListQuery,
) -> Result<Vec<Operation>, StoreError> {
    // Without a cursor, start after the largest possible key: every stored
    // (create_time, name) sorts after it, because names are never empty.
    let (after_time, after_name) = query.after.as_ref().map_or((i64::MAX, ""), |cursor| {
        (micros(cursor.create_time), cursor.name.as_str())
    });
    let statement = list_statement(query.location.is_some(), query.done);
    let mut select = sqlx::query(statement).bind(query.project.clone());
    if let Some(location) = &query.location {
        select = select.bind(location.clone());
    }
    let rows = select
        .bind(after_time)
        .bind(after_time)
        .bind(after_name.to_owned())
        .bind(micros(query.now))
        .bind(i64::from(query.limit))
        .fetch_all(executor)
        .await
        .map_err(translate)?;
    rows.iter().map(decode).collect()
}

pub(super) async fn due_cancellations<'c>(
    executor: impl SqliteExecutor<'c>,
    now: SystemTime,
    limit: u32,
) -> Result<Vec<Operation>, StoreError> {
    let rows = sqlx::query(DUE_CANCELLATIONS)
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(executor)
        .await
        .map_err(translate)?;
    rows.iter().map(decode).collect()
}

pub(super) async fn next_cancel_deadline<'c>(
    executor: impl SqliteExecutor<'c>,
) -> Result<Option<SystemTime>, StoreError> {
    let earliest: Option<i64> = sqlx::query_scalar(NEXT_CANCEL_DEADLINE)
        .fetch_one(executor)
        .await
        .map_err(translate)?;
    earliest
        .map(|value| {
            time(value)
                .ok_or_else(|| StoreError::Corrupt(format!("cancel deadline {value} out of range")))
        })
        .transpose()
}

/// The stored page-token key, if one was made.
pub(super) async fn page_token_key<'c>(
    executor: impl SqliteExecutor<'c>,
) -> Result<Option<[u8; 32]>, StoreError> {
    let value: Option<Vec<u8>> = sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
        .bind(PAGE_TOKEN_KEY)
        .fetch_optional(executor)
        .await
        .map_err(translate)?;
    value
        .map(|bytes| {
            <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                StoreError::Corrupt(format!(
                    "the page token key has {} bytes, not 32",
                    bytes.len()
                ))
            })
        })
        .transpose()
}

/// The settings of one connection that durability depends on.
pub(super) async fn pragmas(conn: &mut SqliteConnection) -> Result<ConnectionPragmas, StoreError> {
    async fn pragma<T>(
        conn: &mut SqliteConnection,
        statement: &'static str,
    ) -> Result<T, StoreError>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Send + Unpin,
    {
        sqlx::query_scalar(statement)
            .fetch_one(&mut *conn)
            .await
            .map_err(translate)
    }
    let synchronous: i64 = pragma(conn, "PRAGMA synchronous").await?;
    let busy_timeout: i64 = pragma(conn, "PRAGMA busy_timeout").await?;
    Ok(ConnectionPragmas {
        journal_mode: pragma::<String>(conn, "PRAGMA journal_mode")
            .await?
            .to_lowercase(),
        synchronous: match synchronous {
            0 => "off",
            1 => "normal",
            2 => "full",
            3 => "extra",
            _ => "unknown",
        }
        .to_owned(),
        busy_timeout: Duration::from_millis(u64::try_from(busy_timeout).unwrap_or(0)),
        query_only: pragma(conn, "PRAGMA query_only").await?,
    })
}

/// The newest schema migration applied to the database.
pub(super) async fn schema_version<'c>(
    executor: impl SqliteExecutor<'c>,
) -> Result<Option<i64>, StoreError> {
    sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(executor)
        .await
        .map_err(translate)
}
