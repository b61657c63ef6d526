//! Changes made by other processes on the same database, as a stream of
//! operation names: what a replica needs to wake its own Waits, Watches and
//! grace timer. Backend-neutral (no sqlx type here); a store that is the
//! only writer of its database has no feed.
//!
//! A feed is a hint, never the truth: it may repeat, reorder or (across a
//! reconnect) lose changes. It says so with `Gap`, and the reader re-reads
//! the store. Must not import tonic, http or service.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::domain::OperationName;

/// One thing another process did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutsideChange {
    /// This operation changed or was deleted. `cancel_deadline` is true when
    /// the write recorded a pending cancel deadline, so grace timers look.
    Changed {
        name: OperationName,
        cancel_deadline: bool,
    },
    /// Changes may have been missed (the feed's connection was lost and
    /// came back): everything watched must be re-read.
    Gap,
}

/// The receiving end of a store's change feed.
pub struct ChangeFeed {
    receiver: mpsc::Receiver<OutsideChange>,
    backstop: Duration,
}

impl ChangeFeed {
    /// A feed and the sender its backend writes to. `backstop`: how often
    /// the reader re-reads everything it watches regardless of the feed,
    /// short when the feed says little, long when only a lost message
    /// needs covering.
    pub(crate) fn channel(
        capacity: usize,
        backstop: Duration,
    ) -> (mpsc::Sender<OutsideChange>, ChangeFeed) {
        let (sender, receiver) = mpsc::channel(capacity);
        (sender, ChangeFeed { receiver, backstop })
    }

    /// How often to re-read everything watched, whatever the feed says.
    pub fn backstop(&self) -> Duration {
        self.backstop
    }

    /// The next change; `None` once the store is closed.
    pub async fn next(&mut self) -> Option<OutsideChange> {
        self.receiver.recv().await
    }
}
