//! When a dropped table's data may go (see `store::dropped`).
//!
//! A node keeps a dropped table's rows until no newer definition of that
//! table can reach it: until every node it knows of (its registry, kept
//! across restarts, and every live member) has shown, in a catalog this
//! node pulled from it, an entry for the name at least as new as this
//! node's that is not the kept table itself. Such a node has the DROP or
//! something newer that replaced it, so it can neither make nor pass on an
//! ALTER of the table older than that; a definition newer than the DROP
//! is applied from that same pull first, which puts the rows back. A node
//! that stays down keeps the data here until it returns or
//! `mosaic.forget_node` gives it up. Confirmations live in memory: after a
//! restart they come again with the first pull from each peer.

use std::collections::{HashMap, HashSet};

use crate::cluster::Cluster;
use crate::error::Result;
use crate::store::catalog::Entry;

/// Which known nodes confirmed each kept table's DROP, by kept segment.
pub(super) type Confirmed = parking_lot::Mutex<HashMap<String, HashSet<String>>>;

impl Cluster {
    /// Apply `peer`'s catalog, just pulled, and note which kept dropped
    /// tables it confirms; purge those every known node confirmed.
    /// Blocking.
    pub(super) fn take_catalog(&self, peer: &str, entries: &[Entry]) -> Result<()> {
        for e in entries {
            if self.store.apply_entry(e)? {
                tracing::info!(entry = ?super::entry_name(e), "catalog change applied");
            }
        }
        self.follow_renames();
        let kept = self.store.kept_dropped()?;
        if kept.is_empty() {
            return Ok(());
        }
        {
            let mut confirmed = self.dropped_confirmed.lock();
            for k in &kept {
                let here = self.store.catalog.hlc_of(&Entry::Table {
                    name: k.name.clone(),
                    def: None,
                    hlc: 0,
                })?;
                let has_drop = entries.iter().any(|e| match e {
                    Entry::Table { name, def, hlc } if *name == k.name => {
                        *hlc >= here && def.as_ref().is_none_or(|d| d.oid != k.oid)
                    }
                    _ => false,
                });
                if has_drop {
                    (confirmed.entry(k.segment.clone()).or_default()).insert(peer.to_string());
                }
            }
        }
        self.purge_confirmed();
        Ok(())
    }

    /// Purge the kept dropped tables every node this one knows of has
    /// confirmed (all of them on a node that knows no other). Blocking.
    pub(super) fn purge_confirmed(&self) {
        let kept = match self.store.kept_dropped() {
            Ok(k) => k,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list dropped tables' data");
                return;
            }
        };
        let me = &self.store.node_name;
        let mut known: HashSet<String> = self.registry.read().keys().cloned().collect();
        known.extend(self.live_peers().into_iter().map(|m| m.name));
        known.remove(me);
        let mut confirmed = self.dropped_confirmed.lock();
        confirmed.retain(|segment, _| kept.iter().any(|k| &k.segment == segment));
        for k in kept {
            let by = confirmed.get(&k.segment);
            if !known.iter().all(|n| by.is_some_and(|b| b.contains(n))) {
                continue;
            }
            match self.store.purge_dropped(&k.segment) {
                Ok(()) => {
                    confirmed.remove(&k.segment);
                }
                Err(e) => {
                    tracing::warn!(table = %k.name, error = %e, "cannot purge a dropped table's data")
                }
            }
        }
    }

    /// After a DROP TABLE here: pull every live peer's catalog now (each
    /// has the DROP, pushed just before, unless it holds something newer)
    /// and purge what they all confirm. Blocking: called from a session.
    pub fn settle_dropped(&self) {
        for peer in self.live_peers() {
            let pulled = self
                .call_peer(
                    &peer.name,
                    &crate::cluster::proto::Request::Catalog,
                    super::SYNC_TIMEOUT,
                )
                .and_then(|items| {
                    items.into_iter().try_for_each(|item| match item {
                        crate::cluster::proto::Response::Catalog(entries) => {
                            self.take_catalog(&peer.name, &entries)
                        }
                        _ => Ok(()),
                    })
                });
            if let Err(e) = pulled {
                tracing::debug!(peer = %peer.name, error = %e, "catalog pull after a DROP failed");
            }
        }
        self.purge_confirmed();
    }
}
