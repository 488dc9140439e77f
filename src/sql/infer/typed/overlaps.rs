//! `(s1, e1) OVERLAPS (s2, e2)`: each end converted to the one type the
//! four share (date, time, timestamp or timestamptz, as PostgreSQL
//! resolves `overlaps`), an interval end taken as its start moved by it,
//! and the call `pg_overlaps` (`store::udf::time`) answering as
//! PostgreSQL does where ends are NULL.

use sqlparser::ast::{BinaryOperator, Expr};

use super::Typer;
use crate::error::{Error, Result};
use crate::types::PgType;

/// The two elements of a row constructor, if `e` is one of two.
fn pair(e: &Expr) -> Option<(&Expr, &Expr)> {
    match e {
        Expr::Nested(inner) => pair(inner),
        Expr::Tuple(items) => match items.as_slice() {
            [a, b] => Some((a, b)),
            _ => None,
        },
        _ => None,
    }
}

impl Typer<'_> {
    /// Rewrite `e` when it is an OVERLAPS; true when it was one.
    pub(super) fn overlaps(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::BinaryOp {
            left,
            op: BinaryOperator::Overlaps,
            right,
        } = e
        else {
            return Ok(false);
        };
        let (Some((s1, e1)), Some((s2, e2))) = (pair(left), pair(right)) else {
            let side = if pair(left).is_none() {
                "left"
            } else {
                "right"
            };
            return Err(Error::Syntax(format!(
                "wrong number of parameters on {side} side of OVERLAPS expression"
            )));
        };
        let types: Vec<PgType> = [s1, e1, s2, e2].iter().map(|x| self.type_of(x)).collect();
        let any = |t: PgType| types.contains(&t);
        let kind = if any(PgType::Timestamptz) {
            PgType::Timestamptz
        } else if any(PgType::Timestamp) || (any(PgType::Date) && any(PgType::Interval)) {
            PgType::Timestamp
        } else if any(PgType::Date) {
            PgType::Date
        } else if any(PgType::Time) {
            PgType::Time
        } else {
            return Err(Error::Unsupported(
                "OVERLAPS of other than dates, times and timestamps".into(),
            ));
        };
        let name = kind.display_name();
        let end = |s: &Expr, e: &Expr, t: &PgType| match t {
            PgType::Interval => format!("CAST((({s}) + ({e})) AS {name})"),
            _ => format!("CAST(({e}) AS {name})"),
        };
        let sql = format!(
            "pg_overlaps('{}', CAST(({s1}) AS {name}), {}, CAST(({s2}) AS {name}), {})",
            match kind {
                PgType::Timestamptz => "timestamptz",
                PgType::Timestamp => "timestamp",
                PgType::Date => "date",
                _ => "time",
            },
            end(s1, e1, &types[1]),
            end(s2, e2, &types[3]),
        );
        *e = crate::sql::parse_expr(&sql)?;
        Ok(true)
    }
}
