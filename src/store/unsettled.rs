//! Whether this node may hold records of keys written during a split
//! (`exec::settle`): statements look for records waiting on live nodes
//! only then, and pay one atomic load otherwise.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub struct Hint {
    may: AtomicBool,
    /// Writes that recorded keys, and their count at settling's last look.
    recorded: AtomicU64,
    seen: AtomicU64,
}

impl Default for Hint {
    /// A node that starts may have records from before.
    fn default() -> Hint {
        Hint {
            may: AtomicBool::new(true),
            recorded: AtomicU64::new(0),
            seen: AtomicU64::new(0),
        }
    }
}

impl Hint {
    pub fn may_exist(&self) -> bool {
        self.may.load(Ordering::Acquire)
    }

    /// A write recorded keys (its transaction may commit later).
    pub fn recorded(&self) {
        self.recorded.fetch_add(1, Ordering::AcqRel);
        self.may.store(true, Ordering::Release);
    }

    /// Settling looked and found `any` records. None found clears the
    /// hint, unless a write recorded keys since the look before (it may not
    /// have committed yet).
    pub fn looked(&self, any: bool) {
        let now = self.recorded.load(Ordering::Acquire);
        let before = self.seen.swap(now, Ordering::AcqRel);
        if !any && before == now {
            self.may.store(false, Ordering::Release);
        }
    }
}
