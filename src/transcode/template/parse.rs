//! The recursive-descent parser for the template grammar, with the checks
//! the grammar alone does not make: `**` only last, no nested variables,
//! each field path bound once.

use super::{Literal, PathTemplate, Segment, Variable, decode_full};

/// A template that does not parse; `position` is the byte offset (from 0)
/// of the offending character in `template`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid path template {template:?}: {problem} at position {position}")]
pub struct TemplateError {
    pub template: String,
    pub position: usize,
    pub problem: TemplateProblem,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateProblem {
    #[error("expected '/'")]
    ExpectedSlash,
    #[error("empty segment")]
    EmptySegment,
    #[error("unexpected character {0:?}")]
    UnexpectedChar(char),
    #[error("expected a field name")]
    ExpectedFieldName,
    #[error("expected '}}' to close the variable")]
    UnclosedVariable,
    #[error("a variable cannot contain a variable")]
    NestedVariable,
    #[error("'**' must be the last segment")]
    DoubleWildcardNotLast,
    #[error("field {0:?} is bound twice")]
    DuplicateVariable(String),
    #[error("empty verb")]
    EmptyVerb,
    #[error("malformed percent-encoding")]
    BadPercentEncoding,
    #[error("'.' and '..' cannot be literals")]
    DotSegment,
}

pub(super) fn parse(template: &str) -> Result<PathTemplate, TemplateError> {
    let mut parser = Parser {
        src: template,
        pos: 0,
        segments: Vec::new(),
        positions: Vec::new(),
        variables: Vec::new(),
        in_variable: false,
    };
    parser.template()
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    segments: Vec<Segment>,
    /// Where each segment starts, for errors found after parsing.
    positions: Vec<usize>,
    variables: Vec<Variable>,
    in_variable: bool,
}

/// Characters a literal may hold unescaped: RFC 3986 unreserved characters
/// and the sub-delims that have no meaning in the grammar (`*` and `=` do).
fn is_literal_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
        || matches!(
            byte,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'+'
                | b','
                | b';'
                | b'@'
                | b'%'
        )
}

