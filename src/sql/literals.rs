//! The constants of a simple query as parameters: `WHERE aid = 5` becomes
//! `WHERE aid = $1` with 5 beside it, so that queries differing only in
//! such constants share one prepared form (`exec::lifted` keeps it), as a
//! client's prepared statement would.
//!
//! Only where a parameter means what the literal meant: an integer that
//! fits 64 bits, or a string, compared (`=`, `<>`, `<`, `<=`, `>`, `>=`)
//! with a bare column, in the top-level AND chain of a single SELECT's,
//! UPDATE's or DELETE's WHERE; assigned by an UPDATE (alone, or with a
//! column by `+`, `-`, `*`); a whole value of an INSERT's VALUES row.
//! Whether the parameter is of the literal's kind (an integer type that
//! holds the integer, a text type for a string) is the caller's to check,
//! from the parameter types the prepared form infers; where one is not,
//! the statement runs as sent.

use sqlparser::ast::{BinaryOperator, Expr, SetExpr, Statement, Value, ValueWithSpan};

/// A constant taken out of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Lifted {
    /// An integer compared with a column: any 64-bit value.
    Int(i64),
    /// An integer stored (assigned by SET, a value of VALUES): only one
    /// its parameter's type holds means what the literal meant.
    Stored(i64),
    Text(String),
}

/// `stmt` with its liftable constants as `$1..$n`, and those constants in
/// order; `None` when it has none (or is none of the statements below, or
/// already has parameters).
///
/// Besides a SELECT's WHERE: an UPDATE's or DELETE's WHERE (the same
/// comparisons), an UPDATE's `SET c = constant` and `SET c = c + constant`
/// (`-`, `*` alike, either side), and the constants that are whole values
/// of an INSERT's VALUES rows: each takes the type of what it is
/// assigned to, compared with or added to, as the literal would.
pub fn lift(stmt: &Statement) -> Option<(Statement, Vec<Lifted>)> {
    if has_placeholder(stmt) {
        return None;
    }
    let mut out = stmt.clone();
    let mut lifted = Vec::new();
    match &mut out {
        Statement::Query(q) => {
            let SetExpr::Select(sel) = q.body.as_mut() else {
                return None;
            };
            lift_conjuncts(sel.selection.as_mut()?, &mut lifted);
        }
        Statement::Update(up) => {
            for a in &mut up.assignments {
                lift_assigned(&mut a.value, &mut lifted);
            }
            stored(&mut lifted);
            if let Some(w) = up.selection.as_mut() {
                lift_conjuncts(w, &mut lifted);
            }
        }
        Statement::Delete(del) => lift_conjuncts(del.selection.as_mut()?, &mut lifted),
        Statement::Insert(ins) => {
            let SetExpr::Values(values) = ins.source.as_mut()?.body.as_mut() else {
                return None;
            };
            for v in values.rows.iter_mut().flat_map(|r| r.content.iter_mut()) {
                lift_here(v, &mut lifted);
            }
            stored(&mut lifted);
        }
        _ => return None,
    }
    (!lifted.is_empty()).then_some((out, lifted))
}

/// The integers lifted so far are stored ones.
fn stored(lifted: &mut [Lifted]) {
    for v in lifted {
        if let Lifted::Int(i) = v {
            *v = Lifted::Stored(*i);
        }
    }
}

/// An assigned value: a constant, or a column and a constant combined by
/// `+`, `-` or `*`.
fn lift_assigned(e: &mut Expr, lifted: &mut Vec<Lifted>) {
    if let Expr::BinaryOp { left, op, right } = e {
        if matches!(
            op,
            BinaryOperator::Plus | BinaryOperator::Minus | BinaryOperator::Multiply
        ) {
            match (left.as_ref(), right.as_ref()) {
                (Expr::Identifier(_) | Expr::CompoundIdentifier(_), _) => lift_here(right, lifted),
                (_, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) => lift_here(left, lifted),
                _ => {}
            }
        }
        return;
    }
    lift_here(e, lifted);
}

/// `e` as the next parameter, when it is a constant that can be lifted.
fn lift_here(e: &mut Expr, lifted: &mut Vec<Lifted>) {
    if let Some(value) = constant(e) {
        lifted.push(value);
        *e = Expr::Value(ValueWithSpan::from(Value::Placeholder(format!(
            "${}",
            lifted.len()
        ))));
    }
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
            lift_here(literal, lifted);
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
    // A negative integer: the literal's minus sign, as PostgreSQL folds it.
    if let Expr::UnaryOp {
        op: sqlparser::ast::UnaryOperator::Minus,
        expr,
    } = e
    {
        return match constant(expr)? {
            Lifted::Int(i) => Some(Lifted::Int(-i)),
            _ => None,
        };
    }
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
    fn writes_lift_their_where_set_and_values_constants() {
        assert_eq!(
            lifted("UPDATE a SET abalance = abalance + -4123, n = 7 WHERE aid = 51 AND x = 'y'"),
            Some((
                "UPDATE a SET abalance = abalance + $1, n = $2 WHERE aid = $3 AND x = $4".into(),
                vec![
                    Lifted::Stored(-4123),
                    Lifted::Stored(7),
                    Lifted::Int(51),
                    Lifted::Text("y".into())
                ]
            ))
        );
        assert_eq!(
            lifted("INSERT INTO h (a, b, t) VALUES (1, -2, CURRENT_TIMESTAMP), (3, 'x', now())"),
            Some((
                "INSERT INTO h (a, b, t) VALUES ($1, $2, CURRENT_TIMESTAMP), ($3, $4, now())"
                    .into(),
                vec![
                    Lifted::Stored(1),
                    Lifted::Stored(-2),
                    Lifted::Stored(3),
                    Lifted::Text("x".into())
                ]
            ))
        );
        assert_eq!(
            lifted("DELETE FROM t WHERE id = 5"),
            Some(("DELETE FROM t WHERE id = $1".into(), vec![Lifted::Int(5)]))
        );
        assert_eq!(
            lifted("SELECT * FROM t WHERE id = -1"),
            Some((
                "SELECT * FROM t WHERE id = $1".into(),
                vec![Lifted::Int(-1)]
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
            "SELECT * FROM t WHERE id = 99999999999999999999",
            "SELECT * FROM t WHERE id IN (1, 2)",
            "SELECT * FROM t WHERE d = DATE '2024-01-01'",
            "SELECT * FROM t WHERE id = $1 AND v = 2",
            "SELECT * FROM t WHERE id = 1 UNION SELECT * FROM t WHERE id = 2",
            "UPDATE t SET v = f(1) WHERE id IN (2, 3)",
            "UPDATE t SET v = v || 'x' WHERE id = $1",
            "INSERT INTO t SELECT 1",
            "SELECT * FROM t WHERE id = -'1'",
        ] {
            assert_eq!(lifted(sql), None, "{sql}");
        }
    }
}
