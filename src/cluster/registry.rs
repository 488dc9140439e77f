//! The registry: which node holds what. Each node announces its own
//! holdings (its live shards, the tables with unsealed rows, its sequence
//! slot) by gossip when they change; peers pull the details over RPC, and
//! keep them across restarts so that a node that is down stays known. The
//! registry is what names the data a query cannot reach.

use std::collections::HashMap;
use std::sync::Arc;

use crate::cluster::membership::Member;
use crate::cluster::membership::MemberState;
use crate::cluster::proto::{Holdings, Request, Response, ShardInfo};
use crate::cluster::{Cluster, ANNOUNCE_EVERY, SYNC_TIMEOUT, TOPIC_HOLDINGS};
use crate::error::Result;
use crate::store::Store;
use crate::types::Datum;

impl Cluster {
    /// What a live peer that did not answer would have given: its
    /// shards of `tables` and the replicas it was to read, and its
    /// unsealed rows.
    pub(super) fn describe_unreachable(
        &self,
        reads: &super::Reads,
        node: &str,
        tables: &[String],
        e: &crate::error::Error,
    ) -> String {
        let registry = self.registry.read();
        let h = registry.get(node);
        let mut ids: Vec<String> = h
            .map(|h| {
                h.shards
                    .iter()
                    .filter(|s| s.home == node && tables.contains(&s.table))
                    .map(|s| s.id.clone())
                    .collect()
            })
            .unwrap_or_default();
        ids.extend(
            reads
                .replicas_for(node, tables)
                .into_iter()
                .map(|(_, id)| id),
        );
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let open = h.is_none_or(|h| h.open_tables.iter().any(|t| tables.contains(t)));
        super::placement::describe(node, &ids, open || ids.is_empty(), Some(&e.to_string()))
            .unwrap_or_default()
    }

    /// Read this node's holdings and announce them if they changed.
    /// Blocking.
    pub fn refresh_holdings(&self) -> Result<()> {
        // One connection for every look, not one per look, held until the
        // reading is recorded: a reading taken before a commit must not be
        // recorded after one taken after it, with a newer version that
        // every peer would keep (they would then skip this node's new
        // unsealed rows until the next sync).
        let mut conn = self.holdings_conn.lock();
        if conn.is_none() {
            *conn = Some(self.store.connect()?);
        }
        let (shards, mut open_tables) = {
            let mut digests = self.digests.lock();
            match conn.as_ref() {
                Some(c) => local_holdings(&self.store, c, &mut digests)?,
                None => return Ok(()),
            }
        };
        // A transaction writing a table says so before it commits
        // (`will_write`); the reading keeps saying so until it ends.
        for t in self.store.inflight.tables() {
            if !open_tables.contains(&t) {
                open_tables.push(t);
            }
        }
        open_tables.sort();
        let (version, before) = {
            let mut mine = self.mine.lock();
            let slot = self.store.sequences.slot();
            if mine.shards == shards
                && mine.open_tables == open_tables
                && mine.seq_slot == slot
                && mine.version != 0
            {
                return Ok(());
            }
            // The first reading after start is no event.
            let before = (mine.version != 0).then(|| mine.shards.clone());
            mine.shards = shards;
            self.pushed.lock().retain(|t| open_tables.contains(t));
            mine.open_tables = open_tables;
            mine.seq_slot = slot;
            mine.version = self.store.hlc.now() as u64;
            (mine.version, before)
        };
        drop(conn);
        if let Some(before) = before {
            self.shard_events(&before, &self.mine.lock().shards.clone());
        }
        self.membership.broadcast(TOPIC_HOLDINGS, version, vec![]);
        Ok(())
    }

