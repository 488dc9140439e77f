//! `copies.db`: other nodes' unsealed rows, as each copies them here while
//! this node is its buddy (`cluster::unsealed`), so that a statement can
//! read them while their node is down.
//!
//! `origins` holds, per origin node, the epoch and the number of the last
//! push applied; `tables` names, per origin and table, the SQLite table
//! holding the copy (`_key`, `_ver` and the open segment's columns) and
//! those columns. A push applies whole or not at all, in one transaction,
//! and only after the one before it of the same epoch. Sessions read the
//! copies through their own connection, where `copies.db` is attached as
//! `mosaic_copies`.

use std::path::Path;

use parking_lot::Mutex;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::types::quote;
use crate::types::unsealed::{TableCopy, UnsealedPush};

/// The schema name `copies.db` is attached under on sessions' connections.
pub const ATTACHED_AS: &str = "mosaic_copies";

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS origins(
        origin TEXT PRIMARY KEY, epoch INTEGER NOT NULL, seq INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS tables(
        origin TEXT NOT NULL, table_name TEXT NOT NULL,
        copy TEXT NOT NULL, columns TEXT NOT NULL,
        PRIMARY KEY(origin, table_name));";

pub struct Copies {
    writer: Mutex<Connection>,
}

impl Copies {
    pub fn open(path: &Path) -> Result<Copies> {
        let db = Connection::open(path)?;
        db.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")?;
        // The collations of numeric, interval and array columns, which the
        // copies' tables are declared with.
        crate::store::udf::register(&db)?;
        db.busy_timeout(crate::store::segment::BUSY_TIMEOUT)?;
        db.execute_batch(SCHEMA)?;
        Ok(Copies {
            writer: Mutex::new(db),
        })
    }

    /// Apply one push. False when it does not follow the last one applied
    /// of its origin (or changes a table's columns without sending the
    /// table whole): the origin must send everything again.
    pub fn apply(&self, push: &UnsealedPush) -> Result<bool> {
        let db = self.writer.lock();
        db.execute_batch("BEGIN IMMEDIATE")?;
        let r = apply_in(&db, push);
        match r {
            Ok(true) => {
                db.execute_batch("COMMIT")?;
                Ok(true)
            }
            other => {
                let _ = db.execute_batch("ROLLBACK");
                other
            }
        }
    }

    /// Copies of table `old`'s rows are now of table `new` (ALTER TABLE …
    /// RENAME TO), whichever node they came from.
    pub fn rename_table(&self, old: &str, new: &str) -> Result<()> {
        let db = self.writer.lock();
        db.execute(
            "UPDATE tables SET table_name = ?2 WHERE table_name = ?1",
            [old, new],
        )?;
        Ok(())
    }

    /// Forget every copy of `origin`'s rows (it copies them elsewhere now,
    /// or was forgotten).
    pub fn drop_origin(&self, origin: &str) -> Result<()> {
        let db = self.writer.lock();
        db.execute_batch("BEGIN IMMEDIATE")?;
        let r = drop_all(&db, origin);
        match r {
            Ok(()) => Ok(db.execute_batch("COMMIT")?),
            Err(e) => {
                let _ = db.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// The origins copied here, each with its epoch.
    #[cfg(test)]
    fn origins(&self) -> Result<Vec<(String, u64)>> {
        let db = self.writer.lock();
        let mut st = db.prepare("SELECT origin, epoch FROM origins ORDER BY origin")?;
        let rows = st.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

fn apply_in(db: &Connection, push: &UnsealedPush) -> Result<bool> {
    let last: Option<(i64, i64)> = db
        .query_row(
            "SELECT epoch, seq FROM origins WHERE origin = ?1",
            [&push.origin],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let epoch = push.epoch as i64;
    let seq = push.seq as i64;
    if !push.whole && last != Some((epoch, seq - 1)) {
        return Ok(false);
    }
    if push.whole {
        drop_all(db, &push.origin)?;
    }
    for table in &push.dropped {
        drop_copy(db, &push.origin, table)?;
    }
    for t in &push.tables {
        if !apply_table(db, &push.origin, t, push.whole)? {
            return Ok(false);
        }
    }
    db.execute(
        "INSERT INTO origins(origin, epoch, seq) VALUES (?1, ?2, ?3)
         ON CONFLICT(origin) DO UPDATE SET epoch = excluded.epoch, seq = excluded.seq",
        params![push.origin, epoch, seq],
    )?;
    Ok(true)
}

fn apply_table(db: &Connection, origin: &str, t: &TableCopy, whole: bool) -> Result<bool> {
    let columns = serde_json::to_string(&t.columns)
        .map_err(|e| Error::Internal(format!("copy columns: {e}")))?;
    let known: Option<String> = db
        .query_row(
            "SELECT columns FROM tables WHERE origin = ?1 AND table_name = ?2",
            [origin, &t.table],
            |r| r.get(0),
        )
        .optional()?;
    let copy = copy_name(origin, &t.table);
    if t.whole || whole || known.as_deref() != Some(columns.as_str()) {
        if !(t.whole || whole) {
            return Ok(false);
        }
        drop_copy(db, origin, &t.table)?;
        let mut cols = vec![
            "_key INTEGER PRIMARY KEY".to_string(),
            "_ver INTEGER NOT NULL".to_string(),
        ];
        cols.extend(
            t.columns
                .iter()
                .map(|(n, decl)| format!("{} {decl}", quote(n))),
        );
        db.execute_batch(&format!(
            "CREATE TABLE {} ({}) STRICT",
            quote(&copy),
            cols.join(", ")
        ))?;
        db.execute(
            "INSERT INTO tables(origin, table_name, copy, columns) VALUES (?1, ?2, ?3, ?4)",
            params![origin, t.table, copy, columns],
        )?;
    }
    if let Some(k) = t.trim_to {
        db.execute(
            &format!("DELETE FROM {} WHERE _key <= ?1", quote(&copy)),
            [k],
        )?;
    }
    {
        let mut gone =
            db.prepare_cached(&format!("DELETE FROM {} WHERE _key = ?1", quote(&copy)))?;
        for k in &t.gone {
            gone.execute([k])?;
        }
    }
    let marks: Vec<String> = (0..t.columns.len() + 2)
        .map(|i| format!("?{}", i + 1))
        .collect();
    let mut put = db.prepare_cached(&format!(
        "INSERT OR REPLACE INTO {} VALUES ({})",
        quote(&copy),
        marks.join(", ")
    ))?;
    for (key, ver, values) in &t.rows {
        if values.len() != t.columns.len() {
            return Err(Error::Internal(format!(
                "a copied row of {} has {} values for {} columns",
                t.table,
                values.len(),
                t.columns.len()
            )));
        }
        put.raw_bind_parameter(1, key)?;
        put.raw_bind_parameter(2, ver)?;
        for (i, v) in values.iter().enumerate() {
            put.raw_bind_parameter(i + 3, v)?;
        }
        put.raw_execute()?;
    }
    Ok(true)
}

fn drop_copy(db: &Connection, origin: &str, table: &str) -> Result<()> {
    db.execute_batch(&format!(
        "DROP TABLE IF EXISTS {}",
        quote(&copy_name(origin, table))
    ))?;
    db.execute(
        "DELETE FROM tables WHERE origin = ?1 AND table_name = ?2",
        [origin, table],
    )?;
    Ok(())
}

fn drop_all(db: &Connection, origin: &str) -> Result<()> {
    let tables: Vec<String> = {
        let mut st = db.prepare("SELECT table_name FROM tables WHERE origin = ?1")?;
        let rows = st.query_map([origin], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    for t in tables {
        drop_copy(db, origin, &t)?;
    }
    db.execute("DELETE FROM origins WHERE origin = ?1", [origin])?;
    Ok(())
}

/// The SQLite table holding `origin`'s copy of `table`.
fn copy_name(origin: &str, table: &str) -> String {
    let h = Sha256::new()
        .chain_update(origin.as_bytes())
        .chain_update([0])
        .chain_update(table.as_bytes())
        .finalize();
    let hex: String = h[..10].iter().map(|b| format!("{b:02x}")).collect();
    format!("c_{hex}")
}

/// One table of a copy: its name, columns and rows (version, values).
type Held = (
    String,
    Vec<(String, String)>,
    Vec<Vec<rusqlite::types::Value>>,
);

/// Take `origin`'s copy at `epoch` into this node's own open segments
/// (`origin` is forgotten for good): each row keeps its version and gets
/// a row key here; the tables taken. A table whose columns changed since
/// its rows were copied is left out (and said so in the log). Nothing is
/// taken when the copy here is not of `epoch`.
pub fn adopt(store: &crate::store::Store, origin: &str, epoch: u64) -> Result<Vec<String>> {
    let mut held: Vec<Held> = Vec::new();
    {
        let db = store.copies.writer.lock();
        let at: Option<i64> = db
            .query_row(
                "SELECT epoch FROM origins WHERE origin = ?1",
                [origin],
                |r| r.get(0),
            )
            .optional()?;
        if at != Some(epoch as i64) {
            return Ok(vec![]);
        }
        let mut st =
            db.prepare("SELECT table_name, copy, columns FROM tables WHERE origin = ?1")?;
        let tables = st
            .query_map([origin], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (table, copy, columns) in tables {
            let columns: Vec<(String, String)> = serde_json::from_str(&columns)
                .map_err(|e| Error::Internal(format!("copy columns: {e}")))?;
            let mut rows = db.prepare(&format!("SELECT * FROM {} ORDER BY _key", quote(&copy)))?;
            let width = columns.len() + 2;
            let rows = rows
                .query_map([], |r| (1..width).map(|i| r.get(i)).collect())?
                .collect::<rusqlite::Result<Vec<Vec<rusqlite::types::Value>>>>()?;
            held.push((table, columns, rows));
        }
    }
    let mut taken = Vec::new();
    store.with_writer(|w| {
        w.execute_batch("BEGIN IMMEDIATE")?;
        let r = (|| -> Result<()> {
            for (table, columns, rows) in &held {
                let current = store
                    .catalog
                    .table(table)
                    .map(|def| crate::types::unsealed::copy_columns(&def));
                if current.as_ref() != Some(columns) {
                    tracing::warn!(node = origin, table, "the unsealed rows of a forgotten node were copied before the table changed; they are not taken");
                    continue;
                }
                let names: Vec<String> = std::iter::once("_ver".to_string())
                    .chain(columns.iter().map(|(n, _)| quote(n)))
                    .collect();
                let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
                let mut put = w.prepare(&format!(
                    "INSERT INTO main.{} ({}) VALUES ({})",
                    quote(table),
                    names.join(", "),
                    marks.join(", ")
                ))?;
                for row in rows {
                    put.execute(rusqlite::params_from_iter(row.iter()))?;
                }
                taken.push(table.clone());
            }
            Ok(())
        })();
        crate::store::segment::finish(w, r)
    })?;
    Ok(taken)
}

/// What a session reads of `origin`'s copy of `table`, as the statement's
/// transaction sees `copies.db` (attached as `ATTACHED_AS`).
#[derive(Debug, PartialEq)]
pub enum CopyRead {
    /// The SQLite table holding it, with its columns.
    Table(String, Vec<(String, String)>),
    /// The copy is current and holds no row of the table.
    Empty,
    /// This node holds no copy of that epoch.
    NotHere,
}

/// SQL reading `origin`'s copy of `table` at `epoch` through a connection
/// with `copies.db` attached.
pub fn read(conn: &crate::store::Conn, origin: &str, epoch: u64, table: &str) -> Result<CopyRead> {
    use crate::types::Datum;
    let held = conn.rows(
        &format!("SELECT epoch FROM {ATTACHED_AS}.origins WHERE origin = ?1"),
        &[Datum::Text(origin.to_string())],
    )?;
    if held.first().and_then(|r| r.first()) != Some(&Datum::Int(epoch as i64)) {
        return Ok(CopyRead::NotHere);
    }
    let found = conn.rows(
        &format!(
            "SELECT copy, columns FROM {ATTACHED_AS}.tables WHERE origin = ?1 AND table_name = ?2"
        ),
        &[
            Datum::Text(origin.to_string()),
            Datum::Text(table.to_string()),
        ],
    )?;
    let Some(row) = found.into_iter().next() else {
        return Ok(CopyRead::Empty);
    };
    match (&row[0], &row[1]) {
        (Datum::Text(copy), Datum::Text(columns)) => {
            let columns: Vec<(String, String)> = serde_json::from_str(columns)
                .map_err(|e| Error::Internal(format!("copy columns: {e}")))?;
            Ok(CopyRead::Table(copy.clone(), columns))
        }
        _ => Err(Error::Internal("malformed copies.db".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Datum;

    fn table(rows: &[(i64, &str)], gone: &[i64], trim_to: Option<i64>, whole: bool) -> TableCopy {
        TableCopy {
            table: "t".into(),
            columns: vec![("v".into(), "TEXT".into())],
            whole,
            rows: rows
                .iter()
                .map(|(k, v)| (*k, 1, vec![Datum::Text(v.to_string())]))
                .collect(),
            gone: gone.to_vec(),
            trim_to,
        }
    }

    fn push(seq: u64, whole: bool, t: TableCopy) -> UnsealedPush {
        UnsealedPush {
            origin: "n1".into(),
            epoch: 7,
            seq,
            whole,
            tables: vec![t],
            dropped: vec![],
        }
    }

    fn keys(copies: &Copies) -> Vec<(i64, String)> {
        let db = copies.writer.lock();
        let mut st = db
            .prepare(&format!(
                "SELECT _key, v FROM {} ORDER BY _key",
                quote(&copy_name("n1", "t"))
            ))
            .unwrap();
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.collect::<rusqlite::Result<Vec<_>>>().unwrap()
    }

    #[test]
    fn pushes_apply_in_order_whole_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let copies = Copies::open(&dir.path().join("copies.db")).unwrap();
        let first = table(&[(1, "a"), (2, "b"), (3, "c")], &[], None, true);
        assert!(copies.apply(&push(1, true, first)).unwrap());
        // A push that does not follow the last one is refused, whole.
        let late = table(&[(9, "z")], &[1], None, false);
        assert!(!copies.apply(&push(3, false, late)).unwrap());
        assert_eq!(keys(&copies).len(), 3, "a refused push changes nothing");
        // Rows as they stand replace theirs, gone keys go, a trim drops
        // every key up to it.
        let next = table(&[(2, "B"), (4, "d")], &[3], None, false);
        assert!(copies.apply(&push(2, false, next)).unwrap());
        let trim = table(&[], &[], Some(2), false);
        assert!(copies.apply(&push(3, false, trim)).unwrap());
        assert_eq!(keys(&copies), vec![(4, "d".to_string())]);
        // Other columns, not sent whole: refused.
        let mut other = table(&[(5, "e")], &[], None, false);
        other.columns = vec![("w".into(), "INT".into())];
        assert!(!copies.apply(&push(4, false, other)).unwrap());
        assert_eq!(copies.origins().unwrap(), vec![("n1".to_string(), 7)]);
        copies.drop_origin("n1").unwrap();
        assert!(copies.origins().unwrap().is_empty());
    }
}
