//! `regexp_match`, `regexp_like`, `regexp_count`, `regexp_substr`,
//! `regexp_split_to_array` (and so `regexp_split_to_table`) and
//! `substring(text FROM pattern)`, over the patterns whose match
//! PostgreSQL chooses as the `regex` crate does (`similar::compile_for_extent`
//! refuses the others), walking the matches as PostgreSQL's
//! `setup_regexp_matches` does: each search from the end of the last
//! match, one character further after an empty one.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::{as_text, fail, FnResult};
use crate::error::Error;
use crate::types::array::format_array;

/// The flags PostgreSQL's regular expression functions take: `g`
/// (allowed where `global_ok`), `i` and `c`. Other valid flags are not
/// built (0A000); anything else is PostgreSQL's 22023.
struct Flags {
    pub global: bool,
    pub icase: bool,
}

fn flags(text: &str, fname: &str, global_ok: bool) -> rusqlite::Result<Flags> {
    let mut f = Flags {
        global: false,
        icase: false,
    };
    for c in text.chars() {
        match c {
            'g' if global_ok => f.global = true,
            'g' => {
                return Err(fail(
                    Error::InvalidParameter(format!(
                        "{fname}() does not support the \"global\" option"
                    ))
                    .with_hint(match fname {
                        "regexp_match" => "Use the regexp_matches function instead.",
                        _ => "Use the regexp_replace function instead.",
                    }),
                ))
            }
            'i' => f.icase = true,
            'c' => f.icase = false,
            'b' | 'e' | 'm' | 'n' | 'p' | 'q' | 's' | 't' | 'w' | 'x' => {
                return Err(fail(Error::Unsupported(format!(
                    "regular expression option \"{c}\""
                ))))
            }
            other => {
                return Err(fail(Error::InvalidParameter(format!(
                    "invalid regular expression option: \"{other}\""
                ))))
            }
        }
    }
    Ok(f)
}

/// The matches PostgreSQL's search finds in `s` from byte `from`: all of
/// them (`global`) or the first; with `ignore_degenerate`, as the split
/// functions want, an empty match at the end or right after the previous
/// match is skipped.
pub(super) fn matches<'s>(
    re: &regex::Regex,
    s: &'s str,
    from: usize,
    global: bool,
    ignore_degenerate: bool,
) -> Vec<regex::Captures<'s>> {
    let mut out = vec![];
    let (mut at, mut prev_end) = (from, from);
    while at <= s.len() {
        let Some(c) = re.captures_at(s, at) else {
            break;
        };
        let m = c.get(0).map_or(at..at, |m| m.range());
        let keep = !ignore_degenerate || (m.start < s.len() && m.end > prev_end);
        prev_end = m.end;
        if keep {
            out.push(c);
        }
        if !global {
            break;
        }
        at = m.end;
        if m.start == m.end {
            // One character further.
            match s[at..].chars().next() {
                Some(ch) => at += ch.len_utf8(),
                None => break,
            }
        }
    }
    out
}

fn texts(c: &Context<'_>) -> Option<Vec<String>> {
    (0..c.len()).map(|i| as_text(c.get_raw(i))).collect()
}

/// The byte offset of 1-based character position `start` (22023 below 1).
fn start_at(s: &str, start: i64) -> rusqlite::Result<usize> {
    if start < 1 {
        return Err(fail(Error::InvalidParameter(format!(
            "invalid value for parameter \"start\": {start}"
        ))));
    }
    Ok(s.char_indices()
        .nth(usize::try_from(start - 1).unwrap_or(usize::MAX))
        .map_or(s.len(), |(i, _)| i))
}

/// An optional integer argument (`default` when not given).
fn int_arg(c: &Context<'_>, i: usize, default: i64) -> i64 {
    match (c.len() > i).then(|| c.get_raw(i)) {
        Some(ValueRef::Integer(v)) => v,
        _ => default,
    }
}

