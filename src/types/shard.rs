//! What every layer knows about a shard without opening it: its content
//! id, its metadata (row count, per-column zone maps and bloom filters),
//! the canonical value encoding the id and the blooms are computed over,
//! and SQLite's value ordering that zone maps follow. Pure: the files
//! themselves belong to `store::shard`.

pub mod encode;
pub mod stats;

use serde::{Deserialize, Serialize};

use crate::types::{Datum, PgType};

pub use encode::{cmp_sqlite, encode_value, normalize};
pub use stats::{load_bloom, trigrams};

/// A shard's content id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ShardId(pub String);

impl std::fmt::Display for ShardId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The schema name a shard is attached under on a session connection.
pub fn attach_name(id: &ShardId) -> String {
    format!("s_{}", id.0)
}

/// A shard's source SQL (`store::shard::source`, which ends in a WHERE
/// exactly when the shard has tombstones) keeping only the rows `narrow`
/// (a condition on `_rid`) lets through.
pub fn narrow(source: &str, tombstones: i64, narrow: &str) -> String {
    let join = if tombstones > 0 { "AND" } else { "WHERE" };
    format!("{source} {join} {narrow}")
}

/// The R*Tree of geometry column `column` in a shard file, quoted: row ids
/// by the box of the row's value (`store::shard` builds it, the spatial
/// conditions of `plan::rtree_condition` read it).
pub fn rtree_name(column: &str) -> String {
    crate::types::quote(&format!("_rtree_{column}"))
}

/// The sqlite-vec `vec0` table of vector column `column` in a shard file,
/// quoted: each row's vector under its row id, scanned by sqlite-vec's own
/// distance code (`store::shard` builds it, `plan::nearest` reads it).
pub fn vec_index_name(column: &str) -> String {
    crate::types::quote(&format!("_vec_{column}"))
}

/// The most dimensions sqlite-vec's `vec0` keeps (pgvector allows 16000).
pub const VEC_INDEX_MAX_DIMS: u32 = 8192;

/// A live shard as the manifest lists it.
#[derive(Debug, Clone)]
pub struct LiveShard {
    pub id: ShardId,
    pub table: String,
    pub tombstones: i64,
    /// The node that sealed it, for a copy of another node's shard (a
    /// replica); `None` for this node's own.
    pub home: Option<String>,
}

/// A row of a shard that a transaction on another node deleted (or
/// replaced). `values` let the holder find the row again if the shard was
/// compacted into another since.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tombstone {
    pub shard: String,
    pub rid: i64,
    pub values: Vec<Datum>,
    /// The shard's home: the one holder that looks for the row by its
    /// values when the shard is gone (compacted there since).
    pub home: String,
    /// The name of the column each of `values` is of: by the time the
    /// home looks for the row, ALTER TABLE may have added, dropped or
    /// renamed columns. Empty: `values` are in the order of the table's
    /// columns (tombstones queued before names were kept).
    #[serde(default)]
    pub columns: Vec<String>,
}

/// SQL selecting the row keys tombstoned in one shard, as the tombstone
/// set of the node running it holds them; `shard` is SQL (a quoted
/// literal, a parameter, a column). Store owns the table; every statement
/// that must skip dead rows reads it through this.
pub fn tombstoned_rids(shard: &str) -> String {
    format!("SELECT rid FROM main._mosaic_tombstones WHERE shard_id = {shard}")
}

/// SQL true when the row `rid` of `shard` (both SQL) is tombstoned here.
pub fn is_tombstoned(shard: &str, rid: &str) -> String {
    format!("EXISTS (SELECT 1 FROM main._mosaic_tombstones AS _tb WHERE _tb.shard_id = {shard} AND _tb.rid = {rid})")
}

/// The condition a shard's source ends in when the shard has tombstones:
/// its rows not among the shard's tombstoned row keys (`shard` is SQL).
/// SQLite gathers those keys into a set once per run of the statement, so
/// a scan pays for each tombstone once and little per row.
pub fn skip_tombstoned(shard: &str) -> String {
    format!("_rid NOT IN ({})", tombstoned_rids(shard))
}

/// `source` (a shard's source SQL, as `store::shard::source` or a remote
/// shard's source writes it) with its tombstones looked up row by row, in
/// the tombstone set's index, instead of gathered first: what a read of
/// few rows wants (a key lookup, the rows a write marked), since gathering
/// costs every tombstone of the shard each time. The same rows either way.
pub fn probe_per_row(source: &str, shard: &str) -> String {
    let gathered = skip_tombstoned(&literal(shard));
    match source.strip_suffix(&gathered) {
        Some(head) => format!("{head}NOT {}", is_tombstoned(&literal(shard), "_rid")),
        None => source.to_string(),
    }
}

