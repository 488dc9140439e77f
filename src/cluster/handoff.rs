//! A node stopping on SIGTERM hands its data off before it leaves: it
//! seals its open segments (rows that are in no shard yet would be out of
//! reach while it is away) and asks its peers to copy each shard it holds
//! until every one has `--replication-factor` holders besides itself (or
//! as many as there are live peers), within a bound. A rolling restart
//! then loses no row and fails no read: every shard of the stopping node
//! can be read from a copy while it is away.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cluster::proto::{Request, Response};
use crate::cluster::{Cluster, Member};
use crate::error::Result;

/// How long a peer may take to copy one shard on request.
const COPY_TIMEOUT: Duration = Duration::from_secs(30);

impl Cluster {
    /// Seal, then have every shard held here copied to `factor` live peers
    /// (fewer when fewer are alive), giving up after `within`. Returns how
    /// many shards are still short of copies.
    pub async fn hand_off(self: &Arc<Self>, factor: usize, within: Duration) -> usize {
        let started = Instant::now();
        let c = self.clone();
        let sealed = tokio::task::spawn_blocking(move || -> Result<()> {
            for t in c.store.catalog.tables() {
                c.store.seal(&t.name)?;
            }
            c.refresh_holdings()
        })
        .await;
        match sealed {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "sealing before shutdown failed"),
            Err(e) => tracing::warn!(error = %e, "sealing before shutdown failed"),
        }
        let mut asked: HashSet<(String, String)> = HashSet::new();
        loop {
            let peers = self.live_peers();
            let pulls = peers.iter().map(|p| self.pull_holdings(p));
            futures::future::join_all(pulls).await;
            let short = self.short_of_copies(&peers, factor);
            for (id, lacking) in &short {
                let lacking: Vec<&str> = lacking.iter().map(|p| p.name.as_str()).collect();
                tracing::debug!(shard = %id, ?lacking, "short of copies");
            }
            if short.is_empty() {
                tracing::info!("every shard held here has its copies elsewhere");
                return 0;
            }
            if started.elapsed() >= within {
                tracing::warn!(
                    shards = short.len(),
                    "stopping with shards short of copies elsewhere"
                );
                return short.len();
            }
            for (id, lacking) in short {
                for peer in lacking {
                    if !asked.insert((id.clone(), peer.name.clone())) {
                        continue;
                    }
                    let call = self.client(peer.cluster_addr).call_all::<_, Response>(
                        &Request::Replicate { id: id.clone() },
                        COPY_TIMEOUT,
                    );
                    tokio::spawn(async move {
                        if let Err(e) = call.await {
                            tracing::debug!(peer = %peer.name, error = %e, "copy request failed");
                        }
                    });
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The shards held here with fewer than `factor` live holders besides
    /// this node, each with the live peers to ask for the copies missing
    /// (by name, as many as are missing).
    fn short_of_copies(&self, peers: &[Member], factor: usize) -> Vec<(String, Vec<Member>)> {
        let me = &self.store.node_name;
        let want = factor.min(peers.len());
        let mut out = Vec::new();
        for (id, (_, holders)) in self.known_shards() {
            if !holders.contains(me) {
                continue;
            }
            let elsewhere = peers.iter().filter(|p| holders.contains(&p.name)).count();
            if elsewhere >= want {
                continue;
            }
            let mut lacking: Vec<_> = peers
                .iter()
                .filter(|p| !holders.contains(&p.name))
                .cloned()
                .collect();
            lacking.sort_by(|a, b| a.name.cmp(&b.name));
            lacking.truncate(want - elsewhere);
            out.push((id, lacking));
        }
        out
    }
}
