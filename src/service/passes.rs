//! The store as the use cases see it: every call that reads or changes an
//! operation takes the access pass that proves the permission check (or the
//! server's own pass for background work), and acts on the name inside the
//! pass. The raw store is private to this file, so a use case that never
//! asked the policy has no way to reach an operation.

use std::sync::Arc;
use std::time::SystemTime;

use crate::auth::{ListPass, OperationPass, ParentPass, ServerPass};
use crate::domain::Operation;
use crate::store::{Inserted, ListCursor, ListQuery, OperationStore, StoreError, Swapped};

/// One row of a List scan: shown, or only passed over (its cursor still
/// moves the scan on, so pages stay stable whatever the caller may see).
#[expect(
    clippy::large_enum_variant,
    reason = "almost every row is shown; boxing would cost an allocation per listed row"
)]
pub(super) enum Listed {
    Shown(Operation),
    Hidden(ListCursor),
}

pub(super) struct PassStore {
    store: Arc<dyn OperationStore>,
}

impl PassStore {
    pub(super) fn new(store: Arc<dyn OperationStore>) -> Self {
        Self { store }
    }

    pub(super) async fn get(&self, pass: &OperationPass) -> Result<Option<Operation>, StoreError> {
        self.store.get(pass.name()).await
    }

    pub(super) async fn swap(
        &self,
        pass: &OperationPass,
        next: &Operation,
    ) -> Result<Swapped, StoreError> {
        if next.name != *pass.name() {
            return Err(outside_pass(&next.name));
        }
        self.store.swap(next).await
    }

    pub(super) async fn delete(&self, pass: &OperationPass) -> Result<bool, StoreError> {
        self.store.delete(pass.name()).await
    }

    pub(super) async fn insert(
        &self,
        pass: &ParentPass,
        op: &Operation,
    ) -> Result<Inserted, StoreError> {
        if !pass.covers(&op.name) {
            return Err(outside_pass(&op.name));
        }
        self.store.insert(op).await
    }

    /// One batch of the List that `pass` allows, after `after`.
    pub(super) async fn list(
        &self,
        pass: &ListPass,
        after: Option<ListCursor>,
        limit: u32,
        done: Option<bool>,
        now: SystemTime,
    ) -> Result<Vec<Listed>, StoreError> {
        let query = ListQuery {
            project: pass.parent().project().to_owned(),
            location: pass.single_location(),
            after,
            limit,
            now,
            done,
        };
        let batch = self.store.list(&query).await?;
        Ok(batch
            .into_iter()
            .map(|op| {
                if pass.shows(&op.name) {
                    Listed::Shown(op)
                } else {
                    Listed::Hidden(cursor_of(&op))
                }
            })
            .collect())
    }

    pub(super) async fn due_cancellations(
        &self,
        _server: &ServerPass,
        now: SystemTime,
        limit: u32,
    ) -> Result<Vec<Operation>, StoreError> {
        self.store.due_cancellations(now, limit).await
    }

    pub(super) async fn next_cancel_deadline(
        &self,
        _server: &ServerPass,
    ) -> Result<Option<SystemTime>, StoreError> {
        self.store.next_cancel_deadline().await
    }

    pub(super) async fn purge_expired(
        &self,
        _server: &ServerPass,
        now: SystemTime,
        limit: u32,
    ) -> Result<u64, StoreError> {
        self.store.purge_expired(now, limit).await
    }

    pub(super) async fn page_token_key(
        &self,
        _server: &ServerPass,
    ) -> Result<[u8; 32], StoreError> {
        self.store.page_token_key().await
    }

    pub(super) async fn ping(&self, _server: &ServerPass) -> Result<(), StoreError> {
        self.store.ping().await
    }

    pub(super) async fn database_time(
        &self,
        _server: &ServerPass,
    ) -> Result<Option<SystemTime>, StoreError> {
        self.store.database_time().await
    }

    pub(super) async fn close(&self, _server: &ServerPass) {
        self.store.close().await;
    }
}

/// Where a List page continues after `op`.
pub(super) fn cursor_of(op: &Operation) -> ListCursor {
    ListCursor {
        create_time: op.create_time,
        name: op.name.as_str().to_owned(),
    }
}

/// A write of an operation the pass was not made for: a bug of ours, never
/// something a caller can cause, so it fails loudly as an internal error.
fn outside_pass(name: &crate::domain::OperationName) -> StoreError {
    StoreError::Backend(format!(
        "write of {name} outside the pass it was checked with"
    ))
}