/// A digest of a shard's tombstone set, independent of order: two holders
/// of a shard with equal digests hold the same set (but for a 2^-64
/// chance). Each row key is mixed (splitmix64's finalizer) and the mixes
/// are added, so a set's digest grows with it.
pub fn tombstone_digest(rids: impl IntoIterator<Item = i64>) -> u64 {
    rids.into_iter().fold(0u64, |acc, rid| {
        let mut z = (rid as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        acc.wrapping_add(z ^ (z >> 31))
    })
}

/// A text value as an SQL string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
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
    #[serde(with = "b64")]
    pub bloom: Vec<u8>,
    /// For text columns: bloomfilter bytes over the lowercased trigrams of each value.
    /// `None` when the column is not text or holds a non-text value.
    #[serde(with = "b64_opt")]
    pub trigrams: Option<Vec<u8>>,
    /// For geometry columns: the SRID every value has and the box around
    /// them all (`types::geometry::Extent`); `None` for other columns and
    /// where no one SRID or box holds (then nothing is pruned by it).
    #[serde(default)]
    pub extent: Option<crate::types::geometry::Extent>,
    /// For vector columns: the dimensions every non-null value has, when
    /// one number does (and vec0 takes it); the shard file then keeps a
    /// `vec0` index of them (`vec_index_name`). `None` for other columns.
    #[serde(default)]
    pub vectors: Option<u32>,
    /// `bloom` decoded (`bloom_filter`).
    #[serde(skip)]
    pub bloom_decoded: stats::Decoded,
    /// `trigrams` decoded (`trigram_filter`).
    #[serde(skip)]
    pub trigrams_decoded: stats::Decoded,
}

impl ColumnStats {
    /// The bloom filter over the column's values; `None` when its bytes
    /// are not a usable filter (every value may then be present).
    pub fn bloom_filter(&self) -> Option<&bloomfilter::Bloom<[u8]>> {
        self.bloom_decoded.get(&self.bloom)
    }

    /// The bloom filter over the column's lowercased trigrams, if kept.
    pub fn trigram_filter(&self) -> Option<&bloomfilter::Bloom<[u8]>> {
        self.trigrams_decoded.get(self.trigrams.as_deref()?)
    }

    /// The dimensions of the `vec0` table the shard file keeps of this
    /// column (`vec_index_name`), if it keeps one.
    pub fn vec_index(&self) -> Option<u32> {
        self.vectors
            .filter(|_| matches!(self.ty, PgType::Vector(_)))
    }

    /// Whether the shard file keeps an R*Tree of this column
    /// (`rtree_name`): geometries of one SRID with a box.
    pub fn has_rtree(&self) -> bool {
        matches!(self.ty, PgType::Geometry(_)) && self.extent.is_some_and(|e| e.bbox.is_some())
    }
}

/// What a node knows about a shard without opening it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardMeta {
    pub id: ShardId,
    pub table: String,
    /// Hash of the schema the shard was sealed with.
    pub schema_hash: String,
    pub row_count: u64,
    /// Size of the file as built (page count × page size, measured before the
    /// metadata row is updated with it; the update does not change the page
    /// count in practice, and `write_shard` re-measures until it is stable).
    pub byte_size: u64,
    /// One entry per column of the schema the shard was sealed with, in order.
    pub columns: Vec<ColumnStats>,
    /// The node that sealed the shard. Part of the id, so that two nodes
    /// sealing equal rows (a table without a key may hold the same row
    /// twice) make two shards; empty in shards from before it was kept.
    #[serde(default)]
    pub origin: String,
    /// Whether the id covers each row's version (the write that made it)
    /// besides its values, as in every shard sealed now: rows written
    /// again after their first shard went (TRUNCATE, DELETE) make a new
    /// id, never the old one's, whose tombstones and copies other nodes
    /// may still know. False in shards from before.
    #[serde(default)]
    pub versioned: bool,
}

impl ShardMeta {
    /// Whether a shard of this many tombstoned rows is due for compaction:
    /// at least half its rows gone.
    pub fn half_tombstoned(&self, tombstones: u64) -> bool {
        tombstones * 2 >= self.row_count
    }

    /// Statistics of the column named `name`, if the shard's schema has it.
    pub fn column(&self, name: &str) -> Option<&ColumnStats> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Bloom bytes as base64 in JSON, not as an array of numbers.
mod b64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

mod b64_opt {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_some(&base64::engine::general_purpose::STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::b64")] Vec<u8>);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use super::tombstone_digest;

    #[test]
    fn tombstone_digests_tell_sets_apart_whatever_their_order() {
        assert_eq!(tombstone_digest([3, 1, 2]), tombstone_digest([1, 2, 3]));
        assert_eq!(tombstone_digest([]), 0);
        // Same size, same sum, different sets: what counting rows missed.
        assert_ne!(tombstone_digest([1, 4]), tombstone_digest([2, 3]));
        assert_ne!(tombstone_digest([1, 2]), tombstone_digest([1, 2, 3]));
        let a: Vec<i64> = (0..1000).collect();
        let b: Vec<i64> = (0..1000).filter(|r| *r != 500).chain([1000]).collect();
        assert_ne!(tombstone_digest(a), tombstone_digest(b));
    }
}
