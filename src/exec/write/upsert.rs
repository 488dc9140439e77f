//! INSERT … ON CONFLICT: the rows it may conflict with are brought where
//! SQLite's upsert sees them, and what PostgreSQL refuses is refused.

use sqlparser::ast::{ObjectName, Statement, TableObject};

use super::{compile, execute};
use crate::error::{Error, Result};
use crate::exec::Session;
use crate::sql::ident_name;
use crate::types::quote;
use crate::types::table::TableDef;
use crate::types::Datum;

/// INSERT … ON CONFLICT must see conflicting rows that live in sealed
/// shards. The incoming rows are materialized once; live shard rows that
/// share a unique key with them move to the open segment (tombstoned in
/// their shard, copied with their values), where SQLite's upsert then
/// resolves the conflict exactly as PostgreSQL would.
pub(super) fn pull_conflicting_rows(
    sess: &mut Session,
    stmt: &mut Statement,
    def: &TableDef,
    params: &[Datum],
) -> Result<()> {
    let shards = crate::exec::sources::live_shards(sess, def)?;
    let Statement::Insert(ins) = stmt else {
        return Ok(());
    };
    let update_target = do_update_target(ins, def);
    if shards.is_empty() && !sess.peers_hold(def) && update_target.is_none() {
        return Ok(());
    }
    let cols: Vec<String> = ins
        .columns
        .iter()
        .map(|c| {
            c.0.last()
                .and_then(|p| p.as_ident())
                .map(ident_name)
                .unwrap_or_default()
        })
        .collect();
    let quoted: Vec<String> = cols.iter().map(|c| quote(c)).collect();
    sess.conn.batch(&format!(
        "DROP TABLE IF EXISTS temp._mosaic_incoming; CREATE TEMP TABLE _mosaic_incoming ({});",
        quoted.join(", ")
    ))?;
    let mut load = Statement::Insert(sqlparser::ast::Insert {
        on: None,
        returning: None,
        ..ins.clone()
    });
    crate::sql::coerce::coerce_literals(&mut load, &sess.catalog(), sess.zone())?;
    if let Statement::Insert(l) = &mut load {
        l.table = TableObject::TableName(ObjectName::from(vec![
            sqlparser::ast::Ident::new("temp"),
            sqlparser::ast::Ident::new("_mosaic_incoming"),
        ]));
    }
    let (sql, _) = compile(sess, load, params)?;
    execute(sess, &sql, params, false, &mut |_| Ok(()))?;
    if let Some(target) = &update_target {
        refuse_second_touch(sess, target)?;
    }
    let keys = plain_keys(def, &cols);
    let mut conds: Vec<String> = keys
        .iter()
        .map(|key| {
            let k: Vec<String> = key.iter().map(|&c| quote(&def.columns[c].name)).collect();
            format!(
                "({}) IN (SELECT {} FROM temp._mosaic_incoming)",
                k.join(", "),
                k.join(", ")
            )
        })
        .collect();
    let general = general_keys(def, &cols)?;
    conds.extend(general.iter().map(|g| g.pull.clone()));
    for (s, meta) in &shards {
        sess.attach(std::slice::from_ref(&s.id))?;
        let src = crate::store::shard::source(def, meta, s.tombstones, true)?;
        if pull_from(sess, def, &src, &conds)? > 0 {
            crate::exec::remote::tombstone_rows(sess, def, &meta.id.0, &src, None)?;
        }
    }
    // Rows with the same keys on other nodes move here the same way.
    if sess.peers_hold(def) {
        for (key, cond) in keys.iter().zip(&conds) {
            let k: Vec<String> = key.iter().map(|&c| quote(&def.columns[c].name)).collect();
            let incoming = sess.conn.rows(
                &format!(
                    "SELECT DISTINCT {} FROM temp._mosaic_incoming WHERE {}",
                    k.join(", "),
                    k.iter()
                        .map(|c| format!("{c} IS NOT NULL"))
                        .collect::<Vec<_>>()
                        .join(" AND ")
                ),
                &[],
            )?;
            for chunk in incoming.chunks(crate::exec::remote::KEYS_PER_PROBE) {
                let (filter, params) = crate::exec::remote::key_filter(def, key, chunk);
                pull_remote(sess, def, filter, &params, cond)?;
            }
        }
        for g in &general {
            for values in sess.conn.rows(&g.incoming, &[])? {
                pull_remote(sess, def, g.filter.clone(), &values, &g.pull)?;
            }
        }
    }
    let Some(src) = crate::sql::parse(&format!(
        "SELECT {} FROM temp._mosaic_incoming",
        quoted.join(", ")
    ))?
    .pop() else {
        return Err(Error::Internal("empty statement".into()));
    };
    if let (Statement::Query(q), Statement::Insert(ins)) = (src, stmt) {
        ins.source = Some(q);
    }
    Ok(())
}

