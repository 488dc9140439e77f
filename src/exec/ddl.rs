//! DDL: CREATE/DROP TABLE, CREATE/DROP INDEX, ALTER TABLE, TRUNCATE.
//!
//! DDL is not transactional in MosaicDB: it runs on the node's writer
//! connection and is refused inside a transaction block, except TRUNCATE,
//! which there runs on the session's connection as part of the block.

use sqlparser::ast::{AlterTableOperation, ObjectType, Statement, TableConstraint};

use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
use crate::sql::{ddl, ident_name, object_name};
use crate::store::segment::{self, quote};

pub fn run(sess: &mut Session, stmt: &Statement) -> Result<Outcome> {
    let store = sess.store.clone();
    match stmt {
        Statement::CreateTable(ct) => {
            let name = object_name(&ct.name);
            if name.contains('.') {
                return Err(Error::Unsupported(format!("schema-qualified table {name}")));
            }
            if store.catalog.table(&name).is_some() {
                if ct.if_not_exists {
                    return Ok(Outcome::Command("CREATE TABLE".into()));
                }
                return Err(Error::TableExists(name));
            }
            let def = ddl::create_table(ct, store.catalog.next_oid()?)?;
            store.create_table(def)?;
            Ok(Outcome::Command("CREATE TABLE".into()))
        }
        Statement::CreateIndex(ci) => {
            let table = object_name(&ci.table_name);
            let Some(def) = store.catalog.table(&table) else {
                return Err(Error::NoSuchTable(table));
            };
            let idx = ddl::create_index(ci, &def)?;
            if def.indexes.iter().any(|i| i.name == idx.name) {
                if ci.if_not_exists {
                    return Ok(Outcome::Command("CREATE INDEX".into()));
                }
                return Err(Error::TableExists(idx.name));
            }
            let mut new = (*def).clone();
            new.indexes.push(idx);
            store.alter_table(new.clone(), |w| segment::create_table(w, &new))?;
            store.index_shards(&new.name)?;
            Ok(Outcome::Command("CREATE INDEX".into()))
        }
        Statement::Drop {
            object_type,
            if_exists,
            names,
            ..
        } => drop(sess, object_type, *if_exists, names),
        Statement::AlterTable(at) => {
            let name = object_name(&at.name);
            let Some(def) = store.catalog.table(&name) else {
                if at.if_exists {
                    return Ok(Outcome::Command("ALTER TABLE".into()));
                }
                return Err(Error::NoSuchTable(name));
            };
            let mut new = (*def).clone();
            for op in &at.operations {
                alter(&mut new, op, sess)?;
            }
            if at
                .operations
                .iter()
                .any(|op| matches!(op, AlterTableOperation::AddConstraint { .. }))
            {
                store.index_shards(&name)?;
            }
            Ok(Outcome::Command("ALTER TABLE".into()))
        }
        Statement::Truncate(t) => {
            for target in &t.table_names {
                let name = object_name(&target.name);
                if store.catalog.table(&name).is_none() {
                    return Err(Error::NoSuchTable(name));
                }
            }
            for target in &t.table_names {
                truncate(sess, &object_name(&target.name))?;
            }
            Ok(Outcome::Command("TRUNCATE TABLE".into()))
        }
        _ => Err(Error::Unsupported(stmt.to_string())),
    }
}

fn drop(
    sess: &mut Session,
    kind: &ObjectType,
    if_exists: bool,
    names: &[sqlparser::ast::ObjectName],
) -> Result<Outcome> {
    let store = sess.store.clone();
    match kind {
        ObjectType::Table => {
            for n in names {
                let name = object_name(n);
                if store.catalog.table(&name).is_none() && !if_exists {
                    return Err(Error::NoSuchTable(name));
                }
            }
            for n in names {
                let name = object_name(n);
                if store.catalog.table(&name).is_some() {
                    store.drop_table(&name)?;
                }
            }
            Ok(Outcome::Command("DROP TABLE".into()))
        }
        ObjectType::Index => {
            for n in names {
                let name = object_name(n);
                let owner = store
                    .catalog
                    .tables()
                    .into_iter()
                    .find(|t| t.indexes.iter().any(|i| i.name == name));
                match owner {
                    Some(def) => {
                        let mut new = (*def).clone();
                        new.indexes.retain(|i| i.name != name);
                        store.alter_table(new, |w| {
                            w.execute_batch(&format!("DROP INDEX IF EXISTS {}", quote(&name)))
                                .map_err(crate::exec::errors::map)
                        })?;
                    }
                    None if if_exists => {}
                    None => {
                        return Err(Error::NoSuchObject(format!(
                            "index \"{name}\" does not exist"
                        )))
                    }
                }
            }
            Ok(Outcome::Command("DROP INDEX".into()))
        }
        other => Err(Error::Unsupported(format!("DROP {other}"))),
    }
}

