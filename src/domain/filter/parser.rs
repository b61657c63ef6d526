//! Recursive descent over the tokens, following AIP-160's grammar:
//!
//! ```text
//! filter      = [ expression ] END
//! expression  = sequence { "AND" sequence }
//! sequence    = factor { factor }          juxtaposition is AND too
//! factor      = term { "OR" term }         so OR binds tighter than AND
//! term        = [ "NOT" | "-" ] simple
//! simple      = restriction | "(" expression ")"
//! restriction = field operator value
//! ```
//!
//! The parser also resolves field names, rejects comparisons that can never
//! match a built-in field, and enforces the nesting and comparison bounds, so
//! that evaluation has nothing left that could fail. Recursion only deepens
//! at `(`, and the nesting bound caps it long before the stack would.

use super::ast::{Comparison, Expr, Field, Op};
use super::lexer::{Token, TokenKind};
use super::literal::Literal;
use super::{FilterError, FilterSchema, MAX_COMPARISONS, MAX_NESTING};

struct Parser<'a> {
    tokens: &'a [Token],
    next: usize,
    /// Stands in for running off the end, which `tokenize`'s final `End`
    /// should make impossible; it keeps the parser free of indexing panics.
    end: Token,
    depth: usize,
    comparisons: usize,
    schema: &'a dyn FilterSchema,
}

/// The tree of a whole filter; `None` for the empty filter.
pub(super) fn parse(
    tokens: &[Token],
    text_len: usize,
    schema: &dyn FilterSchema,
) -> Result<Option<Expr>, FilterError> {
    let mut parser = Parser {
        tokens,
        next: 0,
        end: Token {
            kind: TokenKind::End,
            position: text_len,
        },
        depth: 0,
        comparisons: 0,
        schema,
    };
    if matches!(parser.peek().kind, TokenKind::End) {
        return Ok(None);
    }
    let root = parser.expression()?;
    let token = parser.peek();
    match &token.kind {
        TokenKind::End => Ok(Some(root)),
        TokenKind::RParen => Err(FilterError::at(
            token.position,
            "unbalanced \")\": there is no \"(\" to close",
        )),
        other @ (TokenKind::LParen
        | TokenKind::And
        | TokenKind::Or
        | TokenKind::Not
        | TokenKind::Minus
        | TokenKind::Field(_)
        | TokenKind::Op(_)
        | TokenKind::Value(_)) => Err(FilterError::at(
            token.position,
            format!(
                "expected AND, OR or the end of the filter, found {}",
                other.describe()
            ),
        )),
    }
}

fn starts_term(kind: &TokenKind) -> bool {
    match kind {
        TokenKind::LParen | TokenKind::Not | TokenKind::Minus | TokenKind::Field(_) => true,
        TokenKind::RParen
        | TokenKind::And
        | TokenKind::Or
        | TokenKind::Op(_)
        | TokenKind::Value(_)
        | TokenKind::End => false,
    }
}

