//! PostgreSQL functions SQLite lacks, registered on every connection as
//! Rust scalar and aggregate functions (the names `sql::rewrite` emits). Registered by `store` on every
//! connection it opens.
//!
//! Error marker convention: a function that must fail the way PostgreSQL
//! fails returns an SQLite error whose message is `SSSSS: message`, the
//! five-character SQLSTATE, a colon and a space, then PostgreSQL's message
//! (e.g. `22P02: invalid input syntax for type integer: "abc"`). The
//! executor passes SQLite error messages through `store::errors` to get the crate error back; a message without
//! a marker is an ordinary SQLite error.
//!
//! Values follow the storage representation of `types`: timestamps
//! are UTC text, booleans 0/1.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use crate::error::Error;
pub(crate) use crate::store::errors::fail;
use crate::types::datetime::{
    civil_from_days, clock_micros, date_text, days_from_civil, format_date, parse_timestamp,
    round_micros, timestamp_text, MICROS_PER_DAY,
};
use crate::types::number::format_float;
use crate::types::{cast_target, Datum, PgType};

mod aggregate;
mod arith;
mod array;
mod bytes;
pub mod coordination;
mod degrees;
mod divisors;
mod domain;
mod geometry;
mod interval;
mod json;
mod math;
pub(crate) mod numeric;
mod ordered;
pub mod pg_catalog;
mod privileges;
pub mod prng;
mod regexp;
mod search_path;
pub(crate) mod sequence;
pub mod session;
pub mod signals;
mod similar;
mod stats;
mod strings;
mod text;
mod time;
pub mod tokens;
mod vector;
pub mod zone;

type FnResult = rusqlite::Result<Value>;

fn datum(v: ValueRef<'_>) -> Datum {
    Datum::from_ref(v)
}

fn value(d: Datum) -> Value {
    match d {
        Datum::Null => Value::Null,
        Datum::Int(i) => Value::Integer(i),
        Datum::Real(f) => Value::Real(f),
        Datum::Text(s) => Value::Text(s),
        Datum::Blob(b) => Value::Blob(b),
    }
}

/// A stored value as PostgreSQL text (for casts to text and concat).
pub(crate) fn as_text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(format_float(f, false)),
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => PgType::Bytea.render_text(&Datum::Blob(b.to_vec())),
    }
}

fn int_range(ty: &PgType, v: i64) -> Result<i64, Error> {
    let ok = match ty {
        PgType::Int2 => i16::try_from(v).is_ok(),
        PgType::Int4 => i32::try_from(v).is_ok(),
        _ => true,
    };
    if ok {
        Ok(v)
    } else {
        Err(Error::NumericOutOfRange(format!(
            "{} out of range",
            ty.input_name()
        )))
    }
}

