//! A connection to `segments.db` for one session (or one worker), and the
//! one way to run translated SQL: text, `$n` parameters as `Datum`s, the
//! shards to attach, rows back as `Datum`s. Whoever holds a `Conn` never
//! sees SQLite itself; store's own tables are reached through the typed
//! methods in `store::manifest`.
//!
//! A session's transaction lives on its `Conn`: BEGIN, savepoints and
//! COMMIT are statements like any other (`batch`), so the caller decides
//! the transaction's shape and store decides nothing behind its back.

use std::collections::HashSet;
use std::path::PathBuf;

use rusqlite::config::DbConfig;
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::store::scrub::Stamp;
use crate::store::udf::session::SessionFunctions;
use crate::store::Store;
use crate::types::quote;
use crate::types::shard::{attach_name, ShardId};
use crate::types::Datum;

/// Attached shard databases stay attached across statements; at most this
/// many (SQLite allows 125 with the build flags in .cargo/config.toml).
const MAX_ATTACHED: usize = 120;

/// Prepared statements a session's connection keeps.
const STATEMENT_CACHE: usize = 128;

/// What interrupts the statement running on a `Conn` (a cancel, a
/// statement timeout), from any thread.
pub struct Interrupt(rusqlite::InterruptHandle);

impl Interrupt {
    pub fn interrupt(&self) {
        self.0.interrupt();
    }
}

/// One connection, with the shards attached to it.
pub struct Conn {
    db: Connection,
    shards_dir: PathBuf,
    /// `copies.db`, attached as `copies::ATTACHED_AS` the first time a
    /// statement reads another node's copied unsealed rows.
    copies: PathBuf,
    copies_attached: std::sync::atomic::AtomicBool,
    /// The shards attached, each with the stamp its file had when it was
    /// checked (`store::scrub`).
    attached: Vec<(ShardId, Stamp)>,
    /// What says a shard may be read (`store::scrub`).
    soundness: std::sync::Arc<crate::store::scrub::Soundness>,
    /// What a session's COMMIT passes (`store::gate`).
    gate: std::sync::Arc<crate::store::gate::Gate>,
    /// Live shards by table, as last read, with the version of the
    /// manifest they were read from (`Conn::live_shards`).
    pub(super) manifest: parking_lot::Mutex<crate::store::manifest::Seen>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("attached", &self.attached.len())
            .finish()
    }
}

impl Store {
    /// A new connection to segments.db, for a session or a peer's request.
    pub fn connect(&self) -> Result<Conn> {
        let mut db = crate::store::segment::open(&self.segments_path, &self.hlc, &self.sequences)?;
        crate::store::changes::install(&mut db, self.changes.clone(), None)?;
        // A prepared query's SQL differs with the shards its plan reads,
        // so a session runs more distinct statements than rusqlite's
        // default of 16 keeps prepared.
        db.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // A plan must not depend on the values bound to it: SQLite
        // otherwise marks a statement whose planning looked at a parameter
        // (partial indexes, LIKE prefixes, LIMIT ?) and prepares it again
        // on every execution.
        db.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        Ok(Conn {
            db,
            shards_dir: self.shards_dir.clone(),
            copies: self.copies_path.clone(),
            copies_attached: Default::default(),
            attached: vec![],
            soundness: self.soundness.clone(),
            gate: self.gate.clone(),
            manifest: Default::default(),
        })
    }

    /// A connection of its own, in memory, for one shard's fragment on a
    /// worker thread: MosaicDB's functions and the session's, the shard
    /// attached read-only next to the tombstones `rids` this statement
    /// sees for it.
    pub fn scratch(&self, session: &SessionFunctions, id: &ShardId, rids: &[i64]) -> Result<Conn> {
        let db = Connection::open_in_memory()?;
        crate::store::udf::register(&db)?;
        crate::store::udf::session::register_basic(&db, session)?;
        db.execute_batch("PRAGMA case_sensitive_like=ON")?;
        db.execute_batch(crate::store::segment::TOMBSTONES)?;
        {
            let mut st = db.prepare("INSERT INTO _mosaic_tombstones VALUES (?1, ?2)")?;
            for rid in rids {
                st.execute(rusqlite::params![id.0, rid])?;
            }
        }
        let mut conn = Conn {
            db,
            shards_dir: self.shards_dir.clone(),
            copies: self.copies_path.clone(),
            copies_attached: Default::default(),
            attached: vec![],
            soundness: self.soundness.clone(),
            gate: self.gate.clone(),
            manifest: Default::default(),
        };
        conn.attach(std::slice::from_ref(id))?;
        Ok(conn)
    }
}

