//! The statements of each write. They run only on the writer's connection,
//! inside the group's transaction, so a check followed by a write is atomic:
//! nobody else writes in between. Each changes rows with at most one
//! statement; the writer relies on that instead of savepoints.

use sqlx::{Sqlite, SqliteConnection};

use super::codec::{Encoded, decode, normalized, select_operations};
use super::error::translate;
use super::reads::{self, PAGE_TOKEN_KEY};
use crate::domain::{Operation, OperationName};
use crate::store::{Inserted, StoreError, Swapped, bulk};

// DELETE ... LIMIT needs a compile-time option; a rowid subquery does not.
pub(super) const PURGE_EXPIRED: &str = "DELETE FROM operations WHERE rowid IN (\
     SELECT rowid FROM operations \
     WHERE expire_time IS NOT NULL AND expire_time <= ? \
     ORDER BY expire_time LIMIT ?)";

pub(super) async fn insert(
    conn: &mut SqliteConnection,
    op: &Operation,
) -> Result<Inserted, StoreError> {
    let stored = normalized(op)?;
    // DO NOTHING without a target covers both unique keys: the name and
    // (project, location, request_id). The common case is one statement.
    let query = sqlx::query(
        "INSERT INTO operations (name, project, location, \
         create_time, update_time, end_time, done, metadata_type, metadata_value, \
         response_type, response_value, error_code, error_message, error_details, \
         cancel_requested_at, cancel_deadline, cancel_grace, started, request_id, \
         expire_time, version) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT DO NOTHING",
    )
    .bind(op.name.as_str().to_owned())
    .bind(op.name.project().to_owned())
    .bind(op.name.location().to_owned());
    let inserted = Encoded::new(op)?
        .bind(query)
        .execute(&mut *conn)
        .await
        .map_err(translate)?;
    if inserted.rows_affected() > 0 {
        return Ok(Inserted::Created(stored));
    }
    if let Some(existing) = reads::get(&mut *conn, op.name.as_str()).await? {
        return Ok(Inserted::Conflict(existing));
    }
    let existing = match &op.request_id {
        Some(request_id) => sqlx::query(select_operations!(
            "WHERE project = ? AND location = ? AND request_id = ?"
        ))
        .bind(op.name.project().to_owned())
        .bind(op.name.location().to_owned())
        .bind(request_id.as_str().to_owned())
        .fetch_optional(&mut *conn)
        .await
        .map_err(translate)?,
        None => None,
    };
    match existing {
        Some(row) => Ok(Inserted::Conflict(decode(&row)?)),
        None => Err(StoreError::Backend(format!(
            "insert of {} was ignored without a conflicting operation",
            op.name
        ))),
    }
}

/// New operations in one statement; those whose name or request id is
/// taken are skipped. Returns how many were inserted.
pub(super) async fn import(
    conn: &mut SqliteConnection,
    ops: &[Operation],
) -> Result<u64, StoreError> {
    if ops.is_empty() {
        return Ok(0);
    }
    let inserted = bulk::insert_many::<Sqlite>(ops)?
        .build()
        .execute(&mut *conn)
        .await
        .map_err(translate)?;
    Ok(inserted.rows_affected())
}

pub(super) async fn swap(
    conn: &mut SqliteConnection,
    next: &Operation,
) -> Result<Swapped, StoreError> {
    let stored = normalized(next)?;
    let Some(expected) = next.version.checked_sub(1) else {
        return Ok(Swapped::Stale(
            reads::get(&mut *conn, next.name.as_str()).await?,
        ));
    };
    let query = sqlx::query(
        "UPDATE operations SET \
         create_time = ?, update_time = ?, end_time = ?, done = ?, \
         metadata_type = ?, metadata_value = ?, response_type = ?, response_value = ?, \
         error_code = ?, error_message = ?, error_details = ?, \
         cancel_requested_at = ?, cancel_deadline = ?, cancel_grace = ?, started = ?, \
         request_id = ?, expire_time = ?, version = ? \
         WHERE name = ? AND version = ?",
    );
    let updated = Encoded::new(next)?
        .bind(query)
        .bind(next.name.as_str().to_owned())
        .bind(expected)
        .execute(&mut *conn)
        .await
        .map_err(translate)?;
    if updated.rows_affected() == 0 {
        return Ok(Swapped::Stale(
            reads::get(&mut *conn, next.name.as_str()).await?,
        ));
    }
    Ok(Swapped::Written(stored))
}

pub(super) async fn delete(
    conn: &mut SqliteConnection,
    name: &OperationName,
) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM operations WHERE name = ?")
        .bind(name.as_str().to_owned())
        .execute(&mut *conn)
        .await
        .map_err(translate)?;
    Ok(deleted.rows_affected() > 0)
}

pub(super) async fn purge_expired(
    conn: &mut SqliteConnection,
    now: i64,
    limit: u32,
) -> Result<u64, StoreError> {
    let purged = sqlx::query(PURGE_EXPIRED)
        .bind(now)
        .bind(i64::from(limit))
        .execute(&mut *conn)
        .await
        .map_err(translate)?;
    Ok(purged.rows_affected())
}

/// Stores `candidate` unless a key exists; returns the stored key.
pub(super) async fn page_token_key(
    conn: &mut SqliteConnection,
    candidate: [u8; 32],
) -> Result<[u8; 32], StoreError> {
    sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING")
        .bind(PAGE_TOKEN_KEY)
        .bind(candidate.to_vec())
        .execute(&mut *conn)
        .await
        .map_err(translate)?;
    reads::page_token_key(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::Backend("the page token key vanished".into()))
}
