//! The functions that answer from the session's search path:
//! `current_schema`, `current_schemas`, `pg_table_is_visible`,
//! `pg_type_is_visible` and
//! `pg_get_serial_sequence`, through the session's [`Lookup`].

use std::sync::Arc;

use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::Connection;

use super::pg_catalog::{int, out, text, Lookup};
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
    conn.create_scalar_function("pg_type_is_visible", 1, flags, move |c| {
        Ok(Value::Integer(
            int(c, 0).is_none_or(|o| l.type_visible(o)) as i64
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
    })?;
    let l = lookup.clone();
    conn.create_scalar_function("pg_get_serial_sequence", 2, flags, move |c| {
        let (Some(table), Some(column)) = (text(c, 0), text(c, 1)) else {
            return Ok(Value::Null);
        };
        let table = l.resolve(&table);
        let column = column.trim_matches('"');
        // Only a sequence the column owns: its serial one, or one made by
        // CREATE SEQUENCE … OWNED BY it.
        let owned = |s: &String| match l.sequence(s) {
            Some((def, true)) => def.owned_by.is_some_and(|(t, c)| t == table && c == column),
            // A serial column's implicit sequence is its own: recorded
            // so once the table or the column was renamed, else named
            // after it.
            Some((def, false)) if def.owned_by.is_some() => {
                def.owned_by.is_some_and(|(t, c)| t == table && c == column)
            }
            Some((_, false)) => {
                let (_, rel) = crate::types::schema::split(&table);
                *s == crate::types::schema::beside(&table, &format!("{rel}_{column}_seq"))
            }
            None => false,
        };
        Ok(out(l
            .column_default(&table, column)
            .and_then(|d| crate::types::table::sequence_name(&d))
            .filter(owned)
            .map(|s| {
                let (schema, rel) = crate::types::schema::split(&s);
                format!("{schema}.{rel}")
            })))
    })?;
    Ok(())
}
