//! Every statement the PostgreSQL store runs. Each is one statement in its
//! own implicit transaction: no read-then-write and no explicit
//! transactions, so nothing holds locks across round trips and a replica
//! that dies mid-call leaves nothing half done.
//!
//! Writes that others may wait for notify in the same statement
//! (`pg_notify` in a CTE), so the notification is sent if and only if the
//! write commits, and only once it is visible. The payload is the name
//! alone: PostgreSQL caps payloads at 8000 bytes.

use std::time::SystemTime;

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres};

use super::error::translate;
use crate::domain::{Operation, OperationName};
use crate::store::codec::{Encoded, decode as decode_row, micros, normalized, select_operations};
use crate::store::{Inserted, ListQuery, StoreError, Swapped, bulk};

/// The key of the page-token secret in `settings`.
const PAGE_TOKEN_KEY: &str = "page_token_key";

// `create_time <= $3` bounds the index range so a page starts at the cursor;
// the OR keeps the exact keyset order (newest first, then name ascending).
macro_rules! list_statement {
    ($scope:literal, $done:literal, $time:literal, $name:literal, $now:literal, $limit:literal) => {
        select_operations!(
            "WHERE ",
            $scope,
            $done,
            " AND create_time <= ",
            $time,
            " AND (create_time < ",
            $time,
            " OR name > ",
            $name,
            ") AND (expire_time IS NULL OR expire_time > ",
            $now,
            ") ORDER BY create_time DESC, name ASC LIMIT ",
            $limit
        )
    };
}
macro_rules! in_location {
    ($done:literal) => {
        list_statement!(
            "project = $1 AND location = $2",
            $done,
            "$3",
            "$4",
            "$5",
            "$6"
        )
    };
}
macro_rules! in_project {
    ($done:literal) => {
        list_statement!("project = $1", $done, "$2", "$3", "$4", "$5")
    };
}

/// The List statement for a scope (one location or all) and a `done` value.
/// `NOT done` repeats the partial index's condition so the planner uses it;
/// done operations are most of the table, so they take the full index.
fn list_statement(in_location: bool, done: Option<bool>) -> &'static str {
    match (in_location, done) {
        (true, None) => in_location!(""),
        (false, None) => in_project!(""),
        (true, Some(false)) => in_location!(" AND NOT done"),
        (false, Some(false)) => in_project!(" AND NOT done"),
        (true, Some(true)) => in_location!(" AND done"),
        (false, Some(true)) => in_project!(" AND done"),
    }
}
// Both repeat the partial index's condition so the planner can use it.
const DUE_CANCELLATIONS: &str = select_operations!(
    "WHERE NOT done AND cancel_deadline IS NOT NULL AND cancel_deadline <= $1 \
     ORDER BY cancel_deadline LIMIT $2"
);
const NEXT_CANCEL_DEADLINE: &str = "SELECT MIN(cancel_deadline) FROM operations \
     WHERE NOT done AND cancel_deadline IS NOT NULL";

const INSERT: &str = "INSERT INTO operations (name, project, location, \
     create_time, update_time, end_time, done, metadata_type, metadata_value, \
     response_type, response_value, error_code, error_message, error_details, \
     cancel_requested_at, cancel_deadline, cancel_grace, started, request_id, \
     expire_time, version) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
     $16, $17, $18, $19, $20, $21) \
     ON CONFLICT DO NOTHING";

// The compare-and-swap: the version check and the write are one statement,
// so "first writer wins" holds across replicas without locks held between
// round trips. The CTE returns a row only when the update happened.
macro_rules! swap {
    ($tail:literal) => {
        concat!(
            "UPDATE operations SET \
             create_time = $1, update_time = $2, end_time = $3, done = $4, \
             metadata_type = $5, metadata_value = $6, response_type = $7, response_value = $8, \
             error_code = $9, error_message = $10, error_details = $11, \
             cancel_requested_at = $12, cancel_deadline = $13, cancel_grace = $14, started = $15, \
             request_id = $16, expire_time = $17, version = $18 \
             WHERE name = $19 AND version = $20 RETURNING name",
            $tail
        )
    };
}
const SWAP: &str = concat!(
    "WITH written AS (",
    swap!(")"),
    " SELECT pg_notify($21, name) FROM written"
);
/// For engines without LISTEN/NOTIFY (`--pg-notify=false`).
const SWAP_QUIET: &str = swap!("");

