//! The serving side of the peers' requests that need a session or the
//! node's shards: scans of this node's rows, the probe for unsealed rows
//! before a peer's UPDATE, and tombstones that peers committed for rows of
//! this node's shards.

use crate::error::{Error, Result};
use crate::exec::Session;
use crate::types::quote;
use crate::types::table::{Column, TableDef};
use crate::types::Datum;

/// The filter of a scan as an expression over the bare table.
fn parse_filter(filter: Option<&str>) -> Result<Option<sqlparser::ast::Expr>> {
    filter.map(crate::sql::parse_expr).transpose()
}

/// Serve a peer's `Scan`: this node's rows of `table` that match `filter`,
/// each as `[shard id or NULL, row key, columns…]`, read in the session's
/// one read transaction (the manifest and the open segment agree). With
/// `versions` (a peer's `Versions`), only this node's own rows (its open
/// segment and the shards it sealed), each with its version after its key.
pub fn scan_local(
    sess: &mut Session,
    table: &str,
    filter: Option<&str>,
    params: &[Datum],
    sealed_only: bool,
    columns: Option<Vec<Column>>,
    versions: Option<u32>,
) -> Result<Vec<Vec<Datum>>> {
    let own = sess
        .catalog()
        .table(table)
        .ok_or_else(|| Error::NoSuchTable(table.to_string()))?;
    if versions.is_some_and(|oid| oid != own.oid) {
        return Err(Error::Unavailable(format!(
            "table \"{table}\" here is another table of that name; its catalog is catching up"
        )));
    }
    let versions = versions.is_some();
    if !versions && !sealed_only {
        // What a client's statement here would wait for (settling's own
        // reads, Versions and sealed shards, do not).
        crate::exec::settle::wait_settled_for(sess, &[table.to_string()])?;
    }
    let segment_cols = match &columns {
        Some(wanted) => wanted
            .iter()
            .map(|c| segment_column(&own, c))
            .collect::<Result<Vec<_>>>()?,
        None => own.columns.iter().map(|c| quote(&c.name)).collect(),
    };
    let def = match columns {
        Some(columns) => std::sync::Arc::new(crate::types::table::TableDef {
            columns,
            ..(*own).clone()
        }),
        None => own,
    };
    let filter = parse_filter(filter)?;
    sess.in_statement(false, |sess| {
        let mut shards = crate::exec::sources::live_shards(sess, &def)?;
        if versions {
            shards.retain(|(s, _)| s.home.is_none());
        }
        let ver = if versions { "_ver, " } else { "" };
        let resolve = crate::plan::column_resolver(&def, &def.name);
        let scan = crate::plan::prune_shards(
            shards.iter().map(|(s, m)| (s, &**m)),
            &def,
            filter.as_ref(),
            &resolve,
            params,
            false,
        );
        crate::exec::query::count_shards(sess, [&scan]);
        let cols: Vec<String> = def.columns.iter().map(|c| quote(&c.name)).collect();
        let mut arms = Vec::new();
        if !sealed_only {
            arms.push(format!(
                "SELECT NULL AS _shard, _key AS _rid, {ver}{} FROM main.{}",
                segment_cols.join(", "),
                quote(&def.name)
            ));
        }
        if !sealed_only && !versions {
            // Copies of down nodes' unsealed rows this node keeps, each
            // row named by its node and its key there.
            for (origin, src) in crate::exec::sources::open_copies(sess, &def)? {
                arms.push(format!(
                    "SELECT {} AS _shard, NULL AS _rid, * FROM ({src})",
                    crate::types::shard::literal(&format!("open:{origin}"))
                ));
            }
        }
        let mut attach = Vec::new();
        for (s, meta) in &shards {
            if scan.kept.contains(&s.id) {
                let src = match versions {
                    true => crate::store::shard::versioned_source(&def, meta, s.tombstones)?,
                    false => {
                        // Through the shard's R*Tree where a spatial
                        // predicate allows.
                        let narrow = filter.as_ref().and_then(|f| {
                            crate::plan::prune::rtree_condition(meta, &def, f, &resolve, params)
                        });
                        crate::store::shard::narrowed_source(
                            &def,
                            meta,
                            s.tombstones,
                            true,
                            narrow.as_deref(),
                        )?
                    }
                };
                arms.push(format!(
                    "SELECT '{}' AS _shard, _rid, {ver}{} FROM ({src}) AS s",
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
        sess.conn.rows(&sqlite, params)
    })
}

/// Column `wanted` (as the asking node knows the table) read from this
/// node's open segment of `own`: under the name it has here (the asker may
/// have renamed it, or this node may have), or, when this node does not
/// have it (the asker added it in its transaction), as the value rows
/// stored before it existed read.
fn segment_column(own: &TableDef, wanted: &Column) -> Result<String> {
    let here = own.columns.iter().find(|c| {
        wanted.storage_names().any(|n| n == c.name) || c.storage_names().any(|n| n == wanted.name)
    });
    Ok(match here {
        Some(c) => format!("{} AS {}", quote(&c.name), quote(&wanted.name)),
        None => crate::store::shard::missing_column(wanted)?,
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
    if let Some((sqlite, _)) = sess.compiled.sql.get(&key) {
        metrics::counter!(crate::observe::FRAGMENT_CACHE_HITS).increment(1);
        return Ok(sqlite.clone());
    }
    metrics::counter!(crate::observe::FRAGMENT_CACHE_MISSES).increment(1);
    let mut stmt = crate::sql::parse(sql)?
        .pop()
        .ok_or_else(|| Error::Internal("empty scan".into()))?;
    crate::sql::coerce::coerce_literals(&mut stmt, &sess.catalog(), sess.zone())?;
    crate::sql::rewrite::to_sqlite(&mut stmt)?;
    let sqlite = stmt.to_string();
    crate::exec::query::remember(&mut sess.compiled.sql, 512, key, (sqlite.clone(), vec![]));
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
        .catalog()
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
    let rows = sess.conn.rows(&sqlite, params)?;
    Ok(!rows.is_empty())
}
