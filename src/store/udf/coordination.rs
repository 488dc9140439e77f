//! The functions sessions coordinate by: advisory locks
//! (`pg_advisory_lock` and its family), `pg_notify`,
//! `pg_listening_channels`, `pg_sleep`. They act for the session whose
//! statement calls them, through a [`Coordination`] the executor
//! implements; they exist on the session's own connection only (a
//! fragment run for a peer never calls them: `sql::validate` keeps
//! statements calling them whole).

use std::sync::Arc;

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::store::udf::fail;
use crate::types::coordination::{AdvisoryKey, LockMode};

/// What a session does when its statement calls these functions.
pub trait Coordination: Send + Sync + 'static {
    /// Take `key` in `mode`, for the session or (`xact`) until the
    /// transaction ends; with `try_lock`, `Ok(false)` instead of waiting.
    fn advisory_lock(
        &self,
        key: AdvisoryKey,
        mode: LockMode,
        xact: bool,
        try_lock: bool,
    ) -> Result<bool>;
    /// Let go of one session-level hold; `false` (with a WARNING) when the
    /// session held none.
    fn advisory_unlock(&self, key: AdvisoryKey, mode: LockMode) -> Result<bool>;
    /// Let go of every session-level hold.
    fn advisory_unlock_all(&self) -> Result<()>;
    /// Queue a notification until the transaction commits.
    fn notify(&self, channel: &str, payload: &str) -> Result<()>;
    /// The channels the session listens on.
    fn listening_channels(&self) -> Vec<String>;
    /// Sleep, unless the statement is cancelled first.
    fn sleep(&self, seconds: f64) -> Result<()>;
    /// The open transaction's id (`txid_current`): the same for all of it,
    /// larger than any id this node gave before.
    fn transaction_id(&self) -> i64;
}

/// The advisory lock functions: (name, mode, xact, try, returns bool).
const ADVISORY_LOCKS: &[(&str, LockMode, bool, bool)] = &[
    ("pg_advisory_lock", LockMode::Exclusive, false, false),
    ("pg_advisory_lock_shared", LockMode::Share, false, false),
    ("pg_try_advisory_lock", LockMode::Exclusive, false, true),
    ("pg_try_advisory_lock_shared", LockMode::Share, false, true),
    ("pg_advisory_xact_lock", LockMode::Exclusive, true, false),
    ("pg_advisory_xact_lock_shared", LockMode::Share, true, false),
    ("pg_try_advisory_xact_lock", LockMode::Exclusive, true, true),
    (
        "pg_try_advisory_xact_lock_shared",
        LockMode::Share,
        true,
        true,
    ),
];

/// The key of a call's arguments: one bigint, or two integers; `None` when
/// one is NULL (the functions are strict: NULL in, NULL out, no lock).
fn key_of(ctx: &Context<'_>, name: &str) -> rusqlite::Result<Option<AdvisoryKey>> {
    let int = |i: usize| -> rusqlite::Result<Option<i64>> {
        match ctx.get_raw(i) {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(v) => Ok(Some(v)),
            ValueRef::Text(t) => {
                let t = String::from_utf8_lossy(t);
                t.trim().parse::<i64>().map(Some).map_err(|_| {
                    fail(Error::InvalidInput(format!(
                        "invalid input syntax for type bigint: \"{t}\""
                    )))
                })
            }
            ValueRef::Real(_) => Err(fail(Error::NoSuchFunction(format!(
                "{name}(double precision)"
            )))),
            ValueRef::Blob(_) => Err(fail(Error::NoSuchFunction(format!("{name}(bytea)")))),
        }
    };
    Ok(match ctx.len() {
        1 => int(0)?.map(AdvisoryKey::Int8),
        _ => match (int(0)?, int(1)?) {
            (Some(a), Some(b)) => match (i32::try_from(a), i32::try_from(b)) {
                (Ok(a), Ok(b)) => Some(AdvisoryKey::Pair(a, b)),
                // A literal beyond int4 is a bigint, and PostgreSQL finds no
                // (bigint, …) form of the two-key functions.
                _ => {
                    let ty = |v: i64| match i32::try_from(v) {
                        Ok(_) => "integer",
                        Err(_) => "bigint",
                    };
                    let e = Error::NoSuchFunction(format!("{name}({}, {})", ty(a), ty(b)));
                    return Err(fail(e.with_hint(
                        "No function matches the given name and argument types. \
                         You might need to add explicit type casts.",
                    )));
                }
            },
            _ => None,
        },
    })
}

