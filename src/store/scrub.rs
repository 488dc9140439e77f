//! Shards that stay sound: a shard file whose content no longer matches
//! its id (a damaged disk, a stray write) is never read. This process
//! verifies each shard the first time it attaches it (one it sealed or
//! compacted itself counts as verified), and the scrub
//! (`cluster::scrub`) verifies every shard again now and then; a shard
//! that fails is marked damaged, and attaching it fails with XX001 until a
//! healthy copy from another holder replaces its file (`repair_shard`).

use std::collections::HashSet;
use std::path::Path;

use parking_lot::Mutex;

use super::{shard, Store};
use crate::error::{Error, Result};
use crate::types::shard::ShardId;

/// Which shard files this process verified, and which are damaged.
#[derive(Debug, Default)]
pub struct Soundness {
    verified: Mutex<HashSet<ShardId>>,
    damaged: Mutex<HashSet<ShardId>>,
}

fn damaged(id: &ShardId) -> Error {
    Error::DataCorrupted(format!(
        "shard {id} is damaged: its file no longer holds the content its id names; \
         it is not read until a healthy copy from another node replaces it"
    ))
}

impl Soundness {
    /// Before shard `id` (its file at `path`) is read: verified once by
    /// this process, or damaged (XX001).
    pub(super) fn check(&self, path: &Path, id: &ShardId) -> Result<()> {
        if self.damaged.lock().contains(id) {
            return Err(damaged(id));
        }
        if self.verified.lock().contains(id) {
            return Ok(());
        }
        self.verify(path, id)?;
        match self.damaged.lock().contains(id) {
            true => Err(damaged(id)),
            false => Ok(()),
        }
    }

    /// This process just wrote shard `id`'s file (a seal, a compaction):
    /// it holds what its id names.
    pub(super) fn written(&self, id: &ShardId) {
        self.verified.lock().insert(id.clone());
    }

    /// Verify the file now; a file that fails is marked damaged. Whether
    /// it is sound.
    fn verify(&self, path: &Path, id: &ShardId) -> Result<bool> {
        let sound = shard::verify(path, id)?;
        if sound {
            self.verified.lock().insert(id.clone());
        } else {
            self.verified.lock().remove(id);
            if self.damaged.lock().insert(id.clone()) {
                tracing::error!(shard = %id, path = %path.display(), "shard file is damaged; it will not be read");
            }
        }
        Ok(sound)
    }
}

impl Store {
    /// Verify shard `id`'s file again (the scrub). Whether it is sound.
    pub fn scrub_shard(&self, id: &ShardId) -> Result<bool> {
        self.soundness.verify(&self.shard_path(id), id)
    }

    /// The shards found damaged and not repaired yet.
    pub fn damaged_shards(&self) -> Vec<ShardId> {
        self.soundness.damaged.lock().iter().cloned().collect()
    }

    /// Replace damaged shard `id`'s file with `fetched`, a copy another
    /// holder sent, once it verifies; `fetched` is gone afterwards.
    pub fn repair_shard(&self, fetched: &Path, id: &ShardId) -> Result<()> {
        let sound = shard::verify(fetched, id);
        if !matches!(sound, Ok(true)) {
            let _ = std::fs::remove_file(fetched);
            return Err(Error::Internal(format!(
                "the copy of shard {id} does not hold the content its id names"
            )));
        }
        std::fs::rename(fetched, self.shard_path(id))?;
        std::fs::File::open(&self.shards_dir)?.sync_all()?;
        self.soundness.damaged.lock().remove(id);
        self.soundness.verified.lock().insert(id.clone());
        tracing::info!(shard = %id, "damaged shard replaced by a healthy copy");
        Ok(())
    }
}