fn alter(
    def: &mut crate::store::table::TableDef,
    op: &AlterTableOperation,
    sess: &mut Session,
) -> Result<()> {
    let store = sess.store.clone();
    match op {
        AlterTableOperation::AddColumn {
            column_def,
            if_not_exists,
            ..
        } => {
            let (col, pk, uq) = ddl::column(&def.name, column_def)?;
            if def.column_index(&col.name).is_some() {
                if *if_not_exists {
                    return Ok(());
                }
                return Err(Error::ObjectExists(format!(
                    "column \"{}\" of relation \"{}\" already exists",
                    col.name, def.name
                )));
            }
            if pk || uq {
                return Err(Error::Unsupported(
                    "ADD COLUMN with a key constraint".into(),
                ));
            }
            if col.not_null && col.default.is_none() {
                let total = count_all(sess, &def.name)?;
                if total > 0 {
                    return Err(Error::NotNullViolation(format!(
                        "column \"{}\" of relation \"{}\" contains null values",
                        col.name, def.name
                    )));
                }
            }
            let table = def.name.clone();
            def.columns.push(col.clone());
            let new = def.clone();
            store.alter_table(new, |w| segment::add_column(w, &table, &col))?;
            Ok(())
        }
        AlterTableOperation::AddConstraint { constraint, .. } => {
            let (cols, primary) = match constraint {
                TableConstraint::PrimaryKey(pk) => (&pk.columns, true),
                TableConstraint::Unique(u) => (&u.columns, false),
                other => return Err(Error::Unsupported(format!("ADD {other}"))),
            };
            let mut key = Vec::new();
            for c in cols {
                let sqlparser::ast::Expr::Identifier(i) = &c.column.expr else {
                    return Err(Error::Unsupported("key on an expression".into()));
                };
                let name = ident_name(i);
                key.push(def.column_index(&name).ok_or_else(|| {
                    Error::NoSuchColumn(format!(
                        "{name}\" named in key does not exist in \"{}",
                        def.name
                    ))
                })?);
            }
            if primary {
                if !def.primary_key.is_empty() {
                    return Err(Error::Syntax(format!(
                        "multiple primary keys for table \"{}\" are not allowed",
                        def.name
                    )));
                }
                def.primary_key = key;
            } else {
                def.unique.push(key);
            }
            let new = def.clone();
            store.alter_table(new.clone(), |w| segment::create_table(w, &new))?;
            Ok(())
        }
        other => Err(Error::Unsupported(format!("ALTER TABLE {other}"))),
    }
}

fn count_all(sess: &mut Session, table: &str) -> Result<u64> {
    let mut n = segment::count_rows(&sess.conn, table)?;
    for (s, meta) in crate::plan::live_shards(&sess.store, &sess.conn, table)? {
        n += meta.row_count.saturating_sub(s.tombstones as u64);
    }
    Ok(n)
}

/// Empty a table: its open segment and every shard leave at once.
fn truncate(sess: &mut Session, table: &str) -> Result<()> {
    truncate_local(&sess.store, table)?;
    if let Some(c) = sess.cluster.as_ref().filter(|_| sess.has_peers()) {
        c.on_all_peers(
            &crate::cluster::proto::Request::Truncate {
                tables: vec![table.to_string()],
            },
            crate::cluster::QUERY_TIMEOUT,
        )?;
    }
    Ok(())
}

/// Empty this node's part of `table`: its open segment and its shards.
pub fn truncate_local(store: &crate::store::Store, table: &str) -> Result<()> {
    store.with_writer(|w| {
        w.execute_batch("BEGIN IMMEDIATE")
            .map_err(crate::exec::errors::map)?;
        let r = delete_all(w, table).map_err(crate::exec::errors::map);
        segment::finish(w, r)
    })
}

/// TRUNCATE inside a transaction block (pgbench -i runs `begin; truncate;
/// copy …; commit`). The session already holds the write lock, so the rows
/// and the shard manifest entries go on its own connection, under the
/// block's transaction: a ROLLBACK brings the table back.
pub fn truncate_in_block(sess: &mut Session, stmt: &Statement) -> Result<Outcome> {
    let Statement::Truncate(t) = stmt else {
        return Err(Error::Unsupported("DDL inside a transaction block".into()));
    };
    let names: Vec<String> = t.table_names.iter().map(|t| object_name(&t.name)).collect();
    if let Some(missing) = names.iter().find(|n| sess.store.catalog.table(n).is_none()) {
        return Err(Error::NoSuchTable(missing.clone()));
    }
    sess.in_statement(true, |sess| {
        for name in &names {
            delete_all(&sess.conn, name).map_err(crate::exec::errors::map)?;
            // Other nodes' rows are tombstoned in this transaction, like a DELETE.
            if let Some(def) = sess.store.catalog.table(name) {
                crate::exec::write::delete_remote_rows(sess, &def)?;
            }
        }
        Ok(Outcome::Command("TRUNCATE TABLE".into()))
    })
}

/// Delete a table's open-segment rows and its shards from the manifest.
fn delete_all(conn: &rusqlite::Connection, table: &str) -> rusqlite::Result<()> {
    conn.execute_batch(&format!("DELETE FROM main.{}", quote(table)))?;
    conn.execute(
        "DELETE FROM main._mosaic_outbox WHERE table_name = ?1",
        [table],
    )?;
    conn.execute(
        "DELETE FROM main._mosaic_tombstones WHERE shard_id IN (SELECT id FROM main._mosaic_shards WHERE table_name = ?1)",
        [table],
    )?;
    conn.execute(
        "DELETE FROM main._mosaic_shards WHERE table_name = ?1",
        [table],
    )?;
    Ok(())
}
