//! The times a session's date/time functions answer from: `now()` and its
//! kin are the start of the transaction, `statement_timestamp()` that of
//! the statement, fixed when each starts (as in PostgreSQL). A session
//! that runs a peer's fragment answers with its coordinator's times and
//! TimeZone.

use super::Session;
use crate::exec::TxnState;
use crate::types::datetime::{clock_micros, StatementTimes};

impl Session {
    /// A statement starts: fix its time (the query's, for each statement
    /// of a multi-statement query, as PostgreSQL fixes it per message),
    /// and its transaction's when none is open (the statement starts one,
    /// or is BEGIN).
    pub(super) fn start_clock(&mut self) {
        if let Some(t) = self.pinned_times {
            self.functions.times.set(t);
            return;
        }
        let mut t = self.functions.times.get();
        if !self.script_clock || t.statement == 0 {
            t.statement = clock_micros();
        }
        if self.txn == TxnState::Idle || t.transaction == 0 {
            t.transaction = t.statement;
        }
        t.zone = self.settings.zone();
        self.functions.times.set(t);
    }

    /// The session's TimeZone for the running statement (its
    /// coordinator's, for a peer's fragment).
    pub fn zone(&self) -> crate::types::zone::Zone {
        self.functions.times.zone()
    }

    /// The current statement's times, for the fragments it sends to peers.
    pub fn statement_times(&self) -> StatementTimes {
        self.functions.times.get()
    }

    /// Answer with a coordinator's times (`None`: this node's clock).
    pub fn pin_times(&mut self, times: Option<StatementTimes>) {
        self.pinned_times = times;
        if let Some(t) = times {
            self.functions.times.set(t);
        }
    }
}
