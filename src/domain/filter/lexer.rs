//! Splits filter text into tokens, each with its char offset for errors.
//!
//! The lexer is contextual: right after a comparison operator it reads one
//! value, where almost anything goes (`op-1`, `-3`, `2.5`, `*`,
//! `2026-01-01T00:00:00Z`); everywhere else it reads field paths, keywords,
//! parentheses, `-` and operators. That lets users leave names, numbers and
//! timestamps unquoted without making `-` or `:` ambiguous.

use super::FilterError;
use super::ast::Op;
use super::literal::Literal;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum TokenKind {
    LParen,
    RParen,
    And,
    Or,
    Not,
    /// `-` before a term: negation.
    Minus,
    /// A field path as written, dots included: `metadata.create_time`.
    Field(String),
    Op(Op),
    Value(Literal),
    End,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Token {
    pub(super) kind: TokenKind,
    /// 0-based char offset of the token's first char.
    pub(super) position: usize,
}

impl TokenKind {
    /// How an error message names the token.
    pub(super) fn describe(&self) -> String {
        match self {
            TokenKind::LParen => "\"(\"".to_owned(),
            TokenKind::RParen => "\")\"".to_owned(),
            TokenKind::And => "AND".to_owned(),
            TokenKind::Or => "OR".to_owned(),
            TokenKind::Not => "NOT".to_owned(),
            TokenKind::Minus => "\"-\"".to_owned(),
            TokenKind::Field(path) => format!("{path:?}"),
            TokenKind::Op(op) => format!("\"{op}\""),
            TokenKind::Value(literal) => format!("the value {literal}"),
            TokenKind::End => "the end of the filter".to_owned(),
        }
    }
}

/// One char of a value, remembering whether it was escaped so that `\*`
/// stays a literal star while `*` is a wildcard.
#[derive(Clone, Copy)]
struct Unit {
    c: char,
    escaped: bool,
    position: usize,
}

struct Lexer<'a> {
    chars: &'a [char],
    pos: usize,
}

