//! The peers' data in a statement. Reads: a table reference's remote part
//! (plan::RemoteScan) is fetched from every live peer into a temp table,
//! and a fragment split runs its fragment on every peer. What no reachable
//! node can answer fails the statement, naming the shards, or with
//! `mosaic.partial_results` on, becomes a WARNING. Writes: UPDATE/DELETE
//! load the peers' matching sealed rows shard by shard and tombstone them
//! in this node's transaction; the tombstones wait in `_mosaic_outbox`
//! until their node has them (`flush_outbox`). Unique keys are checked
//! against the peers (`check_key`). `serve` answers the same requests on
//! the peer's side.

use crate::cluster::proto::{Request, Tombstone};
use crate::cluster::PeerRows;
use crate::error::{Error, Result};
use crate::exec::Session;
use crate::plan::RemoteScan;
use crate::types::quote;
use crate::types::shard::{literal, skip_tombstoned};
use crate::types::Datum;

mod serve;
pub use serve::{open_rows_match, scan_local};

/// Run `sql` on `peers` for `tables`; accept what is missing only when
/// the session allows partial results.
pub fn query(
    sess: &Session,
    tables: &[String],
    peers: &[String],
    sql: &str,
    params: &[Datum],
) -> Result<PeerRows> {
    let req = Request::Query {
        sql: sql.to_string(),
        params: params.to_vec(),
        replicas: vec![],
        skip: vec![],
        times: Some(sess.statement_times()),
        open_of: vec![],
        asker_live: vec![],
    };
    if let Some(c) = &sess.cluster {
        c.touch(tables);
    }
    ask(sess, tables, &req, Some(peers), true)
}

/// `peers_for` with `filter` as PostgreSQL over the bare table.
pub fn peers_matching(
    sess: &Session,
    def: &crate::types::table::TableDef,
    filter: Option<&str>,
    params: &[Datum],
) -> Result<Option<Vec<String>>> {
    let filter = filter.map(crate::sql::parse_expr).transpose()?;
    let resolve = crate::plan::column_resolver(def, &def.name);
    peers_for(sess, def, filter.as_ref(), &resolve, params)
}

/// The live peers to ask for rows of `def` matching `filter` (see
/// `Cluster::peers_for`); `None` when the statement needs nothing from
/// other nodes: no peer may hold such rows, and no node that is down
/// holds rows of the table that no copy serves (asking no peer still
/// fails, or warns, for those).
pub fn peers_for(
    sess: &Session,
    def: &crate::types::table::TableDef,
    filter: Option<&sqlparser::ast::Expr>,
    resolve: &dyn Fn(&[sqlparser::ast::Ident]) -> Option<usize>,
    params: &[Datum],
) -> Result<Option<Vec<String>>> {
    let Some(peers) = crate::exec::sources::peers(sess, def)? else {
        return Ok(None);
    };
    Ok(crate::plan::peers_for(&peers, def, filter, resolve, params))
}

/// Refuse a statement about a table this open block renamed, on a node
/// that knows of other nodes: they (and the copies of their unsealed rows
/// here) know the table by its old name until COMMIT, so what they hold
/// of it could not be read, checked or changed.
pub fn refuse_renamed_in_block(sess: &Session, tables: &[String]) -> Result<()> {
    let Some(t) = tables.iter().find(|t| sess.ddl.renamed_to(t)) else {
        return Ok(());
    };
    let others = sess.cluster.as_ref().is_some_and(|c| {
        !c.members().is_empty() || c.registry().keys().any(|n| *n != sess.store.node_name)
    });
    if !others {
        return Ok(());
    }
    Err(Error::Unsupported(format!(
        "using table \"{t}\" in the transaction block that renamed it, in a cluster (commit the rename first)"
    )))
}

