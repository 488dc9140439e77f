//! Store's own tables in `segments.db`, reached only through these typed
//! calls: the shard manifest (`_mosaic_shards`), tombstones
//! (`_mosaic_tombstones`), the tombstone outbox (`_mosaic_outbox`) and the
//! open segments' shape. The `Conn` methods run in the transaction open on
//! that connection (a session's block, a statement); the `Store` methods
//! open their own.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension};

use crate::error::{Error, Result};
use crate::store::conn::Conn;
use crate::store::{segment, Store};
use crate::types::quote;
use crate::types::shard::{LiveShard, ShardId, Tombstone};
use crate::types::table::{Column, TableDef};
use crate::types::Datum;

/// A tombstone this node committed that another holder of the shard
/// (`node`) has not confirmed yet.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub node: String,
    pub table: String,
    pub tombstone: Tombstone,
}

/// A table's live shards as a connection last read them, by the version
/// of the manifest they were read from ([`Conn::manifest_version`]).
pub(super) type Seen = HashMap<String, ((i64, u64), Vec<LiveShard>)>;

/// Tables whose live shards a connection keeps.
const SEEN_TABLES: usize = 256;

impl Conn {
    /// Live shards of one table (or of all tables), as this connection's
    /// current transaction sees the manifest. A table's are read again only
    /// when the manifest may have changed since they were last read (a
    /// point select would otherwise spend a fifth of its time here).
    pub fn live_shards(&self, table: Option<&str>) -> Result<Vec<LiveShard>> {
        let Some(table) = table else {
            return segment::live_shards(self.db(), None);
        };
        let Some(version) = self.manifest_version()? else {
            return segment::live_shards(self.db(), Some(table));
        };
        if let Some((seen, shards)) = self.manifest.lock().get(table) {
            if *seen == version {
                return Ok(shards.clone());
            }
        }
        let shards = segment::live_shards(self.db(), Some(table))?;
        let mut kept = self.manifest.lock();
        if kept.len() >= SEEN_TABLES {
            kept.clear();
        }
        kept.insert(table.to_string(), (version, shards.clone()));
        Ok(shards)
    }

    /// What names the content of segments.db this connection's transaction
    /// sees, when something can: SQLite's data version, which changes when
    /// another connection has committed since this one last read, with the
    /// rows this connection has changed itself. `None` outside a
    /// transaction (nothing holds the snapshot the version was read in)
    /// and in one that has written (a rollback would take its changes back
    /// without changing either count).
    pub(crate) fn manifest_version(&self) -> Result<Option<(i64, u64)>> {
        let db = self.db();
        if db.is_autocommit()
            || db.transaction_state(Some(rusqlite::MAIN_DB))? == rusqlite::TransactionState::Write
        {
            return Ok(None);
        }
        let data_version: i64 = db
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?;
        Ok(Some((data_version, db.total_changes())))
    }

    /// Create a table's open segment, or bring its indexes up to `def`.
    pub fn create_segment(&self, def: &TableDef) -> Result<()> {
        segment::create_table(self.db(), def)
    }

    /// Add a column to a table's open segment.
    pub fn add_column(&self, table: &str, col: &Column) -> Result<()> {
        segment::add_column(self.db(), table, col)
    }

    /// Recreate a table's open segment as `def` (ALTER TABLE), its rows
    /// kept, in the open transaction.
    pub fn rebuild_segment(&self, old: &TableDef, def: &TableDef) -> Result<()> {
        segment::rebuild(self.db(), old, def)
    }

    /// Move table `old`'s storage to `new`'s name (ALTER TABLE … RENAME
    /// TO), in the open transaction.
    pub fn rename_table(&self, old: &TableDef, new: &TableDef) -> Result<()> {
        segment::rename(self.db(), old, new)
    }

    /// Drop an index of an open segment.
    pub fn drop_index(&self, name: &str) -> Result<()> {
        self.batch(&format!("DROP INDEX IF EXISTS {}", quote(name)))
    }

    /// Rows in a table's open segment.
    pub fn count_rows(&self, table: &str) -> Result<u64> {
        segment::count_rows(self.db(), table)
    }

    /// Drop a table's open segment, its manifest rows, their tombstones and
    /// queued tombstones, in the open transaction; returns the shards that
    /// were live.
    pub fn drop_segment(&self, table: &str) -> Result<Vec<ShardId>> {
        let shards = self.live_shards(Some(table))?;
        self.batch(&format!("DROP TABLE IF EXISTS main.{}", quote(table)))?;
        delete_manifest(self.db(), table, false)?;
        Ok(shards.into_iter().map(|s| s.id).collect())
    }

