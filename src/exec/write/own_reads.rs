//! An UPDATE or DELETE whose subqueries read the table it changes reads it
//! as it was when the statement began, as in PostgreSQL.
//!
//! The write changes its table one source at a time (the open segment in
//! place, then each sealed shard: its rows marked, new versions inserted,
//! the old ones tombstoned), so a subquery that read the table itself
//! would see it half changed: `DELETE FROM t WHERE v > (SELECT avg(v)
//! FROM t)` recomputed the average after the first rows went, and
//! `RETURNING (SELECT sum(v) FROM t)` gave each row another sum. Such
//! subqueries read a copy of the table's rows taken first, in a temporary
//! table shaped like the open segment (its columns' types and
//! collations), instead of the table.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, ObjectName, ObjectNamePart, Query, Statement, TableAlias, TableFactor, VisitMut,
    VisitorMut,
};

use crate::error::{Error, Result};
use crate::exec::query::compile;
use crate::exec::Session;
use crate::sql::object_name;
use crate::types::quote;
use crate::types::table::OnCommit;

/// If a subquery of an UPDATE or DELETE `stmt` (its WHERE, SET values or
/// RETURNING) reads the table it changes, copy that table's rows as they
/// are now into a temporary table and point those subqueries at it;
/// returns the copy's name, to drop once the statement ran.
pub(super) fn read_from_copy(sess: &mut Session, stmt: &mut Statement) -> Result<Option<String>> {
    let target = match &*stmt {
        Statement::Update(u) => Some(&u.table.relation),
        Statement::Delete(d) => match &d.from {
            sqlparser::ast::FromTable::WithFromKeyword(t)
            | sqlparser::ast::FromTable::WithoutKeyword(t) => t.first().map(|t| &t.relation),
        },
        _ => None,
    };
    let Some(TableFactor::Table { name, .. }) = target else {
        return Ok(None);
    };
    let Some(def) = sess.catalog().table(&object_name(name)) else {
        return Ok(None);
    };
    if def.is_temp() || !subqueries_read(stmt, &def.name) {
        return Ok(None);
    }
    let copy = format!("_mosaic_own_{}", def.oid);
    let mut shape = (*def).clone();
    shape.name = copy.clone();
    shape.temp = Some(OnCommit::Drop);
    shape.primary_key.clear();
    shape.unique.clear();
    shape.checks.clear();
    shape.indexes.clear();
    shape.foreign_keys.clear();
    for c in &mut shape.columns {
        c.not_null = false;
        c.default = None;
        c.generated = None;
        c.identity = None;
    }
    sess.conn
        .batch(&format!("DROP TABLE IF EXISTS temp.{}", quote(&copy)))?;
    sess.conn.create_segment(&shape)?;
    let cols: Vec<String> = def.columns.iter().map(|c| quote(&c.name)).collect();
    let read = crate::sql::parse(&format!(
        "SELECT {} FROM {}",
        cols.join(", "),
        quote(&def.name)
    ))?
    .pop()
    .ok_or_else(|| Error::Internal("empty statement".into()))?;
    let (sql, _) = compile(sess, read, &[])?;
    sess.conn.batch(&format!(
        "INSERT INTO temp.{} ({}) {sql}",
        quote(&copy),
        cols.join(", ")
    ))?;
    let mut v = Repoint {
        table: &def.name,
        bare: def.rel_name(),
        copy: &copy,
        depth: 0,
    };
    let _ = stmt.visit(&mut v);
    Ok(Some(copy))
}

/// Drop the copy [`read_from_copy`] made.
pub(super) fn drop_copy(sess: &Session, copy: Option<String>) -> Result<()> {
    match copy {
        Some(c) => sess
            .conn
            .batch(&format!("DROP TABLE IF EXISTS temp.{}", quote(&c))),
        None => Ok(()),
    }
}

/// Whether a subquery of the statement names relation `table`.
fn subqueries_read(stmt: &Statement, table: &str) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_expressions(stmt, |e| {
        let q: Option<&Query> = match e {
            Expr::Subquery(q) | Expr::Exists { subquery: q, .. } => Some(q),
            Expr::In {
                target: sqlparser::ast::InTarget::Subquery(subquery),
                ..
            } => Some(subquery),
            _ => None,
        };
        if let Some(q) = q {
            let _ = sqlparser::ast::visit_relations(q, |n| {
                if object_name(n) == table {
                    found = true;
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            });
        }
        if found {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    found
}

/// Points the subqueries' references to `table` at `copy`.
struct Repoint<'a> {
    table: &'a str,
    bare: &'a str,
    copy: &'a str,
    /// How many subqueries deep the visit is (the statement's own target
    /// is at depth 0).
    depth: usize,
}

impl VisitorMut for Repoint<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, f: &mut TableFactor) -> ControlFlow<()> {
        if self.depth == 0 {
            return ControlFlow::Continue(());
        }
        if let TableFactor::Table { name, alias, .. } = f {
            if object_name(name) == self.table {
                if alias.is_none() {
                    *alias = Some(TableAlias {
                        explicit: true,
                        name: sqlparser::ast::Ident::with_quote('"', self.bare),
                        columns: vec![],
                        at: None,
                    });
                }
                *name = ObjectName(vec![
                    ObjectNamePart::Identifier(sqlparser::ast::Ident::new("temp")),
                    ObjectNamePart::Identifier(sqlparser::ast::Ident::with_quote('"', self.copy)),
                ]);
            }
        }
        ControlFlow::Continue(())
    }
}
