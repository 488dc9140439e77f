//! CREATE INDEX and ALTER INDEX … RENAME TO: an index is part of its
//! table's definition, changed and spread like any other DDL.

use sqlparser::ast::{AlterIndexOperation, CreateIndex, ObjectName};

use super::{is_view, record, relation_exists};
use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
use crate::sql::{ddl, object_name};

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
    if relation_exists(sess, &idx.name) {
        if ci.if_not_exists {
            return Ok(Outcome::Command("CREATE INDEX".into()));
        }
        if ci.name.is_some() {
            return Err(Error::TableExists(idx.name));
        }
        // PostgreSQL numbers an unnamed index whose name is taken.
        let base = idx.name.clone();
        let mut n = 1;
        while relation_exists(sess, &format!("{base}{n}")) {
            n += 1;
        }
        idx.name = format!("{base}{n}");
    }
    let mut new = (*def).clone();
    new.indexes.push(idx);
    sess.conn.create_segment(&new)?;
    sess.ddl.reindex.insert(new.name.clone());
    record(sess, &table, Some(new))?;
    Ok(Outcome::Command("CREATE INDEX".into()))
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
