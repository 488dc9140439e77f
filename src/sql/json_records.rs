//! `json_to_record`, `jsonb_to_record`, `json_to_recordset` and
//! `jsonb_to_recordset` in FROM, with their column definition list
//! (`AS t(a int, b text)`): each becomes a subquery over the document's
//! objects (`jsonb_array_elements` for a set) whose columns read each
//! field as PostgreSQL's `populate_record` does (`pg_json_field`: a
//! string's own text, other values as JSON text, JSON null as NULL) and
//! cast it to the declared type, with that type's input errors.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, Statement, TableFactor, Visit, VisitMut, Visitor,
    VisitorMut,
};

use crate::error::{Error, Result};
use crate::types::PgType;

const FUNCTIONS: &[&str] = &[
    "json_to_record",
    "jsonb_to_record",
    "json_to_recordset",
    "jsonb_to_recordset",
];

/// Every record function in `stmt`'s FROM lists as its subquery.
pub(super) fn json_records(stmt: &mut Statement) -> Result<()> {
    struct Records;
    impl VisitorMut for Records {
        type Break = Error;
        fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<Error> {
            match record_factor(tf) {
                Ok(Some(new)) => *tf = new,
                Ok(None) => {}
                Err(e) => return ControlFlow::Break(e),
            }
            ControlFlow::Continue(())
        }
    }
    match stmt.visit(&mut Records) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// Whether `e` names a column anywhere (such a document would need the
/// FROM items before it, which a subquery cannot see).
fn names_a_column(e: &Expr) -> bool {
    struct Columns;
    impl Visitor for Columns {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            match e {
                Expr::Identifier(_) | Expr::CompoundIdentifier(_) => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        }
    }
    e.visit(&mut Columns).is_break()
}

fn record_factor(tf: &TableFactor) -> Result<Option<TableFactor>> {
    let TableFactor::Table {
        name,
        alias,
        args: Some(args),
        with_ordinality,
        ..
    } = tf
    else {
        return Ok(None);
    };
    let fname = name
        .0
        .last()
        .map(|p| p.to_string().to_ascii_lowercase())
        .unwrap_or_default();
    if !FUNCTIONS.contains(&fname.as_str()) {
        return Ok(None);
    }
    if *with_ordinality {
        return Err(Error::Unsupported(format!("{fname} WITH ORDINALITY")));
    }
    let defs = alias
        .as_ref()
        .map(|a| a.columns.as_slice())
        .unwrap_or_default();
    let (Some(alias), false) = (
        alias,
        defs.is_empty() || defs.iter().any(|c| c.data_type.is_none()),
    ) else {
        return Err(Error::Syntax(
            "a column definition list is required for functions returning \"record\"".into(),
        ));
    };
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(doc))] = args.args.as_slice() else {
        return Err(Error::NoSuchFunction(format!(
            "{fname} with {} arguments",
            args.args.len()
        )));
    };
    if names_a_column(doc) {
        return Err(Error::Unsupported(format!(
            "{fname} of a column (of another FROM item)"
        )));
    }
    let jsonb = fname.starts_with("jsonb");
    let doc_type = if jsonb { "jsonb" } else { "json" };
    let mut items = Vec::with_capacity(defs.len());
    for c in defs {
        let Some(dt) = &c.data_type else { continue };
        let ty = PgType::from_sql(dt)?;
        if matches!(ty, PgType::Array(_)) {
            return Err(Error::Unsupported(format!(
                "{fname} with a column of type {}",
                ty.display_name()
            )));
        }
        let as_json = matches!(ty, PgType::Json | PgType::Jsonb);
        let key = c.name.value.replace('\'', "''");
        items.push(format!(
            "CAST(pg_json_field(\"mosaic_rec\".value, '{key}', '{fname}', {jsonb}, {as_json}) AS {dt}) AS {}",
            c.name
        ));
    }
    let source = if fname.ends_with("set") {
        format!(
            "{doc_type}_array_elements(pg_json_records(CAST({doc} AS {doc_type}), '{fname}')) AS \"mosaic_rec\""
        )
    } else {
        format!("(SELECT pg_json_records(CAST({doc} AS {doc_type}), '{fname}') AS value) AS \"mosaic_rec\"")
    };
    let sql = format!(
        "SELECT * FROM (SELECT {} FROM {source}) AS {}",
        items.join(", "),
        alias.name
    );
    let Some(Statement::Query(q)) = super::parse(&sql)?.pop() else {
        return Err(Error::Internal("a record function did not parse".into()));
    };
    let sqlparser::ast::SetExpr::Select(sel) = *q.body else {
        return Err(Error::Internal("a record function did not parse".into()));
    };
    Ok(sel.from.into_iter().next().map(|t| t.relation))
}
