//! The bulk path both SQL backends share: many operations in one multi-row
//! `INSERT`, for loading a store (a migration from another system, a
//! benchmark's million rows) without a round trip and a commit per row.
//!
//! One statement per chunk keeps the SQLite writer's rule that a request
//! changes rows with at most one statement, and stays under both engines'
//! limits on bound parameters (SQLite 32,766, PostgreSQL 65,535).

use sqlx::{Database, Encode, QueryBuilder, Type};

use super::StoreError;
use super::codec::{Encoded, normalized};
use crate::domain::Operation;

/// Rows per statement: 21 parameters each.
pub(crate) const CHUNK: usize = 1_000;

const INSERT_INTO: &str = "INSERT INTO operations (name, project, location, \
     create_time, update_time, end_time, done, metadata_type, metadata_value, \
     response_type, response_value, error_code, error_message, error_details, \
     cancel_requested_at, cancel_deadline, cancel_grace, started, request_id, \
     expire_time, version) ";

/// `INSERT ... VALUES (...), ... ON CONFLICT DO NOTHING` for `ops` (at most
/// [`CHUNK`]): an operation whose name, or parent and request id, is taken
/// is skipped and the stored one is left as it is. Fails before building
/// anything if one of them cannot be stored (a time out of range).
pub(crate) fn insert_many<DB>(ops: &[Operation]) -> Result<QueryBuilder<DB>, StoreError>
where
    DB: Database,
    i64: for<'t> Encode<'t, DB> + Type<DB>,
    Option<i64>: for<'t> Encode<'t, DB> + Type<DB>,
    bool: for<'t> Encode<'t, DB> + Type<DB>,
    String: for<'t> Encode<'t, DB> + Type<DB>,
    Option<String>: for<'t> Encode<'t, DB> + Type<DB>,
    Option<Vec<u8>>: for<'t> Encode<'t, DB> + Type<DB>,
{
    let rows = ops
        .iter()
        .map(|op| {
            normalized(op)?;
            Ok((op, Encoded::new(op)?))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut query = QueryBuilder::new(INSERT_INTO);
    query.push_values(rows, |mut row, (op, encoded)| {
        row.push_bind(op.name.as_str().to_owned())
            .push_bind(op.name.project().to_owned())
            .push_bind(op.name.location().to_owned());
        encoded.push_binds(&mut row);
    });
    query.push(" ON CONFLICT DO NOTHING");
    Ok(query)
}