/// Send `req` to every live peer (or those in `only`: the others hold
/// nothing it can match). What cannot be reached fails the statement,
/// naming the shards, unless `partial_ok` and the session allows partial
/// results (then it is a WARNING). A request with `partial_ok` is a read:
/// it also reads the copies of down nodes' unsealed rows (a write's
/// requests never do: those rows cannot change while their node is down).
fn ask(
    sess: &Session,
    tables: &[String],
    req: &Request,
    only: Option<&[String]>,
    partial_ok: bool,
) -> Result<PeerRows> {
    refuse_renamed_in_block(sess, tables)?;
    let Some(cluster) = sess.cluster.clone() else {
        return Ok(PeerRows::default());
    };
    let started = std::time::Instant::now();
    let waiting = sess.shared.waiting(("IPC", "MosaicPeers"));
    let answer = cluster.ask_peers(
        &sess.reads,
        tables,
        req,
        only,
        partial_ok,
        Some(sess.shared.cancel_token()),
    )?;
    drop(waiting);
    let asked = answer.nodes.iter().map(|(n, _)| n.clone());
    sess.shared
        .asked(asked.chain(answer.unreachable.iter().cloned()));
    let took = crate::exec::explain::millis(started.elapsed());
    for (node, rows) in &answer.nodes {
        let what = match req {
            Request::Query { .. } => "the fragment".to_string(),
            _ => tables.join(", "),
        };
        sess.analyzed(|| {
            format!(
                "peer {node}: {} rows of {what} (peers answered in {took})",
                rows.len()
            )
        });
    }
    if !answer.unreachable.is_empty() && sess.retry_reads {
        // The statement runs again, reading their shards from copies.
        sess.unreachable
            .lock()
            .extend(answer.unreachable.iter().cloned());
        return Err(Error::Unavailable(format!(
            "could not read {}",
            answer.missing.join("; ")
        )));
    }
    if !answer.missing.is_empty() {
        let what = answer.missing.join("; ");
        let partial =
            partial_ok && sess.settings.get("mosaic.partial_results").as_deref() == Some("on");
        if partial {
            sess.shared
                .warn(format!("partial results: could not read {what}"));
        } else {
            let hint = if partial_ok {
                "; SET mosaic.partial_results = on to get the rows that can be read"
            } else {
                ""
            };
            return Err(Error::Unavailable(format!("could not read {what}{hint}")));
        }
    }
    Ok(answer)
}

/// EXPLAIN lines naming the copies a statement reads for `table` because
/// their home is not live (here and on each peer), and what no live node
/// can serve.
pub fn explain_copies(sess: &Session, table: &str) -> Vec<String> {
    let tables = [table.to_string()];
    let mut lines = Vec::new();
    let me = &sess.store.node_name;
    let mut homes_live: Vec<String> = sess
        .reads
        .copied
        .values()
        .flatten()
        .filter(|s| s.table == table)
        .map(|s| s.id.clone())
        .collect();
    let mut homes_down: Vec<String> = sess
        .reads
        .scope
        .copies
        .iter()
        .filter(|(id, t)| *t == table && !homes_live.contains(id))
        .map(|(id, _)| id.clone())
        .collect();
    homes_live.sort();
    homes_down.sort();
    if !homes_live.is_empty() {
        lines.push(format!(
            "  copies read on node {me} (a local copy first; their home leaves them out): {}",
            homes_live.join(", ")
        ));
    }
    if !homes_down.is_empty() {
        lines.push(format!(
            "  copies read on node {me} (their home is not live): {}",
            homes_down.join(", ")
        ));
    }
    for (peer, _) in &sess.reads.peers {
        let ids: Vec<String> = sess
            .reads
            .replicas_for(&peer.name, &tables)
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        if !ids.is_empty() {
            lines.push(format!(
                "  copies read on node {} (their home is not live): {}",
                peer.name,
                ids.join(", ")
            ));
        }
    }
    for m in sess.reads.missing_for(&tables) {
        lines.push(format!("  unreadable: {m}"));
    }
    lines
}

