//! The functions that take a timestamptz's local fields in the session's
//! TimeZone (`types::zone`), which the typed step emits where PostgreSQL
//! reads a timestamptz in the session's zone:
//!
//! - `pg_tz_instant(x)`: a timestamp, date or text as the timestamptz of
//!   that wall time here (a text with an offset keeps it);
//! - `pg_tz_local(x)`: a timestamptz as its wall time here (a timestamp);
//! - `pg_tz_text(x)`: a timestamptz as PostgreSQL prints it here;
//! - `pg_tz_offset(x)`: the zone's offset at that instant, in seconds east;
//! - `pg_tz_trunc(unit, x)`: date_trunc on the wall time, a day or more
//!   resolved to an instant again, less keeping the offset (as
//!   PostgreSQL's timestamptz_trunc); `pg_tz_trunc_in(unit, x, zone)` the
//!   same in the zone named;
//! - `pg_tz_add(x, interval, sign)`: months and days on the wall time's
//!   calendar, the time part as elapsed time;
//! - `pg_tz_series_last` / `pg_tz_series_at`: generate_series of
//!   timestamptz by such steps;
//! - `pg_tz_to_char(x, template)`: to_char with the zone's fields;
//! - `pg_tz_array_text(x)`: an array of timestamptz as the text[] of its
//!   elements printed here (a cast to text, array_to_string).
//!
//! Each is registered once with UTC for every connection and again on a
//! session's connections with its zone (`store::udf::session`), which a
//! fragment on a peer takes from its coordinator.

use std::sync::Arc;

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::Value;
use rusqlite::Connection;

use super::{as_text, fail, ts_arg, FnResult};
use crate::types::datetime::{format_timestamptz, parse_timestamptz, timestamp_text};
use crate::types::interval::Interval;
use crate::types::zone::Zone;

type ZoneOf = Arc<dyn Fn() -> Zone + Send + Sync>;

fn text(t: i64) -> FnResult {
    Ok(Value::Text(timestamp_text(t).map_err(fail)?))
}

fn instant(ctx: &Context<'_>, zone: Zone) -> FnResult {
    match as_text(ctx.get_raw(0)) {
        None => Ok(Value::Null),
        Some(s) => text(parse_timestamptz(&s, zone).map_err(fail)?),
    }
}

/// `date_trunc(unit, timestamptz, zone)`: truncated in the zone named.
fn trunc_in(ctx: &Context<'_>) -> FnResult {
    match as_text(ctx.get_raw(2)) {
        None => Ok(Value::Null),
        Some(z) => trunc(ctx, Zone::parse(&z).map_err(fail)?),
    }
}

fn trunc(ctx: &Context<'_>, zone: Zone) -> FnResult {
    let (Some(unit), Some(utc)) = (
        as_text(ctx.get_raw(0)).map(|s| s.trim().to_ascii_lowercase()),
        ts_arg(ctx, 1)?,
    ) else {
        return Ok(Value::Null);
    };
    let offset = zone.offset_at(utc) * 1_000_000;
    let local = super::truncate("timestamp with time zone", &unit, utc + offset)?;
    // Below a day the offset stays; from a day up the wall time is
    // resolved again (a truncation can cross a change of offset).
    let whole_days = !matches!(
        unit.as_str(),
        "microseconds"
            | "microsecond"
            | "milliseconds"
            | "millisecond"
            | "second"
            | "seconds"
            | "minute"
            | "minutes"
            | "hour"
            | "hours"
    );
    text(if whole_days {
        zone.instant_of(local)
    } else {
        local - offset
    })
}

fn add(ctx: &Context<'_>, zone: Zone) -> FnResult {
    let (Some(utc), Some(iv)) = (ts_arg(ctx, 0)?, as_text(ctx.get_raw(1))) else {
        return Ok(Value::Null);
    };
    let mut iv = Interval::parse(&iv).map_err(fail)?;
    if ctx.get::<i64>(2)? < 0 {
        iv = iv.negated().map_err(fail)?;
    }
    text(zone.add_interval(utc, &iv).map_err(fail)?)
}

