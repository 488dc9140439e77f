//! The node's side of the RPC: answer a peer's request. What needs the
//! executor (a query, a scan, a look at the open segments) goes through
//! [`PeerService`], which `exec` implements and `node` hands over at start,
//! so the cluster never reaches up into the executor.

use std::sync::{Arc, Weak};

use crate::cluster::proto::{Request, Response, BATCH_ROWS};
use crate::cluster::rpc::{Handler, Sender};
use crate::cluster::{Cluster, Reads};
use crate::error::{Error, Result};
use crate::types::Datum;

/// What the cluster needs from the executor to serve peers' requests.
#[async_trait::async_trait]
pub trait PeerService: Send + Sync + 'static {
    /// Run a peer's query (one SELECT) over this node's own data and the
    /// copies `reads` names, streaming the rows to `out` in batches; stop
    /// when `out` closes.
    async fn query(
        &self,
        sql: String,
        params: Vec<Datum>,
        reads: Reads,
        out: &Sender<Response>,
    ) -> Result<()>;

    /// This node's live rows of `table` matching `filter`, each with the
    /// shard and row key it lives at.
    async fn scan(
        &self,
        scan: Scan,
        reads: Reads,
        out: &Sender<Response>,
    ) -> Result<Vec<Vec<Datum>>>;

    /// Whether this node's open segment holds rows of `table` matching
    /// `filter`.
    async fn open_rows_match(
        &self,
        table: String,
        filter: Option<String>,
        params: Vec<Datum>,
    ) -> Result<bool>;
}

/// A peer's request for this node's rows of one table.
#[derive(Debug, Clone)]
pub struct Scan {
    pub table: String,
    pub filter: Option<String>,
    pub params: Vec<Datum>,
    /// Only rows in sealed shards (not the open segment).
    pub sealed_only: bool,
}

pub struct Service {
    pub cluster: Weak<Cluster>,
    pub peers: Arc<dyn PeerService>,
}

impl Service {
    pub fn new(cluster: Weak<Cluster>, peers: Arc<dyn PeerService>) -> Service {
        Service { cluster, peers }
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
                let reads = Reads::only(replicas, skip);
                self.peers.query(sql, params, reads, &out).await
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
                let scan = Scan {
                    table,
                    filter,
                    params,
                    sealed_only,
                };
                let rows = self
                    .peers
                    .scan(scan, Reads::only(replicas, skip), &out)
                    .await?;
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
                let matching = self
                    .peers
                    .open_rows_match(table.clone(), filter, params)
                    .await?;
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
                    let held: std::collections::HashSet<String> =
                        store.live_shards()?.into_iter().map(|s| s.id.0).collect();
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
