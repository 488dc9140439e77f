//! Typing of string literals by context, as PostgreSQL does: a quoted
//! literal assigned to, inserted into or compared with a column takes the
//! column's type. The literal is parsed and validated with that type's
//! input function (so `'abc'` for an integer is 22P02, `'t'` for a boolean
//! is true, a timestamptz is normalized to UTC, read in the session's zone
//! where the typed step marked it `pg_tz_instant('…')`) and replaced by the stored
//! value, so SQLite compares and stores like with like.

use std::collections::HashMap;
use std::ops::ControlFlow;

use sqlparser::ast::{
    AssignmentTarget, BinaryOperator, Expr, SetExpr, Statement, TableObject, Value, ValueWithSpan,
};

use crate::error::{Error, Result};
use crate::sql::{ident_name, object_name, Schema};
use crate::types::zone::Zone;
use crate::types::{Datum, PgType};

/// The literal SQLite reads as `d`.
pub fn datum_expr(d: &Datum) -> Expr {
    let v = match d {
        Datum::Null => Value::Null,
        Datum::Int(i) => Value::Number(i.to_string(), false),
        Datum::Real(f) if f.is_finite() => Value::Number(format!("{f:?}"), false),
        Datum::Real(f) => {
            // SQLite has no literal for infinities or NaN.
            let text = if f.is_nan() {
                "0.0/0.0"
            } else if *f > 0.0 {
                "9e999"
            } else {
                "-9e999"
            };
            return Expr::Nested(Box::new(Expr::Value(ValueWithSpan::from(
                Value::Placeholder(text.to_string()),
            ))));
        }
        Datum::Text(s) => Value::SingleQuotedString(s.clone()),
        Datum::Blob(b) => Value::HexStringLiteral(b.iter().map(|x| format!("{x:02X}")).collect()),
    };
    Expr::Value(ValueWithSpan::from(v))
}

fn string_literal(e: &Expr) -> Option<&str> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// The text of `pg_tz_instant('…')`: a quoted timestamptz the typed step
/// leaves to be read in the session's zone when the statement runs.
fn zoned_literal(e: &Expr) -> Option<&str> {
    let Expr::Function(f) = e else {
        return None;
    };
    if object_name(&f.name) != "pg_tz_instant" {
        return None;
    }
    let sqlparser::ast::FunctionArguments::List(l) = &f.args else {
        return None;
    };
    match l.args.as_slice() {
        [sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(a))] => {
            string_literal(a)
        }
        _ => None,
    }
}

/// The type of an integer or boolean constant (`1`, `3000000000`,
/// `true`), which a quoted literal compared with it takes, as in
/// PostgreSQL (`SELECT 1 = '1'` is true).
fn constant_type(e: &Expr) -> Option<PgType> {
    let Expr::Value(v) = e else { return None };
    match &v.value {
        Value::Number(n, _) if n.parse::<i32>().is_ok() => Some(PgType::Int4),
        Value::Number(n, _) if n.parse::<i64>().is_ok() => Some(PgType::Int8),
        Value::Boolean(_) => Some(PgType::Bool),
        _ => None,
    }
}

fn coerce(e: &mut Expr, ty: &PgType, zone: Zone, assigned: bool) -> Result<()> {
    // Beside a timestamptz column, read now (so the column's shards can be
    // pruned by the value). A plain quoted timestamptz has its offset or
    // is one this step stored already (a statement can pass here twice):
    // read in UTC, it stays what it is.
    if let (PgType::Timestamptz, Some(s)) = (ty, zoned_literal(e)) {
        *e = datum_expr(&ty.parse_text_in(s, zone)?);
        return Ok(());
    }
    if let Some(s) = string_literal(e) {
        let d = ty.parse_text(s)?;
        *e = datum_expr(&d);
        return Ok(());
    }
    // A number assigned to numeric(p, s) is rounded to its scale (and
    // checked against its precision); an integer assigned to a narrower
    // integer type is range-checked (compared with one, it stays itself:
    // `int4col = 3000000000` is false, as in PostgreSQL, not an error).
    let number = match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => Some(n.clone()),
            _ => None,
        },
        Expr::UnaryOp {
            op: sqlparser::ast::UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => Some(format!("-{n}")),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    };
    if let Some(n) = number {
        let integral = !n.contains(['.', 'e', 'E']);
        let applies = match ty {
            PgType::Numeric(Some(_)) => true,
            PgType::Int2 | PgType::Int4 | PgType::Int8 => integral && assigned,
            _ => false,
        };
        if applies {
            // An integer literal too big for the column fails as
            // PostgreSQL's cast of it does (`smallint out of range`).
            let bounds = match ty {
                PgType::Int2 => Some(("smallint", i64::from(i16::MIN), i64::from(i16::MAX))),
                PgType::Int4 => Some(("integer", i64::from(i32::MIN), i64::from(i32::MAX))),
                _ => None,
            };
            if let (Some((name, lo, hi)), Ok(v)) = (bounds, n.parse::<i64>()) {
                if v < lo || v > hi {
                    return Err(Error::NumericOutOfRange(format!("{name} out of range")));
                }
            }
            *e = datum_expr(&ty.parse_text(&n)?);
        }
    }
    Ok(())
}

