//! Integer and float arithmetic typed by the typed step (`sql::infer::typed`):
//! `pg_int4_mul(a, b)`, `pg_float8_add(a, b)`, `pg_int2_neg(a)`, … compute as
//! PostgreSQL computes in the result type: an integer result outside its
//! type's range is 22003 (`smallint`/`integer`/`bigint out of range`), a
//! float result that overflows or underflows is 22003 `value out of range`,
//! float4 results are rounded to single precision, and division by zero is
//! 22012. SQLite cannot store a float NaN (it becomes NULL), so a NaN
//! result is refused (0A000) rather than returned as NULL.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::{fail, FnResult};
use crate::error::Error;

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

const OPS: [(&str, Op); 5] = [
    ("add", Op::Add),
    ("sub", Op::Sub),
    ("mul", Op::Mul),
    ("div", Op::Div),
    ("mod", Op::Mod),
];

fn out_of_range(bits: u32) -> rusqlite::Error {
    let name = match bits {
        16 => "smallint",
        32 => "integer",
        _ => "bigint",
    };
    fail(Error::NumericOutOfRange(format!("{name} out of range")))
}

fn fit(v: i64, bits: u32) -> rusqlite::Result<Value> {
    let ok = match bits {
        16 => i16::try_from(v).is_ok(),
        32 => i32::try_from(v).is_ok(),
        _ => true,
    };
    if ok {
        Ok(Value::Integer(v))
    } else {
        Err(out_of_range(bits))
    }
}

/// A result of the generic operator (a text operand, a date) brought to
/// the integer type.
fn fit_value(v: Value, bits: u32) -> FnResult {
    match v {
        Value::Integer(i) => fit(i, bits),
        other => Ok(other),
    }
}

fn int_op(ctx: &Context<'_>, op: Op, bits: u32) -> FnResult {
    let (a, b) = (ctx.get_raw(0), ctx.get_raw(1));
    let (ValueRef::Integer(x), ValueRef::Integer(y)) = (a, b) else {
        // NULL, or an operand SQLite holds otherwise (a text literal, a
        // date): the generic operator reads it.
        let v = match op {
            Op::Add => super::plus_minus_times(ctx, '+'),
            Op::Sub => super::plus_minus_times(ctx, '-'),
            Op::Mul => super::plus_minus_times(ctx, '*'),
            Op::Div => super::arith(ctx, false),
            Op::Mod => super::arith(ctx, true),
        }?;
        return fit_value(v, bits);
    };
    let r = match op {
        Op::Add => x.checked_add(y),
        Op::Sub => x.checked_sub(y),
        Op::Mul => x.checked_mul(y),
        Op::Div | Op::Mod if y == 0 => return Err(super::div_by_zero()),
        Op::Div => x.checked_div(y),
        // PostgreSQL: the least value % -1 is 0.
        Op::Mod => Some(x.checked_rem(y).unwrap_or(0)),
    };
    fit(r.ok_or_else(|| out_of_range(bits))?, bits)
}

fn int_neg(ctx: &Context<'_>, abs: bool, bits: u32) -> FnResult {
    match ctx.get_raw(0) {
        ValueRef::Null => Ok(Value::Null),
        ValueRef::Integer(x) => {
            let r = if abs {
                x.checked_abs()
            } else {
                x.checked_neg()
            };
            fit(r.ok_or_else(|| out_of_range(bits))?, bits)
        }
        other => float_unary(other, abs),
    }
}

