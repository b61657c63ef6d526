//! PostgreSQL: the conformance suite, each case in a fresh schema, when
//! `LONGRUN_TEST_DATABASE_URL` is set; otherwise every case says it skips.

use longrun::store::{PgSettings, PgStore};

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
