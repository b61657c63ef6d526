//! Opening the store a database URL names: SQLite (one server per file,
//! with a cache) or PostgreSQL (shared by replicas, with a change feed).

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;

use super::ServerError;
use crate::observe::Recorder;
use crate::store::{CachedStore, ChangeFeed, OperationStore, PgSettings, PgStore, SqliteStore};

/// An open store, and what other processes' changes to it look like.
pub struct OpenedStore {
    pub store: Arc<dyn OperationStore>,
    /// Other replicas' changes; `None` when this process is the only writer.
    pub feed: Option<ChangeFeed>,
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens the store behind `url`. A SQLite file belongs to one server: the
/// server caches what it wrote, so a second process on the same file would
/// read stale data. A lock file next to the database enforces that.
/// PostgreSQL is shared by replicas, so nothing is cached, and its change
/// feed tells this replica what the others did.
pub async fn open_store(
    url: &str,
    cache_entries: usize,
    postgres: &PgSettings,
) -> Result<OpenedStore, ServerError> {
    open_store_with(url, cache_entries, postgres, Recorder::default()).await
}

/// `open_store`, the store reporting its writes (and pool) to `recorder`.
pub async fn open_store_with(
    url: &str,
    cache_entries: usize,
    postgres: &PgSettings,
    recorder: Recorder,
) -> Result<OpenedStore, ServerError> {
    if is_postgres(url) {
        let (store, feed) = PgStore::open_with(url, postgres, recorder).await?;
        return Ok(OpenedStore {
            store: Arc::new(store),
            feed: Some(feed),
        });
    }
    if !url.starts_with("sqlite:") {
        return Err(ServerError::DatabaseUrl(url.to_owned()));
    }
    let guard = lock_database_file(url)?;
    let store = SqliteStore::open_with(url, recorder).await?;
    let store: Arc<dyn OperationStore> = match NonZeroUsize::new(cache_entries) {
        None => Arc::new(store),
        Some(capacity) => {
            let cached = CachedStore::new(store, capacity);
            match guard {
                Some(file) => Arc::new(cached.with_guard(Box::new(file))),
                None => Arc::new(cached),
            }
        }
    };
    Ok(OpenedStore { store, feed: None })
}

/// Brings the database at `url` to this binary's schema (`longrun migrate`).
pub async fn migrate(url: &str) -> Result<(), ServerError> {
    if is_postgres(url) {
        crate::store::postgres::migrate(url).await?;
        return Ok(());
    }
    if !url.starts_with("sqlite:") {
        return Err(ServerError::DatabaseUrl(url.to_owned()));
    }
    let _guard = lock_database_file(url)?;
    // Opening a SQLite store applies its migrations.
    SqliteStore::open(url).await?.close().await;
    Ok(())
}

/// Takes an exclusive lock on `<database>.lock`; `None` for in-memory URLs.
fn lock_database_file(url: &str) -> Result<Option<std::fs::File>, ServerError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    if path.is_empty() || path == ":memory:" || rest.contains("mode=memory") {
        return Ok(None);
    }
    let lock_path = PathBuf::from(format!("{path}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| ServerError::LockFile {
            path: lock_path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(ServerError::DatabaseInUse(path.to_owned())),
        Err(std::fs::TryLockError::Error(source)) => Err(ServerError::LockFile {
            path: lock_path,
            source,
        }),
    }
}

/// `url` fit for a log line: a password in it (`postgres://user:secret@…`
/// or `?password=secret`) becomes `***`. Operators put credentials in the
/// URL; logs travel further than the flag did.
pub fn redacted_url(url: &str) -> String {
    let mut shown = url.to_owned();
    if let Some(scheme_end) = url.find("://").map(|i| i + 3) {
        let authority_end = url[scheme_end..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |i| scheme_end + i);
        if let Some(at) = url[scheme_end..authority_end]
            .rfind('@')
            .map(|i| scheme_end + i)
            && let Some(colon) = url[scheme_end..at].find(':').map(|i| scheme_end + i)
        {
            shown = format!("{}***{}", &url[..=colon], &url[at..]);
        }
    }
    let Some((head, query)) = shown.split_once('?') else {
        return shown;
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{head}?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::redacted_url;

    #[test]
    fn redacted_url_hides_only_the_password() {
        let cases = [
            (
                "postgres://app:s3cret@db:5432/ops",
                "postgres://app:***@db:5432/ops",
            ),
            (
                "postgres://app:p@ss@db/ops?sslmode=require",
                "postgres://app:***@db/ops?sslmode=require",
            ),
            ("postgres://app@db/ops", "postgres://app@db/ops"),
            (
                "postgres://db/ops?user=a&password=x&sslmode=require",
                "postgres://db/ops?user=a&password=***&sslmode=require",
            ),
            ("sqlite://longrun.db", "sqlite://longrun.db"),
            ("sqlite::memory:", "sqlite::memory:"),
        ];
        for (url, shown) in cases {
            assert_eq!(redacted_url(url), shown, "{url}");
        }
    }
}
