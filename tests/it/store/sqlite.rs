//! SQLite: the conformance suite in memory and on a file.

use longrun::store::sqlite::SqliteStore;
use tempfile::TempDir;

use super::conformance::conformance_suite;

async fn memory() -> Option<(SqliteStore, ())> {
    let store = SqliteStore::open("sqlite::memory:").await.expect("open");
    Some((store, ()))
}

async fn file() -> Option<(SqliteStore, TempDir)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&url(&dir)).await.expect("open");
    Some((store, dir))
}

conformance_suite!(in_memory, memory());
conformance_suite!(on_file, file());

fn url(dir: &TempDir) -> String {
    format!("sqlite://{}", dir.path().join("operations.db").display())
}
