//! Rows lost to a catalog change made elsewhere.
//!
//! Catalog objects settle by hybrid logical clock, the newest definition
//! winning whole (`Store::apply_entry`). Three such changes take rows this
//! node wrote with them, and each keeps those rows in `_mosaic_conflicts`
//! (`mosaic.conflicts`) first, so that nothing written under a losing
//! definition vanishes unrecorded:
//!
//! - **a table created again**: a definition with the name of one this
//!   node has but another identity (oid): a DROP and CREATE this node
//!   missed while it was down or cut off, or the same name created on both
//!   sides of a split. As a DROP would, it takes the old table's rows; all
//!   of this node's rows of it (its open segment and the shards it sealed)
//!   are kept.
//! - **a table dropped**: a DROP stamped earlier than rows this node wrote
//!   to the table (on the other side of a split, or while this node was
//!   away): those rows, written after the DROP, are kept (looked for in
//!   the open segment and the shards sealed since, `DROP_MARGIN_MS`).
//! - **a column lost**: a newer definition without a column this node's
//!   definition has, that the newer one never dropped (a column added on
//!   this side of a split, while the other side altered the table too):
//!   this node's rows holding a value in it are kept, whole.

use crate::error::Result;
use crate::store::shard::{self, ShardId};
use crate::store::Store;
use crate::types::quote;
use crate::types::table::TableDef;
use crate::types::Datum;

/// How long before a DROP's stamp a shard may have been sealed and still
/// hold a row written after the DROP (clocks of two nodes disagreeing by
/// up to this much): ten minutes.
const DROP_MARGIN_MS: i64 = 10 * 60 * 1000;

/// Which of this node's rows of a table a catalog change loses.
enum Lost<'a> {
    /// Every row: the table is replaced by another of its name.
    All,
    /// Rows written after the change's stamp: the table was dropped.
    After(i64),
    /// Rows holding a value in one of these columns (positions in the old
    /// definition), which the new definition does not have.
    Columns(&'a [usize]),
}

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
        let kept = self.keep_rows(&old, hlc, Lost::All, "table created again")?;
        tracing::warn!(table = %def.name, rows = kept,
            "a table created again elsewhere replaces this node's; its rows here are in mosaic.conflicts");
        self.drop_table_at(&def.name, hlc - 1)
    }

    /// Before a DROP of `name` stamped `hlc` that came from another node:
    /// keep the rows this node wrote to the table after that stamp.
    pub(super) fn keep_dropped(&self, name: &str, hlc: i64) -> Result<()> {
        let Some(old) = self.catalog.table(name) else {
            return Ok(());
        };
        if !old.is_table() || old.is_temp() {
            return Ok(());
        }
        let kept = self.keep_rows(&old, hlc, Lost::After(hlc), "table dropped")?;
        if kept > 0 {
            tracing::warn!(table = %name, rows = kept,
                "a table dropped elsewhere had rows written here after the drop; they are in mosaic.conflicts");
        }
        Ok(())
    }

    /// Before `def` (stamped `hlc`, the same table) replaces this node's
    /// definition: keep the rows holding values of columns it lacks and
    /// never dropped.
    pub(super) fn keep_lost_columns(&self, def: &TableDef, hlc: i64) -> Result<()> {
        let Some(old) = self.catalog.table(&def.name) else {
            return Ok(());
        };
        if old.oid != def.oid || !old.is_table() || old.is_temp() {
            return Ok(());
        }
        let lost: Vec<usize> = (old.columns.iter().enumerate())
            .filter(|(_, c)| {
                let names: Vec<&str> = c.storage_names().collect();
                let kept =
                    (def.columns.iter()).any(|n| n.storage_names().any(|s| names.contains(&s)));
                let dropped = (def.altered.retired.iter()).any(|r| names.contains(&r.as_str()));
                !kept && !dropped
            })
            .map(|(i, _)| i)
            .collect();
        if lost.is_empty() {
            return Ok(());
        }
        let kept = self.keep_rows(
            &old,
            hlc,
            Lost::Columns(&lost),
            "column lost to a newer ALTER",
        )?;
        tracing::warn!(table = %def.name, rows = kept,
            "a newer definition from elsewhere lacks columns added here; rows with values in them are in mosaic.conflicts");
        Ok(())
    }

    /// Record this node's own rows of `old` that `lost` names in
    /// `_mosaic_conflicts` as lost to a definition stamped `hlc`; returns
    /// how many.
    fn keep_rows(&self, old: &TableDef, hlc: i64, lost: Lost, reason: &str) -> Result<usize> {
        let mut conn = self.connect()?;
        let mut own: Vec<_> = (conn.live_shards(Some(&old.name))?.into_iter())
            .filter(|s| s.home.is_none())
            .collect();
        if let Lost::After(hlc) = &lost {
            // A DROP takes a whole table on every node: only rows written
            // after it are looked for, in the open segment and the shards
            // sealed since (less a margin for clocks that disagree), not
            // in every shard of a big table.
            let since = ((*hlc >> 16) - DROP_MARGIN_MS) * 1000;
            let recent: Vec<String> = (conn.rows(
                "SELECT id FROM main._mosaic_shards WHERE table_name = ?1 AND sealed_at >= ?2",
                &[Datum::Text(old.name.clone()), Datum::Int(since)],
            )?)
            .into_iter()
            .filter_map(|r| match r.into_iter().next() {
                Some(Datum::Text(id)) => Some(id),
                _ => None,
            })
            .collect();
            own.retain(|s| recent.contains(&s.id.0));
        }
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
        let filter = match lost {
            Lost::All => String::new(),
            Lost::After(hlc) => format!(" WHERE _ver > {hlc}"),
            Lost::Columns(lost) => format!(
                " WHERE {}",
                (lost.iter())
                    .map(|&c| format!("{} IS NOT NULL", cols[c]))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            ),
        };
        let sql = format!("SELECT * FROM ({}){filter}", arms.join(" UNION ALL "));
        let rows = conn.rows(&sql, &[])?;
        let key: Vec<usize> = match old.primary_key.is_empty() {
            true => (0..old.columns.len()).collect(),
            false => old.primary_key.clone(),
        };
        let all: Vec<usize> = (0..old.columns.len()).collect();
        // What stays of a row whose columns were lost: the others (the
        // winner is a definition, not another node's row: no winner node).
        let stays: Option<Vec<usize>> = match lost {
            Lost::Columns(lost) => {
                Some(all.iter().copied().filter(|c| !lost.contains(c)).collect())
            }
            _ => None,
        };
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
                let winner = match &stays {
                    Some(stays) => Some(crate::types::json::row_object(
                        &old.columns,
                        stays,
                        &values,
                    )?),
                    None => None,
                };
                kept += db.execute(
                    "INSERT OR IGNORE INTO main._mosaic_conflicts(table_name, key, loser_node,
                         loser_version, loser_row, winner_node, winner_version, winner_row,
                         settled_at, reason)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    rusqlite::params![
                        old.name,
                        crate::types::json::row_object(&old.columns, &key, &values)?,
                        self.node_name,
                        ver,
                        crate::types::json::row_object(&old.columns, &all, &values)?,
                        Option::<String>::None,
                        hlc,
                        winner,
                        now,
                        reason,
                    ],
                )?;
            }
            Ok(kept)
        })();
        crate::store::segment::finish(db, r)
    }
}
