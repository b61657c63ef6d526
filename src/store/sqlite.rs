//! SQLite backend: lands in its own change.
