//! Temporary stand-in so the server compiles; replaced by the sqlite branch.
use super::*;
use crate::domain::OperationName;

pub struct SqliteStore;
impl SqliteStore {
    pub async fn open(_url: &str) -> Result<SqliteStore, StoreError> {
        Err(StoreError::Closed)
    }
}
#[async_trait]
impl OperationStore for SqliteStore {
    async fn insert(&self, _op: &Operation) -> Result<Inserted, StoreError> {
        Err(StoreError::Closed)
    }
    async fn get(&self, _name: &OperationName) -> Result<Option<Operation>, StoreError> {
        Err(StoreError::Closed)
    }
    async fn swap(&self, _next: &Operation) -> Result<Swapped, StoreError> {
        Err(StoreError::Closed)
    }
    async fn delete(&self, _name: &OperationName) -> Result<bool, StoreError> {
        Err(StoreError::Closed)
    }
    async fn list(&self, _query: &ListQuery) -> Result<Vec<Operation>, StoreError> {
        Err(StoreError::Closed)
    }
    async fn due_cancellations(
        &self,
        _now: SystemTime,
        _limit: u32,
    ) -> Result<Vec<Operation>, StoreError> {
        Err(StoreError::Closed)
    }
    async fn next_cancel_deadline(&self) -> Result<Option<SystemTime>, StoreError> {
        Err(StoreError::Closed)
    }
    async fn purge_expired(&self, _now: SystemTime, _limit: u32) -> Result<u64, StoreError> {
        Err(StoreError::Closed)
    }
    async fn page_token_key(&self) -> Result<[u8; 32], StoreError> {
        Err(StoreError::Closed)
    }
    async fn close(&self) {}
}
