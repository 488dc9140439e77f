//! Rows of queries over sealed shards, kept for the next statement that
//! asks the same (`--result-cache-bytes`, `SET mosaic.result_cache`).
//!
//! A sealed shard never changes: its id is the SHA-256 of its content. So
//! what a query returns over it is a function of the shard, the tombstones
//! the statement sees in it, the SQLite SQL, its parameters and the
//! session's context (the caller's bytes: catalog version, settings) —
//! provided the query reads nothing else. Two things can read something
//! else: MosaicDB's functions whose value is not given by their arguments
//! (the clock, the session's user, random numbers; each marks its call
//! with [`reads_outside`] on the thread that makes it), and SQLite's own
//! (`random()`, `date('now')` and their kin: [`calls_sqlite_volatile`]).
//! A result that either touched is not kept.

use std::cell::Cell;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::store::lru::Lru;
use crate::store::shard::ShardId;
use crate::types::Datum;

/// What a kept result is found by: SHA-256 of everything it depends on.
pub type Key = [u8; 32];

/// The rows of one query over one shard.
pub type Rows = Vec<Vec<Datum>>;

/// The key of the rows `sql` returns over shard `id` with `tombstones`
/// hidden, given `params` and the session's `context`.
pub fn key(id: &ShardId, tombstones: &[i64], sql: &str, params: &[Datum], context: &[u8]) -> Key {
    let mut h = Sha256::new();
    let mut part = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    part(id.0.as_bytes());
    part(
        &tombstones
            .iter()
            .flat_map(|t| t.to_le_bytes())
            .collect::<Vec<u8>>(),
    );
    part(sql.as_bytes());
    for p in params {
        match p {
            Datum::Null => part(b"n"),
            Datum::Int(i) => part(&[b"i".as_slice(), &i.to_le_bytes()].concat()),
            Datum::Real(f) => part(&[b"r".as_slice(), &f.to_bits().to_le_bytes()].concat()),
            Datum::Text(s) => part(&[b"t".as_slice(), s.as_bytes()].concat()),
            Datum::Blob(b) => part(&[b"b".as_slice(), b].concat()),
        }
    }
    part(context);
    h.finalize().into()
}

thread_local! {
    static OUTSIDE: Cell<bool> = const { Cell::new(false) };
}

/// A function that reads more than its arguments ran on this thread: the
/// result of the query calling it may not be kept.
pub(crate) fn reads_outside() {
    OUTSIDE.with(|o| o.set(true));
}

/// Whether [`reads_outside`] was called on this thread since the last
/// call of this function.
pub fn take_outside() -> bool {
    OUTSIDE.with(|o| o.replace(false))
}

/// Whether SQLite SQL `sql` calls one of SQLite's own functions whose
/// value is not given by its arguments (or names the current date or
/// time). MosaicDB's rewrite calls its own functions instead; this guards
/// what it might pass through. Words inside string literals and quoted
/// identifiers are skipped.
pub fn calls_sqlite_volatile(sql: &str) -> bool {
    const CALLS: [&str; 10] = [
        "random",
        "randomblob",
        "changes",
        "total_changes",
        "last_insert_rowid",
        "date",
        "time",
        "datetime",
        "julianday",
        "unixepoch",
    ];
    const MORE: [&str; 2] = ["strftime", "timediff"];
    const WORDS: [&str; 3] = ["current_date", "current_time", "current_timestamp"];
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        // A word: a name, or a quoted identifier (SQLite calls `"date"(x)`
        // as it calls `date(x)`); a string literal is skipped.
        let word = if c == b'\'' || c == b'"' {
            // To the closing quote; a doubled quote stays inside.
            let start = i + 1;
            i += 1;
            while i < bytes.len() {
                if bytes[i] == c && bytes.get(i + 1) != Some(&c) {
                    break;
                }
                i += if bytes[i] == c { 2 } else { 1 };
            }
            let inside = &sql[start..i.min(bytes.len())];
            i += 1;
            if c == b'\'' {
                continue;
            }
            inside.to_ascii_lowercase()
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            sql[start..i].to_ascii_lowercase()
        } else {
            i += 1;
            continue;
        };
        let called = sql
            .get(i.min(bytes.len())..)
            .is_some_and(|rest| rest.trim_start().starts_with('('));
        if WORDS.contains(&word.as_str())
            || called && (CALLS.contains(&word.as_str()) || MORE.contains(&word.as_str()))
        {
            return true;
        }
    }
    false
}

