//! What the server logs while a test runs, captured on the test's thread:
//! with a current-thread runtime every task of the in-process server runs
//! there, so its log lines land here and nowhere else.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::subscriber::DefaultGuard;

#[derive(Clone, Default)]
pub struct CapturedLogs {
    lines: Arc<Mutex<Vec<u8>>>,
}

impl CapturedLogs {
    /// Starts capturing at debug level; stops when the guard drops.
    pub fn start() -> (Self, DefaultGuard) {
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        let lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&lines).into_owned()
    }

    /// The captured line that mentions `request_id`, failing the test if
    /// there is none.
    pub fn line_with(&self, request_id: &str) -> String {
        let text = self.text();
        text.lines()
            .find(|line| line.contains(request_id))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no log line names request {request_id}:\n{text}"))
    }
}

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
