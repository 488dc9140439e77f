//! PostgreSQL string functions with PostgreSQL semantics (Unicode case
//! mapping, character counts, NULL handling), registered under the names
//! `sql::rewrite` emits.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::{as_text, fail, FnResult};
use crate::error::Error;

fn text(ctx: &Context<'_>, i: usize) -> Option<String> {
    as_text(ctx.get_raw(i))
}

fn int(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<i64>> {
    match ctx.get_raw(i) {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(n) => Ok(Some(n)),
        ValueRef::Real(f) => Ok(Some(f.round() as i64)),
        v => {
            let s = as_text(v).unwrap_or_default();
            s.trim().parse().map(Some).map_err(|_| {
                fail(Error::InvalidInput(format!(
                    "invalid input syntax for type integer: \"{s}\""
                )))
            })
        }
    }
}

fn out(s: Option<String>) -> Value {
    s.map_or(Value::Null, Value::Text)
}

/// Register a function of one string argument that maps it to a string.
fn unary(
    conn: &Connection,
    name: &str,
    flags: FunctionFlags,
    f: fn(&str) -> String,
) -> rusqlite::Result<()> {
    conn.create_scalar_function(name, 1, flags, move |c| Ok(out(text(c, 0).map(|s| f(&s)))))
}

/// A character's upper case when Unicode maps it to one character (as C's
/// towupper does), else the character itself.
fn simple_upper(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// The same for lower case (`İ` lowers to two characters and stays).
fn simple_lower(c: char) -> char {
    let mut low = c.to_lowercase();
    match (low.next(), low.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

fn initcap(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_alnum = false;
    for ch in s.chars() {
        out.push(if prev_alnum {
            simple_lower(ch)
        } else {
            simple_upper(ch)
        });
        prev_alnum = ch.is_alphanumeric();
    }
    out
}

/// The character (or byte) positions `substring(x FROM start [FOR len])`
/// keeps: from `from` (1-based, at least 1) up to but excluding `end`;
/// `None` when `start` or `len` is NULL.
pub(super) fn substring_bounds(ctx: &Context<'_>) -> rusqlite::Result<Option<(i64, i64)>> {
    let Some(start) = int(ctx, 1)? else {
        return Ok(None);
    };
    let end = if ctx.len() > 2 {
        let Some(len) = int(ctx, 2)? else {
            return Ok(None);
        };
        if len < 0 {
            return Err(fail(Error::SubstringError(
                "negative substring length not allowed".into(),
            )));
        }
        start.saturating_add(len)
    } else {
        i64::MAX
    };
    Ok(Some((start.max(1), end)))
}

/// `substring(s FROM start FOR len)`: characters from `start` (1-based,
/// may be ≤ 0) up to but excluding `start + len`.
fn substring(ctx: &mut Context<'_>) -> FnResult {
    let Some(s) = text(ctx, 0) else {
        return Ok(Value::Null);
    };
    let Some((from, end)) = substring_bounds(ctx)? else {
        return Ok(Value::Null);
    };
    if end <= from {
        return Ok(Value::Text(String::new()));
    }
    let skip = usize::try_from(from - 1).unwrap_or(usize::MAX);
    let take = usize::try_from(end - from).unwrap_or(usize::MAX);
    Ok(Value::Text(s.chars().skip(skip).take(take).collect()))
}

fn pad(ctx: &Context<'_>, left: bool) -> FnResult {
    let (Some(s), Some(n)) = (text(ctx, 0), int(ctx, 1)?) else {
        return Ok(Value::Null);
    };
    let fill = if ctx.len() > 2 {
        match text(ctx, 2) {
            Some(f) => f,
            None => return Ok(Value::Null),
        }
    } else {
        " ".into()
    };
    let n = usize::try_from(n.max(0)).unwrap_or(0).min(10_485_760);
    let chars: Vec<char> = s.chars().collect();
    if chars.len() >= n || fill.is_empty() {
        return Ok(Value::Text(chars.into_iter().take(n).collect()));
    }
    let padding: String = fill.chars().cycle().take(n - chars.len()).collect();
    Ok(Value::Text(if left { padding + &s } else { s + &padding }))
}

/// `left(s, n)` / `right(s, n)`; a negative `n` drops `|n|` characters
/// from the other end.
fn side(ctx: &Context<'_>, left: bool) -> FnResult {
    let (Some(s), Some(n)) = (text(ctx, 0), int(ctx, 1)?) else {
        return Ok(Value::Null);
    };
    let chars: Vec<char> = s.chars().collect();
    let len = chars.len() as i64;
    let k = if n >= 0 { n.min(len) } else { (len + n).max(0) } as usize;
    Ok(Value::Text(if left {
        chars[..k].iter().collect()
    } else {
        chars[chars.len() - k..].iter().collect()
    }))
}

fn split_part(ctx: &mut Context<'_>) -> FnResult {
    let (Some(s), Some(delim), Some(n)) = (text(ctx, 0), text(ctx, 1), int(ctx, 2)?) else {
        return Ok(Value::Null);
    };
    if n == 0 {
        return Err(fail(Error::InvalidParameter(
            "field position must not be zero".into(),
        )));
    }
    let parts: Vec<&str> = if delim.is_empty() {
        vec![s.as_str()]
    } else {
        s.split(delim.as_str()).collect()
    };
    let idx = if n > 0 {
        usize::try_from(n - 1).ok()
    } else {
        usize::try_from(-n)
            .ok()
            .and_then(|k| parts.len().checked_sub(k))
    };
    Ok(Value::Text(
        idx.and_then(|i| parts.get(i))
            .map_or(String::new(), |p| (*p).to_string()),
    ))
}

fn concat(ctx: &mut Context<'_>) -> FnResult {
    Ok(Value::Text(
        (0..ctx.len()).filter_map(|i| text(ctx, i)).collect(),
    ))
}

fn concat_ws(ctx: &mut Context<'_>) -> FnResult {
    let Some(sep) = text(ctx, 0) else {
        return Ok(Value::Null);
    };
    let parts: Vec<String> = (1..ctx.len()).filter_map(|i| text(ctx, i)).collect();
    Ok(Value::Text(parts.join(&sep)))
}

fn repeat(ctx: &mut Context<'_>) -> FnResult {
    let (Some(s), Some(n)) = (text(ctx, 0), int(ctx, 1)?) else {
        return Ok(Value::Null);
    };
    let n = usize::try_from(n.max(0)).unwrap_or(0);
    if s.len().saturating_mul(n) > 1 << 30 {
        return Err(fail(Error::InvalidParameter(
            "requested length too large".into(),
        )));
    }
    Ok(Value::Text(s.repeat(n)))
}

/// `overlay(s placing what from start [for count])`, of text (by
/// characters) or bytea (by bytes): what comes before `start`, `what`,
/// then what comes from `start + count` on (`count` is `what`'s length
/// when not given; a negative one repeats characters before `start`).
fn overlay(ctx: &mut Context<'_>) -> FnResult {
    let units = |v: ValueRef<'_>| -> Option<(bool, Vec<u32>)> {
        match v {
            ValueRef::Null => None,
            ValueRef::Blob(b) => Some((true, b.iter().map(|&x| u32::from(x)).collect())),
            other => as_text(other).map(|s| (false, s.chars().map(u32::from).collect())),
        }
    };
    let (Some((blob, s)), Some((_, what))) = (units(ctx.get_raw(0)), units(ctx.get_raw(1))) else {
        return Ok(Value::Null);
    };
    let Some(start) = int(ctx, 2)? else {
        return Ok(Value::Null);
    };
    let count = match ctx.len() {
        4 => match int(ctx, 3)? {
            Some(n) => n,
            None => return Ok(Value::Null),
        },
        _ => what.len() as i64,
    };
    if start <= 0 {
        return Err(fail(Error::SubstringError(
            "negative substring length not allowed".into(),
        )));
    }
    let int4 = |n: i64| i32::try_from(n).is_ok();
    if !int4(start) || !int4(count) || !int4(start + count) {
        return Err(fail(Error::NumericOutOfRange(
            "integer out of range".into(),
        )));
    }
    let head = usize::try_from(start - 1).unwrap_or(0).min(s.len());
    let tail = usize::try_from((start + count).max(1) - 1)
        .unwrap_or(0)
        .min(s.len());
    let all = s[..head].iter().chain(&what).chain(&s[tail..]);
    Ok(if blob {
        Value::Blob(all.map(|&u| u as u8).collect())
    } else {
        Value::Text(all.filter_map(|&u| char::from_u32(u)).collect())
    })
}

/// `num_nulls(…)` / `num_nonnulls(…)`: how many arguments are NULL (or
/// not); at least one argument, as PostgreSQL's VARIADIC "any" asks.
fn count_nulls(ctx: &Context<'_>, nulls: bool, name: &str) -> FnResult {
    if ctx.is_empty() {
        return Err(fail(Error::NoSuchFunction(format!("{name}()")).with_hint(
            "No function matches the given name and argument types. You might need to add explicit type casts.",
        )));
    }
    let n = (0..ctx.len())
        .filter(|&i| matches!(ctx.get_raw(i), ValueRef::Null) == nulls)
        .count();
    Ok(Value::Integer(n as i64))
}

/// `bit_count(bytea)`: the bits set.
fn bit_count(ctx: &mut Context<'_>) -> FnResult {
    match ctx.get_raw(0) {
        ValueRef::Null => Ok(Value::Null),
        ValueRef::Blob(b) => Ok(Value::Integer(
            b.iter().map(|x| i64::from(x.count_ones())).sum(),
        )),
        _ => Err(fail(Error::NoSuchFunction("bit_count(text)".into()))),
    }
}

fn starts_with(ctx: &mut Context<'_>) -> FnResult {
    let (Some(s), Some(p)) = (text(ctx, 0), text(ctx, 1)) else {
        return Ok(Value::Null);
    };
    Ok(Value::Integer(i64::from(s.starts_with(&p))))
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    // SQLite's own lower/upper only map ASCII; PostgreSQL maps Unicode,
    // one character to one (towlower/towupper): `ß` stays `ß`.
    unary(conn, "lower", det, |s| {
        s.chars().map(simple_lower).collect()
    })?;
    unary(conn, "upper", det, |s| {
        s.chars().map(simple_upper).collect()
    })?;
    unary(conn, "pg_initcap", det, initcap)?;
    unary(conn, "pg_reverse", det, |s| s.chars().rev().collect())?;
    conn.create_scalar_function("pg_substring", 2, det, substring)?;
    conn.create_scalar_function("pg_substring", 3, det, substring)?;
    conn.create_scalar_function("pg_lpad", 2, det, |c| pad(c, true))?;
    conn.create_scalar_function("pg_lpad", 3, det, |c| pad(c, true))?;
    conn.create_scalar_function("pg_rpad", 2, det, |c| pad(c, false))?;
    conn.create_scalar_function("pg_rpad", 3, det, |c| pad(c, false))?;
    conn.create_scalar_function("pg_left", 2, det, |c| side(c, true))?;
    conn.create_scalar_function("pg_right", 2, det, |c| side(c, false))?;
    conn.create_scalar_function("pg_split_part", 3, det, split_part)?;
    conn.create_scalar_function("pg_concat", -1, det, concat)?;
    conn.create_scalar_function("pg_concat_ws", -1, det, concat_ws)?;
    conn.create_scalar_function("pg_repeat", 2, det, repeat)?;
    conn.create_scalar_function("pg_starts_with", 2, det, starts_with)?;
    conn.create_scalar_function("pg_overlay", 3, det, overlay)?;
    conn.create_scalar_function("pg_overlay", 4, det, overlay)?;
    conn.create_scalar_function("num_nulls", -1, det, |c| count_nulls(c, true, "num_nulls"))?;
    conn.create_scalar_function("num_nonnulls", -1, det, |c| {
        count_nulls(c, false, "num_nonnulls")
    })?;
    conn.create_scalar_function("bit_count", 1, det, bit_count)?;
    // pg_typeof(x) as the typed step writes it: x is still evaluated (its errors
    // are raised), the type's name was known when the statement was typed.
    conn.create_scalar_function("pg_typeof_known", 2, det, |c| Ok(out(text(c, 1))))?;
    Ok(())
}
