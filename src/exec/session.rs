//! One client session: its connection, its transaction and settings, and
//! what it shares with its async handle (interrupts, transaction state,
//! notices). The only way to run a prepared statement.

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use sqlparser::ast::Statement;

use crate::error::{Error, Result};
use crate::exec::{copy, cursor, ddl, query, settings, system, write};
use crate::exec::{Kind, Outcome, Prepared, TxnState};
use crate::store::Store;
use crate::types::shard::ShardId;
use crate::types::Datum;

mod catalog;
mod clock;
mod ddl_runs;
mod plans;
mod seal;
mod shared;

pub use shared::{InterruptGuard, Notice, Shared};

/// Where result rows go.
pub type RowSink<'a> = dyn FnMut(Vec<Datum>) -> Result<()> + 'a;

/// One client session: its connection, transaction and settings.
pub struct Session {
    pub(super) store: Arc<Store>,
    pub(super) conn: crate::store::Conn,
    pub(super) user: String,
    pub(super) txn: TxnState,
    pub(super) settings: settings::Settings,
    /// The version every row written by the current statement carries.
    pub(super) stmt_ver: Arc<AtomicI64>,
    pub(super) copy: Option<copy::CopyState>,
    /// Tables written in the current transaction (sealed when they fill up).
    pub(super) written: HashSet<String>,
    /// Tables with a shard it tombstoned half the rows of: compacted at the next commit.
    pub(crate) tombstoned: parking_lot::Mutex<HashSet<String>>,
    /// Unique-key values the current transaction wrote to tables other
    /// nodes share, held until it ends (`store::inflight`).
    pub(crate) held: crate::store::inflight::Held,
    /// SET CONSTRAINTS ALL DEFERRED (`Some(true)`) or IMMEDIATE in the
    /// open block; `None`: each constraint as declared.
    pub(crate) constraints_deferred: Option<bool>,
    /// SET CONSTRAINTS naming constraints in the open block, which a later
    /// SET CONSTRAINTS ALL overrides: deferred (true) or not, by name.
    pub(crate) constraints_named: std::collections::HashMap<String, bool>,
    /// The open block's DDL, published at COMMIT.
    pub(super) ddl: ddl::Block,
    /// The open block's uncommitted table definitions, as this session
    /// (and no other) sees them.
    pub(super) staged: crate::store::catalog::Staged,
    /// The session's temporary tables as committed (the open block's
    /// changes to them are in `ddl`).
    pub(super) temps: crate::store::catalog::Temps,
    /// `temps_now()` as of the current statement, for the session's SQL
    /// functions (`::regclass`, `pg_table_is_visible`, …).
    pub(super) shared_temps: Arc<parking_lot::RwLock<crate::store::catalog::Temps>>,
    /// The same, for the session's SQL functions (`::regclass`, …).
    pub(super) shared_staged: Arc<parking_lot::RwLock<crate::store::catalog::Staged>>,
    /// The DDL state at each user savepoint of the open block, innermost last.
    pub(super) ddl_savepoints: Vec<(String, ddl::Block)>,
    /// The open transaction is the implicit one of a multi-statement query.
    pub(super) implicit: bool,
    /// The open transaction is a DDL statement's own (outside a block).
    pub(super) ddl_autocommit: bool,
    /// The open transaction block holds the node's write lock.
    pub(super) writing: bool,
    /// The open transaction block is READ ONLY.
    pub(super) read_only: bool,
    /// The current statement fails rather than wait for the write lock.
    pub(super) lock_nowait: bool,
    /// The cluster row locks the open transaction holds (`exec::locks`).
    pub(super) row_grant: Option<crate::cluster::locks::Grant>,
    /// The open transaction block's isolation level.
    pub(super) isolation: super::isolation::Level,
    /// The open transaction block has run a statement (so its isolation
    /// can no longer change).
    pub(super) queried: bool,
    /// What prepared queries compiled to (`query::Compiled`).
    pub(super) compiled: super::query::Compiled,
    /// Prepared queries' fragment splits, by (statement, catalog version).
    pub(super) splits: super::query::Splits,
    /// Prepared forms of simple queries with their constants lifted.
    pub(super) lifted: super::lifted::Forms,
    pub(super) shared: Arc<Shared>,
    /// What the session's SQL functions answer from (fragment workers
    /// register them too).
    pub(super) functions: crate::store::udf::session::SessionFunctions,
    /// The cluster, when this session's queries read the peers' data too
    /// (not for sessions serving a peer's query).
    pub(super) cluster: Option<Arc<crate::cluster::Cluster>>,
    /// Open cursors (DECLARE … CURSOR).
    pub(super) cursors: cursor::Cursors,
    /// SQL-level prepared statements (PREPARE).
    pub(super) sql_statements: super::statements::SqlStatements,
    /// Which copies of other nodes' shards the current statement reads,
    /// here and on each peer (decided per statement from the registry).
    pub(super) reads: Arc<crate::cluster::Reads>,
    /// The coordinator's times, when this session runs a peer's fragment.
    pub(super) pinned_times: Option<crate::types::datetime::StatementTimes>,
    /// A multi-statement query runs: its statements share its start time.
    pub(super) script_clock: bool,
    /// A query that finds a live peer unreachable may run again without it.
    pub(super) retry_reads: bool,
    /// The peers found unreachable by the current statement.
    pub(super) unreachable: parking_lot::Mutex<HashSet<String>>,
    /// What the parts of an EXPLAIN ANALYZE run did (`analyzed`).
    pub(super) analyze: parking_lot::Mutex<Option<Vec<String>>>,
    /// LISTEN/NOTIFY and advisory locks (`exec::coordination`).
    pub(super) coord: Arc<super::coordination::Coordinator>,
    /// The perms of the token the session logged in with, if it did.
    pub(super) token_perms: Arc<parking_lot::RwLock<Option<crate::auth::token::Perms>>>,
    /// Whether the running statement may change sequences (nextval, setval).
    sequence_gate: Arc<crate::exec::pg_catalog::SequenceGate>,
    pub(super) _own_interrupt: InterruptGuard,
    /// The node's client sessions, when this is one of them.
    pub(crate) backends: Option<Arc<crate::exec::backends::Backends>>,
}

