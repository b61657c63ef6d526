//! Time in scenarios. Every scenario runs on tokio's paused clock, held
//! still: it moves only when the scenario calls `advance`, to the instant
//! the scenario wants, after the state it waits for is reached.
//!
//! Left alone, a paused clock auto-advances to the next timer whenever the
//! runtime has nothing to poll, and it has nothing to poll while SQLite works
//! on its own threads: a Wait's timeout or the cancel grace would then fire
//! in the middle of a call. A running `spawn_blocking` task stops the
//! auto-advance (tokio documents this under `time::pause`), so a blocking
//! task that only waits to be released holds the clock for the scenario.
//!
//! The server's wall clock (`TestClock`) follows the same paused time, so a
//! deadline it stores and the timer that sleeps until it agree.

use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use longrun::service::Clock;

/// Real time after which a hold lets go by itself: a scenario that is stuck
/// then meets its own timeouts (in paused time) and fails, instead of
/// hanging the test run.
const WATCHDOG: Duration = Duration::from_secs(120);

/// Keeps the paused clock from auto-advancing while it lives.
pub struct ClockHold {
    // Dropping the sender ends the blocking task.
    _release: mpsc::Sender<()>,
}

impl ClockHold {
    #[expect(
        clippy::print_stderr,
        reason = "the one line that says why a stuck scenario's timeouts start to fire"
    )]
    pub fn new() -> Self {
        let (release, released) = mpsc::channel::<()>();
        tokio::task::spawn_blocking(move || {
            if released.recv_timeout(WATCHDOG) == Err(mpsc::RecvTimeoutError::Timeout) {
                eprintln!("the scenario is still running after {WATCHDOG:?}: the clock runs free");
            }
        });
        Self { _release: release }
    }
}

/// The wall clock of the servers in one scenario: the wall time when the
/// scenario began plus the paused time elapsed since.
#[derive(Debug)]
pub struct TestClock {
    wall: SystemTime,
    origin: tokio::time::Instant,
}

impl TestClock {
    pub fn new() -> Self {
        Self {
            wall: SystemTime::now(),
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        self.wall + self.origin.elapsed()
    }
}
