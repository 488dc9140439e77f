//! Unique keys across shards and nodes: the check after a write, and
//! PostgreSQL's 23505 naming the constraint.

use crate::error::{Error, Result};
use crate::exec::Session;
use crate::plan::{self, prune};
use crate::types::quote;
use crate::types::table::TableDef;
use crate::types::Datum;

use super::{general, unsettled};

/// Fail with 23505 if a row this statement wrote duplicates a unique key
/// held by a live row of a sealed shard.
pub(crate) fn check_unique(sess: &mut Session, def: &TableDef, _params: &[Datum]) -> Result<()> {
    general::check(sess, def)?;
    let mut keys: Vec<Vec<usize>> = def.unique_keys().cloned().collect();
    // CREATE UNIQUE INDEX keys hold across shards and nodes too.
    for ix in def
        .indexes
        .iter()
        .filter(|ix| ix.unique && !ix.is_general())
    {
        let key: Option<Vec<usize>> = ix.columns.iter().map(|c| def.column_index(c)).collect();
        if let Some(key) = key.filter(|k| !keys.contains(k)) {
            keys.push(key);
        }
    }
    if keys.is_empty() {
        return Ok(());
    }
    let shards = crate::exec::sources::live_shards(sess, def)?;
    let peers = sess.peers_hold(def);
    if shards.is_empty() && !peers {
        return Ok(());
    }
    let ver = sess.stmt_version();
    for key in keys {
        let cols: Vec<String> = key.iter().map(|&c| quote(&def.columns[c].name)).collect();
        let sql = format!(
            "SELECT {} FROM {} WHERE _ver = ?1 AND {}",
            cols.join(", "),
            def.segment(),
            cols.iter()
                .map(|c| format!("{c} IS NOT NULL"))
                .collect::<Vec<_>>()
                .join(" AND ")
        );
        let written: Vec<Vec<Datum>> = sess.conn.rows(&sql, &[Datum::Int(ver)])?;
        if written.is_empty() {
            continue;
        }
        let split = !def.is_temp() && unsettled::split(sess);
        tracing::debug!(table = %def.name, keys = ?written, split, peers, shards = shards.len(), "unique check");
        if split {
            unsettled::record(sess, def, &key, &written, true)?;
        }
        if peers {
            // Held, and the peers told of the table's unsealed rows, before
            // they are asked: a peer writing the same value now either sees
            // it held or is seen holding it.
            let names: Vec<String> = key.iter().map(|&c| def.columns[c].name.clone()).collect();
            let inflight = sess.store.inflight.clone();
            let since = sess.statement_times().transaction;
            inflight.hold(&mut sess.held, since, &def.name, &names, &written);
            if let Some(c) = &sess.cluster {
                c.will_write(&def.name);
            }
            crate::exec::remote::check_key(sess, def, &key, &written)?;
        }
        let filter_text = key
            .iter()
            .enumerate()
            .map(|(i, &c)| format!("{} = ${}", quote(&def.columns[c].name), i + 1))
            .collect::<Vec<_>>()
            .join(" AND ");
        let filter = crate::sql::parse_expr(&filter_text)?;
        let resolve = plan::column_resolver(def, &def.name);
        for values in &written {
            for (s, meta) in &shards {
                if prune::excludes(meta, def, &filter, &resolve, values) {
                    continue;
                }
                sess.attach(std::slice::from_ref(&s.id))?;
                // Through the shard's source: a column renamed since the
                // shard was sealed is stored under its former name.
                // A key lookup: each row found is looked up in the
                // tombstones (`types::shard::probe_per_row`).
                let probe = format!(
                    "SELECT 1 FROM ({}) WHERE {} AND NOT {} LIMIT 1",
                    crate::store::shard::source(def, meta, 0, true)?,
                    key.iter()
                        .enumerate()
                        .map(|(i, &c)| format!("{} = ?{}", quote(&def.columns[c].name), i + 1))
                        .collect::<Vec<_>>()
                        .join(" AND "),
                    crate::types::shard::is_tombstoned(&format!("?{}", key.len() + 1), "_rid")
                );
                let mut args = values.clone();
                args.push(Datum::Text(s.id.0.clone()));
                let found = sess.conn.exists(&probe, &args)?;
                if found {
                    return Err(duplicate_key(def, &key, values));
                }
            }
        }
    }
    Ok(())
}

/// A unique violation SQLite found in an open segment (`… on t.a, t.b`),
/// naming the constraint as PostgreSQL does. (SQLite does not say which
/// values collided, so there is no DETAIL line.)
pub(crate) fn name_violated_key(sess: &Session, e: Error) -> Error {
    let Error::UniqueViolation(m) = &e else {
        return e;
    };
    let Some(rest) = m.strip_prefix("duplicate key value violates unique constraint on ") else {
        return e;
    };
    // An expression index: SQLite names the index.
    if let Some(name) = rest
        .strip_prefix("index '")
        .and_then(|r| r.strip_suffix('\''))
    {
        return Error::UniqueViolation(format!(
            "duplicate key value violates unique constraint \"{name}\""
        ));
    }
    let mut table = None;
    let cols: Vec<String> = rest
        .split(", ")
        .map(|c| match c.rsplit_once('.') {
            Some((t, c)) => {
                table = Some(t.to_string());
                c.to_string()
            }
            None => c.to_string(),
        })
        .collect();
    let Some(def) = table.and_then(|t| sess.catalog().table(&t)) else {
        return e;
    };
    let key: Option<Vec<usize>> = cols.iter().map(|c| def.column_index(c)).collect();
    let Some(key) = key else {
        return e;
    };
    let name = match def.indexes.iter().find(|i| i.unique && i.columns == cols) {
        Some(index) => index.name.clone(),
        None => def.key_constraint_name(&key),
    };
    Error::UniqueViolation(format!(
        "duplicate key value violates unique constraint \"{name}\""
    ))
}

/// The error for a duplicate of `values` under the unique `key` of `def`.
pub(crate) fn duplicate_key(def: &TableDef, key: &[usize], values: &[Datum]) -> Error {
    let names: Vec<&str> = key.iter().map(|&c| def.columns[c].name.as_str()).collect();
    let shown: Vec<String> = values
        .iter()
        .zip(key)
        .map(|(v, &c)| {
            def.columns[c]
                .ty
                .render_text(v)
                .unwrap_or_else(|| "NULL".into())
        })
        .collect();
    let is_constraint = def.unique_keys().any(|k| k.as_slice() == key);
    let index = def.indexes.iter().find(|ix| {
        ix.unique
            && ix
                .columns
                .iter()
                .map(|c| def.column_index(c))
                .eq(key.iter().map(|&k| Some(k)))
    });
    let constraint = match index.filter(|_| !is_constraint) {
        Some(ix) => ix.name.clone(),
        None => def.key_constraint_name(key),
    };
    Error::UniqueViolation(format!(
        "duplicate key value violates unique constraint \"{constraint}\""
    ))
    .with_detail(format!(
        "Key ({})=({}) already exists.",
        names.join(", "),
        shown.join(", ")
    ))
}