/// The value a function returning `void` gives back.
fn void() -> Option<String> {
    Some(String::new())
}

pub(crate) fn register(conn: &Connection, c: Arc<dyn Coordination>) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8;
    for &(name, mode, xact, try_lock) in ADVISORY_LOCKS {
        for arity in [1, 2] {
            let c = c.clone();
            conn.create_scalar_function(name, arity, flags, move |ctx| {
                let Some(key) = key_of(ctx, name)? else {
                    return Ok(rusqlite::types::Value::Null);
                };
                let got = c.advisory_lock(key, mode, xact, try_lock).map_err(fail)?;
                Ok(match try_lock {
                    true => rusqlite::types::Value::Integer(got.into()),
                    false => rusqlite::types::Value::Text(String::new()),
                })
            })?;
        }
    }
    for (name, mode) in [
        ("pg_advisory_unlock", LockMode::Exclusive),
        ("pg_advisory_unlock_shared", LockMode::Share),
    ] {
        for arity in [1, 2] {
            let c = c.clone();
            conn.create_scalar_function(name, arity, flags, move |ctx| {
                let Some(key) = key_of(ctx, name)? else {
                    return Ok(None);
                };
                c.advisory_unlock(key, mode).map(Some).map_err(fail)
            })?;
        }
    }
    let all = c.clone();
    conn.create_scalar_function("pg_advisory_unlock_all", 0, flags, move |_| {
        all.advisory_unlock_all().map_err(fail)?;
        Ok(void())
    })?;
    let n = c.clone();
    conn.create_scalar_function("pg_notify", 2, flags, move |ctx| {
        let channel: Option<String> = ctx.get(0)?;
        let payload: Option<String> = ctx.get(1)?;
        n.notify(&channel.unwrap_or_default(), &payload.unwrap_or_default())
            .map_err(fail)?;
        Ok(void())
    })?;
    let l = c.clone();
    conn.create_scalar_function("pg_listening_channels_json", 0, flags, move |_| {
        Ok(serde_json::Value::from(l.listening_channels()).to_string())
    })?;
    for name in ["txid_current", "pg_current_xact_id"] {
        let x = c.clone();
        conn.create_scalar_function(name, 0, flags, move |_| Ok(x.transaction_id()))?;
    }
    // pg_sleep_for(interval) and pg_sleep_until(timestamptz), as
    // PostgreSQL defines them: a pg_sleep of the time to go.
    let w = c.clone();
    conn.create_scalar_function("pg_sleep_for", 1, flags, move |ctx| {
        let Some(text) = ctx.get::<Option<String>>(0)? else {
            return Ok(None);
        };
        let secs = crate::types::interval::Interval::seconds_without_months(&text).map_err(fail)?;
        w.sleep(secs).map_err(fail)?;
        Ok(void())
    })?;
    let u = c.clone();
    conn.create_scalar_function("pg_sleep_until", 1, flags, move |ctx| {
        let Some(text) = ctx.get::<Option<String>>(0)? else {
            return Ok(None);
        };
        let at = crate::types::datetime::parse_timestamp(&text, true).map_err(fail)?;
        let secs = (at - crate::types::datetime::clock_micros()) as f64 / 1e6;
        u.sleep(secs).map_err(fail)?;
        Ok(void())
    })?;
    conn.create_scalar_function("pg_sleep", 1, flags, move |ctx| {
        let secs = match ctx.get_raw(0) {
            ValueRef::Null => return Ok(None),
            ValueRef::Integer(i) => i as f64,
            ValueRef::Real(r) => r,
            ValueRef::Text(t) => String::from_utf8_lossy(t).trim().parse().map_err(|_| {
                fail(Error::InvalidInput(format!(
                    "invalid input syntax for type double precision: \"{}\"",
                    String::from_utf8_lossy(t)
                )))
            })?,
            ValueRef::Blob(_) => {
                return Err(fail(Error::NoSuchFunction(
                    "function pg_sleep(bytea) does not exist".into(),
                )))
            }
        };
        c.sleep(secs).map_err(fail)?;
        Ok(void())
    })?;
    Ok(())
}
