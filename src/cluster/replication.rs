//! Copies of sealed shards on other nodes.
//!
//! Every node runs `maintain` once a second. For each shard any node
//! announces, the `--replication-factor` nodes ranked first by rendezvous
//! hashing over the live members (`placement::desired_holders`) should hold
//! it; a node that should and does not pulls a copy from a live holder
//! ("want a shard? ask someone who has it"). So when a holder dies, the
//! next node in rank order pulls one. Every copy is verified against the
//! shard's content id before it enters the manifest.
//!
//! A copy follows the others: it takes in tombstones another holder has
//! and it lacks, and leaves when its home announces holdings without it
//! (compacted into another shard, emptied by TRUNCATE, dropped). Copies
//! beyond the replication factor are the edge cache (`cache`): taken for
//! tables this node keeps reading through its peers, evicted least
//! recently used first under `--edge-cache-bytes`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::cluster::cache::{evictions, Cached};
use crate::cluster::membership::Member;
use crate::cluster::placement::{desired_holders, edge_copies};
use crate::cluster::proto::{Request, Response, ShardHeader, ShardInfo, Tombstone, CHUNK_BYTES};
use crate::cluster::{Cluster, QUERY_TIMEOUT};
use crate::error::{Error, Result};
use crate::types::shard::ShardId;

/// How often a node looks for shards to copy, replicas to update and
/// replicas to retire.
const MAINTAIN_EVERY: Duration = Duration::from_secs(1);
/// Copies pulled per round at most (a node that just joined catches up
/// over several rounds, without starving its queries).
const FETCHES_PER_ROUND: usize = 8;
/// Rounds between looks for tombstones of shards nobody holds.
const ORPHANS_EVERY: u64 = 30;
/// How long a retired replica's file stays for queries that planned with it.
const RETIRED_FILE_GRACE: Duration = Duration::from_secs(30);

impl Cluster {
    /// Copy shard `id` here from a live holder now (`mosaic.replicate`).
    /// False when this node holds it already. Blocking.
    pub fn replicate(self: &Arc<Self>, id: &str) -> Result<bool> {
        if self.mine.lock().shards.iter().any(|s| s.id == id) {
            return Ok(false);
        }
        let known = self.known_shards();
        let Some((info, _)) = known.get(id) else {
            return Err(Error::InvalidParameter(format!(
                "no node is known to hold shard \"{id}\""
            )));
        };
        let info = info.clone();
        let this = self.clone();
        self.runtime
            .block_on(async move { this.fetch(&info).await })
    }

    /// The live peers holding `id`, its home first.
    pub(super) fn live_holders(&self, info: &ShardInfo) -> Vec<Member> {
        let registry = self.registry.read();
        let mut holders: Vec<Member> = self
            .live_peers()
            .into_iter()
            .filter(|m| {
                registry
                    .get(&m.name)
                    .is_some_and(|h| h.shards.iter().any(|s| s.id == info.id))
            })
            .collect();
        holders.sort_by_key(|m| m.name != info.home);
        holders
    }

