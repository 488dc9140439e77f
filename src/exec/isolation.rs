//! Transaction isolation: which levels a transaction can have here, and
//! what each gives.
//!
//! DESIGN: a transaction block is one SQLite transaction on this node, and
//! SQLite lets one writer at a time commit (WAL mode). What that gives:
//!
//! - A block that keeps its first snapshot sees a serial order of this
//!   node's transactions: readers see a prefix of it, and a block that
//!   writes after another transaction committed fails with 40001 rather
//!   than write from a stale view. That is SERIALIZABLE (so also REPEATABLE
//!   READ) for this node's data. Other nodes' data is read as of each
//!   statement, so on a node with peers neither level can be promised:
//!   both are refused there (0A000) rather than quietly weakened.
//! - READ COMMITTED (the default; READ UNCOMMITTED means the same, as in
//!   PostgreSQL) must let each statement see what committed before it
//!   began. Before each statement of such a block that has not written
//!   yet, the block's SQLite read transaction is ended and begun again (its
//!   savepoints re-taken; nothing was written, so nothing is lost). Once
//!   the block writes it holds the node's write lock, so no other
//!   transaction can commit here and its snapshot stays the latest.

use sqlparser::ast::{TransactionIsolationLevel, TransactionMode};

use crate::error::{Error, Result};
use crate::exec::{Session, TxnState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Level {
    ReadUncommitted,
    #[default]
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

impl Level {
    /// The level's name as `SHOW transaction_isolation` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Level::ReadUncommitted => "read uncommitted",
            Level::ReadCommitted => "read committed",
            Level::RepeatableRead => "repeatable read",
            Level::Serializable => "serializable",
        }
    }

    /// A level named in SET (`'repeatable read'`, any case).
    pub fn parse(name: &str, setting: &str) -> Result<Level> {
        let text = name.trim().to_lowercase();
        [
            Level::Serializable,
            Level::RepeatableRead,
            Level::ReadCommitted,
            Level::ReadUncommitted,
        ]
        .into_iter()
        .find(|l| l.name() == text)
        .ok_or_else(|| {
            Error::InvalidParameter(format!(
                "invalid value for parameter \"{setting}\": \"{name}\""
            ))
        })
    }

    /// Whether a block at this level keeps the snapshot of its first read.
    pub fn keeps_snapshot(self) -> bool {
        matches!(self, Level::RepeatableRead | Level::Serializable)
    }

    /// Refuses a level this node cannot give: `clustered` when it has peers.
    pub fn check(self, clustered: bool) -> Result<Level> {
        if self.keeps_snapshot() && clustered {
            return Err(Error::Unsupported(format!(
                "isolation level {} on a node with peers (other nodes' rows are \
                 read as of each statement; use READ COMMITTED)",
                self.name().to_uppercase()
            )));
        }
        Ok(self)
    }
}

/// The modes of `BEGIN …` or `SET TRANSACTION …`: what each names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Modes {
    pub isolation: Option<Level>,
    pub read_only: Option<bool>,
}

impl Modes {
    pub fn from_ast(modes: &[TransactionMode]) -> Result<Modes> {
        use sqlparser::ast::TransactionAccessMode;
        let mut out = Modes::default();
        for m in modes {
            match m {
                TransactionMode::AccessMode(a) => {
                    out.read_only = Some(*a == TransactionAccessMode::ReadOnly)
                }
                TransactionMode::IsolationLevel(l) => {
                    out.isolation = Some(match l {
                        TransactionIsolationLevel::ReadUncommitted => Level::ReadUncommitted,
                        TransactionIsolationLevel::ReadCommitted => Level::ReadCommitted,
                        TransactionIsolationLevel::RepeatableRead => Level::RepeatableRead,
                        TransactionIsolationLevel::Serializable => Level::Serializable,
                        other => {
                            return Err(Error::Syntax(format!(
                                "syntax error at or near \"{}\"",
                                other.to_string().to_uppercase()
                            )))
                        }
                    })
                }
            }
        }
        Ok(out)
    }
}

