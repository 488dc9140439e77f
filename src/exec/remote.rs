//! Reading the peers' data: a table reference's remote part (plan::RemoteScan)
//! is fetched from every live peer into a temp table, and a fragment split
//! runs its fragment on every peer. What no reachable node can answer
//! fails the statement, naming the shards, or with
//! `mosaic.partial_results` on, becomes a WARNING.

use crate::cluster::proto::{Request, Tombstone};
use crate::cluster::PeerRows;
use crate::error::{Error, Result};
use crate::exec::{errors, Session};
use crate::plan::RemoteScan;
use crate::sql::types::Datum;
use crate::store::segment::quote;
use rusqlite::OptionalExtension;

/// Run `sql` on every peer for `tables`; accept what is missing only when
/// the session allows partial results.
pub fn query(sess: &Session, tables: &[String], sql: &str, params: &[Datum]) -> Result<PeerRows> {
    let req = Request::Query {
        sql: sql.to_string(),
        params: params.to_vec(),
    };
    ask(sess, tables, &req, None, true)
}

/// Send `req` to every live peer (or `only`). What cannot be reached fails
/// the statement, naming the shards, unless `partial_ok` and the session
/// allows partial results (then it is a WARNING).
fn ask(
    sess: &Session,
    tables: &[String],
    req: &Request,
    only: Option<&str>,
    partial_ok: bool,
) -> Result<PeerRows> {
    let Some(cluster) = sess.cluster.clone() else {
        return Ok(PeerRows::default());
    };
    let answer = cluster.ask_peers(tables, req, only, Some(sess.shared.cancel_token()))?;
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

/// Whether this node has tombstones for other nodes' rows of `table` that
/// those nodes may not have yet (written by an open transaction, or not
/// yet delivered): then the peers cannot aggregate their rows themselves.
pub fn undelivered_tombstones(sess: &Session, table: &str) -> Result<bool> {
    sess.conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM main._mosaic_outbox WHERE table_name = ?1)",
            [table],
            |r| r.get::<_, bool>(0),
        )
        .map_err(errors::map)
}

/// The columns of a temp table holding peers' rows: where each row lives,
/// then the table's columns, typed as in the table.
fn scan_columns(def: &crate::store::table::TableDef) -> Vec<String> {
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
    };
    let answer = ask(sess, std::slice::from_ref(&r.table.name), &req, None, true)?;
    let cols = scan_columns(&r.table);
    sess.conn
        .execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.{t}; CREATE TEMP TABLE {t} ({});",
            cols.join(", "),
            t = quote(&r.temp)
        ))
        .map_err(errors::map)?;
    insert_rows(sess, &r.temp, cols.len(), &answer.into_rows())
}

