//! What a backup asks of the cluster: a moment when no node commits (its
//! cut); every live shard of the tables it takes, with the tombstones any
//! holder has of it or any node still has to deliver; where every
//! sequence stands on any node; and a copy of a shard this node does not
//! hold.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::cluster::membership::Member;
use crate::cluster::proto::{Request, Response};
use crate::cluster::{Cluster, QUERY_TIMEOUT};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::types::backup::{NodeCut, OpenRows, SequenceFloor};
use crate::types::shard::ShardId;

/// How long a node waits for the commits under way to end before its
/// gate is closed.
const GATE_WAIT: Duration = Duration::from_secs(10);
/// How long a gate stays closed at most, should the backup that closed it
/// never open it.
const GATE_LEASE: Duration = Duration::from_secs(60);

/// Close this node's commit gate for `token` (`store::gate`).
pub(crate) fn pause_here(store: &Store, token: u64, lease: Duration) -> Result<()> {
    if store.gate.close(token, GATE_WAIT, lease.min(GATE_LEASE)) {
        Ok(())
    } else {
        Err(Error::LockNotAvailable(format!(
            "node {}: the transactions committing there did not end within {} s, or another backup holds its commits",
            store.node_name,
            GATE_WAIT.as_secs()
        )))
    }
}

impl Cluster {
    /// Run `f` while no live node commits a transaction: every node's
    /// commit gate closed, in the order of their names (so two backups do
    /// not each hold a part), and opened again afterwards, whatever `f`
    /// gives. Blocking.
    pub fn with_commits_paused<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let token: u64 = rand::random();
        let mut nodes: Vec<(String, Option<Member>)> = self
            .live_peers()
            .into_iter()
            .map(|m| (m.name.clone(), Some(m)))
            .collect();
        nodes.push((self.store.node_name.clone(), None));
        nodes.sort_by(|a, b| a.0.cmp(&b.0));
        let mut closed = Vec::new();
        let mut failed = None;
        for (name, member) in nodes {
            let r = match &member {
                None => pause_here(&self.store, token, GATE_LEASE),
                Some(peer) => self
                    .ask(
                        peer,
                        &Request::PauseCommits {
                            token,
                            lease_ms: GATE_LEASE.as_millis() as u64,
                        },
                        GATE_WAIT + QUERY_TIMEOUT,
                    )
                    .map(drop),
            };
            match r {
                Ok(()) => closed.push(member),
                Err(e) => {
                    failed = Some(match e {
                        Error::LockNotAvailable(m) => Error::LockNotAvailable(m),
                        other => Error::Unavailable(format!("node {name}: {other}")),
                    });
                    break;
                }
            }
        }
        let r = match failed {
            None => f(),
            Some(e) => Err(e),
        };
        for member in closed.iter().rev() {
            match member {
                None => self.store.gate.open(token),
                Some(peer) => {
                    if let Err(e) = self.ask(peer, &Request::ResumeCommits { token }, QUERY_TIMEOUT)
                    {
                        tracing::warn!(peer = %peer.name, error = %e, "could not open a peer's commit gate; its lease will");
                    }
                }
            }
        }
        r
    }

    /// `req` to `peer`, its answers. Blocking.
    fn ask(&self, peer: &Member, req: &Request, timeout: Duration) -> Result<Vec<Response>> {
        self.runtime
            .block_on(self.client(peer.cluster_addr).call_all(req, timeout))
    }

    /// Each live node's cut of `tables` (`Store::backup_cut`), to be taken
    /// while commits are paused. Fails, naming them, when some shard of
    /// them has no live holder. Blocking.
    pub fn backup_cut(&self, tables: &[String]) -> Result<(Vec<NodeCut>, Vec<OpenRows>)> {
        let live: HashSet<String> = self
            .live_peers()
            .into_iter()
            .map(|m| m.name)
            .chain([self.store.node_name.clone()])
            .collect();
        let mut missing: Vec<String> = self
            .known_shards()
            .into_iter()
            .filter(|(_, (info, holders))| {
                tables.contains(&info.table) && !holders.iter().any(|h| live.contains(h))
            })
            .map(|(id, _)| id)
            .collect();
        if !missing.is_empty() {
            missing.sort();
            return Err(Error::Unavailable(format!(
                "no reachable node holds shard {}",
                missing.join(", ")
            )));
        }
        let (cut, mut open) = self.store.backup_cut(tables)?;
        let mut cuts = vec![cut];
        let req = Request::BackupCut {
            tables: tables.to_vec(),
        };
        for peer in self.live_peers() {
            let items = self
                .ask(&peer, &req, QUERY_TIMEOUT)
                .map_err(|e| Error::Unavailable(format!("node {}: {e}", peer.name)))?;
            for item in items {
                match item {
                    Response::Cut(c) => cuts.push(c),
                    Response::OpenRows(rows) => open.push(rows),
                    _ => {}
                }
            }
        }
        Ok((cuts, open))
    }

    /// Where each sequence stands: the furthest position of this node and
    /// every live peer. Blocking.
    pub fn sequence_floors(&self) -> Result<Vec<SequenceFloor>> {
        let mut all = self.store.sequence_positions();
        for (node, r) in self.on_peers(&Request::SequencePositions, QUERY_TIMEOUT) {
            let items = r.map_err(|e| Error::Unavailable(format!("node {node}: {e}")))?;
            for item in items {
                if let Response::Sequences(s) = item {
                    all.extend(s);
                }
            }
        }
        Ok(furthest(all))
    }

    /// A copy of shard `id`, whose file this node does not have, from a
    /// live peer that has it (its holders first; a shard compacted since
    /// the cut is still a file at its home), left at
    /// `Store::transfer_path(id, "backup")` for a backup to read; its
    /// path. Blocking.
    pub fn copy_for_backup(self: &Arc<Self>, id: &str) -> Result<PathBuf> {
        let info = match self.known_shards().remove(id) {
            Some((info, _)) => info,
            None => crate::cluster::proto::ShardInfo {
                id: id.to_string(),
                table: String::new(),
                home: String::new(),
                live_rows: 0,
                byte_size: 0,
                tombstone_digest: 0,
            },
        };
        let mut peers = self.live_holders(&info);
        for p in self.live_peers() {
            if !peers.iter().any(|h| h.name == p.name) {
                peers.push(p);
            }
        }
        let req = Request::FetchFile { id: id.to_string() };
        let mut last = None;
        for holder in peers {
            match self.runtime.block_on(self.fetch_with(&info, &holder, &req)) {
                Ok((tmp, _)) => {
                    let path = self.store.transfer_path(&ShardId(id.to_string()), "backup");
                    std::fs::rename(&tmp, &path)?;
                    return Ok(path);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            Error::Unavailable(format!("no node holding shard {id} is reachable"))
        }))
    }
}

/// One position per sequence: the furthest of those given.
pub fn furthest(all: Vec<SequenceFloor>) -> Vec<SequenceFloor> {
    let mut by_key: HashMap<(String, u32), SequenceFloor> = HashMap::new();
    for f in all {
        match by_key.get(&(f.key.clone(), f.owner_oid)) {
            Some(old) if !f.beyond(old) => {}
            _ => {
                by_key.insert((f.key.clone(), f.owner_oid), f);
            }
        }
    }
    let mut out: Vec<SequenceFloor> = by_key.into_values().collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}
