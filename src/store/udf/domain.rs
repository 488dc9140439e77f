//! `pg_domain_check(v, 'domain', not_null, 'c1', ok1, …)`: a cast to a
//! domain (`sql::domain::expand_casts`) gives `v` when it is a value of
//! the domain, and fails as PostgreSQL does otherwise: NOT NULL first,
//! then each CHECK (`ok`, false when broken; NULL passes).

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::fail;
use crate::store::errors::domain_violation;

fn check(ctx: &mut Context<'_>) -> rusqlite::Result<Value> {
    let domain: String = ctx.get(1)?;
    let not_null: i64 = ctx.get(2)?;
    let value: Value = ctx.get(0)?;
    if not_null != 0 && value == Value::Null {
        return Err(fail(domain_violation(&domain, None)));
    }
    for i in (3..ctx.len()).step_by(2) {
        let broken = matches!(ctx.get_raw(i + 1), ValueRef::Integer(0));
        if broken {
            let name: String = ctx.get(i)?;
            return Err(fail(domain_violation(&domain, Some(&name))));
        }
    }
    Ok(value)
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    conn.create_scalar_function(crate::sql::domain::CHECK_FUNCTION, -1, det, check)
}
