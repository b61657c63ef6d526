//! What a filter implies about `done`, so a store can read only running (or
//! only done) operations instead of passing over every other row.
//!
//! The answer must be sound, not complete: `Some(v)` promises that no
//! operation with `done != v` matches; `None` promises nothing.

use super::ast::{Comparison, Expr, Field, Op};

impl Expr {
    pub(super) fn implied_done(&self) -> Option<bool> {
        match self {
            // One implying conjunct is enough. Two that disagree match
            // nothing, so either answer is sound.
            Expr::And(parts) => parts.iter().find_map(Expr::implied_done),
            // Every branch must imply the same value.
            Expr::Or(parts) => {
                let first = parts.first()?.implied_done()?;
                parts
                    .iter()
                    .all(|part| part.implied_done() == Some(first))
                    .then_some(first)
            }
            Expr::Not(inner) => match inner.as_ref() {
                Expr::Compare(comparison) => negated(comparison),
                Expr::Not(twice) => twice.implied_done(),
                Expr::And(_) | Expr::Or(_) => None,
            },
            Expr::Compare(comparison) => asserted(comparison),
        }
    }
}

/// The `done` value an operation must have for `comparison` to be true.
fn asserted(comparison: &Comparison) -> Option<bool> {
    if comparison.field != Field::Done {
        return None;
    }
    let value = &comparison.value;
    match comparison.op {
        // `done:*` holds when done is set, and false counts as unset.
        Op::Has if value.is_any() => Some(true),
        Op::Eq | Op::Has => value.boolean(),
        Op::Ne => value.boolean().map(|v| !v),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => None,
    }
}

/// The `done` value an operation must have for `comparison` to be false:
/// `done` is never missing, so the negation of a comparison on it is the
/// opposite comparison.
fn negated(comparison: &Comparison) -> Option<bool> {
    asserted(comparison).map(|v| !v)
}
