//! Where copies of a shard live and which copy a statement reads.
//!
//! Copies are kept on the nodes that rendezvous hashing ranks first for
//! the shard id (`desired_holders`). A statement reads a shard from this
//! node's own copy when it has one (local copy first), else from its home
//! while the home is live, else from the live holder with the best recent
//! latency. Which home shards exist is taken from the home's own last
//! announcement, so a shard and the one that superseded it are never both
//! read; a live home that is asked anyway is told which of its shards the
//! asker reads from copies, and refuses (`Error::StaleCopy`) if one of them
//! is no longer live there, so that the statement runs again without
//! copies of live homes' shards.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::cluster::membership::Member;
use crate::cluster::proto::{Holdings, Request, Response, ShardInfo};
use crate::cluster::{Cluster, SYNC_TIMEOUT};

/// Which copies one statement reads, decided once from the registry and
/// membership as this node sees them then.
#[derive(Debug, Default, Clone)]
pub struct Reads {
    /// The live peers to ask, each with the replicas it reads besides its
    /// own shards (copies of shards whose home is not live).
    pub peers: Vec<(Member, Vec<ShardInfo>)>,
    /// The shards of this node's manifest the statement reads: its own and
    /// the copies it reads itself.
    pub scope: crate::plan::ShardScope,
    /// For each live peer, its own shards this node reads from its copies
    /// (the peer leaves them out).
    pub copied: HashMap<String, Vec<ShardInfo>>,
    /// Data on nodes that are not live that no live node has a copy of.
    pub missing: Vec<Missing>,
    /// Of the copies this node holds, those the edge cache keeps
    /// (`cluster::cache`: copied here because this node read them often),
    /// not the replicas placement asks of it: reading one is an edge-cache
    /// hit.
    pub cached: HashSet<String>,
    /// Unsealed rows of nodes that are not live, read from the copy their
    /// buddy keeps (`cluster::unsealed`). Only reads take them
    /// (`ask_peers` with `copies`, the planner through
    /// `scope.open_of` when the buddy is this node); for everything
    /// else they are missing.
    pub open_copies: Vec<OpenCopy>,
    /// Serving a peer's request: the nodes that peer reads (itself and
    /// its live peers), see `exec::settle::wait_settled`.
    pub asker_live: Vec<String>,
}

/// The unsealed rows of `origin` (not live), copied to `holder` at `epoch`.
#[derive(Debug, Clone)]
pub struct OpenCopy {
    pub holder: String,
    pub origin: String,
    pub epoch: u64,
    /// The tables `origin` last said it held unsealed rows of.
    pub tables: Vec<String>,
}

/// What a `Reads` was decided from.
#[derive(Debug, PartialEq)]
pub(super) struct ReadsKey {
    registry: u64,
    mine: u64,
    live: Vec<Member>,
}

/// What a node that is not live holds and nobody else can serve.
#[derive(Debug, Clone)]
pub struct Missing {
    pub node: String,
    pub shards: Vec<ShardInfo>,
    /// Tables with rows unsealed on that node.
    pub open_tables: Vec<String>,
}

impl Reads {
    /// A peer serving a request: its own shards but those in `skip`, the
    /// `replicas`, each as (table, id), and the copies of down nodes'
    /// unsealed rows in `open_of`.
    pub fn only(
        replicas: Vec<(String, String)>,
        skip: Vec<(String, String)>,
        open_of: Vec<(String, u64)>,
    ) -> Reads {
        Reads {
            scope: crate::plan::ShardScope {
                copies: replicas.into_iter().map(|(t, id)| (id, t)).collect(),
                skip,
                open_of,
            },
            ..Reads::default()
        }
    }

    /// The shards of `peer` of these tables this node reads from copies,
    /// as (table, id).
    pub fn skip_for(&self, peer: &str, tables: &[String]) -> Vec<(String, String)> {
        self.copied
            .get(peer)
            .into_iter()
            .flatten()
            .filter(|s| tables.contains(&s.table))
            .map(|s| (s.table.clone(), s.id.clone()))
            .collect()
    }

