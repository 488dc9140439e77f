//! Shards that stay sound: a shard file whose content no longer matches
//! its id (a damaged disk, a stray write) is not served. This process
//! verifies a shard's file before it first reads it (one it sealed or
//! compacted itself counts as verified), and again before a read whenever
//! the file changed since it was verified (its `Stamp` differs: a stat per
//! read, no hashing); the scrub (`cluster::scrub`) verifies every shard
//! held again on each pass, whatever was verified before, which also finds
//! damage that left the file's stamp alone (a disk's own bit rot). A shard
//! that fails is marked damaged, and reading it fails with XX001 until a
//! healthy copy from another holder replaces its file (`repair_shard`).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::SystemTime;

use parking_lot::Mutex;

use super::{shard, Store};
use crate::error::{Error, Result};
use crate::types::shard::ShardId;

/// What a shard file looked like: its length and modification time, its
/// status-change time and which file (device, inode) the path names. A
/// write through the file system changes the status-change time even when
/// the writer sets the modification time back, and a file replaced by
/// another (a repair) has another inode, so a file whose stamp is the same
/// is the one verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::store) struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    changed: (i64, i64),
    file: (u64, u64),
}

impl Stamp {
    /// The stamp of the file at `path` now.
    pub(in crate::store) fn of(path: &Path) -> Result<Stamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path)?;
        Ok(Stamp {
            len: m.len(),
            modified: m.modified().ok(),
            changed: (m.ctime(), m.ctime_nsec()),
            file: (m.dev(), m.ino()),
        })
    }
}

/// Which shard files this process verified (with the stamp each had when
/// it was), and which are damaged.
#[derive(Debug, Default)]
pub struct Soundness {
    verified: Mutex<HashMap<ShardId, Stamp>>,
    damaged: Mutex<HashSet<ShardId>>,
    /// The shards ever found damaged by this process, repaired since or not.
    ever_damaged: Mutex<HashSet<ShardId>>,
}

/// XX001 for a read of shard `id`.
fn damaged(id: &ShardId) -> Error {
    Error::DataCorrupted(format!(
        "shard {id} is damaged: its file no longer holds the content its id names; \
         it is not read until a healthy copy from another node replaces it"
    ))
}

impl Soundness {
    /// Before shard `id` (its file at `path`) is attached to be read: its
    /// file is the one verified (same stamp), or is verified now, or is
    /// damaged (XX001). The stamp of the file found sound.
    pub(super) fn check(&self, path: &Path, id: &ShardId) -> Result<Stamp> {
        if self.damaged.lock().contains(id) {
            return Err(damaged(id));
        }
        let now = Stamp::of(path)?;
        if self.verified.lock().get(id) == Some(&now) {
            return Ok(now);
        }
        let sound = self.verify(path, id)?;
        match sound {
            Some(stamp) if !self.damaged.lock().contains(id) => Ok(stamp),
            _ => Err(damaged(id)),
        }
    }

    /// Whether shard `id`, attached by an earlier statement when its file
    /// had stamp `attached`, may be read again through that attachment:
    /// XX001 once it was found damaged meanwhile, `false` when its file
    /// changed since (it must be checked and attached afresh).
    /// A file this process itself put in the old one's place by a rename
    /// (`Store::index_shards` rebuilding it with new indexes) leaves the
    /// attachment reading the old file, which it checked and nothing has
    /// written since: that one may still be read, unless the shard was
    /// ever found damaged (a repair renames a healthy copy over a damaged
    /// file, which the attachment would go on reading).
    pub(super) fn unchanged(&self, path: &Path, id: &ShardId, attached: &Stamp) -> Result<bool> {
        if self.damaged.lock().contains(id) {
            return Err(damaged(id));
        }
        let Ok(now) = Stamp::of(path) else {
            return Ok(false);
        };
        if now == *attached {
            return Ok(true);
        }
        let renamed_over = now.file != attached.file && self.verified.lock().get(id) == Some(&now);
        Ok(renamed_over && !self.ever_damaged.lock().contains(id))
    }

    /// Whether shard `id`'s file at `path` is the one this process last
    /// verified (or wrote).
    pub(super) fn verified_now(&self, path: &Path, id: &ShardId) -> bool {
        Stamp::of(path).is_ok_and(|now| self.verified.lock().get(id) == Some(&now))
    }

    /// This process just wrote shard `id`'s file at `path` (a seal, a
    /// compaction, a restore): it holds what its id names.
    pub(super) fn written(&self, path: &Path, id: &ShardId) {
        match Stamp::of(path) {
            Ok(stamp) => {
                self.verified.lock().insert(id.clone(), stamp);
            }
            Err(_) => {
                self.verified.lock().remove(id);
            }
        }
    }

    /// Verify the file now; a file that fails is marked damaged. The
    /// stamp it had before it was read when it is sound: a file written
    /// while it was being verified then differs from that stamp, and is
    /// verified again before it is read.
    fn verify(&self, path: &Path, id: &ShardId) -> Result<Option<Stamp>> {
        let before = Stamp::of(path)?;
        if shard::verify(path, id)? {
            self.verified.lock().insert(id.clone(), before.clone());
            return Ok(Some(before));
        }
        self.verified.lock().remove(id);
        self.ever_damaged.lock().insert(id.clone());
        if self.damaged.lock().insert(id.clone()) {
            tracing::error!(shard = %id, path = %path.display(), "shard file is damaged; it will not be read");
        }
        Ok(None)
    }
}

impl Store {
    /// Verify shard `id`'s file again, however recently it was verified
    /// (the scrub). Whether it is sound.
    pub fn scrub_shard(&self, id: &ShardId) -> Result<bool> {
        Ok(self.soundness.verify(&self.shard_path(id), id)?.is_some())
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
        let path = self.shard_path(id);
        std::fs::rename(fetched, &path)?;
        std::fs::File::open(&self.shards_dir)?.sync_all()?;
        self.soundness.written(&path, id);
        self.soundness.damaged.lock().remove(id);
        tracing::info!(shard = %id, "damaged shard replaced by a healthy copy");
        Ok(())
    }
}
