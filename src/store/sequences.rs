//! The node's sequences: the implicit ones of serial columns and those of
//! CREATE SEQUENCE. Like PostgreSQL's, they are not transactional: a
//! value handed out stays used, whatever becomes of the transaction.
//!
//! A serial column's sequence resumes after a restart above the largest
//! value stored in its column (the store seeds it). A CREATE SEQUENCE
//! sequence is *durable*: before handing out a value past what
//! `DATA/sequences.db` records, the node records a block of the next
//! values (as PostgreSQL logs 32 ahead), so a restart resumes past every
//! value it may have handed out, skipping at most a block.
//!
//! In a cluster every node draws from its own residue class: a value `v`
//! is handed out by the node whose slot is `v / |increment|` modulo
//! `CLUSTER_STRIDE`, so no two nodes ever hand out the same value and no
//! node waits for another. A lone node counts start, start + increment, …

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};

use parking_lot::Mutex;
use rusqlite::{params, Connection};

use crate::error::{Error, Result};
use crate::types::sequence::{SequenceDef, KEY_SEPARATOR};
use crate::types::PgType;

/// How many nodes can draw sequence values side by side.
pub const CLUSTER_STRIDE: i64 = 1024;

/// How many values ahead a durable sequence records before handing out
/// values past the last record.
const BLOCK: i64 = 32;

#[derive(Debug, Clone, Copy)]
struct Position {
    last: i64,
    /// Whether `last` was handed out (or set as handed out by setval).
    called: bool,
    /// How far `sequences.db` lets this node go without writing again.
    recorded: Option<i64>,
}

#[derive(Debug)]
pub struct Sequences {
    positions: Mutex<HashMap<String, Position>>,
    /// 1 on a lone node; `CLUSTER_STRIDE` in a cluster.
    stride: AtomicI64,
    slot: AtomicI64,
    db: Option<Mutex<Connection>>,
}

impl Default for Sequences {
    /// Sequences that record nothing (tests).
    fn default() -> Self {
        Sequences {
            positions: Mutex::new(HashMap::new()),
            stride: AtomicI64::new(1),
            slot: AtomicI64::new(0),
            db: None,
        }
    }
}

