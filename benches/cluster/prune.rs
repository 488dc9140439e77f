//! How many shards pruning skips, read from each node's own EXPLAIN.
//!
//! A node's EXPLAIN lists only the shards it holds itself (the peers' part
//! is one "peers ... each run" line), so the cluster-wide fraction is the
//! sum over every node's EXPLAIN of the same statement.

use tokio_postgres::Client;

use crate::server;

/// Shards seen and skipped over many EXPLAINs, with why they were skipped.
#[derive(Default, Clone)]
pub struct Tally {
    /// EXPLAINs run (statements × nodes).
    pub explains: usize,
    /// Sealed shards the planners considered.
    pub shards: usize,
    pub pruned: usize,
    pub by_zone_map: usize,
    pub by_bloom: usize,
    pub by_trigram: usize,
    /// Pruned for a reason none of the above names.
    pub by_other: usize,
}

impl Tally {
    pub fn fraction(&self) -> f64 {
        if self.shards == 0 {
            return f64::NAN;
        }
        self.pruned as f64 / self.shards as f64
    }

    /// Adds one EXPLAIN's lines: the header says "K of N shards", each
    /// skipped shard has a "pruned shard ID: reason" line.
    pub fn add(&mut self, plan: &[String]) -> Result<(), String> {
        let total = plan
            .iter()
            .find_map(|l| shards_total(l))
            .ok_or_else(|| format!("no \"of N shards\" line in EXPLAIN: {plan:?}"))?;
        self.explains += 1;
        self.shards += total;
        for line in plan {
            let Some(rest) = line.trim_start().strip_prefix("pruned shard ") else {
                continue;
            };
            self.pruned += 1;
            let why = rest.split_once(": ").map_or("", |(_, why)| why);
            // A zone map that excludes alone is named first; "zone map: ...
            // and bloom filter exclude" counts as the zone map's.
            if why.starts_with("zone map") {
                self.by_zone_map += 1;
            } else if why.starts_with("trigram bloom") {
                self.by_trigram += 1;
            } else if why.starts_with("bloom filter") {
                self.by_bloom += 1;
            } else {
                self.by_other += 1;
            }
        }
        Ok(())
    }
}

/// N in "... K of N shards ...", the header of a scan or fragment plan.
fn shards_total(line: &str) -> Option<usize> {
    let words: Vec<&str> = line.split_whitespace().collect();
    words.windows(4).find_map(|w| match w {
        [_, "of", n, "shards"] => n.parse().ok(),
        _ => None,
    })
}

/// EXPLAINs `sql` on every node and adds what each skipped.
pub async fn explain_everywhere(
    nodes: &[Client],
    sql: &str,
    tally: &mut Tally,
) -> Result<(), String> {
    for client in nodes {
        let plan = server::text_rows(client, &format!("EXPLAIN {sql}")).await?;
        tally.add(&plan)?;
    }
    Ok(())
}
