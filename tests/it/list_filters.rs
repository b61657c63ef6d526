//! Filtered Lists on a table where few operations match: `done = false`
//! reads only the running operations, and no page comes back short while
//! more matches exist unless the scan budget ran out.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::join_all;
use longrun::domain::{CancelState, Operation, OperationName, Outcome, Payload};
use longrun::pb::longrunning as lro;
use longrun::service::ServiceSettings;
use longrun::store::{OperationStore, SqliteStore};

use crate::support::*;

/// More finished operations than one List used to examine (10,000) before
/// giving up with an empty page.
const FINISHED: u64 = 12_000;
const RUNNING: &str = "projects/p/locations/l/operations/running-0";

fn stored(id: &str, created: SystemTime, done: bool) -> Operation {
    let name = OperationName::parse(&format!("projects/p/locations/l/operations/{id}"))
        .expect("valid operation name");
    Operation {
        name,
        metadata: None,
        outcome: done.then(|| {
            Outcome::Response(Payload {
                type_url: "type.googleapis.com/google.protobuf.Empty".into(),
                value: Vec::new(),
            })
        }),
        create_time: created,
        update_time: created,
        end_time: done.then_some(created),
        cancel: CancelState::NotRequested,
        cancel_grace: Duration::from_secs(30),
        started: false,
        request_id: None,
        expire_time: None,
        version: 1,
    }
}

/// One running operation, older than every one of the finished ones: a
/// newest-first scan meets it last.
async fn server_with_one_running_behind_many_finished(settings: ServiceSettings) -> TestServer {
    let store = SqliteStore::open("sqlite::memory:").await.expect("store");
    let start = SystemTime::now() - Duration::from_secs(3600);
    store
        .insert(&stored("running-0", start, false))
        .await
        .expect("insert");
    for chunk in (0..FINISHED).collect::<Vec<_>>().chunks(500) {
        let inserts = chunk.iter().map(|i| {
            let op = stored(
                &format!("done-{i:05}"),
                start + Duration::from_millis(i + 1),
                true,
            );
            let store = &store;
            async move { store.insert(&op).await.expect("insert") }
        });
        join_all(inserts).await;
    }
    let server = longrun::server::start_with_store(
        config("sqlite::memory:".into(), settings),
        Arc::new(store),
    )
    .await
    .expect("server starts");
    TestServer::around(server).await
}

async fn list(
    server: &TestServer,
    filter: &str,
    page_token: String,
) -> lro::ListOperationsResponse {
    server
        .ops
        .clone()
        .list_operations(lro::ListOperationsRequest {
            name: "projects/p/locations/l/operations".into(),
            filter: filter.into(),
            page_size: 100,
            page_token,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
}

fn names(page: &lro::ListOperationsResponse) -> Vec<&str> {
    page.operations.iter().map(|op| op.name.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_operations_come_back_on_the_first_page() {
    let server = server_with_one_running_behind_many_finished(ServiceSettings {
        // Only the running operations' index may make this pass.
        list_scan_budget: Duration::ZERO,
        ..ServiceSettings::default()
    })
    .await;
    for filter in ["done = false", "done = false AND name = \"*-0\"", "-done:*"] {
        let page = list(&server, filter, String::new()).await;
        assert_eq!(names(&page), [RUNNING], "{filter}");
        assert_eq!(page.next_page_token, "", "{filter}: nothing more to find");
    }
    let finished = list(&server, "done = true", String::new()).await;
    assert_eq!(finished.operations.len(), 100);
    assert!(finished.operations.iter().all(|op| op.done));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selective_filter_reads_on_until_it_finds_a_match() {
    let server = server_with_one_running_behind_many_finished(ServiceSettings {
        list_scan_budget: Duration::from_secs(3600),
        ..ServiceSettings::default()
    })
    .await;
    // Not a filter on done: every finished operation is read and passed over.
    let filter = format!("name = \"{RUNNING}\"");
    let page = list(&server, &filter, String::new()).await;
    assert_eq!(names(&page), [RUNNING]);
    assert_eq!(page.next_page_token, "");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_budget_pages_are_short_and_their_tokens_go_on() {
    let server = server_with_one_running_behind_many_finished(ServiceSettings {
        list_scan_budget: Duration::ZERO,
        ..ServiceSettings::default()
    })
    .await;
    let filter = format!("name = \"{RUNNING}\"");
    let (mut found, mut pages, mut token) = (Vec::new(), 0, String::new());
    loop {
        let page = list(&server, &filter, token).await;
        pages += 1;
        found.extend(page.operations.iter().map(|op| op.name.clone()));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
        assert!(pages <= FINISHED, "the tokens must move on");
    }
    assert_eq!(found, [RUNNING]);
    assert!(pages > 1, "a zero budget answers after one batch");
    server.stop().await;
}
