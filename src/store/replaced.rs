//! A table created again elsewhere.
//!
//! A table definition that comes from another node with the name of one
//! this node has but another identity (oid) is a table created again: a
//! DROP and CREATE this node missed while it was down or cut off, or the
//! same name created on both sides of a split, the newer by hybrid logical
//! clock winning. As a DROP would, it takes the old table's rows with it;
//! the rows this node wrote to the old one (its open segment and the
//! shards it sealed) are kept in `_mosaic_conflicts` first, so that
//! nothing written under the losing definition vanishes unrecorded.

use crate::error::Result;
use crate::store::shard::{self, ShardId};
use crate::store::Store;
use crate::types::quote;
use crate::types::table::TableDef;
use crate::types::Datum;

impl Store {
    /// Before `def` (stamped `hlc`) replaces this node's table of the same
    /// name: if that one is another table, keep this node's rows of it as
    /// conflicts and drop it.
    pub(super) fn replace_recreated(&self, def: &TableDef, hlc: i64) -> Result<()> {
        let Some(old) = self.catalog.table(&def.name) else {
            return Ok(());
        };
        if old.oid == def.oid || !old.is_table() || old.is_temp() {
            return Ok(());
        }
        let kept = self.keep_rows(&old, hlc)?;
        tracing::warn!(table = %def.name, rows = kept,
            "a table created again elsewhere replaces this node's; its rows here are in mosaic.conflicts");
        self.drop_table_at(&def.name, hlc - 1)
    }

    /// Record this node's own rows of `old` in `_mosaic_conflicts` as lost
    /// to a definition stamped `hlc`; returns how many.
    fn keep_rows(&self, old: &TableDef, hlc: i64) -> Result<usize> {
        let mut conn = self.connect()?;
        let own: Vec<_> = (conn.live_shards(Some(&old.name))?.into_iter())
            .filter(|s| s.home.is_none())
            .collect();
        let ids: Vec<ShardId> = own.iter().map(|s| s.id.clone()).collect();
        conn.attach(&ids)?;
        let cols: Vec<String> = old.columns.iter().map(|c| quote(&c.name)).collect();
        let mut arms = vec![format!(
            "SELECT _ver, {} FROM main.{}",
            cols.join(", "),
            quote(&old.name)
        )];
        for s in &own {
            let meta = self.meta(&s.id)?;
            let src = shard::versioned_source(old, &meta, s.tombstones)?;
            arms.push(format!("SELECT _ver, {} FROM ({src})", cols.join(", ")));
        }
        let rows = conn.rows(&arms.join(" UNION ALL "), &[])?;
        let key: Vec<usize> = match old.primary_key.is_empty() {
            true => (0..old.columns.len()).collect(),
            false => old.primary_key.clone(),
        };
        let all: Vec<usize> = (0..old.columns.len()).collect();
        let now = crate::types::datetime::clock_micros();
        let db = conn.db();
        db.execute_batch("BEGIN IMMEDIATE")?;
        let r = (|| -> Result<usize> {
            let mut kept = 0;
            for mut row in rows {
                let values = row.split_off(1);
                let ver = match row.first() {
                    Some(Datum::Int(v)) => *v,
                    _ => 0,
                };
                kept += db.execute(
                    "INSERT OR IGNORE INTO main._mosaic_conflicts(table_name, key, loser_node,
                         loser_version, loser_row, winner_node, winner_version, winner_row,
                         settled_at, reason)
                     VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, NULL, ?7, 'table created again')",
                    rusqlite::params![
                        old.name,
                        crate::types::json::row_object(&old.columns, &key, &values)?,
                        self.node_name,
                        ver,
                        crate::types::json::row_object(&old.columns, &all, &values)?,
                        hlc,
                        now,
                    ],
                )?;
            }
            Ok(kept)
        })();
        crate::store::segment::finish(db, r)
    }
}
