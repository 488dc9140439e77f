//! SQL-level prepared statements: `PREPARE name [(types)] AS statement`,
//! `EXECUTE name [(arguments)]` and their part of `DEALLOCATE`. They live
//! in the session, beside the protocol-level statements the wire layer
//! keeps (DEALLOCATE drops either, as in PostgreSQL). An EXECUTE's
//! arguments are evaluated as one SELECT of them cast to the parameter
//! types, then bound to the statement like protocol parameters.

use std::collections::HashMap;
use std::sync::Arc;

use sqlparser::ast::{Expr, Statement};

use super::session::{RowSink, Session};
use super::{Kind, Outcome, Parsed, Prepared};
use crate::error::{Error, Result};
use crate::types::{Datum, PgType};

/// `PREPARE`, as classified.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlPrepare {
    pub name: String,
    pub types: Vec<PgType>,
    pub statement: Statement,
}

/// `EXECUTE`, as classified; `tag` is the prepared statement's row tag,
/// filled in when the EXECUTE itself is prepared.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlExecute {
    pub name: String,
    pub args: Vec<Expr>,
    pub tag: &'static str,
}

/// A session's SQL-level prepared statements, by name.
#[derive(Default)]
pub struct SqlStatements(HashMap<String, Arc<Prepared>>);

impl SqlStatements {
    pub fn get(&self, name: &str) -> Option<Arc<Prepared>> {
        self.0.get(name).cloned()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// DEALLOCATE `name` (`None`: ALL).
    pub fn remove(&mut self, name: Option<&str>) {
        match name {
            Some(n) => {
                self.0.remove(n);
            }
            None => self.0.clear(),
        }
    }
}

/// The kind of a PREPARE or EXECUTE statement; `None` for other statements.
pub fn classify(stmt: &Statement) -> Option<Result<Kind>> {
    Some(match stmt {
        Statement::Prepare {
            name,
            data_types,
            statement,
        } => data_types
            .iter()
            .map(PgType::from_sql)
            .collect::<Result<Vec<_>>>()
            .map(|types| {
                Kind::Prepare(Box::new(SqlPrepare {
                    name: crate::sql::ident_name(name),
                    types,
                    statement: (**statement).clone(),
                }))
            }),
        Statement::Execute {
            name: Some(name),
            parameters,
            immediate: false,
            into,
            using,
            ..
        } if into.is_empty() && using.is_empty() => Ok(Kind::Execute(Box::new(SqlExecute {
            name: crate::sql::object_name(name),
            args: parameters.clone(),
            tag: "SELECT",
        }))),
        _ => return None,
    })
}

fn missing(name: &str) -> Error {
    Error::NoSuchPreparedStatement(format!("prepared statement \"{name}\" does not exist"))
}

/// An EXECUTE being prepared takes its statement's result columns and
/// row tag (26000 when there is no such statement).
pub fn describe(sess: &Session, p: &mut Prepared) -> Result<()> {
    let Kind::Execute(x) = &mut p.kind else {
        return Ok(());
    };
    let inner = sess
        .sql_statements
        .get(&x.name)
        .ok_or_else(|| missing(&x.name))?;
    x.tag = inner.row_tag();
    p.columns = inner.columns.clone();
    Ok(())
}

/// PREPARE: the statement is prepared now, with the given parameter types
/// (the others inferred), and kept under its name.
pub fn prepare(sess: &mut Session, spec: &SqlPrepare) -> Result<Outcome> {
    if sess.sql_statements.contains(&spec.name) {
        return Err(Error::DuplicatePreparedStatement(format!(
            "prepared statement \"{}\" already exists",
            spec.name
        )));
    }
    let declared: Vec<Option<PgType>> = spec.types.iter().cloned().map(Some).collect();
    let inner = sess.prepare_with(
        Parsed::Statement(Box::new(spec.statement.clone())),
        &declared,
    )?;
    if !matches!(
        inner.kind,
        Kind::Query
            | Kind::LockingQuery(_)
            | Kind::Insert
            | Kind::Update
            | Kind::Delete
            | Kind::Merge(_)
    ) {
        return Err(Error::Syntax(
            "PREPARE takes SELECT, INSERT, UPDATE, DELETE, MERGE or VALUES".into(),
        ));
    }
    sess.sql_statements
        .0
        .insert(spec.name.clone(), Arc::new(inner));
    Ok(Outcome::Command("PREPARE".into()))
}

/// EXECUTE: the arguments evaluated and cast to the parameter types, then
/// the statement run with them.
pub fn execute(sess: &mut Session, spec: &SqlExecute, sink: &mut RowSink) -> Result<Outcome> {
    let (inner, params) = bound(sess, spec)?;
    sess.dispatch(&inner, &params, sink)
}

/// The statement an EXECUTE names and its arguments' values (EXPLAIN
/// EXECUTE explains that statement with them).
pub fn bound(sess: &mut Session, spec: &SqlExecute) -> Result<(Arc<Prepared>, Vec<Datum>)> {
    let inner = sess
        .sql_statements
        .get(&spec.name)
        .ok_or_else(|| missing(&spec.name))?;
    if spec.args.len() != inner.params.len() {
        return Err(Error::Syntax(format!(
            "wrong number of parameters for prepared statement \"{}\"",
            spec.name
        ))
        .with_detail(format!(
            "Expected {} parameters but got {}.",
            inner.params.len(),
            spec.args.len()
        )));
    }
    let params = arguments(sess, &spec.args, &inner.params)?;
    Ok((inner, params))
}

/// The values of `args` as the parameter types `types`.
fn arguments(sess: &mut Session, args: &[Expr], types: &[PgType]) -> Result<Vec<Datum>> {
    if args.is_empty() {
        return Ok(vec![]);
    }
    let items: Vec<String> = args
        .iter()
        .zip(types)
        .map(|(a, t)| format!("CAST(({a}) AS {})", t.display_name()))
        .collect();
    let sql = format!("SELECT {}", items.join(", "));
    let mut parsed = crate::exec::parse_script(&sql)?;
    let Some(one) = parsed.pop().filter(|_| parsed.is_empty()) else {
        return Err(Error::Syntax("EXECUTE arguments".into()));
    };
    let p = sess.prepare_with(one, &[])?;
    let mut row = None;
    sess.dispatch(&p, &[], &mut |r| {
        row = Some(r);
        Ok(())
    })?;
    row.ok_or_else(|| Error::Internal("EXECUTE arguments gave no row".into()))
}
