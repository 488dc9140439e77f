//! The interval type's functions on stored values (`types::interval`):
//! the `pg_interval` collation, arithmetic with intervals and timestamps,
//! `age`, `justify_*`, `make_interval`, the fields of `extract` and
//! `date_part`, and `sum`/`avg` (whose partial results merge across shards
//! by the same functions: `plan::fragment`); and the date and time
//! functions built on them: `to_char`, `to_timestamp`, `to_date`,
//! `AT TIME ZONE`, `date_bin`, `date_trunc` of an interval and the
//! timestamp `generate_series`. The typed step (`sql::infer::typed`)
//! emits these names where an operand is an interval or a date or time.

use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::{as_text, fail, ts_arg, FnResult};
use crate::error::Error;
use crate::types::datetime::timestamp_text;
use crate::types::interval::{self, Interval};
use crate::types::zone::Zone;

/// Argument `i` as an interval; `None` for NULL.
fn iv_arg(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<Interval>> {
    match as_text(ctx.get_raw(i)) {
        None => Ok(None),
        Some(s) => Interval::parse(&s).map(Some).map_err(fail),
    }
}

fn out(r: crate::error::Result<Interval>) -> FnResult {
    r.map(|iv| Value::Text(iv.format())).map_err(fail)
}

/// `f(a, b)` of two intervals.
fn binary(
    ctx: &Context<'_>,
    f: fn(Interval, Interval) -> crate::error::Result<Interval>,
) -> FnResult {
    match (iv_arg(ctx, 0)?, iv_arg(ctx, 1)?) {
        (Some(a), Some(b)) => out(f(a, b)),
        _ => Ok(Value::Null),
    }
}

/// `f(a)` of one interval.
fn unary(ctx: &Context<'_>, f: fn(Interval) -> crate::error::Result<Interval>) -> FnResult {
    match iv_arg(ctx, 0)? {
        Some(a) => out(f(a)),
        None => Ok(Value::Null),
    }
}

/// `interval * float8` (`mul`) or `interval / float8`.
fn scale(ctx: &Context<'_>, mul: bool) -> FnResult {
    match (iv_arg(ctx, 0)?, super::math::float(ctx, 1)?) {
        (Some(a), Some(f)) => out(if mul { a.times(f) } else { a.divided_by(f) }),
        _ => Ok(Value::Null),
    }
}

/// `timestamp ± interval` (a date reads as its midnight): the stored text
/// of the timestamp it gives.
fn shift(ctx: &Context<'_>, minus: bool) -> FnResult {
    let (Some(ts), Some(iv)) = (ts_arg(ctx, 0)?, iv_arg(ctx, 1)?) else {
        return Ok(Value::Null);
    };
    let iv = if minus {
        iv.negated().map_err(fail)?
    } else {
        iv
    };
    let t = iv.add_to_timestamp(ts).map_err(fail)?;
    Ok(Value::Text(timestamp_text(t).map_err(fail)?))
}

/// `f(a, b)` of two timestamps, giving an interval.
fn of_timestamps(ctx: &Context<'_>, f: fn(i64, i64) -> crate::error::Result<Interval>) -> FnResult {
    match (ts_arg(ctx, 0)?, ts_arg(ctx, 1)?) {
        (Some(a), Some(b)) => out(f(a, b)),
        _ => Ok(Value::Null),
    }
}

/// `make_interval(years, months, weeks, days, hours, mins, secs)`.
fn make(ctx: &mut Context<'_>) -> FnResult {
    let mut ints = [0i64; 6];
    for (i, slot) in ints.iter_mut().enumerate() {
        match ctx.get_raw(i) {
            ValueRef::Null => return Ok(Value::Null),
            ValueRef::Integer(v) => *slot = v,
            _ => {
                return Err(fail(Error::DatatypeMismatch(
                    "make_interval takes integer arguments before secs".into(),
                )))
            }
        }
    }
    match super::math::float(ctx, 6)? {
        Some(secs) => out(Interval::make(ints, secs)),
        None => Ok(Value::Null),
    }
}

/// `pg_interval_part(field, iv, as_float)`: extract's numeric text, or
/// date_part's double.
fn part(ctx: &mut Context<'_>) -> FnResult {
    let (Some(field), Some(iv)) = (as_text(ctx.get_raw(0)), iv_arg(ctx, 1)?) else {
        return Ok(Value::Null);
    };
    let text = iv.part(&field.trim().to_ascii_lowercase()).map_err(fail)?;
    Ok(if ctx.get::<i64>(2)? != 0 {
        Value::Real(text.parse().unwrap_or(0.0))
    } else {
        Value::Text(text)
    })
}

/// `sum(interval)`, and the merge of partial sums.
struct Sum;

impl Aggregate<Option<Interval>, Value> for Sum {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Option<Interval>> {
        Ok(None)
    }

    fn step(&self, ctx: &mut Context<'_>, st: &mut Option<Interval>) -> rusqlite::Result<()> {
        if let Some(v) = iv_arg(ctx, 0)? {
            *st = Some(match st {
                Some(s) => s.plus(v).map_err(fail)?,
                None => v,
            });
        }
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, st: Option<Option<Interval>>) -> FnResult {
        Ok(match st.flatten() {
            Some(s) => Value::Text(s.format()),
            None => Value::Null,
        })
    }
}

/// `avg(interval)`: the sum divided by the count, as PostgreSQL's
/// interval_avg divides.
struct Avg;

impl Aggregate<(Option<Interval>, i64), Value> for Avg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<(Option<Interval>, i64)> {
        Ok((None, 0))
    }

    fn step(
        &self,
        ctx: &mut Context<'_>,
        st: &mut (Option<Interval>, i64),
    ) -> rusqlite::Result<()> {
        if let Some(v) = iv_arg(ctx, 0)? {
            st.0 = Some(match st.0 {
                Some(s) => s.plus(v).map_err(fail)?,
                None => v,
            });
            st.1 += 1;
        }
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, st: Option<(Option<Interval>, i64)>) -> FnResult {
        match st {
            Some((Some(s), n)) if n > 0 => out(s.divided_by(n as f64)),
            _ => Ok(Value::Null),
        }
    }
}

