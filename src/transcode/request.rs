//! Placeholder with the final API; request building lands on its own branch.
use prost_reflect::DynamicMessage;
use tonic::Code;

use super::{Binding, PathBinding, TranscodeError};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenderOptions {
    pub enum_as_number: bool,
    pub pretty: bool,
}

pub fn build_request(
    binding: &Binding,
    _path: &[PathBinding],
    _query: Option<&str>,
    _body: &[u8],
    _content_type: Option<&str>,
) -> Result<(DynamicMessage, RenderOptions), TranscodeError> {
    let _ = binding;
    Err(TranscodeError::new(
        Code::Unimplemented,
        "NOT_YET",
        "not yet",
    ))
}
