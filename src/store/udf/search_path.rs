//! The functions that answer from the session's search path:
//! `current_schema`, `current_schemas` and `pg_table_is_visible`, through
//! the session's [`Lookup`].

use std::sync::Arc;

use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::Connection;

use super::pg_catalog::{int, out, Lookup};
use crate::types::array::format_array;

pub(super) fn register(
    conn: &Connection,
    lookup: &Arc<dyn Lookup>,
    flags: FunctionFlags,
) -> rusqlite::Result<()> {
    let l = lookup.clone();
    conn.create_scalar_function("pg_table_is_visible", 1, flags, move |c| {
        Ok(Value::Integer(
            int(c, 0).is_some_and(|o| l.visible(o)) as i64
        ))
    })?;
    let l = lookup.clone();
    conn.create_scalar_function("current_schemas", 1, flags, move |c| {
        let mut path = l.search_path();
        if int(c, 0).unwrap_or(0) != 0 {
            path.insert(0, "pg_catalog".into());
        }
        let items: Vec<Option<&str>> = path.iter().map(|s| Some(s.as_str())).collect();
        Ok(Value::Text(format_array(&items)))
    })?;
    let l = lookup.clone();
    conn.create_scalar_function("current_schema", 0, flags, move |_| {
        Ok(out(l.search_path().into_iter().next()))
    })
}
