//! Several `longrun serve` replicas on one PostgreSQL database: a client may
//! reach any replica, a worker may watch on any, and every rule of docs/behaviour.md holds.
//! Each test gets a fresh schema; without `LONGRUN_TEST_DATABASE_URL` every
//! test says it skips.

mod clock_skew;
mod database_loss;
mod killed;
mod listener_cut;
mod wakeups;

use longrun::server::ServerConfig;
use longrun::service::ServiceSettings;
use longrun::store::PgSettings;

use crate::support::postgres::PgSchema;
use crate::support::{TestServer, config};

/// Two replicas, `a` and `b`, on one fresh schema.
pub struct Pair {
    pub a: TestServer,
    pub b: TestServer,
    /// Dropped last: the servers' connections go first.
    pub schema: PgSchema,
}

pub async fn pair(settings: ServiceSettings) -> Option<Pair> {
    let schema = PgSchema::create().await?;
    let a = replica(&schema, "a", settings.clone()).await;
    let b = replica(&schema, "b", settings).await;
    Some(Pair { a, b, schema })
}

/// A replica whose connections are named `<schema>_<application>`.
pub async fn replica(
    schema: &PgSchema,
    application: &str,
    settings: ServiceSettings,
) -> TestServer {
    TestServer::with_config(replica_config(schema.url(application), settings), None).await
}

pub fn replica_config(url: String, settings: ServiceSettings) -> ServerConfig {
    ServerConfig {
        postgres: PgSettings::default(),
        ..config(url, settings)
    }
}