/// Whether this node has tombstones for rows of `table` that a live peer
/// may not have yet (written by an open transaction, or not yet
/// delivered): then the peers cannot aggregate their rows themselves.
pub fn undelivered_tombstones(sess: &Session, table: &str) -> Result<bool> {
    let nodes = sess.conn.outbox_nodes(table)?;
    Ok(nodes
        .iter()
        .any(|n| sess.reads.peers.iter().any(|(m, _)| &m.name == n)))
}

/// The columns of a temp table holding peers' rows: where each row lives,
/// then the table's columns, typed as in the table.
fn scan_columns(def: &crate::types::table::TableDef) -> Vec<String> {
    let mut cols = vec!["_shard".to_string(), "_rid".to_string()];
    cols.extend(crate::store::segment::typed_columns(def));
    cols
}

/// Fill `temp.<r.temp>` with the peers' rows of a table reference, each
/// with the shard and row key it lives at (the plan's arm skips those this
/// node has tombstoned).
pub fn fill(sess: &mut Session, r: &RemoteScan, params: &[Datum]) -> Result<()> {
    let req = Request::Scan {
        table: r.table.name.clone(),
        filter: r.filter.clone(),
        params: params.to_vec(),
        sealed_only: false,
        replicas: vec![],
        skip: vec![],
        columns: Some(r.table.columns.clone()),
        times: Some(sess.statement_times()),
        probe: None,
        open_of: vec![],
        asker_live: vec![],
    };
    let tables = std::slice::from_ref(&r.table.name);
    if let Some(c) = &sess.cluster {
        c.touch(tables);
    }
    let answer = ask(sess, tables, &req, Some(&r.peers), true)?;
    let cols = scan_columns(&r.table);
    sess.conn.batch(&format!(
        "DROP TABLE IF EXISTS temp.{t}; CREATE TEMP TABLE {t} ({});",
        cols.join(", "),
        t = quote(&r.temp)
    ))?;
    crate::exec::fragment::insert_rows(sess, &r.temp, cols.len(), &answer.into_rows())
}

/// Names remote shards' temp tables apart within a statement.
static NEXT_TEMP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// How many key values one probe of the peers carries.
pub const KEYS_PER_PROBE: usize = 200;

/// A filter matching any of `values` (each the values of `key`'s
/// columns), as `(k1 = $1 AND k2 = $2) OR …` with its parameters.
pub fn key_filter(
    def: &crate::types::table::TableDef,
    key: &[usize],
    values: &[Vec<Datum>],
) -> (String, Vec<Datum>) {
    let mut params = Vec::new();
    let mut terms = Vec::new();
    for v in values {
        let mut term = Vec::new();
        for (i, &c) in key.iter().enumerate() {
            params.push(v.get(i).cloned().unwrap_or(Datum::Null));
            term.push(format!(
                "{} = ${}",
                quote(&def.columns[c].name),
                params.len()
            ));
        }
        terms.push(format!("({})", term.join(" AND ")));
    }
    (terms.join(" OR "), params)
}

/// Run `run` (a statement's reads, within a statement or a transaction
/// the caller keeps); when a copy its reads counted on was compacted or
/// dropped at its home meanwhile, once more reading from the homes, as a
/// client's statement runs again (`Session::retrying_peers`). `run` must
/// leave nothing behind when it fails.
pub fn again_from_homes<T>(
    sess: &mut Session,
    mut run: impl FnMut(&mut Session) -> Result<T>,
) -> Result<T> {
    match (run(sess), sess.cluster.clone()) {
        (Err(Error::StaleCopy(m)), Some(c)) => {
            tracing::debug!(shard = %m, "a copy read here is gone at its home; asking the homes");
            sess.reads = std::sync::Arc::new(c.reads_avoiding(&Default::default(), false));
            run(sess)
        }
        (r, _) => r,
    }
}