impl Conn {
    pub(in crate::store) fn db(&self) -> &Connection {
        &self.db
    }

    /// Run statements without parameters or rows (BEGIN, DDL of temp
    /// tables, several statements separated by semicolons).
    pub fn batch(&self, sql: &str) -> Result<()> {
        if sql.contains(';') {
            return Ok(self.db.execute_batch(sql)?);
        }
        // One statement (BEGIN, COMMIT, SAVEPOINT: every statement runs
        // some) is kept prepared, as `prepare` keeps queries.
        let mut st = self.db.prepare_cached(sql)?;
        let mut rows = st.raw_query();
        while rows.next()?.is_some() {}
        Ok(())
    }

    /// COMMIT a session's transaction, once no backup holds the commit
    /// gate (`store::gate`).
    pub fn commit(&self) -> Result<()> {
        self.gate.commit(|| self.batch("COMMIT"))
    }

    /// Run one statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: &[Datum]) -> Result<usize> {
        self.prepare(sql)?.execute(params)
    }

    /// Run one statement, sending each row to `sink`; the number of rows.
    pub fn query(
        &self,
        sql: &str,
        params: &[Datum],
        sink: &mut dyn FnMut(Vec<Datum>) -> Result<()>,
    ) -> Result<usize> {
        let mut st = self.prepare(sql)?;
        st.bind(params)?;
        let width = st.0.column_count();
        let mut rows = st.0.raw_query();
        let mut count = 0;
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(width);
            for i in 0..width {
                row.push(Datum::from_ref(r.get_ref(i)?));
            }
            sink(row)?;
            count += 1;
        }
        Ok(count)
    }

    /// The rows of one statement.
    pub fn rows(&self, sql: &str, params: &[Datum]) -> Result<Vec<Vec<Datum>>> {
        let mut out = Vec::new();
        self.query(sql, params, &mut |row| {
            out.push(row);
            Ok(())
        })?;
        Ok(out)
    }

    /// Whether one statement returns a row.
    pub fn exists(&self, sql: &str, params: &[Datum]) -> Result<bool> {
        let mut st = self.prepare(sql)?;
        st.bind(params)?;
        let found = st.0.raw_query().next()?.is_some();
        Ok(found)
    }

    /// How many columns a statement returns, without running it.
    pub fn column_count(&self, sql: &str) -> Result<usize> {
        Ok(self.db.prepare(sql)?.column_count())
    }

    /// A statement prepared once and run many times (COPY, bulk inserts).
    pub fn prepare(&self, sql: &str) -> Result<PreparedSql<'_>> {
        Ok(PreparedSql(self.db.prepare_cached(sql)?))
    }

    /// Attach `copies.db` (other nodes' unsealed rows copied here) unless
    /// it is attached already.
    pub fn attach_copies(&self) -> Result<()> {
        use std::sync::atomic::Ordering;
        if self.copies_attached.load(Ordering::Relaxed) {
            return Ok(());
        }
        self.db.execute(
            &format!("ATTACH ?1 AS {}", crate::store::copies::ATTACHED_AS),
            [self.copies.display().to_string()],
        )?;
        self.copies_attached.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// What interrupts this connection's running statement.
    pub fn interrupt_handle(&self) -> Interrupt {
        Interrupt(self.db.get_interrupt_handle())
    }

    /// Register the functions whose answer depends on the session.
    pub fn register_session(&self, session: &SessionFunctions) -> Result<()> {
        crate::store::udf::session::register(&self.db, session)
    }

    /// Attach the shards a statement reads (read-only, under
    /// `attach_name`), detaching others it does not need when too many are
    /// attached already. A shard attached by an earlier statement is read
    /// through that attachment only while its file is the one checked
    /// then: one found damaged since is refused (XX001), one whose file
    /// changed since is checked and attached afresh.
    pub fn attach(&mut self, shards: &[ShardId]) -> Result<()> {
        let needed: HashSet<&ShardId> = shards.iter().collect();
        self.drop_changed(&needed)?;
        let missing: Vec<&ShardId> = needed
            .iter()
            .copied()
            .filter(|id| !self.is_attached(id))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if self.attached.len() + missing.len() > MAX_ATTACHED {
            // Detach what this statement does not need; inside a transaction
            // a database it already read cannot be detached, so keep those.
            let mut keep = Vec::new();
            for (id, stamp) in std::mem::take(&mut self.attached) {
                if needed.contains(&id) || self.detach_one(&id).is_err() {
                    keep.push((id, stamp));
                }
            }
            self.attached = keep;
        }
        if self.attached.len() + missing.len() > MAX_ATTACHED {
            return Err(Error::Unsupported(format!(
                "a transaction writing to more than {MAX_ATTACHED} shards"
            )));
        }
        for id in missing {
            let path = crate::store::shard::shard_path(&self.shards_dir, id);
            let stamp = self.soundness.check(&path, id)?;
            self.db.execute(
                &format!("ATTACH ?1 AS {}", quote(&attach_name(id))),
                [format!("file:{}?immutable=1&mode=ro", path.display())],
            )?;
            self.attached.push((id.clone(), stamp));
        }
        Ok(())
    }

    fn is_attached(&self, id: &ShardId) -> bool {
        self.attached.iter().any(|(a, _)| a == id)
    }

    /// Detach the shards of `needed` attached earlier whose file changed
    /// since (damaged, or replaced by a healthy copy: the attachment still
    /// reads the file it opened). Inside a transaction that read one it
    /// cannot be detached, and the statement fails with XX001: what the
    /// transaction read may not be what the shard's id names.
    fn drop_changed(&mut self, needed: &HashSet<&ShardId>) -> Result<()> {
        let mut changed = Vec::new();
        for (id, stamp) in self.attached.iter().filter(|(id, _)| needed.contains(id)) {
            let path = crate::store::shard::shard_path(&self.shards_dir, id);
            if !self.soundness.unchanged(&path, id, stamp)? {
                changed.push(id.clone());
            }
        }
        for id in changed {
            if self.detach_one(&id).is_err() {
                return Err(Error::DataCorrupted(format!(
                    "the file of shard {id} changed while this transaction read it; \
                     run the transaction again"
                )));
            }
            self.attached.retain(|(a, _)| a != &id);
        }
        Ok(())
    }

    /// Detach one shard (outside a transaction that read it).
    pub fn detach(&mut self, id: &ShardId) -> Result<()> {
        self.detach_one(id)?;
        self.attached.retain(|(a, _)| a != id);
        Ok(())
    }

    fn detach_one(&self, id: &ShardId) -> Result<()> {
        self.db
            .execute_batch(&format!("DETACH {}", quote(&attach_name(id))))?;
        Ok(())
    }
}

