//! The functions whose answer depends on the session that runs them:
//! `version()`, `current_user` and its kin, `pg_backend_pid()`,
//! `current_setting` / `set_config`, the row version `mosaic_hlc()` and
//! the `pg_catalog` lookups. What they need of the session comes in a
//! [`SessionFunctions`], whose traits the executor implements, so store
//! never reaches up into it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::store::clock::Hlc;
use crate::store::udf::fail;
use crate::store::udf::pg_catalog::Lookup;
use crate::types::datetime::{clock_micros, format_date, StatementTimes, MICROS_PER_DAY};

/// The session's run-time parameters, as `current_setting` and
/// `set_config` read and write them.
pub trait Settings: Send + Sync + 'static {
    fn get(&self, name: &str) -> Option<String>;
    /// Set a parameter, checked as SET checks it.
    fn set(&self, name: &str, value: String) -> Result<()>;
    /// The same for the rest of the transaction block (SET LOCAL); false
    /// outside one, where it changes nothing.
    fn set_local(&self, name: &str, value: String) -> Result<bool>;
}

/// What a session's functions answer from.
#[derive(Clone)]
pub struct SessionFunctions {
    /// `session_user`: the role that logged in (or SET SESSION
    /// AUTHORIZATION's).
    pub user: Arc<parking_lot::RwLock<String>>,
    /// `current_user`: the session user, or SET ROLE's.
    pub role: Arc<parking_lot::RwLock<String>>,
    pub pid: i32,
    /// What `version()` returns.
    pub version: String,
    pub settings: Arc<dyn Settings>,
    pub lookup: Arc<dyn Lookup>,
    /// The version every row written by the current statement carries
    /// (0 between statements: the clock's reading then).
    pub row_version: Arc<AtomicI64>,
    pub hlc: Arc<Hlc>,
    pub sequences: Arc<crate::store::sequences::Sequences>,
    /// The start of the session's transaction and statement, as
    /// `now()` and `statement_timestamp()` answer them.
    pub times: Arc<Times>,
    /// Advisory locks, notifications and sleeps, for the session's own
    /// connection (`store::udf::coordination`).
    pub coordination: Option<Arc<dyn crate::store::udf::coordination::Coordination>>,
    /// `mosaic.issue_token` and its kin (`store::udf::tokens`).
    pub tokens: Option<Arc<dyn crate::store::udf::tokens::Tokens>>,
    /// `pg_cancel_backend` and `pg_terminate_backend` (`store::udf::signals`).
    pub signals: Option<Arc<dyn crate::store::udf::signals::Signals>>,
    /// What `currval` and `lastval` answer from (DISCARD SEQUENCES clears it).
    pub drawn: Arc<parking_lot::Mutex<crate::store::udf::sequence::Drawn>>,
    /// What `random()` draws from and `setseed` seeds.
    pub random: Arc<parking_lot::Mutex<crate::store::udf::prng::Prng>>,
}

/// A session's transaction and statement start times (microseconds since
/// the Unix epoch; 0: not fixed, the clock's reading then).
/// With them, the session's TimeZone, which the functions taking a
/// timestamptz's local fields read (`store::udf::zone`).
#[derive(Debug, Default)]
pub struct Times {
    transaction: AtomicI64,
    statement: AtomicI64,
    zone: parking_lot::RwLock<crate::types::zone::Zone>,
}

impl Times {
    pub fn get(&self) -> StatementTimes {
        StatementTimes {
            transaction: self.transaction.load(Ordering::Relaxed),
            statement: self.statement.load(Ordering::Relaxed),
            zone: *self.zone.read(),
        }
    }

    pub fn set(&self, t: StatementTimes) {
        self.transaction.store(t.transaction, Ordering::Relaxed);
        self.statement.store(t.statement, Ordering::Relaxed);
        *self.zone.write() = t.zone;
    }

    pub fn zone(&self) -> crate::types::zone::Zone {
        *self.zone.read()
    }
}

/// A fixed time, or the clock's reading when it is not fixed.
fn fixed_or_clock(t: i64) -> i64 {
    if t != 0 {
        t
    } else {
        clock_micros()
    }
}

/// `pg_now([precision])` (the transaction's start), and the statement's
/// start and current date of the same times.
fn register_times(conn: &Connection, times: &Arc<Times>) -> Result<()> {
    use crate::store::udf::outside;
    let flags = FunctionFlags::SQLITE_UTF8;
    let t = times.clone();
    let now = move |ctx: &mut rusqlite::functions::Context<'_>| {
        let now = fixed_or_clock(t.get().transaction);
        crate::store::udf::timestamp_at(ctx, now)
    };
    conn.create_scalar_function("pg_now", -1, flags, outside(now))?;
    let t = times.clone();
    let statement = move |ctx: &mut rusqlite::functions::Context<'_>| {
        let now = fixed_or_clock(t.get().statement);
        crate::store::udf::timestamp_at(ctx, now)
    };
    conn.create_scalar_function("pg_statement_timestamp", -1, flags, outside(statement))?;
    let t = times.clone();
    let today = move |_: &mut rusqlite::functions::Context<'_>| {
        let now = t.get();
        let local = now.zone.local_of(fixed_or_clock(now.transaction));
        Ok(format_date(local.div_euclid(MICROS_PER_DAY)))
    };
    conn.create_scalar_function("pg_current_date", 0, flags, outside(today))?;
    // The zone is part of a kept result's key (`exec::fragment`): reading
    // it is not reading outside.
    let t = times.clone();
    crate::store::udf::zone::register(conn, Arc::new(move || t.zone()))?;
    Ok(())
}

