//! Cases for the bulk path (`OperationStore::import`).

use std::time::Duration;

use longrun::domain::{CancelState, ErrorStatus, Outcome, RequestId};
use longrun::store::OperationStore;

use super::fixtures::{
    at, created, finished, name, names, newest_first, pages, payload, query, running,
};

pub async fn import_stores_every_field_and_skips_what_is_taken<S: OperationStore>(store: S) {
    let mut kept = running(name("kept"), at(1));
    kept.metadata = Some(payload("test.Meta", b"first"));
    let kept = created(&store, &kept).await;
    let mut claimed = running(name("claimed"), at(2));
    claimed.request_id = Some(RequestId::parse("req-1").expect("request id"));
    let claimed = created(&store, &claimed).await;

    // A name taken, a request id taken under the same parent, and three new
    // ones: one failed with every field set, one answered, one running.
    let mut same_name = kept.clone();
    same_name.metadata = Some(payload("test.Meta", b"second"));
    let mut same_request = running(name("retried"), at(3));
    same_request.request_id = claimed.request_id.clone();
    let mut failed = running(name("failed"), at(4));
    failed.metadata = Some(payload("test.Meta", &[0, 255]));
    failed.outcome = Some(Outcome::Error(ErrorStatus {
        code: 9,
        message: "quota exhausted — ünïcode".into(),
        details: vec![payload("google.rpc.ErrorInfo", &[8, 1])],
    }));
    failed.update_time = at(6);
    failed.end_time = Some(at(6));
    failed.cancel = CancelState::Requested {
        at: at(5),
        deadline: at(5),
    };
    failed.cancel_grace = Duration::ZERO;
    failed.started = true;
    failed.request_id = Some(RequestId::parse("req-2").expect("request id"));
    failed.expire_time = Some(at(1_000));
    failed.version = 4;
    let answered = finished(&running(name("answered"), at(5)), at(7), at(2_000));
    let waiting = running(name("waiting"), at(6));

    let imported = store
        .import(&[
            same_name,
            failed.clone(),
            same_request,
            answered.clone(),
            waiting.clone(),
        ])
        .await
        .expect("import");
    assert_eq!(imported, 3, "the two taken ones are skipped");
    assert_eq!(store.get(&kept.name).await.expect("get"), Some(kept));
    assert_eq!(store.get(&name("retried")).await.expect("get"), None);
    for op in [failed, answered, waiting] {
        assert_eq!(
            store.get(&op.name).await.expect("get").as_ref(),
            Some(&op),
            "round trip of {}",
            op.name
        );
    }
    assert_eq!(store.import(&[]).await.expect("empty import"), 0);
}

pub async fn import_of_several_chunks_lists_every_operation_once<S: OperationStore>(store: S) {
    // More than two statements' worth, with create times that tie.
    let ops: Vec<_> = (0..2_345u64)
        .map(|i| running(name(&format!("bulk-{i:05}")), at(i % 100)))
        .collect();
    assert_eq!(store.import(&ops).await.expect("import"), 2_345);
    assert_eq!(
        store.import(&ops).await.expect("import again"),
        0,
        "a second import of the same operations changes nothing"
    );

    let mut expected = ops;
    newest_first(&mut expected);
    let seen: Vec<_> = pages(&store, query(Some("l"), 1_000, at(10_000)), expected.len())
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(names(&seen), names(&expected));
}
