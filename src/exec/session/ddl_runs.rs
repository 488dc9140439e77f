//! How a DDL statement runs: in the open transaction block, or in a
//! transaction of its own that commits when it succeeds.

use sqlparser::ast::Statement;

use super::Session;
use crate::error::{Error, Result};
use crate::exec::{ddl, Outcome, TxnState};

impl Session {
    /// DDL runs in the open transaction block, or in a block of its own
    /// (see `ddl`); TRUNCATE outside a block empties the table at once, on
    /// every node.
    pub(super) fn ddl(&mut self, stmt: &Statement) -> Result<Outcome> {
        if let Statement::CreateIndex(ci) = stmt {
            if ci.concurrently && self.txn != TxnState::Idle {
                return Err(Error::ActiveTransaction(
                    "CREATE INDEX CONCURRENTLY cannot run inside a transaction block".into(),
                ));
            }
        }
        if let Statement::Truncate(t) = stmt {
            if ddl::temp::truncates_temp(self, t)? {
                return self.autocommit_ddl(|sess| {
                    ddl::run_with(sess, |sess| ddl::temp::truncate(sess, t))
                });
            }
        }
        // RESTART IDENTITY changes the catalog: it needs a transaction.
        match stmt {
            Statement::Truncate(t) if self.txn == TxnState::Idle && !ddl::restarts(t) => {
                ddl::truncate_now(self, stmt)
            }
            _ => self.autocommit_ddl(|sess| ddl::run(sess, stmt)),
        }
    }

    /// Run DDL `f` in the open block, or in a transaction of its own.
    pub(super) fn autocommit_ddl(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<Outcome>,
    ) -> Result<Outcome> {
        if self.txn != TxnState::Idle {
            return f(self);
        }
        self.begin(Default::default())?;
        self.ddl_autocommit = true;
        let r = f(self);
        self.ddl_autocommit = false;
        match r {
            Ok(outcome) => {
                self.commit()?;
                Ok(outcome)
            }
            Err(e) => {
                self.rollback()?;
                Err(e)
            }
        }
    }
}