    /// DROP TABLE: move a table's open segment, manifest rows and
    /// tombstones aside in the open transaction (`store::dropped`);
    /// returns the shards that were live (their files stay).
    pub fn keep_dropped(&self, def: &TableDef) -> Result<Vec<ShardId>> {
        crate::store::dropped::keep(self.db(), def)
    }

    /// Empty a table in the open transaction: its open-segment rows and its
    /// shards leave the manifest; this node's own only with `own_only`
    /// (copies of other nodes' shards stay, their rows tombstoned by the
    /// caller), else every one.
    pub fn empty_table(&self, table: &str, own_only: bool) -> Result<()> {
        empty_table(self.db(), table, own_only)
    }
    /// Take the node's write lock in the open transaction now, before it
    /// reads anything: waiting for the lock is fine, a snapshot gone stale
    /// under it would not be.
    pub fn take_write_lock(&self) -> Result<()> {
        self.batch("UPDATE main._mosaic_shards SET tombstones = tombstones WHERE 0")
    }

    /// Whether lock waits (a write lock another connection holds) wait as
    /// long as usual or fail at once with SQLite's busy error.
    pub fn wait_for_locks(&self, wait: bool) -> Result<()> {
        let timeout = if wait {
            segment::BUSY_TIMEOUT
        } else {
            std::time::Duration::ZERO
        };
        Ok(self.db().busy_timeout(timeout)?)
    }

    /// Whether the open transaction has written anything, to any of the
    /// connection's databases (temp tables included).
    pub fn has_written(&self) -> Result<bool> {
        Ok(self.db().transaction_state(None::<&str>)? == rusqlite::TransactionState::Write)
    }

