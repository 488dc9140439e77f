//! `div`, `gcd`, `lcm`, `width_bucket` and `to_hex` in the forms the typed
//! step chose (`sql::infer::typed::divisors`): the integer forms in 32 or
//! 64 bits with PostgreSQL's 22003 on overflow, the numeric ones exact.

use std::cmp::Ordering;

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::{as_text, fail, FnResult};
use crate::error::{Error, Result};
use crate::types::numeric::Numeric;

fn out_of_range(bits: u32) -> Error {
    Error::NumericOutOfRange(match bits {
        32 => "integer out of range".into(),
        _ => "bigint out of range".into(),
    })
}

fn numeric(v: ValueRef<'_>) -> Result<Option<Numeric>> {
    Ok(match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(Numeric::from_i64(i)),
        ValueRef::Real(f) => Some(Numeric::from_f64(f, 15)?),
        other => Some(Numeric::parse(&as_text(other).unwrap_or_default())?),
    })
}

fn is_zero(n: &Numeric) -> bool {
    n.total_cmp(&Numeric::zero()) == Ordering::Equal
}

/// `div(a, b)`: the quotient truncated toward zero, scale 0.
fn div_trunc(a: &Numeric, b: &Numeric) -> Result<Numeric> {
    if a.is_nan() || b.is_nan() {
        return Ok(Numeric::NaN);
    }
    if is_zero(b) {
        return Err(Error::DivisionByZero("division by zero".into()));
    }
    let infinite = |n: &Numeric| matches!(n, Numeric::PosInf | Numeric::NegInf);
    match (infinite(a), infinite(b)) {
        (true, true) => return Ok(Numeric::NaN),
        (false, true) => return Ok(Numeric::zero()),
        (true, false) => {
            let negative =
                matches!(a, Numeric::NegInf) != (b.total_cmp(&Numeric::zero()) == Ordering::Less);
            return Ok(if negative {
                Numeric::NegInf
            } else {
                Numeric::PosInf
            });
        }
        (false, false) => {}
    }
    // a - a % b is a multiple of b: the division is exact.
    a.sub(&a.rem(b)?)?.div(b)?.trunc(0)
}