    /// The replicas `peer` reads for these tables, as (table, id).
    pub fn replicas_for(&self, peer: &str, tables: &[String]) -> Vec<(String, String)> {
        self.peers
            .iter()
            .filter(|(m, _)| m.name == peer)
            .flat_map(|(_, s)| s.iter())
            .filter(|s| tables.contains(&s.table))
            .map(|s| (s.table.clone(), s.id.clone()))
            .collect()
    }

    /// The copies of down nodes' unsealed rows `peer` reads for these
    /// tables, as (origin, epoch).
    pub fn open_of(&self, peer: &str, tables: &[String]) -> Vec<(String, u64)> {
        self.open_copies
            .iter()
            .filter(|c| c.holder == peer && c.tables.iter().any(|t| tables.contains(t)))
            .map(|c| (c.origin.clone(), c.epoch))
            .collect()
    }

    /// Whether `peer` must be asked for `table` because it holds a copy of
    /// a down node's unsealed rows of it.
    pub fn holds_open_copy(&self, peer: &str, table: &str) -> bool {
        self.open_copies
            .iter()
            .any(|c| c.holder == peer && c.tables.iter().any(|t| t == table))
    }

    /// Whether a down node's unsealed rows of `table` are read from a copy.
    pub fn reads_open_copies(&self, table: &str) -> bool {
        self.open_copies
            .iter()
            .any(|c| c.tables.iter().any(|t| t == table))
    }

    /// What of these tables cannot be read by a request that does not
    /// read copies of unsealed rows, or that leaves out the holders not
    /// in `asked` (this node aside): the unsealed rows of their origins,
    /// one line per origin.
    pub fn uncopied_for(
        &self,
        tables: &[String],
        copies: bool,
        asked: &[String],
        me: &str,
    ) -> Vec<String> {
        self.open_copies
            .iter()
            .filter(|c| c.tables.iter().any(|t| tables.contains(t)))
            .filter(|c| !copies || (c.holder != me && !asked.contains(&c.holder)))
            .filter_map(|c| describe(&c.origin, &[], true, None))
            .collect()
    }

    /// Whether some of `table` cannot be read (`missing_for` would say what).
    pub fn lacks(&self, table: &str) -> bool {
        self.missing.iter().any(|m| {
            m.shards.iter().any(|s| s.table == table) || m.open_tables.iter().any(|t| t == table)
        })
    }

    /// What cannot be read of these tables, one line per node.
    pub fn missing_for(&self, tables: &[String]) -> Vec<String> {
        self.missing
            .iter()
            .filter_map(|m| {
                let ids: Vec<&str> = m
                    .shards
                    .iter()
                    .filter(|s| tables.contains(&s.table))
                    .map(|s| s.id.as_str())
                    .collect();
                let open = m.open_tables.iter().any(|t| tables.contains(t));
                describe(&m.node, &ids, open, None)
            })
            .collect()
    }
}

/// "shards a, b on node n and the unsealed rows on node n (why)", or
/// nothing when there is nothing.
pub(super) fn describe(node: &str, ids: &[&str], open: bool, why: Option<&str>) -> Option<String> {
    let mut what = Vec::new();
    if !ids.is_empty() {
        what.push(format!("shards {} on node {node}", ids.join(", ")));
    }
    if open {
        what.push(format!("the unsealed rows on node {node}"));
    }
    if what.is_empty() {
        return None;
    }
    Some(format!(
        "{} ({})",
        what.join(" and "),
        why.unwrap_or("node is not reachable")
    ))
}

/// A node's rank for a shard in rendezvous hashing: the higher, the
/// sooner it is chosen to hold a copy.
fn rank(shard: &str, node: &str) -> u64 {
    let h = Sha256::new()
        .chain_update(shard.as_bytes())
        .chain_update([0])
        .chain_update(node.as_bytes())
        .finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&h[..8]);
    u64::from_be_bytes(b)
}

