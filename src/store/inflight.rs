//! Unique-key values written by this node's transactions that have not
//! ended yet.
//!
//! A write checks its unique keys against the peers' committed rows; two
//! nodes writing one key at the same moment would each find nothing there.
//! So a transaction holds here every key value it wrote to a table other
//! nodes share, from just before it asks the peers until it ends, with
//! when it began. Of two such writes, at least one probes while the other
//! holds its key, so `exec::peer` can stop them both committing: an older
//! prober waits for the holder to end (then finds its row, 23505, as in
//! PostgreSQL), a younger one fails with 40001 (wait-die: waits only go
//! from older to younger, so two nodes never wait for each other).

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::types::Datum;

/// Key values one transaction may hold one by one; beyond it, it holds
/// the whole key of the table (every value of it), which costs no memory
/// per row.
const MAX_HELD: usize = 100_000;

/// The key values held by this node's open transactions, each with when
/// each transaction holding it began.
#[derive(Default)]
pub struct InFlight {
    keys: Mutex<Keys>,
}

#[derive(Default)]
struct Keys {
    /// Each held entry, with when each transaction holding it began.
    held: HashMap<Vec<u8>, Vec<i64>>,
    /// How many entries of each table are held.
    tables: HashMap<String, usize>,
}

/// What one transaction holds; released when it ends (or is dropped).
#[derive(Default)]
pub struct Held {
    owner: Option<Arc<InFlight>>,
    /// When the transaction began (microseconds since the epoch).
    since: i64,
    /// (table, entry) of each value held.
    entries: Vec<(String, Vec<u8>)>,
    /// The whole keys held.
    whole: Vec<(String, Vec<u8>)>,
}

/// The entry of one value of a table's unique key (`values` None: every
/// value of it).
fn entry(table: &str, columns: &[String], values: Option<&[Datum]>) -> Vec<u8> {
    postcard::to_stdvec(&(table, columns, values)).unwrap_or_default()
}

impl InFlight {
    /// Hold `values` of `table`'s unique key `columns` for `held`'s
    /// transaction, which began at `since`.
    pub fn hold(
        self: &Arc<Self>,
        held: &mut Held,
        since: i64,
        table: &str,
        columns: &[String],
        values: &[Vec<Datum>],
    ) {
        if held.owner.is_none() {
            held.owner = Some(self.clone());
            held.since = since;
        }
        let mut keys = self.keys.lock();
        if held.entries.len() + values.len() > MAX_HELD {
            let e = (table.to_string(), entry(table, columns, None));
            if !held.whole.contains(&e) {
                keys.add(&e, held.since);
                held.whole.push(e);
            }
            return;
        }
        for v in values {
            let e = (table.to_string(), entry(table, columns, Some(v)));
            keys.add(&e, held.since);
            held.entries.push(e);
        }
    }

    /// The tables an open transaction here holds key values of: they have
    /// rows here that are not sealed, committed or not yet.
    pub fn tables(&self) -> Vec<String> {
        self.keys.lock().tables.keys().cloned().collect()
    }

    /// When the oldest open transaction here holding one of `values` (each
    /// the values of `columns`) of `table` began; None when none holds one.
    pub fn held_since(
        &self,
        table: &str,
        columns: &[String],
        values: &[Vec<Datum>],
    ) -> Option<i64> {
        let keys = self.keys.lock();
        if keys.held.is_empty() {
            return None;
        }
        let oldest = |e: &Vec<u8>| keys.held.get(e).and_then(|s| s.iter().min().copied());
        std::iter::once(entry(table, columns, None))
            .chain(values.iter().map(|v| entry(table, columns, Some(v))))
            .filter_map(|e| oldest(&e))
            .min()
    }

    fn release(&self, since: i64, entries: impl Iterator<Item = (String, Vec<u8>)>) {
        let mut keys = self.keys.lock();
        for e in entries {
            keys.remove(&e, since);
        }
    }
}

impl Keys {
    fn add(&mut self, (table, e): &(String, Vec<u8>), since: i64) {
        self.held.entry(e.clone()).or_default().push(since);
        *self.tables.entry(table.clone()).or_default() += 1;
    }

    fn remove(&mut self, (table, e): &(String, Vec<u8>), since: i64) {
        let Some(s) = self.held.get_mut(e) else {
            return;
        };
        if let Some(i) = s.iter().position(|x| *x == since) {
            s.swap_remove(i);
            if let Some(n) = self.tables.get_mut(table) {
                *n -= 1;
                if *n == 0 {
                    self.tables.remove(table);
                }
            }
        }
        if s.is_empty() {
            self.held.remove(e);
        }
    }
}

impl Held {
    /// The transaction ended: let go of everything it held.
    pub fn release(&mut self) {
        if let Some(owner) = self.owner.take() {
            let entries = std::mem::take(&mut self.entries);
            let whole = std::mem::take(&mut self.whole);
            owner.release(self.since, entries.into_iter().chain(whole));
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_keys_are_seen_until_released() {
        let f = Arc::new(InFlight::default());
        let cols = vec!["id".to_string()];
        let mut a = Held::default();
        let mut b = Held::default();
        f.hold(&mut a, 20, "t", &cols, &[vec![Datum::Int(1)]]);
        f.hold(
            &mut b,
            10,
            "t",
            &cols,
            &[vec![Datum::Int(1)], vec![Datum::Int(2)]],
        );
        let one = [vec![Datum::Int(1)]];
        assert_eq!(f.held_since("t", &cols, &one), Some(10));
        assert_eq!(f.held_since("u", &cols, &one), None);
        assert_eq!(f.held_since("t", &cols, &[vec![Datum::Int(3)]]), None);
        b.release();
        assert_eq!(f.held_since("t", &cols, &one), Some(20));
        assert_eq!(f.held_since("t", &cols, &[vec![Datum::Int(2)]]), None);
        drop(a);
        assert_eq!(f.held_since("t", &cols, &one), None);
        assert!(f.keys.lock().held.is_empty() && f.keys.lock().tables.is_empty());
        // A transaction holds again after it released.
        f.hold(&mut b, 30, "t", &cols, &one);
        assert_eq!(f.held_since("t", &cols, &one), Some(30));
    }

    #[test]
    fn past_the_limit_the_whole_key_is_held() {
        let f = Arc::new(InFlight::default());
        let cols = vec!["id".to_string()];
        let mut a = Held::default();
        let many: Vec<Vec<Datum>> = (0..=MAX_HELD as i64).map(|i| vec![Datum::Int(i)]).collect();
        f.hold(&mut a, 1, "t", &cols, &many);
        assert_eq!(f.held_since("t", &cols, &[vec![Datum::Int(-5)]]), Some(1));
        a.release();
        assert!(f.keys.lock().held.is_empty() && f.keys.lock().tables.is_empty());
    }
}
