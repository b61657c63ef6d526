//! The domain's views of `google.protobuf.Any` (`Payload`, opaque bytes with
//! their type) and `google.rpc.Status` (`ErrorStatus`), serialisable for the
//! stores; the core keeps them and never looks inside.

use serde::{Deserialize, Serialize};

/// An opaque typed message (the domain's view of `google.protobuf.Any`): the
/// core stores and returns it but never looks inside.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub type_url: String,
    #[serde(with = "base64_bytes")]
    pub value: Vec<u8>,
}

impl Payload {
    /// The fully qualified message name: what follows the last `/` of the type URL.
    pub fn type_name(&self) -> &str {
        self.type_url
            .rsplit_once('/')
            .map_or(self.type_url.as_str(), |(_, name)| name)
    }
}

/// How failed work ended (the domain's view of `google.rpc.Status`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorStatus {
    /// A `google.rpc.Code` value; never 0 for a failure.
    pub code: i32,
    pub message: String,
    #[serde(default)]
    pub details: Vec<Payload>,
}

impl ErrorStatus {
    /// `google.rpc.Code.CANCELLED`: the code of an operation that a cancel ended.
    pub const CANCELLED: i32 = 1;

    pub fn cancelled(message: impl Into<String>) -> Self {
        Self {
            code: Self::CANCELLED,
            message: message.into(),
            details: Vec::new(),
        }
    }
}

mod base64_bytes {
    use base64::{Engine, engine::general_purpose::STANDARD};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_name_strips_the_type_url_prefix() {
        let payload = Payload {
            type_url: "type.googleapis.com/longrun.v1.OperationMetadata".into(),
            value: vec![],
        };
        assert_eq!(payload.type_name(), "longrun.v1.OperationMetadata");
    }

    #[test]
    fn error_status_round_trips_through_json_with_binary_details() {
        let status = ErrorStatus {
            code: 5,
            message: "gone".into(),
            details: vec![Payload {
                type_url: "t/x".into(),
                value: vec![0, 255, 7],
            }],
        };
        let text = serde_json::to_string(&status).expect("serializes");
        let back: ErrorStatus = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, status);
    }
}