/// Insert rows into a temp table of `width` columns.
pub fn insert_rows(sess: &Session, temp: &str, width: usize, rows: &[Vec<Datum>]) -> Result<()> {
    let insert = format!(
        "INSERT INTO temp.{} VALUES ({})",
        quote(temp),
        (1..=width)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut st = sess.conn.prepare_cached(&insert).map_err(errors::map)?;
    for row in rows {
        if row.len() != width {
            return Err(Error::Internal(format!(
                "a peer answered {} columns where {width} were expected",
                row.len()
            )));
        }
        st.execute(rusqlite::params_from_iter(row.iter()))
            .map_err(errors::map)?;
    }
    Ok(())
}

/// Refuse `what` on `table` while any other node holds rows of it.
pub fn ensure_local(sess: &Session, table: &str, what: &str) -> Result<()> {
    if !sess.has_peers() {
        return Ok(());
    }
    let sql = format!("SELECT 1 FROM {} LIMIT 1", quote(table));
    let rows = query(sess, &[table.to_string()], &sql, &[])?.into_rows();
    if rows.is_empty() {
        return Ok(());
    }
    Err(Error::Unsupported(format!(
        "{what} of table \"{table}\" while other nodes hold rows of it"
    )))
}

/// Names remote shards' temp tables apart within a statement.
static NEXT_TEMP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// How many key values one probe of the peers carries.
pub const KEYS_PER_PROBE: usize = 200;

/// A filter matching any of `values` (each the values of `key`'s
/// columns), as `(k1 = $1 AND k2 = $2) OR …` with its parameters.
pub fn key_filter(
    def: &crate::store::table::TableDef,
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

/// Fail with 23505 if another node holds a live row with one of the
/// `written` values of the unique `key` (rows this node tombstoned,
/// in this transaction or before, do not count).
pub fn check_key(
    sess: &Session,
    def: &crate::store::table::TableDef,
    key: &[usize],
    written: &[Vec<Datum>],
) -> Result<()> {
    for chunk in written.chunks(KEYS_PER_PROBE) {
        let (filter, params) = key_filter(def, key, chunk);
        let req = Request::Scan {
            table: def.name.clone(),
            filter: Some(filter),
            params,
            sealed_only: false,
        };
        let answer = ask(sess, std::slice::from_ref(&def.name), &req, None, false)?;
        for row in answer.into_rows() {
            if let (Some(Datum::Text(shard)), Some(Datum::Int(rid))) = (row.first(), row.get(1)) {
                let gone = sess
                    .conn
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM main._mosaic_tombstones WHERE shard_id = ?1 AND rid = ?2)",
                        rusqlite::params![shard, rid],
                        |r| r.get::<_, bool>(0),
                    )
                    .map_err(errors::map)?;
                if gone {
                    continue;
                }
            }
            let values: Vec<Datum> = key
                .iter()
                .map(|&c| row.get(c + 2).cloned().unwrap_or(Datum::Null))
                .collect();
            return Err(crate::exec::write::duplicate_key(def, key, &values));
        }
    }
    Ok(())
}

/// Sealed rows of `table` on another node, loaded into `temp.<temp>`
/// (`_rid` then the table's columns) for UPDATE/DELETE to run over as over
/// a local shard.
pub struct RemoteShard {
    pub home: String,
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
    def: &crate::store::table::TableDef,
    filter: Option<String>,
    params: &[Datum],
) -> Result<Vec<RemoteShard>> {
    if !sess.has_peers() {
        return Ok(vec![]);
    }
    let tables = [def.name.clone()];
    let scan = |sealed_only: bool| Request::Scan {
        table: def.name.clone(),
        filter: filter.clone(),
        params: params.to_vec(),
        sealed_only,
    };
    let mut nodes = ask(sess, &tables, &scan(false), None, false)?.nodes;
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
            *rows = ask(sess, &tables, &scan(true), Some(node), false)?.into_rows();
        }
    }
    let width = def.columns.len() + 1;
    let cols: Vec<String> = std::iter::once("_rid INTEGER".to_string())
        .chain(crate::store::segment::typed_columns(def))
        .collect();
    let mut out: Vec<RemoteShard> = Vec::new();
    let mut by_shard: std::collections::BTreeMap<(String, String), Vec<Vec<Datum>>> =
        Default::default();
    for (node, rows) in nodes {
        for mut row in rows {
            let Some(Datum::Text(shard)) = row.first().cloned() else {
                continue;
            };
            row.remove(0);
            by_shard.entry((node.clone(), shard)).or_default().push(row);
        }
    }
    for ((home, shard), rows) in by_shard {
        let temp = format!(
            "_mosaic_rshard_{}",
            NEXT_TEMP.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        sess.conn
            .execute_batch(&format!(
                "DROP TABLE IF EXISTS temp.{t}; CREATE TEMP TABLE {t} ({});",
                cols.join(", "),
                t = quote(&temp)
            ))
            .map_err(errors::map)?;
        insert_rows(sess, &temp, width, &rows)?;
        out.push(RemoteShard { home, shard, temp });
    }
    Ok(out)
}

