//! Rebuilding a table's open segment when ALTER TABLE changes what its
//! SQLite table must say (columns, types, defaults, generated columns,
//! CHECKs, keys), its rows kept with their keys and versions.

use rusqlite::Connection;

use super::{create_table, finish, key_name, quote};
use crate::error::{Error, Result};
use crate::store::shard;
use crate::types::table::{Column, TableDef};
use crate::types::PgType;

/// Rebuild the open segment of `def` if a numeric column of it still has
/// the REAL storage of before numeric was exact: the table is recreated
/// with numeric columns as text under the numeric collation, and its rows
/// copied over with each REAL converted to the text it printed as. Rows
/// keep their keys and versions.
pub fn migrate_numeric(conn: &Connection, def: &TableDef) -> Result<()> {
    let declared: Vec<(String, String)> = conn
        .prepare(&format!(
            "SELECT name, type FROM pragma_table_info({})",
            crate::types::shard::literal(&def.name)
        ))
        .and_then(|mut st| st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(Error::from)?;
    let old = |c: &crate::types::table::Column| {
        matches!(c.ty, PgType::Numeric(_))
            && declared
                .iter()
                .any(|(n, t)| *n == c.name && t.eq_ignore_ascii_case("REAL"))
    };
    if !def.columns.iter().any(old) {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE").map_err(Error::from)?;
    let r = copy_into_new(conn, def, &|c, stored| {
        Ok(match &c.ty {
            PgType::Numeric(typmod) if old(c) => shard::old_numeric_value(&quote(stored), typmod),
            _ => quote(stored),
        })
    });
    finish(conn, r)
}

/// Whether the open segment of a table defined as `old` must be rebuilt
/// to be defined as `new`: SQLite cannot change a column's constraints,
/// default or name in place, nor add, drop or rename a CHECK. (Columns appended
/// by ADD COLUMN and new indexes need no rebuild.)
pub fn needs_rebuild(old: &TableDef, new: &TableDef) -> bool {
    let same = |a: &crate::types::table::Column, b: &crate::types::table::Column| {
        a.name == b.name
            && a.ty == b.ty
            && a.not_null == b.not_null
            && a.default == b.default
            && a.generated == b.generated
            && a.domain == b.domain
    };
    let key_names =
        |d: &TableDef| -> Vec<String> { d.unique_keys().map(|k| key_name(d, k)).collect() };
    // A column added with one default and given another since: the rows
    // already here must read the first (ADD COLUMN would give them the
    // second).
    let appended_changed = new.columns.iter().skip(old.columns.len()).any(|c| {
        let default = c
            .default
            .as_deref()
            .filter(|d| crate::types::table::sequence_name(d).is_none());
        c.missing.is_some() && c.missing_value() != default
    });
    // SQLite adds no stored generated column to a table.
    let appended_generated =
        (new.columns.iter().skip(old.columns.len())).any(|c| c.generated.is_some());
    old.columns.len() > new.columns.len()
        || appended_changed
        || appended_generated
        || old
            .columns
            .iter()
            .zip(&new.columns)
            .any(|(a, b)| !same(a, b))
        || old.checks != new.checks
        || old.check_constraint_names() != new.check_constraint_names()
        || old.primary_key.is_empty() != new.primary_key.is_empty()
        || key_names(old).iter().any(|k| !key_names(new).contains(k))
}

/// Recreate the open segment of `def` (ALTER TABLE), its rows kept with
/// their keys and versions, inside the caller's transaction. Each column
/// is copied from the first of its storage names the segment has (a
/// renamed column from its former name); a column it lacks takes the value
/// rows stored before it existed read (`Column::missing_value`), and a
/// column `def` no longer has is left behind.
///
/// `old` is the definition the segment was built with: a column whose
/// values ALTER COLUMN … TYPE converts is copied converted.
pub fn rebuild(conn: &Connection, old: &TableDef, def: &TableDef) -> Result<()> {
    let was = |c: &Column| {
        (old.columns.iter())
            .find(|o| c.storage_names().any(|n| n == o.name))
            .map(|o| o.ty.clone())
    };
    copy_into_new(
        conn,
        def,
        &|c, stored| match was(c).filter(|t| !c.stored_as_is(t)) {
            Some(from) => shard::converted(stored, &from, c),
            None => Ok(quote(stored)),
        },
    )
}

/// Rename the segment of `def` aside, create it anew and copy its rows,
/// reading column `c` stored as `name` by `value(c, name)`.
fn copy_into_new(
    conn: &Connection,
    def: &TableDef,
    value: &dyn Fn(&Column, &str) -> Result<String>,
) -> Result<()> {
    let declared: Vec<String> = conn
        .prepare(&format!(
            "SELECT name FROM pragma_table_xinfo({})",
            crate::types::shard::literal(&def.name)
        ))
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .map_err(Error::from)?;
    let temp = format!("_mosaic_migrate_{}", def.name);
    let indexes: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL")
        .and_then(|mut st| st.query_map([&def.name], |r| r.get(0))?.collect())
        .map_err(Error::from)?;
    let mut cols = vec!["_key".to_string(), "_ver".to_string()];
    let mut values = cols.clone();
    // SQLite computes a generated column from the others.
    for c in def.columns.iter().filter(|c| c.generated.is_none()) {
        cols.push(quote(&c.name));
        match c.storage_names().find(|n| declared.iter().any(|d| d == n)) {
            Some(stored) => values.push(value(c, stored)?),
            None => values.push(match c.missing_value() {
                Some(m) => crate::sql::default_to_sqlite(m, &c.ty)?,
                None => "NULL".to_string(),
            }),
        }
    }
    conn.execute_batch(&format!(
        "ALTER TABLE {} RENAME TO {}",
        quote(&def.name),
        quote(&temp)
    ))?;
    for ix in &indexes {
        conn.execute_batch(&format!("DROP INDEX {}", quote(ix)))?;
    }
    create_table(conn, def)?;
    // Rows already here need not meet a CHECK added NOT VALID; rows
    // written later must (the pragma is the connection's, not the
    // transaction's: it is set back below whatever happens).
    let not_valid = !def.altered.not_valid.is_empty()
        || (def.columns.iter().filter_map(|c| c.domain.as_ref()))
            .any(|d| d.checks.iter().any(|c| c.not_valid));
    if not_valid {
        conn.execute_batch("PRAGMA ignore_check_constraints = ON")?;
    }
    let copied = conn.execute_batch(&format!(
        "INSERT INTO {} ({}) SELECT {} FROM {};
         UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = {}), 0)) WHERE name = {};
         DELETE FROM sqlite_sequence WHERE name = {};
         DROP TABLE {};",
        quote(&def.name),
        cols.join(", "),
        values.join(", "),
        quote(&temp),
        crate::types::shard::literal(&temp),
        crate::types::shard::literal(&def.name),
        crate::types::shard::literal(&temp),
        quote(&temp)
    ));
    if not_valid {
        conn.execute_batch("PRAGMA ignore_check_constraints = OFF")?;
    }
    copied?;
    Ok(())
}
