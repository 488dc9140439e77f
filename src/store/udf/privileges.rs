//! `has_table_privilege`, `has_schema_privilege` and
//! `has_database_privilege`: what a role may do with a relation, a schema
//! or the database, answered by the session's [`Lookup`].

use std::sync::Arc;

use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::Connection;

use super::pg_catalog::{text, Lookup, Privileged, RelationArg};

/// `has_table_privilege` and `has_schema_privilege`, each with and
/// without a role.
pub(super) fn register(
    conn: &Connection,
    lookup: &Arc<dyn Lookup>,
    flags: FunctionFlags,
) -> rusqlite::Result<()> {
    for (name, on) in [
        ("has_table_privilege", Privileged::Table),
        ("has_schema_privilege", Privileged::Schema),
        ("has_database_privilege", Privileged::Database),
    ] {
        for n in [2usize, 3] {
            let l = lookup.clone();
            conn.create_scalar_function(name, n as i32, flags, move |c| {
                let Some((role, object, privileges)) = privilege_args(c, n) else {
                    return Ok(Value::Null);
                };
                l.privilege(on, role.as_deref(), &object, &privileges)
                    .map(|b| b.map_or(Value::Null, |b| Value::Integer(b as i64)))
                    .map_err(crate::store::errors::fail)
            })?;
        }
    }
    Ok(())
}

/// The arguments of a `has_…_privilege` function of `n` arguments: the
/// role (when given), the object by oid or name, the privilege text;
/// `None` when one is NULL.
fn privilege_args(
    c: &rusqlite::functions::Context<'_>,
    n: usize,
) -> Option<(Option<String>, RelationArg, String)> {
    let args: Vec<Value> = (0..n)
        .map(|i| Value::try_from(c.get_raw(i)).unwrap_or(Value::Null))
        .collect();
    if args.contains(&Value::Null) {
        return None;
    }
    let role = (n == 3).then(|| text(c, 0)).flatten();
    let privileges = text(c, n - 1).unwrap_or_default();
    let object = match &args[n - 2] {
        Value::Integer(oid) => RelationArg::Oid(*oid),
        _ => RelationArg::Name(text(c, n - 2).unwrap_or_default()),
    };
    Some((role, object, privileges))
}