/// SQL reading the live rows of a remote shard loaded by `remote_shards`,
/// `_rid` first, without those this node has tombstoned.
pub fn remote_shard_source(def: &crate::store::table::TableDef, r: &RemoteShard) -> String {
    let cols: Vec<String> = def.columns.iter().map(|c| quote(&c.name)).collect();
    format!(
        "SELECT _rid, {} FROM temp.{} WHERE _rid NOT IN (SELECT rid FROM main._mosaic_tombstones WHERE shard_id = '{}')",
        cols.join(", "),
        quote(&r.temp),
        r.shard
    )
}

/// Tombstone the rows in temp._mosaic_rids of a remote shard, in this
/// node's transaction, and queue them for the shard's home node (sent
/// after commit by `flush_outbox`).
pub fn tombstone_remote(
    sess: &Session,
    def: &crate::store::table::TableDef,
    r: &RemoteShard,
) -> Result<()> {
    let cols: Vec<String> = def.columns.iter().map(|c| quote(&c.name)).collect();
    let rows = crate::exec::fragment::collect(
        &sess.conn,
        &format!(
            "SELECT _rid, {} FROM temp.{} WHERE _rid IN (SELECT rid FROM temp._mosaic_rids)",
            cols.join(", "),
            quote(&r.temp)
        ),
        &[],
    )?;
    for mut row in rows {
        let Datum::Int(rid) = row.remove(0) else {
            continue;
        };
        let values = serde_json::to_string(&row).map_err(Error::internal)?;
        sess.conn
            .execute(
                "INSERT OR IGNORE INTO main._mosaic_tombstones(shard_id, rid) VALUES (?1, ?2)",
                rusqlite::params![r.shard, rid],
            )
            .map_err(errors::map)?;
        sess.conn
            .execute(
                "INSERT OR REPLACE INTO main._mosaic_outbox(shard_id, rid, table_name, home, row_values)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![r.shard, rid, def.name, r.home, values],
            )
            .map_err(errors::map)?;
    }
    Ok(())
}

/// Deliver committed tombstones of other nodes' rows to those nodes, and
/// forget each once its node has applied it. What cannot be delivered now
/// stays queued; the cluster retries it periodically.
pub fn flush_outbox(conn: &rusqlite::Connection, cluster: &crate::cluster::Cluster) -> Result<()> {
    let mut batches: std::collections::BTreeMap<(String, String), Vec<Tombstone>> =
        Default::default();
    {
        let mut st = conn
            .prepare_cached(
                "SELECT shard_id, rid, table_name, home, row_values FROM main._mosaic_outbox",
            )
            .map_err(errors::map)?;
        let mut rows = st.query([]).map_err(errors::map)?;
        while let Some(r) = rows.next().map_err(errors::map)? {
            let shard: String = r.get(0).map_err(errors::map)?;
            let rid: i64 = r.get(1).map_err(errors::map)?;
            let table: String = r.get(2).map_err(errors::map)?;
            let home: String = r.get(3).map_err(errors::map)?;
            let values: String = r.get(4).map_err(errors::map)?;
            let values: Vec<Datum> = serde_json::from_str(&values).map_err(Error::internal)?;
            batches
                .entry((home, table))
                .or_default()
                .push(Tombstone { shard, rid, values });
        }
    }
    for ((home, table), rows) in batches {
        let req = Request::Tombstones {
            table: table.clone(),
            rows: rows.clone(),
        };
        match cluster.on_peer(&home, &req, crate::cluster::QUERY_TIMEOUT) {
            Ok(()) => {
                for t in &rows {
                    conn.execute(
                        "DELETE FROM main._mosaic_outbox WHERE shard_id = ?1 AND rid = ?2",
                        rusqlite::params![t.shard, t.rid],
                    )
                    .map_err(errors::map)?;
                }
            }
            Err(e) => {
                tracing::warn!(node = %home, table = %table, error = %e, "tombstones not delivered yet; will retry");
            }
        }
    }
    Ok(())
}

