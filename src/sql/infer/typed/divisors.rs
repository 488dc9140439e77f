//! `div`, `gcd`, `lcm`, `width_bucket` and `to_hex`, resolved among their
//! PostgreSQL forms by the argument types (as PostgreSQL picks: the form
//! with the most exactly matching arguments, double precision on a tie)
//! and told their form (`store::udf::divisors`).

use sqlparser::ast::{Expr, Function};

use super::expr::{arg_exprs, call, string, take};
use crate::error::{Error, Result};
use crate::types::PgType;

fn shown(types: &[PgType]) -> String {
    types
        .iter()
        .map(PgType::display_name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn integer(t: &PgType) -> bool {
    matches!(
        t,
        PgType::Int2 | PgType::Int4 | PgType::Int8 | PgType::Unknown
    )
}

fn number(t: &PgType) -> bool {
    integer(t) || matches!(t, PgType::Numeric(_) | PgType::Float4 | PgType::Float8)
}

/// The call for one of these functions; `None` for other names.
pub(super) fn call_for(name: &str, f: &mut Function, types: &[PgType]) -> Result<Option<Expr>> {
    if !matches!(name, "div" | "gcd" | "lcm" | "width_bucket" | "to_hex") {
        return Ok(None);
    }
    // A quoted literal takes its type from the function (unknown).
    let types: Vec<PgType> = arg_exprs(f)
        .into_iter()
        .zip(types)
        .map(|(a, t)| match a {
            Expr::Value(v) if matches!(v.value, sqlparser::ast::Value::SingleQuotedString(_)) => {
                PgType::Unknown
            }
            _ => t.clone(),
        })
        .collect();
    let types = types.as_slice();
    let no_such = || Error::NoSuchFunction(format!("{name}({})", shown(types)));
    let not_unique = || {
        Error::AmbiguousFunction(format!("function {name}({}) is not unique", shown(types)))
            .with_hint("Could not choose a best candidate function. You might need to add explicit type casts.")
    };
    let form = match name {
        "div" => {
            if types.len() != 2 || !types.iter().all(number) {
                return Err(no_such());
            }
            if types
                .iter()
                .any(|t| matches!(t, PgType::Float4 | PgType::Float8))
            {
                // div has a numeric form only; doubles are not cast to it
                // implicitly.
                return Err(no_such());
            }
            "numeric"
        }
        "gcd" | "lcm" => match types {
            [a, b] if integer(a) && integer(b) => {
                if matches!((a, b), (PgType::Int2, PgType::Int2)) {
                    return Err(not_unique());
                }
                if matches!(a, PgType::Int8) || matches!(b, PgType::Int8) {
                    "int8"
                } else {
                    "int4"
                }
            }
            [a, b]
                if [a, b]
                    .iter()
                    .all(|t| integer(t) || matches!(t, PgType::Numeric(_))) =>
            {
                "numeric"
            }
            _ => return Err(no_such()),
        },
        "width_bucket" => {
            if types.len() != 4 || !types[..3].iter().all(number) || !integer(&types[3]) {
                if types.len() == 2 {
                    return Err(Error::Unsupported(
                        "width_bucket with an array of thresholds".into(),
                    ));
                }
                return Err(no_such());
            }
            let floats = types[..3].iter().filter(|t| **t == PgType::Float8).count();
            let numerics = types[..3]
                .iter()
                .filter(|t| matches!(t, PgType::Numeric(_)))
                .count();
            if numerics > floats {
                "numeric"
            } else {
                "float8"
            }
        }
        "to_hex" => match types {
            [PgType::Int2] => return Err(not_unique()),
            [PgType::Int4 | PgType::Unknown] => "int4",
            [PgType::Int8] => "int8",
            _ => return Err(no_such()),
        },
        _ => return Ok(None),
    };
    let mut args: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
    args.push(string(form.into()));
    let udf = match name {
        "div" => "pg_div_trunc".to_string(),
        n => format!("pg_{n}"),
    };
    Ok(Some(call(&udf, args)))
}

impl super::Typer<'_> {
    /// `substring(string FROM pattern)` with a text pattern: the regular
    /// expression form (`store::udf::regexp`); with `FOR escape` too, the
    /// SQL one, not built. True when `e` was one.
    pub(super) fn regex_substring(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::Substring {
            expr,
            substring_from: Some(from),
            substring_for,
            ..
        } = e
        else {
            return Ok(false);
        };
        let literal = matches!(from.as_ref(), Expr::Value(v)
            if matches!(v.value, sqlparser::ast::Value::SingleQuotedString(_)));
        let text = literal
            || matches!(
                self.type_of(from),
                PgType::Text | PgType::Varchar(_) | PgType::Bpchar(_)
            );
        if !text {
            return Ok(false);
        }
        if substring_for.is_some() {
            return Err(Error::Unsupported(
                "substring(string FROM pattern FOR escape)".into(),
            ));
        }
        *e = call("pg_regexp_substring", vec![take(expr), take(from)]);
        Ok(true)
    }
}