/// `pg_interval_avg_final(sum, count)`: the average from merged partial
/// sums and counts.
fn avg_final(ctx: &mut Context<'_>) -> FnResult {
    let n = match ctx.get_raw(1) {
        ValueRef::Integer(n) if n > 0 => n,
        _ => return Ok(Value::Null),
    };
    match iv_arg(ctx, 0)? {
        Some(s) => out(s.divided_by(n as f64)),
        None => Ok(Value::Null),
    }
}

/// `pg_interval_cmp(a, b)`: -1, 0 or 1 as PostgreSQL orders the two;
/// NULL when either is.
fn cmp(ctx: &mut Context<'_>) -> FnResult {
    Ok(match (iv_arg(ctx, 0)?, iv_arg(ctx, 1)?) {
        (Some(a), Some(b)) => Value::Integer(a.cmp_key().cmp(&b.cmp_key()) as i64),
        _ => Value::Null,
    })
}

/// `pg_interval_key(a)`: a text equal for equal intervals (`1 day` and
/// `24:00:00` alike), for DISTINCT.
fn key(ctx: &mut Context<'_>) -> FnResult {
    Ok(match iv_arg(ctx, 0)? {
        Some(a) => Value::Text(a.cmp_key().to_string()),
        None => Value::Null,
    })
}

/// `pg_to_char(value, template, type)`: to_char of a date, timestamp,
/// timestamptz or interval; NULL for an empty template, as in PostgreSQL.
fn to_char(ctx: &mut Context<'_>) -> FnResult {
    use crate::types::format::{self, Kind, Parts};
    let (Some(value), Some(template), Some(ty)) = (
        as_text(ctx.get_raw(0)),
        as_text(ctx.get_raw(1)),
        as_text(ctx.get_raw(2)),
    ) else {
        return Ok(Value::Null);
    };
    if template.is_empty() {
        return Ok(Value::Null);
    }
    let (parts, kind) = if ty == "interval" {
        let iv = Interval::parse(&value).map_err(fail)?;
        (Parts::of_interval(&iv), Kind::Interval)
    } else {
        let ts = crate::types::datetime::parse_timestamp(&value, true).map_err(fail)?;
        // A date is formatted as the timestamptz it casts to.
        let kind = if ty == "timestamptz" || ty == "date" {
            Kind::Timestamptz
        } else {
            Kind::Timestamp
        };
        (Parts::of_timestamp(ts), kind)
    };
    format::to_char(&parts, &template, kind)
        .map(Value::Text)
        .map_err(fail)
}

/// `to_timestamp(seconds)`: the moment that many seconds after
/// 1970-01-01 00:00 UTC, to the microsecond.
fn to_timestamp(ctx: &mut Context<'_>) -> FnResult {
    let Some(secs) = super::math::float(ctx, 0)? else {
        return Ok(Value::Null);
    };
    if secs.is_infinite() {
        return Err(fail(Error::Unsupported("an infinite timestamp".into())));
    }
    let micros = (secs * 1e6).round_ties_even();
    if !micros.is_finite() || micros.abs() >= 9.2e18 {
        return Err(fail(Error::DatetimeFieldOverflow(
            "timestamp out of range".into(),
        )));
    }
    Ok(Value::Text(timestamp_text(micros as i64).map_err(fail)?))
}

