//! The node's hybrid logical clock.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

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