impl Session {
    /// Record a line of what a part of the statement did, while EXPLAIN
    /// ANALYZE runs it (`line` is not made otherwise).
    pub(crate) fn analyzed(&self, line: impl FnOnce() -> String) {
        if let Some(lines) = self.analyze.lock().as_mut() {
            lines.push(line());
        }
    }

    pub fn new(
        store: Arc<Store>,
        user: String,
        pid: i32,
        shared: Arc<Shared>,
        cluster: Option<Arc<crate::cluster::Cluster>>,
        backends: Option<Arc<crate::exec::backends::Backends>>,
    ) -> Result<Session> {
        let conn = store.connect()?;
        let own_interrupt = shared.register(&conn);
        let stmt_ver = Arc::new(AtomicI64::new(0));
        let settings = settings::Settings::default();
        *shared.search_path.write() = settings.get("search_path").unwrap_or_default();
        let shared_staged = Arc::new(parking_lot::RwLock::new(Default::default()));
        let shared_temps = Arc::new(parking_lot::RwLock::new(Default::default()));
        let coord = super::coordination::Coordinator::new(
            cluster.clone(),
            store.hlc.clone(),
            pid,
            shared.clone(),
        );
        let sequence_gate = Arc::new(crate::exec::pg_catalog::SequenceGate::default());
        let mut functions = system::session_functions(
            &store,
            &user,
            pid,
            &settings,
            stmt_ver.clone(),
            crate::exec::pg_catalog::SessionView {
                staged: shared_staged.clone(),
                temps: shared_temps.clone(),
                gate: sequence_gate.clone(),
                search_path: shared.search_path.clone(),
            },
        );
        functions.coordination = Some(coord.clone());
        let token_perms = Arc::new(parking_lot::RwLock::new(None));
        functions.tokens = Some(Arc::new(super::tokens::SessionTokens {
            store: store.clone(),
            cluster: cluster.clone(),
            role: functions.role.clone(),
            perms: token_perms.clone(),
        }));
        if let Some(b) = &backends {
            b.enlist(pid, &shared, &store, &mut functions);
        }
        conn.register_session(&functions)?;
        conn.batch("CREATE TEMP TABLE IF NOT EXISTS _mosaic_rids(rid INTEGER PRIMARY KEY)")?;
        Ok(Session {
            store,
            conn,
            user,
            txn: TxnState::Idle,
            settings,
            stmt_ver,
            copy: None,
            written: HashSet::new(),
            tombstoned: Default::default(),
            held: Default::default(),
            ddl: ddl::Block::default(),
            constraints_deferred: None,
            constraints_named: Default::default(),
            staged: Default::default(),
            temps: Default::default(),
            shared_temps,
            shared_staged,
            ddl_savepoints: vec![],
            implicit: false,
            ddl_autocommit: false,
            writing: false,
            read_only: false,
            isolation: Default::default(),
            queried: false,
            lock_nowait: false,
            row_grant: None,
            compiled: Default::default(),
            splits: Default::default(),
            lifted: Default::default(),
            shared,
            functions,
            cluster,
            cursors: cursor::Cursors::default(),
            sql_statements: Default::default(),
            reads: Arc::new(crate::cluster::Reads::default()),
            pinned_times: None,
            script_clock: false,
            retry_reads: false,
            unreachable: parking_lot::Mutex::new(HashSet::new()),
            analyze: parking_lot::Mutex::new(None),
            coord,
            token_perms,
            sequence_gate,
            _own_interrupt: own_interrupt,
            backends,
        })
    }