fn gcd_i128(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

/// gcd and lcm of integers in `bits` bits.
fn int_gcd_lcm(a: i64, b: i64, bits: u32, lcm: bool) -> Result<i64> {
    let (lo, hi) = match bits {
        32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    };
    let g = gcd_i128(i128::from(a), i128::from(b));
    let r = if !lcm {
        g
    } else if a == 0 || b == 0 {
        0
    } else {
        (i128::from(a) / g * i128::from(b)).abs()
    };
    if r < i128::from(lo) || r > i128::from(hi) {
        return Err(out_of_range(bits));
    }
    Ok(r as i64)
}

/// gcd and lcm of numerics: Euclid's remainders, exact; the result at the
/// larger of the two scales.
fn numeric_gcd_lcm(a: &Numeric, b: &Numeric, lcm: bool) -> Result<Numeric> {
    if a.is_nan() || b.is_nan() {
        return Ok(Numeric::NaN);
    }
    if !matches!(a, Numeric::Num(_)) || !matches!(b, Numeric::Num(_)) {
        return Ok(Numeric::NaN);
    }
    let scale = a.dscale().max(b.dscale());
    let (mut x, mut y) = (a.abs(), b.abs());
    while !is_zero(&y) {
        let r = x.rem(&y)?;
        (x, y) = (y, r);
    }
    let r = if !lcm {
        x
    } else if is_zero(a) || is_zero(b) {
        Numeric::zero()
    } else {
        a.abs().sub(&a.abs().rem(&x)?)?.div(&x)?.mul(&b.abs())?
    };
    r.round(scale)
}

/// `width_bucket(operand, low, high, count)` as PostgreSQL's float8 form.
fn bucket_float(op: f64, b1: f64, b2: f64, count: i64) -> Result<i64> {
    let invalid = |m: &str| Error::InvalidWidthBucket(m.into());
    if count <= 0 {
        return Err(invalid("count must be greater than zero"));
    }
    if b1.is_infinite() || b2.is_infinite() {
        return Err(invalid("lower and upper bounds must be finite"));
    }
    let count_f = count as f64;
    let r = if b1 < b2 {
        if op < b1 {
            0
        } else if op >= b2 {
            count + 1
        } else {
            ((count_f * (op - b1) / (b2 - b1)) + 1.0) as i64
        }
    } else if b1 > b2 {
        if op > b1 {
            0
        } else if op <= b2 {
            count + 1
        } else {
            ((count_f * (b1 - op) / (b1 - b2)) + 1.0) as i64
        }
    } else {
        return Err(invalid("lower bound cannot equal upper bound"));
    };
    if r > i64::from(i32::MAX) {
        return Err(out_of_range(32));
    }
    Ok(r)
}

/// `width_bucket` as PostgreSQL's numeric form, exactly.
fn bucket_numeric(op: &Numeric, b1: &Numeric, b2: &Numeric, count: i64) -> Result<i64> {
    let invalid = |m: &str| Error::InvalidWidthBucket(m.into());
    if count <= 0 {
        return Err(invalid("count must be greater than zero"));
    }
    if op.is_nan() || b1.is_nan() || b2.is_nan() {
        return Err(invalid(
            "operand, lower bound, and upper bound cannot be NaN",
        ));
    }
    if !matches!(b1, Numeric::Num(_)) || !matches!(b2, Numeric::Num(_)) {
        return Err(invalid("lower and upper bounds must be finite"));
    }
    let count_n = Numeric::from_i64(count);
    let within = |lo: &Numeric, hi: &Numeric, x: &Numeric| -> Result<i64> {
        let n = x.sub(lo)?.mul(&count_n)?;
        let d = hi.sub(lo)?;
        Ok(div_trunc(&n, &d)?.to_int(64)? + 1)
    };
    let r = match b1.total_cmp(b2) {
        Ordering::Less if op.total_cmp(b1) == Ordering::Less => 0,
        Ordering::Less if op.total_cmp(b2) != Ordering::Less => count + 1,
        Ordering::Less => within(b1, b2, op)?,
        Ordering::Greater if op.total_cmp(b1) == Ordering::Greater => 0,
        Ordering::Greater if op.total_cmp(b2) != Ordering::Greater => count + 1,
        Ordering::Greater => {
            // Mirrored: distances from the first bound.
            let n = b1.sub(op)?.mul(&count_n)?;
            div_trunc(&n, &b1.sub(b2)?)?.to_int(64)? + 1
        }
        Ordering::Equal => return Err(invalid("lower bound cannot equal upper bound")),
    };
    if r > i64::from(i32::MAX) {
        return Err(out_of_range(32));
    }
    Ok(r)
}

fn form(ctx: &Context<'_>) -> String {
    as_text(ctx.get_raw(ctx.len() - 1)).unwrap_or_default()
}

fn int(v: ValueRef<'_>) -> Result<i64> {
    match v {
        ValueRef::Integer(i) => Ok(i),
        _ => Err(Error::DatatypeMismatch(
            "an integer argument that is not an integer".into(),
        )),
    }
}

fn gcd_lcm(ctx: &Context<'_>, lcm: bool) -> FnResult {
    let (a, b) = (ctx.get_raw(0), ctx.get_raw(1));
    if matches!(a, ValueRef::Null) || matches!(b, ValueRef::Null) {
        return Ok(Value::Null);
    }
    Ok(match form(ctx).as_str() {
        f @ ("int4" | "int8") => {
            let bits = if f == "int4" { 32 } else { 64 };
            Value::Integer(
                int_gcd_lcm(int(a).map_err(fail)?, int(b).map_err(fail)?, bits, lcm)
                    .map_err(fail)?,
            )
        }
        _ => {
            let (Some(x), Some(y)) = (numeric(a).map_err(fail)?, numeric(b).map_err(fail)?) else {
                return Ok(Value::Null);
            };
            Value::Text(numeric_gcd_lcm(&x, &y, lcm).map_err(fail)?.to_string())
        }
    })
}

fn width_bucket(ctx: &Context<'_>) -> FnResult {
    if (0..4).any(|i| matches!(ctx.get_raw(i), ValueRef::Null)) {
        return Ok(Value::Null);
    }
    let count = int(ctx.get_raw(3)).map_err(fail)?;
    let r = if form(ctx) == "float8" {
        let f = |i: usize| -> rusqlite::Result<f64> {
            match ctx.get_raw(i) {
                ValueRef::Integer(v) => Ok(v as f64),
                ValueRef::Real(v) => Ok(v),
                other => Numeric::parse(&as_text(other).unwrap_or_default())
                    .and_then(|n| n.to_f64())
                    .map_err(fail),
            }
        };
        bucket_float(f(0)?, f(1)?, f(2)?, count)
    } else {
        let n = |i: usize| -> rusqlite::Result<Numeric> {
            numeric(ctx.get_raw(i))
                .map_err(fail)
                .map(|v| v.unwrap_or(Numeric::NaN))
        };
        bucket_numeric(&n(0)?, &n(1)?, &n(2)?, count)
    };
    r.map(Value::Integer).map_err(fail)
}

fn to_hex(ctx: &Context<'_>) -> FnResult {
    let v = match ctx.get_raw(0) {
        ValueRef::Null => return Ok(Value::Null),
        v => int(v).map_err(fail)?,
    };
    Ok(Value::Text(match form(ctx).as_str() {
        "int4" => format!("{:x}", v as i32),
        _ => format!("{v:x}"),
    }))
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    conn.create_scalar_function("pg_div_trunc", 3, det, |c| {
        let (Some(a), Some(b)) = (
            numeric(c.get_raw(0)).map_err(fail)?,
            numeric(c.get_raw(1)).map_err(fail)?,
        ) else {
            return Ok(Value::Null);
        };
        Ok(Value::Text(div_trunc(&a, &b).map_err(fail)?.to_string()))
    })?;
    conn.create_scalar_function("pg_gcd", 3, det, |c| gcd_lcm(c, false))?;
    conn.create_scalar_function("pg_lcm", 3, det, |c| gcd_lcm(c, true))?;
    conn.create_scalar_function("pg_width_bucket", 5, det, |c| width_bucket(c))?;
    conn.create_scalar_function("pg_to_hex", 2, det, |c| to_hex(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Numeric {
        Numeric::parse(s).unwrap()
    }

    #[test]
    fn divisors_as_postgresql_computes_them() {
        assert_eq!(div_trunc(&n("-7.5"), &n("2")).unwrap().to_string(), "-3");
        assert_eq!(
            div_trunc(&n("1e20"), &n("3")).unwrap().to_string(),
            "33333333333333333333"
        );
        assert!(div_trunc(&n("1"), &n("0")).is_err());
        assert_eq!(
            numeric_gcd_lcm(&n("1.5"), &n("2.25"), false)
                .unwrap()
                .to_string(),
            "0.75"
        );
        assert_eq!(
            numeric_gcd_lcm(&n("1.5"), &n("2.25"), true)
                .unwrap()
                .to_string(),
            "4.50"
        );
        assert_eq!(int_gcd_lcm(-12, 18, 32, false).unwrap(), 6);
        assert!(int_gcd_lcm(i64::from(i32::MIN), 0, 32, false).is_err());
        assert_eq!(bucket_float(5.0, 0.0, 10.0, 4).unwrap(), 3);
        assert_eq!(
            bucket_numeric(&n("0.3"), &n("0.1"), &n("0.6"), 5).unwrap(),
            3
        );
    }
}
