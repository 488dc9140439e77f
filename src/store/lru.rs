//! A byte-bounded cache, the least recently used entry dropped first:
//! what the node keeps in memory of its sealed shards (query results,
//! `store::results`; vectors, `store::vectors`). Entries are immutable
//! values under keys that name everything they depend on (a shard id is
//! the SHA-256 of its content), so nothing is ever invalidated: entries
//! only age out.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::Arc;

use parking_lot::Mutex;

pub struct Lru<K, V> {
    budget: u64,
    /// The largest entry kept; a larger one would push out many others.
    largest: u64,
    inner: Mutex<Inner<K, V>>,
}

struct Inner<K, V> {
    entries: HashMap<K, Entry<V>>,
    /// Keys by their last use, oldest first.
    order: BTreeMap<u64, K>,
    tick: u64,
    bytes: u64,
}

struct Entry<V> {
    value: Arc<V>,
    bytes: u64,
    tick: u64,
}

impl<K: Hash + Eq + Clone, V> Lru<K, V> {
    /// Entries of at most `budget` bytes in all (0: none kept), each of
    /// at most `largest`.
    pub fn new(budget: u64, largest: u64) -> Self {
        Lru {
            budget,
            largest: largest.min(budget),
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                order: BTreeMap::new(),
                tick: 0,
                bytes: 0,
            }),
        }
    }

    /// Whether an entry of `bytes` would be kept.
    pub fn would_keep(&self, bytes: u64) -> bool {
        bytes <= self.largest && self.budget > 0
    }

    /// The value kept under `key`, if any; it becomes the most recently
    /// used.
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        let mut inner = self.inner.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let entry = inner.entries.get_mut(key)?;
        let old = std::mem::replace(&mut entry.tick, tick);
        let value = entry.value.clone();
        inner.order.remove(&old);
        inner.order.insert(tick, key.clone());
        Some(value)
    }

    /// Keep `value` (about `bytes` in memory) under `key`, unless it is
    /// larger than the largest entry kept; older entries go to make room.
    pub fn put(&self, key: K, value: Arc<V>, bytes: u64) {
        if !self.would_keep(bytes) {
            return;
        }
        let mut inner = self.inner.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let entry = Entry { value, bytes, tick };
        if let Some(old) = inner.entries.insert(key.clone(), entry) {
            inner.order.remove(&old.tick);
            inner.bytes -= old.bytes;
        }
        inner.order.insert(tick, key);
        inner.bytes += bytes;
        while inner.bytes > self.budget {
            let Some((_, oldest)) = inner.order.pop_first() else {
                break;
            };
            if let Some(e) = inner.entries.remove(&oldest) {
                inner.bytes -= e.bytes;
            }
        }
    }

    /// Bytes kept now, and how many entries.
    #[cfg(test)]
    pub fn usage(&self) -> (u64, usize) {
        let inner = self.inner.lock();
        (inner.bytes, inner.entries.len())
    }
}