/// `to_timestamp(text, template)` (`date`: `to_date`, its day).
fn from_text(ctx: &mut Context<'_>, date: bool) -> FnResult {
    let (Some(input), Some(template)) = (as_text(ctx.get_raw(0)), as_text(ctx.get_raw(1))) else {
        return Ok(Value::Null);
    };
    let ts = crate::types::format::parse(&input, &template).map_err(fail)?;
    let day = ts.div_euclid(crate::types::datetime::MICROS_PER_DAY);
    Ok(Value::Text(
        if date {
            crate::types::datetime::date_text(day)
        } else {
            timestamp_text(ts)
        }
        .map_err(fail)?,
    ))
}

/// `pg_at_time_zone(ts, zone, to_local, zone_is_interval)`: a
/// timestamptz's wall time in `zone` (`to_local`), or the instant of a
/// timestamp's wall time there.
fn at_time_zone(ctx: &mut Context<'_>) -> FnResult {
    let (Some(ts), Some(zone)) = (ts_arg(ctx, 0)?, as_text(ctx.get_raw(1))) else {
        return Ok(Value::Null);
    };
    let zone = if ctx.get::<i64>(3)? != 0 {
        Zone::of_interval(&Interval::parse(&zone).map_err(fail)?)
    } else {
        Zone::parse(&zone)
    }
    .map_err(fail)?;
    let t = if ctx.get::<i64>(2)? != 0 {
        zone.local_of(ts)
    } else {
        zone.instant_of(ts)
    };
    Ok(Value::Text(timestamp_text(t).map_err(fail)?))
}

/// The most elements a `generate_series` of timestamps makes; a longer
/// one is refused (0A000).
const SERIES_LIMIT: i64 = 100_000_000;

/// The `n`-th element of a timestamp series: the start moved by the step
/// `n` times (months, and days where `zone` changes its offset, on the
/// calendar one step at a time, as PostgreSQL adds them; otherwise the
/// sum is exact at once). A timestamp's series is one in UTC.
fn series_at(start: i64, step: Interval, n: i64, zone: Zone) -> crate::error::Result<i64> {
    if let Some(per) = per_step(&step, zone) {
        return i64::try_from(i128::from(start) + per * i128::from(n))
            .map_err(|_| Error::DatetimeFieldOverflow("timestamp out of range".into()));
    }
    let mut t = start;
    for _ in 0..n {
        t = zone.add_interval(t, &step)?;
    }
    Ok(t)
}

/// A step's length in microseconds, where every step has the same.
fn per_step(step: &Interval, zone: Zone) -> Option<i128> {
    let fixed = step.days == 0 || matches!(zone, Zone::Fixed(_));
    (step.months == 0 && fixed).then(|| {
        i128::from(step.days) * i128::from(crate::types::datetime::MICROS_PER_DAY)
            + i128::from(step.micros)
    })
}

/// `pg_timestamp_series_at(start, step, n)` (`pg_tz_series_at` for a
/// timestamptz, in the session's zone).
pub(super) fn series_at_in(ctx: &Context<'_>, zone: Zone) -> FnResult {
    let (Some(start), Some(step)) = (ts_arg(ctx, 0)?, iv_arg(ctx, 1)?) else {
        return Ok(Value::Null);
    };
    let n: i64 = ctx.get(2)?;
    let t = series_at(start, step, n, zone).map_err(fail)?;
    Ok(Value::Text(timestamp_text(t).map_err(fail)?))
}

/// `pg_timestamp_series_last(start, stop, step)`: the index of the last
/// element of the series (-1 for none); 22023 for a zero step.
pub(super) fn series_last_in(ctx: &Context<'_>, zone: Zone) -> FnResult {
    let (Some(start), Some(stop), Some(step)) = (ts_arg(ctx, 0)?, ts_arg(ctx, 1)?, iv_arg(ctx, 2)?)
    else {
        return Ok(Value::Integer(-1));
    };
    let dir = step.cmp_key().signum();
    if dir == 0 {
        return Err(fail(Error::InvalidParameter(
            "step size cannot equal zero".into(),
        )));
    }
    let within = |t: i64| if dir > 0 { t <= stop } else { t >= stop };
    if let Some(per) = per_step(&step, zone) {
        let span = i128::from(stop) - i128::from(start);
        if per == 0 || (span != 0 && span.signum() != per.signum()) {
            return Ok(Value::Integer(if span == 0 { 0 } else { -1 }));
        }
        let n = span / per;
        if n >= i128::from(SERIES_LIMIT) {
            return Err(fail(too_long()));
        }
        return Ok(Value::Integer(n as i64));
    }
    let mut n = -1;
    let mut t = start;
    while within(t) {
        n += 1;
        if n >= SERIES_LIMIT {
            return Err(fail(too_long()));
        }
        t = zone.add_interval(t, &step).map_err(fail)?;
    }
    Ok(Value::Integer(n))
}

