//! The typed step for intervals (`types::interval`): arithmetic with
//! intervals and timestamps, comparisons by value, aggregates and the
//! interval functions become the `pg_interval_*` calls of
//! `store::udf::interval`; a quoted literal an interval meets is read as
//! one now (22007 for bad input, as PostgreSQL reports it at parse time).

use sqlparser::ast::{
    BinaryOperator as Op, DateTimeField, DuplicateTreatment, Expr, Function, FunctionArg,
    FunctionArgExpr, FunctionArguments, UnaryOperator, Value,
};

use super::expr::{arg_exprs, call, func_name, refuse, string, take};
use super::values::quoted;
use super::Typer;
use crate::error::{Error, Result};
use crate::sql::infer::expr::{interval_arith, is_quoted};
use crate::types::interval::Interval;
use crate::types::PgType;

/// Names of the calls this step emits, which it leaves alone when it meets
/// them again.
pub(super) fn is_interval_call(name: &str) -> bool {
    name.starts_with("pg_interval_")
        || name.starts_with("pg_timestamp_")
        || name.starts_with("pg_justify_")
        || matches!(name, "pg_age" | "pg_make_interval")
}

/// A quoted literal read as an interval, in its stored form.
fn literal_interval(e: &mut Expr) -> Result<()> {
    if let Some(text) = quoted(e) {
        *e = string(Interval::parse(text)?.format());
    }
    Ok(())
}

/// The lower-case name of an EXTRACT field.
fn field_name(f: &DateTimeField) -> String {
    match f {
        DateTimeField::Custom(i) => i.value.to_ascii_lowercase(),
        other => other.to_string().to_ascii_lowercase(),
    }
}

/// make_interval's parameters, in order.
const MAKE_INTERVAL: [&str; 7] = ["years", "months", "weeks", "days", "hours", "mins", "secs"];

/// `make_interval(…)` with every parameter given, in order (named ones
/// where they belong, the rest 0).
fn make_interval(f: &Function) -> Result<Expr> {
    let mut slots: Vec<Option<Expr>> = vec![None; MAKE_INTERVAL.len()];
    let FunctionArguments::List(list) = &f.args else {
        return Ok(call("pg_make_interval", zeros()));
    };
    for (i, a) in list.args.iter().enumerate() {
        let (slot, e) = match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => (i, e),
            FunctionArg::Named {
                name,
                arg: FunctionArgExpr::Expr(e),
                ..
            }
            | FunctionArg::ExprNamed {
                name: Expr::Identifier(name),
                arg: FunctionArgExpr::Expr(e),
                ..
            } => {
                let n = name.value.to_ascii_lowercase();
                let Some(slot) = MAKE_INTERVAL.iter().position(|p| *p == n) else {
                    return Err(Error::NoSuchFunction(format!(
                        "make_interval({n} => …) (no parameter named {n})"
                    )));
                };
                (slot, e)
            }
            _ => return Err(refuse("this form of make_interval's arguments".into())),
        };
        match slots.get_mut(slot) {
            Some(s @ None) => *s = Some(e.clone()),
            _ => {
                return Err(Error::NoSuchFunction(
                    "make_interval with these arguments".into(),
                ))
            }
        }
    }
    let args = slots
        .into_iter()
        .zip(zeros())
        .map(|(s, zero)| s.unwrap_or(zero))
        .collect();
    Ok(call("pg_make_interval", args))
}

fn zeros() -> Vec<Expr> {
    let n = |v: &str| Expr::Value(Value::Number(v.into(), false).into());
    let mut z: Vec<Expr> = (0..6).map(|_| n("0")).collect();
    z.push(n("0.0"));
    z
}

