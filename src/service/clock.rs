//! The clock the use cases stamp times and deadlines with. On a store that
//! several replicas share, that is the database's clock: this process's own
//! clock plus the offset last measured against the database. So a replica
//! whose clock is minutes off still ends a cancel grace on time, whichever
//! replica took the cancel and whichever holds the timer, and every replica
//! stamps the same times. On a store only this process writes, the offset
//! stays zero.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use super::Clock;
use super::passes::PassStore;
use crate::auth::ServerPass;
use crate::store::StoreError;

/// Readings per measurement; the one with the shortest round trip is kept,
/// since the database read its clock somewhere within that trip. Never
/// skipped for being slow: on a loaded machine a slow reading (off by half
/// its round trip at most) is still far better than a clock minutes off.
const READINGS: usize = 3;

pub(super) struct SharedClock {
    local: Arc<dyn Clock>,
    /// Database minus local clock, in microseconds (what the stores keep).
    offset_micros: AtomicI64,
}

impl SharedClock {
    pub(super) fn new(local: Arc<dyn Clock>) -> Self {
        Self {
            local,
            offset_micros: AtomicI64::new(0),
        }
    }

    pub(super) fn now(&self) -> SystemTime {
        shifted(self.local.now(), self.offset_micros.load(Ordering::Relaxed))
    }

    /// Measures the offset against the store's clock. `Ok(false)`: the
    /// store has no clock of its own (this process is its only writer).
    pub(super) async fn sync(
        &self,
        store: &PassStore,
        server: &ServerPass,
    ) -> Result<bool, StoreError> {
        let mut best: Option<(Duration, i64)> = None;
        for _ in 0..READINGS {
            let before = self.local.now();
            let Some(database) = store.database_time(server).await? else {
                return Ok(false);
            };
            let after = self.local.now();
            let round_trip = after.duration_since(before).unwrap_or(Duration::ZERO);
            let offset = signed_micros(database, before + round_trip / 2);
            if best.is_none_or(|(shortest, _)| round_trip < shortest) {
                best = Some((round_trip, offset));
            }
        }
        let Some((round_trip, offset)) = best else {
            return Ok(true);
        };
        let previous = self.offset_micros.swap(offset, Ordering::Relaxed);
        if (offset - previous).abs() >= 1_000_000 {
            tracing::info!(
                offset_ms = offset / 1000,
                round_trip_ms = round_trip.as_millis(),
                "this replica's clock differs from the database's; using the database's"
            );
        }
        Ok(true)
    }
}

impl std::fmt::Debug for SharedClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedClock")
            .field("offset_micros", &self.offset_micros.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// `a - b` in microseconds, saturating.
fn signed_micros(a: SystemTime, b: SystemTime) -> i64 {
    match a.duration_since(b) {
        Ok(ahead) => i64::try_from(ahead.as_micros()).unwrap_or(i64::MAX),
        Err(behind) => i64::try_from(behind.duration().as_micros()).map_or(i64::MIN, |m| -m),
    }
}

fn shifted(time: SystemTime, offset_micros: i64) -> SystemTime {
    let by = Duration::from_micros(offset_micros.unsigned_abs());
    let moved = if offset_micros >= 0 {
        time.checked_add(by)
    } else {
        time.checked_sub(by)
    };
    moved.unwrap_or(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_move_time_both_ways() {
        let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let later = base + Duration::from_secs(300);
        assert_eq!(signed_micros(later, base), 300_000_000);
        assert_eq!(signed_micros(base, later), -300_000_000);
        assert_eq!(shifted(base, 300_000_000), later);
        assert_eq!(shifted(later, -300_000_000), base);
    }
}
