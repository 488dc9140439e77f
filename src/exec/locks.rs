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
//! holds the lock. Rows on other nodes cannot be locked from here, so on a
//! node with peers a locking read is refused (0A000).

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
}

/// The row locks `stmt` asks for, in any of its queries.
pub fn row_locks(stmt: &Statement) -> Option<RowLocks> {
    struct Find(Option<RowLocks>);
    impl Visitor for Find {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            for lock in &q.locks {
                let table = match &lock.of {
                    Some(of) => crate::sql::object_name(of),
                    None => first_table(q).unwrap_or_default(),
                };
                let found = self.0.get_or_insert(RowLocks {
                    nowait: false,
                    table,
                });
                found.nowait |= lock.nonblock == Some(NonBlock::Nowait);
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

impl Session {
    /// Whether this session can take `locks` at all.
    pub(super) fn check_row_locks(&self, locks: &RowLocks) -> Result<()> {
        if self.is_read_only() {
            return Err(Error::ReadOnlyTransaction("SELECT FOR UPDATE".into()));
        }
        if self.has_peers() {
            return Err(Error::Unsupported(format!(
                "SELECT … FOR UPDATE/SHARE of \"{}\" on a node with peers (rows on other \
                 nodes cannot be locked from here)",
                locks.table
            )));
        }
        Ok(())
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