impl Sequences {
    /// The node's sequences, resuming the durable ones past what `path`
    /// records.
    pub fn open(path: &Path) -> Result<Sequences> {
        let db = Connection::open(path).map_err(Error::from)?;
        db.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS recorded(name TEXT PRIMARY KEY, upto INTEGER NOT NULL);",
        )
        .map_err(Error::from)?;
        let mut positions = HashMap::new();
        {
            let mut st = db
                .prepare("SELECT name, upto FROM recorded")
                .map_err(Error::from)?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(Error::from)?;
            for row in rows {
                let (name, upto) = row.map_err(Error::from)?;
                positions.insert(
                    name,
                    Position {
                        last: upto,
                        called: true,
                        recorded: Some(upto),
                    },
                );
            }
        }
        Ok(Sequences {
            positions: Mutex::new(positions),
            db: Some(Mutex::new(db)),
            ..Sequences::default()
        })
    }

    /// The next value of a serial column's sequence.
    pub fn next(&self, name: &str) -> Result<i64> {
        self.next_value(name, &SequenceDef::serial(PgType::Int8), false)
    }

    /// nextval: the next value of sequence `name` defined by `def`;
    /// `durable` for a CREATE SEQUENCE sequence. As in PostgreSQL, only
    /// the bound the sequence moves toward is checked.
    pub fn next_value(&self, name: &str, def: &SequenceDef, durable: bool) -> Result<i64> {
        let stride = self.stride.load(Ordering::Relaxed);
        let slot = self.slot.load(Ordering::Relaxed);
        let key = def.key(name);
        let mut positions = self.positions.lock();
        let pos = positions.entry(key.clone()).or_insert(Position {
            last: def.first(),
            called: false,
            recorded: None,
        });
        let mut wrapped = false;
        let mut candidate = if pos.called {
            pos.last.checked_add(def.increment)
        } else {
            Some(pos.last)
        };
        let within = |v: i64| {
            if def.increment > 0 {
                v <= def.max
            } else {
                v >= def.min
            }
        };
        let value = loop {
            let v = candidate.and_then(|v| in_class(v, def.increment, slot, stride));
            match v {
                Some(v) if within(v) => break v,
                _ if def.cycle && !wrapped => {
                    wrapped = true;
                    candidate = Some(if def.increment > 0 { def.min } else { def.max });
                }
                _ => return Err(def.exhausted(name)),
            }
        };
        if durable && !covered(pos.recorded, value, def.increment) {
            let ahead = def
                .increment
                .saturating_mul(BLOCK)
                .saturating_mul(stride)
                .saturating_add(value)
                .clamp(def.min, def.max);
            self.record(&key, ahead)?;
            pos.recorded = Some(ahead);
        }
        pos.last = value;
        pos.called = true;
        Ok(value)
    }

    /// Where sequence `name` stands on this node (PostgreSQL's
    /// `last_value`): the last value handed out or set, or the first of
    /// its run.
    pub fn last(&self, name: &str, def: &SequenceDef) -> i64 {
        self.positions
            .lock()
            .get(&def.key(name))
            .map_or(def.first(), |p| p.last)
    }

    /// setval: the sequence continues after `value` (or at it, when not
    /// `called`), on this node.
    pub fn set_value(
        &self,
        name: &str,
        def: &SequenceDef,
        value: i64,
        called: bool,
        durable: bool,
    ) -> Result<()> {
        def.check_setval(name, value)?;
        let key = def.key(name);
        let mut positions = self.positions.lock();
        let recorded = if durable {
            // Recorded as handed out: a restart resumes after it.
            self.record(&key, value)?;
            Some(value)
        } else {
            None
        };
        positions.insert(
            key,
            Position {
                last: value,
                called,
                recorded,
            },
        );
        Ok(())
    }

    /// A sequence dropped or created anew: it starts over (every run).
    pub fn forget(&self, name: &str) -> Result<()> {
        let runs = format!("{name}{KEY_SEPARATOR}");
        self.positions
            .lock()
            .retain(|k, _| k != name && !k.starts_with(&runs));
        if let Some(db) = &self.db {
            db.lock()
                .execute(
                    "DELETE FROM recorded WHERE name = ?1 OR substr(name, 1, length(?2)) = ?2",
                    params![name, runs],
                )
                .map_err(Error::from)?;
        }
        Ok(())
    }

    fn record(&self, name: &str, upto: i64) -> Result<()> {
        if let Some(db) = &self.db {
            db.lock()
                .execute(
                    "INSERT OR REPLACE INTO recorded(name, upto) VALUES (?1, ?2)",
                    params![name, upto],
                )
                .map_err(Error::from)?;
        }
        Ok(())
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

    /// Start a serial sequence over (the sequence of a table created
    /// anew); returns the value it had, to give back with `advance_to` on
    /// rollback.
    pub fn reset(&self, name: &str, def: &SequenceDef) -> i64 {
        let old = self.positions.lock().insert(def.key(name), initial(def));
        old.map_or(0, |p| handed(&p, def))
    }

    /// The last value this node handed out of the position `key` (of a
    /// sequence defined by `def`), or would have; `None` when it never
    /// drew from it nor was set.
    pub fn handed_out(&self, key: &str, def: &SequenceDef) -> Option<i64> {
        self.positions.lock().get(key).map(|p| handed(p, def))
    }

    /// Never hand out `last`, nor any value before it in the direction of
    /// `def`'s increment, from position `key` (a restored backup's floor).
    pub fn raise(&self, key: &str, def: &SequenceDef, last: i64) {
        let mut positions = self.positions.lock();
        let pos = positions.entry(key.to_string()).or_insert(initial(def));
        let now = handed(pos, def);
        let behind = if def.increment < 0 {
            now > last
        } else {
            now < last
        };
        if behind {
            pos.last = last;
            pos.called = true;
        }
    }

    /// Make sure a serial sequence's next value is past `value` (a value
    /// its column holds). Only ascending serial sequences are seeded so.
    pub fn advance_to(&self, name: &str, def: &SequenceDef, value: i64) {
        if def.increment < 0 {
            return;
        }
        let mut positions = self.positions.lock();
        let pos = positions.entry(def.key(name)).or_insert(initial(def));
        // The next value is `last` itself before the first call.
        let behind = if pos.called {
            value > pos.last
        } else {
            value >= pos.last
        };
        if behind {
            pos.last = value;
            pos.called = true;
        }
    }
}

