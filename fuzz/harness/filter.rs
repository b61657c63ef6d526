//! The ListOperations filter language, against the real schema (the
//! metadata fields of every registered type, `service::MetadataKeeper`).
//! Any text parses or is INVALID_ARGUMENT with a position inside the text; a
//! parsed filter prints to text that parses back to it (or crosses a bound
//! by its quoting) and evaluates on operations of every field type.

use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use longrun::domain::{ErrorKind, FieldValue, Filter, FilterTarget};
use longrun::service::MetadataKeeper;

use super::fixtures::registry;

fn schema() -> &'static MetadataKeeper {
    static SCHEMA: OnceLock<MetadataKeeper> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        MetadataKeeper::new(registry().clone(), None).expect("the schema of the registry")
    })
}

/// An operation whose fields take every value type, chosen by the field's
/// path, so one filter meets bools, numbers, text, times, enums and lists.
struct Target(u8);

impl FilterTarget for Target {
    fn field(&self, path: &[&str]) -> Option<FieldValue> {
        let seed = path
            .iter()
            .flat_map(|segment| segment.bytes())
            .fold(self.0, |acc, byte| acc.wrapping_mul(31).wrapping_add(byte));
        Some(match (path, seed % 11) {
            (["done"], _) => FieldValue::Bool(self.0.is_multiple_of(2)),
            (["name"], _) => FieldValue::String("projects/p/locations/l/operations/op-1".into()),
            (["error", "code"], _) => FieldValue::Int(i64::from(self.0 % 17)),
            (_, 0) => return None,
            (_, 1) => FieldValue::Bool(true),
            (_, 2) => FieldValue::Int(i64::MIN),
            (_, 3) => FieldValue::UInt(u64::MAX),
            (_, 4) => FieldValue::Float(f64::NAN),
            (_, 5) => FieldValue::Float(-2.5),
            (_, 6) => FieldValue::String("build-*-eu".into()),
            (_, 7) => FieldValue::Timestamp(UNIX_EPOCH + Duration::from_secs(1_790_000_000)),
            (_, 8) => FieldValue::Duration(Duration::new(3, 500_000_000)),
            (_, 9) => FieldValue::Enum {
                name: "RUNNING".into(),
                number: 2,
            },
            _ => FieldValue::List(vec![
                FieldValue::String("a".into()),
                FieldValue::Int(42),
                FieldValue::List(Vec::new()),
            ]),
        })
    }
}

pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Filter::parse(text, schema()) {
        Err(err) => {
            assert_eq!(err.kind(), ErrorKind::InvalidArgument);
            assert!(err.position <= text.chars().count(), "{text:?}: {err}");
            assert!(!err.message.is_empty(), "{text:?}");
        }
        Ok(filter) => {
            for seed in [0, 1, 2, 7] {
                let _ = filter.matches(&Target(seed));
            }
            let _ = filter.implied_done();
            let printed = filter.to_string();
            match Filter::parse(&printed, schema()) {
                Ok(again) => assert_eq!(again, filter, "{text:?} prints as {printed:?}"),
                Err(err) => assert!(
                    err.message.contains("more than") || err.message.contains("longer than"),
                    "{text:?} prints as {printed:?}, which does not parse: {err}"
                ),
            }
        }
    }
}
