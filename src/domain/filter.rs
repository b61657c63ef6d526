//! The ListOperations filter language (docs/behaviour.md §3): a subset of
//! AIP-160, parsed once per request and evaluated against each operation.
//!
//! Owns: the grammar, field names, how a value is read for a field's type,
//! and the bounds on filter size. Pure: must not import tokio, tonic, prost,
//! http or sqlx. The service layer answers [`FilterSchema`] from its type
//! registry and shows each operation to [`Filter::matches`] as a
//! [`FilterTarget`].
//!
//! # The language
//!
//! A filter is a list of comparisons `field operator value`, combined with
//! `AND`, `OR`, `NOT` and parentheses. An empty filter selects everything.
//!
//! ```text
//! done = false AND metadata.verb = "create"
//! metadata.create_time > "2026-01-01T00:00:00Z" error.code = 1
//! name = "projects/p/locations/l/operations/nightly-*" OR -metadata.target:*
//! ```
//!
//! **Fields.** `done` (true or false), `name` (the full operation name),
//! `error.code` (the `google.rpc.Code` number of a failed operation, e.g. 1
//! for CANCELLED) and `metadata.<field>[.<field>...]`, a field of the
//! metadata message by its proto name, for metadata types the server knows.
//! Any other field is an error.
//!
//! **Operators.** `=`, `!=`, `<`, `<=`, `>`, `>=`, and `:` ("has").
//!
//! **Values.** Quoted text, `"..."` or `'...'`, with the escapes `\\`, `\"`,
//! `\'`, `\*`, `\n`, `\r` and `\t`; or an unquoted word such as `op-1`, `42`,
//! `-2.5`, `true` or `2026-01-01T00:00:00Z`. Quote a value that contains
//! spaces, parentheses, quotes, `=`, `<`, `>` or `!`, or that is the word
//! AND, OR or NOT. A value is read as the type of the field it meets:
//! numbers compare numerically, bools accept `true`/`false` in any case,
//! timestamps take RFC 3339 (`"2026-01-01T09:30:00.5+01:00"`; `Z` or an
//! offset is required), durations take the proto3 form (`"3.5s"`), enums take
//! their name or number, and text compares byte by byte.
//!
//! **Text and wildcards.** On text, `=` is exact, but a `*` at the start or
//! end of the value is a wildcard: `"build-*"`, `"*-eu"`, `"*nightly*"`
//! (`\*` inside quotes is a literal star). `:` on text is "contains".
//!
//! **Has.** `field:*` is true when the field is set: present, and not
//! false, 0 or empty. On a repeated field, `:` (and `=`) are true when an
//! element equals the value, `<`-style comparisons when an element
//! satisfies them, and `!=` when no element equals it.
//!
//! **Missing values.** A comparison on a field the operation does not have
//! is false, and its `NOT` is true: a running operation has no `error.code`,
//! and `metadata.verb` is missing from metadata types without `verb`. A
//! value that cannot be read as the field's type (`metadata.size = big` on a
//! number) is false too; one that can never match a built-in field
//! (`done = 7`, `error.code = abc`) is an error.
//!
//! **Combining.** `NOT x` or `-x` negates; `a AND b` and `a b` both mean
//! both; `a OR b` means either. OR binds tighter than AND, as AIP-160 says:
//! `a AND b OR c` means `a AND (b OR c)`. Keywords are uppercase only.
//!
//! **Limits.** At most 4096 bytes, 64 levels of parentheses and 200
//! comparisons. An invalid filter is rejected with INVALID_ARGUMENT and the
//! 0-based character position of the problem.

mod ast;
mod eval;
mod implied;
mod lexer;
mod literal;
mod parser;
mod time;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::time::{Duration, SystemTime};

use super::ErrorKind;

/// The longest filter text accepted, in bytes (docs/behaviour.md §9 lists
/// every bound on outside input).
pub const MAX_FILTER_BYTES: usize = 4096;
/// The deepest nesting of parentheses accepted; this also bounds recursion
/// in the parser and the evaluator.
pub const MAX_NESTING: usize = 64;
/// The most comparisons one filter may hold: each costs a field lookup per
/// listed operation.
pub const MAX_COMPARISONS: usize = 200;

/// A parsed list filter.
///
/// Displays as canonical filter text, which parses back to an equal filter:
/// two spellings of one filter print the same, which makes it fit for
/// binding page tokens to the filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// `None`: the empty filter, which matches everything.
    root: Option<ast::Expr>,
}

/// Which `metadata.` paths exist in any known metadata type (the service
/// answers from its type registry).
///
/// `path` is the part after `metadata.`: `metadata.stats.count` asks for
/// `["stats"]` and then `["stats", "count"]`, so an error can point at the
/// first segment nobody knows.
pub trait FilterSchema {
    fn knows_metadata_field(&self, path: &[&str]) -> bool;
}

/// Field values of one operation. Paths: `["done"]`, `["name"]`,
/// `["error", "code"]`, `["metadata", ...]`.
///
/// `None` means the field is absent on this operation: a running operation
/// has no error; metadata of another type has no such field.
pub trait FilterTarget {
    fn field(&self, path: &[&str]) -> Option<FieldValue>;
}

/// A field value as the filter sees it: proto scalar and well-known types.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    String(String),
    Timestamp(SystemTime),
    Duration(Duration),
    Enum {
        name: String,
        number: i32,
    },
    /// A repeated field.
    List(Vec<FieldValue>),
}

/// Why a filter was rejected, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter at position {position}: {message}")]
pub struct FilterError {
    /// 0-based char (not byte) offset in the filter text.
    pub position: usize,
    pub message: String,
}

impl FilterError {
    fn at(position: usize, message: impl Into<String>) -> Self {
        Self {
            position,
            message: message.into(),
        }
    }

    /// Always InvalidArgument: a filter is the caller's input.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

impl Filter {
    /// Empty or whitespace-only text is the filter that matches everything.
    pub fn parse(text: &str, schema: &dyn FilterSchema) -> Result<Filter, FilterError> {
        if text.len() > MAX_FILTER_BYTES {
            let fits = text
                .char_indices()
                .take_while(|(start, c)| start + c.len_utf8() <= MAX_FILTER_BYTES)
                .count();
            return Err(FilterError::at(
                fits,
                format!("the filter is longer than {MAX_FILTER_BYTES} bytes"),
            ));
        }
        // Chars, not bytes, so that positions are char offsets and no
        // slicing can land inside a multi-byte character.
        let chars: Vec<char> = text.chars().collect();
        let tokens = lexer::tokenize(&chars)?;
        let root = parser::parse(&tokens, chars.len(), schema)?;
        Ok(Filter { root })
    }

    pub fn matches(&self, target: &dyn FilterTarget) -> bool {
        self.root.as_ref().is_none_or(|root| root.matches(target))
    }

    pub fn is_match_all(&self) -> bool {
        self.root.is_none()
    }

    /// `Some(v)` when only operations with `done == v` can match, so a
    /// List may read from the running (or done) operations alone.
    pub fn implied_done(&self) -> Option<bool> {
        self.root.as_ref().and_then(ast::Expr::implied_done)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.root {
            Some(root) => fmt::Display::fmt(root, f),
            None => Ok(()),
        }
    }
}