/// Column types by column name over the tables a statement mentions; a
/// name whose type differs between tables is left out (ambiguous).
fn column_types(stmt: &Statement, catalog: &dyn Schema) -> HashMap<String, PgType> {
    let mut types: HashMap<String, Option<PgType>> = HashMap::new();
    let _ = sqlparser::ast::visit_relations(stmt, |name| {
        if let Some(def) = catalog.table(&object_name(name)) {
            for c in &def.columns {
                types
                    .entry(c.name.clone())
                    .and_modify(|t| {
                        if t.as_ref() != Some(&c.ty) {
                            *t = None
                        }
                    })
                    .or_insert(Some(c.ty.clone()));
            }
        }
        ControlFlow::<()>::Continue(())
    });
    types
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

fn column_of<'a>(e: &Expr, types: &'a HashMap<String, PgType>) -> Option<&'a PgType> {
    let name = match e {
        Expr::Identifier(i) => ident_name(i),
        Expr::CompoundIdentifier(parts) => ident_name(parts.last()?),
        _ => return None,
    };
    types.get(&name)
}

/// Coerce the string literals of `stmt` by context (see the module doc);
/// a timestamptz without an offset (`pg_tz_instant('…')`, as the typed
/// step leaves it) is read in the session's `zone`.
pub fn coerce_literals(stmt: &mut Statement, catalog: &dyn Schema, zone: Zone) -> Result<()> {
    let types = column_types(stmt, catalog);
    match stmt {
        Statement::Insert(ins) => {
            if let TableObject::TableName(name) = &ins.table {
                if let Some(def) = catalog.table(&object_name(name)) {
                    let targets: Vec<Option<PgType>> = if ins.columns.is_empty() {
                        def.columns.iter().map(|c| Some(c.ty.clone())).collect()
                    } else {
                        ins.columns
                            .iter()
                            .map(|c| {
                                c.0.last()
                                    .and_then(|p| p.as_ident())
                                    .and_then(|i| def.column_index(&ident_name(i)))
                                    .map(|i| def.columns[i].ty.clone())
                            })
                            .collect()
                    };
                    if let Some(src) = ins.source.as_mut() {
                        if let SetExpr::Values(values) = src.body.as_mut() {
                            for row in &mut values.rows {
                                for (e, ty) in row.iter_mut().zip(&targets) {
                                    if let Some(ty) = ty {
                                        coerce(e, ty, zone, true)?;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        Statement::Update(up) => {
            for a in &mut up.assignments {
                if let AssignmentTarget::ColumnName(name) = &a.target {
                    let col = name.0.last().and_then(|p| p.as_ident()).map(ident_name);
                    if let Some(ty) = col.and_then(|c| types.get(&c)) {
                        coerce(&mut a.value, ty, zone, true)?;
                    }
                }
            }
        }
        _ => {}
    }
    let flow = sqlparser::ast::visit_expressions_mut(stmt, |e| {
        let r = match e {
            Expr::BinaryOp {
                left,
                op:
                    BinaryOperator::Eq
                    | BinaryOperator::NotEq
                    | BinaryOperator::Lt
                    | BinaryOperator::LtEq
                    | BinaryOperator::Gt
                    | BinaryOperator::GtEq,
                right,
            } => {
                if let Some(ty) = column_of(left, &types) {
                    coerce(right, ty, zone, false)
                } else if let Some(ty) = column_of(right, &types) {
                    coerce(left, ty, zone, false)
                } else if let (Some(ty), Some(_)) = (constant_type(left), string_literal(right)) {
                    coerce(right, &ty, zone, false)
                } else if let (Some(ty), Some(_)) = (constant_type(right), string_literal(left)) {
                    coerce(left, &ty, zone, false)
                } else {
                    Ok(())
                }
            }
            Expr::In {
                expr,
                target: sqlparser::ast::InTarget::List(list),
                ..
            } => match column_of(expr, &types) {
                Some(ty) => list.iter_mut().try_for_each(|x| coerce(x, ty, zone, false)),
                None => Ok(()),
            },
            Expr::Between {
                expr, low, high, ..
            } => match column_of(expr, &types) {
                Some(ty) => {
                    coerce(low, ty, zone, false).and_then(|_| coerce(high, ty, zone, false))
                }
                None => Ok(()),
            },
            _ => Ok(()),
        };
        match r {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    });
    match flow {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}
