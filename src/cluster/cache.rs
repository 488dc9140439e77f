//! The edge cache: copies of shards this node keeps reading from other
//! nodes, beyond the replicas placement asks of it. A table that queries on
//! this node read through its peers `HOT_READS` times within `WINDOW` is
//! hot; `replication::maintain` then copies its shards here while they fit
//! in `--edge-cache-bytes`, and evicts the copies of the tables used least
//! recently when they do not. Copies are read when their home is not
//! reachable, so a node cut off from the others still answers from what it
//! has.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Reads through peers that make a table hot.
const HOT_READS: u32 = 8;
/// The span those reads must fall in.
const WINDOW: Duration = Duration::from_secs(60);

/// How often each table was read through the peers lately.
#[derive(Default)]
pub(super) struct Heat {
    tables: Mutex<HashMap<String, Use>>,
}

struct Use {
    /// Reads since `since`.
    reads: u32,
    since: Instant,
    last: Instant,
}

impl Heat {
    /// A statement read `tables` through the peers.
    pub(super) fn touch(&self, tables: &[String]) {
        let now = Instant::now();
        let mut map = self.tables.lock();
        for t in tables {
            let u = map.entry(t.clone()).or_insert(Use {
                reads: 0,
                since: now,
                last: now,
            });
            if now.duration_since(u.since) > WINDOW {
                u.reads = 0;
                u.since = now;
            }
            u.reads += 1;
            u.last = now;
        }
    }

    /// The tables read at least `HOT_READS` times within the window.
    pub(super) fn hot(&self) -> Vec<String> {
        let now = Instant::now();
        self.tables
            .lock()
            .iter()
            .filter(|(_, u)| u.reads >= HOT_READS && now.duration_since(u.since) <= WINDOW)
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// When `table` was last read through the peers.
    pub(super) fn last_used(&self, table: &str) -> Option<Instant> {
        self.tables.lock().get(table).map(|u| u.last)
    }
}

/// A copy in the cache: its id, size, and when its table was last used.
pub(super) struct Cached {
    pub id: String,
    pub bytes: u64,
    pub last_used: Option<Instant>,
}

/// The copies to evict so that the rest fit in `budget`: the least
/// recently used first (never used counts as oldest).
pub(super) fn evictions(mut copies: Vec<Cached>, budget: u64) -> Vec<String> {
    let mut used: u64 = copies.iter().map(|c| c.bytes).sum();
    copies.sort_by(|a, b| a.last_used.cmp(&b.last_used).then(a.id.cmp(&b.id)));
    let mut out = Vec::new();
    for c in copies {
        if used <= budget {
            break;
        }
        used = used.saturating_sub(c.bytes);
        out.push(c.id);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_go_first_until_the_rest_fit() {
        let now = Instant::now();
        let at = |s: u64| Some(now - Duration::from_secs(s));
        let copies = vec![
            Cached {
                id: "recent".into(),
                bytes: 40,
                last_used: at(1),
            },
            Cached {
                id: "old".into(),
                bytes: 40,
                last_used: at(100),
            },
            Cached {
                id: "never".into(),
                bytes: 40,
                last_used: None,
            },
            Cached {
                id: "middle".into(),
                bytes: 40,
                last_used: at(50),
            },
        ];
        assert_eq!(evictions(copies, 90), vec!["never", "old"]);
        assert!(evictions(vec![], 0).is_empty());
        let one = vec![Cached {
            id: "a".into(),
            bytes: 10,
            last_used: None,
        }];
        assert_eq!(evictions(one, 0), vec!["a"]);
    }

    #[test]
    fn a_table_is_hot_after_enough_reads() {
        let heat = Heat::default();
        let t = vec!["t".to_string()];
        for _ in 0..HOT_READS - 1 {
            heat.touch(&t);
        }
        assert!(heat.hot().is_empty());
        heat.touch(&t);
        assert_eq!(heat.hot(), t);
        assert!(heat.last_used("t").is_some());
        assert!(heat.last_used("u").is_none());
    }
}