/// Every other live node's own versions of the rows of `def` matching
/// `filter` (see `Request::Versions`), by node. Every live peer is asked
/// and must answer: after a split, a peer may hold unsealed rows this node
/// has not been told of yet. Nodes that are down are not asked (settling
/// compares with each when it is back).
pub fn versions(
    sess: &Session,
    def: &crate::types::table::TableDef,
    filter: &str,
    params: &[Datum],
) -> Result<Vec<(String, Vec<Vec<Datum>>)>> {
    let req = Request::Versions {
        table: def.name.clone(),
        filter: filter.to_string(),
        params: params.to_vec(),
        columns: def.columns.clone(),
        oid: def.oid,
    };
    let tables = std::slice::from_ref(&def.name);
    refuse_renamed_in_block(sess, tables)?;
    let Some(cluster) = &sess.cluster else {
        return Ok(vec![]);
    };
    let answer = cluster.ask_peers(&sess.reads, tables, &req, None, false, None)?;
    if !answer.unreachable.is_empty() {
        return Err(Error::Unavailable(format!(
            "could not read {}",
            answer.missing.join("; ")
        )));
    }
    Ok(answer.nodes)
}

/// Fail with 23505 if another node holds a live row with one of the
/// `written` values of the unique `key` (rows this node tombstoned,
/// in this transaction or before, do not count).
pub fn check_key(
    sess: &Session,
    def: &crate::types::table::TableDef,
    key: &[usize],
    written: &[Vec<Datum>],
) -> Result<()> {
    let probe = crate::cluster::proto::Probe {
        columns: key.iter().map(|&c| def.columns[c].name.clone()).collect(),
        node: sess.store.node_name.clone(),
        since: sess.statement_times().transaction,
    };
    for chunk in written.chunks(KEYS_PER_PROBE) {
        let (filter, params) = key_filter(def, key, chunk);
        let probe = Some(probe.clone());
        if let Some(row) = live_peer_rows(sess, def, filter, params, probe)?.first() {
            let values: Vec<Datum> = key
                .iter()
                .map(|&c| row.get(c + 2).cloned().unwrap_or(Datum::Null))
                .collect();
            return Err(crate::exec::write::duplicate_key(def, key, &values));
        }
    }
    Ok(())
}

/// Whether another node holds a live row of `def` matching `cond`
/// (PostgreSQL over the bare table, `$n` bound to `params`); rows this
/// node tombstoned do not count.
pub fn holds_live_row(
    sess: &Session,
    def: &crate::types::table::TableDef,
    cond: &str,
    params: &[Datum],
) -> Result<bool> {
    Ok(!live_peer_rows(sess, def, cond.to_string(), params.to_vec(), None)?.is_empty())
}

/// The rows of `def` matching `filter` that other nodes hold (shard, row
/// id, then the table's columns), less those this node tombstoned;
/// `probe` names a uniqueness probe's key columns (`Request::Scan`).
fn live_peer_rows(
    sess: &Session,
    def: &crate::types::table::TableDef,
    filter: String,
    params: Vec<Datum>,
    probe: Option<crate::cluster::proto::Probe>,
) -> Result<Vec<Vec<Datum>>> {
    let asked = peers_matching(sess, def, Some(&filter), &params)?;
    tracing::debug!(table = %def.name, ?params, ?asked, "peer rows");
    let Some(peers) = asked else {
        return Ok(vec![]);
    };
    let req = Request::Scan {
        table: def.name.clone(),
        filter: Some(filter),
        params,
        sealed_only: false,
        replicas: vec![],
        skip: vec![],
        columns: Some(def.columns.clone()),
        times: Some(sess.statement_times()),
        probe,
        open_of: vec![],
        asker_live: vec![],
    };
    let answer = ask(
        sess,
        std::slice::from_ref(&def.name),
        &req,
        Some(&peers),
        false,
    )?;
    let mut live = Vec::new();
    for row in answer.into_rows() {
        if let (Some(Datum::Text(shard)), Some(Datum::Int(rid))) = (row.first(), row.get(1)) {
            if sess.conn.is_tombstoned(shard, *rid)? {
                continue;
            }
        }
        live.push(row);
    }
    Ok(live)
}

/// Sealed rows of `table` on another node, loaded into `temp.<temp>`
/// (`_rid` then the table's columns) for UPDATE/DELETE to run over as over
/// a local shard.
pub struct RemoteShard {
    /// The node that sent them (the shard's home, or a replica's holder).
    pub node: String,
    pub shard: String,
    pub temp: String,
}

