//! UNIQUE indexes on expressions or with a predicate (partial), across
//! sealed shards and nodes. The open segment's SQLite index holds them
//! there (SQLite has expression and partial indexes, and its upsert infers
//! them); this check finds the rows this statement wrote whose key
//! another live row of a sealed shard, here or on a peer, already holds.

use crate::error::{Error, Result};
use crate::exec::Session;
use crate::plan::{self, prune};
use crate::types::quote;
use crate::types::table::{Index, TableDef};
use crate::types::{Datum, PgType};

/// One general unique index, in the three spellings its check needs.
struct Spec<'a> {
    index: &'a Index,
    /// Each key in PostgreSQL SQL (for peers) and in SQLite SQL.
    pg: Vec<String>,
    lite: Vec<String>,
    pred_pg: Option<String>,
    pred_lite: Option<String>,
}

fn spec<'a>(def: &TableDef, index: &'a Index) -> Result<Spec<'a>> {
    let cols: Vec<(String, PgType)> = def
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.clone()))
        .collect();
    let (mut pg, mut lite) = (Vec::new(), Vec::new());
    for (k, c) in index.columns.iter().enumerate() {
        match index.expr(k) {
            Some(e) => {
                pg.push(format!("({e})"));
                lite.push(crate::sql::index_expr::key_to_sqlite(e, def)?);
            }
            None => {
                pg.push(quote(c));
                lite.push(quote(c));
            }
        }
    }
    let pred_lite = match &index.predicate {
        Some(p) => Some(crate::sql::check_to_sqlite(p, &cols)?),
        None => None,
    };
    Ok(Spec {
        index,
        pg,
        lite,
        pred_pg: index.predicate.clone(),
        pred_lite,
    })
}

/// `k1 = ?1 AND k2 = ?2 [AND (pred)]`, placeholders `prefix` + n.
fn condition(keys: &[String], pred: Option<&String>, prefix: char) -> String {
    let mut terms: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{k} = {prefix}{}", i + 1))
        .collect();
    if let Some(p) = pred {
        terms.push(format!("({p})"));
    }
    terms.join(" AND ")
}

/// Fail with 23505 if a row this statement wrote into `def` duplicates,
/// under one of its general unique indexes, a live row of a sealed shard.
pub(crate) fn check(sess: &mut Session, def: &TableDef) -> Result<()> {
    let indexes: Vec<&Index> = def
        .indexes
        .iter()
        .filter(|ix| ix.unique && ix.is_general())
        .collect();
    if indexes.is_empty() {
        return Ok(());
    }
    let shards = crate::exec::sources::live_shards(sess, def)?;
    let peers = sess.peers_hold(def);
    if shards.is_empty() && !peers {
        return Ok(());
    }
    let ver = sess.stmt_version();
    for ix in indexes {
        let s = spec(def, ix)?;
        let mut filter = vec!["_ver = ?1".to_string()];
        filter.extend(s.lite.iter().map(|k| format!("{k} IS NOT NULL")));
        filter.extend(s.pred_lite.iter().map(|p| format!("({p})")));
        let sql = format!(
            "SELECT {} FROM {} WHERE {}",
            s.lite.join(", "),
            def.segment(),
            filter.join(" AND ")
        );
        let written: Vec<Vec<Datum>> = sess.conn.rows(&sql, &[Datum::Int(ver)])?;
        for values in &written {
            if peers {
                let cond = condition(&s.pg, s.pred_pg.as_ref(), '$');
                if crate::exec::remote::holds_live_row(sess, def, &cond, values)? {
                    return Err(duplicate(def, &s, values));
                }
            }
            probe_shards(sess, def, &s, &shards, values)?;
        }
    }
    Ok(())
}

fn probe_shards(
    sess: &mut Session,
    def: &TableDef,
    s: &Spec,
    shards: &[(
        crate::types::shard::LiveShard,
        std::sync::Arc<crate::types::shard::ShardMeta>,
    )],
    values: &[Datum],
) -> Result<()> {
    // Bloom filters and zone maps know columns: the plain keys prune.
    let plain: Vec<String> = s
        .index
        .columns
        .iter()
        .enumerate()
        .filter(|(k, _)| s.index.expr(*k).is_none())
        .map(|(k, c)| format!("{} = ${}", quote(c), k + 1))
        .collect();
    let filter = match plain.is_empty() {
        true => None,
        false => Some(crate::sql::parse_expr(&plain.join(" AND "))?),
    };
    let resolve = plan::column_resolver(def, &def.name);
    for (shard, meta) in shards {
        if let Some(f) = &filter {
            if prune::excludes(meta, def, f, &resolve, values) {
                continue;
            }
        }
        sess.attach(std::slice::from_ref(&shard.id))?;
        let probe = format!(
            "SELECT 1 FROM ({}) AS {} WHERE {} AND _rid NOT IN ({}) LIMIT 1",
            crate::store::shard::source(def, meta, 0, true)?,
            quote(&def.name),
            condition(&s.lite, s.pred_lite.as_ref(), '?'),
            crate::types::shard::tombstoned_rids(&format!("?{}", values.len() + 1))
        );
        let mut args = values.to_vec();
        args.push(Datum::Text(shard.id.0.clone()));
        if sess.conn.exists(&probe, &args)? {
            return Err(duplicate(def, s, values));
        }
    }
    Ok(())
}

/// PostgreSQL's 23505 for a general unique index, with its DETAIL
/// (`Key (lower(email))=(a@x.org) already exists.`).
fn duplicate(def: &TableDef, s: &Spec, values: &[Datum]) -> Error {
    let names: Vec<String> = (0..s.index.columns.len())
        .map(|k| match s.index.expr(k) {
            Some(e) => crate::sql::index_expr::key_text(e, def, true).unwrap_or_default(),
            None => s.index.columns[k].clone(),
        })
        .collect();
    let shown: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(k, v)| {
            match (s.index.expr(k), def.column_index(&s.index.columns[k])) {
                (None, Some(c)) => def.columns[c].ty.render_text(v),
                _ => None,
            }
            .unwrap_or_else(|| show(v))
        })
        .collect();
    Error::UniqueViolation(format!(
        "duplicate key value violates unique constraint \"{}\"",
        s.index.name
    ))
    .with_detail(format!(
        "Key ({})=({}) already exists.",
        names.join(", "),
        shown.join(", ")
    ))
}

/// A key value as PostgreSQL's DETAIL prints it (keys here are integers
/// or text).
fn show(v: &Datum) -> String {
    match v {
        Datum::Null => "null".into(),
        Datum::Int(n) => n.to_string(),
        Datum::Text(t) => t.clone(),
        other => PgType::Text.render_text(other).unwrap_or_default(),
    }
}