    /// The session's run-time parameters (SET, SHOW, startup packet).
    pub fn settings(&self) -> &settings::Settings {
        &self.settings
    }

    /// The settings changed outside a statement (the startup packet's):
    /// the timeouts follow them.
    pub fn settings_changed(&self) {
        self.shared.take_settings(&self.settings);
    }

    /// DISCARD ALL: settings back to their startup values, cursors closed.
    pub fn discard_all(&mut self) {
        self.settings.reset(None);
        self.shared.take_settings(&self.settings);
        crate::exec::cursor::close_all(self);
        self.sql_statements.remove(None);
        crate::exec::ddl::temp::discard(self);
        self.coord.discard();
        self.discard_sequences();
    }

    /// DISCARD SEQUENCES: `currval` and `lastval` forget what was drawn.
    pub fn discard_sequences(&mut self) {
        self.functions.drawn.lock().clear();
    }

    /// The result columns of an open cursor, if one is called `name`.
    /// Whether SQL's PREPARE made a statement of this name.
    pub fn has_sql_statement(&self, name: &str) -> bool {
        self.sql_statements.contains(name)
    }

    pub fn cursor_columns(&self, name: &str) -> Option<Vec<crate::exec::Column>> {
        self.cursors.columns(name)
    }

    /// Whether queries must also read other nodes' data.
    pub fn has_peers(&self) -> bool {
        self.cluster
            .as_ref()
            .is_some_and(|c| !c.members().is_empty())
    }

    /// Open the implicit transaction of a multi-statement simple query.
    pub fn begin_implicit(&mut self) -> Result<()> {
        if self.txn == TxnState::Idle {
            self.start_clock();
            self.script_clock = true;
            self.begin(Default::default())?;
            self.implicit = true;
        }
        self.shared.set_txn_state(self.txn);
        Ok(())
    }