    /// The tombstoned rows of a shard, as this transaction sees them.
    pub fn tombstones(&self, id: &ShardId) -> Result<Vec<i64>> {
        let mut st = self
            .db()
            .prepare_cached("SELECT rid FROM main._mosaic_tombstones WHERE shard_id = ?1")?;
        let rids = st.query_map([&id.0], |r| r.get::<_, i64>(0))?;
        Ok(rids.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Whether a row of a shard is tombstoned here.
    pub fn is_tombstoned(&self, shard: &str, rid: i64) -> Result<bool> {
        Ok(self.db().query_row(
            "SELECT EXISTS (SELECT 1 FROM main._mosaic_tombstones WHERE shard_id = ?1 AND rid = ?2)",
            params![shard, rid],
            |r| r.get::<_, bool>(0),
        )?)
    }

    /// Tombstone the rows of `shard` whose keys the statement collected in
    /// `temp._mosaic_rids`, counting them where this node holds the shard;
    /// returns how many were new, and how many the shard has now (0 where
    /// this node does not hold it).
    pub fn tombstone_collected(&self, shard: &str) -> Result<(usize, u64)> {
        let db = self.db();
        let n = db
            .prepare_cached(
                "INSERT OR IGNORE INTO main._mosaic_tombstones(shard_id, rid) SELECT ?1, rid FROM temp._mosaic_rids",
            )?
            .execute([shard])?;
        let total: Option<i64> = db
            .prepare_cached(
                "UPDATE main._mosaic_shards SET tombstones = tombstones + ?1 WHERE id = ?2 RETURNING tombstones",
            )?
            .query_row(params![n as i64, shard], |r| r.get(0))
            .optional()?;
        Ok((n, total.unwrap_or(0).max(0) as u64))
    }

    /// The nodes that tombstones of `table` queued here still have to
    /// reach.
    pub fn outbox_nodes(&self, table: &str) -> Result<Vec<String>> {
        let mut st = self.db().prepare_cached(
            "SELECT DISTINCT node FROM main._mosaic_outbox WHERE table_name = ?1",
        )?;
        let nodes = st.query_map([table], |r| r.get::<_, String>(0))?;
        Ok(nodes.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Queue tombstones for other holders of their shards, in the open
    /// transaction (they leave once it commits).
    pub fn queue_tombstones(&self, outgoing: &[Outgoing]) -> Result<()> {
        let mut queue = self.db().prepare_cached(
            "INSERT OR REPLACE INTO main._mosaic_outbox(shard_id, rid, node, home, table_name, row_values)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for o in outgoing {
            let t = &o.tombstone;
            // With the columns' names; rows queued before they were kept
            // hold the values alone (a JSON array).
            let values =
                serde_json::to_string(&(&t.values, &t.columns)).map_err(Error::internal)?;
            queue.execute(params![t.shard, t.rid, o.node, t.home, o.table, values])?;
        }
        Ok(())
    }

    /// Every queued tombstone.
    pub fn outbox(&self) -> Result<Vec<Outgoing>> {
        let mut st = self.db().prepare_cached(
            "SELECT shard_id, rid, node, home, table_name, row_values FROM main._mosaic_outbox",
        )?;
        let mut rows = st.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let text: String = r.get(5)?;
            let (values, columns) = serde_json::from_str::<(Vec<Datum>, Vec<String>)>(&text)
                .or_else(|_| serde_json::from_str(&text).map(|v| (v, vec![])))
                .map_err(Error::internal)?;
            out.push(Outgoing {
                node: r.get(2)?,
                table: r.get(4)?,
                tombstone: Tombstone {
                    shard: r.get(0)?,
                    rid: r.get(1)?,
                    home: r.get(3)?,
                    values,
                    columns,
                },
            });
        }
        Ok(out)
    }

    /// Forget queued tombstones `node` has applied.
    pub fn outbox_delivered(&self, node: &str, delivered: &[Tombstone]) -> Result<()> {
        let mut done = self.db().prepare_cached(
            "DELETE FROM main._mosaic_outbox WHERE shard_id = ?1 AND rid = ?2 AND node = ?3",
        )?;
        for t in delivered {
            done.execute(params![t.shard, t.rid, node])?;
        }
        Ok(())
    }
}

impl Store {
    /// Every live shard of this node's manifest, as last committed.
    pub fn live_shards(&self) -> Result<Vec<LiveShard>> {
        self.with_writer(|w| segment::live_shards(w, None))
    }

    /// The table a live shard of this node holds rows of.
    pub fn shard_table(&self, id: &ShardId) -> Result<Option<String>> {
        self.with_writer(|w| {
            Ok(w.query_row(
                "SELECT table_name FROM _mosaic_shards WHERE id = ?1",
                [&id.0],
                |r| r.get::<_, String>(0),
            )
            .optional()?)
        })
    }

    /// This node's holdings, read from its manifest in one read
    /// transaction on `conn`: its live shards, and the tables with rows
    /// still in its open segments. One snapshot, so that rows a seal moves
    /// from an open segment into a shard are never announced in neither
    /// (peers skip a node for a table only when its holdings show nothing
    /// there).
    pub fn holdings(&self, conn: &Conn) -> Result<(Vec<LiveShard>, Vec<String>)> {
        conn.batch("BEGIN")?;
        let r = (|| -> Result<(Vec<LiveShard>, Vec<String>)> {
            let shards = conn.live_shards(None)?;
            let mut open = Vec::new();
            for def in self.catalog.tables() {
                let sql = format!("SELECT 1 FROM main.{} LIMIT 1", quote(&def.name));
                if conn.exists(&sql, &[]).unwrap_or(false) {
                    open.push(def.name.clone());
                }
            }
            Ok((shards, open))
        })();
        let _ = conn.batch("COMMIT");
        r
    }

    /// Empty this node's part of `table`: its open segment and its shards.
    pub fn truncate_local(&self, table: &str) -> Result<()> {
        self.with_writer(|w| {
            w.execute_batch("BEGIN IMMEDIATE")?;
            let r = empty_table(w, table, false);
            segment::finish(w, r)
        })
    }

    /// Apply tombstones a peer committed for rows this node holds. A row
    /// whose shard this node compacted since (its home is this node) is
    /// found again by its values in the shard that holds it now. A
    /// tombstone of a shard not held here is kept too (a copy being fetched
    /// counts it in when installed; `forget_orphan_tombstones` drops those
    /// of shards nobody holds). Idempotent: applying the same tombstone
    /// twice changes nothing.
    ///
    /// Rows are found before the transaction (attaching shards is not
    /// possible inside one), so a compaction can retire a shard in between
    /// (another peer's tombstones compact it, see below): the transaction
    /// then finds a shard of this node's it meant to tombstone gone, and
    /// the rows are found again. A tombstone kept for a retired shard would
    /// lose the delete: the row lives on in the shard that superseded it.
    pub fn apply_tombstones(&self, table: &str, rows: &[Tombstone]) -> Result<usize> {
        let Some(def) = self.catalog.table(table) else {
            return Ok(0);
        };
        let mut conn = self.connect()?;
        let mut tries = 0;
        let applied = loop {
            tries += 1;
            let live = conn.live_shards(Some(table))?;
            let own: Vec<_> = live.iter().filter(|s| s.home.is_none()).cloned().collect();
            let mut targets = Vec::new();
            // The shards of this node's the targets are in: still live when
            // the transaction commits, or the rows are found again.
            let mut must_live: Vec<String> = Vec::new();
            for t in rows {
                if t.home == self.node_name && !live.iter().any(|s| s.id.0 == t.shard) {
                    if let Some(found) = self.find_row(&mut conn, &def, &own, t, &targets)? {
                        must_live.push(found.0.clone());
                        targets.push(found);
                    }
                } else {
                    if t.home == self.node_name {
                        must_live.push(t.shard.clone());
                    }
                    // Kept also for a shard not held here: a copy of it being
                    // taken right now counts it in when it is installed.
                    targets.push((t.shard.clone(), t.rid));
                }
            }
            must_live.sort();
            must_live.dedup();
            let db = conn.db();
            db.execute_batch("BEGIN IMMEDIATE")?;
            let r = (|| -> Result<Option<usize>> {
                for shard in &must_live {
                    let held = db
                        .prepare_cached("SELECT 1 FROM main._mosaic_shards WHERE id = ?1")?
                        .exists([shard])?;
                    if !held {
                        return Ok(None);
                    }
                }
                let mut applied = 0;
                for (shard, rid) in &targets {
                    let n = db.execute(
                        "INSERT OR IGNORE INTO main._mosaic_tombstones(shard_id, rid) VALUES (?1, ?2)",
                        params![shard, rid],
                    )?;
                    if n > 0 {
                        applied += db.execute(
                            "UPDATE main._mosaic_shards SET tombstones = tombstones + 1 WHERE id = ?1",
                            [shard],
                        )?;
                    }
                }
                Ok(Some(applied))
            })();
            // Committed through the gate (`store::gate`): while a backup
            // takes its cut, the tombstones stay in their sender's outbox.
            match self.gate.commit(|| segment::finish(db, r))? {
                Some(applied) => break applied,
                None if tries < 10 => {
                    tracing::debug!(table, "a shard was compacted while its tombstones were found; finding them again");
                }
                None => {
                    return Err(Error::Unavailable(format!(
                        "the shards of table \"{table}\" keep changing; the tombstones will be sent again"
                    )))
                }
            }
        };
        if applied > 0 {
            self.compact(table)?;
        }
        Ok(applied)
    }

    /// A live, not yet tombstoned row of `def` with the values of `t`.
    /// Each value is compared with the column it was read from, found by
    /// the name it had then (a column renamed since by a former name); a
    /// value of a column dropped since is not compared, and a column added
    /// since reads the same value in every row the tombstone can mean.
    /// Rows already `taken` by other tombstones of the same delivery are
    /// passed over (two tombstones of two equal rows mean both).
    fn find_row(
        &self,
        conn: &mut Conn,
        def: &TableDef,
        live: &[LiveShard],
        t: &Tombstone,
        taken: &[(String, i64)],
    ) -> Result<Option<(String, i64)>> {
        let mut cond = Vec::new();
        let mut values = Vec::new();
        if t.columns.is_empty() {
            if t.values.len() != def.columns.len() {
                return Ok(None);
            }
            for (c, v) in def.columns.iter().zip(&t.values) {
                values.push(v.clone());
                cond.push(format!("{} IS ?{}", quote(&c.name), values.len()));
            }
        } else {
            for (name, v) in t.columns.iter().zip(&t.values) {
                let Some(c) = def
                    .columns
                    .iter()
                    .find(|c| c.storage_names().any(|n| n == name))
                else {
                    continue;
                };
                values.push(v.clone());
                cond.push(format!("{} IS ?{}", quote(&c.name), values.len()));
            }
        }
        if cond.is_empty() {
            return Ok(None);
        }
        let values = &values[..];
        for s in live {
            let meta = self.meta(&s.id)?;
            let src = crate::store::shard::source(def, &meta, s.tombstones, true)?;
            let passed: Vec<String> = (taken.iter())
                .filter(|(shard, _)| *shard == s.id.0)
                .map(|(_, rid)| rid.to_string())
                .collect();
            let passed = match passed.is_empty() {
                true => String::new(),
                false => format!(" AND _rid NOT IN ({})", passed.join(", ")),
            };
            conn.attach(std::slice::from_ref(&s.id))?;
            let found = conn.rows(
                &format!(
                    "SELECT _rid FROM ({src}) WHERE {}{passed} LIMIT 1",
                    cond.join(" AND ")
                ),
                values,
            );
            let _ = conn.detach(&s.id);
            if let Some(Datum::Int(rid)) = found?.first().and_then(|r| r.first()) {
                return Ok(Some((s.id.0.clone(), *rid)));
            }
        }
        Ok(None)
    }
}

fn empty_table(db: &rusqlite::Connection, table: &str, own_only: bool) -> Result<()> {
    // With a WHERE, SQLite deletes row by row and reports each row
    // (`store::changes`); without, it empties the table unreported.
    db.execute_batch(&format!("DELETE FROM main.{} WHERE true", quote(table)))?;
    delete_manifest(db, table, own_only)
}

/// Take a table's shards (its own only, with `own_only`) and their
/// tombstones out of the manifest.
fn delete_manifest(db: &rusqlite::Connection, table: &str, own_only: bool) -> Result<()> {
    let which = if own_only { " AND home IS NULL" } else { "" };
    if !own_only {
        db.execute(
            "DELETE FROM main._mosaic_outbox WHERE table_name = ?1",
            [table],
        )?;
    }
    db.execute(
        &format!("DELETE FROM main._mosaic_tombstones WHERE shard_id IN (SELECT id FROM main._mosaic_shards WHERE table_name = ?1{which})"),
        [table],
    )?;
    db.execute(
        &format!("DELETE FROM main._mosaic_shards WHERE table_name = ?1{which}"),
        [table],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::PgType;

    /// Table `t (a int, b text)` in a new store in `dir`.
    fn store_with_t(dir: &std::path::Path) -> std::sync::Arc<Store> {
        let store = crate::store::tests::open_small(dir);
        store.create_table(table_t()).unwrap();
        store
    }

    fn table_t() -> TableDef {
        TableDef {
            name: "t".into(),
            columns: vec![
                Column::new("a", PgType::Int4, false),
                Column::new("b", PgType::Text, false),
            ],
            ..Default::default()
        }
    }

    /// A tombstone of this node's row `(a, b)` at `rid` of `shard`.
    fn tombstone(store: &Store, shard: &str, rid: i64, a: i64, b: &str) -> Tombstone {
        Tombstone {
            shard: shard.into(),
            rid,
            values: vec![Datum::Int(a), Datum::Text(b.into())],
            home: store.node_name.clone(),
            columns: vec!["a".into(), "b".into()],
        }
    }

    /// Insert `values` (rows of `(a, b)`) into `t` and seal them into a shard.
    fn seal_rows(store: &Store, values: &str) {
        store
            .with_writer(|w| {
                w.execute_batch(&format!("INSERT INTO t(a, b) VALUES {values}"))
                    .map_err(Error::from)
            })
            .unwrap();
        store.seal("t").unwrap();
    }

    fn count(store: &Store) -> i64 {
        let mut conn = store.connect().unwrap();
        let live = conn.live_shards(Some("t")).unwrap();
        let def = store.catalog.table("t").unwrap();
        let mut n = 0;
        for s in live {
            let meta = store.meta(&s.id).unwrap();
            let src = crate::store::shard::source(&def, &meta, s.tombstones, true).unwrap();
            conn.attach(std::slice::from_ref(&s.id)).unwrap();
            let rows = conn.rows(&format!("SELECT count(*) FROM ({src})"), &[]);
            let _ = conn.detach(&s.id);
            if let Some(Datum::Int(c)) = rows.unwrap().first().and_then(|r| r.first()) {
                n += c;
            }
        }
        n
    }

    /// A tombstone queued before ALTER TABLE dropped one column and added
    /// another (same count, other names) still finds its row by the
    /// columns its values were read from, in a shard compacted since.
    #[test]
    fn a_tombstone_finds_its_row_after_columns_changed() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_t(dir.path());
        let mut def = table_t();
        seal_rows(&store, "(1, 'x'), (2, 'y'), (1, 'y')");
        def.columns.remove(1);
        def.altered.retired.push("b".into());
        let mut c = Column::new("c", PgType::Text, false);
        c.missing = Some("'x'".into());
        def.columns.push(c);
        let new = def.clone();
        store
            .alter_table(def, |w| segment::rebuild(w, &table_t(), &new))
            .unwrap();
        assert_eq!(count(&store), 3);
        // Its shard is gone (compacted since): the home looks for the row.
        let t = tombstone(&store, "gone", 1, 2, "y");
        assert_eq!(store.apply_tombstones("t", &[t]).unwrap(), 1);
        assert_eq!(count(&store), 2);
    }

    /// Peers' tombstones for the rows of one shard arrive at its home at
    /// once, and one delivery compacts the shard (half its rows gone)
    /// while another is finding its rows: every tombstoned row stays gone.
    /// A tombstone written for the shard just retired used to be lost, its
    /// row alive again in the compacted shard (a key held twice after a
    /// split, seen in the partition tests).
    #[test]
    fn tombstones_arriving_during_a_compaction_are_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_t(dir.path());
        let mut expected = 0;
        for round in 0..25 {
            let base = round * 10;
            store
                .with_writer(|w| {
                    for i in 0..10 {
                        w.execute("INSERT INTO t(a, b) VALUES (?1, 'x')", [base + i])?;
                    }
                    Ok(())
                })
                .unwrap();
            let shard = store.seal("t").unwrap().remove(0);
            // Eight of ten rows, one delivery each, all at once.
            std::thread::scope(|s| {
                for rid in 1..=8 {
                    let t = tombstone(&store, &shard.id.0, rid, base + rid - 1, "x");
                    let store = &store;
                    s.spawn(move || store.apply_tombstones("t", &[t]).unwrap());
                }
            });
            expected += 2;
            assert_eq!(count(&store), expected, "round {round}");
        }
    }

    /// A connection's live shards follow the manifest it sees, whether
    /// read again or kept from an earlier read: a shard another connection
    /// sealed is seen from the next transaction on (not within one), and a
    /// write of its own that rolled back is not seen at all.
    #[test]
    fn live_shards_follow_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_t(dir.path());
        let conn = store.connect().unwrap();
        let live = |conn: &Conn| conn.live_shards(Some("t")).unwrap().len();
        // Read twice: the first read starts the transaction's snapshot,
        // the second is made within it.
        let in_txn = |conn: &Conn| {
            conn.batch("BEGIN").unwrap();
            let n = live(conn);
            assert_eq!(live(conn), n);
            conn.batch("COMMIT").unwrap();
            n
        };
        assert_eq!(in_txn(&conn), 0);
        seal_rows(&store, "(1, 'x')");
        assert_eq!(in_txn(&conn), 1);
        assert_eq!(in_txn(&conn), 1);
        conn.batch("BEGIN").unwrap();
        assert_eq!(live(&conn), 1);
        seal_rows(&store, "(2, 'y')");
        assert_eq!(live(&conn), 1, "the transaction's snapshot holds");
        conn.batch("COMMIT").unwrap();
        assert_eq!(in_txn(&conn), 2);
        conn.batch("BEGIN").unwrap();
        assert_eq!(live(&conn), 2);
        conn.batch("DELETE FROM _mosaic_shards").unwrap();
        assert_eq!(live(&conn), 0, "its own write is seen");
        conn.batch("ROLLBACK").unwrap();
        assert_eq!(in_txn(&conn), 2, "a write rolled back is not");
        conn.batch("BEGIN").unwrap();
        conn.batch("DELETE FROM _mosaic_shards").unwrap();
        conn.batch("COMMIT").unwrap();
        assert_eq!(in_txn(&conn), 0, "a write committed is");
        assert_eq!(live(&conn), 0, "outside a transaction too");
    }

    /// Two tombstones of two equal rows (a table without a key) of a shard
    /// compacted since, in one delivery, delete both rows, not one twice.
    #[test]
    fn tombstones_of_equal_rows_delete_each() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_t(dir.path());
        seal_rows(&store, "(1, 'x'), (1, 'x'), (2, 'y')");
        let gone = |rid| tombstone(&store, "gone", rid, 1, "x");
        assert_eq!(store.apply_tombstones("t", &[gone(1), gone(2)]).unwrap(), 2);
        assert_eq!(count(&store), 1);
    }
}
