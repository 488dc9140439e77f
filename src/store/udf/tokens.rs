//! `mosaic.issue_token(user, perms, ttl_seconds)`,
//! `mosaic.revoke_token(token)` and `mosaic.rotate_token_key()` (spelled
//! `mosaic_…` in SQLite): they act for the session whose statement calls
//! them, through a [`Tokens`] the executor implements, on the session's
//! own connection only.

use std::sync::Arc;

use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;

use crate::error::Result;
use crate::store::udf::fail;

/// What a session does when its statement calls these functions.
pub trait Tokens: Send + Sync + 'static {
    fn issue(&self, user: &str, perms: &str, ttl_seconds: i64) -> Result<String>;
    /// Whether a live token was revoked.
    fn revoke(&self, token: &str) -> Result<bool>;
    /// The new key's id.
    fn rotate_key(&self) -> Result<String>;
}

pub(crate) fn register(conn: &Connection, t: Arc<dyn Tokens>) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8;
    let i = t.clone();
    conn.create_scalar_function("mosaic_issue_token", 3, flags, move |ctx| {
        let user: Option<String> = ctx.get(0)?;
        let perms: Option<String> = ctx.get(1)?;
        let ttl: Option<i64> = ctx.get(2)?;
        match (user, perms, ttl) {
            (Some(u), Some(p), Some(s)) => i.issue(&u, &p, s).map(Some).map_err(fail),
            _ => Ok(None),
        }
    })?;
    let r = t.clone();
    conn.create_scalar_function("mosaic_revoke_token", 1, flags, move |ctx| {
        match ctx.get::<Option<String>>(0)? {
            Some(token) => r.revoke(&token).map(Some).map_err(fail),
            None => Ok(None),
        }
    })?;
    conn.create_scalar_function("mosaic_rotate_token_key", 0, flags, move |_| {
        t.rotate_key().map_err(fail)
    })?;
    Ok(())
}
