//! The typed step for `time` (`types::datetime::parse_time`): `time ±
//! interval` (the interval's days and months ignored, the result wrapping
//! around midnight), `time - time` (an interval), `date + time` (a
//! timestamp), `extract` and `date_part` of a time, `make_time` and
//! `localtime`, as the `pg_time_*` calls of `store::udf::time`.

use sqlparser::ast::{BinaryOperator as Op, Expr};

use super::expr::{arg_exprs, call, func_name, string, take};
use super::values::quoted;
use super::Typer;
use crate::error::{Error, Result};
use crate::types::interval::Interval;
use crate::types::PgType;

/// The result type of `l op r` where a time takes part, as PostgreSQL
/// resolves the operators (a quoted literal takes the type the operator
/// wants); `None` where none applies.
pub(crate) fn time_arith(op: &Op, l: (&PgType, &Expr), r: (&PgType, &Expr)) -> Option<PgType> {
    let quoted = |e: &Expr| super::super::expr::is_quoted(e);
    let time = |t: &PgType| *t == PgType::Time;
    Some(match op {
        Op::Plus if time(l.0) && (*r.0 == PgType::Interval || quoted(r.1)) => PgType::Time,
        Op::Plus if *l.0 == PgType::Interval && time(r.0) => PgType::Time,
        Op::Plus if (time(l.0) && *r.0 == PgType::Date) || (*l.0 == PgType::Date && time(r.0)) => {
            PgType::Timestamp
        }
        Op::Minus if time(l.0) && *r.0 == PgType::Interval => PgType::Time,
        Op::Minus if time(l.0) && (time(r.0) || quoted(r.1)) => PgType::Interval,
        Op::Minus if quoted(l.1) && time(r.0) => PgType::Interval,
        _ => return None,
    })
}

/// The fields `extract` and `date_part` take from a time.
fn check_field(field: &str) -> Result<()> {
    const TIME_UNITS: &[&str] = &[
        "microsecond",
        "microseconds",
        "usec",
        "usecs",
        "us",
        "millisecond",
        "milliseconds",
        "msec",
        "msecs",
        "ms",
        "second",
        "seconds",
        "sec",
        "secs",
        "s",
        "minute",
        "minutes",
        "min",
        "mins",
        "m",
        "hour",
        "hours",
        "h",
        "hr",
        "hrs",
        "epoch",
    ];
    const DATE_UNITS: &[&str] = &[
        "day",
        "days",
        "d",
        "month",
        "months",
        "mon",
        "mons",
        "quarter",
        "qtr",
        "year",
        "years",
        "y",
        "yr",
        "yrs",
        "decade",
        "decades",
        "dec",
        "decs",
        "century",
        "centuries",
        "c",
        "cent",
        "millennium",
        "millennia",
        "mil",
        "mils",
        "week",
        "weeks",
        "w",
        "dow",
        "doy",
        "isodow",
        "isoyear",
        "julian",
        "timezone",
        "timezone_hour",
        "timezone_minute",
    ];
    if TIME_UNITS.contains(&field) {
        Ok(())
    } else if DATE_UNITS.contains(&field) {
        Err(Error::NotSupported(format!(
            "unit \"{field}\" not supported for type time without time zone"
        )))
    } else {
        Err(Error::InvalidParameter(format!(
            "unit \"{field}\" not recognized for type time without time zone"
        )))
    }
}

/// A quoted literal read as a time or an interval, in its stored form.
fn literal(e: &mut Expr, ty: &PgType) -> Result<()> {
    if let Some(text) = quoted(e) {
        let stored = match ty {
            PgType::Interval => Interval::parse(text)?.format(),
            _ => crate::types::datetime::format_time(crate::types::datetime::parse_time(text)?),
        };
        *e = string(stored);
    }
    Ok(())
}

fn number(v: &str) -> Expr {
    Expr::Value(sqlparser::ast::Value::Number(v.into(), false).into())
}

