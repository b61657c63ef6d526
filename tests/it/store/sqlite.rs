//! SQLite: the conformance suite in memory and on a file, then what only
//! this backend has: its pragmas, reopening, group commit, corrupt rows.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use longrun::domain::{CancelState, ErrorStatus, Operation, OperationName, Outcome, RequestId};
use longrun::store::sqlite::SqliteStore;
use longrun::store::{Inserted, ListQuery, OperationStore, StoreError, Swapped};
use sqlx::{ConnectOptions, Connection};
use tempfile::TempDir;
use tokio::sync::Barrier;

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

fn path(dir: &TempDir) -> PathBuf {
    dir.path().join("operations.db")
}

fn url(dir: &TempDir) -> String {
    format!("sqlite://{}", path(dir).display())
}

/// A plain connection to the same file, bypassing the store.
async fn plain(dir: &TempDir) -> sqlx::SqliteConnection {
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path(dir))
        .connect()
        .await
        .expect("plain connection")
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

fn op(id: &str) -> Operation {
    let name = OperationName::parse(&format!("projects/p/locations/l/operations/{id}"))
        .expect("valid name");
    Operation {
        name,
        metadata: None,
        outcome: None,
        create_time: at(1),
        update_time: at(1),
        end_time: None,
        cancel: CancelState::NotRequested,
        cancel_grace: Duration::from_secs(30),
        started: false,
        request_id: None,
        expire_time: None,
        version: 1,
    }
}

fn next(op: &Operation) -> Operation {
    let mut next = op.clone();
    next.version += 1;
    next.update_time += Duration::from_micros(1);
    next
}

fn everything(now: SystemTime) -> ListQuery {
    ListQuery {
        project: "p".into(),
        location: None,
        after: None,
        limit: 10_000,
        now,
        done: None,
    }
}

#[tokio::test]
async fn file_store_runs_in_wal_with_full_sync() {
    let (store, dir) = file().await.expect("store");
    let diagnostics = store.diagnostics().await.expect("diagnostics");
    assert_eq!(diagnostics.writer.journal_mode, "wal");
    assert_eq!(diagnostics.writer.synchronous, "full");
    assert_eq!(diagnostics.writer.busy_timeout, Duration::from_secs(5));
    assert!(!diagnostics.writer.query_only);
    assert_eq!(diagnostics.reader.journal_mode, "wal");
    assert!(diagnostics.reader.query_only);
    assert_eq!(diagnostics.schema_version, Some(2));

    // WAL is a property of the file: a stranger's connection sees it too.
    let mut conn = plain(&dir).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .expect("pragma");
    assert_eq!(mode.to_lowercase(), "wal");
    conn.close().await.expect("close");
    store.close().await;
}

#[tokio::test]
async fn memory_stores_are_separate_and_keep_no_journal() {
    let (first, ()) = memory().await.expect("store");
    let (second, ()) = memory().await.expect("store");
    first.insert(&op("only-here")).await.expect("insert");
    assert_eq!(second.get(&op("only-here").name).await.expect("get"), None);
    let diagnostics = first.diagnostics().await.expect("diagnostics");
    assert_eq!(diagnostics.writer.journal_mode, "memory");
    assert!(diagnostics.reader.query_only);
}

#[tokio::test]
async fn open_with_bad_url_fails_without_panicking() {
    for url in [
        "postgres://localhost/db",
        "sqlite://",
        "sqlite:///nonexistent-directory/for/longrun/ops.db",
        "sqlite://ops.db?mode=banana",
    ] {
        assert!(SqliteStore::open(url).await.is_err(), "{url}");
    }
}

