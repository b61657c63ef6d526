//! Request messages as bytes, and gRPC message frames (a compression flag,
//! a 4-byte length, the message): a streaming call's request is sent as
//! one, and its answers are read as them. A unary call's message travels
//! bare (see `UnaryCall`).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use prost::Message;
use prost_reflect::DynamicMessage;

use crate::transcode::PathBinding;
use crate::transcode::request::PathOnlyPlan;

/// A gRPC message frame's header: a compression flag and a 4-byte length.
pub(super) const FRAME_HEADER: usize = 5;

/// `message` encoded. One pass into a buffer of about the right size
/// (measuring first would walk the dynamic message twice).
pub(super) fn encode_message(message: &DynamicMessage, size_hint: usize) -> Bytes {
    let mut encoded = BytesMut::with_capacity(size_hint);
    message.encode_raw(&mut encoded);
    encoded.freeze()
}

/// A path-only request encoded, or `None` for the general builder.
pub(super) fn encode_path_only(plan: &PathOnlyPlan, path: &[PathBinding]) -> Option<Bytes> {
    let size: usize = path.iter().map(|bound| bound.value.len() + 8).sum();
    let mut encoded = BytesMut::with_capacity(size);
    plan.encode(path, &mut encoded).then(|| encoded.freeze())
}

/// `message` as one uncompressed gRPC message frame.
pub(super) fn frame(message: &[u8]) -> Bytes {
    let length = u32::try_from(message.len()).unwrap_or(u32::MAX);
    let mut framed = BytesMut::with_capacity(FRAME_HEADER + message.len());
    framed.put_u8(0);
    framed.put_u32(length);
    framed.extend_from_slice(message);
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
    fn frame_is_a_flag_a_length_and_the_message() {
        assert_eq!(&frame(b"ab")[..], &[0, 0, 0, 0, 2, b'a', b'b']);
        let mut buffer = BytesMut::from(&frame(b"xyz")[..]);
        assert_eq!(next_message(&mut buffer), Some(Bytes::from_static(b"xyz")));
    }
}