impl Typer<'_> {
    /// `l op r` where a time takes part; true when `e` was one.
    pub(super) fn time_binary(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::BinaryOp { left, op, right } = e else {
            return Ok(false);
        };
        let (lt, rt) = (self.type_of(left), self.type_of(right));
        let Some(result) = time_arith(op, (&lt, left), (&rt, right)) else {
            return Ok(false);
        };
        *e = match (op.clone(), result) {
            (Op::Plus, PgType::Timestamp) => {
                let (date, time) = if lt == PgType::Date {
                    (take(left), take(right))
                } else {
                    (take(right), take(left))
                };
                call("pg_date_time", vec![date, time])
            }
            (Op::Minus, PgType::Interval) => {
                literal(left, &PgType::Time)?;
                literal(right, &PgType::Time)?;
                call("pg_time_diff", vec![take(left), take(right)])
            }
            (op, _) => {
                let (time, iv) = if lt == PgType::Time {
                    (left, right)
                } else {
                    (right, left)
                };
                literal(iv, &PgType::Interval)?;
                let sign = if op == Op::Minus { "-1" } else { "1" };
                call("pg_time_add", vec![take(time), take(iv), number(sign)])
            }
        };
        Ok(true)
    }

    /// `extract(field FROM time)`; true when `e` was one.
    pub(super) fn time_extract(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::Extract { field, expr, .. } = e else {
            return Ok(false);
        };
        if self.type_of(expr) != PgType::Time {
            return Ok(false);
        }
        let name = super::interval::field_name(field);
        check_field(&name)?;
        // A time's fields are those of the interval of the same text.
        *e = call(
            "pg_interval_part",
            vec![string(name), take(expr), number("0")],
        );
        Ok(true)
    }

    /// `date_part(field, time)`, `make_time(h, m, s)` and `localtime`;
    /// true when `e` became another call.
    pub(super) fn time_call(&mut self, e: &mut Expr, types: &[PgType]) -> Result<bool> {
        let Expr::Function(f) = e else {
            return Ok(false);
        };
        match (func_name(f).as_str(), types) {
            ("date_part", [_, PgType::Time]) => {
                let mut args: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
                if let Some(field) = args.first().and_then(quoted) {
                    check_field(&field.trim().to_ascii_lowercase())?;
                } else {
                    return Err(Error::Unsupported(
                        "date_part of a time with a field that is not a literal".into(),
                    ));
                }
                args.push(number("1"));
                *e = call("pg_interval_part", args);
            }
            ("make_time", [_, _, _]) => {
                let args: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
                *e = call("pg_make_time", args);
            }
            ("make_date", [_, _, _]) => {
                let args: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
                *e = call("pg_make_date", args);
            }
            ("make_timestamp", [_, _, _, _, _, _]) => {
                let args: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
                *e = call("pg_make_timestamp", args);
            }
            // The wall time in the session's zone, or in the zone given.
            ("make_timestamptz", [_, _, _, _, _, _]) => {
                let args: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
                *e = super::zone::instant(call("pg_make_timestamp", args));
            }
            ("make_timestamptz", [_, _, _, _, _, _, zone]) => {
                let zone = zone.clone();
                let mut args: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
                let Some(z) = args.pop() else {
                    return Ok(false);
                };
                let ts = call("pg_make_timestamp", args);
                *e = super::interval::at_time_zone(ts, &PgType::Timestamp, z, &zone);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl Typer<'_> {
    /// `date - '…'` and `'…' - date`: the quoted literal is a date, as
    /// PostgreSQL resolves it (date - date, a number of days).
    pub(super) fn date_minus_literal(&mut self, e: &mut Expr) {
        let Expr::BinaryOp {
            left,
            op: Op::Minus,
            right,
        } = e
        else {
            return;
        };
        let as_date = |side: &mut Expr| {
            *side = Expr::Cast {
                kind: sqlparser::ast::CastKind::DoubleColon,
                expr: Box::new(take(side)),
                data_type: sqlparser::ast::DataType::Date,
                format: None,
            }
        };
        if self.type_of(left) == PgType::Date && super::values::quoted(right).is_some() {
            as_date(right);
        } else if self.type_of(right) == PgType::Date && super::values::quoted(left).is_some() {
            as_date(left);
        }
    }
}
