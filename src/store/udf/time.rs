//! `time` arithmetic the typed step (`sql::infer::typed::time`) emits:
//! `pg_time_add(t, interval, ±1)`, `pg_time_diff(a, b)`, `pg_date_time(d,
//! t)`, `pg_make_time(h, m, s)`, `pg_make_date(y, m, d)` and
//! `pg_make_timestamp(y, m, d, h, mi, s)`, each NULL for a NULL argument;
//! and `pg_overlaps(kind, s1, e1, s2, e2)`, SQL's OVERLAPS.

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
/// Microseconds since midnight of `h:m:s`, checked as PostgreSQL's
/// make_time and make_timestamp check them (24:00:00 the one past the day).
fn time_of(h: f64, m: f64, s: f64) -> rusqlite::Result<i64> {
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
    Ok(micros as i64)
}

/// Days since 1970-01-01 of `y-m-d`, checked as make_date checks them.
fn date_of(y: i64, m: i64, d: i64) -> rusqlite::Result<i64> {
    let valid = y != 0
        && (1..=12).contains(&m)
        && d >= 1
        && d <= i64::from(crate::types::datetime::days_in_month(y, m as u32));
    if !valid {
        return Err(fail(Error::DatetimeFieldOverflow(format!(
            "date field value out of range: {y}-{m:02}-{d:02}"
        ))));
    }
    crate::types::datetime::check_days(crate::types::datetime::days_from_civil(
        y, m as u32, d as u32,
    ))
    .map_err(fail)
}

fn make(ctx: &mut Context<'_>) -> FnResult {
    let number = |i: usize| super::math::float_value(ctx.get_raw(i));
    let (Some(h), Some(m), Some(s)) = (number(0)?, number(1)?, number(2)?) else {
        return Ok(Value::Null);
    };
    Ok(Value::Text(format_time(time_of(h, m, s)?)))
}

/// `make_date(y, m, d)`, and with `h, m, s` `make_timestamp`.
fn make_moment(ctx: &mut Context<'_>) -> FnResult {
    let mut ints = [0i64; 3];
    for (i, slot) in ints.iter_mut().enumerate() {
        match ctx.get_raw(i) {
            rusqlite::types::ValueRef::Null => return Ok(Value::Null),
            v => match super::math::float_value(v)? {
                Some(f) => *slot = f as i64,
                None => return Ok(Value::Null),
            },
        }
    }
    let days = date_of(ints[0], ints[1], ints[2])?;
    if ctx.len() == 3 {
        return Ok(Value::Text(crate::types::datetime::format_date(days)));
    }
    let number = |i: usize| super::math::float_value(ctx.get_raw(i));
    let (Some(h), Some(m), Some(s)) = (number(3)?, number(4)?, number(5)?) else {
        return Ok(Value::Null);
    };
    let micros = days * MICROS_PER_DAY + time_of(h, m, s)?;
    Ok(Value::Text(timestamp_text(micros).map_err(fail)?))
}

/// `(s1, e1) OVERLAPS (s2, e2)` of values of one `kind` (`date`, `time`,
/// `timestamp`, `timestamptz`, as stored), with PostgreSQL's answer where
/// endpoints are NULL (`overlaps_timestamp` of its timestamp.c): an
/// interval whose both ends are NULL gives NULL; one NULL end makes the
/// other its start; the ends are put in order.
fn overlaps(ctx: &mut Context<'_>) -> FnResult {
    let kind = as_text(ctx.get_raw(0)).unwrap_or_default();
    let value = |i: usize| -> rusqlite::Result<Option<i64>> {
        let Some(s) = as_text(ctx.get_raw(i)) else {
            return Ok(None);
        };
        match kind.as_str() {
            "date" => parse_date(&s),
            "time" => parse_time(&s),
            "timestamptz" => crate::types::datetime::parse_timestamp(&s, true),
            _ => crate::types::datetime::parse_timestamp(&s, false),
        }
        .map(Some)
        .map_err(fail)
    };
    let span = |s: Option<i64>, e: Option<i64>| match (s, e) {
        (None, None) => None,
        (None, Some(e)) | (Some(e), None) => Some((e, None)),
        (Some(s), Some(e)) => Some((s.min(e), Some(s.max(e)))),
    };
    let (Some((s1, e1)), Some((s2, e2))) = (span(value(1)?, value(2)?), span(value(3)?, value(4)?))
    else {
        return Ok(Value::Null);
    };
    // One starts inside the other (either of PostgreSQL's three cases).
    let inside = |s_late: i64, e_early: Option<i64>, e_late: Option<i64>| match e_early {
        None => None,
        Some(e) if s_late < e => Some(true),
        Some(_) => e_late.map(|_| false),
    };
    let answer = match s1.cmp(&s2) {
        std::cmp::Ordering::Greater => inside(s1, e2, e1),
        std::cmp::Ordering::Less => inside(s2, e1, e2),
        std::cmp::Ordering::Equal => (e1.is_some() && e2.is_some()).then_some(true),
    };
    Ok(answer.map_or(Value::Null, |b| Value::Integer(i64::from(b))))
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    conn.create_scalar_function("pg_overlaps", 5, det, overlaps)?;
    conn.create_scalar_function("pg_time_add", 3, det, add)?;
    conn.create_scalar_function("pg_time_diff", 2, det, diff)?;
    conn.create_scalar_function("pg_date_time", 2, det, date_time)?;
    conn.create_scalar_function("pg_make_time", 3, det, make)?;
    conn.create_scalar_function("pg_make_date", 3, det, make_moment)?;
    conn.create_scalar_function("pg_make_timestamp", 6, det, make_moment)
}