    /// Close the implicit transaction, if one is still open: commit when
    /// the script succeeded, roll back otherwise.
    pub fn end_implicit(&mut self, ok: bool) -> Result<()> {
        self.script_clock = false;
        if !std::mem::take(&mut self.implicit) {
            return Ok(());
        }
        let r = match (self.txn, ok) {
            (TxnState::InBlock, true) => self.commit().map(|_| ()),
            (TxnState::Idle, _) => Ok(()),
            _ => self.rollback().map(|_| ()),
        };
        self.shared.set_txn_state(self.txn);
        r
    }

    /// Run one statement with bound parameters, delivering rows to `sink`.
    pub fn execute(
        &mut self,
        p: &Prepared,
        params: &[Datum],
        sink: &mut RowSink,
    ) -> Result<Outcome> {
        {
            let mut token = self.shared.cancel.lock();
            if token.is_cancelled() {
                *token = tokio_util::sync::CancellationToken::new();
            }
        }
        if self.txn == TxnState::Failed
            && !matches!(p.kind, Kind::Commit | Kind::Rollback | Kind::RollbackTo(_))
        {
            self.shared.set_txn_state(self.txn);
            return Err(Error::TransactionAborted);
        }
        self.start_clock();
        (self.shared).statement_starts(p.text.as_ref(), self.functions.times.get());
        let autocommit = self.txn == TxnState::Idle;
        let started = std::time::Instant::now();
        let r = self.dispatch(p, params, sink);
        crate::exec::backends::count_statement(&p.kind, r.is_ok(), started);
        if autocommit && self.txn == TxnState::Idle {
            self.coord.end_transaction(r.is_ok());
        }
        if r.is_err() && self.txn == TxnState::InBlock {
            self.txn = TxnState::Failed;
        }
        self.shared.set_txn_state(self.txn);
        self.shared.statement_ends(self.txn);
        if matches!(
            p.kind,
            Kind::Set | Kind::Commit | Kind::Rollback | Kind::RollbackTo(_)
        ) {
            self.shared.take_settings(&self.settings);
        }
        r
    }

    /// A statement failed before it reached [`Session::execute`] (at parse
    /// or bind): inside a transaction block that aborts the block, as in
    /// PostgreSQL.
    pub fn fail_statement(&mut self) {
        if self.txn == TxnState::InBlock {
            self.txn = TxnState::Failed;
        }
        self.shared.set_txn_state(self.txn);
    }

    /// Publish the transaction state for ReadyForQuery (after work that
    /// does not go through `execute`, such as COPY data).
    pub fn publish_txn_state(&self) {
        self.shared.set_txn_state(self.txn);
    }

    pub(super) fn dispatch(
        &mut self,
        p: &Prepared,
        params: &[Datum],
        sink: &mut RowSink,
    ) -> Result<Outcome> {
        match self.reprepared(p)? {
            Some(fresh) => self.dispatch_prepared(&fresh, params, sink),
            None => self.dispatch_prepared(p, params, sink),
        }
    }

