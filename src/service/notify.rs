//! Who must be woken when an operation changes: Waits and Watches subscribe
//! by name before they read the store, so no change between the read and the
//! subscription is missed. In-process; other replicas' changes reach it
//! through `outside.rs` as `Change::Unknown`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;

use crate::domain::{Operation, OperationName};

/// What happened to a watched operation.
#[derive(Clone, Debug)]
pub enum Change {
    Updated(Arc<Operation>),
    Deleted,
    /// Something changed but the new state is not at hand (a lagging
    /// subscriber, or a wakeup from another replica): re-read the store.
    Unknown,
}

/// A subscriber falls this far behind before it is told to re-read.
const CHANNEL_CAPACITY: usize = 16;

#[derive(Default)]
pub struct Notifier {
    channels: Mutex<HashMap<String, broadcast::Sender<Change>>>,
}

impl Notifier {
    pub fn subscribe(self: &Arc<Self>, name: &OperationName) -> Subscription {
        let mut channels = self.lock();
        let sender = channels
            .entry(name.as_str().to_owned())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0);
        Subscription {
            receiver: sender.subscribe(),
            name: name.as_str().to_owned(),
            notifier: Arc::clone(self),
        }
    }

    pub fn publish(&self, name: &OperationName, change: Change) {
        if let Some(sender) = self.lock().get(name.as_str()) {
            // No receivers is fine: nobody is waiting.
            let _ = sender.send(change);
        }
    }

    /// Sends `change` to every live subscriber: after a gap in what other
    /// replicas told us, everyone must re-read.
    pub fn publish_all(&self, change: &Change) {
        for sender in self.lock().values() {
            let _ = sender.send(change.clone());
        }
    }

    /// How many operations have live subscribers (for tests and metrics).
    pub fn watched_count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<Change>>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.channels.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn release(&self, name: &str) {
        let mut channels = self.lock();
        if channels.get(name).is_some_and(|s| s.receiver_count() == 0) {
            channels.remove(name);
        }
    }
}

pub struct Subscription {
    receiver: broadcast::Receiver<Change>,
    name: String,
    notifier: Arc<Notifier>,
}

impl Subscription {
    /// The next change; `Change::Unknown` after falling behind.
    pub async fn next(&mut self) -> Change {
        match self.receiver.recv().await {
            Ok(change) => change,
            Err(broadcast::error::RecvError::Lagged(_)) => Change::Unknown,
            // The sender lives in the map while this receiver exists.
            Err(broadcast::error::RecvError::Closed) => Change::Unknown,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Drop our receiver first so the count below no longer includes it.
        let (_, closed) = broadcast::channel(1);
        drop(std::mem::replace(&mut self.receiver, closed));
        self.notifier.release(&self.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> OperationName {
        OperationName::parse("projects/p/locations/l/operations/x").expect("name")
    }

    #[tokio::test]
    async fn subscriber_sees_published_change() {
        let notifier = Arc::new(Notifier::default());
        let mut sub = notifier.subscribe(&name());
        notifier.publish(&name(), Change::Deleted);
        assert!(matches!(sub.next().await, Change::Deleted));
    }

    #[tokio::test]
    async fn last_subscriber_dropping_frees_the_channel() {
        let notifier = Arc::new(Notifier::default());
        let first = notifier.subscribe(&name());
        let second = notifier.subscribe(&name());
        assert_eq!(notifier.watched_count(), 1);
        drop(first);
        assert_eq!(notifier.watched_count(), 1);
        drop(second);
        assert_eq!(notifier.watched_count(), 0);
    }

    #[tokio::test]
    async fn publish_all_reaches_every_operation() {
        let notifier = Arc::new(Notifier::default());
        let other = OperationName::parse("projects/p/locations/l/operations/y").expect("name");
        let mut first = notifier.subscribe(&name());
        let mut second = notifier.subscribe(&other);
        notifier.publish_all(&Change::Unknown);
        assert!(matches!(first.next().await, Change::Unknown));
        assert!(matches!(second.next().await, Change::Unknown));
    }

    #[tokio::test]
    async fn lagging_subscriber_is_told_to_reread() {
        let notifier = Arc::new(Notifier::default());
        let mut sub = notifier.subscribe(&name());
        for _ in 0..(CHANNEL_CAPACITY + 5) {
            notifier.publish(&name(), Change::Deleted);
        }
        assert!(matches!(sub.next().await, Change::Unknown));
    }
}
