//! Constants in a filter, and what they are when compared with a column.
//!
//! Only what is certain is understood: integer and float literals, plain
//! strings, booleans, NULL, `$n`, unary minus and plus, and casts of those to
//! integer, float and text types. Anything else (functions, dates, escaped
//! strings, varchar(n) truncation, non-integral casts to integers that
//! PostgreSQL would round) is `None`, which keeps the shard.

use sqlparser::ast::{CastKind, Expr, UnaryOperator, Value};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::types::shard::normalize;
use crate::types::table::Column;
use crate::types::{Datum, PgType, Storage};

/// A constant before it meets a column.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Lit {
    /// A numeric literal, as written (sign included).
    Num(String),
    /// A string literal of unknown type.
    Str(String),
    Bool(bool),
    Null,
    /// A value of known storage: a parameter or a cast literal.
    Typed(Datum),
}

/// The constant `e`, if it is one.
pub(super) fn constant(e: &Expr, params: &[Datum]) -> Option<Lit> {
    match e {
        Expr::Nested(inner) => constant(inner, params),
        Expr::Value(v) => match &v.value {
            Value::Number(n, false) => Some(Lit::Num(n.to_string())),
            Value::SingleQuotedString(s) => Some(Lit::Str(s.clone())),
            Value::DollarQuotedString(s) => Some(Lit::Str(s.value.clone())),
            Value::Boolean(b) => Some(Lit::Bool(*b)),
            Value::Null => Some(Lit::Null),
            Value::Placeholder(p) => {
                let n: usize = p.strip_prefix('$')?.parse().ok()?;
                let d = params.get(n.checked_sub(1)?)?;
                Some(Lit::Typed(d.clone()))
            }
            _ => None,
        },
        Expr::UnaryOp { op, expr } => {
            let inner = constant(expr, params)?;
            match (op, inner) {
                (
                    UnaryOperator::Plus,
                    lit @ (Lit::Num(_) | Lit::Typed(Datum::Int(_) | Datum::Real(_))),
                ) => Some(lit),
                (UnaryOperator::Minus, Lit::Num(n)) => Some(Lit::Num(match n.strip_prefix('-') {
                    Some(pos) => pos.to_string(),
                    None => format!("-{n}"),
                })),
                (UnaryOperator::Minus, Lit::Typed(Datum::Int(i))) => {
                    Some(Lit::Typed(Datum::Int(i.checked_neg()?)))
                }
                (UnaryOperator::Minus, Lit::Typed(Datum::Real(f))) => {
                    Some(Lit::Typed(Datum::Real(-f)))
                }
                (UnaryOperator::Minus | UnaryOperator::Plus, Lit::Null) => Some(Lit::Null),
                _ => None,
            }
        }
        Expr::Cast {
            kind: CastKind::Cast | CastKind::DoubleColon,
            expr,
            data_type,
            format: None,
        } => {
            if crate::types::timestamp_precision(data_type).is_some() {
                return None;
            }
            let ty = PgType::from_sql(data_type).ok()?;
            let lit = constant(expr, params)?;
            cast(&ty, lit).map(Lit::Typed)
        }
        _ => None,
    }
}

/// `lit::ty`, where certain.
fn cast(ty: &PgType, lit: Lit) -> Option<Datum> {
    if lit == Lit::Null || lit == Lit::Typed(Datum::Null) {
        return Some(Datum::Null);
    }
    match (ty, ty.storage()) {
        (PgType::Bool, _) => match lit {
            Lit::Bool(b) => Some(Datum::Int(i64::from(b))),
            _ => None,
        },
        (_, Storage::Integer) => match lit {
            Lit::Num(n) => n.parse().ok().map(Datum::Int),
            Lit::Str(s) | Lit::Typed(Datum::Text(s)) => ty.parse_text(&s).ok(),
            Lit::Typed(Datum::Int(i)) => Some(Datum::Int(i)),
            _ => None,
        },
        (_, Storage::Real) => match lit {
            Lit::Num(n) => finite_or_inf(n.parse().ok()?),
            Lit::Str(s) | Lit::Typed(Datum::Text(s)) => match ty.parse_text(&s).ok()? {
                Datum::Real(f) => finite_or_inf(f),
                _ => None,
            },
            Lit::Typed(Datum::Int(i)) => Some(Datum::Real(i as f64)),
            Lit::Typed(Datum::Real(f)) => finite_or_inf(f),
            _ => None,
        },
        (PgType::Text | PgType::Varchar(None), _) => match lit {
            Lit::Str(s) | Lit::Typed(Datum::Text(s)) => Some(Datum::Text(s)),
            _ => None,
        },
        _ => None,
    }
}

/// A real, unless NaN (SQLite turns a bound NaN into NULL; not worth the risk).
fn finite_or_inf(f: f64) -> Option<Datum> {
    (!f.is_nan()).then_some(Datum::Real(f))
}

