//! CREATE [OR REPLACE] VIEW and DROP VIEW, and the dependencies of views
//! on the relations they read, which DROP TABLE and DROP VIEW respect.
//!
//! A view is a catalog relation like a table (`RelKind::View`): it is
//! staged, journaled, published and spread to every node the same way,
//! and has no segment or shards. `sql::views` expands it where it is read.

use sqlparser::ast::{CreateView, Statement};

use super::{record, relation_exists};
use crate::error::{Error, Result};
use crate::exec::{system, Outcome, Session};
use crate::sql::{ident_name, object_name};
use crate::types::table::{Column, RelKind, TableDef};

pub(super) fn create(sess: &mut Session, cv: &CreateView) -> Result<Outcome> {
    // `*` over a join with USING or NATURAL, kept as the columns it is.
    let mut cv = cv.clone();
    cv.query = spelled_out(sess, &cv.query)?;
    let cv = &cv;
    if cv.materialized {
        return super::matview::create(sess, cv);
    }
    refuse_options(cv)?;
    let name = object_name(&cv.name);
    super::schema::check_creatable(sess, &name)?;
    let columns = view_columns(sess, cv)?;
    let query = normalized(sess, cv, &columns)?;
    let existing = sess.catalog().relation(&name);
    let oid = match &existing {
        Some(old) if cv.or_replace => {
            if old.view_query().is_none() {
                return Err(Error::WrongObjectType(format!("\"{name}\" is not a view")));
            }
            check_replacement(old, &columns)?;
            old.oid
        }
        Some(_) => return Err(Error::TableExists(name)),
        None if relation_exists(sess, &name) => return Err(Error::TableExists(name)),
        None => sess.store.next_oid()?,
    };
    let depends_on = crate::sql::views::dependencies(&cv.query, &sess.catalog());
    let def = TableDef {
        name: name.clone(),
        oid,
        columns,
        primary_key: vec![],
        unique: vec![],
        checks: vec![],
        indexes: vec![],
        foreign_keys: vec![],
        comment: None,
        kind: RelKind::View {
            query: query.to_string(),
            depends_on,
        },
        altered: Default::default(),
        temp: None,
        access: Default::default(),
    };
    record(sess, &name, Some(def))?;
    Ok(Outcome::Command("CREATE VIEW".into()))
}

/// What CREATE VIEW can say that is not built, refused by name.
fn refuse_options(cv: &CreateView) -> Result<()> {
    let refused = if cv.temporary {
        Some("temporary views")
    } else if cv.if_not_exists {
        return Err(Error::Syntax("syntax error at or near \"NOT\"".into()));
    } else if !matches!(cv.options, sqlparser::ast::CreateTableOptions::None) {
        Some("view options (WITH …)")
    } else if !crate::sql::views::definable(&cv.query) {
        Some("a view defined by a data-modifying statement")
    } else {
        None
    };
    match refused {
        Some(what) => Err(Error::Unsupported(what.into())),
        None => Ok(()),
    }
}

/// The view's columns: its query's result columns, typed as PostgreSQL
/// types them, renamed by the column list if there is one.
fn view_columns(sess: &Session, cv: &CreateView) -> Result<Vec<Column>> {
    let mut stmt = Statement::Query(cv.query.clone());
    if has_parameters(&stmt) {
        return Err(Error::NoSuchObject("there is no parameter $1".into()));
    }
    let catalog = sess.catalog();
    crate::sql::views::expand(&mut stmt, &catalog)?;
    crate::sql::validate::check(&stmt, &catalog)?;
    let inferred = crate::sql::infer::result_columns(&stmt, &system::SystemSchema(&catalog), &[])?;
    if cv.columns.len() > inferred.len() {
        return Err(Error::Syntax(
            "CREATE VIEW specifies more column names than columns".into(),
        ));
    }
    let mut columns: Vec<Column> = inferred
        .into_iter()
        .enumerate()
        .map(|(i, (name, ty))| Column {
            name: cv.columns.get(i).map_or(name, |c| ident_name(&c.name)),
            ty,
            not_null: false,
            default: None,
            identity: None,
            comment: None,
            missing: None,
            former_names: vec![],
            sequence: None,
            generated: None,
            earlier_types: vec![],
            domain: None,
        })
        .collect();
    for (i, c) in columns.iter().enumerate() {
        if columns[..i].iter().any(|o| o.name == c.name) {
            return Err(Error::DuplicateColumn(c.name.clone()));
        }
    }
    columns.shrink_to_fit();
    Ok(columns)
}

/// The query as the view keeps it (`sql::views::normalize`).
fn normalized(
    sess: &Session,
    cv: &CreateView,
    columns: &[Column],
) -> Result<sqlparser::ast::Query> {
    let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    let catalog = sess.catalog();
    let width = |sel: &sqlparser::ast::Select, item: &sqlparser::ast::SelectItem| {
        let mut only = sel.clone();
        only.projection = vec![item.clone()];
        let mut q = (*cv.query).clone();
        q.body = Box::new(sqlparser::ast::SetExpr::Select(Box::new(only)));
        q.order_by = None;
        q.limit_clause = None;
        let mut stmt = Statement::Query(Box::new(q));
        crate::sql::views::expand(&mut stmt, &catalog)?;
        Ok(
            crate::sql::infer::result_columns(&stmt, &system::SystemSchema(&catalog), &[])?
                .into_iter()
                .map(|(n, _)| n)
                .collect(),
        )
    };
    crate::sql::views::normalize(&cv.query, &names, &width)
}

