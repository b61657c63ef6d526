//! The schema, as migrations compiled into the binary.
//!
//! The SQL lives in `migrations/sqlite/` at the crate root and is embedded
//! with `include_str!`; sqlx's `Migrator` is built from these in-code
//! `Migration`s, so we get its version table (`_sqlx_migrations`), checksums
//! and one transaction per migration without the `macros` feature and its
//! compile-time filesystem scan.

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::SqliteConnection;
use sqlx::migrate::{MigrateError, Migration, MigrationType, Migrator};

use super::error::translate;
use crate::store::StoreError;

/// Every migration, oldest first. Append only: an applied migration whose
/// text changes makes `open` fail (checksum mismatch).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "operations",
        include_str!("../../../migrations/sqlite/0001_operations.sql"),
    ),
    (
        2,
        "running operations",
        include_str!("../../../migrations/sqlite/0002_running_operations.sql"),
    ),
];

/// The schema version this binary writes.
pub(super) const SCHEMA_VERSION: i64 = 2;

/// Brings the database up to `SCHEMA_VERSION`.
pub(super) async fn migrate(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    let migrations = MIGRATIONS
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
        .run(conn)
        .await
        .map_err(migrate_error)
}

#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "MigrateError is non_exhaustive; every other case is a backend failure"
)]
fn migrate_error(err: MigrateError) -> StoreError {
    match err {
        MigrateError::Execute(err) | MigrateError::ExecuteMigration(err, _) => translate(err),
        MigrateError::VersionMissing(version) => StoreError::Backend(format!(
            "the database has schema migration {version}, newer than this binary \
             (which knows up to {SCHEMA_VERSION}); upgrade longrun"
        )),
        other => StoreError::Backend(format!("schema migration failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_up_to_schema_version() {
        let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.0).collect();
        let expected: Vec<i64> = (1..=SCHEMA_VERSION).collect();
        assert_eq!(versions, expected);
    }
}