impl Typer<'_> {
    /// `+ - * /` where an interval takes part, and the difference of two
    /// timestamps; true when `e` was one.
    pub(super) fn interval_binary(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::BinaryOp { left, op, right } = e else {
            return Ok(false);
        };
        if !matches!(
            op,
            Op::Plus | Op::Minus | Op::Multiply | Op::Divide | Op::Modulo
        ) {
            return Ok(false);
        }
        let (lt, rt) = (self.type_of(left), self.type_of(right));
        let Some(result) = interval_arith(op, (&lt, left), (&rt, right)) else {
            return Ok(false);
        };
        let is_iv = |t: &PgType, e: &Expr| *t == PgType::Interval || is_quoted(e);
        *e = match (op.clone(), &result) {
            (_, PgType::Unknown) => {
                return Err(Error::NoSuchOperator(format!(
                    "operator does not exist: {} {op} {}",
                    lt.display_name(),
                    rt.display_name()
                )))
            }
            (Op::Plus | Op::Minus, PgType::Interval) if is_iv(&lt, left) && is_iv(&rt, right) => {
                literal_interval(left)?;
                literal_interval(right)?;
                let name = if *op == Op::Plus {
                    "pg_interval_add"
                } else {
                    "pg_interval_sub"
                };
                call(name, vec![take(left), take(right)])
            }
            // The difference of two timestamps (a literal read as the other).
            (Op::Minus, PgType::Interval) => {
                for (side, other) in [(&mut *left, &rt), (&mut *right, &lt)] {
                    if let Some(text) = quoted(side) {
                        **side = crate::sql::coerce::datum_expr(&other.parse_text(text)?);
                    }
                }
                call("pg_timestamp_diff", vec![take(left), take(right)])
            }
            (Op::Plus, _) if lt == PgType::Interval => {
                call("pg_timestamp_add_interval", vec![take(right), take(left)])
            }
            (Op::Plus | Op::Minus, _) => {
                literal_interval(right)?;
                let name = if *op == Op::Plus {
                    "pg_timestamp_add_interval"
                } else {
                    "pg_timestamp_sub_interval"
                };
                call(name, vec![take(left), take(right)])
            }
            (Op::Multiply, _) if lt == PgType::Interval => {
                call("pg_interval_mul", vec![take(left), take(right)])
            }
            (Op::Multiply, _) => call("pg_interval_mul", vec![take(right), take(left)]),
            _ => call("pg_interval_div", vec![take(left), take(right)]),
        };
        Ok(true)
    }

    /// `-interval`; true when `e` was one.
    pub(super) fn interval_unary(&mut self, e: &mut Expr) -> bool {
        let Expr::UnaryOp { op, expr } = e else {
            return false;
        };
        if self.type_of(expr) != PgType::Interval {
            return false;
        }
        match op {
            UnaryOperator::Minus => *e = call("pg_interval_neg", vec![take(expr)]),
            UnaryOperator::Plus => *e = take(expr),
            _ => return false,
        }
        true
    }

    /// Operands compared where one is an interval: literals read as
    /// intervals, the first operand under the interval collation (SQLite
    /// compares under the left operand's collation).
    pub(super) fn interval_compared(&mut self, operands: &mut [&mut Expr]) -> Result<()> {
        let types: Vec<PgType> = operands.iter().map(|e| self.type_of(e)).collect();
        if !types.contains(&PgType::Interval) {
            return Ok(());
        }
        for e in operands.iter_mut() {
            literal_interval(e)?;
        }
        if let Some(first) = operands.first_mut() {
            **first = super::collate_as(take(first), &PgType::Interval);
        }
        Ok(())
    }

    /// `extract(field FROM interval)`; true when `e` was one.
    pub(super) fn interval_extract(&mut self, e: &mut Expr) -> bool {
        let Expr::Extract { field, expr, .. } = e else {
            return false;
        };
        if self.type_of(expr) != PgType::Interval {
            return false;
        }
        let zero = Expr::Value(Value::Number("0".into(), false).into());
        *e = call(
            "pg_interval_part",
            vec![string(field_name(field)), take(expr), zero],
        );
        true
    }

    /// Aggregates and functions over intervals; true when `e` became
    /// another call.
    pub(super) fn interval_call(&mut self, e: &mut Expr, types: &[PgType]) -> Result<bool> {
        let Expr::Function(f) = e else {
            return Ok(false);
        };
        let name = func_name(f);
        let distinct = matches!(
            &f.args,
            FunctionArguments::List(l) if matches!(l.duplicate_treatment, Some(DuplicateTreatment::Distinct))
        );
        let rename = |f: &mut Function, to: &str| {
            f.name = sqlparser::ast::ObjectName::from(vec![sqlparser::ast::Ident::new(to)])
        };
        let collate_args = |f: &mut Function| {
            for a in arg_exprs(f) {
                *a = super::collate_as(take(a), &PgType::Interval);
            }
        };
        match (name.as_str(), types) {
            ("sum" | "avg", [PgType::Interval]) => {
                if f.over.is_some() {
                    return Err(refuse(format!("{name}(interval) as a window function")));
                }
                rename(f, &format!("pg_interval_{name}"));
                if distinct {
                    collate_args(f);
                }
            }
            ("min" | "max", [PgType::Interval]) => collate_args(f),
            ("count", [PgType::Interval]) if distinct => collate_args(f),
            ("age", [_]) => {
                let arg = arg_exprs(f).into_iter().map(take).collect::<Vec<_>>();
                let today = call("pg_current_date", vec![]);
                *e = call("pg_age", std::iter::once(today).chain(arg).collect());
            }
            ("age", [_, _]) => rename(f, "pg_age"),
            ("justify_days" | "justify_hours" | "justify_interval", [_]) => {
                for a in arg_exprs(f) {
                    literal_interval(a)?;
                }
                rename(f, &format!("pg_{name}"));
            }
            ("make_interval", _) => *e = make_interval(f)?,
            ("date_part", [_, PgType::Interval]) => {
                let mut args: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
                args.push(Expr::Value(Value::Number("1".into(), false).into()));
                *e = call("pg_interval_part", args);
            }
            ("date_trunc", [_, PgType::Interval]) => {
                return Err(refuse("date_trunc of an interval".into()))
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