/// `CAST(v AS ty)` with PostgreSQL semantics on stored values.
pub(crate) fn cast(ty: &PgType, v: ValueRef<'_>) -> Result<Datum, Error> {
    use ValueRef as V;
    Ok(match (ty, v) {
        (_, V::Null) => Datum::Null,
        (PgType::Bool, V::Integer(i)) => Datum::Int(i64::from(i != 0)),
        (PgType::Int2 | PgType::Int4 | PgType::Int8, V::Integer(i)) => {
            Datum::Int(int_range(ty, i)?)
        }
        (PgType::Oid, V::Integer(i)) => ty.parse_text(&i.to_string())?,
        (PgType::Numeric(_), v) => numeric::to_numeric(ty, v)?,
        (PgType::Int2 | PgType::Int4 | PgType::Int8, V::Real(f)) => {
            // float8 → int rounds half to even, as rint() does (numeric →
            // int goes through pg_numeric_cast).
            let r = f.round_ties_even();
            if !r.is_finite() || r.abs() >= 9.223_372_036_854_776e18 {
                return Err(Error::NumericOutOfRange(format!(
                    "{} out of range",
                    ty.input_name()
                )));
            }
            Datum::Int(int_range(ty, r as i64)?)
        }
        (PgType::Float4, V::Integer(i)) => Datum::Real(f64::from(i as f32)),
        // float8 → float4 as PostgreSQL's dtof checks it.
        (PgType::Float4, V::Real(f)) => {
            let g = f as f32;
            if g.is_infinite() && !f.is_infinite() {
                return Err(Error::NumericOutOfRange(
                    "value out of range: overflow".into(),
                ));
            }
            if g == 0.0 && f != 0.0 {
                return Err(Error::NumericOutOfRange(
                    "value out of range: underflow".into(),
                ));
            }
            Datum::Real(f64::from(g))
        }
        (PgType::Float8, V::Integer(i)) => Datum::Real(i as f64),
        (PgType::Float8, V::Real(f)) => Datum::Real(f),
        (PgType::Bytea, V::Blob(b)) => Datum::Blob(b.to_vec()),
        (PgType::Geometry(typmod), V::Blob(b)) => {
            let g = crate::types::geometry::decode(b)?;
            let g = crate::types::geometry::apply_typmod(g, *typmod)?;
            Datum::Blob(crate::types::geometry::encode(&g))
        }
        (PgType::Vector(n), V::Blob(b)) => {
            let v = crate::types::vector::from_blob(b)?;
            crate::types::vector::check_typmod(*n, v.len())?;
            Datum::Blob(b.to_vec())
        }
        (PgType::Text | PgType::Unknown, v) => Datum::Text(as_text(v).unwrap_or_default()),
        (PgType::Varchar(n) | PgType::Bpchar(n), v) => {
            // An explicit cast truncates silently, unlike an assignment.
            let s = as_text(v).unwrap_or_default();
            let mut s: String = match n {
                Some(n) => s.chars().take(*n as usize).collect(),
                None => s,
            };
            if let (PgType::Bpchar(Some(n)), count) = (ty, s.chars().count()) {
                s.extend(std::iter::repeat_n(
                    ' ',
                    (*n as usize).saturating_sub(count),
                ));
            }
            Datum::Text(s)
        }
        (_, V::Text(t)) => ty.parse_text(&String::from_utf8_lossy(t))?,
        (_, v) => {
            return Err(Error::DatatypeMismatch(format!(
                "cannot cast {} to {}",
                match v {
                    V::Integer(_) => "integer",
                    V::Real(_) => "double precision",
                    _ => "bytea",
                },
                ty.display_name()
            )))
        }
    })
}

fn pg_cast(ctx: &mut Context<'_>) -> FnResult {
    let spec: String = ctx.get(1)?;
    let ty =
        cast_target(&spec).ok_or_else(|| fail(Error::Unsupported(format!("cast to {spec}"))))?;
    cast(&ty, ctx.get_raw(0)).map(value).map_err(fail)
}

/// Compare two non-NULL values the way SQLite orders them (numbers, then
/// text, then blobs), for greatest/least.
fn order(a: &ValueRef<'_>, b: &ValueRef<'_>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    use ValueRef as V;
    let num = |v: &ValueRef<'_>| match v {
        V::Integer(i) => Some(*i as f64),
        V::Real(f) => Some(*f),
        _ => None,
    };
    match (a, b) {
        (V::Integer(x), V::Integer(y)) => x.cmp(y),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => match (a, b) {
                (V::Text(x), V::Text(y)) => x.cmp(y),
                (V::Text(_), _) => Ordering::Less,
                (_, V::Text(_)) => Ordering::Greater,
                (V::Blob(x), V::Blob(y)) => x.cmp(y),
                _ => Ordering::Equal,
            },
        },
    }
}

/// PostgreSQL's greatest/least: NULL arguments are ignored.
fn extreme(ctx: &Context<'_>, greatest: bool) -> FnResult {
    let mut best: Option<ValueRef<'_>> = None;
    for i in 0..ctx.len() {
        let v = ctx.get_raw(i);
        if v == ValueRef::Null {
            continue;
        }
        best = match best {
            None => Some(v),
            Some(b) => {
                let o = order(&v, &b);
                let better = if greatest { o.is_gt() } else { o.is_lt() };
                Some(if better { v } else { b })
            }
        };
    }
    Ok(best.map_or(Value::Null, |v| value(datum(v))))
}

enum Num {
    Int(i64),
    Real(f64),
}

fn num(v: ValueRef<'_>) -> Option<Num> {
    match v {
        ValueRef::Integer(i) => Some(Num::Int(i)),
        ValueRef::Real(f) => Some(Num::Real(f)),
        ValueRef::Text(t) => {
            let s = String::from_utf8_lossy(t);
            let s = s.trim();
            s.parse::<i64>()
                .map(Num::Int)
                .or_else(|_| s.parse::<f64>().map(Num::Real))
                .ok()
        }
        _ => None,
    }
}

