//! Sealing several full shards off one open segment in one write
//! transaction: the rows are read once, the shard files built in
//! parallel (each built whole: canonical order, id, statistics, indexes),
//! then named in the manifest and deleted from the segment together. A
//! large COPY leaves many full shards at once; each used to be read,
//! put in canonical order and hashed twice (once to build its file ahead,
//! once more to find that file under the seal's own lock).

use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::Connection;

use super::{finish, install, live_shards, name_shard, oldest_rows, quote, rows_between};
use crate::error::{Error, Result};
use crate::store::shard::{self, Row, ShardId, ShardMeta};
use crate::types::table::TableDef;

/// Seal up to two full shards per worker (`max_rows` rows each, oldest
/// first; two per worker bounds the rows held in memory) of `def`'s open
/// segment, building them on `workers` threads; each sealed shard with the
/// last row key it took.
/// Nothing is sealed when the segment holds fewer than `max_rows` rows.
/// Runs in its own write transaction on `conn` (the caller holds the
/// writer): a failure leaves the segment and the manifest as they were.
pub fn seal_full_shards(
    conn: &Connection,
    def: &TableDef,
    shards_dir: &Path,
    origin: &str,
    max_rows: u64,
    workers: usize,
    meta_of: impl Fn(&ShardId) -> Result<Arc<ShardMeta>>,
) -> Result<Vec<(ShardMeta, i64)>> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(Error::from)?;
    let r = (|| -> Result<Vec<(ShardMeta, i64)>> {
        let most = 2 * workers.max(1) as u64;
        let (rows, keys) = oldest_rows(conn, def, max_rows.saturating_mul(most))?;
        let size = usize::try_from(max_rows).unwrap_or(usize::MAX).max(1);
        let full = rows.len() / size;
        if full == 0 {
            return Ok(vec![]);
        }
        // Each chunk with the key of its last row.
        let mut chunks: Vec<(usize, i64, Vec<Row>)> = Vec::with_capacity(full);
        let mut rows = rows.into_iter();
        for k in 0..full {
            let chunk: Vec<Row> = rows.by_ref().take(size).collect();
            chunks.push((k, keys[(k + 1) * size - 1], chunk));
        }
        drop(rows);
        let built = build_all(shards_dir, origin, def, chunks, workers)?;
        let live: std::collections::HashSet<ShardId> = live_shards(conn, Some(&def.name))?
            .into_iter()
            .map(|s| s.id)
            .collect();
        let mut sealed = Vec::with_capacity(built.len());
        let mut first_key = keys[0];
        for (meta, last_key) in built {
            let meta = if live.contains(&meta.id) {
                // The rare content collision with a live shard: sealed the
                // careful way, which folds that shard's rows in.
                let rows = rows_between(conn, def, first_key, last_key)?;
                install(conn, def, shards_dir, origin, rows, &meta_of)?
            } else {
                name_shard(conn, def, &meta.id)?;
                meta
            };
            first_key = last_key + 1;
            sealed.push((meta, last_key));
        }
        if let Some((_, last)) = sealed.last() {
            conn.execute_batch(&format!(
                "DELETE FROM {} WHERE _key <= {last}",
                quote(&def.name)
            ))
            .map_err(Error::from)?;
        }
        Ok(sealed)
    })();
    finish(conn, r).inspect(|sealed| {
        metrics::counter!(crate::observe::SEALS).increment(sealed.len() as u64);
    })
}

/// Build each chunk's shard file, on up to `workers` threads; the
/// metadata in the chunks' order, each with its last key.
fn build_all(
    shards_dir: &Path,
    origin: &str,
    def: &TableDef,
    chunks: Vec<(usize, i64, Vec<Row>)>,
    workers: usize,
) -> Result<Vec<(ShardMeta, i64)>> {
    let n = chunks.len();
    let workers = workers.clamp(1, n.max(1));
    let queue = Mutex::new(chunks);
    type Built = (usize, Result<(ShardMeta, i64)>);
    let done: Mutex<Vec<Built>> = Mutex::new(Vec::with_capacity(n));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let Some((k, last, rows)) = queue.lock().pop() else {
                    break;
                };
                let meta = shard::write_shard(shards_dir, origin, def, rows);
                done.lock().push((k, meta.map(|m| (m, last))));
            });
        }
    });
    let mut done = done.into_inner();
    done.sort_by_key(|(k, _)| *k);
    done.into_iter().map(|(_, m)| m).collect()
}