#[tokio::test]
async fn data_and_page_token_key_survive_close_and_reopen() {
    let (store, dir) = file().await.expect("store");
    let running = op("running");
    let mut failed = op("failed");
    failed.outcome = Some(Outcome::Error(ErrorStatus::cancelled("stopped")));
    failed.end_time = Some(at(2));
    failed.expire_time = Some(at(3_000));
    store.insert(&running).await.expect("insert");
    store.insert(&failed).await.expect("insert");
    let key = store.page_token_key().await.expect("key");
    store.close().await;

    let reopened = SqliteStore::open(&url(&dir)).await.expect("reopen");
    assert_eq!(
        reopened.get(&running.name).await.expect("get"),
        Some(running)
    );
    assert_eq!(reopened.get(&failed.name).await.expect("get"), Some(failed));
    assert_eq!(reopened.page_token_key().await.expect("key"), key);
    let diagnostics = reopened.diagnostics().await.expect("diagnostics");
    assert_eq!(diagnostics.schema_version, Some(2));
    reopened.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_writers_are_all_acknowledged_and_durable() {
    const TASKS: usize = 64;
    const WRITES: i64 = 50;
    let (store, dir) = file().await.expect("store");
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut current = op(&format!("writer-{task}"));
                assert!(matches!(
                    store.insert(&current).await.expect("insert"),
                    Inserted::Created(_)
                ));
                for _ in 1..WRITES {
                    let written = next(&current);
                    match store.swap(&written).await.expect("swap") {
                        Swapped::Written(stored) => current = stored,
                        Swapped::Stale(other) => panic!("nobody else writes here: {other:?}"),
                    }
                }
                current
            })
        })
        .collect();
    let mut last = Vec::new();
    for task in tasks {
        last.push(task.await.expect("task"));
    }
    let stats = store.write_stats();
    assert_eq!(stats.writes, (TASKS as u64) * (WRITES as u64));
    store.close().await;

    let reopened = SqliteStore::open(&url(&dir)).await.expect("reopen");
    for expected in last {
        let stored = reopened.get(&expected.name).await.expect("get");
        assert_eq!(stored.as_ref().map(|op| op.version), Some(WRITES));
        assert_eq!(stored, Some(expected));
    }
    let listed = reopened.list(&everything(at(0))).await.expect("list");
    assert_eq!(listed.len(), TASKS);
    reopened.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_inserts_share_commits() {
    const INSERTS: usize = 500;
    let (store, _dir) = file().await.expect("store");
    let store = Arc::new(store);
    let before = store.write_stats();
    let start = Arc::new(Barrier::new(INSERTS));
    let tasks: Vec<_> = (0..INSERTS)
        .map(|i| {
            let store = Arc::clone(&store);
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                start.wait().await;
                store.insert(&op(&format!("grouped-{i}"))).await
            })
        })
        .collect();
    for task in tasks {
        assert!(matches!(
            task.await.expect("task").expect("insert"),
            Inserted::Created(_)
        ));
    }
    let after = store.write_stats();
    let commits = after.commits - before.commits;
    assert_eq!(after.writes - before.writes, INSERTS as u64);
    assert!(
        commits <= (INSERTS as u64) / 5,
        "{INSERTS} concurrent inserts took {commits} commits"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_serves_reads_while_writing() {
    let (store, ()) = memory().await.expect("store");
    let store = Arc::new(store);
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for i in 0..50 {
                    let created = op(&format!("w{w}-{i}"));
                    store.insert(&created).await.expect("insert");
                    store.swap(&next(&created)).await.expect("swap");
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..4)
        .map(|r| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut reads = 0u32;
                for _ in 0..100 {
                    store.get(&op(&format!("w{r}-0")).name).await.expect("get");
                    let listed = store.list(&everything(at(0))).await.expect("list");
                    assert!(listed.len() <= 400);
                    store.next_cancel_deadline().await.expect("deadline");
                    reads += 3;
                    tokio::task::yield_now().await;
                }
                reads
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    for reader in readers {
        assert_eq!(reader.await.expect("reader"), 300);
    }
    let listed = store.list(&everything(at(0))).await.expect("list");
    assert_eq!(listed.len(), 400);
    assert!(listed.iter().all(|op| op.version == 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_share_writes_and_key() {
    let (first, dir) = file().await.expect("store");
    let second = SqliteStore::open(&url(&dir)).await.expect("second open");
    let (first, second) = (Arc::new(first), Arc::new(second));
    let tasks: Vec<_> = [Arc::clone(&first), Arc::clone(&second)]
        .into_iter()
        .enumerate()
        .flat_map(|(s, store)| {
            (0..50).map(move |i| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.insert(&op(&format!("s{s}-{i}"))).await })
            })
        })
        .collect();
    for task in tasks {
        task.await
            .expect("task")
            .expect("insert despite the other writer");
    }
    assert_eq!(
        first.list(&everything(at(0))).await.expect("list").len(),
        100
    );
    assert_eq!(
        second.list(&everything(at(0))).await.expect("list").len(),
        100
    );
    let (a, b) = tokio::join!(first.page_token_key(), second.page_token_key());
    assert_eq!(a.expect("key"), b.expect("key"));
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn corrupt_rows_are_reported_as_corrupt() {
    let corruptions = [
        "UPDATE operations SET done = 1 WHERE name = ?",
        "UPDATE operations SET cancel_grace = -1 WHERE name = ?",
        "UPDATE operations SET cancel_deadline = 5 WHERE name = ?",
        "UPDATE operations SET metadata_type = 't' WHERE name = ?",
        "UPDATE operations SET error_code = 5 WHERE name = ?",
        "UPDATE operations SET done = 1, error_code = 5, error_message = 'x', \
         error_details = 'not json' WHERE name = ?",
        "UPDATE operations SET done = 1, error_code = 5000000000, error_message = 'x', \
         error_details = '[]' WHERE name = ?",
        "UPDATE operations SET request_id = 'has space' WHERE name = ?",
        "UPDATE operations SET name = 'projects/p/locations/l/operations/a/b' WHERE name = ?",
    ];
    let (store, dir) = file().await.expect("store");
    for i in 0..corruptions.len() {
        store.insert(&op(&format!("c{i}"))).await.expect("insert");
    }
    store.close().await;

    let mut conn = plain(&dir).await;
    for (i, statement) in corruptions.iter().enumerate() {
        sqlx::query(*statement)
            .bind(op(&format!("c{i}")).name.to_string())
            .execute(&mut conn)
            .await
            .expect("corrupt a row");
    }
    conn.close().await.expect("close");

    let store = SqliteStore::open(&url(&dir)).await.expect("reopen");
    for (i, statement) in corruptions.iter().enumerate() {
        let name = op(&format!("c{i}")).name;
        match store.get(&name).await {
            Err(StoreError::Corrupt(_)) => {}
            // The renamed row is simply not found under its old name.
            Ok(None) if statement.contains("SET name") => {}
            other => panic!("{statement}: {other:?}"),
        }
    }
    assert!(matches!(
        store.list(&everything(at(0))).await,
        Err(StoreError::Corrupt(_))
    ));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_request_does_not_undo_the_rest_of_its_group() {
    const PAIRS: usize = 100;
    let (store, dir) = file().await.expect("store");
    let mut holder = op("holder");
    holder.request_id = Some(RequestId::parse("taken").expect("request id"));
    store.insert(&holder).await.expect("insert");
    let victim = op("victim");
    store.insert(&victim).await.expect("insert");
    let store = Arc::new(store);
    let before = store.write_stats();

    // Half the requests violate the (parent, request_id) key inside the
    // group's transaction; the other half must commit regardless.
    let start = Arc::new(Barrier::new(2 * PAIRS));
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for i in 0..PAIRS {
        let (writer, gate) = (Arc::clone(&store), Arc::clone(&start));
        good.push(tokio::spawn(async move {
            gate.wait().await;
            writer.insert(&op(&format!("good-{i}"))).await
        }));
        let (writer, gate) = (Arc::clone(&store), Arc::clone(&start));
        let mut clash = next(&victim);
        clash.request_id = holder.request_id.clone();
        bad.push(tokio::spawn(async move {
            gate.wait().await;
            writer.swap(&clash).await
        }));
    }
    for task in good {
        assert!(matches!(
            task.await.expect("task").expect("insert"),
            Inserted::Created(_)
        ));
    }
    for task in bad {
        // A taken unique key is a conflict the caller may retry, as
        // PostgreSQL's 23505 is.
        assert!(matches!(
            task.await.expect("task"),
            Err(StoreError::Conflict(_))
        ));
    }
    let after = store.write_stats();
    assert_eq!(after.writes - before.writes, PAIRS as u64);
    assert!(after.commits - before.commits < PAIRS as u64);
    store.close().await;

    let reopened = SqliteStore::open(&url(&dir)).await.expect("reopen");
    assert_eq!(reopened.get(&victim.name).await.expect("get"), Some(victim));
    let listed = reopened.list(&everything(at(0))).await.expect("list");
    assert_eq!(listed.len(), PAIRS + 2);
    reopened.close().await;
}
