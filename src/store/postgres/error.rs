//! sqlx errors become `StoreError` here, and nowhere else, by SQLSTATE.

use crate::store::StoreError;

/// The SQLSTATE classes and codes that decide how a caller should react.
/// <https://www.postgresql.org/docs/current/errcodes-appendix.html>
fn classify(code: &str, message: String) -> StoreError {
    match code {
        // unique_violation: a name or request id taken by a concurrent
        // write on another replica; serialization_failure, deadlock.
        "23505" | "40001" | "40P01" => StoreError::Conflict(message),
        // query_canceled (statement_timeout), admin_shutdown,
        // crash_shutdown, cannot_connect_now (starting up or in recovery),
        // read_only_sql_transaction (a failover left us on a standby).
        "57014" | "57P01" | "57P02" | "57P03" | "25006" => StoreError::Unavailable(message),
        // connection_exception (08xxx) and insufficient_resources (53xxx:
        // too many connections, disk full, out of memory).
        code if code.starts_with("08") || code.starts_with("53") => {
            StoreError::Unavailable(message)
        }
        // data_exception (22xxx): a stored value we cannot read back.
        code if code.starts_with("22") => StoreError::Corrupt(message),
        _ => StoreError::Backend(message),
    }
}

#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "sqlx::Error is non_exhaustive; what is not listed is a backend failure"
)]
pub(super) fn translate(err: sqlx::Error) -> StoreError {
    let message = err.to_string();
    match &err {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => classify(&code, message),
            None => StoreError::Backend(message),
        },
        sqlx::Error::PoolClosed => StoreError::Closed,
        // The server is unreachable, or went away mid-call: fail fast and
        // let the client retry; the pool reconnects on its own.
        sqlx::Error::PoolTimedOut
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(message),
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. } => StoreError::Corrupt(message),
        _ => StoreError::Backend(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_map_to_what_a_caller_can_do() {
        let kind = |code: &str| classify(code, String::new());
        assert!(matches!(kind("23505"), StoreError::Conflict(_)));
        assert!(matches!(kind("40001"), StoreError::Conflict(_)));
        assert!(matches!(kind("57014"), StoreError::Unavailable(_)));
        assert!(matches!(kind("57P01"), StoreError::Unavailable(_)));
        assert!(matches!(kind("08006"), StoreError::Unavailable(_)));
        assert!(matches!(kind("53300"), StoreError::Unavailable(_)));
        assert!(matches!(kind("22P02"), StoreError::Corrupt(_)));
        assert!(matches!(kind("42P01"), StoreError::Backend(_)));
    }

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
    }
}
