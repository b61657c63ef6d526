//! Remembered JSON renderings of small unary responses, keyed by the
//! response's protobuf bytes.
//!
//! Clients of long-running operations poll: the same GetOperation of the
//! same unchanged operation, again and again. Decoding the answer into a
//! dynamic message and printing it as proto3 JSON is most of what REST adds
//! to such a call, and its result depends only on the route (its
//! `response_body`), the print options and the bytes, because the descriptor
//! pool never changes while a gateway lives. So the whole byte string is the
//! key, compared in full on a hit: a changed operation has other bytes and
//! can never be served stale, and no hash collision can hand one caller
//! another's answer.

use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use lru::LruCache;

use super::TranscodeError;
use super::response::RenderOptions;

/// Answers larger than this are rendered every time: big List pages rarely
/// repeat, and a few of them would push out many polled operations.
pub const MAX_CACHED_MESSAGE_BYTES: usize = 8 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    /// The route's position in the router, which fixes method and
    /// `response_body`.
    route: usize,
    options: RenderOptions,
    message: Bytes,
}

pub struct RenderCache {
    entries: Mutex<LruCache<Key, Bytes>>,
}

impl RenderCache {
    pub fn new(capacity: NonZeroUsize) -> Self {
        Self {
            entries: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// The JSON for `message` answered on `route`: remembered, or made by
    /// `render` and remembered when small. Failures are never remembered,
    /// so their messages stay current.
    pub fn get_or_render(
        &self,
        route: usize,
        options: RenderOptions,
        message: &Bytes,
        render: impl FnOnce() -> Result<Vec<u8>, TranscodeError>,
    ) -> Result<Bytes, TranscodeError> {
        if message.len() > MAX_CACHED_MESSAGE_BYTES {
            return render().map(Bytes::from);
        }
        let mut key = Key {
            route,
            options,
            message: message.clone(),
        };
        if let Some(json) = self.lock().get(&key) {
            return Ok(json.clone());
        }
        let json = Bytes::from(render()?);
        // A copy to keep, so the cache never pins the larger buffer the
        // message was cut from.
        key.message = Bytes::copy_from_slice(message);
        self.lock().put(key, json.clone());
        Ok(json)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<Key, Bytes>> {
        // Every change to the map is one call that cannot leave it half done.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use tonic::Code;

    use super::*;

    fn cache(capacity: usize) -> RenderCache {
        RenderCache::new(NonZeroUsize::new(capacity).expect("capacity is not zero"))
    }

    /// Renders through `cache` and counts how often `render` really ran.
    fn render_counted(
        cache: &RenderCache,
        route: usize,
        options: RenderOptions,
        message: &[u8],
        calls: &Cell<u32>,
    ) -> Bytes {
        let message = Bytes::copy_from_slice(message);
        cache
            .get_or_render(route, options, &message, || {
                calls.set(calls.get() + 1);
                Ok(format!("{route}:{options:?}:{}", message.len()).into_bytes())
            })
            .expect("renders")
    }

    #[test]
    fn same_route_options_and_bytes_render_once() {
        let cache = cache(8);
        let calls = Cell::new(0);
        let first = render_counted(&cache, 0, RenderOptions::default(), b"abc", &calls);
        let second = render_counted(&cache, 0, RenderOptions::default(), b"abc", &calls);
        assert_eq!(first, second);
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn different_bytes_route_or_options_render_again() {
        let cache = cache(8);
        let calls = Cell::new(0);
        let pretty = RenderOptions {
            pretty: true,
            ..RenderOptions::default()
        };
        render_counted(&cache, 0, RenderOptions::default(), b"abc", &calls);
        render_counted(&cache, 0, RenderOptions::default(), b"abd", &calls);
        render_counted(&cache, 1, RenderOptions::default(), b"abc", &calls);
        render_counted(&cache, 0, pretty, b"abc", &calls);
        assert_eq!(calls.get(), 4);
    }

    #[test]
    fn large_message_is_never_remembered() {
        let cache = cache(8);
        let calls = Cell::new(0);
        let large = vec![7u8; MAX_CACHED_MESSAGE_BYTES + 1];
        render_counted(&cache, 0, RenderOptions::default(), &large, &calls);
        render_counted(&cache, 0, RenderOptions::default(), &large, &calls);
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn failure_is_never_remembered() {
        let cache = cache(8);
        let message = Bytes::from_static(b"abc");
        let failed = cache.get_or_render(0, RenderOptions::default(), &message, || {
            Err(TranscodeError::new(
                Code::Unimplemented,
                "UNREGISTERED_TYPE",
                "no",
            ))
        });
        assert!(failed.is_err());
        let rendered = cache
            .get_or_render(0, RenderOptions::default(), &message, || Ok(b"{}".to_vec()))
            .expect("renders");
        assert_eq!(rendered.as_ref(), b"{}");
    }

    #[test]
    fn capacity_bounds_entries_least_recently_used_first() {
        let cache = cache(2);
        let calls = Cell::new(0);
        render_counted(&cache, 0, RenderOptions::default(), b"a", &calls);
        render_counted(&cache, 0, RenderOptions::default(), b"b", &calls);
        render_counted(&cache, 0, RenderOptions::default(), b"a", &calls);
        render_counted(&cache, 0, RenderOptions::default(), b"c", &calls);
        assert_eq!(calls.get(), 3, "a was used last, so b went");
        render_counted(&cache, 0, RenderOptions::default(), b"a", &calls);
        assert_eq!(calls.get(), 3);
        render_counted(&cache, 0, RenderOptions::default(), b"b", &calls);
        assert_eq!(calls.get(), 4);
    }
}