    fn dispatch_prepared(
        &mut self,
        p: &Prepared,
        params: &[Datum],
        sink: &mut RowSink,
    ) -> Result<Outcome> {
        let _types = self.type_scope();
        if let Some(c) = &self.cluster {
            self.reads = c.reads();
        }
        if self.temps_now().len() + self.shared_temps.read().len() > 0 {
            *self.shared_temps.write() = self.temps_now().clone();
        }
        let write = match p.kind {
            Kind::Insert => Some("INSERT"),
            Kind::Update => Some("UPDATE"),
            Kind::Delete => Some("DELETE"),
            Kind::Ddl | Kind::PreParsedDdl(_) => Some("DDL"),
            Kind::CopyFrom(_) => Some("COPY FROM"),
            Kind::Merge(_) => Some("MERGE"),
            Kind::WithWrites(ref w) => Some(w.first_write()),
            _ => None,
        };
        if let Some(what) = write.filter(|_| self.is_read_only()) {
            return Err(Error::ReadOnlyTransaction(what.into()));
        }
        self.check_token(&p.kind)?;
        self.check_needs(&p.needs)?;
        let read_token = *self.token_perms.read() == Some(crate::auth::token::Perms::Read);
        self.sequence_gate.set(self.is_read_only(), read_token);
        let stmt = p.stmt.clone();
        match (&p.kind, stmt) {
            (Kind::Noop(tag), _) => Ok(Outcome::Command(tag.clone())),
            (Kind::Signal(s), _) => self.coord.signal(s),
            (Kind::SetConstraints(deferred, names), _) => {
                super::write::foreign::set_constraints(self, *deferred, names.as_deref())
            }
            (Kind::Prepare(spec), _) => super::statements::prepare(self, spec),
            (Kind::Execute(spec), _) => super::statements::execute(self, spec, sink),
            (Kind::Deallocate(name), _) => {
                self.sql_statements.remove(name.as_deref());
                let tag = ["DEALLOCATE ALL", "DEALLOCATE"][usize::from(name.is_some())];
                Ok(Outcome::Command(tag.into()))
            }
            (Kind::Declare(d), _) => cursor::declare(self, d, params),
            (Kind::Fetch(f), _) => cursor::fetch(self, f, sink),
            (Kind::Close(name), _) => cursor::close(self, name.as_deref()),
            (Kind::Begin(modes), _) => self.begin(*modes),
            (Kind::Commit, _) => self.commit(),
            (Kind::Rollback, _) => self.rollback(),
            (Kind::Savepoint(name), _) => self.savepoint("SAVEPOINT", name),
            (Kind::Release(name), _) => self.savepoint("RELEASE", name),
            (Kind::RollbackTo(name), _) => self.savepoint("ROLLBACK TO", name),
            (Kind::Set, Some(s)) => settings::set(self, &s),
            (Kind::Show, Some(s)) => settings::show(self, &s, sink),
            (Kind::Seal(table), _) => {
                let table = table.resolve("mosaic.seal", params)?.to_lowercase();
                self.seal(&table, sink)
            }
            (Kind::Backup(function, args), _) => {
                super::backup::run(self, function, args, params, sink)
            }
            (Kind::Replicate(_) | Kind::ForgetNode(_), _) => {
                let Some(c) = self.cluster.clone() else {
                    return Err(Error::ObjectNotInState(
                        "this node is not part of a cluster".into(),
                    ));
                };
                let done = match &p.kind {
                    Kind::Replicate(id) => c.replicate(&id.resolve("mosaic.replicate", params)?)?,
                    Kind::ForgetNode(node) => {
                        c.forget_node(&node.resolve("mosaic.forget_node", params)?)?
                    }
                    _ => false,
                };
                sink(vec![Datum::Int(done as i64)])?;
                Ok(Outcome::Rows { count: 1 })
            }
            (Kind::Query | Kind::LockingQuery(_), Some(s)) => self.query(s, p, params, sink),
            (Kind::Explain, Some(s)) => super::explain::run_explain(self, s, params, sink),
            (Kind::Insert | Kind::Update | Kind::Delete, Some(s)) => {
                crate::exec::ddl::matview::refuse_write(self, &s)?;
                super::settle::wait_settled(self, &s)?;
                if matches!(p.kind, Kind::Update | Kind::Delete)
                    && !self.writing
                    && self.has_peers()
                {
                    write::seal_peers_first(self, &s, params)?;
                }
                let r = self.retrying_peers(true, sink, |sess, sink| {
                    write::run(sess, s.clone(), p, params, sink)
                });
                self.after_write()?;
                self.deliver_tombstones();
                r
            }
            (Kind::Merge(plan), _) => self.merge(plan, params, sink),
            (Kind::WithWrites(plan), _) => self.with_writes(plan, params, sink),
            (Kind::Ddl, Some(s)) => self.ddl(&s),
            (Kind::PreParsedDdl(d), _) => {
                self.autocommit_ddl(|sess| ddl::run_with(sess, |sess| ddl::pre_parsed(sess, d)))
            }
            (Kind::CopyFrom(spec), _) => copy::begin(self, spec.clone()),
            (Kind::CopyTo(spec), _) => {
                let Some(q) = spec.to.clone() else {
                    return Err(Error::Internal("COPY TO without a query".into()));
                };
                self.query(Statement::Query(q), p, params, sink)
            }
            _ => Err(Error::Internal("statement without a parse tree".into())),
        }
    }

