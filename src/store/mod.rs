//! Storage on one node: the catalog (`catalog.db`), the open segments and
//! shard manifest (`segments.db`), and immutable shards (`shards/<id>.db`).
//!
//! `segments.db` holds, per table, an open segment named like the table
//! (`_key` row key, `_ver` version, then the user columns), plus the node's
//! shard manifest `_mosaic_shards` (which shards are live) and tombstones
//! `_mosaic_tombstones` (rows of sealed shards that were deleted or
//! updated). Because the manifest lives in the same database as the open
//! segments, one SQLite read transaction sees a consistent table: the rows
//! a seal moved out of an open segment and the shard that now holds them
//! appear or disappear together.

mod backup;
pub mod catalog;
pub mod changes;
pub mod clock;
mod conn;
pub mod copies;
pub mod dropped;
pub mod errors;
pub mod gate;
pub mod inflight;
mod lru;
mod manifest;
mod renamed;
mod replaced;
pub mod results;
pub mod scrub;
mod sealing;
pub mod segment;
pub mod sequences;
pub mod shard;
mod stats;
pub mod udf;
pub mod unsettled;
pub mod vectors;

pub use backup::{append_chunk, read_chunk};
pub use conn::{rows_per_insert, value_rows, Conn, Interrupt, PreparedSql};
pub use manifest::Outgoing;
mod value;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::store::catalog::{Catalog, Entry};
use crate::store::clock::Hlc;
use crate::store::sequences::Sequences;
use crate::store::shard::{ShardId, ShardMeta};
use crate::types::table::{own_new_sequence, sequence_name, TableDef};

/// The addresses this node serves on, once bound.
#[derive(Debug, Clone, Default)]
pub struct Addrs {
    pub pg: String,
    pub cluster: String,
}

/// Tunables of the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub shard_max_rows: u64,
    /// Bytes of query results over sealed shards kept for reuse.
    pub result_cache_bytes: u64,
    /// Bytes of sealed shards' vectors kept in memory (`vectors`).
    pub vector_cache_bytes: u64,
    /// Milliseconds the node's hybrid logical clock reads the wall clock
    /// off (0; tests of clock skew set `MOSAIC_CLOCK_SKEW_MS`).
    pub clock_skew_ms: i64,
    /// Whether this node's unsealed rows are copied to another node
    /// (`--unsealed-copies`; `changes` marks what to copy).
    pub unsealed_copies: bool,
}

pub struct Store {
    pub dir: PathBuf,
    pub shards_dir: PathBuf,
    pub segments_path: PathBuf,
    pub catalog: Catalog,
    pub options: StoreOptions,
    pub node_name: String,
    pub hlc: Arc<Hlc>,
    pub sequences: Arc<Sequences>,
    pub addrs: RwLock<Addrs>,
    /// Shard metadata by id; immutable per id, so cached forever.
    metas: RwLock<HashMap<ShardId, Arc<ShardMeta>>>,
    /// The node's single writer for seals, compaction and DDL.
    writer: Mutex<Connection>,
    /// Replicas taken out of the manifest, whose files are still there.
    retired: Mutex<Vec<(std::time::Instant, ShardId)>>,
    /// Shards with tombstones here that neither this node nor any other
    /// held at the last look (`forget_orphan_tombstones`).
    orphans: Mutex<std::collections::HashSet<String>>,
    /// Unique-key values this node's open transactions wrote.
    pub inflight: Arc<inflight::InFlight>,
    /// Query results over sealed shards, kept for reuse (`results`).
    pub results: results::Results,
    /// Sealed shards' vectors, kept for nearest-neighbour scans.
    pub vectors: vectors::Vectors,
    /// Which shard files were verified, and which are damaged (`scrub`).
    pub soundness: Arc<scrub::Soundness>,
    /// What a session's COMMIT passes; a backup closes it (`store::gate`).
    pub gate: Arc<gate::Gate>,
    /// Rows of the open segments changed since they were last copied to
    /// this node's buddy (`changes`, `cluster::unsealed`).
    pub changes: Arc<changes::Changes>,
    /// Set while the writer seals: rows leaving the open segment for a
    /// shard are not marked (the copy keeps them until the shard is
    /// announced, see `cluster::unsealed`).
    sealing: Arc<std::sync::atomic::AtomicBool>,
    /// Held by a seal until `changes` records it, and by the copier while
    /// it takes the seals recorded and begins reading: every seal its read
    /// sees is one it knows of.
    pub seal_lock: Mutex<()>,
    /// Whether keys written during a split may wait to be settled here.
    pub unsettled: unsettled::Hint,
    /// Other nodes' unsealed rows copied here (`copies`).
    pub copies: copies::Copies,
    pub copies_path: PathBuf,
    /// Tables renamed here (old name, new name) that the cluster's record
    /// of other nodes' holdings has not followed yet (`renamed`).
    renamed: Mutex<Vec<(String, String)>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish()
    }
}

