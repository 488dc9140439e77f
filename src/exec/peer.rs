//! The executor's side of the cluster's [`PeerService`]: a peer's query,
//! scan or probe runs on a session of its own (one that never asks peers
//! in turn), taken from a small pool of idle ones. If the peer goes away
//! (cancel, timeout), the statement is cancelled.

use std::sync::Arc;

use crate::cluster::proto::{Probe, Response, BATCH_ROWS};
use crate::cluster::rpc::Sender;
use crate::cluster::service::{PeerService, Scan};
use crate::cluster::Reads;
use crate::error::{Error, Result};
use crate::exec::handle::{Event, Execution, SessionHandle};
use crate::exec::{Kind, TxnState};
use crate::store::Store;
use crate::types::datetime::StatementTimes;
use crate::types::Datum;

/// Process ids of sessions that serve peers' queries (never a client's:
/// those count up from 1).
const PEER_PID: i32 = -1;

/// Idle peer sessions kept for reuse.
const IDLE_SESSIONS: usize = 16;

/// Serves peers' requests on this node's data.
pub struct PeerHandler {
    store: Arc<Store>,
    /// Idle sessions for peers' requests: starting one (a thread, a SQLite
    /// connection, its functions) costs more than a point query.
    idle: parking_lot::Mutex<Vec<SessionHandle>>,
}

impl PeerHandler {
    pub fn new(store: Arc<Store>) -> PeerHandler {
        PeerHandler {
            store,
            idle: parking_lot::Mutex::new(Vec::new()),
        }
    }

    /// An idle peer session reading what `reads` says, or a new one.
    async fn session(&self, reads: Reads, times: Option<StatementTimes>) -> Result<SessionHandle> {
        let idle = self.idle.lock().pop();
        let handle = match idle {
            Some(h) => h,
            None => {
                SessionHandle::spawn(self.store.clone(), "mosaic".into(), PEER_PID, None, None)
                    .await?
            }
        };
        handle
            .run(move |sess| {
                sess.reads = Arc::new(reads);
                sess.pin_times(times);
            })
            .await?;
        Ok(handle)
    }

    /// Keep a session whose request ended cleanly (no open transaction).
    fn give_back(&self, handle: SessionHandle) {
        if handle.txn_state() == TxnState::Idle {
            let mut idle = self.idle.lock();
            if idle.len() < IDLE_SESSIONS {
                idle.push(handle);
            }
        }
    }
}

#[async_trait::async_trait]
impl PeerService for PeerHandler {
    async fn query(
        &self,
        sql: String,
        params: Vec<Datum>,
        times: Option<StatementTimes>,
        reads: Reads,
        out: &Sender<Response>,
    ) -> Result<()> {
        let handle = self.session(reads, times).await?;
        let r = tokio::select! {
            r = query(&handle, sql, params, out) => r,
            _ = out.closed() => {
                handle.cancel();
                Err(Error::Canceled)
            }
        };
        if r.is_ok() {
            self.give_back(handle);
        }
        r
    }

    async fn scan(
        &self,
        scan: Scan,
        reads: Reads,
        out: &Sender<Response>,
    ) -> Result<Vec<Vec<Datum>>> {
        if let Some(probe) = &scan.probe {
            wait_or_die(&self.store, &scan.table, probe, &scan.params).await?;
        }
        let handle = self.session(reads, scan.times).await?;
        let run = handle.run(move |sess| {
            crate::exec::remote::scan_local(
                sess,
                &scan.table,
                scan.filter.as_deref(),
                &scan.params,
                scan.sealed_only,
                scan.columns,
                scan.versions,
            )
        });
        let rows = tokio::select! {
            r = run => r??,
            _ = out.closed() => {
                handle.cancel();
                return Err(Error::Canceled);
            }
        };
        self.give_back(handle);
        Ok(rows)
    }

    async fn open_rows_match(
        &self,
        table: String,
        filter: Option<String>,
        params: Vec<Datum>,
    ) -> Result<bool> {
        let handle = self.session(Reads::default(), None).await?;
        let matching = handle
            .run(move |sess| {
                crate::exec::remote::open_rows_match(sess, &table, filter.as_deref(), &params)
            })
            .await??;
        self.give_back(handle);
        Ok(matching)
    }
}

/// A peer's uniqueness probe for values of `table`'s key while a
/// transaction here that has not ended holds one of them (both would
/// otherwise commit the same key; `store::inflight`): an asker whose
/// transaction is older, by (start, node name), waits for the holders to
/// end, so that its scan then finds the row if they committed it; a
/// younger one fails with 40001 at once. Waits only go from older to
/// younger, so two nodes never wait for each other.
async fn wait_or_die(store: &Store, table: &str, probe: &Probe, params: &[Datum]) -> Result<()> {
    if probe.columns.is_empty() {
        return Ok(());
    }
    let values: Vec<Vec<Datum>> = (params.chunks(probe.columns.len()))
        .map(<[Datum]>::to_vec)
        .collect();
    let deadline = tokio::time::Instant::now() + crate::cluster::locks::LOCK_WAIT;
    while let Some(since) = store.inflight.held_since(table, &probe.columns, &values) {
        let older = (probe.since, probe.node.as_str()) < (since, store.node_name.as_str());
        if !older || tokio::time::Instant::now() >= deadline {
            return Err(Error::SerializationFailure(
                "could not serialize access due to concurrent update".into(),
            )
            .with_detail(format!(
                "A transaction on node {} that has not ended wrote the same value of ({}) in table \"{table}\".",
                store.node_name,
                probe.columns.join(", ")
            )));
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    Ok(())
}

/// Run a peer's query on `handle`, streaming the rows back in batches.
async fn query(
    handle: &SessionHandle,
    sql: String,
    params: Vec<crate::types::Datum>,
    out: &Sender<Response>,
) -> Result<()> {
    let mut prepared = {
        let sql = sql.clone();
        handle.run(move |sess| sess.prepare(&sql, &[])).await??
    };
    let Some(p) = prepared.pop().filter(|_| prepared.is_empty()) else {
        return Err(Error::ProtocolViolation(
            "a peer query must be one statement".into(),
        ));
    };
    if p.kind != Kind::Query {
        return Err(Error::ProtocolViolation(format!(
            "a peer may only run queries, not: {sql}"
        )));
    }
    match handle.execute(Arc::new(p), params).await? {
        Execution::Done(_) => Ok(()),
        Execution::Rows(mut stream) => {
            let mut batch = Vec::new();
            while let Some(ev) = stream.next().await {
                match ev {
                    Event::Rows(rows) => {
                        batch.extend(rows);
                        if batch.len() >= BATCH_ROWS {
                            if let Err(e) =
                                out.send(Response::Rows(std::mem::take(&mut batch))).await
                            {
                                handle.cancel();
                                stream.close();
                                return Err(e);
                            }
                        }
                    }
                    Event::End(r) => {
                        r?;
                        break;
                    }
                }
            }
            if !batch.is_empty() {
                out.send(Response::Rows(batch)).await?;
            }
            Ok(())
        }
    }
}