    /// Run a query. When a peer that membership still counts as live does
    /// not answer (it died a moment ago), the query runs once more, taking
    /// that peer for down: its shards are then read from their copies.
    fn query(
        &mut self,
        s: Statement,
        p: &Prepared,
        params: &[Datum],
        sink: &mut RowSink,
    ) -> Result<Outcome> {
        super::settle::wait_settled(self, &s)?;
        let Kind::LockingQuery(locks) = &p.kind else {
            return self.retrying_peers(false, sink, |sess, sink| {
                query::run(sess, s.clone(), p, params, sink)
            });
        };
        // A locking read takes the write lock (see exec::locks).
        let r = self.lock_cluster_rows(locks).and_then(|()| {
            self.lock_nowait = locks.nowait;
            let r = self.retrying_peers(true, sink, |sess, sink| {
                query::run(sess, s.clone(), p, params, sink)
            });
            self.lock_nowait = false;
            r
        });
        if self.txn == TxnState::Idle {
            self.release_cluster_rows();
        }
        r.map_err(|e| super::locks::lock_error(locks, e))
    }

    /// Run `f` as one statement (see `in_statement`). When a peer that
    /// membership still counts as live does not answer (it died a moment
    /// ago) and no row went out yet, the statement (rolled back by then)
    /// runs once more, taking that peer for down: what it held is then
    /// read from copies. When a home refuses to leave out a shard this
    /// node read from its copy (compacted there since), it runs once more
    /// reading live homes' shards from the homes.
    pub(super) fn retrying_peers(
        &mut self,
        write: bool,
        sink: &mut RowSink,
        mut f: impl FnMut(&mut Session, &mut RowSink) -> Result<Outcome>,
    ) -> Result<Outcome> {
        self.unreachable.lock().clear();
        self.retry_reads = self.cluster.is_some();
        let mut sent = 0usize;
        let first = self.in_statement(write, |sess| {
            f(sess, &mut |row| {
                sent += 1;
                sink(row)
            })
        });
        self.retry_reads = false;
        let unreachable = std::mem::take(&mut *self.unreachable.lock());
        if first.is_err() && sent == 0 && !unreachable.is_empty() {
            metrics::counter!(crate::observe::PEER_REQUESTS, "outcome" => "retried").increment(1);
        }
        match (first, &self.cluster) {
            (Err(Error::Unavailable(m)), Some(c)) if sent == 0 && !unreachable.is_empty() => {
                tracing::info!(peers = ?unreachable, error = %m, "a peer did not answer; reading its shards from copies");
                self.reads = Arc::new(c.reads_avoiding(&unreachable, true));
                self.in_statement(write, |sess| f(sess, sink))
            }
            (Err(Error::StaleCopy(m)), Some(c)) if sent == 0 => {
                tracing::debug!(shard = %m, "a copy read here is gone at its home; asking the homes");
                self.reads = Arc::new(c.reads_avoiding(&unreachable, false));
                self.in_statement(write, |sess| f(sess, sink))
            }
            (r, _) => r,
        }
    }

