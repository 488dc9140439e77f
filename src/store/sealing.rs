//! Sealing a table's full open segment into shards after a write, and
//! compacting shards that lost half their rows to tombstones: what a
//! commit asks of the store for the tables it wrote.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::error::Result;
use crate::store::shard::{self, ShardId};
use crate::store::{segment, Store};

impl Store {
    /// Compact the shards of `table` that have lost at least half their rows
    /// to tombstones.
    pub fn compact(&self, table: &str) -> Result<()> {
        let Some(def) = self.catalog.table(table) else {
            return Ok(());
        };
        let candidates: Vec<ShardId> = {
            let writer = self.writer.lock();
            segment::live_shards(&writer, Some(table))?
                .into_iter()
                .filter(|s| s.tombstones > 0 && s.home.is_none())
                .filter(|s| {
                    self.meta(&s.id)
                        .map(|m| m.half_tombstoned(s.tombstones as u64))
                        .unwrap_or(false)
                })
                .map(|s| s.id)
                .collect()
        };
        for id in candidates {
            let writer = self.writer.lock();
            let new =
                segment::compact(&writer, &def, &self.shards_dir, &self.node_name, &id, |i| {
                    self.meta(i)
                })?;
            drop(writer);
            if let Some(meta) = new {
                let meta = Arc::new(meta);
                self.metas.write().insert(meta.id.clone(), meta.clone());
                self.soundness.written(&self.shard_path(&meta.id), &meta.id);
                tracing::debug!(table, old = %id, new = %meta.id, "compacted");
            }
        }
        Ok(())
    }

    /// Seal full shards off `table`'s open segment while it holds at
    /// least `shard_max_rows` rows.
    pub fn seal_full(&self, table: &str) -> Result<()> {
        let max = self.options.shard_max_rows;
        let full = || segment::holds_at_least(&self.writer.lock(), table, max);
        // Every commit asks, and nearly every answer is no: that answer
        // costs two index seeks and nothing more.
        if !full()? {
            return Ok(());
        }
        loop {
            let batch = self.prebuild(table)?.max(1);
            for _ in 0..batch {
                if !full()? || self.seal_one(table)?.is_none() {
                    return Ok(());
                }
            }
        }
    }

    /// When several full shards are waiting to be sealed (after a big COPY),
    /// build their files in parallel first; each seal then finds its file
    /// already written (shard files are named by content) and only commits.
    /// A prebuilt file whose rows changed in the meantime is simply not
    /// used, and removed at the next start.
    /// Returns how many shards it built (at most two per core at a time,
    /// to bound memory).
    fn prebuild(&self, table: &str) -> Result<u64> {
        let max = self.options.shard_max_rows;
        let (rows, full, def, workers) = {
            let writer = self.writer.lock();
            if !segment::holds_at_least(&writer, table, 2 * max)? {
                return Ok(0);
            }
            let Some(def) = self.catalog.table(table) else {
                return Ok(0);
            };
            let workers = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1);
            let full = (segment::count_rows(&writer, table)? / max).min(2 * workers as u64);
            if full < 2 {
                return Ok(0);
            }
            (
                segment::oldest_rows(&writer, &def, full * max)?,
                full,
                def,
                workers,
            )
        };
        let chunks: Vec<Vec<shard::Row>> = rows.chunks(max as usize).map(|c| c.to_vec()).collect();
        let queue = Mutex::new(chunks);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let Some(chunk) = queue.lock().pop() else { break };
                    if let Err(e) = shard::write_shard(&self.shards_dir, &self.node_name, &def, chunk)
                    {
                        tracing::warn!(table, error = %e, "building a shard ahead of its seal failed");
                    }
                });
            }
        });
        Ok(full)
    }
}