/// A series longer than [`SERIES_LIMIT`] is refused, never cut short.
fn too_long() -> Error {
    Error::Unsupported(format!(
        "a generate_series of timestamps with more than {SERIES_LIMIT} elements"
    ))
}

/// `pg_interval_trunc(unit, iv)`: date_trunc of an interval.
fn interval_trunc(ctx: &mut Context<'_>) -> FnResult {
    let (Some(unit), Some(iv)) = (as_text(ctx.get_raw(0)), iv_arg(ctx, 1)?) else {
        return Ok(Value::Null);
    };
    out(iv.truncated(&unit.trim().to_ascii_lowercase()))
}

/// `pg_date_bin(stride, ts, origin)`.
fn date_bin(ctx: &mut Context<'_>) -> FnResult {
    let (Some(stride), Some(ts), Some(origin)) =
        (iv_arg(ctx, 0)?, ts_arg(ctx, 1)?, ts_arg(ctx, 2)?)
    else {
        return Ok(Value::Null);
    };
    let t = stride.bin(ts, origin).map_err(fail)?;
    Ok(Value::Text(timestamp_text(t).map_err(fail)?))
}

pub fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    conn.create_scalar_function("pg_interval_trunc", 2, det, interval_trunc)?;
    conn.create_scalar_function("pg_date_bin", 3, det, date_bin)?;
    conn.create_scalar_function("pg_timestamp_series_last", 3, det, |c| {
        series_last_in(c, Zone::UTC)
    })?;
    conn.create_scalar_function("pg_timestamp_series_at", 3, det, |c| {
        series_at_in(c, Zone::UTC)
    })?;
    conn.create_scalar_function("pg_at_time_zone", 4, det, at_time_zone)?;
    conn.create_scalar_function("pg_to_timestamp_text", 2, det, |c| from_text(c, false))?;
    conn.create_scalar_function("pg_to_date", 2, det, |c| from_text(c, true))?;
    conn.create_scalar_function("pg_to_char", 3, det, to_char)?;
    conn.create_scalar_function("pg_to_timestamp", 1, det, to_timestamp)?;
    conn.create_scalar_function("pg_interval_cmp", 2, det, cmp)?;
    conn.create_scalar_function("pg_interval_key", 1, det, key)?;
    conn.create_collation(interval::COLLATION, interval::compare_text)?;
    conn.create_collation(crate::types::TEXT_COLLATION, |a, b| a.cmp(b))?;
    conn.create_scalar_function("pg_interval_add", 2, det, |c| binary(c, Interval::plus))?;
    conn.create_scalar_function("pg_interval_sub", 2, det, |c| binary(c, Interval::minus))?;
    conn.create_scalar_function("pg_interval_neg", 1, det, |c| unary(c, Interval::negated))?;
    conn.create_scalar_function("pg_interval_mul", 2, det, |c| scale(c, true))?;
    conn.create_scalar_function("pg_interval_div", 2, det, |c| scale(c, false))?;
    conn.create_scalar_function("pg_timestamp_add_interval", 2, det, |c| shift(c, false))?;
    conn.create_scalar_function("pg_timestamp_sub_interval", 2, det, |c| shift(c, true))?;
    conn.create_scalar_function("pg_timestamp_diff", 2, det, |c| {
        of_timestamps(c, Interval::between)
    })?;
    conn.create_scalar_function("pg_age", 2, det, |c| of_timestamps(c, Interval::age))?;
    conn.create_scalar_function("pg_justify_hours", 1, det, |c| {
        unary(c, Interval::justify_hours)
    })?;
    conn.create_scalar_function("pg_justify_days", 1, det, |c| {
        unary(c, Interval::justify_days)
    })?;
    conn.create_scalar_function("pg_justify_interval", 1, det, |c| {
        unary(c, Interval::justify_interval)
    })?;
    conn.create_scalar_function("pg_make_interval", 7, det, make)?;
    conn.create_scalar_function("pg_interval_part", 3, det, part)?;
    conn.create_scalar_function("pg_interval_avg_final", 2, det, avg_final)?;
    conn.create_aggregate_function("pg_interval_sum", 1, det, Sum)?;
    conn.create_aggregate_function("pg_interval_avg", 1, det, Avg)
}