fn float_arg(v: ValueRef<'_>) -> Option<f64> {
    match v {
        ValueRef::Integer(i) => Some(i as f64),
        ValueRef::Real(f) => Some(f),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn overflow() -> rusqlite::Error {
    fail(Error::NumericOutOfRange(
        "value out of range: overflow".into(),
    ))
}

pub(super) fn underflow() -> rusqlite::Error {
    fail(Error::NumericOutOfRange(
        "value out of range: underflow".into(),
    ))
}

pub(super) fn nan() -> rusqlite::Error {
    fail(Error::Unsupported(
        "float NaN values (SQLite cannot store them)".into(),
    ))
}

/// A float result checked as PostgreSQL checks it (`float_overflow_error`,
/// `float_underflow_error`); `zero_ok` when a zero result is exact.
pub(super) fn checked(r: f64, finite_inputs: bool, zero_ok: bool, single: bool) -> FnResult {
    let r = if single { f64::from(r as f32) } else { r };
    if r.is_nan() {
        return Err(nan());
    }
    if r.is_infinite() && finite_inputs {
        return Err(overflow());
    }
    if r == 0.0 && !zero_ok {
        return Err(underflow());
    }
    Ok(Value::Real(r))
}

fn float_op(ctx: &Context<'_>, op: Op, single: bool) -> FnResult {
    let (a, b) = (ctx.get_raw(0), ctx.get_raw(1));
    if matches!(a, ValueRef::Null) || matches!(b, ValueRef::Null) {
        return Ok(Value::Null);
    }
    let (Some(x), Some(y)) = (float_arg(a), float_arg(b)) else {
        return match op {
            Op::Add => super::plus_minus_times(ctx, '+'),
            Op::Sub => super::plus_minus_times(ctx, '-'),
            Op::Mul => super::plus_minus_times(ctx, '*'),
            Op::Div => super::arith(ctx, false),
            Op::Mod => super::arith(ctx, true),
        };
    };
    let finite = x.is_finite() && y.is_finite();
    match op {
        Op::Add => checked(x + y, finite, true, single),
        Op::Sub => checked(x - y, finite, true, single),
        Op::Mul => checked(x * y, finite, x == 0.0 || y == 0.0, single),
        Op::Div | Op::Mod if y == 0.0 => Err(super::div_by_zero()),
        Op::Div => checked(x / y, finite, x == 0.0 || y.is_infinite(), single),
        Op::Mod => checked(x % y, finite, true, single),
    }
}

fn float_unary(v: ValueRef<'_>, abs: bool) -> FnResult {
    match float_arg(v) {
        None => Ok(Value::Null),
        Some(x) => Ok(Value::Real(if abs { x.abs() } else { -x })),
    }
}

/// `round(float)`: half to even, as `rint()`.
fn rint(ctx: &Context<'_>) -> FnResult {
    match ctx.get_raw(0) {
        ValueRef::Null => Ok(Value::Null),
        ValueRef::Integer(i) => Ok(Value::Real(i as f64)),
        v => Ok(float_arg(v).map_or(Value::Null, |x| Value::Real(x.round_ties_even()))),
    }
}

/// A float as text, with float4's (`single`) or float8's shortest digits.
fn float_text(ctx: &Context<'_>, single: bool) -> FnResult {
    Ok(match ctx.get_raw(0) {
        ValueRef::Real(f) => Value::Text(crate::types::number::format_float(f, single)),
        v => super::as_text(v).map_or(Value::Null, Value::Text),
    })
}

/// A LIMIT or OFFSET count as PostgreSQL reads it: NULL is none (every
/// row: SQLite's -1 for LIMIT, 0 for OFFSET), a negative count an error.
fn count(ctx: &Context<'_>, offset: bool) -> FnResult {
    let negative = match ctx.get_raw(0) {
        ValueRef::Null => return Ok(Value::Integer(if offset { 0 } else { -1 })),
        ValueRef::Integer(n) => n < 0,
        ValueRef::Real(f) => f < 0.0,
        _ => false,
    };
    if negative {
        return Err(fail(if offset {
            Error::InvalidOffset("OFFSET must not be negative".into())
        } else {
            Error::InvalidRowCount("LIMIT must not be negative".into())
        }));
    }
    ctx.get::<Value>(0)
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    conn.create_scalar_function("pg_limit_count", 1, det, |c| count(c, false))?;
    // `a # b`, integers' exclusive or (no width can overflow).
    conn.create_scalar_function("pg_xor", 2, det, |c| {
        Ok(match (c.get::<Option<i64>>(0)?, c.get::<Option<i64>>(1)?) {
            (Some(a), Some(b)) => Some(a ^ b),
            _ => None,
        })
    })?;
    conn.create_scalar_function("pg_offset_count", 1, det, |c| count(c, true))?;
    for (ty, bits) in [("int2", 16u32), ("int4", 32), ("int8", 64)] {
        for (name, op) in OPS {
            conn.create_scalar_function(format!("pg_{ty}_{name}").as_str(), 2, det, move |c| {
                int_op(c, op, bits)
            })?;
        }
        conn.create_scalar_function(format!("pg_{ty}_neg").as_str(), 1, det, move |c| {
            int_neg(c, false, bits)
        })?;
        conn.create_scalar_function(format!("pg_{ty}_abs").as_str(), 1, det, move |c| {
            int_neg(c, true, bits)
        })?;
    }
    for (ty, single) in [("float4", true), ("float8", false)] {
        for (name, op) in &OPS[..4] {
            let op = *op;
            conn.create_scalar_function(format!("pg_{ty}_{name}").as_str(), 2, det, move |c| {
                float_op(c, op, single)
            })?;
        }
        conn.create_scalar_function(format!("pg_{ty}_neg").as_str(), 1, det, |c| {
            float_unary(c.get_raw(0), false)
        })?;
        conn.create_scalar_function(format!("pg_{ty}_abs").as_str(), 1, det, |c| {
            float_unary(c.get_raw(0), true)
        })?;
    }
    conn.create_scalar_function("pg_float4_text", 1, det, |c| float_text(c, true))?;
    conn.create_scalar_function("pg_float8_text", 1, det, |c| float_text(c, false))?;
    conn.create_scalar_function("pg_rint", 1, det, |c| rint(c))
}
