//! List page tokens: opaque, URL-safe and authenticated (HMAC-SHA256), bound
//! to the parent and filter they were issued for (docs/behaviour.md §2, AIP-158).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::store::ListCursor;

type HmacSha256 = Hmac<Sha256>;

const VERSION: u8 = 1;
const BINDING_LEN: usize = 16;
const MAC_LEN: usize = 32;
/// Version, create time, binding, then the name, then the MAC.
const HEADER_LEN: usize = 1 + 8 + BINDING_LEN;
/// Names are at most a few hundred bytes; anything longer is not ours.
const MAX_TOKEN_LEN: usize = 2048;

/// Why a token was refused. Each is INVALID_ARGUMENT for the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    Tampered,
    OtherQuery,
}

impl TokenError {
    pub fn message(self) -> &'static str {
        match self {
            TokenError::Malformed => "not a page token issued by this server",
            TokenError::Tampered => "the page token failed verification",
            TokenError::OtherQuery => "the page token was issued for a different parent or filter",
        }
    }
}

pub struct PageTokens {
    key: [u8; 32],
}

impl PageTokens {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    pub fn issue(&self, parent: &str, filter: &str, cursor: &ListCursor) -> String {
        let mut bytes = Vec::with_capacity(HEADER_LEN + cursor.name.len() + MAC_LEN);
        bytes.push(VERSION);
        bytes.extend_from_slice(&micros(cursor.create_time).to_be_bytes());
        bytes.extend_from_slice(&binding(parent, filter));
        bytes.extend_from_slice(cursor.name.as_bytes());
        let mac = self.mac(&bytes);
        bytes.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn verify(
        &self,
        token: &str,
        parent: &str,
        filter: &str,
    ) -> Result<ListCursor, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| TokenError::Malformed)?;
        if bytes.len() < HEADER_LEN + MAC_LEN || bytes[0] != VERSION {
            return Err(TokenError::Malformed);
        }
        let (body, mac) = bytes.split_at(bytes.len() - MAC_LEN);
        let mut verifier = self.hmac();
        verifier.update(body);
        verifier
            .verify_slice(mac)
            .map_err(|_| TokenError::Tampered)?;
        if body[9..HEADER_LEN] != binding(parent, filter) {
            return Err(TokenError::OtherQuery);
        }
        let mut micros_bytes = [0u8; 8];
        micros_bytes.copy_from_slice(&body[1..9]);
        let name = std::str::from_utf8(&body[HEADER_LEN..]).map_err(|_| TokenError::Malformed)?;
        Ok(ListCursor {
            create_time: from_micros(i64::from_be_bytes(micros_bytes)),
            name: name.to_owned(),
        })
    }

    fn hmac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length; 32 bytes cannot fail.
        <HmacSha256 as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!())
    }

    fn mac(&self, body: &[u8]) -> [u8; MAC_LEN] {
        let mut mac = self.hmac();
        mac.update(body);
        mac.finalize().into_bytes().into()
    }
}

fn binding(parent: &str, filter: &str) -> [u8; BINDING_LEN] {
    let mut hasher = Sha256::new();
    hasher.update(parent.as_bytes());
    hasher.update([0]);
    hasher.update(filter.trim().as_bytes());
    let digest = hasher.finalize();
    let mut out = [0u8; BINDING_LEN];
    out.copy_from_slice(&digest[..BINDING_LEN]);
    out
}

fn micros(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_micros()).map_or(i64::MIN, |m| -m),
    }
}

fn from_micros(micros: i64) -> SystemTime {
    let magnitude = Duration::from_micros(micros.unsigned_abs());
    if micros >= 0 {
        UNIX_EPOCH.checked_add(magnitude).unwrap_or(UNIX_EPOCH)
    } else {
        UNIX_EPOCH.checked_sub(magnitude).unwrap_or(UNIX_EPOCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cursor() -> ListCursor {
        ListCursor {
            create_time: UNIX_EPOCH + Duration::from_micros(1_790_000_000_123_456),
            name: "projects/p/locations/l/operations/op-1".into(),
        }
    }

    #[test]
    fn issued_token_verifies_back_to_its_cursor() {
        let tokens = PageTokens::new([7; 32]);
        let token = tokens.issue("projects/p/locations/l", "done = true", &cursor());
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(
            tokens.verify(&token, "projects/p/locations/l", "done = true"),
            Ok(cursor())
        );
    }

    #[test]
    fn token_for_other_parent_or_filter_is_refused() {
        let tokens = PageTokens::new([7; 32]);
        let token = tokens.issue("projects/p/locations/l", "done = true", &cursor());
        assert_eq!(
            tokens.verify(&token, "projects/q/locations/l", "done = true"),
            Err(TokenError::OtherQuery)
        );
        assert_eq!(
            tokens.verify(&token, "projects/p/locations/l", "done = false"),
            Err(TokenError::OtherQuery)
        );
    }

    #[test]
    fn token_from_another_key_or_flipped_bit_is_refused() {
        let token = PageTokens::new([7; 32]).issue("p", "", &cursor());
        assert_eq!(
            PageTokens::new([8; 32]).verify(&token, "p", ""),
            Err(TokenError::Tampered)
        );
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).expect("base64");
        bytes[12] ^= 1;
        let flipped = URL_SAFE_NO_PAD.encode(bytes);
        assert_eq!(
            PageTokens::new([7; 32]).verify(&flipped, "p", ""),
            Err(TokenError::Tampered)
        );
    }

    #[test]
    fn garbage_tokens_are_malformed() {
        let tokens = PageTokens::new([7; 32]);
        for bad in ["", "!!!", "abc", &"A".repeat(5000)] {
            assert_eq!(
                tokens.verify(bad, "p", ""),
                Err(TokenError::Malformed),
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn verify_never_panics(token in ".{0,300}") {
            let _ = PageTokens::new([1; 32]).verify(&token, "p", "");
        }

        #[test]
        fn cursor_times_round_trip(micros_value in any::<i64>()) {
            let time = from_micros(micros_value);
            let tokens = PageTokens::new([3; 32]);
            let c = ListCursor { create_time: time, name: "n".into() };
            let back = tokens.verify(&tokens.issue("p", "", &c), "p", "").expect("verifies");
            prop_assert_eq!(micros(back.create_time), micros(time));
        }
    }
}
