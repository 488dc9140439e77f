//! The serving side of the peers' requests that need a session or the
//! node's shards: scans of this node's rows, the probe for unsealed rows
//! before a peer's UPDATE, and tombstones that peers committed for rows of
//! this node's shards.

use rusqlite::OptionalExtension;

use crate::error::{Error, Result};
use crate::exec::Session;
use crate::types::quote;
use crate::types::Datum;

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
        let shards =
            crate::plan::live_shards(&sess.store, &sess.conn, &sess.reads.scope, &def.name)?;
        let resolve = crate::plan::column_resolver(&def, &def.name);
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
        let sqlite = to_sqlite_cached(sess, &sql)?;
        let mut rows = Vec::new();
        crate::exec::query::stream(sess, &sqlite, params, 0, &mut |r| {
            rows.push(r);
            Ok(())
        })?;
        Ok(rows)
    })
}

/// `sql` (PostgreSQL, over sources this module built) as SQLite SQL,
/// remembered in the session's compiled-SQL cache: peer sessions are
/// reused, and a peer sees the same scans again and again.
fn to_sqlite_cached(sess: &mut Session, sql: &str) -> Result<String> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    ("peer scan", sql, sess.store.catalog.version()).hash(&mut h);
    let key = h.finish();
    if let Some((sqlite, _)) = sess.compiled.get(&key) {
        return Ok(sqlite.clone());
    }
    let mut stmt = crate::sql::parse(sql)?
        .pop()
        .ok_or_else(|| Error::Internal("empty scan".into()))?;
    crate::sql::coerce::coerce_literals(&mut stmt, &sess.store.catalog)?;
    crate::sql::rewrite::to_sqlite(&mut stmt)?;
    let sqlite = stmt.to_string();
    if sess.compiled.len() >= 512 {
        sess.compiled.clear();
    }
    sess.compiled.insert(key, (sqlite.clone(), vec![]));
    Ok(sqlite)
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
    let sqlite = to_sqlite_cached(sess, &sql)?;
    let rows = crate::exec::fragment::collect(&sess.conn, &sqlite, params)?;
    Ok(!rows.is_empty())
}

/// Apply tombstones another node committed for rows of shards this node
/// holds (its own, or copies). A tombstone names (shard, row key); when
/// this node is the shard's home and the shard is no longer live here
/// (compacted, or folded into an identical one since), the row is found
/// again by its values among this node's own shards of the table. A
/// tombstone of a shard this node does not hold is kept too (a copy being
/// fetched counts it in when installed; `Store::forget_orphan_tombstones`
/// drops those of shards nobody holds). Idempotent: applying the same
/// tombstone twice changes nothing.
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
    let own: Vec<_> = live.iter().filter(|s| s.home.is_none()).cloned().collect();
    let mut targets = Vec::new();
    for t in rows {
        if t.home == store.node_name && !live.iter().any(|s| s.id.0 == t.shard) {
            if let Some(found) = find_row(store, &conn, &def, &own, &t.values)? {
                targets.push(found);
            }
        } else {
            // Kept also for a shard not held here: a copy of it being
            // taken right now counts it in when it is installed.
            targets.push((t.shard.clone(), t.rid));
        }
    }
    conn.execute_batch("BEGIN IMMEDIATE").map_err(Error::from)?;
    let r = (|| -> Result<usize> {
        let mut applied = 0;
        for (shard, rid) in &targets {
            let n = conn
                .execute(
                    "INSERT OR IGNORE INTO main._mosaic_tombstones(shard_id, rid) VALUES (?1, ?2)",
                    rusqlite::params![shard, rid],
                )
                .map_err(Error::from)?;
            if n > 0 {
                applied += conn
                    .execute(
                        "UPDATE main._mosaic_shards SET tombstones = tombstones + 1 WHERE id = ?1",
                        [shard],
                    )
                    .map_err(Error::from)?;
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
    def: &crate::types::table::TableDef,
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
        .map_err(Error::from)?;
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
            .map_err(Error::from);
        let _ = conn.execute(&format!("DETACH {}", quote(&name)), []);
        if let Some(rid) = found? {
            return Ok(Some((s.id.0.clone(), rid)));
        }
    }
    Ok(None)
}