/// A prepared statement of a `Conn`.
pub struct PreparedSql<'c>(rusqlite::CachedStatement<'c>);

impl PreparedSql<'_> {
    /// Bind `$n` values (the translated SQL says `?n`).
    fn bind(&mut self, params: &[Datum]) -> Result<()> {
        let expected = self.0.parameter_count();
        for i in 1..=expected {
            let v = params.get(i - 1).ok_or_else(|| {
                Error::ProtocolViolation(format!(
                    "bind message supplies {} parameters, but prepared statement requires {expected}",
                    params.len()
                ))
            })?;
            self.0.raw_bind_parameter(i, v)?;
        }
        Ok(())
    }

    /// Run it with `params`; the number of rows it changed.
    pub fn execute(&mut self, params: &[Datum]) -> Result<usize> {
        self.bind(params)?;
        Ok(self.0.raw_execute()?)
    }
}

/// Rows per multi-row INSERT of `width` values each: a statement's start
/// and end cost more than the row it inserts, so rows go in batches of up
/// to 64, never with more bound values than SQLite takes (32766).
pub fn rows_per_insert(width: usize) -> usize {
    32766usize.checked_div(width).map_or(1, |n| n.clamp(1, 64))
}

/// `(?1, …, ?w), (?w+1, …), …`: `rows` rows of `width` numbered
/// parameters, for `INSERT … VALUES`.
pub fn value_rows(width: usize, rows: usize) -> String {
    let row = |r: usize| {
        let marks: Vec<String> = (1..=width).map(|c| format!("?{}", r * width + c)).collect();
        format!("({})", marks.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}
