//! Views: every view a statement names is replaced by its defining query,
//! as a derived table under the view's name (or the alias given), before
//! the statement is checked, typed and planned. Everything after sees
//! only tables, so a view over distributed tables is planned, pruned and
//! gathered as its query would be.
//!
//! The derived table keeps the columns the view was created with: a `*`
//! in the definition does not pick up columns added to its tables later,
//! as in PostgreSQL, which expands it at CREATE VIEW.

use std::ops::ControlFlow;

use sqlparser::ast::{
    CopySource, FromTable, Ident, Query, SelectItem, SetExpr, Statement, TableFactor, TableObject,
    VisitMut, VisitorMut,
};

use crate::error::{Error, Result};
use crate::sql::{ident_name, object_name, Schema};
use crate::types::quote;
use crate::types::table::TableDef;

/// How deeply views may name views; deeper is a cycle that CREATE OR
/// REPLACE VIEW made.
const MAX_DEPTH: usize = 64;

/// Replace every view `stmt` reads with its query. Writing to a view, or
/// copying to or from one, is refused.
pub fn expand(stmt: &mut Statement, schema: &dyn Schema) -> Result<()> {
    refuse_targets(stmt, schema)?;
    let mut v = Expander {
        schema,
        ctes: Vec::new(),
        depth: 0,
        target: write_target(stmt).map(object_name),
    };
    match stmt.visit(&mut v) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// Expand the views of a view's own query (`depth` views deep).
fn expand_query(q: &mut Query, schema: &dyn Schema, depth: usize) -> Result<()> {
    let mut v = Expander {
        schema,
        ctes: Vec::new(),
        depth,
        target: None,
    };
    match q.visit(&mut v) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// The relations a view's query reads (what it depends on), its own
/// CTEs aside.
pub fn dependencies(q: &Query, schema: &dyn Schema) -> Vec<String> {
    struct Ctes(Vec<String>);
    impl sqlparser::ast::Visitor for Ctes {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            collect_ctes(q, &mut self.0);
            ControlFlow::Continue(())
        }
    }
    let mut ctes = Ctes(Vec::new());
    let _ = sqlparser::ast::Visit::visit(q, &mut ctes);
    let mut out: Vec<String> = Vec::new();
    let _ = sqlparser::ast::visit_relations(q, |name| {
        let n = object_name(name);
        let known = schema.table(&n).is_some() || schema.view(&n).is_some();
        if known && !ctes.0.contains(&n) && !out.contains(&n) {
            out.push(n);
        }
        ControlFlow::<()>::Continue(())
    });
    out
}

fn collect_ctes(q: &Query, out: &mut Vec<String>) {
    if let Some(with) = &q.with {
        out.extend(with.cte_tables.iter().map(|c| ident_name(&c.alias.name)));
    }
}

struct Expander<'a> {
    schema: &'a dyn Schema,
    /// The CTE names in scope, innermost query last.
    ctes: Vec<Vec<String>>,
    depth: usize,
    /// The table the statement writes (REFRESH empties an unpopulated
    /// materialized view).
    target: Option<String>,
}

impl Expander<'_> {
    fn view_named(&self, name: &sqlparser::ast::ObjectName) -> Option<std::sync::Arc<TableDef>> {
        let n = object_name(name);
        if name.0.len() == 1 && self.ctes.iter().flatten().any(|c| *c == n) {
            return None;
        }
        self.schema.view(&n)
    }

    /// A materialized view made `WITH NO DATA` cannot be read until it is
    /// refreshed.
    fn refuse_unpopulated(&self, name: &sqlparser::ast::ObjectName) -> Result<()> {
        let n = object_name(name);
        if name.0.len() == 1 && self.ctes.iter().flatten().any(|c| *c == n) {
            return Ok(());
        }
        if self.target.as_deref() == Some(n.as_str()) {
            return Ok(());
        }
        match self.schema.table(&n).map(|d| d.kind.clone()) {
            Some(crate::types::table::RelKind::MatView {
                populated: false, ..
            }) => Err(Error::ObjectNotInState(format!(
                "materialized view \"{n}\" has not been populated"
            ))
            .with_hint("Use the REFRESH MATERIALIZED VIEW command.")),
            _ => Ok(()),
        }
    }

    fn replace(&self, factor: &mut TableFactor) -> Result<()> {
        let TableFactor::Table {
            name, alias, args, ..
        } = factor
        else {
            return Ok(());
        };
        if args.is_some() {
            return Ok(());
        }
        self.refuse_unpopulated(name)?;
        let Some(view) = self.view_named(name) else {
            return Ok(());
        };
        if self.depth >= MAX_DEPTH {
            return Err(Error::InvalidObjectDefinition(format!(
                "infinite recursion detected in rules for relation \"{}\"",
                view.name
            )));
        }
        let mut subquery = derived_query(&view)?;
        expand_query(&mut subquery, self.schema, self.depth + 1)?;
        let alias = alias.clone().unwrap_or_else(|| sqlparser::ast::TableAlias {
            explicit: true,
            name: sqlparser::ast::Ident::with_quote('"', view.name.clone()),
            columns: vec![],
            at: None,
        });
        *factor = TableFactor::Derived {
            lateral: false,
            subquery: Box::new(subquery),
            alias: Some(alias),
            sample: None,
        };
        Ok(())
    }
}

