//! Keys written while the cluster is split.
//!
//! A write checks its unique keys against every node it can reach. While a
//! member is down or suspected, that check cannot see what the member
//! writes on its side of a split, so this node records each value of a
//! unique key the statement wrote, and each primary-key value it removed
//! (`_mosaic_unsettled`, in the statement's transaction, with the
//! statement's version), with the nodes it could not ask. Once one of
//! those is back, `exec::settle` compares the versions of those values on
//! every live node and tombstones all but the newest.

use sqlparser::ast::{FromTable, Statement, TableFactor, UpdateTableFromKind};

use crate::cluster::membership::MemberState;
use crate::error::{Error, Result};
use crate::exec::Session;
use crate::sql::ident_name;
use crate::types::quote;
use crate::types::table::TableDef;
use crate::types::Datum;

/// Whether this statement cannot ask every node: one is down or
/// suspected, not found again yet since this node started, or did not
/// answer a moment ago and the statement runs again without it
/// (`Session::retrying_peers`). A write now may not see what that node
/// writes.
pub(crate) fn split(sess: &Session) -> bool {
    sess.cluster.as_ref().is_some_and(|c| {
        let members = c.members();
        let present = (members.iter())
            .filter(|(_, s)| !matches!(s, MemberState::Left))
            .count();
        !c.all_known_alive() || sess.reads.peers.len() < present
    })
}

/// Record that this statement wrote (`wrote`) or removed these values
/// of the unique key `columns` of `def`. An UPDATE that keeps a key does
/// both, at one version: it wrote.
pub(crate) fn record(
    sess: &Session,
    def: &TableDef,
    columns: &[usize],
    keys: &[Vec<Datum>],
    wrote: bool,
) -> Result<()> {
    let ver = sess.stmt_version();
    let names: Vec<&str> = columns
        .iter()
        .map(|&c| def.columns[c].name.as_str())
        .collect();
    let names = serde_json::to_string(&names)
        .map_err(|e| Error::Internal(format!("encoding a key's columns: {e}")))?;
    let unasked = unasked(sess);
    sess.store.unsettled.recorded();
    for key in keys {
        sess.conn.execute(
            "INSERT INTO main._mosaic_unsettled(table_name, columns, key, ver, wrote)
             VALUES (?1, ?5, ?2, ?3, ?4)
             ON CONFLICT(table_name, columns, key) DO UPDATE SET
                 wrote = CASE WHEN excluded.ver > ver THEN excluded.wrote
                              WHEN excluded.ver = ver THEN max(wrote, excluded.wrote)
                              ELSE wrote END,
                 ver = max(ver, excluded.ver)",
            &[
                Datum::Text(def.name.clone()),
                Datum::Blob(encode_key(key)?),
                Datum::Int(ver),
                Datum::Int(wrote as i64),
                Datum::Text(names.clone()),
            ],
        )?;
        for node in &unasked {
            sess.conn.execute(
                "INSERT OR IGNORE INTO main._mosaic_unsettled_waits(table_name, columns, key, node)
                 VALUES (?1, ?2, ?3, ?4)",
                &[
                    Datum::Text(def.name.clone()),
                    Datum::Text(names.clone()),
                    Datum::Blob(encode_key(key)?),
                    Datum::Text(node.clone()),
                ],
            )?;
        }
    }
    Ok(())
}

/// The nodes this statement could not ask: every node this one knows (its
/// registry, its members but those that left) but the live peers it reads.
fn unasked(sess: &Session) -> Vec<String> {
    let Some(c) = &sess.cluster else {
        return vec![];
    };
    let asked: std::collections::HashSet<&str> = sess
        .reads
        .peers
        .iter()
        .map(|(m, _)| m.name.as_str())
        .collect();
    let mut out: Vec<String> = c.registry().into_keys().collect();
    out.extend(
        c.members()
            .into_iter()
            .filter(|(_, s)| !matches!(s, MemberState::Left))
            .map(|(m, _)| m.name),
    );
    out.retain(|n| *n != sess.store.node_name && !asked.contains(n.as_str()));
    out.sort();
    out.dedup();
    out
}

/// A key's values as `_mosaic_unsettled` keeps them.
pub(crate) fn encode_key(key: &[Datum]) -> Result<Vec<u8>> {
    postcard::to_stdvec(key).map_err(|e| Error::Internal(format!("encoding a key: {e}")))
}

/// Before an UPDATE or DELETE of a table with a primary key, while the
/// cluster is split: record the primary keys of the rows it changes (their
/// old versions go; an UPDATE's new ones are recorded by the uniqueness
/// check after it).
pub(crate) fn record_old_keys(
    sess: &mut Session,
    stmt: &Statement,
    params: &[Datum],
) -> Result<()> {
    let (factor, from, cond) = match stmt {
        Statement::Update(up) => {
            let from = match &up.from {
                Some(UpdateTableFromKind::AfterSet(t) | UpdateTableFromKind::BeforeSet(t)) => {
                    t.iter().map(|t| t.to_string()).collect()
                }
                None => vec![],
            };
            (&up.table.relation, from, up.selection.as_ref())
        }
        Statement::Delete(del) => {
            let tables = match &del.from {
                FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
            };
            let [twj] = tables.as_slice() else {
                return Ok(());
            };
            let using = del.using.iter().flatten().map(|t| t.to_string()).collect();
            (&twj.relation, using, del.selection.as_ref())
        }
        _ => return Ok(()),
    };
    let TableFactor::Table { name, alias, .. } = factor else {
        return Ok(());
    };
    let Some(def) = sess.catalog().table(&crate::sql::object_name(name)) else {
        return Ok(());
    };
    if def.primary_key.is_empty() || def.is_temp() || !split(sess) {
        return Ok(());
    }
    let alias = alias
        .as_ref()
        .map(|a| ident_name(&a.name))
        .unwrap_or_else(|| def.name.clone());
    let items: Vec<String> = (def.primary_key.iter())
        .map(|&c| format!("{}.{}", quote(&alias), quote(&def.columns[c].name)))
        .collect();
    let sql = format!(
        "SELECT DISTINCT {} FROM {} AS {}{}{}",
        items.join(", "),
        quote(&def.name),
        quote(&alias),
        from.iter().map(|t| format!(", {t}")).collect::<String>(),
        cond.map(|c| format!(" WHERE {c}")).unwrap_or_default()
    );
    let keys = crate::exec::write::foreign::read(sess, &sql, params)?;
    record(sess, &def, &def.primary_key, &keys, false)
}
