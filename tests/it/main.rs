//! The single integration test binary: every scenario runs the whole stack.

mod support;

mod cancel;
mod control;
mod operations;
mod list;
mod races;
mod durability;
mod embedded;