impl Parser<'_> {
    fn template(&mut self) -> Result<PathTemplate, TemplateError> {
        if self.peek() != Some(b'/') {
            return Err(self.error(TemplateProblem::ExpectedSlash));
        }
        self.pos += 1;
        self.segment_list()?;
        let verb = if self.peek() == Some(b':') {
            self.pos += 1;
            if self.peek().is_none_or(|byte| !is_literal_byte(byte)) {
                return Err(self.error(self.unexpected_or(TemplateProblem::EmptyVerb)));
            }
            Some(self.literal()?)
        } else {
            None
        };
        if let Some(c) = self.src[self.pos..].chars().next() {
            return Err(self.error(TemplateProblem::UnexpectedChar(c)));
        }
        self.validate()?;
        Ok(PathTemplate {
            segments: std::mem::take(&mut self.segments),
            variables: std::mem::take(&mut self.variables),
            verb,
        })
    }

    fn segment_list(&mut self) -> Result<(), TemplateError> {
        loop {
            self.segment()?;
            if self.peek() != Some(b'/') {
                return Ok(());
            }
            self.pos += 1;
        }
    }

    fn segment(&mut self) -> Result<(), TemplateError> {
        let start = self.pos;
        match self.peek() {
            Some(b'*') => {
                self.pos += 1;
                let segment = if self.peek() == Some(b'*') {
                    self.pos += 1;
                    Segment::DoubleWildcard
                } else {
                    Segment::Wildcard
                };
                self.push(segment, start);
            }
            Some(b'{') if self.in_variable => {
                return Err(self.error(TemplateProblem::NestedVariable));
            }
            Some(b'{') => self.variable()?,
            Some(byte) if is_literal_byte(byte) => {
                let literal = self.literal()?;
                if literal.decoded == "." || literal.decoded == ".." {
                    return Err(self.error_at(start, TemplateProblem::DotSegment));
                }
                self.push(Segment::Literal(literal), start);
            }
            Some(_) | None => {
                return Err(self.error(self.unexpected_or(TemplateProblem::EmptySegment)));
            }
        }
        Ok(())
    }

    fn variable(&mut self) -> Result<(), TemplateError> {
        let open = self.pos;
        self.pos += 1;
        let mut field_path = vec![self.ident()?];
        while self.peek() == Some(b'.') {
            self.pos += 1;
            field_path.push(self.ident()?);
        }
        let start = self.segments.len();
        if self.peek() == Some(b'=') {
            self.pos += 1;
            self.in_variable = true;
            self.segment_list()?;
            self.in_variable = false;
        } else {
            self.push(Segment::Wildcard, open);
        }
        match self.peek() {
            Some(b'}') => self.pos += 1,
            Some(b'{') => return Err(self.error(TemplateProblem::NestedVariable)),
            Some(_) | None => return Err(self.error(TemplateProblem::UnclosedVariable)),
        }
        let dotted = field_path.join(".");
        if self
            .variables
            .iter()
            .any(|v| v.field_path.join(".") == dotted)
        {
            return Err(self.error_at(open, TemplateProblem::DuplicateVariable(dotted)));
        }
        self.variables.push(Variable {
            field_path: field_path.into(),
            start,
            end: self.segments.len(),
        });
        Ok(())
    }

    fn ident(&mut self) -> Result<String, TemplateError> {
        let start = self.pos;
        match self.peek() {
            Some(byte) if byte.is_ascii_alphabetic() || byte == b'_' => self.pos += 1,
            Some(_) | None => return Err(self.error(TemplateProblem::ExpectedFieldName)),
        }
        while self
            .peek()
            .is_some_and(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
        {
            self.pos += 1;
        }
        Ok(self.src[start..self.pos].to_owned())
    }

    fn literal(&mut self) -> Result<Literal, TemplateError> {
        let start = self.pos;
        while let Some(byte) = self.peek().filter(|byte| is_literal_byte(*byte)) {
            if byte == b'%' {
                let escape = self.src.as_bytes().get(self.pos..self.pos + 3);
                if !escape.is_some_and(|e| e[1].is_ascii_hexdigit() && e[2].is_ascii_hexdigit()) {
                    return Err(self.error(TemplateProblem::BadPercentEncoding));
                }
                self.pos += 3;
            } else {
                self.pos += 1;
            }
        }
        let raw = &self.src[start..self.pos];
        // Well-formed escapes can still spell invalid UTF-8 (`%FF`).
        let decoded = decode_full(raw)
            .ok_or_else(|| self.error_at(start, TemplateProblem::BadPercentEncoding))?
            .into_owned();
        Ok(Literal {
            raw: raw.to_owned(),
            decoded,
        })
    }

    /// `**` only as the last segment: checked once the whole template is
    /// known, so `/{a=**}/b` points at the `**`.
    fn validate(&self) -> Result<(), TemplateError> {
        let last = self.segments.len() - 1;
        for (index, segment) in self.segments.iter().enumerate() {
            if matches!(segment, Segment::DoubleWildcard) && index != last {
                return Err(self.error_at(
                    self.positions[index],
                    TemplateProblem::DoubleWildcardNotLast,
                ));
            }
        }
        Ok(())
    }

    fn push(&mut self, segment: Segment, position: usize) {
        self.segments.push(segment);
        self.positions.push(position);
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    /// At the end or at a separator something is missing (`missing`);
    /// anywhere else the character itself is wrong.
    fn unexpected_or(&self, missing: TemplateProblem) -> TemplateProblem {
        match self.src[self.pos..].chars().next() {
            Some(c) if !matches!(c, '/' | ':' | '}') => TemplateProblem::UnexpectedChar(c),
            Some(_) | None => missing,
        }
    }

    fn error(&self, problem: TemplateProblem) -> TemplateError {
        self.error_at(self.pos, problem)
    }

    fn error_at(&self, position: usize, problem: TemplateProblem) -> TemplateError {
        TemplateError {
            template: self.src.to_owned(),
            position,
            problem,
        }
    }
}