/// The columns of the unique key an `ON CONFLICT … DO UPDATE` arbitrates
/// on (each quoted), if that is what `ins` does.
fn do_update_target(ins: &sqlparser::ast::Insert, def: &TableDef) -> Option<Vec<String>> {
    use sqlparser::ast::{ConflictTarget, OnConflictAction, OnInsert};
    let Some(OnInsert::OnConflict(oc)) = &ins.on else {
        return None;
    };
    if !matches!(oc.action, OnConflictAction::DoUpdate(_)) {
        return None;
    }
    match &oc.conflict_target {
        Some(ConflictTarget::Columns { columns, .. }) => {
            Some(columns.iter().map(|c| quote(&ident_name(c))).collect())
        }
        // PostgreSQL requires a target for DO UPDATE; the primary key is
        // what SQLite's upsert would pick.
        _ => Some(
            def.primary_key
                .iter()
                .map(|&c| quote(&def.columns[c].name))
                .collect(),
        ),
    }
}

/// `ON CONFLICT DO UPDATE` may not touch one row twice: two incoming rows
/// with the same (non-null) key are 21000, as in PostgreSQL, where SQLite
/// would apply both.
fn refuse_second_touch(sess: &Session, key: &[String]) -> Result<()> {
    if key.is_empty() {
        return Ok(());
    }
    let twice = sess.conn.exists(
        &format!(
            "SELECT 1 FROM temp._mosaic_incoming WHERE {} GROUP BY {} HAVING count(*) > 1",
            key.iter()
                .map(|c| format!("{c} IS NOT NULL"))
                .collect::<Vec<_>>()
                .join(" AND "),
            key.join(", ")
        ),
        &[],
    )?;
    if twice {
        return Err(Error::ConflictTwice);
    }
    Ok(())
}