fn div_by_zero() -> rusqlite::Error {
    fail(Error::DivisionByZero("division by zero".into()))
}

/// `a / b` (and `a % b` with `modulo`): integer when both are integers,
/// and division by zero is 22012, as in PostgreSQL.
fn arith(ctx: &Context<'_>, modulo: bool) -> FnResult {
    let (Some(a), Some(b)) = (num(ctx.get_raw(0)), num(ctx.get_raw(1))) else {
        return Ok(Value::Null);
    };
    let overflow = || fail(Error::NumericOutOfRange("bigint out of range".into()));
    Ok(match (a, b) {
        (_, Num::Int(0)) => return Err(div_by_zero()),
        (_, Num::Real(0.0)) => return Err(div_by_zero()),
        (Num::Int(x), Num::Int(y)) if modulo => Value::Integer(x.checked_rem(y).unwrap_or(0)),
        (Num::Int(x), Num::Int(y)) => Value::Integer(x.checked_div(y).ok_or_else(overflow)?),
        (a, b) => {
            let f = |n: Num| match n {
                Num::Int(i) => i as f64,
                Num::Real(f) => f,
            };
            let (x, y) = (f(a), f(b));
            let finite = x.is_finite() && y.is_finite();
            if modulo {
                arith::checked(x % y, finite, true, false)?
            } else {
                arith::checked(x / y, finite, x == 0.0 || y.is_infinite(), false)?
            }
        }
    })
}

/// A stored date (`YYYY-MM-DD`) as days since the epoch.
fn date_days(v: ValueRef<'_>) -> Option<i64> {
    match v {
        ValueRef::Text(t) if t.len() == 10 && t[4] == b'-' && t[7] == b'-' => {
            crate::types::datetime::parse_date(std::str::from_utf8(t).ok()?).ok()
        }
        _ => None,
    }
}

/// `+ - *` with PostgreSQL's semantics: integer overflow is 22003, and a
/// date plus or minus an integer is a date, a date minus a date is days.
fn plus_minus_times(ctx: &Context<'_>, op: char) -> FnResult {
    let (a, b) = (ctx.get_raw(0), ctx.get_raw(1));
    if matches!(a, ValueRef::Null) || matches!(b, ValueRef::Null) {
        return Ok(Value::Null);
    }
    if op != '*' {
        match (date_days(a), date_days(b), a, b) {
            (Some(x), None, _, ValueRef::Integer(n)) => {
                let d = if op == '+' { x + n } else { x - n };
                return Ok(Value::Text(date_text(d).map_err(fail)?));
            }
            (None, Some(y), ValueRef::Integer(n), _) if op == '+' => {
                return Ok(Value::Text(date_text(y + n).map_err(fail)?));
            }
            (Some(x), Some(y), _, _) if op == '-' => return Ok(Value::Integer(x - y)),
            _ => {}
        }
    }
    let (Some(x), Some(y)) = (num(a), num(b)) else {
        return Err(fail(Error::DatatypeMismatch(format!(
            "operator does not exist: {} {op} {}",
            type_word(a),
            type_word(b)
        ))));
    };
    let overflow = || fail(Error::NumericOutOfRange("bigint out of range".into()));
    Ok(match (x, y) {
        (Num::Int(x), Num::Int(y)) => Value::Integer(
            match op {
                '+' => x.checked_add(y),
                '-' => x.checked_sub(y),
                _ => x.checked_mul(y),
            }
            .ok_or_else(overflow)?,
        ),
        (x, y) => {
            let f = |n: Num| match n {
                Num::Int(i) => i as f64,
                Num::Real(f) => f,
            };
            let (x, y) = (f(x), f(y));
            let finite = x.is_finite() && y.is_finite();
            match op {
                '+' => arith::checked(x + y, finite, true, false)?,
                '-' => arith::checked(x - y, finite, true, false)?,
                _ => arith::checked(x * y, finite, x == 0.0 || y == 0.0, false)?,
            }
        }
    })
}

