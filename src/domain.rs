//! The operation lifecycle, independent of any protocol or database.
//!
//! Owns: operation names, the states an operation moves through and the rules
//! for each transition (cancel, complete, update, grace expiry, retention),
//! the list filter language and the protocol-free error kinds.
//! Uses nothing else of the crate, and of outside crates only thiserror,
//! serde and base64 (no tokio, tonic, prost, http or sqlx): the service layer
//! feeds it values and the stores persist what it returns.

mod duration;
mod error;
pub mod filter;
mod name;
mod operation;
mod payload;

pub use duration::{DurationError, duration_from_parts, parse_duration};
pub use error::ErrorKind;
pub use filter::{FieldValue, Filter, FilterError, FilterSchema, FilterTarget};
pub use name::{LocationScope, NameError, OperationId, OperationName, ParentName, RequestId};
pub use operation::{
    CancelDecision, CancelState, NewOperation, Operation, Outcome, TransitionError,
};
pub use payload::{ErrorStatus, Payload};