    /// Run `f` as one atomic statement: inside the open transaction block
    /// (under a savepoint, so a failing statement leaves no trace), or in a
    /// transaction of its own.
    pub fn in_statement<T>(
        &mut self,
        write: bool,
        f: impl FnOnce(&mut Session) -> Result<T>,
    ) -> Result<T> {
        self.stmt_ver.store(self.store.hlc.now(), Ordering::Relaxed);
        if self.txn != TxnState::Idle {
            self.statement_snapshot()?;
        }
        let begin = match (self.txn, write) {
            (TxnState::Idle, true) => "BEGIN IMMEDIATE",
            (TxnState::Idle, false) => "BEGIN",
            _ => "SAVEPOINT mosaic_stmt",
        };
        if self.lock_nowait {
            self.conn.wait_for_locks(false)?;
        }
        let locked = self.conn.batch(begin).and_then(|()| {
            if write && self.txn != TxnState::Idle && !self.writing {
                // The first write of a transaction block takes the node's
                // write lock before it reads anything (planning reads the
                // manifest): waiting for the lock is fine, a snapshot gone
                // stale under it would not be.
                self.conn.take_write_lock()?;
                self.writing = true;
            }
            Ok(())
        });
        if self.lock_nowait {
            self.conn.wait_for_locks(true)?;
        }
        if let Err(e) = locked {
            if self.txn != TxnState::Idle {
                let _ = self
                    .conn
                    .batch("ROLLBACK TO mosaic_stmt; RELEASE mosaic_stmt");
            }
            return Err(e);
        }
        let r = f(self);
        self.stmt_ver.store(0, Ordering::Relaxed);
        let end = match (self.txn, r.is_ok()) {
            (TxnState::Idle, true) => "COMMIT",
            (TxnState::Idle, false) => "ROLLBACK",
            (_, true) => "RELEASE mosaic_stmt",
            (_, false) => "ROLLBACK TO mosaic_stmt; RELEASE mosaic_stmt",
        };
        let ended = match end {
            "COMMIT" => self.conn.commit(),
            _ => self.conn.batch(end),
        };
        if self.txn == TxnState::Idle {
            self.held.release();
        }
        match ended {
            Ok(()) if end == "COMMIT" && !self.temps.is_empty() => {
                crate::exec::ddl::temp::after_commit(self);
                r
            }
            Ok(()) => r,
            Err(e) => {
                let _ = self.conn.batch("ROLLBACK");
                r.and(Err(e))
            }
        }
    }

    /// The current statement's row version.
    pub fn stmt_version(&self) -> i64 {
        self.stmt_ver.load(Ordering::Relaxed)
    }

    /// Send the client a NOTICE with SQLSTATE `code` (PostgreSQL's
    /// "…, skipping" of IF [NOT] EXISTS), unless client_min_messages is
    /// above NOTICE. What follows `\nDETAIL:  ` in `message` is sent as
    /// the notice's DETAIL.
    pub fn notice(&self, code: &'static str, message: String) {
        let level = self
            .settings
            .get("client_min_messages")
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !matches!(level.as_str(), "warning" | "error") {
            self.shared.notice(code, message);
        }
    }

    pub fn stmt_ver_begin(&mut self) {
        self.stmt_ver.store(self.store.hlc.now(), Ordering::Relaxed);
    }

    pub fn stmt_ver_end(&mut self) {
        self.stmt_ver.store(0, Ordering::Relaxed);
    }

    fn begin(&mut self, modes: super::isolation::Modes) -> Result<Outcome> {
        // An explicit BEGIN inside a multi-statement query takes over its
        // implicit transaction.
        self.implicit = false;
        if self.txn != TxnState::Idle {
            // PostgreSQL warns and carries on.
            self.shared
                .warn_with("25001", "there is already a transaction in progress".into());
            return Ok(Outcome::TxnStart("BEGIN".into()));
        }
        self.start_modes(modes)?;
        // Deferred: a block takes the node's write lock at its first write
        // (see in_statement), so a block that only reads never blocks a
        // writer. What it sees meanwhile depends on its level (isolation).
        self.conn.batch("BEGIN")?;
        self.writing = false;
        self.txn = TxnState::InBlock;
        self.settings.begin_block();
        Ok(Outcome::TxnStart("BEGIN".into()))
    }