impl Store {
    pub fn open(
        dir: &Path,
        options: StoreOptions,
        node_name: Option<String>,
    ) -> Result<Arc<Store>> {
        std::fs::create_dir_all(dir)?;
        let shards_dir = dir.join("shards");
        std::fs::create_dir_all(&shards_dir)?;
        let _ = std::fs::remove_dir_all(dir.join(backup::TRANSFER_DIR));
        let catalog = Catalog::open(&dir.join("catalog.db"))?;
        let node_name = match (node_name, catalog.meta("node_name")?) {
            (Some(n), _) => n,
            (None, Some(n)) => n,
            (None, None) => format!("node-{:08x}", rand::random::<u32>()),
        };
        catalog.set_meta("node_name", &node_name)?;
        let hlc = Arc::new(Hlc::skewed(options.clock_skew_ms));
        let sequences = Arc::new(Sequences::open(&dir.join("sequences.db"))?);
        let segments_path = dir.join("segments.db");
        let mut writer = segment::open(&segments_path, &hlc, &sequences)?;
        let changes = Arc::new(changes::Changes::new(options.unsealed_copies));
        let sealing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        changes::install(&mut writer, changes.clone(), Some(sealing.clone()))?;
        segment::init(&writer)?;
        let copies_path = dir.join("copies.db");
        let copies = copies::Copies::open(&copies_path)?;
        catalog::init_journal(&writer)?;
        let store = Store {
            results: results::Results::new(options.result_cache_bytes),
            vectors: vectors::Vectors::new(options.vector_cache_bytes),
            dir: dir.to_path_buf(),
            shards_dir,
            segments_path,
            catalog,
            options,
            node_name,
            hlc,
            sequences,
            addrs: RwLock::new(Addrs::default()),
            metas: RwLock::new(HashMap::new()),
            writer: Mutex::new(writer),
            retired: Mutex::new(Vec::new()),
            orphans: Mutex::new(std::collections::HashSet::new()),
            inflight: Default::default(),
            soundness: Default::default(),
            gate: Default::default(),
            changes,
            sealing,
            seal_lock: Mutex::new(()),
            unsettled: Default::default(),
            copies,
            copies_path,
            renamed: Mutex::new(Vec::new()),
        };
        store.recover()?;
        Ok(Arc::new(store))
    }

