//! The commit gate: while a backup takes its cut, no transaction commits
//! on any node. A backup closes every node's gate (`cluster::backup`),
//! seals, reads the shards and tombstones, and opens them again; a commit
//! that comes meanwhile waits. Without it, an UPDATE committed between the
//! seal and the reading of tombstones would leave the old row tombstoned
//! and the new one in no shard: the row would be in no backup at all.
//!
//! A session's COMMIT passes the gate (`Conn::commit`), and so do the
//! tombstones a peer delivers (`Store::apply_tombstones`): only the COMMIT
//! itself, after the write lock is taken, so a closing gate never waits for
//! a transaction that waits for the lock. What a node does on its own
//! (seals, compaction) goes on; the cut reads, it takes no write lock.

use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

#[derive(Debug, Default)]
pub struct Gate {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Who closed it, and until when at most.
    closed: Option<(u64, Instant)>,
    /// Commits under way.
    committing: usize,
}

impl State {
    /// Closed, and not past its lease.
    fn is_closed(&mut self) -> bool {
        match self.closed {
            Some((_, until)) if Instant::now() >= until => {
                tracing::warn!("a backup left the commit gate closed past its lease; opening it");
                self.closed = None;
                false
            }
            closed => closed.is_some(),
        }
    }
}

impl Gate {
    /// Run `commit` once the gate is open, counted as under way until it
    /// returns.
    pub fn commit<T>(&self, commit: impl FnOnce() -> T) -> T {
        let mut s = self.state.lock();
        while s.is_closed() {
            let until = s.closed.map(|(_, until)| until);
            match until {
                Some(until) => {
                    self.changed.wait_until(&mut s, until);
                }
                None => break,
            }
        }
        s.committing += 1;
        drop(s);
        let r = commit();
        self.state.lock().committing -= 1;
        self.changed.notify_all();
        r
    }

    /// Close the gate for `token` for at most `lease`, once the commits
    /// under way have ended; false (and left open) when they have not
    /// within `wait`, or another holds it.
    pub fn close(&self, token: u64, wait: Duration, lease: Duration) -> bool {
        let deadline = Instant::now() + wait;
        let mut s = self.state.lock();
        while s.is_closed() && s.closed.is_some_and(|(t, _)| t != token) {
            if self.changed.wait_until(&mut s, deadline).timed_out() {
                return false;
            }
        }
        s.closed = Some((token, Instant::now() + lease));
        while s.committing > 0 {
            if self.changed.wait_until(&mut s, deadline).timed_out() {
                s.closed = None;
                self.changed.notify_all();
                return false;
            }
        }
        true
    }

    /// Open the gate `token` closed (if it still holds it).
    pub fn open(&self, token: u64) {
        let mut s = self.state.lock();
        if s.closed.is_some_and(|(t, _)| t == token) {
            s.closed = None;
            self.changed.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn a_commit_waits_while_the_gate_is_closed() {
        let gate = Arc::new(Gate::default());
        let long = Duration::from_secs(30);
        assert!(gate.close(1, long, long));
        assert!(!gate.close(2, Duration::from_millis(20), long), "held by 1");
        let done = Arc::new(AtomicBool::new(false));
        let (g, d) = (gate.clone(), done.clone());
        let committer = std::thread::spawn(move || g.commit(|| d.store(true, Ordering::SeqCst)));
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            !done.load(Ordering::SeqCst),
            "committed through a closed gate"
        );
        gate.open(1);
        committer.join().unwrap();
        assert!(done.load(Ordering::SeqCst));
    }

    #[test]
    fn a_lease_ends_and_closing_waits_for_commits_under_way() {
        let gate = Arc::new(Gate::default());
        assert!(gate.close(1, Duration::from_secs(1), Duration::from_millis(30)));
        // Past the lease, a commit goes through.
        gate.commit(|| ());
        let g = gate.clone();
        let slow =
            std::thread::spawn(move || g.commit(|| std::thread::sleep(Duration::from_millis(200))));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!gate.close(2, Duration::from_millis(20), Duration::from_secs(5)));
        assert!(gate.close(3, Duration::from_secs(5), Duration::from_secs(5)));
        slow.join().unwrap();
    }
}
