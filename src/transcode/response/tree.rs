//! An order-keeping JSON tree, parsed with limits. serde_json's `Value` sorts
//! object keys (the crate is built without `preserve_order`) and silently
//! keeps the last of two equal keys; the transcoder wants neither: request
//! bodies with duplicate keys or deep nesting are refused before any field is
//! read, and responses keep the proto's field order when they are rewritten.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A JSON value whose objects keep their keys in the order written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    pub(crate) fn string(text: impl Into<String>) -> Self {
        Self::String(text.into())
    }

    /// The value of `key` when this is an object that has it.
    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Self::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Self::Null | Self::Bool(_) | Self::Number(_) | Self::String(_) | Self::Array(_) => None,
        }
    }

    pub(crate) fn is_empty_object(&self) -> bool {
        matches!(self, Self::Object(entries) if entries.is_empty())
    }

    /// The text, on one line or indented.
    pub(crate) fn to_bytes(&self, pretty: bool) -> Vec<u8> {
        let written = if pretty {
            serde_json::to_vec_pretty(self)
        } else {
            serde_json::to_vec(self)
        };
        // Writing into a Vec cannot fail, and every key is a string.
        written.unwrap_or_default()
    }
}

/// What the parser refuses besides broken syntax.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Arrays and objects nested deeper than this are refused; the outermost
    /// one is at depth 1.
    pub max_depth: usize,
}

/// Why a text is not acceptable JSON. Each carries serde_json's position
/// ("line 1 column 9") for the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// Not JSON: serde_json's message, position included.
    Syntax(String),
    TooDeep {
        limit: usize,
        position: String,
    },
    DuplicateKey {
        key: String,
        position: String,
    },
}

/// Parses one JSON value (and nothing after it) into a tree.
pub(crate) fn parse(text: &str, limits: Limits) -> Result<Json, ParseError> {
    let refusal = Cell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let seed = Seed {
        depth: 0,
        limits,
        refusal: &refusal,
    };
    let parsed = seed
        .deserialize(&mut deserializer)
        .and_then(|tree| deserializer.end().map(|()| tree));
    parsed.map_err(|err| {
        let position = format!("line {} column {}", err.line(), err.column());
        match refusal.take() {
            Some(Refusal::TooDeep) => ParseError::TooDeep {
                limit: limits.max_depth,
                position,
            },
            Some(Refusal::DuplicateKey(key)) => ParseError::DuplicateKey { key, position },
            None => ParseError::Syntax(err.to_string()),
        }
    })
}

/// Set by the visitor right before it fails, so `parse` can tell a refusal
/// from a syntax error without matching on message text.
enum Refusal {
    TooDeep,
    DuplicateKey(String),
}

#[derive(Clone, Copy)]
struct Seed<'a> {
    depth: usize,
    limits: Limits,
    refusal: &'a Cell<Option<Refusal>>,
}

impl Seed<'_> {
    fn nested<E: de::Error>(self) -> Result<Self, E> {
        let depth = self.depth + 1;
        if depth > self.limits.max_depth {
            self.refusal.set(Some(Refusal::TooDeep));
            return Err(E::custom(format!(
                "JSON nested deeper than {}",
                self.limits.max_depth
            )));
        }
        Ok(Self { depth, ..self })
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Json;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(v)
            .map(Json::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        Ok(Json::string(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let inner = self.nested()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let inner = self.nested()?;
        let mut entries = Vec::new();
        let mut keys = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            // Compared after unescaping: `"a"` and `"\u0061"` are one key.
            if !keys.insert(key.clone()) {
                let message = format!("duplicate key {key:?}");
                self.refusal.set(Some(Refusal::DuplicateKey(key)));
                return Err(de::Error::custom(message));
            }
            let value = map.next_value_seed(inner)?;
            entries.push((key, value));
        }
        Ok(Json::Object(entries))
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Bool(v) => serializer.serialize_bool(*v),
            Self::Number(v) => v.serialize(serializer),
            Self::String(v) => serializer.serialize_str(v),
            Self::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits { max_depth: 64 };

    #[test]
    fn parse_keeps_key_order() {
        let tree = parse(
            r#"{"z":1,"a":[true,null,"x"],"m":{"b":2.5,"a":-3}}"#,
            LIMITS,
        )
        .expect("valid JSON");
        assert_eq!(
            String::from_utf8(tree.to_bytes(false)).expect("UTF-8"),
            r#"{"z":1,"a":[true,null,"x"],"m":{"b":2.5,"a":-3}}"#
        );
    }

    #[test]
    fn parse_with_duplicate_keys_is_refused() {
        let cases = [
            (r#"{"a":1,"a":2}"#, "a"),
            (r#"{"a":1,"\u0061":2}"#, "a"),
            (r#"{"x":{"b":[],"c":0,"b":{}}}"#, "b"),
            (r#"[{"k":1},{"k":1,"k":1}]"#, "k"),
        ];
        for (text, key) in cases {
            match parse(text, LIMITS) {
                Err(ParseError::DuplicateKey { key: found, .. }) => {
                    assert_eq!(found, key, "{text}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn parse_same_key_in_sibling_objects_is_accepted() {
        parse(r#"[{"k":1},{"k":1}]"#, LIMITS).expect("siblings may share keys");
        parse(r#"{"k":{"k":{"k":1}}}"#, LIMITS).expect("nested objects may share keys");
    }

    #[test]
    fn parse_depth_limit_counts_arrays_and_objects() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        parse(&deep(64), LIMITS).expect("64 levels are allowed");
        assert!(matches!(
            parse(&deep(65), LIMITS),
            Err(ParseError::TooDeep { limit: 64, .. })
        ));
        let objects = |n: usize| format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
        parse(&objects(64), LIMITS).expect("64 levels are allowed");
        assert!(matches!(
            parse(&objects(65), LIMITS),
            Err(ParseError::TooDeep { .. })
        ));
        // Far beyond serde_json's own recursion limit: still our refusal.
        assert!(matches!(
            parse(&deep(10_000), LIMITS),
            Err(ParseError::TooDeep { .. })
        ));
    }

    #[test]
    fn parse_broken_text_is_a_syntax_error() {
        for text in [
            "",
            "{",
            r#"{"a":}"#,
            "[1,]",
            "{} {}",
            "nul",
            r#""\ud800""#,
            "1e400",
        ] {
            assert!(
                matches!(parse(text, LIMITS), Err(ParseError::Syntax(_))),
                "{text:?}"
            );
        }
    }
}
