//! Materialized views: CREATE MATERIALIZED VIEW, REFRESH MATERIALIZED VIEW
//! and DROP MATERIALIZED VIEW. A materialized view is a table
//! (`RelKind::MatView`: its rows live in segments and shards like any
//! table's, on every node) made and filled as CREATE TABLE AS makes and
//! fills one; REFRESH replaces its rows with its query's, in the
//! statement's transaction. Clients cannot write to it (42809), and
//! reading one made `WITH NO DATA` fails until it is refreshed (55000).

use sqlparser::ast::{CreateTableOptions, CreateView, RefreshMaterializedView, Statement};

use super::create_as::{self, CreateAs};
use super::record;
use crate::error::{Error, Result};
use crate::exec::{Outcome, Parsed, Session};
use crate::sql::{ctas, ident_name, object_name};
use crate::types::quote;
use crate::types::table::RelKind;

pub(super) fn create(sess: &mut Session, cv: &CreateView) -> Result<Outcome> {
    let mut data = true;
    match &cv.options {
        CreateTableOptions::None => {}
        CreateTableOptions::With(options)
            if options.len() == 1 && options[0].to_string().starts_with(ctas::NO_DATA_OPTION) =>
        {
            data = false
        }
        _ => {
            return Err(Error::Unsupported(
                "materialized view options (WITH …)".into(),
            ))
        }
    }
    if cv.temporary || cv.or_replace {
        return Err(Error::Syntax(
            "syntax error at or near \"MATERIALIZED\"".into(),
        ));
    }
    let depends_on = crate::sql::views::dependencies(&cv.query, &sess.catalog());
    let mut query = cv.query.clone();
    let mut stmt = Statement::Query(query.clone());
    // Its rows are what the query reads now: the views it names expand.
    crate::sql::views::expand(&mut stmt, &sess.catalog())?;
    if let Statement::Query(q) = stmt {
        query = q;
    }
    create_as::run(
        sess,
        CreateAs {
            name: object_name(&cv.name),
            names: cv.columns.iter().map(|c| ident_name(&c.name)).collect(),
            if_not_exists: cv.if_not_exists,
            data,
            query,
            kind: RelKind::MatView {
                query: cv.query.to_string(),
                depends_on,
                populated: data,
            },
            temp: None,
        },
    )
}

/// REFRESH MATERIALIZED VIEW [CONCURRENTLY] name [WITH [NO] DATA].
pub(super) fn refresh(sess: &mut Session, r: &RefreshMaterializedView) -> Result<Outcome> {
    let name = object_name(&r.name);
    let Some(def) = sess.catalog().relation(&name) else {
        return Err(Error::NoSuchTable(name));
    };
    let RelKind::MatView {
        query,
        depends_on,
        populated,
    } = &def.kind
    else {
        return Err(Error::WrongObjectType(format!(
            "\"{name}\" is not a materialized view"
        )));
    };
    let data = r.with_data.unwrap_or(true);
    if r.concurrently {
        if !populated {
            return Err(Error::ObjectNotInState(
                "CONCURRENTLY cannot be used when the materialized view is not populated".into(),
            ));
        }
        if !data {
            return Err(Error::Syntax(
                "REFRESH options CONCURRENTLY and WITH NO DATA cannot be used together".into(),
            ));
        }
        if !def.indexes.iter().any(|i| i.unique && !i.is_general()) {
            return Err(Error::ObjectNotInState(format!(
                "cannot refresh materialized view \"public.{name}\" concurrently"
            ))
            .with_hint(
                "Create a unique index with no WHERE clause on one or more columns of the materialized view.",
            ));
        }
    }
    let (query, depends_on, was_populated) = (query.clone(), depends_on.clone(), *populated);
    run_internal(sess, &format!("DELETE FROM {}", quote(&name)))?;
    if data {
        let Some(Statement::Query(q)) = crate::sql::parse(&query)?.pop() else {
            return Err(Error::Internal(format!(
                "the query of materialized view {name} does not parse"
            )));
        };
        let mut stmt = Statement::Query(q);
        crate::sql::views::expand(&mut stmt, &sess.catalog())?;
        let Statement::Query(q) = stmt else {
            return Err(Error::Internal("not a query".into()));
        };
        let columns: Vec<_> = def
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.ty.clone()))
            .collect();
        create_as::insert_query(sess, &name, &columns, q)?;
    }
    if data != was_populated {
        let mut new = (*def).clone();
        new.kind = RelKind::MatView {
            query,
            depends_on,
            populated: data,
        };
        record(sess, &name, Some(new))?;
    }
    Ok(Outcome::Command("REFRESH MATERIALIZED VIEW".into()))
}

/// A write MosaicDB runs itself on the materialized view's rows.
fn run_internal(sess: &mut Session, sql: &str) -> Result<()> {
    let Some(stmt) = crate::sql::parse(sql)?.pop() else {
        return Err(Error::Internal("empty statement".into()));
    };
    let p = crate::exec::prepare_parsed(&sess.catalog(), Parsed::Statement(Box::new(stmt)), &[])?;
    let Some(stmt) = p.stmt.clone() else {
        return Err(Error::Internal("no statement".into()));
    };
    crate::exec::write::run(sess, stmt, &p, &[], &mut |_| Ok(()))?;
    Ok(())
}

/// A client's INSERT, UPDATE or DELETE of a materialized view (42809);
/// only REFRESH changes its rows.
pub(crate) fn refuse_write(sess: &Session, stmt: &Statement) -> Result<()> {
    let Some(target) = crate::sql::views::write_target(stmt) else {
        return Ok(());
    };
    let name = object_name(target);
    if sess.catalog().table(&name).is_some_and(|d| d.is_matview()) {
        return Err(Error::WrongObjectType(format!(
            "cannot change materialized view \"{name}\""
        )));
    }
    Ok(())
}
