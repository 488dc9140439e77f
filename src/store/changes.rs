//! Which rows of the open segments changed since they were last copied to
//! another node (`cluster::unsealed`), and reading them as they stand.
//!
//! Every connection to segments.db reports the rows its statements insert,
//! update or delete in a table's open segment (SQLite's update hook, by
//! rowid, which is `_key`). They count once a transaction of the
//! connection commits (SQLite's WAL hook, called after the commit). A
//! reported row only *may* have changed:
//! the copier reads each as it stands when it copies it, so a row changed
//! and changed back, or changed under a savepoint rolled back since, is
//! copied as it is. A change made before the copier took the marks is
//! committed, and visible to the read it takes after; one committed after
//! is marked for the next copy.
//!
//! What SQLite does not report (a table dropped, an open segment rebuilt
//! by ALTER TABLE) the copier finds by the schema version.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::Connection;

use crate::error::Result;
use crate::store::Conn;
use crate::types::quote;
use crate::types::shard::ShardId;
use crate::types::Datum;

/// Marks kept at most before they are given up for one whole copy.
const MAX_MARKED: usize = 4_000_000;
/// WAL pages after which a commit checkpoints: SQLite's own default,
/// which the WAL hook replaces.
const AUTOCHECKPOINT_PAGES: i32 = 1000;

/// The node's marks: rows that may have changed, by table, since the
/// copier last took them.
#[derive(Default)]
pub struct Changes {
    /// Off with `--unsealed-copies off`: nothing is marked.
    on: AtomicBool,
    marked: Mutex<Marked>,
    /// Shards sealed whose rows a copy may still hold: not sent to other
    /// nodes until the copy dropped them (`cluster::unsealed`).
    held_back: Mutex<std::collections::HashSet<ShardId>>,
}

/// A seal: every row of `table`'s open segment up to `last_key` went
/// into shard `id`.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub table: String,
    pub last_key: i64,
    pub id: ShardId,
}

/// What the copier takes.
#[derive(Default, Debug)]
pub struct Marked {
    /// Row keys that may have changed, by table (repeats possible).
    pub keys: HashMap<String, Vec<i64>>,
    /// More changed than was worth keeping: copy everything.
    pub overflow: bool,
    /// Shards sealed since: their rows left the open segment unmarked
    /// (`take` leaves them, `take_sealed` takes them).
    pub sealed: Vec<Sealed>,
    count: usize,
}

impl Changes {
    pub fn new(on: bool) -> Changes {
        Changes {
            on: AtomicBool::new(on),
            marked: Mutex::default(),
            held_back: Mutex::default(),
        }
    }

    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// The marked keys so far, leaving none (the seals stay, for
    /// `take_sealed`).
    pub fn take(&self) -> Marked {
        let mut m = self.marked.lock();
        let sealed = std::mem::take(&mut m.sealed);
        let keys = std::mem::take(&mut *m);
        m.sealed = sealed;
        keys
    }

    /// Shard `id` was sealed from `table`'s open segment, up to `last_key`.
    pub fn sealed(&self, table: &str, last_key: i64, id: &ShardId) {
        if self.is_on() {
            self.held_back.lock().insert(id.clone());
            self.marked.lock().sealed.push(Sealed {
                table: table.to_string(),
                last_key,
                id: id.clone(),
            });
        }
    }

    /// Whether a seal was recorded that the copier has not taken.
    pub fn has_seals(&self) -> bool {
        !self.marked.lock().sealed.is_empty()
    }

    /// The seals so far, leaving the keys marked.
    pub fn take_sealed(&self) -> Vec<Sealed> {
        std::mem::take(&mut self.marked.lock().sealed)
    }

    /// Whether shard `id` must not be sent to another node yet.
    pub fn held_back(&self, id: &ShardId) -> bool {
        self.held_back.lock().contains(id)
    }

    /// Shards that may be sent to other nodes now.
    pub fn release<'a>(&self, ids: impl IntoIterator<Item = &'a ShardId>) {
        let mut held = self.held_back.lock();
        for id in ids {
            held.remove(id);
        }
    }

    /// Every shard held back may be sent now but those whose seal the
    /// copier has not taken yet (with `all`, those too: no copy is kept).
    pub fn release_taken(&self, all: bool) {
        let marked = self.marked.lock();
        let mut held = self.held_back.lock();
        held.retain(|id| !all && marked.sealed.iter().any(|s| &s.id == id));
    }

    /// A transaction that changed `pending` committed.
    fn committed(&self, pending: &mut HashMap<String, Vec<i64>>) {
        if pending.is_empty() {
            return;
        }
        let mut m = self.marked.lock();
        for (table, keys) in pending.drain() {
            m.count += keys.len();
            if m.overflow {
                continue;
            }
            m.keys.entry(table).or_default().extend(keys);
        }
        if m.count > MAX_MARKED {
            m.overflow = true;
            m.keys.clear();
        }
    }
}