/// The value `lit` has when compared with a column of type `ty`, or `None`
/// when that is not certain. Numbers stay exact (an integer compared with a
/// REAL column stays an integer: zone maps compare exactly, and blooms
/// normalize it themselves).
pub(super) fn value_for(ty: &PgType, lit: Lit) -> Option<Datum> {
    let storage = ty.storage();
    match lit {
        Lit::Null | Lit::Typed(Datum::Null) => Some(Datum::Null),
        Lit::Bool(b) => (*ty == PgType::Bool).then_some(Datum::Int(i64::from(b))),
        Lit::Num(n) => match storage {
            Storage::Integer | Storage::Real => match n.parse::<i64>() {
                Ok(i) => Some(Datum::Int(i)),
                Err(_) => finite_or_inf(n.parse().ok()?),
            },
            _ => None,
        },
        Lit::Str(s) | Lit::Typed(Datum::Text(s)) => match (ty, storage) {
            (PgType::Bool, _) => None,
            (_, Storage::Integer | Storage::Real) => match ty.parse_text(&s).ok()? {
                Datum::Real(f) => finite_or_inf(f),
                d => Some(d),
            },
            (PgType::Text | PgType::Varchar(_), _) => Some(Datum::Text(s)),
            _ => None,
        },
        Lit::Typed(d @ Datum::Int(_)) => {
            matches!(storage, Storage::Integer | Storage::Real).then_some(d)
        }
        Lit::Typed(Datum::Real(f)) => match storage {
            Storage::Integer | Storage::Real => finite_or_inf(f),
            _ => None,
        },
        Lit::Typed(Datum::Blob(_)) => None,
    }
}

/// The value every row of a shard sealed before `column` existed holds: its
/// default (NULL without one), when that default is a constant.
pub(super) fn default_value(column: &Column) -> Option<Datum> {
    let Some(text) = column.missing_value() else {
        return Some(Datum::Null);
    };
    let expr = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(text)
        .ok()?
        .parse_expr()
        .ok()?;
    let v = value_for(&column.ty, constant(&expr, &[])?)?;
    Some(normalize(column.ty.storage(), &v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(sql: &str, params: &[Datum]) -> Option<Lit> {
        let e = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(sql)
            .unwrap()
            .parse_expr()
            .unwrap();
        constant(&e, params)
    }

    #[test]
    fn constants() {
        assert_eq!(lit("42", &[]), Some(Lit::Num("42".into())));
        assert_eq!(lit("-42", &[]), Some(Lit::Num("-42".into())));
        assert_eq!(lit("- -4.5", &[]), Some(Lit::Num("4.5".into())));
        assert_eq!(lit("'x'", &[]), Some(Lit::Str("x".into())));
        assert_eq!(
            lit("$2", &[Datum::Int(1), Datum::Int(2)]),
            Some(Lit::Typed(Datum::Int(2)))
        );
        assert_eq!(lit("$3", &[Datum::Int(1)]), None);
        assert_eq!(lit("$0", &[Datum::Int(1)]), None);
        assert_eq!(lit("'5'::int", &[]), Some(Lit::Typed(Datum::Int(5))));
        assert_eq!(lit("5::bigint", &[]), Some(Lit::Typed(Datum::Int(5))));
        assert_eq!(
            lit("CAST(-5 AS bigint)", &[]),
            Some(Lit::Typed(Datum::Int(-5)))
        );
        assert_eq!(lit("1.5::int", &[]), None, "PostgreSQL rounds");
        assert_eq!(lit("'abc'::varchar(2)", &[]), None, "PostgreSQL truncates");
        assert_eq!(lit("'NaN'::float8", &[]), None);
        assert_eq!(lit("abs(1)", &[]), None);
        assert_eq!(lit("E'a\\nb'", &[]), None);
    }

    #[test]
    fn values_for_column_types() {
        let v = |ty: PgType, l: Lit| value_for(&ty, l);
        assert_eq!(v(PgType::Int8, Lit::Str("7".into())), Some(Datum::Int(7)));
        assert_eq!(v(PgType::Int8, Lit::Str("x".into())), None);
        assert_eq!(
            v(PgType::Int8, Lit::Num("7.5".into())),
            Some(Datum::Real(7.5))
        );
        assert_eq!(v(PgType::Float8, Lit::Num("7".into())), Some(Datum::Int(7)));
        assert_eq!(v(PgType::Text, Lit::Num("7".into())), None);
        assert_eq!(v(PgType::Date, Lit::Str("2024-1-1".into())), None);
        assert_eq!(v(PgType::Bool, Lit::Bool(true)), Some(Datum::Int(1)));
        assert_eq!(v(PgType::Int4, Lit::Bool(true)), None);
        assert_eq!(v(PgType::Text, Lit::Null), Some(Datum::Null));
    }
}
