//! Changes made by other replicas: a store with a change feed tells which
//! operations changed elsewhere, and this relay wakes the Waits, Watches
//! and grace timer of this replica so they re-read the store.
//!
//! The feed is a hint that may lose changes (see `store::ChangeFeed`), so a
//! slow backstop also tells every waiter to re-read now and then: a lost
//! notification delays a waiter by at most the feed's backstop interval,
//! never strands it.
//! Must not import sqlx or a concrete store.

use tokio::time::MissedTickBehavior;

use super::{Change, Core};
use crate::store::{ChangeFeed, OutsideChange};

pub(super) async fn relay(core: Core, mut feed: ChangeFeed) {
    let shutdown = core.shutdown_token();
    let mut backstop = tokio::time::interval(feed.backstop());
    backstop.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // The first tick is immediate; nothing can have been missed yet.
    backstop.tick().await;
    loop {
        tokio::select! {
            change = feed.next() => match change {
                Some(OutsideChange::Changed { name, cancel_deadline }) => {
                    core.inner.notifier.publish(&name, Change::Unknown);
                    if cancel_deadline {
                        // Another replica may have set an earlier deadline
                        // than the one this replica's timer sleeps until.
                        core.inner.grace_changed.notify_one();
                    }
                }
                Some(OutsideChange::Gap) => wake_everyone(&core),
                // The store is closed: nothing more will come.
                None => return,
            },
            _ = backstop.tick() => core.inner.notifier.publish_all(&Change::Unknown),
            () = shutdown.cancelled() => return,
        }
    }
}

fn wake_everyone(core: &Core) {
    core.inner.notifier.publish_all(&Change::Unknown);
    core.inner.grace_changed.notify_one();
}
