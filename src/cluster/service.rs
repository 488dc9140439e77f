//! The node's side of the RPC: answer a peer's request.

use std::sync::{Arc, Weak};

use crate::cluster::proto::{Request, Response, BATCH_ROWS};
use crate::cluster::rpc::{Handler, Sender};
use crate::cluster::Cluster;
use crate::error::{Error, Result};
use crate::exec::handle::{Event, Execution, SessionHandle};
use crate::exec::Kind;

/// Process ids of sessions that serve peers' queries (never a client's:
/// those count up from 1).
const PEER_PID: i32 = -1;

pub struct Service {
    pub cluster: Weak<Cluster>,
    /// Idle sessions for peers' requests: starting one (a thread, a SQLite
    /// connection, its functions) costs more than a point query.
    pub idle: parking_lot::Mutex<Vec<SessionHandle>>,
}

/// Idle peer sessions kept for reuse.
const IDLE_SESSIONS: usize = 16;

impl Service {
    pub fn new(cluster: Weak<Cluster>) -> Service {
        Service {
            cluster,
            idle: parking_lot::Mutex::new(Vec::new()),
        }
    }

    /// An idle peer session, or a new one.
    async fn session(&self, cluster: &Arc<Cluster>) -> Result<SessionHandle> {
        let idle = self.idle.lock().pop();
        match idle {
            Some(h) => Ok(h),
            None => {
                SessionHandle::spawn(cluster.store.clone(), "mosaic".into(), PEER_PID, None).await
            }
        }
    }

    /// Keep a session whose request ended cleanly (no open transaction).
    fn give_back(&self, handle: SessionHandle) {
        if handle.txn_state() == crate::exec::TxnState::Idle {
            let mut idle = self.idle.lock();
            if idle.len() < IDLE_SESSIONS {
                idle.push(handle);
            }
        }
    }
}

#[async_trait::async_trait]
impl Handler for Service {
    type Req = Request;
    type Resp = Response;

    async fn handle(&self, req: Request, out: Sender<Response>) -> Result<()> {
        let cluster = self
            .cluster
            .upgrade()
            .ok_or_else(|| Error::Internal("node is shutting down".into()))?;
        match req {
            Request::Query {
                sql,
                params,
                replicas,
                skip,
            } => {
                let handle = self.session(&cluster).await?;
                handle
                    .run(move |sess| {
                        sess.reads = Arc::new(crate::cluster::Reads::only(replicas, skip))
                    })
                    .await?;
                // A peer that goes away (cancel, timeout) stops the query here.
                let r = tokio::select! {
                    r = query(&handle, sql, params, &out) => r,
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
            Request::Catalog => {
                let store = cluster.store.clone();
                let entries = tokio::task::spawn_blocking(move || store.catalog.entries())
                    .await
                    .map_err(Error::internal)??;
                out.send(Response::Catalog(entries)).await
            }
            Request::ApplyCatalog(entries) => {
                let store = cluster.store.clone();
                tokio::task::spawn_blocking(move || -> Result<()> {
                    for e in &entries {
                        store.apply_entry(e)?;
                    }
                    Ok(())
                })
                .await
                .map_err(Error::internal)??;
                out.send(Response::Done).await
            }
            Request::Scan {
                table,
                filter,
                params,
                sealed_only,
                replicas,
                skip,
            } => {
                let handle = self.session(&cluster).await?;
                let scan = handle.run(move |sess| {
                    sess.reads = Arc::new(crate::cluster::Reads::only(replicas, skip));
                    crate::exec::remote::scan_local(
                        sess,
                        &table,
                        filter.as_deref(),
                        &params,
                        sealed_only,
                    )
                });
                let rows = tokio::select! {
                    r = scan => r??,
                    _ = out.closed() => {
                        handle.cancel();
                        return Err(Error::Canceled);
                    }
                };
                self.give_back(handle);
                for chunk in rows.chunks(BATCH_ROWS) {
                    out.send(Response::Rows(chunk.to_vec())).await?;
                }
                Ok(())
            }
            Request::SealMatching {
                table,
                filter,
                params,
            } => {
                let handle = self.session(&cluster).await?;
                let matching = {
                    let table = table.clone();
                    handle
                        .run(move |sess| {
                            crate::exec::remote::open_rows_match(
                                sess,
                                &table,
                                filter.as_deref(),
                                &params,
                            )
                        })
                        .await??
                };
                self.give_back(handle);
                if matching {
                    let c = cluster.clone();
                    tokio::task::spawn_blocking(move || -> Result<()> {
                        c.store.seal(&table)?;
                        c.refresh_holdings()
                    })
                    .await
                    .map_err(Error::internal)??;
                }
                out.send(Response::Done).await
            }
            Request::Tombstones { table, rows } => {
                let store = cluster.store.clone();
                tokio::task::spawn_blocking(move || store.apply_tombstones(&table, &rows))
                    .await
                    .map_err(Error::internal)??;
                out.send(Response::Done).await
            }
            Request::Seal { table, nowait } => {
                let c = cluster.clone();
                tokio::task::spawn_blocking(move || -> Result<()> {
                    if nowait {
                        c.store.seal_nowait(&table)?;
                    } else {
                        c.store.seal(&table)?;
                    }
                    c.refresh_holdings()
                })
                .await
                .map_err(Error::internal)??;
                out.send(Response::Done).await
            }
            Request::Truncate { tables } => {
                let store = cluster.store.clone();
                tokio::task::spawn_blocking(move || -> Result<()> {
                    for t in &tables {
                        store.truncate_local(t)?;
                    }
                    Ok(())
                })
                .await
                .map_err(Error::internal)??;
                out.send(Response::Done).await
            }
            Request::Holdings => {
                let h = cluster.mine.lock().clone();
                out.send(Response::Holdings(h)).await
            }
            Request::FetchShard { id } => cluster.send_shard(&id, &out).await,
            Request::ShardMetas { ids } => {
                let store = cluster.store.clone();
                let metas = tokio::task::spawn_blocking(move || {
                    let held: std::collections::HashSet<String> = store
                        .with_writer(|w| crate::store::segment::live_shards(w, None))?
                        .into_iter()
                        .map(|s| s.id.0)
                        .collect();
                    ids.iter()
                        .filter(|id| held.contains(*id))
                        .map(|id| {
                            store
                                .meta(&crate::types::shard::ShardId(id.clone()))
                                .map(|m| (*m).clone())
                        })
                        .collect::<Result<Vec<_>>>()
                })
                .await
                .map_err(Error::internal)??;
                out.send(Response::Metas(metas)).await
            }
            Request::Announce { node, holdings } => {
                cluster.take_holdings(&node, holdings);
                out.send(Response::Done).await
            }
            Request::ForgetNode { node } => {
                cluster.forget(&node);
                out.send(Response::Done).await
            }
            Request::ShardTombstones { id } => {
                let store = cluster.store.clone();
                let rids = tokio::task::spawn_blocking(move || {
                    store.tombstones_of(&crate::types::shard::ShardId(id))
                })
                .await
                .map_err(Error::internal)??;
                out.send(Response::Rids(rids)).await
            }
        }
    }
}

/// Run a peer's query over this node's own data on a session of its own
/// (one that never asks peers in turn), streaming the rows back in
/// batches. If the peer goes away, the statement is cancelled.
async fn query(
    handle: &SessionHandle,
    sql: String,
    params: Vec<crate::types::Datum>,
    out: &Sender<Response>,
) -> Result<()> {
    let mut prepared = {
        let sql = sql.clone();
        handle
            .run(move |sess| crate::exec::prepare(&sess.store, &sql, &[]))
            .await??
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