/// 22023 for the first parameter out of its range.
fn check_params(params: &[(&str, i64, bool)]) -> rusqlite::Result<()> {
    match params.iter().find(|(_, _, ok)| !ok) {
        Some((name, v, _)) => Err(fail(Error::InvalidParameter(format!(
            "invalid value for parameter \"{name}\": {v}"
        )))),
        None => Ok(()),
    }
}

/// `args[1]` compiled for `fname` under the flags in `args[flags_at]`
/// (none when not given), refusing the patterns whose match PostgreSQL
/// could choose otherwise.
fn pattern(
    args: &[String],
    flags_at: usize,
    fname: &str,
    global_ok: bool,
) -> rusqlite::Result<(regex::Regex, Flags)> {
    let f = flags(
        args.get(flags_at).map_or("", String::as_str),
        fname,
        global_ok,
    )?;
    let re = super::similar::compile_for_extent(&args[1], f.icase)?;
    Ok((re, f))
}

/// Group `sub` of the `n`-th match in `s` from character `start`.
fn nth_group<'s>(
    re: &regex::Regex,
    s: &'s str,
    start: i64,
    n: i64,
    sub: i64,
) -> rusqlite::Result<Option<regex::Match<'s>>> {
    let from = start_at(s, start)?;
    let all = matches(re, s, from, true, false);
    Ok(all
        .get(usize::try_from(n - 1).unwrap_or(usize::MAX))
        .and_then(|m| usize::try_from(sub).ok().and_then(|i| m.get(i))))
}

/// The text of each capture group of `c` (NULL where a group did not
/// take part), or the whole match when the pattern has no groups.
fn groups(c: &regex::Captures<'_>) -> Vec<Option<String>> {
    if c.len() == 1 {
        return vec![c.get(0).map(|m| m.as_str().to_string())];
    }
    (1..c.len())
        .map(|i| c.get(i).map(|m| m.as_str().to_string()))
        .collect()
}

fn regexp_match(c: &Context<'_>) -> FnResult {
    let Some(args) = texts(c) else {
        return Ok(Value::Null);
    };
    let (re, _) = pattern(&args, 2, "regexp_match", false)?;
    Ok(match matches(&re, &args[0], 0, false, false).first() {
        Some(m) => Value::Text(format_array(&groups(m))),
        None => Value::Null,
    })
}

fn regexp_like(c: &Context<'_>) -> FnResult {
    let Some(args) = texts(c) else {
        return Ok(Value::Null);
    };
    let f = flags(args.get(2).map_or("", String::as_str), "regexp_like", false)?;
    let re = super::similar::compile(&args[1], f.icase)?;
    Ok(Value::Integer(i64::from(re.is_match(&args[0]))))
}

/// `regexp_count(string, pattern [, start [, flags]])`.
fn regexp_count(c: &Context<'_>) -> FnResult {
    let Some(args) = texts(c) else {
        return Ok(Value::Null);
    };
    let (re, _) = pattern(&args, 3, "regexp_count", false)?;
    let from = start_at(&args[0], int_arg(c, 2, 1))?;
    Ok(Value::Integer(
        matches(&re, &args[0], from, true, false).len() as i64,
    ))
}

/// `regexp_substr(string, pattern [, start [, n [, flags [, subexpr]]]])`.
fn regexp_substr(c: &Context<'_>) -> FnResult {
    let Some(args) = texts(c) else {
        return Ok(Value::Null);
    };
    let (start, n, sub) = (int_arg(c, 2, 1), int_arg(c, 3, 1), int_arg(c, 5, 0));
    check_params(&[("n", n, n > 0), ("subexpr", sub, sub >= 0)])?;
    let (re, _) = pattern(&args, 4, "regexp_substr", false)?;
    Ok(match nth_group(&re, &args[0], start, n, sub)? {
        Some(g) => Value::Text(g.as_str().to_string()),
        None => Value::Null,
    })
}

