//! Immutable, content-addressed shards.
//!
//! A shard is a SQLite file `DATA/shards/<id>.db` holding rows of one table
//! as they were at seal time. Its id is the lowercase unpadded base32 of the
//! SHA-256 of a canonical encoding of the table schema (name, column names
//! and types) and the rows in canonical order; never of the file's bytes,
//! which SQLite does not make deterministic. Two nodes that seal the same
//! rows get the same id.
//!
//! File layout:
//! - `data(_rid INTEGER PRIMARY KEY, _ver INTEGER NOT NULL, <columns>)`:
//!   `_rid` is the row's 1-based ordinal in canonical order (the row key
//!   tombstones name); `_ver` the hybrid-logical-clock version of the write
//!   that made the row (not part of the id). Declared indexes are created.
//! - `_meta(k TEXT PRIMARY KEY, v BLOB)`: `meta` → the JSON of `ShardMeta`.
//!
//! Written to a temporary name, fsynced, then renamed: a crash leaves either
//! no file or a complete one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::sql::types::{Datum, PgType};
use crate::store::table::TableDef;

/// A shard's content id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ShardId(pub String);

impl std::fmt::Display for ShardId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One row handed to `write_shard`: its version and its values in the
/// table's column order.
#[derive(Debug, Clone)]
pub struct Row {
    pub ver: i64,
    pub values: Vec<Datum>,
}

/// Per-column statistics kept with a shard.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnStats {
    pub name: String,
    pub ty: PgType,
    /// Smallest and largest non-null value in SQLite's ordering.
    pub min: Option<Datum>,
    pub max: Option<Datum>,
    pub null_count: u64,
    /// bloomfilter bytes over the canonical encoding of each non-null value.
    pub bloom: Vec<u8>,
    /// For text columns: bloomfilter bytes over the lowercased trigrams of each value.
    pub trigrams: Option<Vec<u8>>,
}

/// What a node knows about a shard without opening it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardMeta {
    pub id: ShardId,
    pub table: String,
    /// Hash of the schema the shard was sealed with.
    pub schema_hash: String,
    pub row_count: u64,
    pub byte_size: u64,
    /// One entry per column of the schema the shard was sealed with, in order.
    pub columns: Vec<ColumnStats>,
}

/// Path of a shard file inside the shards directory.
pub fn shard_path(shards_dir: &Path, id: &ShardId) -> PathBuf {
    shards_dir.join(format!("{}.db", id.0))
}

/// The content id of `rows` sealed under `table`'s schema.
pub fn shard_id(table: &TableDef, rows: &[Row]) -> ShardId {
    let _ = (table, rows);
    todo!("shard_id")
}

/// Write `rows` of `table` as a new shard file in `shards_dir` and return its
/// metadata. If a shard with the same id already exists, it is reused.
pub fn write_shard(shards_dir: &Path, table: &TableDef, rows: Vec<Row>) -> Result<ShardMeta> {
    let _ = (shards_dir, table, rows);
    todo!("write_shard")
}

/// Read the metadata stored inside a shard file.
pub fn read_meta(path: &Path) -> Result<ShardMeta> {
    let _ = path;
    todo!("read_meta")
}