const DELETE: &str = "WITH gone AS (DELETE FROM operations WHERE name = $1 RETURNING name) \
     SELECT pg_notify($2, name) FROM gone";
const DELETE_QUIET: &str = "DELETE FROM operations WHERE name = $1 RETURNING name";

// SKIP LOCKED: replicas purging at the same time take disjoint batches
// instead of queueing behind each other, and a batch never waits for a row
// a writer holds. Expired rows are invisible to callers, so no notify.
const PURGE_EXPIRED: &str = "DELETE FROM operations WHERE name IN (\
     SELECT name FROM operations \
     WHERE expire_time IS NOT NULL AND expire_time <= $1 \
     ORDER BY expire_time LIMIT $2 FOR UPDATE SKIP LOCKED)";

fn decode(row: &PgRow) -> Result<Operation, StoreError> {
    decode_row(row, translate)
}

pub(super) async fn get(pool: &PgPool, name: &str) -> Result<Option<Operation>, StoreError> {
    let row = sqlx::query(select_operations!("WHERE name = $1"))
        .bind(name.to_owned())
        .fetch_optional(pool)
        .await
        .map_err(translate)?;
    row.as_ref().map(decode).transpose()
}

pub(super) async fn list(pool: &PgPool, query: &ListQuery) -> Result<Vec<Operation>, StoreError> {
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
    select = select
        .bind(after_time)
        .bind(after_name.to_owned())
        .bind(micros(query.now))
        .bind(i64::from(query.limit));
    let rows = select.fetch_all(pool).await.map_err(translate)?;
    rows.iter().map(decode).collect()
}

pub(super) async fn due_cancellations(
    pool: &PgPool,
    now: SystemTime,
    limit: u32,
) -> Result<Vec<Operation>, StoreError> {
    let rows = sqlx::query(DUE_CANCELLATIONS)
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(translate)?;
    rows.iter().map(decode).collect()
}

/// The database server's wall clock, in the microseconds the table keeps
/// (`clock_timestamp()`: the time of reading, not of the transaction's start).
const DATABASE_TIME: &str = "SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT";

pub(super) async fn database_time(pool: &PgPool) -> Result<SystemTime, StoreError> {
    let micros: i64 = sqlx::query_scalar(DATABASE_TIME)
        .fetch_one(pool)
        .await
        .map_err(translate)?;
    crate::store::codec::time(micros)
        .ok_or_else(|| StoreError::Corrupt(format!("database time {micros} out of range")))
}

pub(super) async fn next_cancel_deadline(pool: &PgPool) -> Result<Option<SystemTime>, StoreError> {
    let earliest: Option<i64> = sqlx::query_scalar(NEXT_CANCEL_DEADLINE)
        .fetch_one(pool)
        .await
        .map_err(translate)?;
    earliest
        .map(|value| {
            crate::store::codec::time(value)
                .ok_or_else(|| StoreError::Corrupt(format!("cancel deadline {value} out of range")))
        })
        .transpose()
}