/// The node's kept results, the least recently used dropped first when
/// they would pass the budget; a result larger than an eighth of the
/// budget is not kept (it would push out many small ones).
pub struct Results(Lru<Key, Rows>);

impl Results {
    /// Kept results of at most `budget` bytes (0: none kept).
    pub fn new(budget: u64) -> Results {
        Results(Lru::new(budget, budget / 8))
    }

    pub fn enabled(&self) -> bool {
        self.0.would_keep(0)
    }

    /// The rows kept under `key`, if any.
    pub fn get(&self, key: &Key) -> Option<Arc<Rows>> {
        self.0.get(key)
    }

    /// Keep `rows` under `key`.
    pub fn put(&self, key: Key, rows: Arc<Rows>) {
        let bytes = size_of(&rows);
        self.0.put(key, rows, bytes);
    }

    /// Bytes kept now, and how many results.
    #[cfg(test)]
    fn usage(&self) -> (u64, usize) {
        self.0.usage()
    }
}

/// About what `rows` take in memory.
fn size_of(rows: &Rows) -> u64 {
    let values: usize = rows
        .iter()
        .flatten()
        .map(|d| match d {
            Datum::Text(s) => s.len(),
            Datum::Blob(b) => b.len(),
            _ => 0,
        })
        .sum();
    let cells: usize = rows.iter().map(Vec::len).sum();
    (values + cells * std::mem::size_of::<Datum>() + rows.len() * 24 + 64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> Arc<Rows> {
        Arc::new(vec![vec![Datum::Int(1), Datum::Text("x".repeat(100))]; n])
    }

    #[test]
    fn the_least_recently_used_goes_first() {
        // Room for eight results of two rows.
        let each = size_of(&rows(2));
        let cache = Results::new(each * 8);
        let keys: Vec<Key> = (0..9u8).map(|i| [i; 32]).collect();
        for k in &keys[..8] {
            cache.put(*k, rows(2));
        }
        assert_eq!(cache.usage(), (each * 8, 8));
        assert!(cache.get(&keys[0]).is_some());
        // Over the budget: keys[1], used least recently, goes.
        cache.put(keys[8], rows(2));
        assert!(cache.get(&keys[1]).is_none());
        assert!(keys
            .iter()
            .filter(|k| **k != keys[1])
            .all(|k| cache.get(k).is_some()));
        assert_eq!(cache.usage(), (each * 8, 8));
        // Larger than an eighth of the budget: not kept.
        cache.put([9; 32], rows(4));
        assert!(cache.get(&[9; 32]).is_none());
    }

    #[test]
    fn every_input_is_part_of_the_key() {
        let id = ShardId("s".into());
        let base = key(&id, &[1, 2], "SELECT 1", &[Datum::Int(1)], b"ctx");
        let others = [
            key(
                &ShardId("t".into()),
                &[1, 2],
                "SELECT 1",
                &[Datum::Int(1)],
                b"ctx",
            ),
            key(&id, &[1], "SELECT 1", &[Datum::Int(1)], b"ctx"),
            key(&id, &[1, 2], "SELECT 2", &[Datum::Int(1)], b"ctx"),
            key(&id, &[1, 2], "SELECT 1", &[Datum::Int(2)], b"ctx"),
            key(&id, &[1, 2], "SELECT 1", &[Datum::Text("1".into())], b"ctx"),
            key(&id, &[1, 2], "SELECT 1", &[Datum::Int(1)], b"ctx2"),
        ];
        assert!(others.iter().all(|k| *k != base));
        assert_eq!(
            base,
            key(&id, &[1, 2], "SELECT 1", &[Datum::Int(1)], b"ctx")
        );
    }

    #[test]
    fn sqlite_functions_that_read_the_clock_or_chance_are_found() {
        for sql in [
            "SELECT random() FROM t",
            "SELECT x FROM t WHERE d < date ('now')",
            "SELECT CURRENT_TIMESTAMP",
            "SELECT strftime('%s', 'now')",
            "SELECT \"time\"(x) FROM t",
        ] {
            assert!(calls_sqlite_volatile(sql), "{sql}");
        }
        for sql in [
            "SELECT pg_random() FROM t",
            "SELECT \"date\", \"it''s\" FROM t WHERE s = 'random()' OR s = 'it''s date()'",
            "SELECT count(*), sum(x) FROM t WHERE name LIKE '%date(%'",
            "SELECT date_col FROM t",
        ] {
            assert!(!calls_sqlite_volatile(sql), "{sql}");
        }
    }
}
