//! The node's hybrid logical clock.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A hybrid logical clock: milliseconds since the epoch in the high bits,
/// a counter in the low 16, never going backwards on this node. Every
/// request between nodes and every response carries a reading
/// (`cluster::rpc::Clock`), and the receiver's clock moves past it: what a
/// node wrote before it spoke with another orders before what the other
/// writes after, whatever their wall clocks say.
#[derive(Debug, Default)]
pub struct Hlc {
    last: AtomicI64,
    /// Milliseconds added to the wall clock: a node whose clock is off,
    /// for tests of clock skew (`MOSAIC_CLOCK_SKEW_MS`).
    skew_ms: i64,
}

impl Hlc {
    /// A clock reading the wall clock `skew_ms` milliseconds off.
    pub fn skewed(skew_ms: i64) -> Hlc {
        Hlc {
            skew_ms,
            ..Hlc::default()
        }
    }

    pub fn now(&self) -> i64 {
        let wall = (SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
            + self.skew_ms)
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
