//! The PostgreSQL schema, as migrations compiled into the binary.
//!
//! The SQL lives in `migrations/postgres/`; as for SQLite, sqlx's `Migrator`
//! is built from in-code `Migration`s. sqlx takes an advisory lock for the
//! run, so replicas starting together apply each migration once.

use std::borrow::Cow;

use sqlx::migrate::{MigrateError, Migration, MigrationType, Migrator};
use sqlx::{PgConnection, SqlSafeStr};

use super::error::translate;
use crate::store::StoreError;

/// Every migration, oldest first. Append only.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "operations",
        include_str!("../../../migrations/postgres/0001_operations.sql"),
    ),
    (
        2,
        "running operations",
        include_str!("../../../migrations/postgres/0002_running_operations.sql"),
    ),
];

/// The schema version this binary reads and writes.
pub(super) const SCHEMA_VERSION: i64 = 2;

fn migrator() -> Migrator {
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
}

/// Brings the database up to `SCHEMA_VERSION`. The statement timeout is
/// lifted meanwhile: building an index on a large table, or waiting for
/// another replica's migration lock, may take longer than any call should.
pub(super) async fn migrate(conn: &mut PgConnection) -> Result<(), StoreError> {
    set(conn, "SET statement_timeout = 0").await?;
    let migrated = migrator().run(&mut *conn).await.map_err(migrate_error);
    // Back to the connection's own setting (from its startup options).
    set(conn, "RESET statement_timeout").await?;
    migrated
}

async fn set(conn: &mut PgConnection, statement: &'static str) -> Result<(), StoreError> {
    sqlx::query(statement)
        .execute(&mut *conn)
        .await
        .map(drop)
        .map_err(translate)
}

/// Fails unless the database is exactly at `SCHEMA_VERSION`: a replica
/// started with `--migrate=false` must not write into an older schema.
pub(super) async fn check(conn: &mut PgConnection) -> Result<(), StoreError> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await
        .map_err(translate)?;
    let applied: Option<i64> = if exists {
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut *conn)
            .await
            .map_err(translate)?
    } else {
        None
    };
    match applied {
        Some(SCHEMA_VERSION) => Ok(()),
        Some(newer) if newer > SCHEMA_VERSION => Err(StoreError::Backend(format!(
            "the database has schema migration {newer}, newer than this binary \
             (which knows up to {SCHEMA_VERSION}); upgrade longrun"
        ))),
        Some(_) | None => Err(StoreError::Backend(format!(
            "the database schema is not at version {SCHEMA_VERSION}; run `longrun migrate \
             --database URL` first, or start one server without --migrate=false"
        ))),
    }
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