/// `query` with `*` over a join that merges columns (USING, NATURAL)
/// spelled out (`sql::infer::spell_out_merged`), as every statement is
/// before its columns are described.
pub(super) fn spelled_out(
    sess: &Session,
    query: &sqlparser::ast::Query,
) -> Result<Box<sqlparser::ast::Query>> {
    let mut stmt = Statement::Query(Box::new(query.clone()));
    crate::sql::infer::spell_out_merged(&mut stmt, &system::SystemSchema(&sess.catalog()))?;
    match stmt {
        Statement::Query(q) => Ok(q),
        _ => Err(Error::Internal("a query stopped being one".into())),
    }
}

fn has_parameters(stmt: &Statement) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_expressions(stmt, |e| {
        if let sqlparser::ast::Expr::Value(v) = e {
            if let sqlparser::ast::Value::Placeholder(_) = &v.value {
                found = true;
                return std::ops::ControlFlow::Break(());
            }
        }
        std::ops::ControlFlow::Continue(())
    });
    found
}

/// CREATE OR REPLACE VIEW keeps the view's columns, in order, with their
/// names and types; it may add columns at the end.
fn check_replacement(old: &TableDef, new: &[Column]) -> Result<()> {
    if new.len() < old.columns.len() {
        return Err(Error::InvalidTableDefinition(
            "cannot drop columns from view".into(),
        ));
    }
    for (o, n) in old.columns.iter().zip(new) {
        if o.name != n.name {
            return Err(Error::InvalidTableDefinition(format!(
                "cannot change name of view column \"{}\" to \"{}\"",
                o.name, n.name
            ))
            .with_hint(
                "Use ALTER VIEW ... RENAME COLUMN ... to change name of view column instead.",
            ));
        }
        if o.ty != n.ty {
            return Err(Error::InvalidTableDefinition(format!(
                "cannot change data type of view column \"{}\" from {} to {}",
                o.name,
                o.ty.display_name(),
                n.ty.display_name()
            )));
        }
    }
    Ok(())
}

/// DROP VIEW: each name must be a view.
pub(super) fn drop(
    sess: &mut Session,
    if_exists: bool,
    cascade: bool,
    names: &[sqlparser::ast::ObjectName],
) -> Result<Outcome> {
    let mut dropping = Vec::new();
    for n in names {
        let name = object_name(n);
        match sess.catalog().relation(&name) {
            Some(v) if v.view_query().is_some() => dropping.push(name),
            Some(r) => {
                let hint = if r.is_matview() {
                    "Use DROP MATERIALIZED VIEW to remove a materialized view."
                } else {
                    "Use DROP TABLE to remove a table."
                };
                return Err(
                    Error::WrongObjectType(format!("\"{name}\" is not a view")).with_hint(hint)
                );
            }
            None if if_exists => super::missing_skipped(sess, "view", &name),
            None => {
                return Err(Error::NoSuchRelation(format!(
                    "view \"{name}\" does not exist"
                )))
            }
        }
    }
    for view in dependents(sess, &dropping, cascade)? {
        record(sess, &view, None)?;
    }
    for name in dropping {
        record(sess, &name, None)?;
    }
    Ok(Outcome::Command("DROP VIEW".into()))
}

/// The views that read the relations in `dropping` (directly or through
/// other views), which a DROP … CASCADE drops too. Without CASCADE, any
/// is an error (2BP01) naming them, as PostgreSQL reports it.
pub(super) fn dependents(
    sess: &Session,
    dropping: &[String],
    cascade: bool,
) -> Result<Vec<String>> {
    let views: Vec<_> = sess
        .catalog()
        .relations()
        .into_iter()
        .filter(|v| !v.depends_on().is_empty())
        .map(|v| (v.name.clone(), v.depends_on().to_vec()))
        .collect();
    let mut gone: Vec<String> = dropping.to_vec();
    let mut found: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < gone.len() {
        for (view, deps) in &views {
            if deps.contains(&gone[i]) && !gone.contains(view) {
                found.push((view.clone(), gone[i].clone()));
                gone.push(view.clone());
            }
        }
        i += 1;
    }
    if found.is_empty() || cascade {
        return Ok(found.into_iter().rev().map(|(v, _)| v).collect());
    }
    let kind_of = |name: &str| match sess.catalog().relation(name) {
        Some(d) if d.view_query().is_some() => "view",
        Some(d) if d.is_matview() => "materialized view",
        _ => "table",
    };
    let first = &found[0].1;
    let detail: Vec<String> = found
        .iter()
        .map(|(v, on)| format!("{} {v} depends on {} {on}", kind_of(v), kind_of(on)))
        .collect();
    Err(Error::DependentObjects(format!(
        "cannot drop {} {first} because other objects depend on it",
        kind_of(first)
    ))
    .with_detail(detail.join("\n"))
    .with_hint("Use DROP ... CASCADE to drop the dependent objects too."))
}