/// One item stays itself, so `((a = 1))` is just the comparison and printing
/// the tree never invents a one-child AND or OR.
fn combine(mut items: Vec<Expr>, node: fn(Vec<Expr>) -> Expr) -> Expr {
    if items.len() == 1
        && let Some(only) = items.pop()
    {
        return only;
    }
    node(items)
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        self.tokens.get(self.next).unwrap_or(&self.end)
    }

    fn expression(&mut self) -> Result<Expr, FilterError> {
        let mut items = self.sequence()?;
        while matches!(self.peek().kind, TokenKind::And) {
            self.next += 1;
            items.extend(self.sequence()?);
        }
        Ok(combine(items, Expr::And))
    }

    fn sequence(&mut self) -> Result<Vec<Expr>, FilterError> {
        let mut items = vec![self.factor()?];
        while starts_term(&self.peek().kind) {
            items.push(self.factor()?);
        }
        Ok(items)
    }

    fn factor(&mut self) -> Result<Expr, FilterError> {
        let mut items = vec![self.term()?];
        while matches!(self.peek().kind, TokenKind::Or) {
            self.next += 1;
            items.push(self.term()?);
        }
        Ok(combine(items, Expr::Or))
    }

    fn term(&mut self) -> Result<Expr, FilterError> {
        if matches!(self.peek().kind, TokenKind::Not | TokenKind::Minus) {
            self.next += 1;
            return Ok(Expr::Not(Box::new(self.simple()?)));
        }
        self.simple()
    }

    fn simple(&mut self) -> Result<Expr, FilterError> {
        let token = self.peek();
        let position = token.position;
        match &token.kind {
            TokenKind::LParen => self.group(position),
            TokenKind::Field(path) => {
                let path = path.clone();
                self.restriction(&path, position)
            }
            TokenKind::End => Err(FilterError::at(
                position,
                "unexpected end of the filter: expected a comparison",
            )),
            other @ (TokenKind::RParen
            | TokenKind::And
            | TokenKind::Or
            | TokenKind::Not
            | TokenKind::Minus
            | TokenKind::Op(_)
            | TokenKind::Value(_)) => Err(FilterError::at(
                position,
                format!("expected a comparison, found {}", other.describe()),
            )),
        }
    }

    fn group(&mut self, open: usize) -> Result<Expr, FilterError> {
        if self.depth >= MAX_NESTING {
            return Err(FilterError::at(
                open,
                format!("the filter nests more than {MAX_NESTING} levels of parentheses"),
            ));
        }
        self.depth += 1;
        self.next += 1;
        if matches!(self.peek().kind, TokenKind::RParen) {
            return Err(FilterError::at(
                self.peek().position,
                "empty parentheses: expected a comparison",
            ));
        }
        let inner = self.expression()?;
        let token = self.peek();
        if !matches!(token.kind, TokenKind::RParen) {
            return Err(FilterError::at(
                token.position,
                format!(
                    "expected \")\" to close the \"(\" at position {open}, found {}",
                    token.kind.describe()
                ),
            ));
        }
        self.next += 1;
        self.depth -= 1;
        Ok(inner)
    }

    fn restriction(&mut self, path: &str, position: usize) -> Result<Expr, FilterError> {
        self.comparisons += 1;
        if self.comparisons > MAX_COMPARISONS {
            return Err(FilterError::at(
                position,
                format!("the filter has more than {MAX_COMPARISONS} comparisons"),
            ));
        }
        let field = self.field(path, position)?;
        self.next += 1;
        let token = self.peek();
        let TokenKind::Op(op) = token.kind else {
            return Err(FilterError::at(
                token.position,
                format!(
                    "expected an operator (= != < <= > >= :) after {path:?}, found {}",
                    token.kind.describe()
                ),
            ));
        };
        let op_position = token.position;
        self.next += 1;
        let token = self.peek();
        let TokenKind::Value(value) = &token.kind else {
            return Err(FilterError::at(
                token.position,
                format!("expected a value after {op}"),
            ));
        };
        let (value, value_position) = (value.clone(), token.position);
        self.next += 1;
        check_comparison(&field, op, &value, op_position, value_position)?;
        Ok(Expr::Compare(Comparison { field, op, value }))
    }

    fn field(&self, path: &str, position: usize) -> Result<Field, FilterError> {
        let segments: Vec<&str> = path.split('.').collect();
        let mut starts = Vec::with_capacity(segments.len());
        let mut offset = position;
        for segment in &segments {
            if !is_identifier(segment) {
                return Err(FilterError::at(
                    offset,
                    format!(
                        "invalid field name {path:?}: each part starts with a letter or _ and holds letters, digits and _"
                    ),
                ));
            }
            starts.push(offset);
            // Field paths are ASCII (the lexer allows nothing else), so
            // byte lengths are char counts.
            offset += segment.len() + 1;
        }
        match segments.as_slice() {
            ["done"] => Ok(Field::Done),
            ["name"] => Ok(Field::Name),
            ["error", "code"] => Ok(Field::ErrorCode),
            ["metadata"] => Err(FilterError::at(
                position,
                "expected a field of the metadata: metadata.<field>",
            )),
            ["metadata", rest @ ..] => {
                self.check_metadata_path(rest, &starts)?;
                Ok(Field::Metadata(
                    rest.iter().map(|s| (*s).to_owned()).collect(),
                ))
            }
            _ => Err(FilterError::at(
                position,
                format!(
                    "unknown field {path:?}: a filter can use done, name, error.code and metadata.<field>"
                ),
            )),
        }
    }

    /// Points at the first segment that no known metadata type has, which
    /// says more than "unknown field" for a typo deep in a path.
    fn check_metadata_path(&self, rest: &[&str], starts: &[usize]) -> Result<(), FilterError> {
        for end in 1..=rest.len() {
            let prefix = rest.get(..end).unwrap_or(rest);
            if !self.schema.knows_metadata_field(prefix) {
                let position = starts.get(end).copied().unwrap_or_default();
                return Err(FilterError::at(
                    position,
                    format!(
                        "unknown field \"metadata.{}\": no known metadata type has it",
                        prefix.join(".")
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn is_identifier(segment: &str) -> bool {
    let mut bytes = segment.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Rejects what can never match, whatever the operation: a value of the
/// wrong type for a built-in field (`done = 7`, `error.code = abc`), or a
/// wildcard with an ordering (`name < "a*"`). Metadata types vary per
/// operation, so a metadata value is only checked for the latter.
fn check_comparison(
    field: &Field,
    op: Op,
    value: &Literal,
    op_position: usize,
    value_position: usize,
) -> Result<(), FilterError> {
    if op == Op::Has && value.is_any() {
        return Ok(());
    }
    if op.is_ordering() && value.has_wildcard() {
        return Err(FilterError::at(
            value_position,
            format!("a wildcard only works with =, != and :, not with {op}"),
        ));
    }
    match field {
        Field::Done if op.is_ordering() => Err(FilterError::at(
            op_position,
            format!("operator {op} does not apply to done, which is true or false"),
        )),
        Field::Done if value.boolean().is_none() => Err(FilterError::at(
            value_position,
            format!("done is true or false, not {value}"),
        )),
        Field::ErrorCode
            if value
                .integer()
                .and_then(|v| i32::try_from(v).ok())
                .is_none() =>
        {
            Err(FilterError::at(
                value_position,
                format!("error.code is an integer (a google.rpc.Code), not {value}"),
            ))
        }
        Field::Done | Field::Name | Field::ErrorCode | Field::Metadata(_) => Ok(()),
    }
}