    /// After a commit wrote `tables`, before the client hears of it: when
    /// one of them had no unsealed rows here before, push the holdings to
    /// every live peer. A peer skips a node for a table only when the
    /// node's holdings say it has nothing there that a query could match,
    /// so it must know of these rows before anyone can ask for them (and
    /// name them if this node dies). Blocking.
    pub fn written(self: &Arc<Self>, tables: &std::collections::HashSet<String>) {
        let known = {
            // After any reading taken before the commit is recorded.
            let _reading = self.holdings_conn.lock();
            let mine = self.mine.lock();
            let pushed = self.pushed.lock();
            tables
                .iter()
                .all(|t| mine.open_tables.contains(t) && pushed.contains(t))
        };
        if known {
            return;
        }
        if let Err(e) = self.refresh_holdings() {
            tracing::warn!(error = %e, "cannot read holdings");
            return;
        }
        let holdings = self.mine.lock().clone();
        self.push_holdings(holdings.clone(), "unsealed rows");
        self.pushed_now(tables.iter().filter(|t| holdings.open_tables.contains(t)));
    }

    /// Push `holdings` (this node's) to every live peer and wait for them;
    /// a peer that misses them hears at the next sync (`what` they tell,
    /// for the log). Blocking.
    pub(super) fn push_holdings(&self, holdings: Holdings, what: &str) {
        let req = Request::Announce {
            node: self.store.node_name.clone(),
            holdings,
        };
        for (peer, r) in self.on_peers(&req, SYNC_TIMEOUT) {
            if let Err(e) = r {
                tracing::warn!(peer = %peer, error = %e, "could not announce {what}; the next sync will");
            }
        }
    }

