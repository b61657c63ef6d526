//! PostgreSQL: the conformance suite, each case in a fresh schema, when
//! `LONGRUN_TEST_DATABASE_URL` is set; otherwise every case says it skips.

use longrun::store::{OperationStore, PgSettings, PgStore};

use super::conformance::conformance_suite;
use crate::support::postgres::PgSchema;

async fn fresh(settings: PgSettings) -> Option<(PgStore, PgSchema)> {
    let schema = PgSchema::create().await?;
    let (store, _feed) = PgStore::open(&schema.url("conformance"), &settings)
        .await
        .expect("open");
    Some((store, schema))
}

conformance_suite!(on_postgres, fresh(PgSettings::default()));
// The statements used on engines without LISTEN/NOTIFY.
conformance_suite!(
    on_postgres_without_notify,
    fresh(PgSettings {
        notify: false,
        ..PgSettings::default()
    })
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_without_migrate_refuses_old_schema_until_longrun_migrate_runs() {
    let Some(schema) = PgSchema::create().await else {
        return;
    };
    let url = schema.url("migrate");
    let settings = PgSettings {
        migrate: false,
        ..PgSettings::default()
    };
    let Err(err) = PgStore::open(&url, &settings).await else {
        panic!("opened an empty schema without migrating");
    };
    assert!(err.to_string().contains("longrun migrate"), "{err}");

    let migrated = tokio::process::Command::new(env!("CARGO_BIN_EXE_longrun"))
        .args(["migrate", "--database", &url])
        .output()
        .await
        .expect("the binary runs");
    assert!(migrated.status.success(), "{migrated:?}");
    // Twice is harmless.
    let again = tokio::process::Command::new(env!("CARGO_BIN_EXE_longrun"))
        .args(["migrate", "--database", &url])
        .status()
        .await
        .expect("the binary runs");
    assert!(again.success());

    let (store, _feed) = PgStore::open(&url, &settings).await.expect("open");
    store.close().await;
}
