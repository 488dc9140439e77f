//! PostgreSQL's double precision math functions under their own names,
//! replacing SQLite's: SQLite answers NULL (or an infinity) where
//! PostgreSQL raises an error (`sqrt(-1)`, `ln(0)`, `acos(2)`,
//! `power(0, -1)`, `exp(1000)`), which would be a silently different
//! answer.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::{as_text, fail, FnResult};
use crate::error::Error;

/// Argument `i` as a double; `None` for NULL.
pub(super) fn float(c: &Context<'_>, i: usize) -> rusqlite::Result<Option<f64>> {
    float_value(c.get_raw(i))
}

/// [`float`] of a value already read.
pub(super) fn float_value(v: ValueRef<'_>) -> rusqlite::Result<Option<f64>> {
    Ok(match v {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n as f64),
        ValueRef::Real(f) => Some(f),
        v => {
            let s = as_text(v).unwrap_or_default();
            let parsed = match s.trim().to_ascii_lowercase().as_str() {
                "nan" => Ok(f64::NAN),
                "infinity" | "inf" | "+infinity" => Ok(f64::INFINITY),
                "-infinity" | "-inf" => Ok(f64::NEG_INFINITY),
                t => t.parse::<f64>(),
            };
            Some(parsed.map_err(|_| {
                fail(Error::InvalidInput(format!(
                    "invalid input syntax for type double precision: \"{s}\""
                )))
            })?)
        }
    })
}

fn out(v: Option<f64>) -> Value {
    v.map_or(Value::Null, Value::Real)
}

fn out_of_range() -> rusqlite::Error {
    fail(Error::NumericOutOfRange("input is out of range".into()))
}

/// A finite argument giving an infinite result overflowed; a non-zero one
/// giving zero underflowed (PostgreSQL's float_overflow/underflow checks).
pub(super) fn checked(arg: f64, result: f64, zero_ok: bool) -> rusqlite::Result<f64> {
    if result.is_infinite() && arg.is_finite() {
        return Err(fail(Error::NumericOutOfRange(
            "value out of range: overflow".into(),
        )));
    }
    if result == 0.0 && !zero_ok {
        return Err(fail(Error::NumericOutOfRange(
            "value out of range: underflow".into(),
        )));
    }
    Ok(result)
}

fn log_domain(x: f64) -> rusqlite::Result<()> {
    if x == 0.0 {
        return Err(fail(Error::InvalidArgumentForLog(
            "cannot take logarithm of zero".into(),
        )));
    }
    if x < 0.0 {
        return Err(fail(Error::InvalidArgumentForLog(
            "cannot take logarithm of a negative number".into(),
        )));
    }
    Ok(())
}

fn sqrt(x: f64) -> rusqlite::Result<f64> {
    if x < 0.0 {
        return Err(fail(Error::InvalidArgumentForPower(
            "cannot take square root of a negative number".into(),
        )));
    }
    Ok(x.sqrt())
}

/// The C library's cube root, which PostgreSQL's `cbrt` returns: glibc's
/// is not correctly rounded (`cbrt(27)` is 3.0000000000000004 there,
/// where Rust's own gives 3). Called by glibc's other name for it, since
/// the Rust runtime brings a `cbrt` of its own that the linker would pick.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn c_cbrt(x: f64) -> f64 {
    extern "C" {
        fn cbrtf64(x: f64) -> f64;
    }
    // SAFETY: cbrtf64 (glibc 2.27 and later) reads its argument and
    // returns a value; it has no other effect (errno aside, unread here).
    unsafe { cbrtf64(x) }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn c_cbrt(x: f64) -> f64 {
    x.cbrt()
}

fn exp(x: f64) -> rusqlite::Result<f64> {
    let r = x.exp();
    checked(x, r, x.is_nan() || x == f64::NEG_INFINITY)
}

fn power(x: f64, y: f64) -> rusqlite::Result<f64> {
    if x == 0.0 && y < 0.0 {
        return Err(fail(Error::InvalidArgumentForPower(
            "zero raised to a negative power is undefined".into(),
        )));
    }
    if x < 0.0 && y.is_finite() && y.fract() != 0.0 {
        return Err(fail(Error::InvalidArgumentForPower(
            "a negative number raised to a non-integer power yields a complex result".into(),
        )));
    }
    let r = x.powf(y);
    if r.is_infinite() && x.is_finite() && y.is_finite() {
        return Err(fail(Error::NumericOutOfRange(
            "value out of range: overflow".into(),
        )));
    }
    if r == 0.0 && x != 0.0 && x.is_finite() && y.is_finite() {
        return Err(fail(Error::NumericOutOfRange(
            "value out of range: underflow".into(),
        )));
    }
    Ok(r)
}

/// acos/asin: defined on [-1, 1] (NaN passes through).
fn unit_interval(x: f64, f: fn(f64) -> f64) -> rusqlite::Result<f64> {
    if !x.is_nan() && !(-1.0..=1.0).contains(&x) {
        return Err(out_of_range());
    }
    Ok(f(x))
}

/// sin/cos/tan/cot: any finite input (PostgreSQL refuses infinities).
fn trig(x: f64, f: fn(f64) -> f64) -> rusqlite::Result<f64> {
    if x.is_infinite() {
        return Err(out_of_range());
    }
    Ok(f(x))
}