/// `SELECT "_v"."a", … FROM (<definition>) AS "_v"`: the view's query
/// (whose output columns carry the view's column names, see
/// [`normalize`]), those columns only.
fn derived_query(view: &TableDef) -> Result<Query> {
    let Some(definition) = view.view_query() else {
        return Err(Error::Internal(format!("{} is not a view", view.name)));
    };
    let cols: Vec<String> = view
        .columns
        .iter()
        .map(|c| format!("\"_v\".{}", quote(&c.name)))
        .collect();
    let sql = format!("SELECT {} FROM ({definition}) AS \"_v\"", cols.join(", "));
    match crate::sql::parse(&sql)?.pop() {
        Some(Statement::Query(q)) => Ok(*q),
        _ => Err(Error::Internal(format!(
            "the definition of view {} does not parse",
            view.name
        ))),
    }
}

impl VisitorMut for Expander<'_> {
    type Break = Error;

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<Error> {
        let mut names = Vec::new();
        collect_ctes(q, &mut names);
        self.ctes.push(names);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _q: &mut Query) -> ControlFlow<Error> {
        self.ctes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<Error> {
        match self.replace(factor) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }
}

/// Views can be read, not written: INSERT, UPDATE, DELETE and COPY name a
/// view only to be refused, as PostgreSQL refuses COPY and as MosaicDB
/// has no updatable views.
fn refuse_targets(stmt: &Statement, schema: &dyn Schema) -> Result<()> {
    let is_view = |name: &sqlparser::ast::ObjectName| schema.view(&object_name(name)).is_some();
    let target = match stmt {
        Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => write_target(stmt),
        Statement::Copy {
            source: CopySource::Table { table_name, .. },
            to,
            ..
        } => {
            let name = object_name(table_name);
            if schema.table(&name).is_some_and(|d| d.is_matview()) {
                return Err(if *to {
                    Error::WrongObjectType(format!("cannot copy from materialized view \"{name}\""))
                        .with_hint("Try the COPY (SELECT ...) TO variant.")
                } else {
                    Error::WrongObjectType(format!("cannot change materialized view \"{name}\""))
                });
            }
            if is_view(table_name) {
                let name = object_name(table_name);
                return Err(if *to {
                    Error::WrongObjectType(format!("cannot copy from view \"{name}\""))
                        .with_hint("Try the COPY (SELECT ...) TO variant.")
                } else {
                    Error::WrongObjectType(format!("cannot copy to view \"{name}\"")).with_hint(
                        "To enable copying to a view, provide an INSTEAD OF INSERT trigger.",
                    )
                });
            }
            None
        }
        _ => None,
    };
    match target {
        Some(n) if is_view(n) => Err(Error::Unsupported(format!(
            "writing to view \"{}\" (views are read-only here)",
            object_name(n)
        ))),
        _ => Ok(()),
    }
}

/// The table an INSERT, UPDATE or DELETE writes to.
pub fn write_target(stmt: &Statement) -> Option<&sqlparser::ast::ObjectName> {
    match stmt {
        Statement::Insert(ins) => match &ins.table {
            TableObject::TableName(n) => Some(n),
            _ => None,
        },
        Statement::Update(up) => match &up.table.relation {
            TableFactor::Table { name, .. } => Some(name),
            _ => None,
        },
        Statement::Delete(del) => match &del.from {
            FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => {
                t.first().and_then(|t| match &t.relation {
                    TableFactor::Table { name, .. } => Some(name),
                    _ => None,
                })
            }
        },
        _ => None,
    }
}

/// Whether a query's body is a plain SELECT, VALUES or set operation a
/// view may be defined by.
pub fn definable(q: &Query) -> bool {
    !matches!(
        q.body.as_ref(),
        SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_)
    )
}

/// A view's query as it is kept: every output column of its (leftmost)
/// SELECT named by an alias, the view's column name at that position, as
/// PostgreSQL prints a view (`SELECT count(*) AS count FROM t`). A `*`
/// stays, as its columns keep their tables' names; renaming them with a
/// column list is refused. `width` gives how many columns a `*` item
/// stands for.
pub fn normalize(
    q: &Query,
    names: &[String],
    width: &dyn Fn(&sqlparser::ast::Select, &SelectItem) -> Result<Vec<String>>,
) -> Result<Query> {
    let mut q = q.clone();
    let mut body = q.body.as_mut();
    while let SetExpr::SetOperation { left, .. } = body {
        body = left.as_mut();
    }
    let SetExpr::Select(sel) = body else {
        return Ok(q);
    };
    let original = sel.clone();
    let mut pos = 0;
    for item in sel.projection.iter_mut() {
        match item {
            SelectItem::UnnamedExpr(e) => {
                if let Some(n) = names.get(pos) {
                    *item = SelectItem::ExprWithAlias {
                        expr: e.clone(),
                        alias: Ident::with_quote('"', n.clone()),
                    };
                }
                pos += 1;
            }
            SelectItem::ExprWithAlias { alias, .. } => {
                if let Some(n) = names.get(pos) {
                    *alias = Ident::with_quote('"', n.clone());
                }
                pos += 1;
            }
            SelectItem::ExprWithAliases { .. } => pos += 1,
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                let cols = width(&original, item)?;
                for (i, c) in cols.iter().enumerate() {
                    if names.get(pos + i).is_some_and(|n| n != c) {
                        return Err(Error::Unsupported(
                            "a view column list renaming the columns of *".into(),
                        ));
                    }
                }
                pos += cols.len();
            }
        }
    }
    Ok(q)
}
