//! `google.api.http` path templates: parsing the grammar of
//! google/api/http.proto, matching raw request paths, and binding variables.
//!
//! ```text
//! Template  = "/" Segments [ Verb ] ;
//! Segments  = Segment { "/" Segment } ;
//! Segment   = "*" | "**" | LITERAL | Variable ;
//! Variable  = "{" FieldPath [ "=" Segments ] "}" ;
//! FieldPath = IDENT { "." IDENT } ;
//! Verb      = ":" LITERAL ;
//! ```
//!
//! Decoding follows http.proto: a variable whose template is one segment
//! (`{name}`, `{name=*}`) is fully percent-decoded; a variable of several
//! segments or with `**` keeps the RFC 6570 reserved characters encoded
//! (`%2F` above all), so a value cannot grow segments that the client
//! escaped. A raw path is never decoded twice and never normalized: an empty
//! segment, `.`/`..` or a malformed escape is refused (see [`check_path`]).
//!
//! A template only knows its own verb. The rule "a registered verb is always
//! a verb" needs the set of every route's verbs, so it lives in the router.

mod decode;
mod parse;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

pub use decode::check_path;
pub(crate) use decode::checked_segments;
use decode::{decode_full, decode_keep_reserved};
pub use parse::{TemplateError, TemplateProblem};

use super::PathBinding;

/// A parsed path template. Equality is structural: `{name}` equals
/// `{name=*}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathTemplate {
    segments: Vec<Segment>,
    variables: Vec<Variable>,
    verb: Option<Literal>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(Literal),
    /// `*`: exactly one segment.
    Wildcard,
    /// `**`: zero or more segments; only ever the last segment.
    DoubleWildcard,
}

/// A literal as written (percent-encoding allowed) and decoded, which is
/// what a decoded path segment is compared with.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Literal {
    raw: String,
    decoded: String,
}

/// A variable covers the template segments `start..end`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Variable {
    field_path: Arc<[String]>,
    start: usize,
    end: usize,
}

/// How specific a template is; the greater value wins when several
/// templates match one path. Fields compare in order:
/// 1. more literal segments;
/// 2. a fixed number of segments (no `**`) before a `**` tail;
/// 3. more segments before the `**` tail;
/// 4. left to right, the first segment that differs: literal before `*`
///    before `**`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Specificity {
    literals: usize,
    fixed_length: bool,
    fixed_segments: usize,
    shape: Vec<u8>,
}

impl PathTemplate {
    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        parse::parse(template)
    }

    /// Matches a raw request path (percent-encoded, without the query,
    /// including any `:verb` suffix) and returns the decoded variables, in
    /// template order.
    pub fn matches(&self, path: &str) -> Option<Vec<PathBinding>> {
        self.matches_split(&SplitPath::new(path, self.verb.is_some())?)
    }

    /// [`matches`](Self::matches) on a path split once for every candidate
    /// template, which is how the router calls it.
    pub(crate) fn matches_split(&self, path: &SplitPath<'_>) -> Option<Vec<PathBinding>> {
        if self.verb.as_ref().map(|verb| verb.decoded.as_str()) != path.verb.as_deref() {
            return None;
        }
        let segments = &path.segments;
        let tail = matches!(self.segments.last(), Some(Segment::DoubleWildcard));
        let fixed = self.segments.len() - usize::from(tail);
        if segments.len() < fixed || (!tail && segments.len() != fixed) {
            return None;
        }
        for (segment, (_, value)) in self.segments[..fixed].iter().zip(segments) {
            match segment {
                Segment::Literal(literal) if literal.decoded != *value => return None,
                Segment::Literal(_) | Segment::Wildcard | Segment::DoubleWildcard => {}
            }
        }
        self.variables
            .iter()
            .map(|variable| {
                // A variable that ends at the `**` tail takes every remaining
                // path segment; the others map one to one.
                let end = if variable.end == self.segments.len() && tail {
                    segments.len()
                } else {
                    variable.end
                };
                let value = if self.is_multi_segment(variable) {
                    decode_keep_reserved(path.raw_span(variable.start, end))?.into_owned()
                } else {
                    segments[variable.start].1.clone().into_owned()
                };
                Some(PathBinding {
                    field_path: Arc::clone(&variable.field_path),
                    value,
                })
            })
            .collect()
    }

    pub fn verb(&self) -> Option<&str> {
        self.verb.as_ref().map(|verb| verb.decoded.as_str())
    }

    /// The field paths of the variables, in template order.
    pub fn variables(&self) -> Vec<Vec<String>> {
        self.variables
            .iter()
            .map(|variable| variable.field_path.to_vec())
            .collect()
    }

    /// The raw literal segments before the first wildcard or variable
    /// (`/v1/operations` for `/v1/operations/{name}`), as written.
    pub fn literal_prefix(&self) -> String {
        let mut prefix = String::new();
        for (index, segment) in self.segments.iter().enumerate() {
            let in_variable = self
                .variables
                .iter()
                .any(|v| (v.start..v.end).contains(&index));
            match segment {
                Segment::Literal(literal) if !in_variable => {
                    prefix.push('/');
                    prefix.push_str(&literal.raw);
                }
                Segment::Literal(_) | Segment::Wildcard | Segment::DoubleWildcard => break,
            }
        }
        prefix
    }

    pub fn specificity(&self) -> Specificity {
        let shape: Vec<u8> = self
            .segments
            .iter()
            .map(|segment| match segment {
                Segment::Literal(_) => 2,
                Segment::Wildcard => 1,
                Segment::DoubleWildcard => 0,
            })
            .collect();
        let fixed_segments = shape.iter().filter(|rank| **rank > 0).count();
        Specificity {
            literals: shape.iter().filter(|rank| **rank == 2).count(),
            fixed_length: fixed_segments == shape.len(),
            fixed_segments,
            shape,
        }
    }

    /// The template with variable names erased: two templates with the same
    /// shape and verb match exactly the same paths.
    pub fn shape(&self) -> String {
        let mut text = String::new();
        for segment in &self.segments {
            text.push('/');
            write_segment(&mut text, segment);
        }
        if let Some(verb) = &self.verb {
            text.push(':');
            text.push_str(&verb.decoded);
        }
        text
    }

    fn is_multi_segment(&self, variable: &Variable) -> bool {
        variable.end - variable.start > 1
            || matches!(self.segments[variable.start], Segment::DoubleWildcard)
    }
}

