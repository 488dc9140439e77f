//! The constants of a simple query as parameters: `WHERE aid = 5` becomes
//! `WHERE aid = $1` with 5 beside it, so that queries differing only in
//! such constants share one prepared form (`exec::lifted` keeps it), as a
//! client's prepared statement would.
//!
//! Only where a parameter means what the literal meant: an integer that
//! fits 64 bits, or a string, compared (`=`, `<>`, `<`, `<=`, `>`, `>=`)
//! with a bare column, in the top-level AND chain of a single SELECT's
//! WHERE. Whether the column is of the literal's kind (an integer column
//! for an integer, a text column for a string) is the caller's to check,
//! from the parameter types the prepared form infers; where one is not,
//! the query runs as sent.

use sqlparser::ast::{BinaryOperator, Expr, SetExpr, Statement, Value, ValueWithSpan};

/// A constant taken out of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Lifted {
    Int(i64),
    Text(String),
}

/// `stmt` with its liftable constants as `$1..$n`, and those constants in
/// order; `None` when it has none (or is not a plain SELECT, or already
/// has parameters).
pub fn lift(stmt: &Statement) -> Option<(Statement, Vec<Lifted>)> {
    let Statement::Query(q) = stmt else {
        return None;
    };
    let SetExpr::Select(sel) = q.body.as_ref() else {
        return None;
    };
    sel.selection.as_ref()?;
    if has_placeholder(stmt) {
        return None;
    }
    let mut out = stmt.clone();
    let Statement::Query(q) = &mut out else {
        return None;
    };
    let SetExpr::Select(sel) = q.body.as_mut() else {
        return None;
    };
    let mut lifted = Vec::new();
    lift_conjuncts(sel.selection.as_mut()?, &mut lifted);
    (!lifted.is_empty()).then_some((out, lifted))
}

fn lift_conjuncts(e: &mut Expr, lifted: &mut Vec<Lifted>) {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            lift_conjuncts(left, lifted);
            lift_conjuncts(right, lifted);
        }
        Expr::Nested(inner) => lift_conjuncts(inner, lifted),
        Expr::BinaryOp { left, op, right } if comparison(op) => {
            // The side that is not the column.
            let literal = match (left.as_ref(), right.as_ref()) {
                (Expr::Identifier(_) | Expr::CompoundIdentifier(_), _) => right,
                (_, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) => left,
                _ => return,
            };
            if let Some(value) = constant(literal) {
                lifted.push(value);
                **literal = Expr::Value(ValueWithSpan::from(Value::Placeholder(format!(
                    "${}",
                    lifted.len()
                ))));
            }
        }
        _ => {}
    }
}

fn comparison(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq
    )
}

/// The constant `e` is, if it is one that can be lifted.
fn constant(e: &Expr) -> Option<Lifted> {
    let Expr::Value(v) = e else {
        return None;
    };
    match &v.value {
        // Digits only: `1e3` and `1.0` are numeric literals, not integers.
        Value::Number(n, false) if n.bytes().all(|b| b.is_ascii_digit()) => {
            n.parse().ok().map(Lifted::Int)
        }
        Value::SingleQuotedString(s) => Some(Lifted::Text(s.clone())),
        _ => None,
    }
}

fn has_placeholder(stmt: &Statement) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_expressions(stmt, |e| {
        if let Expr::Value(v) = e {
            found |= matches!(v.value, Value::Placeholder(_));
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lifted(sql: &str) -> Option<(String, Vec<Lifted>)> {
        let stmt = crate::sql::parse(sql).unwrap().pop().unwrap();
        lift(&stmt).map(|(s, v)| (s.to_string(), v))
    }

    #[test]
    fn comparisons_with_columns_in_the_where_chain_are_lifted() {
        assert_eq!(
            lifted("SELECT abalance FROM a WHERE aid = 42"),
            Some((
                "SELECT abalance FROM a WHERE aid = $1".into(),
                vec![Lifted::Int(42)]
            ))
        );
        assert_eq!(
            lifted("SELECT * FROM t WHERE 'x' <> t.name AND (id >= 7) AND v + 1 = 2"),
            Some((
                "SELECT * FROM t WHERE $1 <> t.name AND (id >= $2) AND v + 1 = 2".into(),
                vec![Lifted::Text("x".into()), Lifted::Int(7)]
            ))
        );
    }

    #[test]
    fn other_constants_stay() {
        for sql in [
            "SELECT 1 FROM t",
            "SELECT * FROM t WHERE id = 1 OR id = 2",
            "SELECT * FROM t WHERE id = 1.5",
            "SELECT * FROM t WHERE id = 1e3",
            "SELECT * FROM t WHERE id = -1",
            "SELECT * FROM t WHERE id = 99999999999999999999",
            "SELECT * FROM t WHERE id IN (1, 2)",
            "SELECT * FROM t WHERE d = DATE '2024-01-01'",
            "SELECT * FROM t WHERE id = $1 AND v = 2",
            "SELECT * FROM t WHERE id = 1 UNION SELECT * FROM t WHERE id = 2",
            "UPDATE t SET v = 1 WHERE id = 2",
        ] {
            assert_eq!(lifted(sql), None, "{sql}");
        }
    }
}