/// The `n` nodes of `live` that should hold `shard`: its home first when
/// it is live, then the others in rendezvous order.
pub fn desired_holders<'a>(shard: &ShardInfo, live: &'a [String], n: usize) -> Vec<&'a str> {
    let mut order: Vec<&str> = live.iter().map(String::as_str).collect();
    order.sort_by_key(|node| {
        (
            *node != shard.home,
            std::cmp::Reverse(rank(&shard.id, node)),
        )
    });
    order.truncate(n);
    order
}

/// Of the shards in `held`, the copies the edge cache keeps: other nodes'
/// shards that placement (`desired_holders` among the `live` nodes, this
/// node `me` included, `factor` of them) does not ask of this node.
pub(super) fn edge_copies<'a>(
    held: &'a [ShardInfo],
    me: &'a str,
    live: &'a [String],
    factor: usize,
) -> impl Iterator<Item = &'a ShardInfo> + 'a {
    held.iter()
        .filter(move |s| s.home != me && !desired_holders(s, live, factor).contains(&me))
}

/// Of one table's sealed shards: how many there are, how many have fewer
/// live holders than the replication factor asks (or than there are live
/// nodes), and how many have none.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ShardHealth {
    pub shards: usize,
    pub under_replicated: usize,
    pub unreachable: usize,
}

impl Cluster {
    /// `ShardHealth` of every table with sealed shards, by table name. A
    /// shard is under-replicated with fewer live holders than the
    /// replication factor, or than there are nodes known (a node down
    /// counts until it is forgotten: its copies are missing).
    pub fn shard_health(&self) -> HashMap<String, ShardHealth> {
        let mut live: Vec<String> = self.live_peers().into_iter().map(|m| m.name).collect();
        live.push(self.store.node_name.clone());
        let want = self.replication_factor.min(self.members().len() + 1);
        let mut out: HashMap<String, ShardHealth> = HashMap::new();
        for (info, holders) in self.known_shards().into_values() {
            let held = holders.iter().filter(|h| live.contains(h)).count();
            let h = out.entry(info.table).or_default();
            h.shards += 1;
            h.under_replicated += (held < want) as usize;
            h.unreachable += (held == 0) as usize;
        }
        out
    }

    /// Every shard any node announces, once per id, with the nodes
    /// announcing it (this node included).
    pub(super) fn known_shards(&self) -> HashMap<String, (ShardInfo, Vec<String>)> {
        let mut out: HashMap<String, (ShardInfo, Vec<String>)> = HashMap::new();
        let me = self.store.node_name.clone();
        let mine = self.mine.lock().shards.clone();
        let registry = self.registry.read();
        let all = std::iter::once((&me, &mine)).chain(registry.iter().map(|(n, h)| (n, &h.shards)));
        for (node, shards) in all {
            for s in shards {
                out.entry(s.id.clone())
                    .or_insert_with(|| (s.clone(), Vec::new()))
                    .1
                    .push(node.clone());
            }
        }
        out
    }