fn type_word(v: ValueRef<'_>) -> &'static str {
    match v {
        ValueRef::Null => "unknown",
        ValueRef::Integer(_) => "integer",
        ValueRef::Real(_) => "double precision",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "bytea",
    }
}

/// The timestamp `micros` as a date/time function returns it, rounded
/// to the precision its optional argument gives (`current_timestamp(0)`).
pub(crate) fn timestamp_at(ctx: &Context<'_>, micros: i64) -> rusqlite::Result<Value> {
    if ctx.len() > 1 {
        return Err(fail(Error::Internal("too many arguments".into())));
    }
    let micros = match ctx.len() {
        0 => micros,
        _ => match ctx.get_raw(0) {
            ValueRef::Null => return Ok(Value::Null),
            ValueRef::Integer(p) => round_micros(micros, u32::try_from(p.clamp(0, 6)).unwrap_or(6)),
            _ => return Err(fail(Error::Internal("precision must be an integer".into()))),
        },
    };
    Ok(Value::Text(timestamp_text(micros).map_err(fail)?))
}

/// A date or timestamp stored value as microseconds since the Unix epoch.
pub(crate) fn ts_arg(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<i64>> {
    match ctx.get_raw(i) {
        ValueRef::Null => Ok(None),
        v => {
            let s = as_text(v).unwrap_or_default();
            parse_timestamp(&s, true).map(Some).map_err(fail)
        }
    }
}

fn field_arg(ctx: &Context<'_>) -> rusqlite::Result<Option<String>> {
    Ok(as_text(ctx.get_raw(0)).map(|s| s.trim().to_ascii_lowercase()))
}

fn bad_unit(kind: &str, unit: &str) -> rusqlite::Error {
    fail(Error::InvalidParameter(format!(
        "{kind} units \"{unit}\" not recognized"
    )))
}

/// `date_trunc(field, ts)` on stored timestamps, returning storage text.
fn date_trunc(ctx: &mut Context<'_>) -> FnResult {
    let (Some(unit), Some(ts)) = (field_arg(ctx)?, ts_arg(ctx, 1)?) else {
        return Ok(Value::Null);
    };
    Ok(Value::Text(
        timestamp_text(truncate("timestamp", &unit, ts)?).map_err(fail)?,
    ))
}

/// `date_trunc(unit, ts)` of a timestamp (microseconds since the epoch);
/// `kind` names the type in the error for an unknown unit.
pub(crate) fn truncate(kind: &str, unit: &str, ts: i64) -> rusqlite::Result<i64> {
    let days = ts.div_euclid(MICROS_PER_DAY);
    let tod = ts.rem_euclid(MICROS_PER_DAY);
    let (y, m, _) = civil_from_days(days);
    let at_day = |d: i64| d * MICROS_PER_DAY;
    let year_start = |y: i64| at_day(days_from_civil(y, 1, 1));
    let out = match unit {
        "microseconds" | "microsecond" => ts,
        "milliseconds" | "millisecond" => ts - ts.rem_euclid(1000),
        "second" | "seconds" => ts - ts.rem_euclid(1_000_000),
        "minute" | "minutes" => ts - ts.rem_euclid(60_000_000),
        "hour" | "hours" => ts - ts.rem_euclid(3_600_000_000),
        "day" | "days" => ts - tod,
        "week" | "weeks" => at_day(days - (days + 3).rem_euclid(7)),
        "month" | "months" => at_day(days_from_civil(y, m, 1)),
        "quarter" => at_day(days_from_civil(y, (m - 1) / 3 * 3 + 1, 1)),
        "year" | "years" => year_start(y),
        "decade" => year_start(y.div_euclid(10) * 10),
        "century" => year_start((y - 1).div_euclid(100) * 100 + 1),
        "millennium" => year_start((y - 1).div_euclid(1000) * 1000 + 1),
        _ => return Err(bad_unit(kind, unit)),
    };
    Ok(out)
}

/// `extract(field FROM ts)` / `date_part`, as a number (numeric is REAL).
fn extract(ctx: &mut Context<'_>) -> FnResult {
    let (Some(unit), Some(ts)) = (field_arg(ctx)?, ts_arg(ctx, 1)?) else {
        return Ok(Value::Null);
    };
    let days = ts.div_euclid(MICROS_PER_DAY);
    let tod = ts.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let dow = (days + 4).rem_euclid(7); // 1970-01-01 was a Thursday.
    let isodow = if dow == 0 { 7 } else { dow };
    // The ISO year and week: the week with the year's first Thursday is 1.
    let thursday = days - isodow + 4;
    let (iso_year, _, _) = civil_from_days(thursday);
    let iso_week = (thursday - days_from_civil(iso_year, 1, 1)) / 7 + 1;
    let v: f64 = match unit.as_str() {
        "year" | "years" => y as f64,
        "month" | "months" => f64::from(m),
        "day" | "days" => f64::from(d),
        "hour" | "hours" => (tod / 3_600_000_000) as f64,
        "minute" | "minutes" => (tod / 60_000_000 % 60) as f64,
        "second" | "seconds" => (tod % 60_000_000) as f64 / 1e6,
        "milliseconds" | "millisecond" => (tod % 60_000_000) as f64 / 1e3,
        "microseconds" | "microsecond" => (tod % 60_000_000) as f64,
        "dow" => dow as f64,
        "isodow" => isodow as f64,
        "doy" => (days - days_from_civil(y, 1, 1) + 1) as f64,
        "week" => iso_week as f64,
        "isoyear" => iso_year as f64,
        "quarter" => f64::from((m - 1) / 3 + 1),
        "decade" => y.div_euclid(10) as f64,
        "century" => ((y - 1).div_euclid(100) + 1) as f64,
        "millennium" => ((y - 1).div_euclid(1000) + 1) as f64,
        "epoch" => ts as f64 / 1e6,
        "julian" => (days + 2_440_588) as f64 + tod as f64 / MICROS_PER_DAY as f64,
        _ => return Err(bad_unit("timestamp", &unit)),
    };
    Ok(Value::Real(v))
}

/// `generate_series(a, b, step)` as SQLite's series from 0 to this
/// function's result, each value `a + step * value` (SQLite's own series
/// reads a negative step its own way): the last index, -1 for no rows.
/// Integers only (others are refused rather than counted as floats); a
/// zero step is PostgreSQL's 22023.
fn series_last(ctx: &mut Context<'_>) -> FnResult {
    let mut v = [0i128; 3];
    for (i, slot) in v.iter_mut().enumerate() {
        *slot = match ctx.get_raw(i) {
            ValueRef::Integer(n) => n as i128,
            ValueRef::Null => return Ok(Value::Integer(-1)),
            _ => {
                return Err(fail(Error::Unsupported(
                    "generate_series over other than integers".into(),
                )))
            }
        };
    }
    let [a, b, step] = v;
    if step == 0 {
        return Err(fail(Error::InvalidParameter(
            "step size cannot equal zero".into(),
        )));
    }
    let n = (b - a) / step;
    Ok(Value::Integer(
        if (b - a) != 0 && (b - a).signum() != step.signum() {
            -1
        } else {
            n as i64
        },
    ))
}

/// `pg_jsonb_concat(a, b)` and `pg_jsonb_eq(a, b)`: jsonb's `||` and `=`
/// (see types::json); NULL when either side is.
fn jsonb_op(ctx: &Context<'_>, eq: bool) -> FnResult {
    let (Some(a), Some(b)) = (as_text(ctx.get_raw(0)), as_text(ctx.get_raw(1))) else {
        return Ok(Value::Null);
    };
    let bad = || {
        fail(Error::InvalidInput(
            "invalid input syntax for type json".into(),
        ))
    };
    if eq {
        let same = crate::types::json::jsonb_equal(&a, &b).ok_or_else(bad)?;
        return Ok(Value::Integer(i64::from(same)));
    }
    crate::types::json::concat_jsonb(&a, &b)
        .map(Value::Text)
        .ok_or_else(bad)
}

/// A bytea argument's bytes (text arguments by their UTF-8 bytes).
fn bytes_arg(ctx: &Context<'_>, i: usize) -> Option<Vec<u8>> {
    match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Blob(b) | ValueRef::Text(b) => Some(b.to_vec()),
        other => as_text(other).map(String::into_bytes),
    }
}

/// `pg_bytea_concat(a, b)`: bytea `||`.
fn bytea_concat(ctx: &mut Context<'_>) -> FnResult {
    match (bytes_arg(ctx, 0), bytes_arg(ctx, 1)) {
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Ok(Value::Blob(a))
        }
        _ => Ok(Value::Null),
    }
}