/// Load the peers' rows of `def` that may match `filter` (PostgreSQL over
/// the bare table), shard by shard. Rows a peer still has in its open
/// segment are sealed there first (sealing is idempotent), so that every
/// row this statement changes is a (shard, row key) this node can
/// tombstone in its own transaction. Every node holding rows of the table
/// must answer.
pub fn remote_shards(
    sess: &mut Session,
    def: &crate::types::table::TableDef,
    filter: Option<String>,
    params: &[Datum],
) -> Result<Vec<RemoteShard>> {
    if !sess.peers_hold(def) {
        return Ok(vec![]);
    }
    let tables = [def.name.clone()];
    let times = Some(sess.statement_times());
    let scan = |sealed_only: bool| Request::Scan {
        table: def.name.clone(),
        filter: filter.clone(),
        params: params.to_vec(),
        sealed_only,
        replicas: vec![],
        skip: vec![],
        columns: Some(def.columns.clone()),
        times,
        probe: None,
        open_of: vec![],
        asker_live: vec![],
    };
    let asked = peers_matching(sess, def, filter.as_deref(), params)?;
    tracing::debug!(table = %def.name, ?params, ?asked, "remote shards");
    let Some(peers) = asked else {
        return Ok(vec![]);
    };
    let mut nodes = ask(sess, &tables, &scan(false), Some(&peers), false)?.nodes;
    let cluster = sess
        .cluster
        .clone()
        .ok_or_else(|| Error::Internal("no cluster".into()))?;
    for (node, rows) in nodes.iter_mut() {
        if rows.iter().any(|r| matches!(r.first(), Some(Datum::Null))) {
            cluster.on_peer(
                node,
                &Request::Seal {
                    table: def.name.clone(),
                    nowait: true,
                },
                crate::cluster::QUERY_TIMEOUT,
            )?;
            *rows = ask(
                sess,
                &tables,
                &scan(true),
                Some(std::slice::from_ref(node)),
                false,
            )?
            .into_rows();
        }
    }
    let mut by_shard: ShardRows = Default::default();
    for (node, rows) in nodes {
        for mut row in rows {
            let Some(Datum::Text(shard)) = row.first().cloned() else {
                continue;
            };
            row.remove(0);
            by_shard.entry((node.clone(), shard)).or_default().push(row);
        }
    }
    load_shards(sess, def, by_shard)
}

/// Rows of other nodes' shards, by (node that sent them, shard id), each
/// row `[row key, columns…]`.
pub type ShardRows = std::collections::BTreeMap<(String, String), Vec<Vec<Datum>>>;

