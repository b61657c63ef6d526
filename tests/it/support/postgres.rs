//! A fresh PostgreSQL schema per test, in the database named by
//! `LONGRUN_TEST_DATABASE_URL`, dropped when the test ends. Schemas rather
//! than databases: creating one is cheap and needs no CREATEDB, and tests
//! running in parallel never see each other's rows.

use sqlx::{ConnectOptions, Connection, Executor};

pub const DATABASE_URL_VAR: &str = "LONGRUN_TEST_DATABASE_URL";

/// A schema that lives as long as this value.
pub struct PgSchema {
    admin_url: String,
    pub name: String,
}

impl PgSchema {
    /// A new empty schema, or `None` (after saying so) when no test database
    /// is configured.
    #[expect(clippy::print_stderr, reason = "the skip notice CONTRIBUTING.md names")]
    pub async fn create() -> Option<PgSchema> {
        let Ok(admin_url) = std::env::var(DATABASE_URL_VAR) else {
            eprintln!("skipped: {DATABASE_URL_VAR} not set");
            return None;
        };
        let name = format!("lr_{:016x}", rand::random::<u64>());
        let mut conn = connect(&admin_url).await;
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .await
            .expect("create schema");
        let _ = conn.close().await;
        Some(PgSchema { admin_url, name })
    }

    /// A URL whose connections use this schema, named `application` in
    /// `pg_stat_activity` (the change feed's connection adds `-listener`).
    pub fn url(&self, application: &str) -> String {
        let separator = if self.admin_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{separator}options%5Bsearch_path%5D={}&application_name={}_{application}",
            self.admin_url, self.name, self.name
        )
    }

    /// The `application_name` that `url(application)` gives the listener.
    pub fn listener_name(&self, application: &str) -> String {
        format!("{}_{application}-listener", self.name)
    }

    /// A plain connection to the test database, bypassing longrun.
    pub async fn admin(&self) -> sqlx::PgConnection {
        connect(&self.admin_url).await
    }

    /// The host and port of the test database.
    pub fn server_addr(&self) -> String {
        let options: sqlx::postgres::PgConnectOptions =
            self.admin_url.parse().expect("a valid database url");
        format!("{}:{}", options.get_host(), options.get_port())
    }

    /// The test database URL with its host and port replaced by `addr`.
    pub fn url_via(&self, addr: std::net::SocketAddr, application: &str) -> String {
        let server = self.server_addr();
        self.url(application)
            .replacen(&server, &addr.to_string(), 1)
    }
}

async fn connect(url: &str) -> sqlx::PgConnection {
    let options: sqlx::postgres::PgConnectOptions = url.parse().expect("a valid database url");
    options.connect().await.expect("the test database answers")
}

impl Drop for PgSchema {
    #[expect(
        clippy::print_stderr,
        reason = "a leftover schema, for whoever cleans up"
    )]
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot block on a
        // future; a thread with its own small runtime can.
        let url = self.admin_url.clone();
        let statement = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let mut conn = connect(&url).await;
                conn.execute(sqlx::AssertSqlSafe(statement)).await.map(drop)
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}", self.name);
        }
    }
}
