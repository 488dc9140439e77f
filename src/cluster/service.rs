//! The node's side of the RPC: answer a peer's request. What needs the
//! executor (a query, a scan, a look at the open segments) goes through
//! [`PeerService`], which `exec` implements and `node` hands over at start,
//! so the cluster never reaches up into the executor.

use std::sync::{Arc, Weak};

use crate::cluster::proto::{Request, Response, BATCH_ROWS};
use crate::cluster::rpc::{Handler, Sender};
use crate::cluster::{Cluster, Reads};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::types::datetime::StatementTimes;
use crate::types::shard::{ShardId, ShardMeta};
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
        times: Option<StatementTimes>,
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
    /// The columns as the asker knows them (see `Request::Scan`).
    pub columns: Option<Vec<crate::types::table::Column>>,
    /// The asker's times, which `now()` in `filter` answers with.
    pub times: Option<StatementTimes>,
    /// `Request::Versions` of the table with this oid: this node's own
    /// rows only (no copies), each with its version after its row key.
    pub versions: Option<u32>,
    /// A uniqueness probe (see `Request::Scan`).
    pub probe: Option<crate::cluster::proto::Probe>,
}

impl Scan {
    /// A `Scan` or `Versions` request as what to read, and which copies.
    fn of(req: Request) -> Result<(Scan, Reads)> {
        Ok(match req {
            Request::Scan {
                table,
                filter,
                params,
                sealed_only,
                replicas,
                skip,
                columns,
                times,
                probe,
                open_of,
                asker_live,
            } => {
                let scan = Scan {
                    table,
                    filter,
                    params,
                    sealed_only,
                    columns,
                    times,
                    versions: None,
                    probe,
                };
                let mut reads = Reads::only(replicas, skip, open_of);
                reads.asker_live = asker_live;
                (scan, reads)
            }
            Request::Versions {
                table,
                filter,
                params,
                columns,
                oid,
            } => {
                let scan = Scan {
                    table,
                    filter: Some(filter),
                    params,
                    sealed_only: false,
                    columns: Some(columns),
                    times: None,
                    versions: Some(oid),
                    probe: None,
                };
                (scan, Reads::default())
            }
            _ => return Err(Error::Internal("not a scan".into())),
        })
    }
}

pub struct Service {
    pub cluster: Weak<Cluster>,
    pub peers: Arc<dyn PeerService>,
    /// The node's hybrid logical clock, which every request's reading
    /// moves forward and every response's end carries.
    clock: Arc<crate::store::clock::Hlc>,
}

impl Service {
    pub fn new(
        cluster: Weak<Cluster>,
        peers: Arc<dyn PeerService>,
        clock: Arc<crate::store::clock::Hlc>,
    ) -> Service {
        Service {
            cluster,
            peers,
            clock,
        }
    }
}

#[async_trait::async_trait]
impl Handler for Service {
    type Req = Request;
    type Resp = Response;

    fn clock(&self) -> Option<&dyn super::rpc::Clock> {
        Some(&*self.clock)
    }

