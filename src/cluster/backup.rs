//! What a backup asks of the cluster: every live shard of the tables it
//! takes, with the tombstones any holder has of it; where every sequence
//! stands on any node; and a copy of a shard this node does not hold.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use crate::cluster::proto::{Request, Response};
use crate::cluster::{Cluster, QUERY_TIMEOUT};
use crate::error::{Error, Result};
use crate::types::backup::{BackupShard, SequenceFloor};
use crate::types::shard::ShardId;

impl Cluster {
    /// Every live shard of `tables` any node announces, each with the
    /// union of the tombstones its reachable holders have of it. Fails,
    /// naming them, when some shard has no reachable holder. Blocking.
    pub fn backup_shards(&self, tables: &HashSet<String>) -> Result<Vec<BackupShard>> {
        let me = self.store.node_name.clone();
        let peers: HashMap<String, _> = self
            .live_peers()
            .into_iter()
            .map(|m| (m.name.clone(), m))
            .collect();
        let (mut out, mut missing) = (Vec::new(), Vec::new());
        for (id, (info, holders)) in self.known_shards() {
            if !tables.contains(&info.table) {
                continue;
            }
            let mut reached = false;
            let mut rids = BTreeSet::new();
            for holder in holders {
                if holder == me {
                    rids.extend(self.store.tombstones_of(&ShardId(id.clone()))?);
                } else if let Some(peer) = peers.get(&holder) {
                    let req = Request::ShardTombstones { id: id.clone() };
                    let items = self
                        .runtime
                        .block_on(self.client(peer.cluster_addr).call_all(&req, QUERY_TIMEOUT))
                        .map_err(|e| Error::Unavailable(format!("node {holder}: {e}")))?;
                    for item in items {
                        if let Response::Rids(r) = item {
                            rids.extend(r);
                        }
                    }
                } else {
                    continue;
                }
                reached = true;
            }
            if !reached {
                missing.push(id);
                continue;
            }
            out.push(BackupShard {
                id,
                table: info.table,
                byte_size: info.byte_size,
                tombstones: rids.into_iter().collect(),
            });
        }
        if !missing.is_empty() {
            missing.sort();
            return Err(Error::Unavailable(format!(
                "no reachable node holds shard {}",
                missing.join(", ")
            )));
        }
        out.sort_by(|a, b| (&a.table, &a.id).cmp(&(&b.table, &b.id)));
        Ok(out)
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

    /// A copy of shard `id`, which this node does not hold, from a live
    /// holder, left at `Store::transfer_path(id, "backup")` for a backup
    /// to read; its path. Blocking.
    pub fn copy_for_backup(self: &Arc<Self>, id: &str) -> Result<PathBuf> {
        let known = self.known_shards();
        let Some((info, _)) = known.get(id) else {
            return Err(Error::InvalidParameter(format!(
                "no node is known to hold shard \"{id}\""
            )));
        };
        let mut last = None;
        for holder in self.live_holders(info) {
            match self.runtime.block_on(self.fetch_file(info, &holder)) {
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