    /// Where a tombstone of shard `id` must go: the shard's home, and
    /// every other node that holds it or may by now (every live peer: a
    /// node that just took a copy may not be in this node's registry yet;
    /// one that holds none ignores it). A shard nobody announced yet (a
    /// peer sealed it a moment ago) has `sender`, the node its rows came
    /// from, for home; the live peers hear of it all the same, since one
    /// of them may be copying it already. `None` without either.
    pub fn tombstone_targets(
        &self,
        id: &str,
        sender: Option<&str>,
    ) -> Option<(String, Vec<String>)> {
        let me = &self.store.node_name;
        let mut home = self
            .mine
            .lock()
            .shards
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.home.clone());
        let mut nodes: Vec<String> = Vec::new();
        for (node, h) in self.registry.read().iter() {
            if let Some(s) = h.shards.iter().find(|s| s.id == id) {
                home.get_or_insert_with(|| s.home.clone());
                nodes.push(node.clone());
            }
        }
        let home = home.or_else(|| sender.map(str::to_string))?;
        for m in self.live_peers() {
            if !nodes.contains(&m.name) {
                nodes.push(m.name);
            }
        }
        if &home != me && !nodes.contains(&home) {
            nodes.push(home.clone());
        }
        nodes.retain(|n| n != me);
        Some((home, nodes))
    }

    /// What the live peers hold of `table` for a statement reading
    /// `reads`, for the planner to pick the peers a filter needs: each
    /// peer's own shards of it (but those read here from copies) and the
    /// copies `reads` gives it, with their metadata where this node has it.
    /// Metadata not known yet is fetched meanwhile, once per shard id.
    pub fn peer_shards(self: &Arc<Self>, reads: &Reads, table: &str) -> crate::plan::Peers {
        let mut holders = Vec::new();
        let mut unknown: Vec<(Member, Vec<String>)> = Vec::new();
        {
            let registry = self.registry.read();
            let metas = self.metas.read();
            for (peer, extra) in &reads.peers {
                // Unknown holdings, or unsealed rows of the table: ask it
                // whatever the filter.
                let h = match registry.get(&peer.name) {
                    Some(h)
                        if !h.open_tables.iter().any(|t| t == table)
                            && !reads.holds_open_copy(&peer.name, table) =>
                    {
                        h
                    }
                    _ => {
                        holders.push(crate::plan::PeerShards {
                            name: peer.name.clone(),
                            always: true,
                            shards: vec![],
                        });
                        continue;
                    }
                };
                let mut shards = Vec::new();
                let mut missing = Vec::new();
                for s in h
                    .shards
                    .iter()
                    .filter(|s| s.home == peer.name && !reads.scope.copies.contains_key(&s.id))
                    .chain(extra.iter())
                    .filter(|s| s.table == table && s.live_rows > 0)
                {
                    let meta = metas.get(&s.id).cloned();
                    if meta.is_none() {
                        missing.push(s.id.clone());
                    }
                    shards.push(meta);
                }
                if !missing.is_empty() {
                    unknown.push((peer.clone(), missing));
                }
                holders.push(crate::plan::PeerShards {
                    name: peer.name.clone(),
                    always: false,
                    shards,
                });
            }
        }
        for (peer, ids) in unknown {
            let c = self.clone();
            self.runtime
                .spawn(async move { c.fetch_metas(&peer, ids).await });
        }
        crate::plan::Peers {
            holders,
            lacking: reads.lacks(table),
        }
    }

    /// Fetch and keep the metadata of shards `peer` holds (ids are content
    /// hashes: what is kept never goes stale).
    pub(super) async fn fetch_metas(&self, peer: &Member, mut ids: Vec<String>) {
        {
            let metas = self.metas.read();
            let mut asked = self.metas_asked.lock();
            ids.retain(|id| !metas.contains_key(id) && asked.insert(id.clone()));
        }
        if ids.is_empty() {
            return;
        }
        let items: crate::error::Result<Vec<Response>> = self
            .client(peer.cluster_addr)
            .call_all(&Request::ShardMetas { ids: ids.clone() }, SYNC_TIMEOUT)
            .await;
        match items {
            Ok(items) => {
                let mut metas = self.metas.write();
                for item in items {
                    if let Response::Metas(list) = item {
                        for m in list {
                            metas.insert(m.id.0.clone(), Arc::new(m));
                        }
                    }
                }
            }
            Err(e) => tracing::debug!(peer = %peer.name, error = %e, "shard metadata fetch failed"),
        }
        let mut asked = self.metas_asked.lock();
        for id in &ids {
            asked.remove(id);
        }
    }

    /// Decide which copies a statement reads now (see `Reads`). Decided
    /// again only when the registry, this node's holdings or the live
    /// peers changed since the last decision: statements on a quiet
    /// cluster share one.
    pub fn reads(&self) -> Arc<Reads> {
        let key = ReadsKey {
            registry: self
                .registry_changes
                .load(std::sync::atomic::Ordering::Acquire),
            mine: self.mine.lock().version,
            live: {
                let mut live = self.live_peers();
                live.sort_by(|a, b| a.name.cmp(&b.name));
                live
            },
        };
        if let Some((k, r)) = self.reads_cache.lock().as_ref() {
            if *k == key {
                return r.clone();
            }
        }
        let reads = Arc::new(self.reads_avoiding(&HashSet::new(), true));
        *self.reads_cache.lock() = Some((key, reads.clone()));
        reads
    }

    /// Note a change of the registry (see `reads`).
    pub(super) fn registry_changed(&self) {
        self.registry_changes
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// `reads`, taking the peers in `avoid` for down (they did not answer
    /// a moment ago, though membership has not noticed yet), and reading
    /// this node's copies of live homes' shards only with `copies_first`.
    pub fn reads_avoiding(&self, avoid: &HashSet<String>, copies_first: bool) -> Reads {
        let mut reads = self.decide_reads(avoid, copies_first);
        // Which copies are the edge cache's is what the cache's upkeep
        // (`replication::maintain`) decides: among every live node.
        let mut live: Vec<String> = self.live_peers().into_iter().map(|m| m.name).collect();
        live.push(self.store.node_name.clone());
        let held = self.mine.lock().shards.clone();
        reads.cached = edge_copies(&held, &self.store.node_name, &live, self.replication_factor)
            .map(|s| s.id.clone())
            .collect();
        reads
    }

    /// `reads_avoiding`, all of it but `Reads::cached`.
    fn decide_reads(&self, avoid: &HashSet<String>, copies_first: bool) -> Reads {
        let live: Vec<Member> = self
            .live_peers()
            .into_iter()
            .filter(|m| !avoid.contains(&m.name))
            .collect();
        let live_names: HashSet<&str> = live.iter().map(|m| m.name.as_str()).collect();
        let me = self.store.node_name.as_str();
        let mut reads = Reads {
            peers: live.iter().map(|m| (m.clone(), Vec::new())).collect(),
            ..Reads::default()
        };
        let registry = self.registry.read();
        let absent: Vec<&String> = registry
            .keys()
            .filter(|n| !live_names.contains(n.as_str()) && n.as_str() != me)
            .collect();
        let held: Vec<ShardInfo> = self.mine.lock().shards.clone();
        let mine: HashSet<String> = held.iter().map(|s| s.id.clone()).collect();
        let mut local = HashMap::new();
        if copies_first {
            // Copies of live homes' shards that the home still announces.
            for s in held.iter().filter(|s| s.home != me) {
                let current = live_names.contains(s.home.as_str())
                    && registry
                        .get(&s.home)
                        .is_some_and(|h| h.shards.iter().any(|x| x.id == s.id));
                if current {
                    local.insert(s.id.clone(), s.table.clone());
                    reads
                        .copied
                        .entry(s.home.clone())
                        .or_default()
                        .push(s.clone());
                }
            }
        }
        // Homes this node has no announcement of (it heard of their
        // shards only from the nodes holding copies).
        let unannounced: Vec<&ShardInfo> = registry
            .values()
            .flat_map(|h| h.shards.iter())
            .filter(|s| {
                s.home != me
                    && !live_names.contains(s.home.as_str())
                    && !registry.contains_key(&s.home)
            })
            .collect();
        if absent.is_empty() && unannounced.is_empty() {
            reads.scope.copies = local;
            return reads;
        }
        let holders = |id: &str| -> Vec<usize> {
            live.iter()
                .enumerate()
                .filter(|(_, m)| {
                    registry
                        .get(&m.name)
                        .is_some_and(|h| h.shards.iter().any(|s| s.id == id))
                })
                .map(|(i, _)| i)
                .collect()
        };
        let mut assigned: Vec<Vec<ShardInfo>> = vec![Vec::new(); live.len()];
        let latency: Vec<std::time::Duration> =
            live.iter().map(|m| self.latency_of(&m.name)).collect();
        let mut seen = HashSet::new();
        let mut place = |s: &ShardInfo, lost: &mut Vec<ShardInfo>| {
            if !seen.insert(s.id.clone()) {
                return;
            }
            if mine.contains(&s.id) {
                local.insert(s.id.clone(), s.table.clone());
                return;
            }
            // The live holder with the best recent latency, weighed by
            // what it was given to read so far.
            let cost = |i: usize| latency[i] * (1 + assigned[i].len() as u32);
            match holders(&s.id).into_iter().min_by_key(|&i| cost(i)) {
                Some(i) => assigned[i].push(s.clone()),
                None => lost.push(s.clone()),
            }
        };
        for node in absent {
            let Some(h) = registry.get(node) else {
                continue;
            };
            let mut lost = Vec::new();
            for s in h.shards.iter().filter(|s| &s.home == node) {
                place(s, &mut lost);
            }
            let open_tables = read_open_copy(&mut reads, node, h, me, &live_names);
            if !lost.is_empty() || !open_tables.is_empty() {
                reads.missing.push(Missing {
                    node: node.clone(),
                    shards: lost,
                    open_tables,
                });
            }
        }
        for s in unannounced {
            let mut lost = Vec::new();
            place(s, &mut lost);
            if !lost.is_empty() {
                reads.missing.push(Missing {
                    node: s.home.clone(),
                    shards: lost,
                    open_tables: vec![],
                });
            }
        }
        for (slot, extra) in reads.peers.iter_mut().zip(assigned) {
            slot.1 = extra;
        }
        reads.scope.copies = local;
        reads
    }
}