    async fn handle(&self, req: Request, out: Sender<Response>) -> Result<()> {
        let cluster = self
            .cluster
            .upgrade()
            .ok_or_else(|| Error::Internal("node is shutting down".into()))?;
        let store = cluster.store.clone();
        let done = match req {
            Request::Query {
                sql,
                params,
                replicas,
                skip,
                times,
                open_of,
                asker_live,
            } => {
                let mut reads = Reads::only(replicas, skip, open_of);
                reads.asker_live = asker_live;
                return self.peers.query(sql, params, times, reads, &out).await;
            }
            req @ (Request::Scan { .. } | Request::Versions { .. }) => {
                let (scan, reads) = Scan::of(req)?;
                return self.scan(scan, reads, &out).await;
            }
            Request::SealMatching {
                table,
                filter,
                params,
            } => {
                if self
                    .peers
                    .open_rows_match(table.clone(), filter, params)
                    .await?
                {
                    blocking(move || seal(&cluster, &table, false)).await?;
                }
                Response::Done
            }
            Request::Catalog => Response::Catalog(blocking(move || store.catalog.entries()).await?),
            Request::ApplyCatalog(entries) => {
                blocking(move || {
                    entries
                        .iter()
                        .try_for_each(|e| store.apply_entry(e).map(drop))?;
                    cluster.follow_renames();
                    Ok(())
                })
                .await?;
                Response::Done
            }
            Request::Tombstones { table, rows } => {
                blocking(move || store.apply_tombstones(&table, &rows)).await?;
                Response::Done
            }
            Request::Seal { table, nowait } => {
                blocking(move || seal(&cluster, &table, nowait)).await?;
                Response::Done
            }
            req @ (Request::Truncate { .. }
            | Request::CopyUnsealed(_)
            | Request::DropUnsealedCopy { .. }) => {
                blocking(move || unsealed(&cluster, req)).await?
            }
            Request::Holdings => Response::Holdings(cluster.mine.lock().clone()),
            Request::FetchShard { id } => return cluster.send_shard(&id, &out).await,
            Request::FetchFile { id } => return cluster.send_file(&id, &out).await,
            Request::ShardMetas { ids } => {
                Response::Metas(blocking(move || metas(&store, &ids)).await?)
            }
            Request::Announce { node, holdings } => {
                cluster.take_holdings(&node, holdings);
                Response::Done
            }
            Request::ForgetNode { node } => {
                // Blocking: the copy of its unsealed rows may be taken here.
                blocking(move || {
                    cluster.forget(&node);
                    Ok(())
                })
                .await?;
                Response::Done
            }
            Request::Replicate { id } => {
                let c = cluster.clone();
                blocking(move || c.replicate(&id)).await?;
                Response::Done
            }
            req @ (Request::LockRows { .. }
            | Request::HoldsRows { .. }
            | Request::UnlockRows { .. }
            | Request::LockAdvisory { .. }
            | Request::UnlockAdvisory { .. }
            | Request::EndAdvisorySession { .. }
            | Request::AdvisoryLocks
            | Request::Listening { .. }
            | Request::Notify { .. }) => return coordinate(&cluster, req, out).await,
            Request::ShardTombstones { id } => {
                Response::Rids(blocking(move || store.tombstones_of(&ShardId(id))).await?)
            }
            Request::SequencePositions => Response::Sequences(store.sequence_positions()),
            Request::PauseCommits { token, lease_ms } => {
                let lease = std::time::Duration::from_millis(lease_ms);
                blocking(move || crate::cluster::backup::pause_here(&store, token, lease)).await?;
                Response::Done
            }
            Request::ResumeCommits { token } => {
                store.gate.open(token);
                Response::Done
            }
            Request::BackupCut { tables } => {
                let (cut, open) = blocking(move || store.backup_cut(&tables)).await?;
                out.send(Response::Cut(cut)).await?;
                for rows in open {
                    out.send(Response::OpenRows(rows)).await?;
                }
                return Ok(());
            }
        };
        out.send(done).await
    }
}

impl Service {
    /// Serve a peer's `Scan`: the rows, in batches.
    async fn scan(&self, scan: Scan, reads: Reads, out: &Sender<Response>) -> Result<()> {
        let rows = self.peers.scan(scan, reads, out).await?;
        for chunk in rows.chunks(BATCH_ROWS) {
            out.send(Response::Rows(chunk.to_vec())).await?;
        }
        Ok(())
    }
}

/// Run blocking work (SQLite, files) off the async runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(Error::internal)?
}

/// Seal a table's open segment here and announce the new shards.
fn seal(cluster: &Arc<Cluster>, table: &str, nowait: bool) -> Result<()> {
    if nowait {
        cluster.store.seal_nowait(table)?;
    } else {
        cluster.store.seal(table)?;
    }
    // The copy of the unsealed rows drops the sealed ones, so the new
    // shards may go to other nodes at once.
    cluster.copy_unsealed();
    cluster.refresh_holdings()
}