/// `regexp_instr(string, pattern [, start [, n [, endoption [, flags [,
/// subexpr]]]]])`: the character position where the n-th match (or its
/// group) begins, or with `endoption` 1 the one after it ends; 0 when
/// there is none.
fn regexp_instr(c: &Context<'_>) -> FnResult {
    let Some(args) = texts(c) else {
        return Ok(Value::Null);
    };
    let (start, n, end, sub) = (
        int_arg(c, 2, 1),
        int_arg(c, 3, 1),
        int_arg(c, 4, 0),
        int_arg(c, 6, 0),
    );
    check_params(&[
        ("n", n, n > 0),
        ("endoption", end, end == 0 || end == 1),
        ("subexpr", sub, sub >= 0),
    ])?;
    let (re, _) = pattern(&args, 5, "regexp_instr", false)?;
    let s = &args[0];
    Ok(Value::Integer(match nth_group(&re, s, start, n, sub)? {
        Some(g) => {
            let at = if end == 1 { g.end() } else { g.start() };
            s[..at].chars().count() as i64 + 1
        }
        None => 0,
    }))
}

/// `regexp_split_to_array(string, pattern [, flags])`.
fn regexp_split(c: &Context<'_>) -> FnResult {
    let Some(args) = texts(c) else {
        return Ok(Value::Null);
    };
    let (re, _) = pattern(&args, 2, "regexp_split_to_array", false)?;
    let s = &args[0];
    let mut pieces: Vec<Option<&str>> = vec![];
    let mut from = 0;
    for m in matches(&re, s, 0, true, true) {
        let r = m.get(0).map_or(from..from, |g| g.range());
        pieces.push(Some(&s[from..r.start]));
        from = r.end;
    }
    pieces.push(Some(&s[from..]));
    Ok(Value::Text(format_array(&pieces)))
}

/// `pg_regexp_matches(string, pattern [, flags])`: the rows of
/// `regexp_matches`, each match's groups as an array's text, gathered in a
/// text array (`sql::split_table` unnests it and casts each to text[]).
fn regexp_matches(c: &Context<'_>) -> FnResult {
    let Some(args) = texts(c) else {
        return Ok(Value::Null);
    };
    let (re, f) = pattern(&args, 2, "regexp_matches", true)?;
    let rows: Vec<Option<String>> = matches(&re, &args[0], 0, f.global, false)
        .iter()
        .map(|m| Some(format_array(&groups(m))))
        .collect();
    Ok(Value::Text(format_array(&rows)))
}

/// `substring(string FROM pattern)`: the first match's first group, or
/// the whole match when the pattern has no group.
fn substring(c: &Context<'_>) -> FnResult {
    let Some(args) = texts(c) else {
        return Ok(Value::Null);
    };
    let (re, _) = pattern(&args, 2, "substring", false)?;
    Ok(match matches(&re, &args[0], 0, false, false).first() {
        Some(m) => match m.get(if m.len() > 1 { 1 } else { 0 }) {
            Some(g) => Value::Text(g.as_str().to_string()),
            None => Value::Null,
        },
        None => Value::Null,
    })
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    for n in [2, 3] {
        conn.create_scalar_function("regexp_match", n, det, |c| regexp_match(c))?;
        conn.create_scalar_function("regexp_like", n, det, |c| regexp_like(c))?;
        conn.create_scalar_function("regexp_split_to_array", n, det, |c| regexp_split(c))?;
        conn.create_scalar_function("pg_regexp_matches", n, det, |c| regexp_matches(c))?;
    }
    for n in 2..=4 {
        conn.create_scalar_function("regexp_count", n, det, |c| regexp_count(c))?;
    }
    for n in 2..=6 {
        conn.create_scalar_function("regexp_substr", n, det, |c| regexp_substr(c))?;
    }
    for n in 2..=7 {
        conn.create_scalar_function("regexp_instr", n, det, |c| regexp_instr(c))?;
    }
    conn.create_scalar_function("pg_regexp_substring", 2, det, |c| substring(c))
}
