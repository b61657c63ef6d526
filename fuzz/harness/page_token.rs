//! List page tokens. An even first byte: the rest is a token a client sent,
//! verified for a fixed parent and filter; it is refused (every refusal is
//! INVALID_ARGUMENT) or names a cursor that issues and verifies again. An
//! odd one: the rest is a cursor (8 bytes of create time, then name, parent
//! and filter split by NUL), issued and verified back to itself, refused
//! for another query and refused when tampered with.

use std::time::{Duration, UNIX_EPOCH};

use longrun::service::page_token::{PageTokens, TokenError};
use longrun::store::ListCursor;

const PARENT: &str = "projects/p/locations/l";
const FILTER: &str = "done = false";

fn tokens() -> PageTokens {
    PageTokens::new([7; 32])
}

pub fn check(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let Ok(token) = std::str::from_utf8(rest) else {
            return;
        };
        if let Ok(cursor) = tokens().verify(token, PARENT, FILTER) {
            round_trip(&cursor, PARENT, FILTER);
        }
        return;
    }
    let Some((time, rest)) = rest.split_first_chunk::<8>() else {
        return;
    };
    let micros = i64::from_be_bytes(*time);
    let magnitude = Duration::from_micros(micros.unsigned_abs());
    let create_time = if micros >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    };
    let Some(create_time) = create_time else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let mut parts = text.splitn(3, '\0');
    let name = parts.next().unwrap_or_default();
    let parent = parts.next().unwrap_or(PARENT);
    let filter = parts.next().unwrap_or(FILTER);
    let cursor = ListCursor {
        create_time,
        name: name.to_owned(),
    };
    round_trip(&cursor, parent, filter);
}

/// `cursor` issued for `parent` and `filter` verifies back to itself there,
/// and nowhere else, and not once a character of it changed.
fn round_trip(cursor: &ListCursor, parent: &str, filter: &str) {
    let tokens = tokens();
    let token = tokens.issue(parent, filter, cursor);
    match tokens.verify(&token, parent, filter) {
        Ok(back) => {
            assert_eq!(back.name, cursor.name);
            assert_eq!(back.create_time, cursor.create_time);
        }
        // A name too long for a token is refused, as the server's own
        // names never are.
        Err(err) => assert!(
            err == TokenError::Malformed && token.len() > 2048,
            "{cursor:?} issued for {parent:?}, {filter:?} does not verify: {err:?}"
        ),
    }
    let other_filter = format!("{filter} OR done = true");
    assert!(tokens.verify(&token, parent, &other_filter).is_err());
    let mut tampered = token.into_bytes();
    if let Some(last) = tampered.last_mut() {
        *last = if *last == b'A' { b'B' } else { b'A' };
    }
    let tampered = String::from_utf8(tampered).expect("base64 is ASCII");
    assert!(tokens.verify(&tampered, parent, filter).is_err());
}