/// The metadata of those of `ids` this node holds.
fn metas(store: &Store, ids: &[String]) -> Result<Vec<ShardMeta>> {
    let held: std::collections::HashSet<String> =
        store.live_shards()?.into_iter().map(|s| s.id.0).collect();
    ids.iter()
        .filter(|id| held.contains(*id))
        .map(|id| store.meta(&ShardId(id.clone())).map(|m| (*m).clone()))
        .collect()
}

/// Requests of locks and notifications (`cluster::locks`,
/// `cluster::advisory`, `cluster::notify`).
async fn coordinate(cluster: &Cluster, req: Request, out: Sender<Response>) -> Result<()> {
    let done = match req {
        Request::LockRows {
            tables,
            node,
            token,
            nowait,
        } => {
            let wait = crate::cluster::locks::LOCK_WAIT;
            cluster
                .row_locks
                .lock_tables(&tables, &node, token, nowait, wait)
                .await?;
            Response::Done
        }
        Request::HoldsRows {
            tables,
            node,
            token,
        } => {
            if !cluster.row_locks.holds_tables(&tables, &node, token) {
                return Err(crate::cluster::locks::lost());
            }
            Response::Done
        }
        Request::UnlockRows { node, token } => {
            cluster.row_locks.release_tables(&node, token);
            Response::Done
        }
        Request::LockAdvisory {
            key,
            mode,
            node,
            token,
            pid,
            nowait,
        } => {
            let holder = crate::cluster::locks::Holder { node, token };
            let table = &cluster.advisory;
            let granted = tokio::select! {
                g = table.lock(key, mode, holder.clone(), pid, nowait, crate::cluster::advisory::POLL) => g,
                _ = out.closed() => false,
            };
            if !granted {
                return out.send(Response::Refused).await;
            }
            // An asker gone meanwhile never learns it holds the lock.
            let sent = out.send(Response::Done).await;
            if sent.is_err() {
                table.unlock(key, mode, &holder);
            }
            return sent;
        }
        Request::UnlockAdvisory {
            key,
            mode,
            node,
            token,
        } => {
            let holder = crate::cluster::locks::Holder { node, token };
            cluster.advisory.unlock(key, mode, &holder);
            Response::Done
        }
        Request::EndAdvisorySession { node, token } => {
            let holder = crate::cluster::locks::Holder { node, token };
            cluster.advisory.end_session(&holder);
            Response::Done
        }
        Request::AdvisoryLocks => Response::AdvisoryLocks(cluster.advisory.held()),
        Request::Listening {
            node,
            version,
            channels,
        } => {
            cluster.notifier.peer_listens(&node, version, channels);
            Response::Done
        }
        Request::Notify { notes } => {
            cluster.notifier.deliver(&notes);
            Response::Done
        }
        _ => return Err(Error::Internal("not a coordination request".into())),
    };
    out.send(done).await
}

/// The requests that change open segments or their copies (`unsealed`):
/// TRUNCATE of this node's part, a push to the copy kept here, dropping it.
/// Blocking.
fn unsealed(cluster: &Arc<Cluster>, req: Request) -> Result<Response> {
    let store = &cluster.store;
    Ok(match req {
        Request::Truncate { tables } => {
            tables.iter().try_for_each(|t| store.truncate_local(t))?;
            // The copy of this node's unsealed rows empties too, before
            // the asker's client hears of it.
            cluster.copy_unsealed();
            Response::Done
        }
        Request::CopyUnsealed(push) => match store.copies.apply(&push)? {
            true => Response::Done,
            false => Response::Refused,
        },
        Request::DropUnsealedCopy { origin } => {
            store.copies.drop_origin(&origin)?;
            Response::Done
        }
        _ => return Err(Error::Internal("not a request on unsealed rows".into())),
    })
}
