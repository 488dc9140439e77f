//! `pg_cancel_backend(pid)` and `pg_terminate_backend(pid [, timeout])`:
//! they signal another client session of this node through a [`Signals`]
//! the executor implements (`exec::backends`), on the calling session's
//! own connection only.

use std::sync::Arc;

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::store::errors::fail;

/// What a session does when its statement calls these functions.
pub trait Signals: Send + Sync + 'static {
    /// Interrupt `pid`'s running statement; `false` (with a WARNING) when
    /// no client session has that pid.
    fn cancel(&self, pid: i32) -> Result<bool>;
    /// End `pid`'s session; with a timeout above 0, wait that many
    /// milliseconds for it to be gone.
    fn terminate(&self, pid: i32, timeout_ms: i64) -> Result<bool>;
}

/// Argument `i` as an integer of `ty` (`None` for NULL).
fn integer(ctx: &Context<'_>, i: usize, ty: &str) -> rusqlite::Result<Option<i64>> {
    let bad = |text: String| {
        fail(Error::InvalidInput(format!(
            "invalid input syntax for type {ty}: \"{text}\""
        )))
    };
    match ctx.get_raw(i) {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(v) => Ok(Some(v)),
        ValueRef::Text(t) => {
            let text = String::from_utf8_lossy(t);
            text.trim().parse().map(Some).map_err(|_| bad(text.into()))
        }
        ValueRef::Real(r) if r.fract() == 0.0 => Ok(Some(r as i64)),
        other => Err(bad(format!("{other:?}"))),
    }
}

fn pid_of(ctx: &Context<'_>) -> rusqlite::Result<Option<i32>> {
    match integer(ctx, 0, "integer")? {
        None => Ok(None),
        Some(v) => i32::try_from(v)
            .map(Some)
            .map_err(|_| fail(Error::NumericOutOfRange("integer out of range".into()))),
    }
}

pub(crate) fn register(conn: &Connection, s: Arc<dyn Signals>) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8;
    let c = s.clone();
    conn.create_scalar_function("pg_cancel_backend", 1, flags, move |ctx| {
        match pid_of(ctx)? {
            Some(pid) => c.cancel(pid).map(Some).map_err(fail),
            None => Ok(None),
        }
    })?;
    let t = s.clone();
    conn.create_scalar_function("pg_terminate_backend", 1, flags, move |ctx| {
        match pid_of(ctx)? {
            Some(pid) => t.terminate(pid, 0).map(Some).map_err(fail),
            None => Ok(None),
        }
    })?;
    conn.create_scalar_function("pg_terminate_backend", 2, flags, move |ctx| {
        match (pid_of(ctx)?, integer(ctx, 1, "bigint")?) {
            (Some(pid), Some(ms)) => s.terminate(pid, ms).map(Some).map_err(fail),
            _ => Ok(None),
        }
    })?;
    Ok(())
}
