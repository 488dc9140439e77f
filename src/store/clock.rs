//! The node's hybrid logical clock and its sequences (serial columns).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

/// A hybrid logical clock: milliseconds since the epoch in the high bits,
/// a counter in the low 16, never going backwards on this node.
#[derive(Debug, Default)]
pub struct Hlc {
    last: AtomicI64,
}

impl Hlc {
    pub fn now(&self) -> i64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
            << 16;
        let mut prev = self.last.load(Ordering::Relaxed);
        loop {
            let next = if wall > prev { wall } else { prev + 1 };
            match self
                .last
                .compare_exchange_weak(prev, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(p) => prev = p,
            }
        }
    }

    /// Move the clock past a time seen from another node, so that this
    /// node's next change orders after it.
    pub fn observe(&self, remote: i64) {
        self.last.fetch_max(remote, Ordering::Relaxed);
    }
}

/// Sequences behind serial columns. Like PostgreSQL's, they are not
/// transactional: a rolled-back insert leaves a gap. After a restart each
/// resumes above the largest value stored in its column.
///
/// In a cluster every node draws from its own residue class: values are
/// `slot` modulo `CLUSTER_STRIDE`, so no two nodes ever hand out the same
/// value and no node waits for another. A lone node counts 1, 2, 3.
#[derive(Debug)]
pub struct Sequences {
    values: Mutex<HashMap<String, i64>>,
    /// 1 on a lone node; `CLUSTER_STRIDE` in a cluster.
    stride: AtomicI64,
    slot: AtomicI64,
}

/// How many nodes can draw sequence values side by side.
pub const CLUSTER_STRIDE: i64 = 1024;

impl Default for Sequences {
    fn default() -> Self {
        Sequences {
            values: Mutex::new(HashMap::new()),
            stride: AtomicI64::new(1),
            slot: AtomicI64::new(0),
        }
    }
}

impl Sequences {
    pub fn next(&self, name: &str) -> i64 {
        let stride = self.stride.load(Ordering::Relaxed);
        let slot = self.slot.load(Ordering::Relaxed);
        let mut v = self.values.lock();
        let e = v.entry(name.to_string()).or_insert(0);
        let mut next = *e + 1;
        if stride > 1 {
            next += (slot - next).rem_euclid(stride);
        }
        *e = next;
        next
    }

    /// Draw from residue class `slot` from now on.
    pub fn set_slot(&self, slot: i64) {
        self.slot
            .store(slot.rem_euclid(CLUSTER_STRIDE), Ordering::Relaxed);
        self.stride.store(CLUSTER_STRIDE, Ordering::Relaxed);
    }

    /// The residue class this node draws from, in a cluster.
    pub fn slot(&self) -> Option<i64> {
        (self.stride.load(Ordering::Relaxed) > 1).then(|| self.slot.load(Ordering::Relaxed))
    }

    /// Start over at 1 (the sequence of a table created anew); returns
    /// the value it had, to give back with `advance_to` on rollback.
    pub fn reset(&self, name: &str) -> i64 {
        self.values.lock().insert(name.to_string(), 0).unwrap_or(0)
    }

    /// Make sure the next value is above `value`.
    pub fn advance_to(&self, name: &str, value: i64) {
        let mut v = self.values.lock();
        let e = v.entry(name.to_string()).or_insert(0);
        *e = (*e).max(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_slot_keeps_values_apart() {
        let (a, b) = (Sequences::default(), Sequences::default());
        assert_eq!((a.next("s"), a.next("s")), (1, 2));
        a.set_slot(1);
        b.set_slot(2);
        b.advance_to("s", 2);
        let va: Vec<i64> = (0..3).map(|_| a.next("s")).collect();
        let vb: Vec<i64> = (0..3).map(|_| b.next("s")).collect();
        assert_eq!(va, vec![1025, 2049, 3073]);
        assert_eq!(vb, vec![1026, 2050, 3074]);
    }
}
