//! A back-off on failed logins: after a few failures in a row from one
//! address, each further failure is answered only after a delay that
//! doubles up to a cap (PostgreSQL's `auth_delay`, growing). A successful
//! login from the address starts the count again. The delay holds only the
//! failing connection, never the node.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Failures answered at once before the delays begin.
const FREE: u32 = 5;
const FIRST: Duration = Duration::from_millis(200);
const CAP: Duration = Duration::from_secs(3);
/// A count untouched this long is forgotten.
const FORGET: Duration = Duration::from_secs(600);

#[derive(Default)]
pub struct Backoff {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl Backoff {
    /// Count a failed login from `ip`; how long to wait before answering it.
    pub fn failed(&self, ip: IpAddr) -> Duration {
        let now = Instant::now();
        let mut map = self.failures.lock();
        if map.len() > 10_000 {
            map.retain(|_, (_, at)| now.duration_since(*at) < FORGET);
        }
        let entry = map.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) >= FORGET {
            entry.0 = 0;
        }
        entry.0 += 1;
        entry.1 = now;
        delay(entry.0)
    }

    /// A login from `ip` succeeded.
    pub fn succeeded(&self, ip: IpAddr) {
        self.failures.lock().remove(&ip);
    }
}

/// The delay before answering failure number `n` in a row.
fn delay(n: u32) -> Duration {
    match n.checked_sub(FREE + 1) {
        None => Duration::ZERO,
        Some(k) => FIRST.saturating_mul(1 << k.min(16)).min(CAP),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_a_few_failures_and_double_to_a_cap() {
        assert_eq!(delay(1), Duration::ZERO);
        assert_eq!(delay(FREE), Duration::ZERO);
        assert_eq!(delay(FREE + 1), FIRST);
        assert_eq!(delay(FREE + 2), FIRST * 2);
        assert_eq!(delay(FREE + 40), CAP);
        let b = Backoff::default();
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..FREE {
            assert_eq!(b.failed(ip), Duration::ZERO);
        }
        assert_eq!(b.failed(ip), FIRST);
        b.succeeded(ip);
        assert_eq!(b.failed(ip), Duration::ZERO);
    }
}