/// The filter of a scan as an expression over the bare table.
fn parse_filter(filter: Option<&str>) -> Result<Option<sqlparser::ast::Expr>> {
    filter.map(crate::sql::parse_expr).transpose()
}

/// Serve a peer's `Scan`: this node's rows of `table` that match `filter`,
/// each as `[shard id or NULL, row key, columns…]`, read in the session's
/// one read transaction (the manifest and the open segment agree).
pub fn scan_local(
    sess: &mut Session,
    table: &str,
    filter: Option<&str>,
    params: &[Datum],
    sealed_only: bool,
) -> Result<Vec<Vec<Datum>>> {
    let def = sess
        .store
        .catalog
        .table(table)
        .ok_or_else(|| Error::NoSuchTable(table.to_string()))?;
    let filter = parse_filter(filter)?;
    sess.in_statement(false, |sess| {
        let shards = crate::plan::live_shards(&sess.store, &sess.conn, &def.name)?;
        let resolve = |parts: &[sqlparser::ast::Ident]| -> Option<usize> {
            match parts {
                [c] => def.column_index(&crate::sql::ident_name(c)),
                _ => None,
            }
        };
        let scan = crate::plan::prune_shards(&shards, &def, filter.as_ref(), &resolve, params);
        let cols: Vec<String> = def.columns.iter().map(|c| quote(&c.name)).collect();
        let mut arms = Vec::new();
        if !sealed_only {
            arms.push(format!(
                "SELECT NULL AS _shard, _key AS _rid, {} FROM main.{}",
                cols.join(", "),
                quote(&def.name)
            ));
        }
        let mut attach = Vec::new();
        for (s, meta) in &shards {
            if scan.kept.contains(&s.id) {
                let src = crate::plan::shard_source(&def, meta, s.tombstones, true)?;
                arms.push(format!(
                    "SELECT '{}' AS _shard, _rid, {} FROM ({src}) AS s",
                    s.id.0,
                    cols.join(", ")
                ));
                attach.push(s.id.clone());
            }
        }
        if arms.is_empty() {
            return Ok(vec![]);
        }
        sess.attach(&attach)?;
        let mut sql = format!(
            "SELECT * FROM ({}) AS {}",
            arms.join(" UNION ALL "),
            quote(&def.name)
        );
        if let Some(f) = &filter {
            sql.push_str(&format!(" WHERE {f}"));
        }
        let mut stmt = crate::sql::parse(&sql)?
            .pop()
            .ok_or_else(|| Error::Internal("empty scan".into()))?;
        crate::sql::coerce::coerce_literals(&mut stmt, &sess.store.catalog)?;
        crate::sql::rewrite::to_sqlite(&mut stmt)?;
        let mut rows = Vec::new();
        crate::exec::query::stream(sess, &stmt.to_string(), params, 0, &mut |r| {
            rows.push(r);
            Ok(())
        })?;
        Ok(rows)
    })
}

