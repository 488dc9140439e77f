//! What backup and restore need of a node's storage: where its sequences
//! stand, the bytes of a shard file, and taking a backed-up shard's rows
//! in as a shard of this node's own.
//!
//! A restored shard is sealed again by the node that restores it, with
//! its rows and their versions unchanged: its content id names its sealing
//! node, and the nodes of the backed-up cluster are not this cluster's.
//! Files on their way in or out lie in `DATA/transfer/`, which a start
//! empties, so nothing an interrupted transfer left stays.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::store::shard::{self, ShardId, ShardMeta};
use crate::store::{segment, Conn, Store};
use crate::types::backup::{
    BackupShard, CutShard, NodeCut, OpenRows, SequenceFloor, SEQUENCE_FLOOR_SETTING,
};
use crate::types::sequence::SequenceDef;
use crate::types::table::sequence_name;

/// Unsealed rows per `OpenRows` item.
const BATCH: usize = 512;

/// The folder under the data directory for shard files on their way in
/// or out.
pub(super) const TRANSFER_DIR: &str = "transfer";

impl Store {
    /// Every sequence this node has drawn from (or set), with the last
    /// value it handed out.
    pub fn sequence_positions(&self) -> Vec<SequenceFloor> {
        self.sequence_defs()
            .into_iter()
            .filter_map(|(name, owner_oid, def)| {
                let key = def.key(&name);
                let last = self.sequences.handed_out(&key, &def)?;
                Some(SequenceFloor {
                    key,
                    owner_oid,
                    last,
                    increment: def.increment,
                })
            })
            .collect()
    }

    /// Each sequence the catalog defines: its name, the oid of the object
    /// it belongs to (itself, or a serial column's table) and definition.
    fn sequence_defs(&self) -> Vec<(String, u32, SequenceDef)> {
        let mut out = Vec::new();
        for rel in self.catalog.objects() {
            if let Some(def) = rel.sequence() {
                out.push((rel.name.clone(), rel.oid, def.clone()));
            }
            for col in &rel.columns {
                if let Some(seq) = col.default.as_deref().and_then(sequence_name) {
                    if self.catalog.relation(&seq).is_none() {
                        out.push((seq, rel.oid, col.sequence_def()));
                    }
                }
            }
        }
        out
    }

    /// Keep every sequence past the floor a restored backup set for it
    /// (cluster settings under `SEQUENCE_FLOOR_SETTING`). Run at start and
    /// whenever such a setting arrives.
    pub(super) fn apply_sequence_floors(&self) -> Result<()> {
        let floors = self.catalog.settings(SEQUENCE_FLOOR_SETTING)?;
        if floors.is_empty() {
            return Ok(());
        }
        let defs = self.sequence_defs();
        for (name, value) in floors {
            let Ok(floor) = serde_json::from_str::<SequenceFloor>(&value) else {
                tracing::warn!(setting = %name, "ignoring a sequence floor that does not parse");
                continue;
            };
            for (seq, owner, def) in &defs {
                if *owner == floor.owner_oid && def.key(seq) == floor.key {
                    self.sequences.raise(&floor.key, def, floor.last);
                }
            }
        }
        Ok(())
    }

    /// What this node holds of `tables`, in one read snapshot of
    /// `segments.db`: its live shards, every tombstone it has or has to
    /// deliver, and the unsealed rows, in batches of `BATCH` rows. A
    /// backup takes it while no node commits (`store::gate`).
    pub fn backup_cut(&self, tables: &[String]) -> Result<(NodeCut, Vec<OpenRows>)> {
        let conn = self.connect()?;
        conn.batch("BEGIN")?;
        let r = self.read_cut(&conn, tables);
        let _ = conn.batch("ROLLBACK");
        r
    }

    fn read_cut(&self, conn: &Conn, tables: &[String]) -> Result<(NodeCut, Vec<OpenRows>)> {
        let db = conn.db();
        let mut cut = NodeCut {
            node: self.node_name.clone(),
            ..NodeCut::default()
        };
        for s in conn.live_shards(None)? {
            if tables.contains(&s.table) {
                cut.shards.push(CutShard {
                    byte_size: self.meta(&s.id)?.byte_size,
                    id: s.id.0,
                    table: s.table,
                    home: s.home,
                });
            }
        }
        for sql in [
            "SELECT shard_id, rid FROM main._mosaic_tombstones",
            "SELECT shard_id, rid FROM main._mosaic_outbox",
        ] {
            let mut st = db.prepare(sql).map_err(Error::from)?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(Error::from)?;
            for row in rows {
                cut.tombstones.push(row.map_err(Error::from)?);
            }
        }
        let mut open = Vec::new();
        for table in tables {
            let Some(def) = self.catalog.table(table) else {
                continue;
            };
            let columns: Vec<String> = def.columns.iter().map(|c| c.name.clone()).collect();
            let (rows, _) = segment::oldest_rows(db, &def, i64::MAX as u64)?;
            for batch in rows.chunks(BATCH) {
                open.push(OpenRows {
                    node: self.node_name.clone(),
                    table: table.clone(),
                    columns: columns.clone(),
                    rows: batch.iter().map(|r| (r.ver, r.values.clone())).collect(),
                });
            }
        }
        Ok((cut, open))
    }