/// The unique keys (constraints, then plain CREATE UNIQUE INDEX keys,
/// which arbitrate alike) whose columns the INSERT names.
fn plain_keys(def: &TableDef, cols: &[String]) -> Vec<Vec<usize>> {
    let index_keys = def
        .indexes
        .iter()
        .filter(|ix| ix.unique && !ix.is_general())
        .filter_map(|ix| {
            ix.columns
                .iter()
                .map(|c| def.column_index(c))
                .collect::<Option<Vec<usize>>>()
        });
    let mut keys: Vec<Vec<usize>> = Vec::new();
    for k in def.unique_keys().cloned().chain(index_keys) {
        if k.iter().all(|&c| cols.contains(&def.columns[c].name)) && !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys
}

/// Pull the rows of peers' shards matching `filter` (PostgreSQL over the
/// bare table) and `cond` here (see [`pull_from`]).
fn pull_remote(
    sess: &mut Session,
    def: &TableDef,
    filter: String,
    params: &[Datum],
    cond: &str,
) -> Result<()> {
    for r in crate::exec::remote::remote_shards(sess, def, Some(filter), params)? {
        let src = crate::exec::remote::remote_shard_source(def, &r);
        if pull_from(sess, def, &src, &[cond.to_string()])? > 0 {
            crate::exec::remote::tombstone_remote(sess, def, &r)?;
        }
    }
    Ok(())
}

/// A general (expression or partial) unique index as ON CONFLICT pulls by
/// it: the condition on a source's rows, the incoming rows' distinct keys
/// and the PostgreSQL filter that finds a key's rows on peers.
struct GeneralKey {
    pull: String,
    incoming: String,
    filter: String,
}

fn general_keys(def: &TableDef, cols: &[String]) -> Result<Vec<GeneralKey>> {
    let table_columns: Vec<(String, crate::types::PgType)> = def
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.clone()))
        .collect();
    let mut out = Vec::new();
    for ix in def.indexes.iter().filter(|ix| ix.unique && ix.is_general()) {
        let used = def.columns.iter().filter(|c| {
            ix.columns.contains(&c.name)
                || ix
                    .exprs
                    .iter()
                    .flatten()
                    .chain(&ix.predicate)
                    .any(|e| crate::sql::index_expr::mentions(e, &c.name))
        });
        if let Some(c) = used.clone().find(|c| !cols.contains(&c.name)) {
            return Err(Error::Unsupported(format!(
                "INSERT … ON CONFLICT that leaves out column \"{}\", which index \"{}\" uses",
                c.name, ix.name
            )));
        }
        let (mut lite, mut pg) = (Vec::new(), Vec::new());
        for (k, c) in ix.columns.iter().enumerate() {
            match ix.expr(k) {
                Some(e) => {
                    lite.push(crate::sql::index_expr::key_to_sqlite(e, def)?);
                    pg.push(format!("({e})"));
                }
                None => {
                    lite.push(quote(c));
                    pg.push(quote(c));
                }
            }
        }
        let pred = match &ix.predicate {
            Some(p) => format!("({})", crate::sql::check_to_sqlite(p, &table_columns)?),
            None => "true".into(),
        };
        let not_null: Vec<String> = lite.iter().map(|k| format!("{k} IS NOT NULL")).collect();
        let mut filter: Vec<String> = pg
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{k} = ${}", i + 1))
            .collect();
        filter.extend(ix.predicate.iter().map(|p| format!("({p})")));
        out.push(GeneralKey {
            pull: format!(
                "({}) IN (SELECT {} FROM temp._mosaic_incoming AS {t} WHERE {pred}) AND {pred}",
                lite.join(", "),
                lite.join(", "),
                t = quote(&def.name)
            ),
            incoming: format!(
                "SELECT DISTINCT {} FROM temp._mosaic_incoming AS {} WHERE {pred} AND {}",
                lite.join(", "),
                quote(&def.name),
                not_null.join(" AND ")
            ),
            filter: filter.join(" AND "),
        });
    }
    Ok(out)
}

/// Copy the live rows of one sealed source (`src`, `_rid` first) that
/// meet one of `conds` (a key shared with an incoming row) into the open
/// segment, leaving their row keys in temp._mosaic_rids for the caller to
/// tombstone; returns how many.
fn pull_from(sess: &Session, def: &TableDef, src: &str, conds: &[String]) -> Result<usize> {
    sess.conn.batch("DELETE FROM temp._mosaic_rids")?;
    let mut total = 0;
    for cond in conds {
        let sql = format!(
            "INSERT OR IGNORE INTO temp._mosaic_rids SELECT _rid FROM ({src}) AS {} WHERE {cond}",
            quote(&def.name)
        );
        total += sess.conn.execute(&sql, &[])?;
    }
    if total > 0 {
        // SQLite computes the generated columns again, from the same values.
        let all: Vec<String> = (def.columns.iter())
            .filter(|c| c.generated.is_none())
            .map(|c| quote(&c.name))
            .collect();
        sess.conn
            .execute(
                &format!(
                    "INSERT INTO {} ({}) SELECT {} FROM ({src}) WHERE _rid IN (SELECT rid FROM temp._mosaic_rids)",
                    def.segment(),
                    all.join(", "),
                    all.join(", ")
                ),
                &[],
            )?;
    }
    Ok(total)
}

/// A row ON CONFLICT DO UPDATE changes carries the statement's version
/// like every row the statement writes, so the checks that look for the
/// statement's rows (unique keys across shards, FOREIGN KEYs) see it.
pub(super) fn mark_updated_rows(ins: &mut sqlparser::ast::Insert) -> Result<()> {
    let Some(sqlparser::ast::OnInsert::OnConflict(oc)) = &mut ins.on else {
        return Ok(());
    };
    let sqlparser::ast::OnConflictAction::DoUpdate(du) = &mut oc.action else {
        return Ok(());
    };
    du.assignments.push(sqlparser::ast::Assignment {
        target: sqlparser::ast::AssignmentTarget::ColumnName(ObjectName::from(vec![
            sqlparser::ast::Ident::new("_ver"),
        ])),
        value: crate::sql::parse_expr("mosaic_hlc()")?,
    });
    Ok(())
}