/// Report `db`'s changes to open segments to `changes`, but those made
/// while `quiet` is set.
pub fn install(
    db: &mut Connection,
    changes: Arc<Changes>,
    quiet: Option<Arc<AtomicBool>>,
) -> rusqlite::Result<()> {
    let pending: Arc<Mutex<HashMap<String, Vec<i64>>>> = Arc::default();
    let (p, c) = (pending.clone(), changes.clone());
    db.update_hook(Some(move |_, db: &str, table: &str, key: i64| {
        if db != "main"
            || table.starts_with("_mosaic")
            || table.starts_with("sqlite_")
            || !c.is_on()
            || quiet.as_ref().is_some_and(|q| q.load(Ordering::SeqCst))
        {
            return;
        }
        let mut p = p.lock();
        match p.get_mut(table) {
            Some(keys) => keys.push(key),
            None => {
                p.insert(table.to_string(), vec![key]);
            }
        }
    }))?;
    // No rollback hook: SQLite frees a hook's data before it rolls back
    // the open transaction of a connection being closed, then calls the
    // rollback hook with it. Rows a rolled-back transaction reported stay
    // reported until the connection's next commit, and are read then as
    // they stand, which is only a little more to copy.
    db.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages| {
        if wal.name() == c"main" {
            changes.committed(&mut pending.lock());
        }
        if pages >= AUTOCHECKPOINT_PAGES {
            // A checkpoint that cannot finish now (readers) is tried again
            // at a later commit, as SQLite's own would be.
            let _ = wal.checkpoint();
        }
        Ok(())
    }))
}

/// Rows of `table`'s open segment as they stand: those with the keys in
/// `keys` (all of them with `None`), each as (key, version, values), and
/// of `keys` those no longer there.
#[allow(clippy::type_complexity)]
pub fn read_rows(
    conn: &Conn,
    table: &str,
    columns: &[(String, String)],
    keys: Option<&[i64]>,
) -> Result<(Vec<(i64, i64, Vec<Datum>)>, Vec<i64>)> {
    let cols: Vec<String> = columns.iter().map(|(n, _)| quote(n)).collect();
    let select = format!(
        "SELECT _key, _ver{}{} FROM main.{}",
        if cols.is_empty() { "" } else { ", " },
        cols.join(", "),
        quote(table)
    );
    let (sql, params) = match keys {
        None => (select, vec![]),
        Some(keys) => {
            let list = serde_json::to_string(keys).unwrap_or_else(|_| "[]".into());
            (
                format!("{select} WHERE _key IN (SELECT value FROM json_each(?1))"),
                vec![Datum::Text(list)],
            )
        }
    };
    let mut rows = Vec::new();
    conn.query(&sql, &params, &mut |mut r| {
        let values = r.split_off(2);
        let int = |d: &Datum| match d {
            Datum::Int(i) => *i,
            _ => 0,
        };
        rows.push((int(&r[0]), int(&r[1]), values));
        Ok(())
    })?;
    let gone = match keys {
        None => vec![],
        Some(keys) => {
            let found: std::collections::HashSet<i64> = rows.iter().map(|r| r.0).collect();
            let mut gone: Vec<i64> = keys
                .iter()
                .filter(|k| !found.contains(k))
                .copied()
                .collect();
            gone.sort_unstable();
            gone.dedup();
            gone
        }
    };
    Ok((rows, gone))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_mark_their_rows_and_a_connection_closed_mid_write_is_no_harm() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::tests::open_small(dir.path());
        let conn = store.connect().unwrap();
        conn.batch("CREATE TABLE m (_key INTEGER PRIMARY KEY, _ver INT NOT NULL DEFAULT 0, v INT)")
            .unwrap();
        conn.batch("CREATE TEMP TABLE tm (_key INTEGER PRIMARY KEY, v INT)")
            .unwrap();
        store.changes.take();
        conn.batch("BEGIN").unwrap();
        conn.execute("INSERT INTO m (_key, v) VALUES (1, 1), (2, 2)", &[])
            .unwrap();
        conn.execute("INSERT INTO tm VALUES (7, 7)", &[]).unwrap();
        assert!(
            store.changes.take().keys.is_empty(),
            "nothing before COMMIT"
        );
        conn.batch("COMMIT").unwrap();
        conn.execute("UPDATE m SET v = 3 WHERE _key = 2", &[])
            .unwrap();
        let mut marked = store.changes.take();
        assert_eq!(
            marked.keys.len(),
            1,
            "temp tables are not marked: {marked:?}"
        );
        let keys = marked.keys.remove("m").unwrap();
        assert_eq!(keys, vec![1, 2, 2]);
        let columns = vec![("v".to_string(), "INT".to_string())];
        let (rows, gone) = read_rows(&conn, "m", &columns, Some(&[2, 5])).unwrap();
        assert_eq!(rows, vec![(2, 0, vec![Datum::Int(3)])]);
        assert_eq!(gone, vec![5]);
        // A session that goes away inside a block that wrote: SQLite rolls
        // the block back as the connection closes, after freeing the
        // hooks' data (a rollback hook would be called with it).
        conn.batch("BEGIN").unwrap();
        conn.execute("DELETE FROM m WHERE _key = 1", &[]).unwrap();
        drop(conn);
        let conn = store.connect().unwrap();
        let left = conn.rows("SELECT count(*) FROM m", &[]).unwrap();
        assert_eq!(left, vec![vec![Datum::Int(2)]]);
    }
}