    /// The backup's shards from the nodes' cuts: every node's own live
    /// shards, and the copies of shards whose home gave no cut (a node
    /// down: a copy of a shard its home compacted since may lag, and
    /// would hold rows twice), each once, with the union of its
    /// tombstones; and each node's unsealed rows of
    /// a table written here as a shard file sealed in that node's name
    /// (left at `transfer_path(id, "backup")` for the backup to read).
    pub fn assemble_backup(
        &self,
        cuts: Vec<NodeCut>,
        open: Vec<OpenRows>,
    ) -> Result<Vec<BackupShard>> {
        let mut tombstones: HashMap<String, BTreeSet<i64>> = HashMap::new();
        let mut shards: BTreeMap<String, (String, u64)> = BTreeMap::new();
        let nodes: HashSet<String> = cuts.iter().map(|c| c.node.clone()).collect();
        for cut in cuts {
            for (shard, rid) in cut.tombstones {
                tombstones.entry(shard).or_default().insert(rid);
            }
            for s in cut.shards {
                if s.home.as_ref().is_none_or(|home| !nodes.contains(home)) {
                    shards.insert(s.id, (s.table, s.byte_size));
                }
            }
        }
        let mut unsealed: BTreeMap<(String, String), (Vec<String>, Vec<shard::Row>)> =
            BTreeMap::new();
        for o in open {
            let e = unsealed.entry((o.node, o.table)).or_default();
            e.0 = o.columns;
            e.1.extend(
                o.rows
                    .into_iter()
                    .map(|(ver, values)| shard::Row { ver, values }),
            );
        }
        let mut out: Vec<BackupShard> = shards
            .into_iter()
            .map(|(id, (table, byte_size))| BackupShard {
                tombstones: tombstones
                    .remove(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
                id,
                table,
                byte_size,
            })
            .collect();
        for ((node, table), (columns, rows)) in unsealed {
            let def = self
                .catalog
                .table(&table)
                .ok_or_else(|| Error::NoSuchTable(table.clone()))?;
            if def.columns.iter().map(|c| &c.name).ne(columns.iter()) {
                return Err(Error::SerializationFailure(format!(
                    "table \"{table}\" changed on node {node} while the backup took it; run the backup again"
                )));
            }
            let dir = self.transfer_dir();
            let meta = shard::write_shard(&dir, &node, &def, rows)?;
            std::fs::rename(
                shard::shard_path(&dir, &meta.id),
                self.transfer_path(&meta.id, "backup"),
            )?;
            out.push(BackupShard {
                id: meta.id.0,
                table,
                byte_size: meta.byte_size,
                tombstones: vec![],
            });
        }
        Ok(out)
    }

    /// Where a file of shard `id` on its way in or out (`purpose`) lies:
    /// `DATA/transfer/`, which a start empties.
    pub fn transfer_path(&self, id: &ShardId, purpose: &str) -> PathBuf {
        self.transfer_dir().join(format!("{}.{purpose}", id.0))
    }

    fn transfer_dir(&self) -> PathBuf {
        let dir = self.dir.join(TRANSFER_DIR);
        let _ = std::fs::create_dir_all(&dir);
        dir
    }

    /// Take the rows of a backed-up shard file (all but the `tombstones`)
    /// into a new shard sealed by this node, after checking the file holds
    /// the content `id` names. Serial sequences move past the values it
    /// holds. `None` when every row of it was tombstoned. The file is gone
    /// afterwards either way.
    pub fn import_shard(
        &self,
        file: &Path,
        id: &ShardId,
        tombstones: &[i64],
    ) -> Result<Option<Arc<ShardMeta>>> {
        let r = self.import_file(file, id, tombstones);
        let _ = std::fs::remove_file(file);
        r
    }

    fn import_file(
        &self,
        file: &Path,
        id: &ShardId,
        tombstones: &[i64],
    ) -> Result<Option<Arc<ShardMeta>>> {
        let sound = shard::verify(file, id).unwrap_or(false);
        if !sound {
            return Err(Error::DataCorrupted(format!(
                "the backup's file of shard {id} does not hold the content its id names"
            )));
        }
        let old = shard::read_meta(file)?;
        let def = self
            .catalog
            .table(&old.table)
            .ok_or_else(|| Error::NoSuchTable(old.table.clone()))?;
        let dead: HashSet<i64> = tombstones.iter().copied().collect();
        let rows = segment::file_rows(file, &def, &old, &dead)?;
        if rows.is_empty() {
            return Ok(None);
        }
        let writer = self.writer.lock();
        writer
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(Error::from)?;
        let r = segment::install(
            &writer,
            &def,
            &self.shards_dir,
            &self.node_name,
            rows,
            &|i: &ShardId| self.meta(i),
        );
        let meta = Arc::new(segment::finish(&writer, r)?);
        self.metas.write().insert(meta.id.clone(), meta.clone());
        self.soundness.written(&self.shard_path(&meta.id), &meta.id);
        self.restore_sequences(&writer, &def)?;
        Ok(Some(meta))
    }
}

/// Up to `len` bytes of the file at `path` from `offset` on (fewer at its
/// end, none past it).
pub fn read_chunk(path: &Path, offset: u64, len: usize) -> Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut out = Vec::with_capacity(len);
    file.take(len as u64).read_to_end(&mut out)?;
    Ok(out)
}

/// Write `bytes` at `offset` of the file at `path`, which must hold
/// exactly `offset` bytes so far (0: the file starts over).
pub fn append_chunk(path: &Path, offset: u64, bytes: &[u8]) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(offset == 0)
        .open(path)?;
    let len = file.metadata()?.len();
    if len != offset {
        return Err(Error::InvalidParameter(format!(
            "a chunk at byte {offset} of a file that holds {len} bytes so far"
        )));
    }
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(bytes)?;
    Ok(())
}
