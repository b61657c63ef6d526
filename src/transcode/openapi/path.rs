//! A path template as an OpenAPI path: each variable becomes one path
//! parameter named by its field path, whatever segments it spans
//! (`/v1/{name=projects/*/operations/*}:cancel` -> `/v1/{name}:cancel`), and
//! the segments it must match become the parameter's pattern.
//!
//! Works from the template's canonical text ([`PathTemplate`]'s `Display`):
//! literals cannot hold `/`, `:`, `{`, `}`, `=` or `*`, so that text splits
//! without ambiguity, and the template module keeps its internals private.

use super::super::template::PathTemplate;

/// A template as OpenAPI spells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct OpenApiPath {
    /// The template text before the first variable name, in pieces: the
    /// path is `pieces[0] {var0} pieces[1] {var1} ... pieces[n]`.
    pieces: Vec<String>,
    pub(super) variables: Vec<PathVariable>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PathVariable {
    /// The field path as written in the template (`book.name`).
    pub(super) field_path: Vec<String>,
    /// The segments after `=` (`projects/*/operations/*`); `None` for a
    /// plain `{name}`, which is one segment.
    pub(super) segments: Option<String>,
    /// The name of the OpenAPI path parameter: the dotted field path, with a
    /// suffix when another binding took the same path and method.
    pub(super) parameter: String,
}

impl OpenApiPath {
    pub(super) fn new(template: &PathTemplate) -> Self {
        let text = template.to_string();
        let mut pieces = Vec::new();
        let mut variables = Vec::new();
        let mut current = String::new();
        let mut rest = text.as_str();
        while let Some((before, after)) = rest.split_once('{') {
            current.push_str(before);
            // Display always closes a variable; a missing `}` cannot happen.
            let (inner, after) = after.split_once('}').unwrap_or((after, ""));
            let (field, segments) = match inner.split_once('=') {
                Some((field, segments)) => (field, Some(segments.to_owned())),
                None => (inner, None),
            };
            pieces.push(std::mem::take(&mut current));
            variables.push(PathVariable {
                field_path: field.split('.').map(str::to_owned).collect(),
                segments,
                parameter: field.to_owned(),
            });
            rest = after;
        }
        current.push_str(rest);
        pieces.push(current);
        Self { pieces, variables }
    }

    /// The key of `paths`: `/v1/{name}:cancel`.
    pub(super) fn key(&self) -> String {
        let mut key = self.pieces[0].clone();
        for (variable, piece) in self.variables.iter().zip(&self.pieces[1..]) {
            key.push('{');
            key.push_str(&variable.parameter);
            key.push('}');
            key.push_str(piece);
        }
        key
    }
}

impl PathVariable {
    pub(super) fn dotted(&self) -> String {
        self.field_path.join(".")
    }

    /// An ECMA-262 regular expression for the value of the variable, as a
    /// client passes it (decoded): `*` is one segment, `**` any number.
    /// Anchored, since OpenAPI patterns are not.
    pub(super) fn pattern(&self) -> Option<String> {
        let segments: Vec<&str> = self.segments.as_deref()?.split('/').collect();
        let mut pattern = String::from("^");
        for (index, segment) in segments.iter().enumerate() {
            let slash = if index == 0 { "" } else { "/" };
            match *segment {
                // `**` is always last; it may match no segment at all.
                "**" if index == 0 => pattern.push_str(".*"),
                "**" => pattern.push_str("(?:/.*)?"),
                "*" => {
                    pattern.push_str(slash);
                    pattern.push_str("[^/]+");
                }
                literal => {
                    pattern.push_str(slash);
                    pattern.push_str(&escape_regex(&percent_decode(literal)));
                }
            }
        }
        pattern.push('$');
        Some(pattern)
    }
}

/// Literals may be percent-encoded in a template; a parameter value is not
/// (the client encodes it), so the pattern compares decoded text. The
/// template parser has already refused malformed escapes.
fn percent_decode(literal: &str) -> String {
    let bytes = literal.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| literal.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn escape_regex(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