    /// Publish DDL that committed just before a crash (the journal), bring
    /// segments.db in line with the catalog, load shard metadata,
    /// remove shard files no manifest names (a seal that crashed before its
    /// commit), and restore sequences.
    fn recover(&self) -> Result<()> {
        let writer = self.writer.lock();
        self.catalog.replay_journal(&writer)?;
        for table in self.catalog.tables() {
            segment::create_table(&writer, &table)?;
            segment::migrate_numeric(&writer, &table)?;
        }
        let live = segment::live_shards(&writer, None)?;
        let mut live_ids: std::collections::HashSet<_> =
            live.iter().map(|s| s.id.clone()).collect();
        live_ids.extend(dropped::kept_shards(&writer)?);
        for entry in std::fs::read_dir(&self.shards_dir)? {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let id = name.strip_suffix(".db").map(|s| ShardId(s.to_string()));
            match id {
                Some(id) if live_ids.contains(&id) => {}
                _ => {
                    tracing::info!(file = %path.display(), "removing shard file no manifest names");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        for s in &live {
            self.meta(&s.id)?;
        }
        for table in self.catalog.tables() {
            self.restore_sequences(&writer, &table)?;
        }
        self.apply_sequence_floors()
    }

    fn restore_sequences(&self, conn: &Connection, table: &TableDef) -> Result<()> {
        for col in &table.columns {
            let Some(seq) = col.default.as_deref().and_then(sequence_name) else {
                continue;
            };
            let mut max = segment::max_int(conn, &table.name, &col.name)?;
            for s in segment::live_shards(conn, Some(&table.name))? {
                let meta = self.meta(&s.id)?;
                if let Some(crate::types::Datum::Int(m)) = meta
                    .columns
                    .iter()
                    .find(|c| c.name == col.name)
                    .and_then(|c| c.max.clone())
                {
                    max = max.max(m);
                }
            }
            self.sequences.advance_to(&seq, &col.sequence_def(), max);
        }
        Ok(())
    }

    /// Metadata of a local shard, read from its file once.
    pub fn meta(&self, id: &ShardId) -> Result<Arc<ShardMeta>> {
        if let Some(m) = self.metas.read().get(id) {
            return Ok(m.clone());
        }
        let meta = Arc::new(shard::read_meta(&shard::shard_path(&self.shards_dir, id))?);
        self.metas.write().insert(id.clone(), meta.clone());
        Ok(meta)
    }

    /// Bytes of the shard files of `table` this node holds (its own and
    /// copies); rows not sealed yet are not counted.
    pub fn table_bytes(&self, table: &str) -> u64 {
        // By the manifest: a shard's metadata keeps the name it was sealed
        // under, which a rename since left behind.
        let live = segment::live_shards(&self.writer.lock(), Some(table)).unwrap_or_default();
        live.iter()
            .filter_map(|s| self.meta(&s.id).ok())
            .filter(|m| self.shard_path(&m.id).exists())
            .map(|m| m.byte_size)
            .sum()
    }

    pub fn shard_path(&self, id: &ShardId) -> PathBuf {
        shard::shard_path(&self.shards_dir, id)
    }

    /// Run `f` on the node's writer connection (DDL, seals).
    pub(in crate::store) fn with_writer<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<T> {
        let conn = self.writer.lock();
        f(&conn)
    }

    /// A fresh object id, unique in the cluster (see `Catalog::next_oid`).
    pub fn next_oid(&self) -> Result<u32> {
        let slot = self
            .sequences
            .slot()
            .map(|s| (s, crate::store::sequences::CLUSTER_STRIDE));
        self.catalog.next_oid(slot)
    }

    /// Create a table: catalog first, then its open segment.
    pub fn create_table(&self, def: TableDef) -> Result<Arc<TableDef>> {
        let _changing = self.catalog.changing();
        let writer = self.writer.lock();
        segment::create_table(&writer, &def)?;
        for col in &def.columns {
            if let Some(seq) = col.default.as_deref().and_then(sequence_name) {
                self.sequences.advance_to(&seq, &col.sequence_def(), 0);
            }
        }
        self.catalog.put_table(def, self.hlc.now())
    }

    /// Replace a table's definition (ALTER TABLE); `alter` runs on the writer.
    pub fn alter_table(
        &self,
        def: TableDef,
        alter: impl FnOnce(&Connection) -> Result<()>,
    ) -> Result<Arc<TableDef>> {
        let _changing = self.catalog.changing();
        let writer = self.writer.lock();
        alter(&writer)?;
        self.catalog.put_table(def, self.hlc.now())
    }

    /// Build the indexes `table` now declares in every live shard of it.
    pub fn index_shards(&self, table: &str) -> Result<()> {
        let Some(def) = self.catalog.table(table) else {
            return Ok(());
        };
        // Under the writer lock: DDL, seals and compaction of this node
        // do not interleave with a rebuild.
        let writer = self.writer.lock();
        for s in segment::live_shards(&writer, Some(table))? {
            // The rebuilt file is a copy of the old one: sound if it was.
            let path = self.shard_path(&s.id);
            let sound = self.soundness.verified_now(&path, &s.id);
            shard::add_indexes(&self.shards_dir, &s.id, &def)?;
            if sound {
                self.soundness.written(&path, &s.id);
            }
        }
        Ok(())
    }

    fn drop_table_at(&self, name: &str, hlc: i64) -> Result<()> {
        let def = self.catalog.table(name).filter(|d| !d.is_temp());
        let writer = self.writer.lock();
        self.catalog.drop_table(name, hlc)?;
        // A dropped sequence starts over if it is made again.
        if let Err(e) = self.sequences.forget(name) {
            tracing::warn!(sequence = %name, error = %e, "forgetting a dropped sequence failed");
        }
        let Some(def) = def else {
            for id in segment::drop_table(&writer, name)? {
                self.metas.write().remove(&id);
                let _ = std::fs::remove_file(self.shard_path(&id));
            }
            return Ok(());
        };
        // Kept until no newer definition can come (`dropped`).
        writer.execute_batch("BEGIN IMMEDIATE")?;
        let r = dropped::keep(&writer, &def);
        for id in segment::finish(&writer, r)? {
            self.metas.write().remove(&id);
        }
        Ok(())
    }

    /// Apply a catalog object that came from another node, if it is newer
    /// than this node's (last writer wins per object, by hybrid logical
    /// clock); the open segment follows the definition. True when applied.
    pub fn apply_entry(&self, entry: &Entry) -> Result<bool> {
        self.hlc.observe(entry.hlc());
        let _changing = self.catalog.changing();
        if self.catalog.hlc_of(entry)? >= entry.hlc() {
            return Ok(false);
        }
        match entry {
            Entry::Role { name, role, hlc } => {
                self.catalog.put_role(name, role.as_deref(), *hlc)?
            }
            Entry::Setting { name, value, hlc } => {
                self.catalog.put_setting(name, value.as_deref(), *hlc)?;
                self.apply_sequence_floors()?;
            }
            Entry::Table {
                name,
                def: None,
                hlc,
            } => {
                self.keep_dropped(name, *hlc)?;
                self.drop_table_at(name, *hlc)?
            }
            Entry::Table {
                name,
                def: Some(def),
                hlc,
            } if !def.is_table() => {
                // A view has no segment or shards: its definition is all.
                self.catalog.put_table((**def).clone(), *hlc)?;
            }
            Entry::Table {
                name,
                def: Some(def),
                hlc,
            } => {
                self.replace_recreated(def, *hlc)?;
                self.follow_rename(def, *hlc)?;
                if self.catalog.table(name).is_none() {
                    self.restore_dropped(def, self.catalog.hlc_of(entry)?)?;
                }
                self.keep_lost_columns(def, *hlc)?;
                {
                    let writer = self.writer.lock();
                    if self.catalog.table(name).is_none() {
                        // A table new to this node owns new sequences, as
                        // one re-created after a DROP does in PostgreSQL.
                        let others = self.catalog.relations();
                        for col in &def.columns {
                            if let Some(seq) = own_new_sequence(col, name, &others) {
                                self.sequences.reset(&seq, &col.sequence_def());
                            }
                        }
                    }
                    if let Some(old) = self.catalog.table(name) {
                        if segment::needs_rebuild(&old, def) {
                            writer
                                .execute_batch("BEGIN IMMEDIATE")
                                .map_err(Error::from)?;
                            let r = segment::rebuild(&writer, &old, def);
                            segment::finish(&writer, r)?;
                        }
                        for col in &def.columns {
                            if old.column_index(&col.name).is_none()
                                && !segment::needs_rebuild(&old, def)
                            {
                                segment::add_column(&writer, name, col)?;
                            }
                        }
                        for idx in &old.indexes {
                            if !def.indexes.iter().any(|i| i.name == idx.name) {
                                writer
                                    .execute_batch(&format!(
                                        "DROP INDEX IF EXISTS {}",
                                        segment::quote(&def.index_storage_name(&idx.name))
                                    ))
                                    .map_err(Error::from)?;
                            }
                        }
                    }
                    segment::create_table(&writer, def)?;
                    for col in &def.columns {
                        if let Some(seq) = col.default.as_deref().and_then(sequence_name) {
                            self.sequences.advance_to(&seq, &col.sequence_def(), 0);
                        }
                    }
                    self.catalog.put_table((**def).clone(), *hlc)?;
                }
                self.index_shards(name)?;
            }
        }
        Ok(true)
    }

    /// Seal the open segment of `table` into a shard. Returns the new
    /// shard's metadata, or `None` when the segment was empty.
    ///
    /// Runs under the write lock of segments.db: the shard file is written
    /// and fsynced before the transaction that moves the rows out of the
    /// open segment and names the shard in the manifest commits, so a crash
    /// at any point loses nothing and duplicates nothing.
    pub fn seal(&self, table: &str) -> Result<Vec<Arc<ShardMeta>>> {
        let mut sealed = Vec::new();
        while let Some(meta) = self.seal_one(table)? {
            sealed.push(meta);
        }
        Ok(sealed)
    }

    /// Seal at most `shard_max_rows` rows of `table`'s open segment.
    pub fn seal_one(&self, table: &str) -> Result<Option<Arc<ShardMeta>>> {
        let Some(def) = self.catalog.table(table) else {
            return Err(Error::NoSuchTable(table.to_string()));
        };
        let writer = self.writer.lock();
        self.seal_on(&writer, &def)
    }

    /// Seal all of `table`'s open segment, but fail with 40001 at once
    /// rather than wait when another transaction holds the write lock (a
    /// peer's statement asked, holding its own node's lock: two such
    /// requests crossing would otherwise wait for each other).
    pub fn seal_nowait(&self, table: &str) -> Result<()> {
        let Some(def) = self.catalog.table(table) else {
            return Err(Error::NoSuchTable(table.to_string()));
        };
        let writer = self.writer.lock();
        writer
            .busy_timeout(std::time::Duration::ZERO)
            .map_err(Error::from)?;
        let r = (|| -> Result<()> {
            while self.seal_on(&writer, &def)?.is_some() {}
            Ok(())
        })();
        writer
            .busy_timeout(segment::BUSY_TIMEOUT)
            .map_err(Error::from)?;
        r
    }

    fn seal_on(&self, writer: &Connection, def: &TableDef) -> Result<Option<Arc<ShardMeta>>> {
        use std::sync::atomic::Ordering;
        let _recorded = self.seal_lock.lock();
        self.sealing.store(true, Ordering::SeqCst);
        let sealed = segment::seal(
            writer,
            def,
            &self.shards_dir,
            &self.node_name,
            self.options.shard_max_rows,
            |id| self.meta(id),
        );
        self.sealing.store(false, Ordering::SeqCst);
        Ok(sealed?.map(|(meta, last_key)| self.sealed(&def.name, meta, last_key)))
    }

    /// Record shard `meta`, just sealed off `table`'s open segment up to
    /// `last_key`.
    fn sealed(&self, table: &str, meta: ShardMeta, last_key: i64) -> Arc<ShardMeta> {
        self.changes.sealed(table, last_key, &meta.id);
        let meta = Arc::new(meta);
        self.metas.write().insert(meta.id.clone(), meta.clone());
        self.soundness.written(&self.shard_path(&meta.id), &meta.id);
        tracing::debug!(table, shard = %meta.id, rows = meta.row_count, "sealed");
        meta
    }

    /// Take a copy of another node's shard, fetched into `fetched` (a file
    /// in the shards directory), into the manifest as a replica, with the
    /// tombstones its holder had. The file must hold exactly the content
    /// `id` names and belong to the table this node knows by that name
    /// (`table_oid`: not one dropped and created again since). Returns
    /// false when this node holds the shard already. The fetched file is
    /// gone afterwards either way.
    pub fn install_replica(
        &self,
        fetched: &Path,
        id: &ShardId,
        table_oid: u32,
        tombstones: &[i64],
    ) -> Result<bool> {
        let r = self.install_replica_file(fetched, id, table_oid, tombstones);
        let _ = std::fs::remove_file(fetched);
        r
    }

    fn install_replica_file(
        &self,
        fetched: &Path,
        id: &ShardId,
        table_oid: u32,
        tombstones: &[i64],
    ) -> Result<bool> {
        if !shard::verify(fetched, id)? {
            return Err(Error::Internal(format!(
                "the copy of shard {id} does not hold the content its id names"
            )));
        }
        let meta = shard::read_meta(fetched)?;
        let writer = self.writer.lock();
        // By identity: the table may have been renamed since the shard
        // was sealed under the name its metadata keeps.
        let Some(table) = (self.catalog.tables().into_iter())
            .find(|d| d.oid == table_oid && d.is_table())
            .map(|d| d.name.clone())
        else {
            return Err(Error::NoSuchTable(meta.table.clone()));
        };
        if segment::holds(&writer, id)? {
            return Ok(false);
        }
        let path = self.shard_path(id);
        std::fs::rename(fetched, &path)?;
        std::fs::File::open(&self.shards_dir)?.sync_all()?;
        writer
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(Error::from)?;
        let r = (|| -> rusqlite::Result<()> {
            let mut add = writer.prepare_cached(
                "INSERT OR IGNORE INTO _mosaic_tombstones(shard_id, rid) VALUES (?1, ?2)",
            )?;
            for rid in tombstones {
                add.execute(rusqlite::params![id.0, rid])?;
            }
            writer.execute(
                "INSERT INTO _mosaic_shards(id, table_name, tombstones, sealed_at, home)
                 VALUES (?1, ?2, (SELECT count(*) FROM _mosaic_tombstones WHERE shard_id = ?1), ?3, ?4)",
                rusqlite::params![
                    id.0,
                    table,
                    chrono::Utc::now().timestamp_micros(),
                    meta.origin
                ],
            )?;
            Ok(())
        })();
        segment::finish(&writer, r.map_err(Error::from))?;
        self.metas.write().insert(id.clone(), Arc::new(meta));
        Ok(true)
    }

    /// Take a replica out of the manifest (superseded at its home, or no
    /// longer wanted here). Its file is removed by `sweep_retired` a while
    /// later, so that a query that planned with it can still read it.
    pub fn retire_replica(&self, id: &ShardId) -> Result<bool> {
        let writer = self.writer.lock();
        writer
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(Error::from)?;
        let r = (|| -> rusqlite::Result<bool> {
            let n = writer.execute(
                "DELETE FROM _mosaic_shards WHERE id = ?1 AND home IS NOT NULL",
                [&id.0],
            )?;
            if n > 0 {
                writer.execute(
                    "DELETE FROM _mosaic_tombstones WHERE shard_id = ?1",
                    [&id.0],
                )?;
            }
            Ok(n > 0)
        })();
        let retired = segment::finish(&writer, r.map_err(Error::from))?;
        if retired {
            self.retired
                .lock()
                .push((std::time::Instant::now(), id.clone()));
        }
        Ok(retired)
    }

    /// Remove the files of replicas retired more than `after` ago.
    pub fn sweep_retired(&self, after: std::time::Duration) {
        let due: Vec<ShardId> = {
            let mut retired = self.retired.lock();
            let (due, keep): (Vec<_>, Vec<_>) =
                retired.drain(..).partition(|(at, _)| at.elapsed() >= after);
            *retired = keep;
            due.into_iter().map(|(_, id)| id).collect()
        };
        let writer = self.writer.lock();
        for id in due {
            // Taken in again meanwhile (fetched anew): keep it.
            if !segment::holds(&writer, &id).unwrap_or(true) {
                self.metas.write().remove(&id);
                let _ = std::fs::remove_file(self.shard_path(&id));
            }
        }
    }

    /// Drop the tombstones of shards that this node does not hold and that
    /// no node announced (`known`), at this look and the one before (so a
    /// shard just sealed elsewhere, not announced yet, keeps them).
    /// Returns how many shards' tombstones went.
    pub fn forget_orphan_tombstones(
        &self,
        known: &std::collections::HashSet<String>,
    ) -> Result<usize> {
        let writer = self.writer.lock();
        let mut st = writer
            .prepare_cached(
                "SELECT DISTINCT shard_id FROM _mosaic_tombstones
                 WHERE shard_id NOT IN (SELECT id FROM _mosaic_shards)",
            )
            .map_err(Error::from)?;
        let unknown: std::collections::HashSet<String> = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(Error::from)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(Error::from)?
            .into_iter()
            .filter(|id| !known.contains(id))
            .collect();
        let mut orphans = self.orphans.lock();
        let doomed: Vec<String> = unknown.intersection(&orphans).cloned().collect();
        *orphans = unknown.difference(&orphans).cloned().collect();
        for id in &doomed {
            writer
                .execute(
                    "DELETE FROM _mosaic_tombstones WHERE shard_id = ?1
                     AND NOT EXISTS (SELECT 1 FROM _mosaic_shards WHERE id = ?1)",
                    [id],
                )
                .map_err(Error::from)?;
        }
        Ok(doomed.len())
    }

    /// The row keys of a local shard that are tombstoned here.
    pub fn tombstones_of(&self, id: &ShardId) -> Result<Vec<i64>> {
        let conn = self.writer.lock();
        let mut st = conn
            .prepare_cached("SELECT rid FROM _mosaic_tombstones WHERE shard_id = ?1")
            .map_err(Error::from)?;
        let rids = st
            .query_map([&id.0], |r| r.get::<_, i64>(0))
            .map_err(Error::from)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(Error::from);
        rids
    }
}

#[cfg(test)]
mod tests;