/// `pg_bytea_substring(b, from[, for])`: bytea's substring, on bytes
/// (the bounds as text's, `text::substring_bounds`).
fn bytea_substring(ctx: &mut Context<'_>) -> FnResult {
    let Some(b) = bytes_arg(ctx, 0) else {
        return Ok(Value::Null);
    };
    let Some((from, end)) = text::substring_bounds(ctx)? else {
        return Ok(Value::Null);
    };
    let (lo, hi) = (from - 1, end.saturating_sub(1).min(b.len() as i64));
    Ok(Value::Blob(if hi > lo {
        b[lo as usize..hi as usize].to_vec()
    } else {
        vec![]
    }))
}

fn random(_: &mut Context<'_>) -> FnResult {
    Ok(Value::Real(rand::random::<f64>()))
}

/// A random (version 4, RFC 4122 variant) UUID as uuid's stored text:
/// `gen_random_uuid()` and uuid-ossp's `uuid_generate_v4()`.
fn random_uuid(_: &mut Context<'_>) -> FnResult {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(Value::Text(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )))
}

/// The collation of an enum type (`types::enums`), created when SQLite
/// first meets its name: labels compare by their position in the name,
/// text that is no label after every label.
fn enum_collation(conn: &Connection, name: &str) -> rusqlite::Result<()> {
    let Some(labels) = crate::types::enums::collation_labels(name) else {
        return Ok(());
    };
    conn.create_collation(name, move |a, b| enum_order(&labels, a, b))
}

