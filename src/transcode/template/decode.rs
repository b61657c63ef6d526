//! Percent-decoding of request path segments, per http.proto: one-segment
//! variables decode fully, multi-segment variables keep reserved characters
//! encoded. Every function refuses malformed escapes and non-UTF-8 results
//! instead of guessing.

use std::borrow::Cow;

use tonic::Code;

use crate::transcode::TranscodeError;

/// The RFC 6570 / RFC 3986 reserved set (gen-delims and sub-delims): what a
/// multi-segment variable leaves encoded, `/` above all.
fn is_reserved(byte: u8) -> bool {
    matches!(
        byte,
        b':' | b'/'
            | b'?'
            | b'#'
            | b'['
            | b']'
            | b'@'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
    )
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes; an escape of a byte for which `keep` says true
/// stays as written. Text without escapes is borrowed: it is already valid
/// UTF-8, and most paths have no escapes at all.
fn decode(text: &str, keep: impl Fn(u8) -> bool) -> Option<Cow<'_, str>> {
    // A byte search (memchr) rather than a char pattern: this runs on every
    // segment of every REST request.
    if !text.as_bytes().contains(&b'%') {
        return Some(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let high = hex(*bytes.get(index + 1)?)?;
            let low = hex(*bytes.get(index + 2)?)?;
            let byte = high << 4 | low;
            if keep(byte) {
                out.extend_from_slice(&bytes[index..index + 3]);
            } else {
                out.push(byte);
            }
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

/// Every escape decoded. `None` for a malformed escape or non-UTF-8 bytes.
pub(super) fn decode_full(text: &str) -> Option<Cow<'_, str>> {
    decode(text, |_| false)
}

/// Escapes of reserved characters kept (`%2F` stays `%2F`, `%2f` stays
/// `%2f`), the rest decoded.
pub(super) fn decode_keep_reserved(text: &str) -> Option<Cow<'_, str>> {
    decode(text, is_reserved)
}

/// A path segment fully decoded, or `None` when the segment is one the
/// router refuses: empty, `.`/`..` (raw or escaped), malformed, not UTF-8.
pub(super) fn decode_segment(segment: &str) -> Option<Cow<'_, str>> {
    let decoded = decode_full(segment)?;
    (!decoded.is_empty() && decoded != "." && decoded != "..").then_some(decoded)
}

/// Refuses a request path that no template may match because it is
/// ambiguous or malformed, so the caller answers 400 `INVALID_PATH` rather
/// than 404: no leading `/`, an empty segment (`//`, a trailing `/`), a
/// `.` or `..` segment (also escaped), a malformed escape (`%G1`, a lone
/// `%`), or an escape that decodes to invalid UTF-8. `/` alone is valid
/// (no segments).
pub fn check_path(path: &str) -> Result<(), TranscodeError> {
    checked_segments(path).map(|_| ())
}

/// [`check_path`], keeping what it read: each segment raw and decoded.
pub(crate) fn checked_segments(path: &str) -> Result<Vec<Segment<'_>>, TranscodeError> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(invalid_path("it does not start with '/'".to_owned()));
    };
    // Room for the usual Google-style path without growing.
    let mut segments = Vec::with_capacity(8);
    if rest.is_empty() {
        return Ok(segments);
    }
    // One pass over the bytes finds the slashes and which segments have
    // escapes; only those are decoded (this runs on every REST request).
    let mut start = 0;
    let mut escaped = false;
    for (end, byte) in rest.bytes().enumerate() {
        match byte {
            b'/' => {
                push_segment(&mut segments, &rest[start..end], escaped)?;
                start = end + 1;
                escaped = false;
            }
            b'%' => escaped = true,
            _ => {}
        }
    }
    push_segment(&mut segments, &rest[start..], escaped)?;
    Ok(segments)
}

/// Checks one segment of a path and appends it, decoded when `escaped`.
fn push_segment<'a>(
    segments: &mut Vec<Segment<'a>>,
    segment: &'a str,
    escaped: bool,
) -> Result<(), TranscodeError> {
    let position = segments.len() + 1;
    let decoded = if escaped {
        decode_full(segment).ok_or_else(|| {
            invalid_path(format!(
                "segment {position} has a malformed percent-encoding or is not UTF-8"
            ))
        })?
    } else {
        Cow::Borrowed(segment)
    };
    if decoded.is_empty() {
        return Err(invalid_path(format!("segment {position} is empty")));
    }
    if decoded.len() <= 2 && (decoded == "." || decoded == "..") {
        return Err(invalid_path(format!("segment {position} is a dot segment")));
    }
    segments.push((segment, decoded));
    Ok(())
}

fn invalid_path(problem: String) -> TranscodeError {
    TranscodeError::new(
        Code::InvalidArgument,
        "INVALID_PATH",
        format!("invalid request path: {problem}"),
    )
}

/// A path segment as sent and fully decoded.
pub(crate) type Segment<'a> = (&'a str, Cow<'a, str>);