pub(super) fn unary(
    conn: &Connection,
    name: &str,
    flags: FunctionFlags,
    f: fn(f64) -> rusqlite::Result<f64>,
) -> rusqlite::Result<()> {
    conn.create_scalar_function(name, 1, flags, move |c| -> FnResult {
        Ok(out(float(c, 0)?.map(f).transpose()?))
    })
}

/// `pg_to_char_number(value, template, type)`: to_char of a number of
/// the named type (`types::format::number`); NULL for a NULL argument.
fn to_char_number(ctx: &Context<'_>) -> FnResult {
    use crate::types::format::number::{to_char, Number};
    let (Some(template), Some(ty)) = (as_text(ctx.get_raw(1)), as_text(ctx.get_raw(2))) else {
        return Ok(Value::Null);
    };
    let v = ctx.get_raw(0);
    if matches!(v, ValueRef::Null) {
        return Ok(Value::Null);
    }
    let int = || match v {
        ValueRef::Integer(i) => Ok(i),
        _ => Err(fail(Error::DatatypeMismatch(
            "to_char of a value that is not an integer".into(),
        ))),
    };
    let number = match ty.as_str() {
        "int8" => Number::Int8(int()?),
        "int4" => Number::Int4(int()?),
        "float4" | "float8" => {
            let f = match v {
                ValueRef::Integer(i) => i as f64,
                ValueRef::Real(f) => f,
                _ => {
                    return Err(fail(Error::DatatypeMismatch(
                        "to_char of a value that is not a number".into(),
                    )))
                }
            };
            if ty == "float4" {
                Number::Float4(f as f32)
            } else {
                Number::Float8(f)
            }
        }
        _ => Number::Numeric(
            crate::types::numeric::Numeric::parse(&as_text(v).unwrap_or_default()).map_err(fail)?,
        ),
    };
    to_char(&number, &template).map(Value::Text).map_err(fail)
}

/// `to_number(text, template)`; NULL for an empty template, as in
/// PostgreSQL.
fn to_number(ctx: &Context<'_>) -> FnResult {
    let (Some(input), Some(template)) = (as_text(ctx.get_raw(0)), as_text(ctx.get_raw(1))) else {
        return Ok(Value::Null);
    };
    if template.is_empty() {
        return Ok(Value::Null);
    }
    crate::types::format::number::to_number(&input, &template)
        .map(|n| Value::Text(n.to_string()))
        .map_err(fail)
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    conn.create_scalar_function("pg_to_char_number", 3, det, |c| to_char_number(c))?;
    conn.create_scalar_function("to_number", 2, det, |c| to_number(c))?;
    unary(conn, "sqrt", det, sqrt)?;
    unary(conn, "cbrt", det, |x| Ok(c_cbrt(x)))?;
    unary(conn, "exp", det, exp)?;
    unary(conn, "ln", det, |x| log_domain(x).map(|_| x.ln()))?;
    unary(conn, "log", det, |x| log_domain(x).map(|_| x.log10()))?;
    unary(conn, "log10", det, |x| log_domain(x).map(|_| x.log10()))?;
    unary(conn, "acos", det, |x| unit_interval(x, f64::acos))?;
    unary(conn, "asin", det, |x| unit_interval(x, f64::asin))?;
    unary(conn, "sin", det, |x| trig(x, f64::sin))?;
    unary(conn, "cos", det, |x| trig(x, f64::cos))?;
    unary(conn, "tan", det, |x| trig(x, f64::tan))?;
    unary(conn, "cot", det, |x| trig(x, |x| 1.0 / x.tan()))?;
    unary(conn, "acosh", det, |x| {
        if x < 1.0 {
            return Err(out_of_range());
        }
        Ok(x.acosh())
    })?;
    unary(conn, "atanh", det, |x| {
        if !x.is_nan() && !(-1.0..=1.0).contains(&x) {
            return Err(out_of_range());
        }
        Ok(x.atanh())
    })?;
    for name in ["power", "pow"] {
        conn.create_scalar_function(name, 2, det, |c| -> FnResult {
            Ok(match (float(c, 0)?, float(c, 1)?) {
                (Some(x), Some(y)) => Value::Real(power(x, y)?),
                _ => Value::Null,
            })
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_errors_are_postgresql_s() {
        assert!(sqrt(-1.0).is_err());
        assert_eq!(sqrt(4.0).ok(), Some(2.0));
        assert!(exp(1000.0).is_err());
        assert!(exp(-1000.0).is_err());
        assert_eq!(exp(f64::NEG_INFINITY).ok(), Some(0.0));
        assert!(power(0.0, -1.0).is_err());
        assert!(power(-8.0, 1.0 / 3.0).is_err());
        assert_eq!(power(-2.0, 3.0).ok(), Some(-8.0));
        assert!(power(10.0, 400.0).is_err());
        assert!(unit_interval(2.0, f64::acos).is_err());
        assert!(log_domain(0.0).is_err() && log_domain(-1.0).is_err());
        assert!(trig(f64::INFINITY, f64::sin).is_err());
    }
}