impl Session {
    /// A block's level and access mode as it begins: those `modes` name, or
    /// the session's defaults.
    pub(super) fn start_modes(&mut self, modes: Modes) -> Result<()> {
        let level = match modes.isolation {
            Some(l) => l,
            None => Level::parse(
                &self
                    .settings
                    .get("default_transaction_isolation")
                    .unwrap_or_default(),
                "default_transaction_isolation",
            )?,
        };
        self.isolation = level.check(self.has_peers())?;
        self.read_only = modes.read_only.unwrap_or_else(|| {
            self.settings
                .get("default_transaction_read_only")
                .as_deref()
                == Some("on")
        });
        self.queried = false;
        self.publish_modes();
        Ok(())
    }

    /// The block ended: its level and access mode go back to the defaults.
    pub(super) fn end_modes(&mut self) {
        self.constraints_deferred = None;
        self.constraints_named.clear();
        self.isolation = Level::default();
        self.read_only = false;
        self.queried = false;
        self.settings.set_transaction(None);
    }

    /// What `SHOW transaction_isolation` and `transaction_read_only` read.
    fn publish_modes(&self) {
        self.settings.set_transaction(Some((
            self.isolation.name(),
            if self.read_only { "on" } else { "off" },
        )));
    }

    /// Whether writes are refused: in a READ ONLY block, or outside any
    /// block while `default_transaction_read_only` is on.
    pub(super) fn is_read_only(&self) -> bool {
        match self.txn {
            TxnState::Idle => {
                self.settings
                    .get("default_transaction_read_only")
                    .as_deref()
                    == Some("on")
            }
            _ => self.read_only,
        }
    }

    /// Before a statement of the open block: at READ COMMITTED, a block
    /// that has not written takes a fresh snapshot (see the module's notes).
    pub(super) fn statement_snapshot(&mut self) -> Result<()> {
        let was_queried = std::mem::replace(&mut self.queried, true);
        if !was_queried || self.isolation.keeps_snapshot() || self.conn.has_written()? {
            return Ok(());
        }
        let mut sql = String::from("COMMIT; BEGIN;");
        for (name, _) in &self.ddl_savepoints {
            sql.push_str(&format!(
                " SAVEPOINT {};",
                crate::types::quote(&format!("u_{name}"))
            ));
        }
        self.conn.batch(&sql)
    }

    /// `SET TRANSACTION …` (this block) or `SET SESSION CHARACTERISTICS AS
    /// TRANSACTION …` (the session's defaults).
    pub(super) fn set_transaction(&mut self, modes: Modes, session: bool) -> Result<()> {
        let clustered = self.has_peers();
        if session {
            if let Some(l) = modes.isolation {
                self.settings.set(
                    "default_transaction_isolation",
                    l.check(clustered)?.name().into(),
                )?;
            }
            if let Some(ro) = modes.read_only {
                self.settings.set(
                    "default_transaction_read_only",
                    if ro { "on" } else { "off" }.into(),
                )?;
            }
            return Ok(());
        }
        if self.txn == TxnState::Idle {
            self.shared.warn_with(
                "25P01",
                "SET TRANSACTION can only be used in transaction blocks".into(),
            );
            return Ok(());
        }
        if let Some(l) = modes.isolation {
            if self.queried && l != self.isolation {
                return Err(Error::ActiveTransaction(
                    "SET TRANSACTION ISOLATION LEVEL must be called before any query".into(),
                ));
            }
            self.isolation = l.check(clustered)?;
        }
        if let Some(ro) = modes.read_only {
            if !ro && self.read_only && self.queried {
                return Err(Error::ActiveTransaction(
                    "transaction read-write mode must be set before any query".into(),
                ));
            }
            self.read_only = ro;
        }
        self.publish_modes();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_by_name_and_refuse_what_a_cluster_cannot_give() {
        let l = Level::parse("Repeatable Read", "default_transaction_isolation").unwrap();
        assert_eq!(l, Level::RepeatableRead);
        assert_eq!(
            Level::parse("snapshot", "transaction_isolation")
                .unwrap_err()
                .sqlstate(),
            "22023"
        );
        assert!(Level::Serializable.check(false).is_ok());
        assert_eq!(
            Level::Serializable.check(true).unwrap_err().sqlstate(),
            "0A000"
        );
        assert!(Level::ReadCommitted.check(true).is_ok());
    }
}