    /// Every live peer was just told that `tables` are open here: remember
    /// those still open in this node's holdings.
    fn pushed_now<'a>(&self, tables: impl Iterator<Item = &'a String>) {
        let _reading = self.holdings_conn.lock();
        let mine = self.mine.lock();
        let mut pushed = self.pushed.lock();
        pushed.extend(tables.filter(|t| mine.open_tables.contains(t)).cloned());
    }

    /// Before a write asks its peers about a unique key of `table`: when
    /// this node's holdings say it has no unsealed rows of it, say now that
    /// it has, to every live peer, so that a peer writing the same key at
    /// the same moment asks this node (and finds the key held, see
    /// `store::inflight`) rather than skipping it. Blocking; once per table
    /// while its rows stay unsealed.
    pub fn will_write(self: &Arc<Self>, table: &str) {
        if self.pushed.lock().contains(table) {
            // Readings keep it open while the transaction holds key values
            // of it, and every peer was told.
            return;
        }
        let holdings = {
            // Between readings, which from now on include the table while
            // the transaction holds key values of it (`store::inflight`).
            let _reading = self.holdings_conn.lock();
            let mut mine = self.mine.lock();
            if !mine.open_tables.iter().any(|t| t == table) {
                mine.open_tables.push(table.to_string());
                mine.open_tables.sort();
                mine.version = self.store.hlc.now() as u64;
            }
            mine.clone()
        };
        self.push_holdings(holdings, "a write");
        self.pushed_now(std::iter::once(&table.to_string()));
    }

    /// Whether every node this node has heard of (its registry, kept across
    /// restarts) is a live member: false right after a restart, before
    /// membership has found them again, and while one is down.
    pub fn all_known_alive(&self) -> bool {
        let members = self.members();
        let live = |name: &str| {
            members
                .iter()
                .any(|(m, s)| m.name == name && matches!(s, MemberState::Alive | MemberState::Left))
        };
        members
            .iter()
            .all(|(_, s)| matches!(s, MemberState::Alive | MemberState::Left))
            && (self.registry.read().keys())
                .filter(|n| **n != self.store.node_name)
                .all(|n| live(n))
    }

    /// Pull every live peer's holdings now (after `mosaic.seal`, so that
    /// its answer lists the new shards). Blocking.
    pub fn pull_all_holdings(self: &Arc<Self>) {
        let peers = self.live_peers();
        let pulls = peers.iter().map(|p| self.pull_holdings(p));
        for r in self.runtime.block_on(futures::future::join_all(pulls)) {
            if let Err(e) = r {
                tracing::debug!(error = %e, "holdings pull failed");
            }
        }
    }

    /// Forget a node that is gone for good, here and on every live peer:
    /// the registry no longer lists what it held. Its shards are then read
    /// from their copies wherever they are, the copies are made up to the
    /// replication factor again, and its unsealed rows are given up (no
    /// query fails for them any more). Only a node that is not live can be
    /// forgotten; it may join again later, as a new one. Blocking.
    pub fn forget_node(&self, node: &str) -> Result<bool> {
        if node == self.store.node_name {
            return Err(crate::error::Error::InvalidParameter(
                "a node cannot forget itself".into(),
            ));
        }
        if self.live_peers().iter().any(|m| m.name == node) {
            return Err(crate::error::Error::ObjectNotInState(format!(
                "node {node} is live; only a node that is down can be forgotten"
            )));
        }
        let known = self.forget(node);
        for (peer, r) in self.on_peers(
            &Request::ForgetNode {
                node: node.to_string(),
            },
            SYNC_TIMEOUT,
        ) {
            if let Err(e) = r {
                tracing::warn!(peer = %peer, error = %e, "could not tell a peer to forget a node");
            }
        }
        Ok(known)
    }

    /// Drop `node` from this node's registry; true when it was there.
    pub(super) fn forget(&self, node: &str) -> bool {
        // Its unsealed rows live on here when this node keeps the copy it
        // announced: they become this node's own (and its peers hear so).
        let buddy = self.registry.read().get(node).and_then(|h| h.buddy.clone());
        let mut kept = true;
        if let Some(b) = buddy.filter(|b| b.node == self.store.node_name) {
            match crate::store::copies::adopt(&self.store, node, b.epoch) {
                Ok(tables) if !tables.is_empty() => {
                    tracing::info!(node, ?tables, "took a forgotten node's unsealed rows");
                    match self.refresh_holdings() {
                        Ok(()) => {
                            // Not held while the peers answer (serving a
                            // holdings pull takes this lock).
                            let mine = self.mine.lock().clone();
                            self.push_holdings(mine, "adopted rows");
                        }
                        Err(e) => tracing::warn!(error = %e, "cannot read holdings"),
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    kept = false;
                    tracing::warn!(node, error = %e, "cannot take a forgotten node's unsealed rows; their copy stays here");
                }
            }
        }
        let known = self.registry.write().remove(node).is_some();
        self.registry_changed();
        if kept {
            if let Err(e) = self.store.copies.drop_origin(node) {
                tracing::warn!(node, error = %e, "cannot drop the copy of a forgotten node's unsealed rows");
            }
        }
        // Its confirmation of a DROP is no longer waited for.
        self.purge_confirmed();
        if known {
            self.node_event(node, "forgotten");
            tracing::info!(node, "forgot a node that is gone for good");
            self.save_registry();
        }
        known
    }

    /// Follow the tables renamed here (`Store::take_renamed`) in what the
    /// registry says other nodes hold: a node that is down announced its
    /// shards and unsealed rows under the old name, and a read of the
    /// table must still find (or name) them. Blocking.
    pub fn follow_renames(&self) {
        let renames = self.store.take_renamed();
        if renames.is_empty() {
            return;
        }
        for h in self.registry.write().values_mut() {
            for (old, new) in &renames {
                for s in h.shards.iter_mut().filter(|s| s.table == *old) {
                    s.table = new.clone();
                }
                for t in h.open_tables.iter_mut().filter(|t| *t == old) {
                    *t = new.clone();
                }
            }
        }
        self.registry_changed();
        self.save_registry();
        if let Err(e) = self.refresh_holdings() {
            tracing::warn!(error = %e, "cannot announce holdings after a rename");
        }
    }

    /// Keep the registry across restarts: after one, this node must still
    /// know what a node that is down now was holding.
    pub(super) fn save_registry(&self) {
        let snapshot: Vec<(String, Holdings)> = self
            .registry
            .read()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        match serde_json::to_string(&snapshot) {
            Ok(json) => {
                if let Err(e) = self.store.catalog.set_meta("registry", &json) {
                    tracing::warn!(error = %e, "cannot keep the registry");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot encode the registry"),
        }
    }

    /// Fold a round trip to `node` into its smoothed latency.
    fn observe_latency(&self, node: &str, rtt: std::time::Duration) {
        let mut latency = self.latency.lock();
        let smoothed = match latency.get(node) {
            Some(old) => old.mul_f64(0.7) + rtt.mul_f64(0.3),
            None => rtt,
        };
        latency.insert(node.to_string(), smoothed);
    }

    /// `node`'s smoothed round-trip time (1 ms until one is measured).
    pub(super) fn latency_of(&self, node: &str) -> std::time::Duration {
        self.latency
            .lock()
            .get(node)
            .copied()
            .unwrap_or(std::time::Duration::from_millis(1))
    }

    /// Keep `node`'s holdings if they are newer than what the registry has.
    pub(super) fn take_holdings(&self, node: &str, h: Holdings) {
        if node == self.store.node_name {
            return;
        }
        let mut reg = self.registry.write();
        tracing::debug!(node, version = h.version, open = ?h.open_tables, known = ?reg.get(node).map(|o| o.version), "holdings");
        if reg.get(node).is_none_or(|old| h.version > old.version) {
            reg.insert(node.to_string(), h);
            drop(reg);
            self.registry_changed();
            self.save_registry();
        }
    }

    /// Pull `peer`'s holdings into the registry.
    pub(super) async fn pull_holdings(self: &Arc<Self>, peer: &Member) -> Result<()> {
        let start = std::time::Instant::now();
        let items: Vec<Response> = self
            .client(peer.cluster_addr)
            .call_all(&Request::Holdings, SYNC_TIMEOUT)
            .await?;
        self.observe_latency(&peer.name, start.elapsed());
        for item in items {
            if let Response::Holdings(h) = item {
                self.take_holdings(&peer.name, h);
            }
        }
        if self.store.sequences.slot().is_some() {
            self.choose_seq_slot();
        }
        Ok(())
    }

    /// Move every serial sequence past the largest value its column holds
    /// on any node: values a node handed out before it joined (counting
    /// 1, 2, 3 alone) are never handed out again by another.
    pub(super) fn advance_sequences(&self) {
        for def in self.store.catalog.tables() {
            for col in &def.columns {
                let Some(seq) = col
                    .default
                    .as_deref()
                    .and_then(crate::types::table::sequence_name)
                else {
                    continue;
                };
                let sql = format!(
                    "SELECT max({}) FROM {}",
                    crate::types::quote(&col.name),
                    crate::types::quote(&def.name)
                );
                match self.query_peers(std::slice::from_ref(&def.name), &sql, &[]) {
                    Ok(answer) => {
                        for row in answer.into_rows() {
                            if let Some(Datum::Int(max)) = row.first() {
                                self.store
                                    .sequences
                                    .advance_to(&seq, &col.sequence_def(), *max);
                            }
                        }
                    }
                    Err(e) => {
                        tracing::debug!(table = %def.name, error = %e, "sequence advance failed")
                    }
                }
            }
        }
    }

    /// In a cluster, this node's sequences draw from a residue class no
    /// other node announces (kept across restarts). When two nodes picked
    /// the same one, the node with the greater name moves.
    pub(super) fn choose_seq_slot(&self) {
        let me = &self.store.node_name;
        let taken: std::collections::HashSet<i64> = self
            .registry
            .read()
            .iter()
            .filter(|(name, _)| name.as_str() < me.as_str())
            .filter_map(|(_, h)| h.seq_slot)
            .collect();
        let current = self.store.sequences.slot().or_else(|| {
            self.store
                .catalog
                .meta("seq_slot")
                .ok()
                .flatten()
                .and_then(|v| v.parse().ok())
        });
        if let Some(slot) = current.filter(|s| !taken.contains(s)) {
            if self.store.sequences.slot() != Some(slot) {
                self.store.sequences.set_slot(slot);
            }
            return;
        }
        let others: std::collections::HashSet<i64> = self
            .registry
            .read()
            .values()
            .filter_map(|h| h.seq_slot)
            .collect();
        // Start from a slot derived from the name, so that nodes starting
        // together rarely pick the same one before they hear of each other.
        let stride = crate::store::sequences::CLUSTER_STRIDE;
        let preferred = 1
            + (me.bytes().fold(0xcbf29ce484222325u64, |h, b| {
                (h ^ b as u64).wrapping_mul(0x100000001b3)
            }) % (stride as u64 - 1)) as i64;
        let Some(slot) = (0..stride - 1)
            .map(|i| 1 + (preferred - 1 + i) % (stride - 1))
            .find(|s| !others.contains(s))
        else {
            tracing::warn!("every sequence slot is taken; serial values may collide");
            return;
        };
        if let Err(e) = self.store.catalog.set_meta("seq_slot", &slot.to_string()) {
            tracing::warn!(error = %e, "cannot keep the sequence slot");
        }
        self.store.sequences.set_slot(slot);
        tracing::info!(slot, "sequences draw from their own residue class");
        self.mine.lock().version = 0;
    }
}

/// The registry as this node kept it before it stopped.
pub(super) fn load_registry(store: &Store) -> HashMap<String, Holdings> {
    let saved = store.catalog.meta("registry").ok().flatten();
    let entries: Vec<(String, Holdings)> = saved
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default();
    entries
        .into_iter()
        .filter(|(name, _)| *name != store.node_name)
        .map(|(name, mut h)| {
            // Kept before shards named their home: a node's were its own.
            for s in h.shards.iter_mut().filter(|s| s.home.is_empty()) {
                s.home = name.clone();
            }
            (name, h)
        })
        .collect()
}

/// Tombstone digests of this node's shards, by shard id, with the
/// tombstone count each was computed at: a set only grows, so it changed
/// exactly when its count did, and only then is it read again.
pub(super) type Digests = std::collections::HashMap<String, (i64, u64)>;

/// This node's holdings as the registry lists them.
fn local_holdings(
    store: &Store,
    conn: &crate::store::Conn,
    digests: &mut Digests,
) -> Result<(Vec<ShardInfo>, Vec<String>)> {
    let (shards, open) = store.holdings(conn)?;
    let mut out = Vec::new();
    let mut seen = Digests::new();
    for s in shards {
        let meta = store.meta(&s.id)?;
        let digest = match digests.get(&s.id.0) {
            Some(&(count, digest)) if count == s.tombstones => digest,
            _ => crate::types::shard::tombstone_digest(conn.tombstones(&s.id)?),
        };
        seen.insert(s.id.0.clone(), (s.tombstones, digest));
        out.push(ShardInfo {
            id: s.id.0.clone(),
            table: s.table.clone(),
            home: s.home.clone().unwrap_or_else(|| store.node_name.clone()),
            live_rows: meta.row_count as i64 - s.tombstones,
            byte_size: meta.byte_size,
            tombstone_digest: digest,
        });
    }
    *digests = seen;
    Ok((out, open))
}

/// Announce this node's holdings whenever they change.
pub(super) async fn announce(cluster: Arc<Cluster>) {
    loop {
        tokio::time::sleep(ANNOUNCE_EVERY).await;
        let c = cluster.clone();
        match tokio::task::spawn_blocking(move || c.refresh_holdings()).await {
            Ok(Err(e)) => tracing::debug!(error = %e, "cannot read holdings"),
            Err(e) => tracing::debug!(error = %e, "holdings task failed"),
            Ok(Ok(())) => {}
        }
    }
}
