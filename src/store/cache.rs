//! A read-through cache in front of a store whose every write passes through
//! this process (one SQLite file per server). Get and the read before each
//! transition are served from memory; List and the timers still scan the
//! store.
//!
//! Coherence rests on three rules, all checked under one lock:
//! - an entry is only replaced by a newer version (swaps bump versions);
//! - a value read from the store is only cached if no insert, delete or purge
//!   happened while it was being read (the `epoch`), so a deleted or purged
//!   operation can never come back from a read that raced with its removal;
//! - the answer of a write (a swap, an insert that found the name taken) is
//!   only cached if no operation was removed while it was being written (the
//!   `removals`): a swap that commits just before a delete of the same name
//!   returns after it, and must not put the deleted operation back.

use std::num::NonZeroUsize;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use async_trait::async_trait;
use lru::LruCache;

use super::{Inserted, ListQuery, OperationStore, StoreError, Swapped};
use crate::domain::{Operation, OperationName};

pub struct CachedStore<S> {
    inner: S,
    state: Mutex<State>,
    /// Held for the store's lifetime (e.g. the lock on the database file).
    _guard: Option<Box<dyn Send + Sync>>,
}

struct State {
    entries: LruCache<String, Operation>,
    epoch: u64,
    /// Deletes, purges and swaps that found the row gone, so far.
    removals: u64,
}

impl<S: OperationStore> CachedStore<S> {
    pub fn new(inner: S, capacity: NonZeroUsize) -> Self {
        Self {
            inner,
            state: Mutex::new(State {
                entries: LruCache::new(capacity),
                epoch: 0,
                removals: 0,
            }),
            _guard: None,
        }
    }

    /// The store behind the cache.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Keeps `guard` alive as long as the store.
    pub fn with_guard(mut self, guard: Box<dyn Send + Sync>) -> Self {
        self._guard = Some(guard);
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the map consistent, even on panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Taken before a write: `remember` compares it with the count after.
    fn removals(&self) -> u64 {
        self.lock().removals
    }

    /// After a write the store confirmed, begun when `removals` was the
    /// count: newer versions replace older ones. When something was removed
    /// meanwhile, this answer may be of an operation deleted since, so the
    /// name is dropped instead and the next read goes to the store.
    fn remember(&self, op: &Operation, removals: u64) {
        let mut state = self.lock();
        if state.removals != removals {
            state.entries.pop(op.name.as_str());
            return;
        }
        let newer = state
            .entries
            .peek(op.name.as_str())
            .is_none_or(|cached| cached.version < op.version);
        if newer {
            state.entries.put(op.name.as_str().to_owned(), op.clone());
        }
    }

    /// After an insert, delete or purge: the name's previous incarnation is
    /// gone, and reads in flight must not cache what they saw.
    fn replace_incarnation(&self, name: &str, op: Option<&Operation>) {
        let mut state = self.lock();
        state.epoch += 1;
        match op {
            Some(op) => {
                state.entries.put(name.to_owned(), op.clone());
            }
            None => {
                state.removals += 1;
                state.entries.pop(name);
            }
        }
    }
}

#[async_trait]
impl<S: OperationStore> OperationStore for CachedStore<S> {
    async fn insert(&self, op: &Operation) -> Result<Inserted, StoreError> {
        let removals = self.removals();
        let inserted = self.inner.insert(op).await?;
        match &inserted {
            Inserted::Created(created) => {
                self.replace_incarnation(created.name.as_str(), Some(created))
            }
            Inserted::Conflict(existing) => self.remember(existing, removals),
        }
        Ok(inserted)
    }

    /// Nothing to cache: an import only adds operations nobody has read.
    async fn import(&self, ops: &[Operation]) -> Result<u64, StoreError> {
        self.inner.import(ops).await
    }

    async fn get(&self, name: &OperationName) -> Result<Option<Operation>, StoreError> {
        let epoch = {
            let mut state = self.lock();
            if let Some(cached) = state.entries.get(name.as_str()) {
                return Ok(Some(cached.clone()));
            }
            state.epoch
        };
        let loaded = self.inner.get(name).await?;
        if let Some(op) = &loaded {
            let mut state = self.lock();
            let newer = state
                .entries
                .peek(name.as_str())
                .is_none_or(|cached| cached.version < op.version);
            if state.epoch == epoch && newer {
                state.entries.put(name.as_str().to_owned(), op.clone());
            }
        }
        Ok(loaded)
    }

    async fn swap(&self, next: &Operation) -> Result<Swapped, StoreError> {
        let removals = self.removals();
        let swapped = self.inner.swap(next).await?;
        match &swapped {
            Swapped::Written(op) | Swapped::Stale(Some(op)) => self.remember(op, removals),
            Swapped::Stale(None) => self.replace_incarnation(next.name.as_str(), None),
        }
        Ok(swapped)
    }

    async fn delete(&self, name: &OperationName) -> Result<bool, StoreError> {
        let result = self.inner.delete(name).await;
        // Forget it even on error: the delete may have committed.
        self.replace_incarnation(name.as_str(), None);
        result
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<Operation>, StoreError> {
        self.inner.list(query).await
    }

    async fn due_cancellations(
        &self,
        now: SystemTime,
        limit: u32,
    ) -> Result<Vec<Operation>, StoreError> {
        self.inner.due_cancellations(now, limit).await
    }

    async fn next_cancel_deadline(&self) -> Result<Option<SystemTime>, StoreError> {
        self.inner.next_cancel_deadline().await
    }

    async fn purge_expired(&self, now: SystemTime, limit: u32) -> Result<u64, StoreError> {
        let purged = self.inner.purge_expired(now, limit).await;
        let mut state = self.lock();
        state.epoch += 1;
        state.removals += 1;
        // Purged rows were expired, which callers already treat as gone;
        // dropping them from memory is only about space.
        let expired: Vec<String> = state
            .entries
            .iter()
            .filter(|(_, op)| op.is_expired(now))
            .map(|(name, _)| name.clone())
            .collect();
        for name in expired {
            state.entries.pop(&name);
        }
        purged
    }

    async fn page_token_key(&self) -> Result<[u8; 32], StoreError> {
        self.inner.page_token_key().await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    async fn database_time(&self) -> Result<Option<SystemTime>, StoreError> {
        self.inner.database_time().await
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}
