//! The scrub: once at start and then every `--scrub-interval-secs` this
//! node verifies each shard it holds (its own, its replicas, its
//! edge-cache copies) against its id again, however recently it was
//! verified (`store::scrub`: one that fails is not read), and a damaged
//! shard, found by the scrub or by a read, gets its file replaced by a
//! healthy copy from another holder as soon as one is reachable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cluster::Cluster;
use crate::error::Error;
use crate::types::shard::ShardId;

/// How often damaged shards are looked for a healthy copy.
const REPAIR_EVERY: Duration = Duration::from_secs(1);

pub(super) async fn run(cluster: Arc<Cluster>, every: Duration) {
    let mut last_pass: Option<Instant> = None;
    loop {
        if last_pass.is_none_or(|t| t.elapsed() >= every) {
            last_pass = Some(Instant::now());
            let c = cluster.clone();
            let started = Instant::now();
            let found = tokio::task::spawn_blocking(move || c.scrub_pass()).await;
            let ms = started.elapsed().as_millis() as u64;
            match found {
                Ok(Ok((shards, 0))) => tracing::info!(shards, ms, "scrub: every shard sound"),
                Ok(Ok((shards, n))) => {
                    tracing::error!(shards, damaged = n, ms, "scrub: damaged shards found")
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "scrub failed"),
                Err(e) => tracing::warn!(error = %e, "scrub failed"),
            }
        }
        for id in cluster.store.damaged_shards() {
            cluster.repair(&id).await;
        }
        tokio::time::sleep(REPAIR_EVERY).await;
    }
}

impl Cluster {
    /// Verify every shard this node holds: how many, and how many are
    /// damaged. A file that cannot be read (one retired meanwhile) is
    /// logged and the pass goes on with the others. Blocking.
    fn scrub_pass(&self) -> crate::error::Result<(usize, usize)> {
        let shards = self.store.live_shards()?;
        let mut damaged = 0;
        for s in &shards {
            match self.store.scrub_shard(&s.id) {
                Ok(true) => {}
                Ok(false) => damaged += 1,
                Err(e) => tracing::warn!(shard = %s.id, error = %e, "scrub could not read a shard"),
            }
        }
        Ok((shards.len(), damaged))
    }

    /// Replace damaged shard `id`'s file with a live holder's copy.
    async fn repair(self: &Arc<Self>, id: &ShardId) {
        let known = self.known_shards();
        let Some((info, _)) = known.get(&id.0) else {
            return;
        };
        for holder in self.live_holders(info) {
            let fetched = match self.fetch_file(info, &holder).await {
                Ok((tmp, _)) => tmp,
                Err(e) => {
                    tracing::debug!(shard = %id, from = %holder.name, error = %e, "fetching a healthy copy failed");
                    continue;
                }
            };
            let (store, id) = (self.store.clone(), id.clone());
            let r = tokio::task::spawn_blocking(move || store.repair_shard(&fetched, &id)).await;
            match r.map_err(Error::internal).and_then(|r| r) {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(from = %holder.name, error = %e, "a copy did not repair the shard")
                }
            }
        }
    }
}
