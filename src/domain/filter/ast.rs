//! The parsed filter: a tree of AND, OR, NOT over comparisons.
//!
//! The tree holds no source positions, so two texts that mean the same thing
//! (`a=1 b=2`, `a = "1" AND b = "2"`) give equal trees. Display prints the
//! canonical text, which parses back to an equal tree.

use std::fmt;

use super::literal::Literal;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Expr {
    /// Two or more; `AND` and juxtaposition both build it.
    And(Vec<Expr>),
    /// Two or more.
    Or(Vec<Expr>),
    /// `NOT` and the `-` prefix.
    Not(Box<Expr>),
    Compare(Comparison),
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Comparison {
    pub(super) field: Field,
    pub(super) op: Op,
    pub(super) value: Literal,
}

/// The fields a filter can name (docs/behaviour.md §3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Field {
    Done,
    Name,
    ErrorCode,
    /// The path below `metadata.`, at least one segment.
    Metadata(Vec<String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `:`, "has".
    Has,
}

impl Op {
    pub(super) fn is_ordering(self) -> bool {
        match self {
            Op::Lt | Op::Le | Op::Gt | Op::Ge => true,
            Op::Eq | Op::Ne | Op::Has => false,
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Has => ":",
        }
    }
}

impl Field {
    /// The path a `FilterTarget` is asked for.
    pub(super) fn target_path(&self) -> Vec<&str> {
        match self {
            Field::Done => vec!["done"],
            Field::Name => vec!["name"],
            Field::ErrorCode => vec!["error", "code"],
            Field::Metadata(rest) => std::iter::once("metadata")
                .chain(rest.iter().map(String::as_str))
                .collect(),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.target_path().join("."))
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `tags:nightly` is how AIP-160 writes "has"; the others read better spaced.
        match self.op {
            Op::Has => write!(f, "{}:{}", self.field, self.value),
            Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                write!(f, "{} {} {}", self.field, self.op, self.value)
            }
        }
    }
}

impl Expr {
    /// Writes a child of AND, OR or NOT. Nested AND and OR always get
    /// parentheses: that keeps the printed tree's shape whatever the
    /// precedence, and `NOT NOT x` is not in the grammar.
    fn fmt_operand(&self, f: &mut fmt::Formatter<'_>, parent_is_not: bool) -> fmt::Result {
        match self {
            Expr::Compare(comparison) => fmt::Display::fmt(comparison, f),
            Expr::Not(_) if !parent_is_not => fmt::Display::fmt(self, f),
            Expr::And(_) | Expr::Or(_) | Expr::Not(_) => write!(f, "({self})"),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (items, separator) = match self {
            Expr::Compare(comparison) => return fmt::Display::fmt(comparison, f),
            Expr::Not(inner) => {
                f.write_str("NOT ")?;
                return inner.fmt_operand(f, true);
            }
            Expr::And(items) => (items, " AND "),
            Expr::Or(items) => (items, " OR "),
        };
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                f.write_str(separator)?;
            }
            item.fmt_operand(f, false)?;
        }
        Ok(())
    }
}
