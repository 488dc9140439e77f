//! A table's storage under a new name (ALTER TABLE … RENAME TO, here or
//! from another node): its open segment, rebuilt so that its indexes and
//! CHECK constraints carry the new name, and every row of segments.db
//! that names the table. Shard files keep the name they were sealed under
//! in their metadata (it is part of their id); the manifest says which
//! table each belongs to now.

use rusqlite::Connection;

use super::{quote, rebuild};
use crate::error::Result;
use crate::types::table::TableDef;

/// Move the storage of `old` to `new`'s name (the same table, renamed), in
/// the transaction open on `conn`.
pub fn rename(conn: &Connection, old: &TableDef, new: &TableDef) -> Result<()> {
    if table_exists(conn, &old.name)? {
        conn.execute_batch(&format!(
            "ALTER TABLE main.{} RENAME TO {}",
            quote(&old.name),
            quote(&new.name)
        ))?;
        rebuild(conn, new, new)?;
    }
    retag(conn, &old.name, &new.name)
}

/// The manifest's and the settlement's rows of table `old` now name `new`.
pub fn retag(conn: &Connection, old: &str, new: &str) -> Result<()> {
    for table in [
        "_mosaic_shards",
        "_mosaic_outbox",
        "_mosaic_unsettled",
        "_mosaic_unsettled_waits",
    ] {
        conn.execute(
            &format!("UPDATE main.{table} SET table_name = ?2 WHERE table_name = ?1"),
            [old, new],
        )?;
    }
    Ok(())
}

/// Whether segments.db has a table of that name.
pub(crate) fn table_exists(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?1)",
        [name],
        |r| r.get(0),
    )?)
}
