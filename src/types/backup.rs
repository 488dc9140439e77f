//! What a backup holds, as `mosaic backup` writes it to `DIR/manifest.json`
//! and `mosaic restore` hands it back to a node: the catalog, where every
//! sequence stands, and every live shard with the rows tombstoned in it.
//! The shard files themselves lie beside it, in `DIR/shards/<id>.db`.

use serde::{Deserialize, Serialize};

/// The manifest format this build writes and reads.
pub const FORMAT: u32 = 1;

/// The cluster setting (see `store::catalog::Entry::Setting`) that keeps
/// new object ids above those a restore brought back.
pub const OID_FLOOR_SETTING: &str = "restore.oid_floor";

/// The prefix of the cluster settings that keep each sequence past where
/// it stood in a restored backup; the rest of the name is the sequence's
/// position key (`types::sequence::SequenceDef::key`).
pub const SEQUENCE_FLOOR_SETTING: &str = "restore.sequence.";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// When the node began the backup (RFC 3339, UTC).
    pub taken_at: String,
    /// The node that served it.
    pub node: String,
    /// The catalog's objects (`store::catalog::Entry`), as JSON: tables,
    /// views, sequences, types and functions, roles, cluster settings.
    pub catalog: serde_json::Value,
    /// Where each sequence stood, the furthest of any node.
    pub sequences: Vec<SequenceFloor>,
    pub shards: Vec<BackupShard>,
}

/// One sequence's position: the last value any node handed out of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequenceFloor {
    /// The position key (sequence name, and its run after a RESTART).
    pub key: String,
    /// The object the sequence belongs to: the sequence itself, or the
    /// table of a serial column. A floor never reaches a sequence made
    /// again under the same name.
    pub owner_oid: u32,
    pub last: i64,
    pub increment: i64,
}

impl SequenceFloor {
    /// Whether `self` lies further along than `other` (same key).
    pub fn beyond(&self, other: &SequenceFloor) -> bool {
        if self.increment < 0 {
            self.last < other.last
        } else {
            self.last > other.last
        }
    }
}

/// One live shard of the backup.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupShard {
    /// The content id, which the file must match.
    pub id: String,
    pub table: String,
    pub byte_size: u64,
    /// Row keys (`_rid`) deleted or updated since the shard was sealed.
    pub tombstones: Vec<i64>,
}

/// What one node holds at a backup's cut, read in one snapshot while no
/// node commits (`cluster::backup`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NodeCut {
    pub node: String,
    /// Its live shards, its own and its copies.
    pub shards: Vec<CutShard>,
    /// Every tombstone it has (shard id, row key): of the shards it holds
    /// and those it committed for other holders and has not delivered.
    pub tombstones: Vec<(String, i64)>,
}

/// A live shard in a node's cut.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CutShard {
    pub id: String,
    pub table: String,
    pub byte_size: u64,
    /// The node that sealed it, for a copy; `None` for the node's own.
    pub home: Option<String>,
}

/// Rows of one table's open segment at a backup's cut: each row's version
/// and values, in the order of `columns`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpenRows {
    pub node: String,
    pub table: String,
    pub columns: Vec<String>,
    pub rows: Vec<(i64, Vec<crate::types::Datum>)>,
}
