//! `mosaic.health`: per table, its sealed shards, how many have fewer live
//! holders than `--replication-factor` asks (or than there are nodes
//! known), how many no live node holds, and the rows each live node holds
//! in its open segment (not sealed yet), as a jsonb object by node name.
//! A session run for a peer answers with its own node's part only.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::exec::Session;
use crate::types::Datum;

pub(super) fn rows(sess: &Session) -> Result<Vec<Vec<Datum>>> {
    let me = sess.store.node_name.clone();
    let mut open: BTreeMap<String, serde_json::Map<String, serde_json::Value>> = BTreeMap::new();
    for (table, n) in sess.store.open_rows_by_table()? {
        open.entry(table).or_default().insert(me.clone(), n.into());
    }
    let mut shards: BTreeMap<String, [i64; 3]> = BTreeMap::new();
    match sess.cluster.as_ref() {
        Some(c) => {
            for (table, h) in c.shard_health() {
                let counts = [h.shards, h.under_replicated, h.unreachable];
                shards.insert(table, counts.map(|n| n as i64));
            }
        }
        None => {
            for s in sess.conn.live_shards(None)? {
                shards.entry(s.table.clone()).or_default()[0] += 1;
            }
        }
    }
    if let Some(c) = sess.cluster.as_ref().filter(|_| sess.has_peers()) {
        let answer = c.query_peers(&[], "SELECT table_name, open_rows FROM mosaic.health", &[])?;
        for r in answer.into_rows() {
            let (Some(Datum::Text(table)), Some(Datum::Text(json))) = (r.first(), r.get(1)) else {
                continue;
            };
            if let Ok(serde_json::Value::Object(nodes)) = serde_json::from_str(json) {
                open.entry(table.clone()).or_default().extend(nodes);
            }
        }
    }
    let mut out = Vec::new();
    for def in sess.store.catalog.tables() {
        let [n, under, unreachable] = shards.get(&def.name).copied().unwrap_or_default();
        let nodes = open.remove(&def.name).unwrap_or_default();
        let json = serde_json::Value::Object(nodes).to_string();
        out.push(vec![
            Datum::Text(def.name.clone()),
            Datum::Int(n),
            Datum::Int(under),
            Datum::Int(unreachable),
            crate::types::json::normalize_jsonb(&json).map_or(Datum::Null, Datum::Text),
        ]);
    }
    Ok(out)
}
