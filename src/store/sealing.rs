//! Sealing a table's full open segment into shards after a write, and
//! compacting shards that lost half their rows to tombstones: what a
//! commit asks of the store for the tables it wrote.

use std::sync::Arc;

use crate::error::Result;
use crate::store::shard::ShardId;
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
    /// least `shard_max_rows` rows: several at a time after a big COPY
    /// (built in parallel, two per core at a time), in one write
    /// transaction each time.
    pub fn seal_full(&self, table: &str) -> Result<()> {
        use std::sync::atomic::Ordering;
        let max = self.options.shard_max_rows;
        loop {
            let writer = self.writer.lock();
            // Every commit asks, and nearly every answer is no: that
            // answer costs two index seeks and nothing more.
            if !segment::holds_at_least(&writer, table, max)? {
                return Ok(());
            }
            let Some(def) = self.catalog.table(table) else {
                return Ok(());
            };
            // Asked only now: it reads the cgroup's CPU limit from files.
            let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
            let _recorded = self.seal_lock.lock();
            self.sealing.store(true, Ordering::SeqCst);
            let sealed = segment::seal_full_shards(
                &writer,
                &def,
                &self.shards_dir,
                &self.node_name,
                max,
                workers,
                |id| self.meta(id),
            );
            self.sealing.store(false, Ordering::SeqCst);
            let sealed = sealed?;
            if sealed.is_empty() {
                return Ok(());
            }
            for (meta, last_key) in sealed {
                self.sealed(&def.name, meta, last_key);
            }
        }
    }
}
