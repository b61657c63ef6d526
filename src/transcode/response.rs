//! Placeholder with the final API; response rendering lands on its own branch.
use prost_reflect::DynamicMessage;
use tonic::Code;

use super::request::RenderOptions;
use super::{Binding, TranscodeError};

pub fn render_response(
    _binding: &Binding,
    _message: &DynamicMessage,
    _options: &RenderOptions,
) -> Result<Vec<u8>, TranscodeError> {
    Err(TranscodeError::new(
        Code::Unimplemented,
        "NOT_YET",
        "not yet",
    ))
}
