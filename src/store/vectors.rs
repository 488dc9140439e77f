//! The vectors of sealed shards, kept in memory for nearest-neighbour
//! top-k (`plan::nearest`), within `--vector-cache-bytes`.
//!
//! A shard never changes, so its vectors, read once, serve every later
//! query. For `ORDER BY v <-> q LIMIT k` (or `<=>`, `<#>`, `<+>`) the
//! fragment computes `q`'s distance to each of them
//! (`types::vector::distances_lanes`: the same bits as the operator
//! itself, several vectors at a time) and lists the rows proven nearest:
//! when `T` is the `n`-th smallest distance, every row nearer than `T`
//! comes before every row not listed. Unlike the shard's vec0 index, whose
//! sums may differ from `<->`'s in the last bits, these distances are
//! exact, so no margin is needed.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::store::conn::Conn;
use crate::store::lru::Lru;
use crate::store::shard::ShardId;
use crate::types::vector::{distances_lanes, Metric, LANES};
use crate::types::{quote, shard::attach_name};

/// One vector column of one shard: the rows that have a vector, and their
/// vectors in blocks of [`LANES`] (element by element; the last block
/// padded with zeros).
pub struct ShardVectors {
    rids: Vec<i64>,
    blocks: Vec<f32>,
}

/// The node's kept shard vectors, by shard and column.
pub struct Vectors(Lru<(ShardId, String), ShardVectors>);

impl Vectors {
    /// Vectors of at most `budget` bytes kept in all (0: none).
    pub fn new(budget: u64) -> Vectors {
        Vectors(Lru::new(budget, budget))
    }

    /// The vectors of column `column` of shard `id` (attached to `conn`),
    /// of `dims` elements each, kept or read now and kept. `None` when
    /// they would not be kept: `rows` of them would pass the budget, or
    /// a vector has other dimensions.
    pub fn of(
        &self,
        conn: &Conn,
        id: &ShardId,
        column: &str,
        dims: usize,
        rows: u64,
    ) -> Result<Option<Arc<ShardVectors>>> {
        let key = (id.clone(), column.to_string());
        if let Some(kept) = self.0.get(&key) {
            return Ok(Some(kept));
        }
        let bytes = |rows: u64| rows.div_ceil(LANES as u64) * (LANES * dims * 4 + LANES * 8) as u64;
        if dims == 0 || !self.0.would_keep(bytes(rows)) {
            return Ok(None);
        }
        let Some(read) = read(conn, id, column, dims)? else {
            return Ok(None);
        };
        let read = Arc::new(read);
        self.0.put(key, read.clone(), bytes(read.rids.len() as u64));
        Ok(Some(read))
    }
}

/// Read the shard's vectors of `column`; `None` when one has other
/// dimensions than `dims`.
fn read(conn: &Conn, id: &ShardId, column: &str, dims: usize) -> Result<Option<ShardVectors>> {
    let col = quote(column);
    let sql = format!(
        "SELECT _rid, {col} FROM {}.data WHERE {col} IS NOT NULL ORDER BY _rid",
        quote(&attach_name(id))
    );
    let db = conn.db();
    let mut st = db.prepare(&sql)?;
    let mut rows = st.query([])?;
    let (mut rids, mut blocks) = (Vec::new(), Vec::new());
    let mut block = vec![0.0f32; dims * LANES];
    while let Some(row) = rows.next()? {
        let rusqlite::types::ValueRef::Blob(b) = row.get_ref(1)? else {
            return Err(Error::DataCorrupted(format!(
                "shard {id}: a stored vector that is not a BLOB"
            )));
        };
        if b.len() != dims * 4 {
            return Ok(None);
        }
        let lane = rids.len() % LANES;
        for (i, x) in b.chunks_exact(4).enumerate() {
            block[i * LANES + lane] = f32::from_le_bytes([x[0], x[1], x[2], x[3]]);
        }
        rids.push(row.get::<_, i64>(0)?);
        if lane == LANES - 1 {
            blocks.extend_from_slice(&block);
        }
    }
    if !rids.len().is_multiple_of(LANES) {
        let filled = rids.len() % LANES;
        for i in 0..dims {
            block[i * LANES + filled..(i + 1) * LANES].fill(0.0);
        }
        blocks.extend_from_slice(&block);
    }
    Ok(Some(ShardVectors { rids, blocks }))
}

impl ShardVectors {
    /// Each row's distance `m` to `q`, in row order.
    pub fn distances(&self, m: Metric, q: &[f32]) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.blocks.len() / q.len().max(1));
        distances_lanes(m, &self.blocks, q, &mut out);
        out.truncate(self.rids.len());
        out
    }

    /// The rows proven among the first `n` by `distances` (this shard's
    /// `distances(q)`): nearer than the `n`-th nearest, or every row when
    /// there are no more than `n`. Rows tied at the `n`-th distance are
    /// left out, since rows beyond the first `n` may tie with them, and so
    /// are NaNs (a cosine distance of a zero vector), which sort last.
    pub fn proven(&self, distances: &[f64], n: usize) -> Vec<i64> {
        if self.rids.len() <= n {
            return self.rids.clone();
        }
        let Some(last) = n.checked_sub(1) else {
            return vec![];
        };
        let mut sorted = distances.to_vec();
        let (_, nth, _) = sorted.select_nth_unstable_by(last, f64::total_cmp);
        let bound = *nth;
        self.rids
            .iter()
            .zip(distances)
            .filter(|(_, d)| **d < bound)
            .map(|(rid, _)| *rid)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(vectors: &[[f32; 2]]) -> ShardVectors {
        let mut blocks = vec![];
        for chunk in vectors.chunks(LANES) {
            for i in 0..2 {
                blocks.extend((0..LANES).map(|l| chunk.get(l).map_or(0.0, |v| v[i])));
            }
        }
        ShardVectors {
            rids: (1..=vectors.len() as i64).collect(),
            blocks,
        }
    }

    #[test]
    fn rows_tied_at_the_nth_distance_are_not_proven() {
        // Eleven rows at distances 0, 1, 2, 2, 2, 3, …
        let mut v = vec![[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 2.0], [-2.0, 0.0]];
        v.extend((3..9).map(|i| [i as f32, 0.0]));
        let s = shard(&v);
        let d = s.distances(Metric::L1, &[0.0, 0.0]);
        assert_eq!(d.len(), 11);
        assert_eq!(&d[..6], &[0.0, 1.0, 2.0, 2.0, 2.0, 3.0]);
        assert_eq!(s.proven(&d, 2), vec![1]);
        assert_eq!(s.proven(&d, 3), vec![1, 2]);
        assert_eq!(s.proven(&d, 5), vec![1, 2]);
        assert_eq!(s.proven(&d, 6), vec![1, 2, 3, 4, 5]);
        // No more rows than asked for: all of them.
        assert_eq!(s.proven(&d, 11), (1..=11).collect::<Vec<_>>());
    }
}