fn to_char(ctx: &Context<'_>, zone: Zone) -> FnResult {
    use crate::types::format::{self, Kind, Parts};
    let (Some(utc), Some(template)) = (ts_arg(ctx, 0)?, as_text(ctx.get_raw(1))) else {
        return Ok(Value::Null);
    };
    if template.is_empty() {
        return Ok(Value::Null);
    }
    let offset = zone.offset_at(utc);
    let mut parts = Parts::of_timestamp(utc + offset * 1_000_000);
    parts.offset = offset;
    parts.zone = zone.abbreviation_at(utc);
    format::to_char(&parts, &template, Kind::Timestamptz)
        .map(Value::Text)
        .map_err(fail)
}

fn array_text(ctx: &Context<'_>, zone: Zone) -> FnResult {
    use crate::types::array::{format_array, parse_array};
    let Some(stored) = as_text(ctx.get_raw(0)) else {
        return Ok(Value::Null);
    };
    let items = parse_array(&stored)
        .into_iter()
        .map(|e| {
            e.map(|s| {
                crate::types::datetime::parse_timestamp(&s, true)
                    .map(|u| format_timestamptz(u, zone))
            })
            .transpose()
        })
        .collect::<crate::error::Result<Vec<_>>>()
        .map_err(fail)?;
    Ok(Value::Text(format_array(&items)))
}

/// Register the functions with the zone `zone_of` answers.
pub fn register(conn: &Connection, zone_of: ZoneOf) -> rusqlite::Result<()> {
    // Deterministic within a statement: the zone changes between them.
    let det = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let z = zone_of.clone();
    conn.create_scalar_function("pg_tz_instant", 1, det, move |c| instant(c, z()))?;
    let z = zone_of.clone();
    conn.create_scalar_function("pg_tz_local", 1, det, move |c| match ts_arg(c, 0)? {
        Some(utc) => text(z().local_of(utc)),
        None => Ok(Value::Null),
    })?;
    let z = zone_of.clone();
    conn.create_scalar_function("pg_tz_text", 1, det, move |c| match ts_arg(c, 0)? {
        Some(utc) => Ok(Value::Text(format_timestamptz(utc, z()))),
        None => Ok(Value::Null),
    })?;
    let z = zone_of.clone();
    conn.create_scalar_function("pg_tz_offset", 1, det, move |c| match ts_arg(c, 0)? {
        Some(utc) => Ok(Value::Integer(z().offset_at(utc))),
        None => Ok(Value::Null),
    })?;
    let z = zone_of.clone();
    conn.create_scalar_function("pg_tz_array_text", 1, det, move |c| array_text(c, z()))?;
    let z = zone_of.clone();
    conn.create_scalar_function("pg_tz_trunc", 2, det, move |c| trunc(c, z()))?;
    conn.create_scalar_function("pg_tz_trunc_in", 3, det, |c| trunc_in(c))?;
    let z = zone_of.clone();
    conn.create_scalar_function("pg_tz_add", 3, det, move |c| add(c, z()))?;
    let z = zone_of.clone();
    conn.create_scalar_function("pg_tz_to_char", 2, det, move |c| to_char(c, z()))?;
    let z = zone_of.clone();
    conn.create_scalar_function("pg_tz_series_last", 3, det, move |c| {
        super::interval::series_last_in(c, z())
    })?;
    let z = zone_of;
    conn.create_scalar_function("pg_tz_series_at", 3, det, move |c| {
        super::interval::series_at_in(c, z())
    })?;
    Ok(())
}

/// The functions in UTC, for every connection.
pub fn register_utc(conn: &Connection) -> rusqlite::Result<()> {
    register(conn, Arc::new(|| Zone::UTC))
}
