//! `mosaic.seal('t')`: seal a table's open segments on every node now;
//! and what follows a write's commit: sealing full segments, announcing
//! new unsealed rows, delivering tombstones.

use crate::error::{Error, Result};
use crate::exec::session::RowSink;
use crate::exec::{Outcome, Session, TxnState};
use crate::types::Datum;

impl Session {
    pub fn note_write(&mut self, table: &str) {
        // A temporary table is never sealed, nor announced to peers.
        if self.is_temp(table) {
            return;
        }
        self.written.insert(table.to_string());
    }

    /// Outside a transaction block, seal the tables this session filled up.
    pub(crate) fn after_write(&mut self) -> Result<()> {
        if self.txn != TxnState::Idle || self.written.is_empty() {
            return Ok(());
        }
        let written = std::mem::take(&mut self.written);
        let tombstoned = std::mem::take(&mut *self.tombstoned.lock());
        for table in &written {
            if self.catalog().table(table).is_some() {
                self.store.seal_full(table)?;
            }
        }
        for table in &tombstoned {
            if self.catalog().table(table).is_some() {
                self.store.compact(table)?;
            }
        }
        if let Some(c) = &self.cluster {
            c.written(&written);
            // Before the client hears of it: a copy on another node keeps
            // the rows readable while this one is down.
            c.copy_unsealed();
        }
        Ok(())
    }

    /// After a block committed: what `after_write` does, the copy of the
    /// unsealed rows brought up to date (a TRUNCATE in the block wrote no
    /// rows), the tombstones handed over.
    pub(crate) fn after_block(&mut self) -> Result<()> {
        let wrote = !self.written.is_empty();
        self.after_write()?;
        if let Some(c) = self.cluster.as_ref().filter(|_| !wrote) {
            // after_write copied what a block with writes wrote.
            c.copy_unsealed();
        }
        self.deliver_tombstones();
        Ok(())
    }

    /// Outside a transaction, hand the tombstones this node committed for
    /// other nodes' rows to those nodes before the client hears back, so
    /// every node reads the change. What fails stays queued and is retried.
    pub(crate) fn deliver_tombstones(&self) {
        if self.txn != TxnState::Idle {
            return;
        }
        if let Some(c) = self.cluster.as_ref().filter(|_| self.has_peers()) {
            if let Err(e) = c.deliver_outbox(&self.conn) {
                tracing::warn!(error = %e, "delivering tombstones failed; will retry");
            }
        }
    }

    pub(super) fn seal(&mut self, table: &str, sink: &mut RowSink) -> Result<Outcome> {
        if self.is_temp(table) {
            return Err(Error::Unsupported(format!(
                "mosaic.seal() of temporary table \"{table}\""
            )));
        }
        if self.txn != TxnState::Idle {
            return Err(Error::Unsupported(
                "mosaic.seal() inside a transaction block".into(),
            ));
        }
        let sealed = self.seal_everywhere(table)?;
        sink(vec![match sealed.last() {
            Some(m) => Datum::Text(m.id.0.clone()),
            None => Datum::Null,
        }])?;
        Ok(Outcome::Rows { count: 1 })
    }

    /// Seal `table`'s open segment here and on every live peer, and wait
    /// until every node's new shards are in the registry; this node's new
    /// shards.
    pub(crate) fn seal_everywhere(
        &mut self,
        table: &str,
    ) -> Result<Vec<std::sync::Arc<crate::store::shard::ShardMeta>>> {
        let sealed = self.store.seal(table)?;
        if let Some(c) = &self.cluster {
            // The copy of the unsealed rows drops the sealed ones, so the
            // new shards may go to other nodes at once.
            c.copy_unsealed();
        }
        if let Some(c) = self.cluster.as_ref().filter(|_| self.has_peers()) {
            c.on_all_peers(
                &crate::cluster::proto::Request::Seal {
                    table: table.to_string(),
                    nowait: false,
                },
                crate::cluster::QUERY_TIMEOUT,
            )?;
            // Return once every node's new shards are in the registry.
            c.refresh_holdings()?;
            c.pull_all_holdings();
        }
        Ok(sealed)
    }
}
