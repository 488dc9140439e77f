//! `time` arithmetic the typed step (`sql::infer::typed::time`) emits:
//! `pg_time_add(t, interval, ±1)`, `pg_time_diff(a, b)`, `pg_date_time(d,
//! t)` and `pg_make_time(h, m, s)`, each NULL for a NULL argument.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::Value;
use rusqlite::Connection;

use super::{as_text, fail, FnResult};
use crate::error::Error;
use crate::types::datetime::{format_time, parse_date, parse_time, timestamp_text, MICROS_PER_DAY};
use crate::types::interval::Interval;

fn time_arg(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<i64>> {
    as_text(ctx.get_raw(i))
        .map(|s| parse_time(&s))
        .transpose()
        .map_err(fail)
}

/// `time ± interval`: the interval's time part only, wrapped into a day.
fn add(ctx: &mut Context<'_>) -> FnResult {
    let (Some(t), Some(iv)) = (time_arg(ctx, 0)?, as_text(ctx.get_raw(1))) else {
        return Ok(Value::Null);
    };
    let iv = Interval::parse(&iv).map_err(fail)?;
    let span = if ctx.get::<i64>(2)? < 0 {
        -iv.micros
    } else {
        iv.micros
    };
    Ok(Value::Text(format_time(
        (t + span % MICROS_PER_DAY).rem_euclid(MICROS_PER_DAY),
    )))
}

/// `time - time`: an interval of hours, minutes and seconds.
fn diff(ctx: &mut Context<'_>) -> FnResult {
    let (Some(a), Some(b)) = (time_arg(ctx, 0)?, time_arg(ctx, 1)?) else {
        return Ok(Value::Null);
    };
    let iv = Interval {
        months: 0,
        days: 0,
        micros: a - b,
    };
    Ok(Value::Text(iv.format()))
}

/// `date + time`: the timestamp of that time on that day.
fn date_time(ctx: &mut Context<'_>) -> FnResult {
    let (Some(d), Some(t)) = (as_text(ctx.get_raw(0)), time_arg(ctx, 1)?) else {
        return Ok(Value::Null);
    };
    let days = parse_date(&d).map_err(fail)?;
    let micros = days
        .checked_mul(MICROS_PER_DAY)
        .and_then(|m| m.checked_add(t))
        .ok_or_else(|| {
            fail(Error::DatetimeFieldOverflow(
                "timestamp out of range".into(),
            ))
        })?;
    timestamp_text(micros).map(Value::Text).map_err(fail)
}

/// `make_time(hour, min, sec)`, checked as PostgreSQL checks it.
fn make(ctx: &mut Context<'_>) -> FnResult {
    let number = |i: usize| super::math::float_value(ctx.get_raw(i));
    let (Some(h), Some(m), Some(s)) = (number(0)?, number(1)?, number(2)?) else {
        return Ok(Value::Null);
    };
    let (h, m) = (h as i64, m as i64);
    let micros = ((h * 60 + m) * 60) as f64 * 1e6 + (s * 1e6).round();
    if !(0..=24).contains(&h)
        || !(0..=59).contains(&m)
        || !(0.0..=60.0).contains(&s)
        || micros > MICROS_PER_DAY as f64
    {
        let sec = crate::types::number::format_float(s, false);
        let sec = if (0.0..10.0).contains(&s) {
            format!("0{sec}")
        } else {
            sec
        };
        return Err(fail(Error::DatetimeFieldOverflow(format!(
            "time field value out of range: {h}:{m:02}:{sec}"
        ))));
    }
    Ok(Value::Text(format_time(micros as i64)))
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    conn.create_scalar_function("pg_time_add", 3, det, add)?;
    conn.create_scalar_function("pg_time_diff", 2, det, diff)?;
    conn.create_scalar_function("pg_date_time", 2, det, date_time)?;
    conn.create_scalar_function("pg_make_time", 3, det, make)
}