/// Load rows of shards into temp tables that `remote_shard_source` reads.
pub fn load_shards(
    sess: &mut Session,
    def: &crate::types::table::TableDef,
    by_shard: ShardRows,
) -> Result<Vec<RemoteShard>> {
    let width = def.columns.len() + 1;
    let cols: Vec<String> = std::iter::once("_rid INTEGER".to_string())
        .chain(crate::store::segment::typed_columns(def))
        .collect();
    let mut out: Vec<RemoteShard> = Vec::new();
    for ((node, shard), rows) in by_shard {
        let temp = format!(
            "_mosaic_rshard_{}",
            NEXT_TEMP.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        sess.conn.batch(&format!(
            "DROP TABLE IF EXISTS temp.{t}; CREATE TEMP TABLE {t} ({});",
            cols.join(", "),
            t = quote(&temp)
        ))?;
        crate::exec::fragment::insert_rows(sess, &temp, width, &rows)?;
        out.push(RemoteShard { node, shard, temp });
    }
    Ok(out)
}

/// SQL reading the live rows of a remote shard loaded by `remote_shards`,
/// `_rid` first, without those this node has tombstoned.
pub fn remote_shard_source(def: &crate::types::table::TableDef, r: &RemoteShard) -> String {
    let cols: Vec<String> = def.columns.iter().map(|c| quote(&c.name)).collect();
    format!(
        "SELECT _rid, {} FROM temp.{} WHERE {}",
        cols.join(", "),
        quote(&r.temp),
        skip_tombstoned(&literal(&r.shard))
    )
}

/// Tombstone the rows in temp._mosaic_rids of shard `shard` (read by
/// `src`, `_rid` first, live rows only), in this node's transaction, and
/// queue them for every other node holding the shard (sent after commit
/// by `flush_outbox`; see `Cluster::tombstone_targets`). `sender` is the
/// node the rows came from, when it is not this one: the shard's home if
/// the registry does not know the shard yet. Returns how many rows were newly tombstoned.
pub fn tombstone_rows(
    sess: &Session,
    def: &crate::types::table::TableDef,
    shard: &str,
    src: &str,
    sender: Option<&str>,
) -> Result<usize> {
    let holders = match sess.cluster.as_ref() {
        Some(c) => c.tombstone_targets(shard, sender),
        None => sender.map(|n| (n.to_string(), vec![n.to_string()])),
    };
    if let Some((home, nodes)) = holders.filter(|(_, nodes)| !nodes.is_empty()) {
        // The values first: `src` no longer yields a row once tombstoned.
        let rows = sess.conn.rows(
            &format!("SELECT * FROM ({src}) WHERE _rid IN (SELECT rid FROM temp._mosaic_rids)"),
            &[],
        )?;
        let mut outgoing = Vec::new();
        for mut row in rows {
            let Datum::Int(rid) = row.remove(0) else {
                continue;
            };
            for node in &nodes {
                outgoing.push(crate::store::Outgoing {
                    node: node.clone(),
                    table: def.name.clone(),
                    tombstone: Tombstone {
                        shard: shard.to_string(),
                        rid,
                        values: row.clone(),
                        home: home.clone(),
                        columns: def.columns.iter().map(|c| c.name.clone()).collect(),
                    },
                });
            }
        }
        sess.conn.queue_tombstones(&outgoing)?;
    }
    // Counted where this node holds the shard (its own, or a copy).
    let (n, total) = sess.conn.tombstone_collected(shard)?;
    // Due for compaction (`Store::compact` looks again, after the commit).
    let id = crate::types::shard::ShardId(shard.to_string());
    if n > 0 && total > 0 && sess.store.meta(&id).is_ok_and(|m| m.half_tombstoned(total)) {
        sess.tombstoned.lock().insert(def.name.clone());
    }
    Ok(n)
}

/// Tombstone the rows in temp._mosaic_rids of a remote shard (see
/// `tombstone_rows`).
pub fn tombstone_remote(
    sess: &Session,
    def: &crate::types::table::TableDef,
    r: &RemoteShard,
) -> Result<()> {
    let src = remote_shard_source(def, r);
    tombstone_rows(sess, def, &r.shard, &src, Some(&r.node)).map(|_| ())
}

/// Before an UPDATE/DELETE of `table` takes this node's write lock: peers
/// whose open segments hold rows it may change seal them now, so the
/// statement finds them in shards and asks no peer to seal while it holds
/// the lock.
pub fn seal_peers_first(
    sess: &Session,
    table: &str,
    filter: Option<String>,
    params: &[Datum],
) -> Result<()> {
    refuse_renamed_in_block(sess, &[table.to_string()])?;
    let Some(cluster) = sess.cluster.as_ref().filter(|_| sess.has_peers()) else {
        return Ok(());
    };
    let req = Request::SealMatching {
        table: table.to_string(),
        filter,
        params: params.to_vec(),
    };
    for (name, r) in cluster.on_peers(&req, crate::cluster::QUERY_TIMEOUT) {
        match r {
            Ok(_) | Err(Error::NoSuchTable(_)) => {}
            // The statement itself names what it cannot reach.
            Err(e) => tracing::debug!(node = %name, error = %e, "sealing ahead failed"),
        }
    }
    Ok(())
}