/// Whether this node's open segment of `table` holds rows matching
/// `filter` (serving a peer's `SealMatching`).
pub fn open_rows_match(
    sess: &mut Session,
    table: &str,
    filter: Option<&str>,
    params: &[Datum],
) -> Result<bool> {
    let def = sess
        .store
        .catalog
        .table(table)
        .ok_or_else(|| Error::NoSuchTable(table.to_string()))?;
    let cols: Vec<String> = def.columns.iter().map(|c| quote(&c.name)).collect();
    let mut sql = format!(
        "SELECT 1 FROM (SELECT {} FROM main.{}) AS {}",
        cols.join(", "),
        quote(&def.name),
        quote(&def.name)
    );
    if let Some(f) = filter {
        sql.push_str(&format!(" WHERE {f}"));
    }
    sql.push_str(" LIMIT 1");
    let mut stmt = crate::sql::parse(&sql)?
        .pop()
        .ok_or_else(|| Error::Internal("empty probe".into()))?;
    crate::sql::coerce::coerce_literals(&mut stmt, &sess.store.catalog)?;
    crate::sql::rewrite::to_sqlite(&mut stmt)?;
    let rows = crate::exec::fragment::collect(&sess.conn, &stmt.to_string(), params)?;
    Ok(!rows.is_empty())
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

/// Apply tombstones another node committed for rows of this node's
/// shards. A tombstone names (shard, row key); when that shard is no
/// longer live here (compacted, or folded into an identical one since),
/// the row is found again by its values among the table's live shards.
/// Idempotent: applying the same tombstone twice changes nothing.
pub fn apply_tombstones(
    store: &crate::store::Store,
    table: &str,
    rows: &[crate::cluster::proto::Tombstone],
) -> Result<usize> {
    let Some(def) = store.catalog.table(table) else {
        return Ok(0);
    };
    let conn = store.connect()?;
    // Find each row first (attaching shards is not possible inside a
    // transaction), then tombstone those whose shard is still live.
    let live = crate::store::segment::live_shards(&conn, Some(table))?;
    let mut targets = Vec::new();
    for t in rows {
        if live.iter().any(|s| s.id.0 == t.shard) {
            targets.push((t.shard.clone(), t.rid));
        } else if let Some(found) = find_row(store, &conn, &def, &live, &t.values)? {
            targets.push(found);
        }
    }
    conn.execute_batch("BEGIN IMMEDIATE").map_err(errors::map)?;
    let r = (|| -> Result<usize> {
        let mut applied = 0;
        for (shard, rid) in &targets {
            let n = conn
                .execute(
                    "INSERT OR IGNORE INTO main._mosaic_tombstones(shard_id, rid)
                     SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM main._mosaic_shards WHERE id = ?1)",
                    rusqlite::params![shard, rid],
                )
                .map_err(errors::map)?;
            if n > 0 {
                conn.execute(
                    "UPDATE main._mosaic_shards SET tombstones = tombstones + 1 WHERE id = ?1",
                    [shard],
                )
                .map_err(errors::map)?;
                applied += 1;
            }
        }
        Ok(applied)
    })();
    let applied = crate::store::segment::finish(&conn, r)?;
    if applied > 0 {
        store.compact(table)?;
    }
    Ok(applied)
}

/// A live, not yet tombstoned row of `def` with exactly `values`.
fn find_row(
    store: &crate::store::Store,
    conn: &rusqlite::Connection,
    def: &crate::store::table::TableDef,
    live: &[crate::store::segment::LiveShard],
    values: &[Datum],
) -> Result<Option<(String, i64)>> {
    if values.len() != def.columns.len() {
        return Ok(None);
    }
    let cond: Vec<String> = def
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} IS ?{}", quote(&c.name), i + 1))
        .collect();
    for s in live {
        let meta = store.meta(&s.id)?;
        let path = store.shard_path(&s.id);
        let name = crate::plan::attach_name(&s.id);
        conn.execute(
            &format!("ATTACH ?1 AS {}", quote(&name)),
            [format!("file:{}?immutable=1&mode=ro", path.display())],
        )
        .map_err(errors::map)?;
        let src = crate::plan::shard_source(def, &meta, s.tombstones, true)?;
        let found = conn
            .query_row(
                &format!(
                    "SELECT _rid FROM ({src}) WHERE {} LIMIT 1",
                    cond.join(" AND ")
                ),
                rusqlite::params_from_iter(values.iter()),
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map_err(errors::map);
        let _ = conn.execute(&format!("DETACH {}", quote(&name)), []);
        if let Some(rid) = found? {
            return Ok(Some((s.id.0.clone(), rid)));
        }
    }
    Ok(None)
}
