//! The shared row codec (`store::codec`) bound to SQLite's error translation.

use sqlx::sqlite::SqliteRow;

use super::error::translate;
use crate::domain::Operation;
use crate::store::StoreError;

pub(super) use crate::store::codec::{Encoded, micros, normalized, select_operations, time};

/// An operation from a row selected with `select_operations!`.
pub(super) fn decode(row: &SqliteRow) -> Result<Operation, StoreError> {
    crate::store::codec::decode(row, translate)
}