pub(super) async fn insert(pool: &PgPool, op: &Operation) -> Result<Inserted, StoreError> {
    let stored = normalized(op)?;
    // A conflicting row may be deleted between our insert and our read of
    // it (by another replica); then the insert is tried again.
    for _ in 0..3 {
        // DO NOTHING without a target covers both unique keys: the name and
        // (project, location, request_id), whichever replica wrote first.
        let query = sqlx::query(INSERT)
            .bind(op.name.as_str().to_owned())
            .bind(op.name.project().to_owned())
            .bind(op.name.location().to_owned());
        let inserted = Encoded::new(op)?
            .bind(query)
            .execute(pool)
            .await
            .map_err(translate)?;
        if inserted.rows_affected() > 0 {
            return Ok(Inserted::Created(stored));
        }
        if let Some(existing) = get(pool, op.name.as_str()).await? {
            return Ok(Inserted::Conflict(existing));
        }
        if let Some(request_id) = &op.request_id {
            let row = sqlx::query(select_operations!(
                "WHERE project = $1 AND location = $2 AND request_id = $3"
            ))
            .bind(op.name.project().to_owned())
            .bind(op.name.location().to_owned())
            .bind(request_id.as_str().to_owned())
            .fetch_optional(pool)
            .await
            .map_err(translate)?;
            if let Some(row) = row {
                return Ok(Inserted::Conflict(decode(&row)?));
            }
        }
    }
    Err(StoreError::Conflict(format!(
        "insert of {} kept conflicting with operations deleted meanwhile",
        op.name
    )))
}

/// New operations in one statement; those whose name or request id is
/// taken (by any replica) are skipped. Returns how many were inserted.
pub(super) async fn import(pool: &PgPool, ops: &[Operation]) -> Result<u64, StoreError> {
    if ops.is_empty() {
        return Ok(0);
    }
    let inserted = bulk::insert_many::<Postgres>(ops)?
        .build()
        .execute(pool)
        .await
        .map_err(translate)?;
    Ok(inserted.rows_affected())
}

/// The compare-and-swap; `channel` is where to notify, if anywhere.
pub(super) async fn swap(
    pool: &PgPool,
    next: &Operation,
    channel: Option<&str>,
) -> Result<Swapped, StoreError> {
    let stored = normalized(next)?;
    let Some(expected) = next.version.checked_sub(1) else {
        return Ok(Swapped::Stale(get(pool, next.name.as_str()).await?));
    };
    let statement = if channel.is_some() { SWAP } else { SWAP_QUIET };
    let mut query = Encoded::new(next)?
        .bind(sqlx::query(statement))
        .bind(next.name.as_str().to_owned())
        .bind(expected);
    if let Some(channel) = channel {
        query = query.bind(channel.to_owned());
    }
    let written = query.fetch_optional(pool).await.map_err(translate)?;
    match written {
        Some(_) => Ok(Swapped::Written(stored)),
        None => Ok(Swapped::Stale(get(pool, next.name.as_str()).await?)),
    }
}

pub(super) async fn delete(
    pool: &PgPool,
    name: &OperationName,
    channel: Option<&str>,
) -> Result<bool, StoreError> {
    let mut query = match channel {
        Some(_) => sqlx::query(DELETE),
        None => sqlx::query(DELETE_QUIET),
    }
    .bind(name.as_str().to_owned());
    if let Some(channel) = channel {
        query = query.bind(channel.to_owned());
    }
    let gone = query.fetch_optional(pool).await.map_err(translate)?;
    Ok(gone.is_some())
}

pub(super) async fn purge_expired(
    pool: &PgPool,
    now: SystemTime,
    limit: u32,
) -> Result<u64, StoreError> {
    let purged = sqlx::query(PURGE_EXPIRED)
        .bind(micros(now))
        .bind(i64::from(limit))
        .execute(pool)
        .await
        .map_err(translate)?;
    Ok(purged.rows_affected())
}

/// Stores `candidate` unless a key exists, then returns the stored key: the
/// first replica's key wins, and every replica reads the same one.
pub(super) async fn page_token_key(
    pool: &PgPool,
    candidate: [u8; 32],
) -> Result<[u8; 32], StoreError> {
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(PAGE_TOKEN_KEY)
        .bind(candidate.to_vec())
        .execute(pool)
        .await
        .map_err(translate)?;
    let value: Vec<u8> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(PAGE_TOKEN_KEY)
        .fetch_one(pool)
        .await
        .map_err(translate)?;
    <[u8; 32]>::try_from(value.as_slice()).map_err(|_| {
        StoreError::Corrupt(format!(
            "the page token key has {} bytes, not 32",
            value.len()
        ))
    })
}