/// The unsealed rows of `node`, which is not live: read from the copy
/// its buddy keeps when the buddy is live (or this node), else missing
/// (the tables returned).
fn read_open_copy(
    reads: &mut Reads,
    node: &str,
    h: &Holdings,
    me: &str,
    live: &HashSet<&str>,
) -> Vec<String> {
    let copy = h
        .buddy
        .as_ref()
        .filter(|b| b.node == me || live.contains(b.node.as_str()))
        .filter(|_| !h.open_tables.is_empty());
    let Some(b) = copy else {
        return h.open_tables.clone();
    };
    reads.open_copies.push(OpenCopy {
        holder: b.node.clone(),
        origin: node.to_string(),
        epoch: b.epoch,
        tables: h.open_tables.clone(),
    });
    if b.node == me {
        reads.scope.open_of.push((node.to_string(), b.epoch));
    }
    vec![]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(id: &str, home: &str) -> ShardInfo {
        ShardInfo {
            tombstone_digest: 0,
            id: id.into(),
            table: "t".into(),
            home: home.into(),
            live_rows: 1,
            byte_size: 1,
        }
    }

    #[test]
    fn the_home_comes_first_then_rendezvous_order() {
        let live: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let s = shard("s1", "c");
        let two = desired_holders(&s, &live, 2);
        assert_eq!(two[0], "c");
        assert_eq!(two.len(), 2);
        // Removing a node other than the chosen ones changes nothing.
        let other = live
            .iter()
            .find(|n| !two.contains(&n.as_str()))
            .unwrap()
            .clone();
        let fewer: Vec<String> = live.iter().filter(|n| **n != other).cloned().collect();
        assert_eq!(desired_holders(&s, &fewer, 2), two);
        // Without its home, the next in order moves up.
        let no_home: Vec<String> = live.iter().filter(|n| *n != "c").cloned().collect();
        let next = desired_holders(&s, &no_home, 2);
        assert_eq!(next[0], two[1]);
        // Shards spread: over many ids every node is chosen second sometimes.
        let mut chosen = HashSet::new();
        for i in 0..64 {
            chosen.insert(desired_holders(&shard(&format!("s{i}"), "a"), &live, 2)[1]);
        }
        assert_eq!(chosen.len(), 3, "{chosen:?}");
    }
}
