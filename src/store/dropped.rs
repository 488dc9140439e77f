//! Dropped tables, kept until no newer definition of them can come.
//!
//! Catalog objects settle by hybrid logical clock, per object (see
//! `Store::apply_entry`): an ALTER TABLE made on one side of a split after
//! a DROP of the same table on the other side is the newer change and
//! wins, so the table lives on, and the dropping side must then still
//! have the rows it held. A DROP therefore does not delete a table's data
//! at once: its open segment is renamed aside (`_mosaic_dropped_<oid>_…`,
//! its indexes dropped, so that a table created again under the name
//! builds its own), and its manifest rows and tombstones move to
//! `_mosaic_dropped_shards` and `_mosaic_dropped_tombstones`, the shard
//! files staying where they are. `_mosaic_dropped` names each kept table
//! with its definition as it was dropped. Nothing reads them: the table is
//! gone for every statement.
//!
//! A newer definition of the same table (the same oid) puts them back
//! (`restore`) before it is applied, as an ALTER would find them. Once
//! every node this one knows of has the DROP (or a newer change of that
//! name), no newer definition can come, and the cluster purges them
//! (`cluster::dropped`); a lone node purges at once.

use rusqlite::{Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::store::segment::{self, quote};
use crate::store::shard::ShardId;
use crate::store::Store;
use crate::types::table::TableDef;

/// The tables that keep dropped tables' data, in segments.db.
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS _mosaic_dropped(
        segment TEXT PRIMARY KEY, name TEXT NOT NULL, oid INTEGER NOT NULL, def TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS _mosaic_dropped_shards(
        segment TEXT NOT NULL, id TEXT NOT NULL, tombstones INTEGER NOT NULL,
        sealed_at INTEGER NOT NULL, home TEXT, PRIMARY KEY(segment, id)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS _mosaic_dropped_tombstones(
        segment TEXT NOT NULL, shard_id TEXT NOT NULL, rid INTEGER NOT NULL,
        PRIMARY KEY(segment, shard_id, rid)) WITHOUT ROWID;";

/// A dropped table whose data this node keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// The name its open segment has while kept (unique per drop).
    pub segment: String,
    /// The table's name.
    pub name: String,
    pub oid: u32,
}

/// Move `def`'s open segment, manifest rows and tombstones aside, in the
/// transaction open on `db`; returns the shards moved (their files stay).
pub fn keep(db: &Connection, def: &TableDef) -> Result<Vec<ShardId>> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let kept = format!("_mosaic_dropped_{}_{nanos}", def.oid);
    let name = def.name.as_str();
    if segment::table_exists(db, name)? {
        for index in segment_indexes(db, name)? {
            db.execute_batch(&format!("DROP INDEX main.{}", quote(&index)))?;
        }
        db.execute_batch(&format!(
            "ALTER TABLE main.{} RENAME TO {}",
            quote(name),
            quote(&kept)
        ))?;
    }
    let ids: Vec<ShardId> = segment::live_shards(db, Some(name))?
        .into_iter()
        .map(|s| s.id)
        .collect();
    db.execute(
        "INSERT INTO main._mosaic_dropped_tombstones(segment, shard_id, rid)
             SELECT ?1, t.shard_id, t.rid FROM main._mosaic_tombstones t
             JOIN main._mosaic_shards s ON s.id = t.shard_id WHERE s.table_name = ?2",
        [&kept, name],
    )?;
    db.execute(
        "INSERT INTO main._mosaic_dropped_shards(segment, id, tombstones, sealed_at, home)
             SELECT ?1, id, tombstones, sealed_at, home FROM main._mosaic_shards
             WHERE table_name = ?2",
        [&kept, name],
    )?;
    db.execute(
        "DELETE FROM main._mosaic_tombstones WHERE shard_id IN
             (SELECT id FROM main._mosaic_shards WHERE table_name = ?1)",
        [name],
    )?;
    db.execute(
        "DELETE FROM main._mosaic_shards WHERE table_name = ?1",
        [name],
    )?;
    db.execute(
        "DELETE FROM main._mosaic_outbox WHERE table_name = ?1",
        [name],
    )?;
    let json = serde_json::to_string(def).map_err(Error::internal)?;
    db.execute(
        "INSERT INTO main._mosaic_dropped(segment, name, oid, def) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![kept, name, def.oid, json],
    )?;
    Ok(ids)
}

/// Put back the data kept of the table `def` is a definition of (the same
/// oid), the newest kept if there are several, in the transaction open on
/// `db`; returns the definition it was dropped with (under `def`'s name),
/// its shards and the name it was dropped under, or `None` when nothing of
/// it is kept. Kept under
/// another name, the table was renamed (ALTER TABLE … RENAME TO drops the
/// old name, which may arrive first): its data takes the new name.
pub fn restore(
    db: &Connection,
    def: &TableDef,
) -> Result<Option<(TableDef, Vec<ShardId>, String)>> {
    let found: Option<(String, String)> = db
        .query_row(
            "SELECT segment, def FROM main._mosaic_dropped WHERE oid = ?2
             ORDER BY name = ?1 DESC, segment DESC LIMIT 1",
            rusqlite::params![def.name, def.oid],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((kept, json)) = found else {
        return Ok(None);
    };
    let mut old: TableDef = serde_json::from_str(&json).map_err(Error::internal)?;
    let former = std::mem::replace(&mut old.name, def.name.clone());
    let renamed = former != def.name;
    // A segment of that name no catalog table owns has no rows to lend.
    db.execute_batch(&format!("DROP TABLE IF EXISTS main.{}", quote(&def.name)))?;
    if segment::table_exists(db, &kept)? {
        db.execute_batch(&format!(
            "ALTER TABLE main.{} RENAME TO {}",
            quote(&kept),
            quote(&def.name)
        ))?;
        if renamed {
            // Its indexes went when it was kept; its CHECK constraints
            // still carry the former name.
            segment::rebuild(db, &old, &old)?;
        }
    }
    db.execute(
        "INSERT OR IGNORE INTO main._mosaic_shards(id, table_name, tombstones, sealed_at, home)
             SELECT id, ?2, tombstones, sealed_at, home FROM main._mosaic_dropped_shards
             WHERE segment = ?1",
        [&kept, &def.name],
    )?;
    db.execute(
        "INSERT OR IGNORE INTO main._mosaic_tombstones(shard_id, rid)
             SELECT shard_id, rid FROM main._mosaic_dropped_tombstones WHERE segment = ?1",
        [&kept],
    )?;
    let ids = shard_ids(db, &kept)?;
    forget(db, &kept)?;
    Ok(Some((old, ids, former)))
}

/// Drop what is kept under `kept`, in the transaction open on `db`;
/// returns the shards whose files may go (those no live table holds).
pub fn purge(db: &Connection, kept: &str) -> Result<Vec<ShardId>> {
    let ids: Vec<ShardId> = shard_ids(db, kept)?
        .into_iter()
        .filter(|id| !segment::holds(db, id).unwrap_or(true))
        .collect();
    db.execute_batch(&format!("DROP TABLE IF EXISTS main.{}", quote(kept)))?;
    forget(db, kept)?;
    Ok(ids)
}

/// Every dropped table whose data is kept, oldest first.
pub fn list(db: &Connection) -> Result<Vec<Kept>> {
    let mut st =
        db.prepare("SELECT segment, name, oid FROM main._mosaic_dropped ORDER BY segment")?;
    let rows = st.query_map([], |r| {
        Ok(Kept {
            segment: r.get(0)?,
            name: r.get(1)?,
            oid: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The shards kept for dropped tables (their files must stay).
pub fn kept_shards(db: &Connection) -> Result<Vec<ShardId>> {
    let mut st = db.prepare("SELECT DISTINCT id FROM main._mosaic_dropped_shards")?;
    let rows = st.query_map([], |r| Ok(ShardId(r.get(0)?)))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn shard_ids(db: &Connection, kept: &str) -> Result<Vec<ShardId>> {
    let mut st = db.prepare("SELECT id FROM main._mosaic_dropped_shards WHERE segment = ?1")?;
    let rows = st.query_map([kept], |r| Ok(ShardId(r.get(0)?)))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn forget(db: &Connection, kept: &str) -> Result<()> {
    for table in [
        "_mosaic_dropped",
        "_mosaic_dropped_shards",
        "_mosaic_dropped_tombstones",
    ] {
        db.execute(
            &format!("DELETE FROM main.{table} WHERE segment = ?1"),
            [kept],
        )?;
    }
    Ok(())
}

/// The indexes MosaicDB made on a segment (not SQLite's own).
fn segment_indexes(db: &Connection, table: &str) -> Result<Vec<String>> {
    let mut st = db.prepare(
        "SELECT name FROM main.sqlite_master
         WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
    )?;
    let rows = st.query_map([table], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
}

impl Store {
    /// Forget shards a committed statement took out of the manifest and
    /// remove their files. A crash before this leaves only files that the
    /// next start removes (no manifest names them).
    pub fn forget_shards(&self, ids: &[ShardId]) {
        for id in ids {
            self.metas.write().remove(id);
            let _ = std::fs::remove_file(self.shard_path(id));
        }
    }

    /// Forget the metadata of shards a committed DROP TABLE kept aside.
    pub fn forget_metas(&self, ids: &[ShardId]) {
        let mut metas = self.metas.write();
        for id in ids {
            metas.remove(id);
        }
    }

    /// The dropped tables whose data this node keeps.
    pub fn kept_dropped(&self) -> Result<Vec<Kept>> {
        list(&self.writer.lock())
    }

    /// Drop the data kept under `kept` for good, files included.
    pub fn purge_dropped(&self, kept: &str) -> Result<()> {
        let ids = {
            let writer = self.writer.lock();
            writer.execute_batch("BEGIN IMMEDIATE")?;
            let r = purge(&writer, kept);
            segment::finish(&writer, r)?
        };
        tracing::info!(
            segment = kept,
            shards = ids.len(),
            "a dropped table's data is purged"
        );
        for id in ids {
            let _ = std::fs::remove_file(self.shard_path(&id));
        }
        Ok(())
    }

    /// Drop the data of every dropped table for good (a lone node: no
    /// other node can send a newer definition).
    pub fn purge_all_dropped(&self) {
        let kept = match self.kept_dropped() {
            Ok(k) => k,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list dropped tables' data");
                return;
            }
        };
        for k in kept {
            if let Err(e) = self.purge_dropped(&k.segment) {
                tracing::warn!(segment = %k.segment, error = %e, "cannot purge a dropped table's data");
            }
        }
    }

    /// Before `def` (stamped newer than this node's DROP of it) is
    /// applied: put back what this node kept of the table, under the
    /// definition it was dropped with. True when something was kept.
    pub(super) fn restore_dropped(&self, def: &TableDef, dropped_at: i64) -> Result<bool> {
        let restored = {
            let writer = self.writer.lock();
            writer.execute_batch("BEGIN IMMEDIATE")?;
            let r = restore(&writer, def);
            segment::finish(&writer, r)?
        };
        let Some((old, ids, former)) = restored else {
            return Ok(false);
        };
        if former != def.name {
            self.renamed_here(&former, &def.name)?;
        }
        for id in &ids {
            self.metas.write().remove(id);
            self.meta(id)?;
        }
        tracing::warn!(table = %def.name, shards = ids.len(),
            "a table dropped here was altered elsewhere later: its data here is back");
        self.catalog.put_table(old, dropped_at)?;
        Ok(true)
    }
}
