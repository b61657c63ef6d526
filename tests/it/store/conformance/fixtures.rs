//! Builders shared by the conformance cases.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use longrun::domain::{CancelState, Operation, OperationName, Outcome, Payload};
use longrun::store::{Inserted, ListCursor, ListQuery, OperationStore};

/// A fixed instant with whole microseconds, which every backend keeps.
pub(super) fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

pub(super) fn name_in(project: &str, location: &str, id: &str) -> OperationName {
    OperationName::parse(&format!(
        "projects/{project}/locations/{location}/operations/{id}"
    ))
    .expect("valid operation name")
}

pub(super) fn name(id: &str) -> OperationName {
    name_in("p", "l", id)
}

/// A running operation created at `created`, version 1.
pub(super) fn running(name: OperationName, created: SystemTime) -> Operation {
    Operation {
        name,
        metadata: None,
        outcome: None,
        create_time: created,
        update_time: created,
        end_time: None,
        cancel: CancelState::NotRequested,
        cancel_grace: Duration::from_secs(30),
        started: false,
        request_id: None,
        expire_time: None,
        version: 1,
    }
}

pub(super) fn payload(type_name: &str, value: &[u8]) -> Payload {
    Payload {
        type_url: format!("type.googleapis.com/{type_name}"),
        value: value.to_vec(),
    }
}

/// `op` changed the way a transition changes it: next version, new metadata.
pub(super) fn bumped(op: &Operation, marker: u8) -> Operation {
    let mut next = op.clone();
    next.version += 1;
    next.update_time = op.update_time + Duration::from_secs(1);
    next.metadata = Some(payload("test.Progress", &[marker]));
    next
}

/// `op` done with a response at `end`, forgotten at `expire`.
pub(super) fn finished(op: &Operation, end: SystemTime, expire: SystemTime) -> Operation {
    let mut done = op.clone();
    done.version += 1;
    done.outcome = Some(Outcome::Response(payload("google.protobuf.Empty", b"")));
    done.update_time = end;
    done.end_time = Some(end);
    done.expire_time = Some(expire);
    done
}

pub(super) async fn created<S: OperationStore>(store: &S, op: &Operation) -> Operation {
    match store.insert(op).await.expect("insert") {
        Inserted::Created(stored) => stored,
        Inserted::Conflict(existing) => panic!("unexpected conflict with {existing:?}"),
    }
}

pub(super) fn query(location: Option<&str>, limit: u32, now: SystemTime) -> ListQuery {
    ListQuery {
        project: "p".into(),
        location: location.map(str::to_owned),
        after: None,
        limit,
        now,
        done: None,
    }
}

pub(super) fn names(ops: &[Operation]) -> Vec<String> {
    ops.iter().map(|op| op.name.to_string()).collect()
}

/// Sorts `ops` in list order: newest `create_time` first, then by name.
pub(super) fn newest_first(ops: &mut [Operation]) {
    ops.sort_by(|a, b| {
        b.create_time
            .cmp(&a.create_time)
            .then_with(|| a.name.as_str().cmp(b.name.as_str()))
    });
}

/// Every page of the scan `q` starts, following each page's last row to an
/// empty page. Fails once the pages hold more than `most` rows: a cursor
/// that does not advance would page forever.
pub(super) async fn pages<S: OperationStore>(
    store: &S,
    mut q: ListQuery,
    most: usize,
) -> Vec<Vec<Operation>> {
    let mut pages = Vec::new();
    let mut rows = 0;
    loop {
        let page = store.list(&q).await.expect("list");
        let Some(last) = page.last() else {
            return pages;
        };
        q.after = Some(ListCursor {
            create_time: last.create_time,
            name: last.name.to_string(),
        });
        rows += page.len();
        assert!(rows <= most, "more rows than stored ({rows} > {most})");
        pages.push(page);
    }
}
