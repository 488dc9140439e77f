//! `mosaic.seal('t')`: seal a table's open segments on every node now.

use crate::error::{Error, Result};
use crate::exec::session::RowSink;
use crate::exec::{Outcome, Session, TxnState};
use crate::types::Datum;

impl Session {
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
        let sealed = self.store.seal(table)?;
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
        sink(vec![match sealed.last() {
            Some(m) => Datum::Text(m.id.0.clone()),
            None => Datum::Null,
        }])?;
        Ok(Outcome::Rows { count: 1 })
    }
}