/// A run's position before its first value.
fn initial(def: &SequenceDef) -> Position {
    Position {
        last: def.first(),
        called: false,
        recorded: None,
    }
}

/// The last value a position handed out (or would have).
fn handed(p: &Position, def: &SequenceDef) -> i64 {
    if p.called {
        p.last
    } else {
        p.last.saturating_sub(def.increment)
    }
}

/// The first value from `v` on, in the direction of `increment`, that
/// belongs to residue class `slot` (every value when `stride` is 1).
fn in_class(v: i64, increment: i64, slot: i64, stride: i64) -> Option<i64> {
    if stride <= 1 {
        return Some(v);
    }
    let step = increment.checked_abs()?;
    let q = v.div_euclid(step);
    let k = if increment > 0 {
        (slot - q).rem_euclid(stride)
    } else {
        -(q - slot).rem_euclid(stride)
    };
    v.checked_add(k.checked_mul(step)?)
}

/// Whether `value` lies within what is recorded (going the increment's
/// way).
fn covered(recorded: Option<i64>, value: i64, increment: i64) -> bool {
    match recorded {
        Some(r) if increment > 0 => value <= r,
        Some(r) => value >= r,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::sequence::SeqOption;

    #[test]
    fn a_cluster_slot_keeps_values_apart() {
        let (a, b) = (Sequences::default(), Sequences::default());
        assert_eq!((a.next("s").unwrap(), a.next("s").unwrap()), (1, 2));
        a.set_slot(1);
        b.set_slot(2);
        b.advance_to("s", &SequenceDef::serial(PgType::Int8), 2);
        let va: Vec<i64> = (0..3).map(|_| a.next("s").unwrap()).collect();
        let vb: Vec<i64> = (0..3).map(|_| b.next("s").unwrap()).collect();
        assert_eq!(va, vec![1025, 2049, 3073]);
        assert_eq!(vb, vec![1026, 2050, 3074]);
    }

    #[test]
    fn advancing_to_a_value_below_the_start_changes_nothing() {
        let s = Sequences::default();
        let def =
            SequenceDef::from_options(&[SeqOption::Start(1), SeqOption::Increment(10)]).unwrap();
        s.advance_to("s", &def, 0);
        assert_eq!(s.next_value("s", &def, false).unwrap(), 1);
        s.advance_to("s", &def, 5);
        assert_eq!(s.next_value("s", &def, false).unwrap(), 15);
    }

    #[test]
    fn options_bound_and_cycle() {
        let s = Sequences::default();
        let def = SequenceDef::from_options(&[
            SeqOption::Start(5),
            SeqOption::Increment(5),
            SeqOption::Max(Some(12)),
            SeqOption::Cycle(true),
        ])
        .unwrap();
        let got: Vec<i64> = (0..4)
            .map(|_| s.next_value("s", &def, false).unwrap())
            .collect();
        assert_eq!(got, vec![5, 10, 1, 6]);
        let no_cycle = SequenceDef {
            cycle: false,
            ..def
        };
        s.set_value("t", &no_cycle, 10, true, false).unwrap();
        assert!(s.next_value("t", &no_cycle, false).is_err());
    }

    #[test]
    fn a_durable_sequence_resumes_past_what_it_handed_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sequences.db");
        let def = SequenceDef::from_options(&[]).unwrap();
        let last = {
            let s = Sequences::open(&path).unwrap();
            (0..40)
                .map(|_| s.next_value("s", &def, true).unwrap())
                .last()
        };
        assert_eq!(last, Some(40));
        let s = Sequences::open(&path).unwrap();
        assert!(s.next_value("s", &def, true).unwrap() > 40);
        s.forget("s").unwrap();
        assert_eq!(s.next_value("s", &def, true).unwrap(), 1);
    }
}
