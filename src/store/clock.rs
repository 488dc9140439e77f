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
#[derive(Debug, Default)]
pub struct Sequences {
    values: Mutex<HashMap<String, i64>>,
}

impl Sequences {
    pub fn next(&self, name: &str) -> i64 {
        let mut v = self.values.lock();
        let e = v.entry(name.to_string()).or_insert(0);
        *e += 1;
        *e
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
