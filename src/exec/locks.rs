//! Row locks: `SELECT … FOR UPDATE | FOR SHARE [OF t] [NOWAIT | SKIP
//! LOCKED]`.
//!
//! DESIGN: SQLite lets one connection write a database at a time, and that
//! write lock is the only lock this node has: a locking read takes it
//! before it reads and holds it to the end of its transaction, as a block's
//! first write does. So every row a locking read returns stays as it read
//! it until the block ends, and a second locker waits for the first to end
//! (then reads what it committed): a job queue's `FOR UPDATE SKIP LOCKED
//! LIMIT 1` hands each row to exactly one worker. The lock is coarser than
//! PostgreSQL's, which changes when statements run, never what they
//! return: SKIP LOCKED waits where PostgreSQL would skip (its answer is the
//! one it would give after the other block ended), FOR SHARE excludes
//! other lockers, and NOWAIT fails (55P03) whenever another transaction
//! holds the lock. On a node with peers, the read first takes its tables'
//! row locks from the node that arbitrates them for the whole cluster
//! (`cluster::locks`), before its own node's write lock, and keeps them
//! until its transaction has committed and told the other nodes what it
//! wrote: so a job queue hands each row to one worker across nodes too.

use std::ops::ControlFlow;

use sqlparser::ast::{NonBlock, Query, SetExpr, Statement, TableFactor, Visit, Visitor};

use crate::error::{Error, Result};
use crate::exec::Session;

/// What a statement's locking clauses ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct RowLocks {
    pub nowait: bool,
    /// The relation named in errors: the `OF` table, or the first in FROM.
    pub table: String,
    /// Every relation locked: those of `OF`, or every table in the FROM
    /// of a query that locks without `OF`; sorted.
    pub tables: Vec<String>,
}

/// The row locks `stmt` asks for, in any of its queries.
pub fn row_locks(stmt: &Statement) -> Option<RowLocks> {
    struct Find(Option<RowLocks>);
    impl Visitor for Find {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            for lock in &q.locks {
                let (table, tables) = match &lock.of {
                    Some(of) => {
                        let name = crate::sql::object_name(of);
                        (name.clone(), vec![name])
                    }
                    None => (first_table(q).unwrap_or_default(), from_tables(q)),
                };
                let found = self.0.get_or_insert(RowLocks {
                    nowait: false,
                    table,
                    tables: Vec::new(),
                });
                found.nowait |= lock.nonblock == Some(NonBlock::Nowait);
                found.tables.extend(tables);
                found.tables.sort();
                found.tables.dedup();
            }
            ControlFlow::Continue(())
        }
    }
    let mut find = Find(None);
    let _ = stmt.visit(&mut find);
    find.0
}

fn first_table(q: &Query) -> Option<String> {
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    match &s.from.first()?.relation {
        TableFactor::Table { name, .. } => Some(crate::sql::object_name(name)),
        _ => None,
    }
}

/// The tables a query's FROM names, joins included (not those of its
/// subqueries).
fn from_tables(q: &Query) -> Vec<String> {
    let SetExpr::Select(s) = q.body.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in &s.from {
        for f in std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)) {
            if let TableFactor::Table { name, .. } = f {
                out.push(crate::sql::object_name(name));
            }
        }
    }
    out
}

impl Session {
    /// Before a locking read takes the node's write lock: refused in a
    /// read-only transaction; on a node with peers, `locks`' row locks in
    /// the cluster for this transaction (temporary tables are this
    /// session's alone).
    pub(super) fn lock_cluster_rows(&mut self, locks: &RowLocks) -> Result<()> {
        if self.is_read_only() {
            return Err(Error::ReadOnlyTransaction("SELECT FOR UPDATE".into()));
        }
        let Some(cluster) = self.cluster.clone().filter(|_| self.has_peers()) else {
            return Ok(());
        };
        let tables: Vec<String> = locks
            .tables
            .iter()
            .filter(|t| !self.is_temp(t))
            .cloned()
            .collect();
        if tables.is_empty() {
            return Ok(());
        }
        cluster.lock_rows(&mut self.row_grant, &tables, locks.nowait)
    }

    /// Before COMMIT: the cluster row locks this transaction took are still
    /// its own (40001 if not).
    pub(super) fn confirm_cluster_rows(&self) -> Result<()> {
        match (&self.cluster, &self.row_grant) {
            (Some(c), Some(g)) => c.confirm_rows(g),
            _ => Ok(()),
        }
    }

    /// The transaction ended (after its commit reached the other nodes):
    /// its cluster row locks go.
    pub(super) fn release_cluster_rows(&mut self) {
        if let (Some(c), Some(g)) = (&self.cluster, self.row_grant.take()) {
            c.unlock_rows(g);
        }
    }
}

/// `e` as a locking read reports it: with NOWAIT, finding the node's write
/// lock taken is 55P03.
pub fn lock_error(locks: &RowLocks, e: Error) -> Error {
    match e {
        Error::SerializationFailure(m) if locks.nowait && m.contains("write lock") => {
            Error::LockNotAvailable(format!(
                "could not obtain lock on row in relation \"{}\"",
                locks.table
            ))
        }
        other => other,
    }
}
