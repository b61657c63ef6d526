//! gRPC message frames (a compression flag, a 4-byte length, the message):
//! the in-process request is sent as one, and answers are read as them.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use prost::Message;
use prost_reflect::DynamicMessage;

use crate::transcode::PathBinding;
use crate::transcode::request::PathOnlyPlan;

/// A gRPC message frame's header: a compression flag and a 4-byte length.
pub(super) const FRAME_HEADER: usize = 5;

/// `message` as one gRPC message frame. One pass: encoded behind a
/// placeholder header whose length is filled in after (measuring first
/// would walk the dynamic message twice).
pub(super) fn frame(message: &DynamicMessage, size_hint: usize) -> Bytes {
    let mut framed = BytesMut::with_capacity(FRAME_HEADER + size_hint);
    framed.put_bytes(0, FRAME_HEADER);
    message.encode_raw(&mut framed);
    seal_frame(framed)
}

/// A path-only request as one frame, or `None` for the general builder.
pub(super) fn frame_path_only(plan: &PathOnlyPlan, path: &[PathBinding]) -> Option<Bytes> {
    let size: usize = path.iter().map(|bound| bound.value.len() + 8).sum();
    let mut framed = BytesMut::with_capacity(FRAME_HEADER + size);
    framed.put_bytes(0, FRAME_HEADER);
    plan.encode(path, &mut framed).then(|| seal_frame(framed))
}

/// Writes the message length into a frame that starts with a placeholder
/// header.
fn seal_frame(mut framed: BytesMut) -> Bytes {
    let length = u32::try_from(framed.len() - FRAME_HEADER).unwrap_or(u32::MAX);
    framed[1..FRAME_HEADER].copy_from_slice(&length.to_be_bytes());
    framed.freeze()
}

/// Takes one whole message off the front of `buffer`, if one has fully
/// arrived.
pub(super) fn next_message(buffer: &mut BytesMut) -> Option<Bytes> {
    if buffer.len() < FRAME_HEADER {
        return None;
    }
    let length = u32::from_be_bytes([buffer[1], buffer[2], buffer[3], buffer[4]]) as usize;
    if buffer.len() < FRAME_HEADER + length {
        return None;
    }
    buffer.advance(FRAME_HEADER);
    Some(buffer.split_to(length).freeze())
}

/// The one uncompressed message of a unary answer's frame, or why not.
pub(super) fn only_message(mut bytes: Bytes) -> Result<Bytes, &'static str> {
    if bytes.len() < FRAME_HEADER || bytes[0] != 0 {
        return Err("the response was not one uncompressed message");
    }
    bytes.advance(1);
    let length = bytes.get_u32() as usize;
    if bytes.len() < length {
        return Err("the response message was cut short");
    }
    Ok(bytes.split_to(length))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_message_waits_for_a_whole_frame_then_takes_it() {
        let mut buffer = BytesMut::from(&[0u8, 0, 0, 0, 3, b'a', b'b'][..]);
        assert_eq!(next_message(&mut buffer), None, "one byte is missing");
        buffer.extend_from_slice(b"c\0");
        assert_eq!(next_message(&mut buffer), Some(Bytes::from_static(b"abc")));
        assert_eq!(&buffer[..], b"\0", "the next frame's start stays");
    }

    #[test]
    fn only_message_refuses_compressed_or_short_frames() {
        let whole = Bytes::from_static(&[0, 0, 0, 0, 2, 7, 8]);
        assert_eq!(only_message(whole), Ok(Bytes::from_static(&[7, 8])));
        assert!(only_message(Bytes::from_static(&[1, 0, 0, 0, 0])).is_err());
        assert!(only_message(Bytes::from_static(&[0, 0, 0, 0, 9, 1])).is_err());
        assert!(only_message(Bytes::from_static(&[0, 0])).is_err());
    }
}
