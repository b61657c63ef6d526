//! Watch over REST: one JSON array whose elements arrive as the events
//! happen (docs/behaviour.md §6, Streaming), read element by element.

use async_trait::async_trait;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use longrun::pb::control as ctl;
use serde_json::Value;

use super::json::{envelope, from_json};
use crate::scenarios::client::{Events, Failure};

pub struct RestEvents {
    body: Incoming,
    array: ArrayElements,
}

impl RestEvents {
    pub fn new(body: Incoming) -> Self {
        Self {
            body,
            array: ArrayElements::default(),
        }
    }
}

#[async_trait]
impl Events for RestEvents {
    async fn next(&mut self) -> Option<Result<ctl::OperationEvent, Failure>> {
        loop {
            if let Some(element) = self.array.next_element() {
                let json: Value = serde_json::from_slice(&element).expect("an element is JSON");
                // An error after the first event is the array's last element.
                if json.get("error").is_some() {
                    return Some(Err(envelope(None, &json, None)));
                }
                return Some(Ok(from_json(&json, "longrun.v1.OperationEvent")));
            }
            if self.array.closed {
                return None;
            }
            let frame = self.body.frame().await;
            match frame {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.array.push(&data);
                    }
                }
                Some(Err(e)) => panic!("the watch stream broke: {e}"),
                None => panic!(
                    "the watch stream ended inside its array: {}",
                    String::from_utf8_lossy(&self.array.buffer)
                ),
            }
        }
    }
}

/// Splits a JSON array of objects into its elements as its bytes arrive.
#[derive(Default)]
struct ArrayElements {
    buffer: Vec<u8>,
    scanned: usize,
    depth: u32,
    in_string: bool,
    escaped: bool,
    element_start: usize,
    closed: bool,
}

impl ArrayElements {
    fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    fn next_element(&mut self) -> Option<Vec<u8>> {
        while self.scanned < self.buffer.len() && !self.closed {
            let at = self.scanned;
            let byte = self.buffer[at];
            self.scanned += 1;
            if self.in_string {
                match (self.escaped, byte) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    (false, _) => {}
                }
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'[' | b'{' => {
                    if self.depth == 1 {
                        self.element_start = at;
                    }
                    self.depth += 1;
                }
                b']' | b'}' => {
                    self.depth -= 1;
                    match self.depth {
                        0 => self.closed = true,
                        1 => return Some(self.buffer[self.element_start..=at].to_vec()),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        None
    }
}