/// The order of two texts under an enum's labels: by the labels'
/// positions, text that is no label after every label, then by bytes.
fn enum_order(labels: &[Vec<u8>], a: &str, b: &str) -> std::cmp::Ordering {
    let pos = |s: &str| {
        labels
            .iter()
            .position(|l| l.as_slice() == s.as_bytes())
            .unwrap_or(usize::MAX)
    };
    pos(a).cmp(&pos(b)).then_with(|| a.cmp(b))
}

/// `pg_enum_cmp(a, b, collation)`: -1, 0 or 1 as the enum whose
/// collation is named orders the two labels ([`enum_order`]); NULL when
/// either is. Ordering comparisons use it rather than a COLLATE, which
/// SQLite would carry into whatever is built from the comparison's
/// result. The labels are read from the name once per statement.
fn enum_cmp(ctx: &mut Context<'_>) -> FnResult {
    let (Some(a), Some(b)) = (as_text(ctx.get_raw(0)), as_text(ctx.get_raw(1))) else {
        return Ok(Value::Null);
    };
    let labels = ctx.get_or_create_aux(2, |name| -> Result<_, Error> {
        let name = as_text(name).unwrap_or_default();
        Ok(crate::types::enums::collation_labels(&name).unwrap_or_default())
    })?;
    Ok(Value::Integer(enum_order(&labels, &a, &b) as i64))
}

/// `pg_assign_text(value, 'varchar(n)' | 'bpchar(n)')`: a value assigned
/// to such a column, as PostgreSQL assigns it: 22001 when longer than the
/// column (unless only spaces are beyond), `character(n)` padded.
fn assign_text(ctx: &mut Context<'_>) -> FnResult {
    let (Some(v), Some(spec)) = (as_text(ctx.get_raw(0)), as_text(ctx.get_raw(1))) else {
        return Ok(Value::Null);
    };
    let Some(ty) = cast_target(&spec) else {
        return Err(fail(Error::Internal(format!("no type {spec}"))));
    };
    Ok(value(ty.parse_text(&v).map_err(fail)?))
}