/// The whole text as tokens, ending with `End`.
pub(super) fn tokenize(chars: &[char]) -> Result<Vec<Token>, FilterError> {
    let mut lexer = Lexer { chars, pos: 0 };
    let mut tokens = Vec::new();
    loop {
        lexer.skip_whitespace();
        let position = lexer.pos;
        let Some(c) = lexer.peek() else {
            tokens.push(Token {
                kind: TokenKind::End,
                position,
            });
            return Ok(tokens);
        };
        let kind = match c {
            '(' => lexer.single(TokenKind::LParen),
            ')' => lexer.single(TokenKind::RParen),
            '-' => lexer.single(TokenKind::Minus),
            '=' | '!' | '<' | '>' | ':' => {
                let op = lexer.operator()?;
                tokens.push(Token {
                    kind: TokenKind::Op(op),
                    position,
                });
                lexer.skip_whitespace();
                let position = lexer.pos;
                let value = lexer.value(op)?;
                tokens.push(Token {
                    kind: TokenKind::Value(value),
                    position,
                });
                continue;
            }
            c if is_path_char(c) => lexer.word(),
            '"' | '\'' => {
                return Err(FilterError::at(
                    position,
                    "expected a field name, found a quoted value (free-text search is not supported)",
                ));
            }
            other => {
                return Err(FilterError::at(
                    position,
                    format!("unexpected character {other:?}"),
                ));
            }
        };
        tokens.push(Token { kind, position });
    }
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// Chars that end an unquoted value: whitespace, grouping, quotes and the
/// operator chars other than `:` (timestamps contain `:`).
fn ends_bare_value(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"' | '\'' | '=' | '<' | '>' | '!')
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn single(&mut self, kind: TokenKind) -> TokenKind {
        self.pos += 1;
        kind
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn text(&self, start: usize) -> String {
        self.chars
            .get(start..self.pos)
            .unwrap_or_default()
            .iter()
            .collect()
    }

    /// A field path or a keyword. Keywords are uppercase only (AIP-160), so
    /// `and` is a (nonexistent) field, not a conjunction.
    fn word(&mut self) -> TokenKind {
        let start = self.pos;
        while self.peek().is_some_and(is_path_char) {
            self.pos += 1;
        }
        let word = self.text(start);
        match word.as_str() {
            "AND" => TokenKind::And,
            "OR" => TokenKind::Or,
            "NOT" => TokenKind::Not,
            _ => TokenKind::Field(word),
        }
    }

    fn operator(&mut self) -> Result<Op, FilterError> {
        let start = self.pos;
        let first = self.peek();
        let second = self.chars.get(start + 1).copied();
        let (op, len) = match (first, second) {
            (Some('<'), Some('=')) => (Op::Le, 2),
            (Some('>'), Some('=')) => (Op::Ge, 2),
            (Some('!'), Some('=')) => (Op::Ne, 2),
            (Some('<'), _) => (Op::Lt, 1),
            (Some('>'), _) => (Op::Gt, 1),
            (Some('='), _) => (Op::Eq, 1),
            (Some(':'), _) => (Op::Has, 1),
            _ => return Err(FilterError::at(start, "expected \"!=\" after \"!\"")),
        };
        self.pos += len;
        Ok(op)
    }

    fn value(&mut self, op: Op) -> Result<Literal, FilterError> {
        let start = self.pos;
        match self.peek() {
            None => Err(FilterError::at(
                start,
                format!("expected a value after {op}"),
            )),
            Some(quote @ ('"' | '\'')) => self.quoted(quote),
            Some(c) if ends_bare_value(c) => Err(FilterError::at(
                start,
                format!("expected a value after {op}, found {c:?}"),
            )),
            Some(_) => self.bare(op),
        }
    }

    fn bare(&mut self, op: Op) -> Result<Literal, FilterError> {
        let start = self.pos;
        let mut units = Vec::new();
        while let Some(c) = self.peek().filter(|c| !ends_bare_value(*c)) {
            units.push(Unit {
                c,
                escaped: false,
                position: self.pos,
            });
            self.pos += 1;
        }
        let word = self.text(start);
        // `a = AND b = 1` is far more likely a mistake than a comparison
        // with the word "AND"; quoting says which one the user meant.
        if matches!(word.as_str(), "AND" | "OR" | "NOT") {
            return Err(FilterError::at(
                start,
                format!(
                    "expected a value after {op}, found the keyword {word} (quote it to compare with the word)"
                ),
            ));
        }
        pattern(&units)
    }

    fn quoted(&mut self, quote: char) -> Result<Literal, FilterError> {
        let open = self.pos;
        let unterminated =
            || FilterError::at(open, format!("unterminated string: no closing {quote}"));
        self.pos += 1;
        let mut units = Vec::new();
        loop {
            let position = self.pos;
            let c = self.peek().ok_or_else(unterminated)?;
            self.pos += 1;
            if c == quote {
                return pattern(&units);
            }
            if c != '\\' {
                units.push(Unit {
                    c,
                    escaped: false,
                    position,
                });
                continue;
            }
            let escaped = self.peek().ok_or_else(unterminated)?;
            self.pos += 1;
            let c = match escaped {
                '\\' | '"' | '\'' | '*' => escaped,
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                other => {
                    return Err(FilterError::at(
                        position,
                        format!("unknown escape \\{other} (known: \\\\ \\\" \\' \\* \\n \\r \\t)"),
                    ));
                }
            };
            units.push(Unit {
                c,
                escaped: true,
                position,
            });
        }
    }
}

/// Splits the AIP-160 wildcards off a value: an unescaped `*` may open or
/// close it; one anywhere else is an error rather than a silent literal.
fn pattern(units: &[Unit]) -> Result<Literal, FilterError> {
    let is_star = |unit: &Unit| unit.c == '*' && !unit.escaped;
    let (leading, rest) = match units.split_first() {
        Some((first, rest)) if is_star(first) => (true, rest),
        _ => (false, units),
    };
    let (trailing, rest) = match rest.split_last() {
        Some((last, inner)) if is_star(last) => (true, inner),
        _ => (false, rest),
    };
    if let Some(star) = rest.iter().find(|unit| is_star(unit)) {
        return Err(FilterError::at(
            star.position,
            "a wildcard * may only start or end a value (write \\* inside quotes for a literal *)",
        ));
    }
    let text = rest.iter().map(|unit| unit.c).collect();
    Ok(Literal::new(text, leading, trailing))
}