/// A raw request path cut into segments and decoded once, so that trying it
/// against several templates compares text instead of decoding it again.
pub(crate) struct SplitPath<'a> {
    /// The path as sent; every raw segment is a slice of it.
    whole: &'a str,
    /// Each segment as sent and fully decoded; the verb is not in the last.
    segments: Vec<decode::Segment<'a>>,
    verb: Option<Cow<'a, str>>,
}

impl<'a> SplitPath<'a> {
    /// `with_verb`: the text after the last `:` of the last segment is a
    /// verb, not part of the segment. `None` for a path no template matches
    /// (no leading `/`, a refused segment, no verb where one is expected).
    pub(crate) fn new(path: &'a str, with_verb: bool) -> Option<Self> {
        let segments = checked_segments(path).ok()?;
        Self::from_checked(path, segments, |_| with_verb)
    }

    /// Segments that passed [`check_path`]: the last one's text after its
    /// last `:` is the verb when `is_verb` says so. `None` when the rest of
    /// that segment is not a segment a template can match (empty, a dot).
    pub(crate) fn from_checked(
        whole: &'a str,
        mut segments: Vec<decode::Segment<'a>>,
        is_verb: impl Fn(&str) -> bool,
    ) -> Option<Self> {
        let verb = match segments.last() {
            Some((raw, _)) => split_verb(raw).and_then(|(head, raw_verb)| {
                let verb = decode_full(raw_verb).filter(|verb| is_verb(verb))?;
                Some((head, verb))
            }),
            None => None,
        };
        let Some((head, verb)) = verb else {
            return Some(Self {
                whole,
                segments,
                verb: None,
            });
        };
        if head.is_empty() && segments.len() == 1 {
            // `/:verb`: no segments at all (what an empty `**` matches).
            segments.clear();
        } else {
            let decoded = decode::decode_segment(head)?;
            if let Some(last) = segments.last_mut() {
                *last = (head, decoded);
            }
        }
        Some(Self {
            whole,
            segments,
            verb: Some(verb),
        })
    }

    /// Segments `start..end` as sent, slashes included: one slice of the
    /// path, since the segments were cut from it in order.
    fn raw_span(&self, start: usize, end: usize) -> &'a str {
        let offset = |raw: &str| raw.as_ptr() as usize - self.whole.as_ptr() as usize;
        match (
            self.segments.get(start),
            end.checked_sub(1).and_then(|last| self.segments.get(last)),
        ) {
            (Some((first, _)), Some((last, _))) if start < end => {
                let from = offset(first);
                let to = offset(last) + last.len();
                self.whole.get(from..to).unwrap_or_default()
            }
            _ => "",
        }
    }
}

/// Splits a path's last segment at its last `:`: (head, raw verb). A
/// segment holds no `/`, so only the colon is searched for.
fn split_verb(segment: &str) -> Option<(&str, &str)> {
    let colon = segment.rfind(':')?;
    Some((&segment[..colon], &segment[colon + 1..]))
}

fn write_segment(text: &mut String, segment: &Segment) {
    match segment {
        Segment::Literal(literal) => text.push_str(&literal.raw),
        Segment::Wildcard => text.push('*'),
        Segment::DoubleWildcard => text.push_str("**"),
    }
}

/// The canonical text: `{name}` for a one-`*` variable, `{name=...}`
/// otherwise; literals as written. Parses back to an equal template.
impl fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        let mut index = 0;
        while index < self.segments.len() {
            text.push('/');
            match self.variables.iter().find(|v| v.start == index) {
                Some(variable) => {
                    text.push('{');
                    text.push_str(&variable.field_path.join("."));
                    let inner = &self.segments[variable.start..variable.end];
                    if inner != [Segment::Wildcard] {
                        text.push('=');
                        for (i, segment) in inner.iter().enumerate() {
                            if i > 0 {
                                text.push('/');
                            }
                            write_segment(&mut text, segment);
                        }
                    }
                    text.push('}');
                    index = variable.end;
                }
                None => {
                    write_segment(&mut text, &self.segments[index]);
                    index += 1;
                }
            }
        }
        if let Some(verb) = &self.verb {
            text.push(':');
            text.push_str(&verb.raw);
        }
        f.write_str(&text)
    }
}