/// `f`, noting on each call that its value is not given by its arguments
/// alone (the clock, chance, the session): a query calling it is not kept
/// for reuse (`store::results`). Every such function a fragment worker's
/// connection has (here and in `session::register_basic`) is registered
/// through this.
pub(crate) fn outside<T: rusqlite::functions::SqlFnOutput>(
    f: impl Fn(&mut Context<'_>) -> rusqlite::Result<T> + Send + 'static,
) -> impl Fn(&mut Context<'_>) -> rusqlite::Result<T> + Send + 'static {
    move |ctx| {
        crate::store::results::reads_outside();
        f(ctx)
    }
}

/// Register MosaicDB's SQL functions on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let det = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let volatile = FunctionFlags::SQLITE_UTF8;
    conn.create_scalar_function("pg_cast", 2, det, pg_cast)?;
    conn.create_scalar_function("pg_assign_text", 2, det, assign_text)?;
    conn.create_scalar_function("pg_enum_cmp", 3, det, enum_cmp)?;
    conn.create_scalar_function("pg_series_last", 3, det, series_last)?;
    conn.create_scalar_function("pg_jsonb_concat", 2, det, |c| jsonb_op(c, false))?;
    conn.create_scalar_function("pg_jsonb_eq", 2, det, |c| jsonb_op(c, true))?;
    conn.create_scalar_function("pg_bytea_concat", 2, det, bytea_concat)?;
    conn.create_scalar_function("pg_bytea_substring", 2, det, bytea_substring)?;
    conn.create_scalar_function("pg_bytea_substring", 3, det, bytea_substring)?;
    conn.create_scalar_function("pg_greatest", -1, det, |c| extreme(c, true))?;
    conn.create_scalar_function("pg_least", -1, det, |c| extreme(c, false))?;
    conn.create_scalar_function("pg_div", 2, det, |c| arith(c, false))?;
    conn.create_scalar_function("pg_mod", 2, det, |c| arith(c, true))?;
    conn.create_scalar_function("pg_add", 2, det, |c| plus_minus_times(c, '+'))?;
    conn.create_scalar_function("pg_sub", 2, det, |c| plus_minus_times(c, '-'))?;
    conn.create_scalar_function("pg_mul", 2, det, |c| plus_minus_times(c, '*'))?;
    conn.create_scalar_function("pg_date_trunc", 2, det, date_trunc)?;
    zone::register_utc(conn)?;
    conn.create_scalar_function("pg_extract", 2, det, extract)?;
    // The clock's reading; a session's connection fixes pg_now and its
    // kin to its transaction's start (udf::session).
    for name in ["pg_now", "pg_clock_timestamp", "pg_statement_timestamp"] {
        let now = |ctx: &mut Context<'_>| timestamp_at(ctx, clock_micros());
        conn.create_scalar_function(name, -1, volatile, outside(now))?;
    }
    let today = |_: &mut Context<'_>| {
        Ok(Value::Text(format_date(
            clock_micros().div_euclid(MICROS_PER_DAY),
        )))
    };
    conn.create_scalar_function("pg_current_date", 0, volatile, outside(today))?;
    conn.create_scalar_function("pg_round_timestamp", 2, det, |ctx| {
        let Some(t) = ts_arg(ctx, 0)? else {
            return Ok(Value::Null);
        };
        let p: i64 = ctx.get(1)?;
        let p = u32::try_from(p.clamp(0, 6)).unwrap_or(6);
        Ok(Value::Text(
            timestamp_text(round_micros(t, p)).map_err(fail)?,
        ))
    })?;
    conn.create_scalar_function("pg_random", 0, volatile, outside(random))?;
    conn.create_scalar_function("gen_random_uuid", 0, volatile, outside(random_uuid))?;
    conn.create_scalar_function("uuid_generate_v4", 0, volatile, outside(random_uuid))?;
    conn.create_collation(crate::types::BPCHAR_COLLATION, |a, b| {
        a.trim_end_matches(' ').cmp(b.trim_end_matches(' '))
    })?;
    conn.collation_needed(enum_collation)?;
    aggregate::register(conn, det)?;
    arith::register(conn, det)?;
    bytes::register(conn, det)?;
    array::register(conn, det)?;
    interval::register(conn, det)?;
    time::register(conn, det)?;
    json::register(conn, det)?;
    math::register(conn, det)?;
    degrees::register(conn, det)?;
    strings::register(conn, det)?;
    similar::register(conn, det)?;
    stats::register(conn, det)?;
    ordered::register(conn, det)?;
    divisors::register(conn, det)?;
    domain::register(conn, det)?;
    regexp::register(conn, det)?;
    numeric::register(conn, det)?;
    pg_catalog::register(conn, det)?;
    vector::register(conn, det)?;
    geometry::register(conn, det)?;
    text::register(conn, det)
}

#[cfg(test)]
mod rewrite_tests;
#[cfg(test)]
mod tests;
