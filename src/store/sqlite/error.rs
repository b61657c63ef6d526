//! sqlx errors become `StoreError` here, and nowhere else.

use crate::store::StoreError;

/// SQLite primary result codes (the low byte of an extended code).
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_CORRUPT: i32 = 11;
/// "database or disk is full": the filesystem refused to grow a file (or
/// the database reached its `max_page_count`).
const SQLITE_FULL: i32 = 13;
const SQLITE_NOTADB: i32 = 26;
/// Extended codes of a unique key taken: what PostgreSQL calls 23505, and
/// like it a conflict the caller may retry, not a server failure.
const SQLITE_CONSTRAINT_PRIMARYKEY: i32 = 1555;
const SQLITE_CONSTRAINT_UNIQUE: i32 = 2067;

#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "sqlx::Error is non_exhaustive; what is not listed is a backend failure"
)]
pub(super) fn translate(err: sqlx::Error) -> StoreError {
    let message = err.to_string();
    match &err {
        sqlx::Error::Database(db) => {
            // sqlx reports the extended result code as a decimal string.
            let code = db.code().and_then(|code| code.parse::<i32>().ok());
            if matches!(
                code,
                Some(SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY)
            ) {
                return StoreError::Conflict(message);
            }
            match code.map(|code| code & 0xff) {
                // A full disk passes: the writer rolls the group back and
                // the next write that fits commits, so the caller retries
                // later, as with a lock held too long. PostgreSQL's disk
                // full (SQLSTATE class 53) is Unavailable too.
                Some(SQLITE_BUSY | SQLITE_LOCKED | SQLITE_FULL) => StoreError::Unavailable(message),
                Some(SQLITE_CORRUPT | SQLITE_NOTADB) => StoreError::Corrupt(message),
                _ => StoreError::Backend(message),
            }
        }
        sqlx::Error::PoolClosed => StoreError::Closed,
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable(message)
        }
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. } => StoreError::Corrupt(message),
        _ => StoreError::Backend(message),
    }
}

/// The same failure again, for each request of a group whose commit failed.
pub(super) fn duplicate(err: &StoreError) -> StoreError {
    match err {
        StoreError::Unavailable(message) => StoreError::Unavailable(message.clone()),
        StoreError::Corrupt(message) => StoreError::Corrupt(message.clone()),
        StoreError::Backend(message) => StoreError::Backend(message.clone()),
        StoreError::Conflict(message) => StoreError::Conflict(message.clone()),
        StoreError::Closed => StoreError::Closed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_errors_map_to_closed_and_unavailable() {
        assert!(matches!(
            translate(sqlx::Error::PoolClosed),
            StoreError::Closed
        ));
        assert!(matches!(
            translate(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            translate(sqlx::Error::ColumnNotFound("x".into())),
            StoreError::Corrupt(_)
        ));
    }

    #[test]
    fn duplicate_keeps_variant_and_message() {
        let copy = duplicate(&StoreError::Unavailable("busy".into()));
        assert!(matches!(copy, StoreError::Unavailable(m) if m == "busy"));
    }
}
