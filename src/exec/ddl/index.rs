//! CREATE INDEX and ALTER INDEX … RENAME TO: an index is part of its
//! table's definition, changed and spread like any other DDL.

use sqlparser::ast::{AlterIndexOperation, CreateIndex, ObjectName};

use super::{is_view, record, relation_exists};
use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
use crate::sql::{ddl, object_name};
use crate::types::quote;
use crate::types::table::{Index, TableDef};
use crate::types::Datum;

/// `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON t …`.
pub(super) fn create(sess: &mut Session, ci: &CreateIndex) -> Result<Outcome> {
    let table = object_name(&ci.table_name);
    let Some(def) = sess.catalog().table(&table) else {
        if is_view(sess, &table) {
            return Err(Error::WrongObjectType(format!(
                "cannot create index on relation \"{table}\""
            ))
            .with_detail("This operation is not supported for views."));
        }
        return Err(Error::NoSuchTable(table));
    };
    let mut idx = ddl::create_index(ci, &def)?;
    let taken = |sess: &Session, name: &str| relation_exists(sess, &def.index_storage_name(name));
    if taken(sess, &idx.name) {
        if ci.if_not_exists {
            super::existing_skipped(sess, &idx.name);
            return Ok(Outcome::Command("CREATE INDEX".into()));
        }
        if ci.name.is_some() {
            return Err(Error::TableExists(idx.name));
        }
        // PostgreSQL numbers an unnamed index whose name is taken.
        let base = idx.name.clone();
        let mut n = 1;
        while taken(sess, &format!("{base}{n}")) {
            n += 1;
        }
        idx.name = format!("{base}{n}");
    }
    if idx.is_general() {
        evaluate_existing(sess, &def, &idx)?;
    }
    if idx.unique {
        check_existing(sess, &def, &idx)?;
    }
    let mut new = (*def).clone();
    new.indexes.push(idx);
    sess.conn.create_segment(&new)?;
    sess.ddl.reindex.insert(new.name.clone());
    record(sess, &table, Some(new))?;
    Ok(Outcome::Command("CREATE INDEX".into()))
}

/// The columns an index reads.
fn used_columns<'a>(def: &'a TableDef, idx: &Index) -> Vec<&'a str> {
    def.columns
        .iter()
        .map(|c| c.name.as_str())
        .filter(|c| {
            idx.columns.iter().any(|k| k == c)
                || idx
                    .exprs
                    .iter()
                    .flatten()
                    .chain(&idx.predicate)
                    .any(|e| crate::sql::index_expr::mentions(e, c))
        })
        .collect()
}

/// Evaluate a new index's predicate and key expressions over the rows
/// already there, on every node: one that fails (division by zero, out
/// of range) fails CREATE INDEX, as PostgreSQL's index build does. The
/// least and greatest key are returned, so a result out of its type's
/// range cannot pass unseen.
fn evaluate_existing(sess: &mut Session, def: &TableDef, idx: &Index) -> Result<()> {
    let mut items = Vec::new();
    for e in idx.exprs.iter().flatten() {
        items.push(format!("min(({e})), max(({e}))"));
    }
    if items.is_empty() {
        items.push("count(*)".into());
    }
    let sql = format!(
        "SELECT {} FROM {}{}",
        items.join(", "),
        quote(&def.name),
        idx.predicate
            .as_deref()
            .map(|p| format!(" WHERE {p}"))
            .unwrap_or_default()
    );
    let needed = used_columns(def, idx);
    let rows = super::alter::existing_rows(sess, &def.name, &needed, &sql)?;
    let ranges = idx
        .exprs
        .iter()
        .flatten()
        .map(|e| crate::sql::index_expr::key_range(e, def))
        .collect::<Result<Vec<_>>>()?;
    for row in &rows {
        for (pair, range) in row.chunks(2).zip(&ranges) {
            let Some((lo, hi)) = range else { continue };
            if pair
                .iter()
                .any(|v| matches!(v, Datum::Int(n) if n < lo || n > hi))
            {
                return Err(Error::NumericOutOfRange("integer out of range".into()));
            }
        }
    }
    Ok(())
}

/// A new unique index holds for every row it covers, on every node: the
/// first repeated key fails with 23505 as PostgreSQL's index build does.
fn check_existing(sess: &mut Session, def: &TableDef, idx: &Index) -> Result<()> {
    let mut keys = Vec::new();
    let mut names = Vec::new();
    for (k, c) in idx.columns.iter().enumerate() {
        match idx.expr(k) {
            Some(e) => {
                keys.push(format!("({e})"));
                names.push(crate::sql::index_expr::key_text(e, def, true)?);
            }
            None => {
                keys.push(quote(c));
                names.push(c.clone());
            }
        }
    }
    let filter: Vec<String> = idx.predicate.iter().map(|p| format!("({p})")).collect();
    let needed = used_columns(def, idx);
    super::alter::check_no_duplicate(
        sess,
        &def.name,
        &keys,
        &filter,
        &needed,
        (&idx.name, &names),
    )
}

/// `ALTER INDEX name RENAME TO new`.
pub(super) fn alter(
    sess: &mut Session,
    name: &ObjectName,
    op: &AlterIndexOperation,
) -> Result<Outcome> {
    let AlterIndexOperation::RenameIndex { index_name } = op;
    let (old, new_name) = (object_name(name), object_name(index_name));
    let owner = sess
        .catalog()
        .tables()
        .into_iter()
        .find(|t| t.indexes.iter().any(|i| i.name == old));
    let Some(def) = owner else {
        if relation_exists(sess, &old) {
            return Err(Error::Unsupported(format!(
                "ALTER INDEX … RENAME of \"{old}\", which is not a CREATE INDEX index"
            )));
        }
        return Err(Error::NoSuchTable(old));
    };
    if relation_exists(sess, &new_name) {
        return Err(Error::TableExists(new_name));
    }
    let mut new = (*def).clone();
    for ix in new.indexes.iter_mut().filter(|i| i.name == old) {
        ix.name = new_name.clone();
    }
    sess.conn.drop_index(&old)?;
    sess.conn.create_segment(&new)?;
    record(sess, &def.name, Some(new))?;
    Ok(Outcome::Command("ALTER INDEX".into()))
}