    /// Pull a copy of `info` from a live holder, trying each in turn.
    async fn fetch(self: &Arc<Self>, info: &ShardInfo) -> Result<bool> {
        let holders = self.live_holders(info);
        if holders.is_empty() {
            return Err(Error::Unavailable(format!(
                "no node holding shard {} is reachable",
                info.id
            )));
        }
        let mut last = None;
        for holder in holders {
            let home_version = self.registry.read().get(&info.home).map(|h| h.version);
            match self.fetch_from(info, &holder).await {
                Ok(copied) => {
                    self.fetched
                        .lock()
                        .insert(info.id.clone(), home_version.unwrap_or(0));
                    if copied {
                        tracing::info!(shard = %info.id, from = %holder.name, "copied a shard");
                        let c = self.clone();
                        let _ = tokio::task::spawn_blocking(move || c.refresh_holdings()).await;
                    }
                    return Ok(copied);
                }
                Err(e) => {
                    tracing::debug!(shard = %info.id, from = %holder.name, error = %e, "copying a shard failed");
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::Internal("no holder answered".into())))
    }

    async fn fetch_from(self: &Arc<Self>, info: &ShardInfo, holder: &Member) -> Result<bool> {
        let (tmp, header) = self.fetch_file(info, holder).await?;
        let store = self.store.clone();
        let id = ShardId(info.id.clone());
        tokio::task::spawn_blocking(move || {
            store.install_replica(&tmp, &id, header.table_oid, &header.tombstones)
        })
        .await
        .map_err(Error::internal)?
    }

    /// Copy `holder`'s file of shard `info` to a temporary file in the
    /// shards folder, whole (as the header announced it); the file and
    /// the header.
    pub(super) async fn fetch_file(
        self: &Arc<Self>,
        info: &ShardInfo,
        holder: &Member,
    ) -> Result<(std::path::PathBuf, ShardHeader)> {
        let req = Request::FetchShard {
            id: info.id.clone(),
        };
        self.fetch_with(info, holder, &req).await
    }

    /// `fetch_file`, asking `holder` with `req` (`FetchShard`, or
    /// `FetchFile` for a backup).
    pub(super) async fn fetch_with(
        self: &Arc<Self>,
        info: &ShardInfo,
        holder: &Member,
        req: &Request,
    ) -> Result<(std::path::PathBuf, ShardHeader)> {
        let mut stream = self
            .client(holder.cluster_addr)
            .call::<Request, Response>(req, QUERY_TIMEOUT)
            .await?;
        let tmp = self.store.shards_dir.join(format!(
            "{}.db.fetch-{:016x}",
            info.id,
            rand::random::<u64>()
        ));
        let received = async {
            let mut header: Option<ShardHeader> = None;
            let mut file = tokio::fs::File::create(&tmp).await?;
            let mut written = 0u64;
            while let Some(item) = stream.next().await {
                match item? {
                    Response::ShardHeader(h) => header = Some(h),
                    Response::Chunk(bytes) => {
                        written += bytes.len() as u64;
                        let expected = header.as_ref().map(|h| h.byte_size).unwrap_or(0);
                        if written > expected {
                            return Err(Error::Internal(format!(
                                "shard {} is longer than announced",
                                info.id
                            )));
                        }
                        file.write_all(&bytes).await?;
                    }
                    _ => {}
                }
            }
            file.sync_all().await?;
            let header = header.ok_or_else(|| Error::Internal("no shard header".into()))?;
            if written != header.byte_size {
                return Err(Error::Internal(format!(
                    "shard {} arrived with {written} of {} bytes",
                    info.id, header.byte_size
                )));
            }
            metrics::counter!(crate::observe::REPLICATED_BYTES).increment(written);
            Ok(header)
        }
        .await;
        match received {
            Ok(header) => Ok((tmp, header)),
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    /// Serve a peer's `FetchShard`: the header, then the file in chunks.
    pub(super) async fn send_shard(
        &self,
        id: &str,
        out: &crate::cluster::rpc::Sender<Response>,
    ) -> Result<()> {
        let store = self.store.clone();
        let id = ShardId(id.to_string());
        // A copy of the unsealed rows may still hold its rows: the next
        // copy drops them (`unsealed`, every 200 ms at most).
        let asked = std::time::Instant::now();
        while store.changes.held_back(&id) {
            if asked.elapsed() > std::time::Duration::from_secs(5) {
                return Err(Error::Unavailable(format!(
                    "shard {id} was sealed a moment ago; ask again"
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let (header, bytes) = tokio::task::spawn_blocking(move || -> Result<_> {
            let table = store
                .shard_table(&id)?
                .ok_or_else(|| Error::InvalidParameter(format!("shard {id} is not held here")))?;
            let def = store
                .catalog
                .table(&table)
                .ok_or_else(|| Error::NoSuchTable(table.clone()))?;
            let bytes = std::fs::read(store.shard_path(&id))?;
            let header = ShardHeader {
                table_oid: def.oid,
                byte_size: bytes.len() as u64,
                tombstones: store.tombstones_of(&id)?,
            };
            Ok((header, bytes))
        })
        .await
        .map_err(Error::internal)??;
        out.send(Response::ShardHeader(header)).await?;
        for chunk in bytes.chunks(CHUNK_BYTES) {
            out.send(Response::Chunk(chunk.to_vec())).await?;
        }
        Ok(())
    }

    /// Serve a `FetchFile`: the file of shard `id` as it lies here, live
    /// or superseded since (its header names no table and no tombstones).
    pub(super) async fn send_file(
        &self,
        id: &str,
        out: &crate::cluster::rpc::Sender<Response>,
    ) -> Result<()> {
        let path = self.store.shard_path(&ShardId(id.to_string()));
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|_| Error::InvalidParameter(format!("no file of shard {id} here")))?;
        let header = ShardHeader {
            table_oid: 0,
            byte_size: bytes.len() as u64,
            tombstones: vec![],
        };
        out.send(Response::ShardHeader(header)).await?;
        for chunk in bytes.chunks(CHUNK_BYTES) {
            out.send(Response::Chunk(chunk.to_vec())).await?;
        }
        Ok(())
    }

    /// One round of keeping copies where they belong (see the module).
    async fn maintain(self: &Arc<Self>, factor: usize, cache_bytes: u64) {
        let me = self.store.node_name.clone();
        let mut live: Vec<String> = self.live_peers().into_iter().map(|m| m.name).collect();
        live.push(me.clone());
        let factor = factor.min(live.len());
        let known = self.known_shards();
        let registry = self.registry.read().clone();
        let mine: HashMap<String, ShardInfo> = self
            .mine
            .lock()
            .shards
            .iter()
            .map(|s| (s.id.clone(), s.clone()))
            .collect();
        // For each shard, the live holders and their tombstone digests.
        let mut holders: HashMap<&str, Vec<(&str, u64)>> = HashMap::new();
        for (node, h) in registry.iter().filter(|(n, _)| live.contains(*n)) {
            for s in &h.shards {
                holders
                    .entry(&s.id)
                    .or_default()
                    .push((node, s.tombstone_digest));
            }
        }
        let mut wanted = Vec::new();
        for (id, (info, _)) in &known {
            let home_live = live.contains(&info.home);
            let at_home = registry.get(&info.home);
            match mine.get(id) {
                Some(held) => {
                    // Tombstones are a grow-only set per shard, merged by
                    // union: this node takes in those of a live holder
                    // whose set differs from its own (one, picked at
                    // random, per round; the other takes in this node's
                    // in its own round). So holders that each lack a
                    // different one (a copy taken while a delete went out,
                    // a holder down while others took a delete) converge.
                    let differing: Vec<&str> = holders
                        .get(id.as_str())
                        .into_iter()
                        .flatten()
                        .filter(|(n, d)| *n != me && *d != held.tombstone_digest)
                        .map(|(n, _)| *n)
                        .collect();
                    if !differing.is_empty() {
                        let node = differing[rand::random::<u64>() as usize % differing.len()];
                        self.take_tombstones(info, node).await;
                    }
                    if held.home == me {
                        continue;
                    }
                    let Some(home) = at_home.filter(|_| home_live) else {
                        continue;
                    };
                    match home.shards.iter().find(|s| &s.id == id) {
                        Some(_) => {}
                        None => {
                            let seen = *self
                                .fetched
                                .lock()
                                .entry(id.clone())
                                .or_insert(home.version);
                            if home.version > seen {
                                let c = self.clone();
                                let id = id.clone();
                                let _ = tokio::task::spawn_blocking(move || c.retire(&id)).await;
                            }
                        }
                    }
                }
                None => {
                    if self.is_current(info, &live, &registry)
                        && desired_holders(info, &live, factor).contains(&me.as_str())
                    {
                        wanted.push(info.clone());
                    }
                }
            }
        }
        // The edge cache: copies held here that placement does not ask for.
        let held: Vec<ShardInfo> = mine.values().cloned().collect();
        let cached: Vec<Cached> = edge_copies(&held, &me, &live, factor)
            .map(|s| Cached {
                id: s.id.clone(),
                bytes: s.byte_size,
                last_used: self.heat.last_used(&s.table),
            })
            .collect();
        let mut used: u64 = cached.iter().map(|c| c.bytes).sum();
        for id in evictions(cached, cache_bytes) {
            metrics::counter!(crate::observe::EDGE_CACHE_EVICTIONS).increment(1);
            used = used.saturating_sub(mine.get(&id).map_or(0, |s| s.byte_size));
            let c = self.clone();
            let _ = tokio::task::spawn_blocking(move || c.retire(&id)).await;
        }
        for table in self.heat.hot() {
            for (id, (info, _)) in &known {
                if info.table != table
                    || mine.contains_key(id)
                    || wanted.iter().any(|w| &w.id == id)
                    || used + info.byte_size > cache_bytes
                    || !self.is_current(info, &live, &registry)
                {
                    continue;
                }
                used += info.byte_size;
                wanted.push(info.clone());
            }
        }
        for info in wanted.into_iter().take(FETCHES_PER_ROUND) {
            if let Err(e) = self.fetch(&info).await {
                tracing::debug!(shard = %info.id, error = %e, "no copy this round");
            }
        }
        let store = self.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.sweep_retired(RETIRED_FILE_GRACE)).await;
        self.prefetch_metas(&known).await;
    }

    /// Fetch the metadata of the shards other nodes announced that this
    /// node does not know yet (so that queries can leave out the peers
    /// whose shards cannot match), and forget that of shards gone.
    async fn prefetch_metas(self: &Arc<Self>, known: &HashMap<String, (ShardInfo, Vec<String>)>) {
        let mut by_holder: HashMap<String, Vec<String>> = HashMap::new();
        {
            let mut metas = self.metas.write();
            metas.retain(|id, _| known.contains_key(id));
            for (id, (info, holders)) in known {
                if metas.contains_key(id) {
                    continue;
                }
                let from = if holders.contains(&info.home) {
                    &info.home
                } else {
                    &holders[0]
                };
                by_holder.entry(from.clone()).or_default().push(id.clone());
            }
        }
        let live = self.live_peers();
        for (node, ids) in by_holder {
            if let Some(peer) = live.iter().find(|m| m.name == node) {
                for chunk in ids.chunks(256) {
                    self.fetch_metas(peer, chunk.to_vec()).await;
                }
            }
        }
    }

    /// Whether a shard is worth a copy: its table is known here, and while
    /// its home is live, the home still announces it.
    fn is_current(
        &self,
        info: &ShardInfo,
        live: &[String],
        registry: &HashMap<String, crate::cluster::proto::Holdings>,
    ) -> bool {
        let home_current = !live.contains(&info.home)
            || registry
                .get(&info.home)
                .is_some_and(|h| h.shards.iter().any(|s| s.id == info.id));
        home_current && self.store.catalog.table(&info.table).is_some()
    }

    /// Take in the tombstones `node` has for a shard this node holds a copy of.
    async fn take_tombstones(self: &Arc<Self>, info: &ShardInfo, node: &str) {
        let Some(peer) = self.live_peers().into_iter().find(|m| m.name == node) else {
            return;
        };
        let items: Result<Vec<Response>> = self
            .client(peer.cluster_addr)
            .call_all(
                &Request::ShardTombstones {
                    id: info.id.clone(),
                },
                QUERY_TIMEOUT,
            )
            .await;
        let rids = match items {
            Ok(items) => items
                .into_iter()
                .flat_map(|i| match i {
                    Response::Rids(r) => r,
                    _ => vec![],
                })
                .collect::<Vec<i64>>(),
            Err(e) => {
                tracing::debug!(shard = %info.id, error = %e, "tombstone sync failed");
                return;
            }
        };
        let rows: Vec<Tombstone> = rids
            .into_iter()
            .map(|rid| Tombstone {
                shard: info.id.clone(),
                rid,
                values: vec![],
                home: info.home.clone(),
                columns: vec![],
            })
            .collect();
        let store = self.store.clone();
        let table = info.table.clone();
        let c = self.clone();
        let _ = tokio::task::spawn_blocking(move || -> Result<()> {
            store.apply_tombstones(&table, &rows)?;
            c.refresh_holdings()
        })
        .await;
    }

    fn retire(self: &Arc<Self>, id: &str) {
        match self.store.retire_replica(&ShardId(id.to_string())) {
            Ok(true) => {
                tracing::info!(shard = %id, "a copy was retired");
                self.fetched.lock().remove(id);
                // Statements decide anew at once rather than count on it.
                if let Err(e) = self.refresh_holdings() {
                    tracing::debug!(error = %e, "cannot read holdings");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(shard = %id, error = %e, "cannot retire a copy"),
        }
    }
}

/// Keep copies where they belong, once a second; every `ORPHANS_EVERY`
/// rounds, drop tombstones of shards nobody holds any more.
pub(super) async fn maintain(cluster: Arc<Cluster>, factor: usize, cache_bytes: u64) {
    for round in 1u64.. {
        tokio::time::sleep(MAINTAIN_EVERY).await;
        cluster.maintain(factor, cache_bytes).await;
        if round % ORPHANS_EVERY == 0 {
            let known: std::collections::HashSet<String> =
                cluster.known_shards().into_keys().collect();
            let store = cluster.store.clone();
            match tokio::task::spawn_blocking(move || store.forget_orphan_tombstones(&known)).await
            {
                Ok(Ok(n)) if n > 0 => {
                    tracing::debug!(shards = n, "dropped tombstones of shards nobody holds")
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot drop orphan tombstones"),
                _ => {}
            }
        }
    }
}