/// The functions a fragment worker needs too: version, user, pid.
pub(crate) fn register_basic(conn: &Connection, s: &SessionFunctions) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let version = s.version.clone();
    conn.create_scalar_function("version", 0, flags, move |_| Ok(version.clone()))?;
    conn.create_scalar_function("current_database", 0, flags, |_| Ok("mosaic".to_string()))?;
    conn.create_scalar_function("current_schema", 0, flags, |_| Ok("public".to_string()))?;
    for name in ["current_user", "session_user", "current_role", "user"] {
        let u = match name {
            "session_user" => s.user.clone(),
            _ => s.role.clone(),
        };
        let user = move |_: &mut rusqlite::functions::Context<'_>| Ok(u.read().clone());
        conn.create_scalar_function(name, 0, flags, crate::store::udf::outside(user))?;
    }
    let pid = s.pid;
    let pid = move |_: &mut rusqlite::functions::Context<'_>| Ok(pid);
    conn.create_scalar_function("pg_backend_pid", 0, flags, crate::store::udf::outside(pid))?;
    register_random(conn, &s.random)?;
    register_times(conn, &s.times)
}

/// `random()` from the session's generator and `setseed(x)`, which seeds
/// it (PostgreSQL's range and error; NULL seeds nothing, as the function
/// is strict). Both read outside their arguments: no result of theirs is
/// kept.
fn register_random(
    conn: &Connection,
    random: &Arc<parking_lot::Mutex<crate::store::udf::prng::Prng>>,
) -> Result<()> {
    use crate::store::udf::outside;
    use crate::store::udf::prng::Prng;
    let flags = FunctionFlags::SQLITE_UTF8;
    let r = random.clone();
    let draw = move |_: &mut rusqlite::functions::Context<'_>| Ok(r.lock().next_double());
    conn.create_scalar_function("pg_random", 0, flags, outside(draw))?;
    let r = random.clone();
    let seed = move |ctx: &mut rusqlite::functions::Context<'_>| {
        let x = match ctx.get_raw(0) {
            ValueRef::Blob(_) => return Err(fail(Error::NoSuchFunction("setseed(bytea)".into()))),
            v => match crate::store::udf::math::float_value(v)? {
                Some(x) => x,
                None => return Ok(None),
            },
        };
        if !(-1.0..=1.0).contains(&x) {
            return Err(fail(Error::InvalidParameter(format!(
                "setseed parameter {} is out of allowed range [-1,1]",
                crate::types::number::format_g(x)
            ))));
        }
        *r.lock() = Prng::from_fraction(x);
        Ok(Some(String::new()))
    };
    conn.create_scalar_function("setseed", 1, flags, outside(seed))?;
    Ok(())
}

/// Every session function, on the session's own connection.
pub(crate) fn register(conn: &Connection, s: &SessionFunctions) -> Result<()> {
    register_basic(conn, s)?;
    let (hlc, ver) = (s.hlc.clone(), s.row_version.clone());
    conn.create_scalar_function("mosaic_hlc", 0, FunctionFlags::SQLITE_UTF8, move |_| {
        let v = ver.load(Ordering::Relaxed);
        Ok(if v != 0 { v } else { hlc.now() })
    })?;
    register_settings(conn, s.settings.clone())?;
    crate::store::udf::pg_catalog::register_lookup(conn, s.lookup.clone())?;
    crate::store::udf::sequence::register(
        conn,
        s.lookup.clone(),
        s.sequences.clone(),
        s.drawn.clone(),
    )?;
    if let Some(t) = &s.signals {
        crate::store::udf::signals::register(conn, t.clone())?;
    }
    if let Some(t) = &s.tokens {
        crate::store::udf::tokens::register(conn, t.clone())?;
    }
    if let Some(c) = &s.coordination {
        crate::store::udf::coordination::register(conn, c.clone())?;
    }
    Ok(())
}

/// `current_setting(name [, missing_ok])` and `set_config(name, value,
/// is_local)`, reading and writing the settings as they are when they run;
/// with `is_local` the value lasts until the transaction block ends, as
/// SET LOCAL's (outside a block it changes nothing).
fn register_settings(conn: &Connection, settings: Arc<dyn Settings>) -> Result<()> {
    let writable = settings.clone();
    conn.create_scalar_function("set_config", 3, FunctionFlags::SQLITE_UTF8, move |ctx| {
        let name: Option<String> = ctx.get(0)?;
        let value: Option<String> = ctx.get(1)?;
        let Some(name) = name else {
            return Err(fail(Error::InvalidParameter(
                "SET requires parameter name".into(),
            )));
        };
        let local = matches!(ctx.get_raw(2), ValueRef::Integer(i) if i != 0);
        let value = value.unwrap_or_default();
        if local {
            // Outside a block PostgreSQL returns the value and keeps none.
            if !writable.set_local(&name, value.clone()).map_err(fail)? {
                return Ok(Some(value));
            }
        } else {
            writable.set(&name, value).map_err(fail)?;
        }
        Ok(writable.get(&name))
    })?;
    conn.create_scalar_function(
        "current_setting",
        -1,
        FunctionFlags::SQLITE_UTF8,
        move |ctx| {
            if ctx.is_empty() || ctx.len() > 2 {
                return Err(fail(Error::NoSuchFunction("current_setting".into())));
            }
            let name: Option<String> = ctx.get(0)?;
            let Some(name) = name else {
                return Ok(None);
            };
            let missing_ok =
                ctx.len() == 2 && matches!(ctx.get_raw(1), ValueRef::Integer(i) if i != 0);
            match settings.get(&name) {
                Some(v) => Ok(Some(v)),
                None if missing_ok => Ok(None),
                None => Err(fail(Error::UnknownSetting(name))),
            }
        },
    )?;
    Ok(())
}
