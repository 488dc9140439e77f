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
    let shards = crate::exec::sources::live_shards(sess, &def.name)?;
    let Statement::Insert(ins) = stmt else {
        return Ok(());
    };
    let update_target = do_update_target(ins, def);
    if shards.is_empty() && !sess.has_peers() && update_target.is_none() {
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
    crate::sql::coerce::coerce_literals(&mut load, &sess.catalog())?;
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
    let keys: Vec<Vec<usize>> = def
        .unique_keys()
        .filter(|k| k.iter().all(|&c| cols.contains(&def.columns[c].name)))
        .cloned()
        .collect();
    for (s, meta) in &shards {
        sess.attach(std::slice::from_ref(&s.id))?;
        let src = crate::store::shard::source(def, meta, s.tombstones, true)?;
        if pull_from(sess, def, &src, &keys)? > 0 {
            crate::exec::remote::tombstone_rows(sess, def, &meta.id.0, &src, None)?;
        }
    }
    // Rows with the same keys on other nodes move here the same way.
    if sess.has_peers() {
        for key in &keys {
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
                for r in crate::exec::remote::remote_shards(sess, def, Some(filter), &params)? {
                    let src = crate::exec::remote::remote_shard_source(def, &r);
                    if pull_from(sess, def, &src, std::slice::from_ref(key))? > 0 {
                        crate::exec::remote::tombstone_remote(sess, def, &r)?;
                    }
                }
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

/// Copy the live rows of one sealed source (`src`, `_rid` first) that
/// share a value of one of `keys` with an incoming row into the open
/// segment, leaving their row keys in temp._mosaic_rids for the caller to
/// tombstone; returns how many.
fn pull_from(sess: &Session, def: &TableDef, src: &str, keys: &[Vec<usize>]) -> Result<usize> {
    sess.conn.batch("DELETE FROM temp._mosaic_rids")?;
    let mut total = 0;
    for key in keys {
        let k: Vec<String> = key.iter().map(|&c| quote(&def.columns[c].name)).collect();
        let sql = format!(
            "INSERT OR IGNORE INTO temp._mosaic_rids SELECT _rid FROM ({src}) WHERE ({}) IN (SELECT {} FROM temp._mosaic_incoming)",
            k.join(", "),
            k.join(", ")
        );
        total += sess.conn.execute(&sql, &[])?;
    }
    if total > 0 {
        let all: Vec<String> = def.columns.iter().map(|c| quote(&c.name)).collect();
        sess.conn
            .execute(
                &format!(
                    "INSERT INTO main.{} ({}) SELECT {} FROM ({src}) WHERE _rid IN (SELECT rid FROM temp._mosaic_rids)",
                    quote(&def.name),
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