    /// SAVEPOINT, RELEASE and ROLLBACK TO a user's savepoint (named apart
    /// from the one each statement takes). Rolling back to a savepoint
    /// clears the failed state, as in PostgreSQL.
    fn savepoint(&mut self, verb: &str, name: &str) -> Result<Outcome> {
        if self.txn == TxnState::Idle {
            return Err(Error::NoTransaction(format!(
                "{verb} can only be used in transaction blocks"
            )));
        }
        let sql = format!("{verb} {}", crate::types::quote(&format!("u_{name}")));
        self.conn.batch(&sql).map_err(|e| {
            if e.to_string().contains("no such savepoint") {
                Error::NoSuchSavepoint(format!("savepoint \"{name}\" does not exist"))
            } else {
                e
            }
        })?;
        let at = self.ddl_savepoints.iter().rposition(|(n, _)| n == name);
        match (verb, at) {
            ("SAVEPOINT", _) => self
                .ddl_savepoints
                .push((name.to_string(), self.ddl.clone())),
            ("RELEASE", Some(i)) => self.ddl_savepoints.truncate(i),
            ("ROLLBACK TO", Some(i)) => {
                self.ddl_savepoints.truncate(i + 1);
                let to = self.ddl_savepoints[i].1.clone();
                ddl::restore(self, to);
            }
            _ => {}
        }
        self.coord.savepoint(verb, name);
        if verb == "ROLLBACK TO" {
            self.txn = TxnState::InBlock;
            cursor::after_rollback_to(self);
        }
        Ok(Outcome::Command(
            if verb == "ROLLBACK TO" {
                "ROLLBACK"
            } else {
                verb
            }
            .to_string(),
        ))
    }

    fn commit(&mut self) -> Result<Outcome> {
        match self.txn {
            TxnState::Idle => Ok(Outcome::TxnEnd("COMMIT".into())),
            TxnState::Failed => {
                self.rollback()?;
                Ok(Outcome::TxnEnd("ROLLBACK".into()))
            }
            TxnState::InBlock => {
                if let Err(e) = self.confirm_cluster_rows() {
                    self.rollback()?;
                    return Err(e);
                }
                let r = self.conn.commit();
                self.held.release();
                if r.is_err() {
                    self.release_cluster_rows();
                    self.coord.end_transaction(false);
                    let _ = self.conn.batch("ROLLBACK");
                    self.txn = TxnState::Idle;
                    self.end_modes();
                    self.settings.end_block(false);
                    cursor::after_rollback(self);
                    self.discard_ddl();
                    return r.map(|_| Outcome::TxnEnd("ROLLBACK".into()));
                }
                self.txn = TxnState::Idle;
                self.end_modes();
                self.settings.end_block(true);
                self.ddl_savepoints.clear();
                cursor::after_commit(self);
                ddl::publish(self)?;
                self.after_block()?;
                self.release_cluster_rows();
                self.coord.end_transaction(true);
                Ok(Outcome::TxnEnd("COMMIT".into()))
            }
        }
    }

    fn rollback(&mut self) -> Result<Outcome> {
        if self.txn != TxnState::Idle {
            let _ = self.conn.batch("ROLLBACK");
        }
        self.held.release();
        self.txn = TxnState::Idle;
        self.end_modes();
        self.settings.end_block(false);
        self.written.clear();
        self.release_cluster_rows();
        self.coord.end_transaction(false);
        cursor::after_rollback(self);
        self.discard_ddl();
        Ok(Outcome::TxnEnd("ROLLBACK".into()))
    }

    /// Forget the DDL of a block that did not commit.
    fn discard_ddl(&mut self) {
        self.ddl_savepoints.clear();
        ddl::restore(self, ddl::Block::default());
    }

    /// Attach the shards a statement reads to this connection.
    pub fn attach(&mut self, shards: &[ShardId]) -> Result<()> {
        self.conn.attach(shards)
    }
}

impl Drop for Session {
    /// A client that goes away inside a block: SQLite rolls the block back
    /// when the connection closes; its staged DDL goes too.
    fn drop(&mut self) {
        self.discard_ddl();
        self.release_cluster_rows();
        self.coord.end_session();
    }
}
