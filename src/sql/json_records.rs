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

/// A FROM item's function name, its last part in lower case.
fn function_name(name: &sqlparser::ast::ObjectName) -> String {
    name.0
        .last()
        .map(|p| p.to_string().to_ascii_lowercase())
        .unwrap_or_default()
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
    let fname = function_name(name);
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
        let field =
            format!("pg_json_field(\"mosaic_rec\".value, '{key}', '{fname}', {jsonb}, {as_json})");
        // A length is checked as input checks it (too long is 22001),
        // where a cast would cut the text.
        let value = match ty {
            PgType::Varchar(Some(_)) | PgType::Bpchar(Some(_)) => format!(
                "CAST(pg_assign_text({field}, '{}') AS {dt})",
                crate::types::cast_spec(&ty)
            ),
            _ => format!("CAST({field} AS {dt})"),
        };
        items.push(format!("{value} AS {}", c.name));
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

/// `json[b]_populate_record(set)(NULL::t, doc)` in FROM: the
/// `json[b]_to_record(set)` of `doc` with `t`'s columns and their types
/// (a NULL base gives the keys a document lacks NULL, as `to_record`
/// does), named as PostgreSQL names them. A base other than NULL, and a
/// column list renaming the columns, are 0A000.
pub fn populate(stmt: &mut Statement, catalog: &dyn super::Schema) -> Result<()> {
    struct Populate<'a> {
        catalog: &'a dyn super::Schema,
    }
    impl VisitorMut for Populate<'_> {
        type Break = Error;
        fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<Error> {
            match populate_factor(tf, self.catalog) {
                Ok(Some(new)) => *tf = new,
                Ok(None) => {}
                Err(e) => return ControlFlow::Break(e),
            }
            ControlFlow::Continue(())
        }
    }
    match stmt.visit(&mut Populate { catalog }) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

fn populate_factor(tf: &TableFactor, catalog: &dyn super::Schema) -> Result<Option<TableFactor>> {
    let TableFactor::Table {
        name,
        alias,
        args: Some(args),
        ..
    } = tf
    else {
        return Ok(None);
    };
    let fname = function_name(name);
    let Some(to) = fname
        .strip_suffix("populate_record")
        .map(|p| format!("{p}to_record"))
        .or_else(|| {
            fname
                .strip_suffix("populate_recordset")
                .map(|p| format!("{p}to_recordset"))
        })
        .filter(|_| fname.starts_with("json"))
    else {
        return Ok(None);
    };
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(base)), doc] = args.args.as_slice() else {
        return Err(Error::NoSuchFunction(format!(
            "{fname} with {} arguments",
            args.args.len()
        )));
    };
    let Expr::Cast {
        expr, data_type, ..
    } = base
    else {
        return Err(Error::Unsupported(format!(
            "{fname} with a base other than NULL::type"
        )));
    };
    if !matches!(expr.as_ref(), Expr::Value(v) if matches!(v.value, sqlparser::ast::Value::Null)) {
        return Err(Error::Unsupported(format!(
            "{fname} with a base other than NULL"
        )));
    }
    let type_name = data_type.to_string();
    let type_name = type_name.trim_matches('"').to_string();
    let def = catalog
        .table(&type_name)
        .or_else(|| catalog.view(&type_name))
        .ok_or_else(|| Error::Unsupported(format!("{fname} of type {type_name}")))?;
    if alias.as_ref().is_some_and(|a| !a.columns.is_empty()) {
        return Err(Error::Unsupported(format!(
            "{fname} with a column list renaming the columns"
        )));
    }
    let mut columns = Vec::new();
    for c in &def.columns {
        let Expr::Cast { data_type, .. } =
            super::parse_expr(&format!("CAST(NULL AS {})", c.ty.display_name()))?
        else {
            return Err(Error::Internal("a type did not parse".into()));
        };
        columns.push(sqlparser::ast::TableAliasColumnDef {
            name: sqlparser::ast::Ident::with_quote('"', c.name.clone()),
            data_type: Some(data_type),
        });
    }
    let alias = sqlparser::ast::TableAlias {
        explicit: true,
        name: alias
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_else(|| sqlparser::ast::Ident::new(fname.clone())),
        columns,
        at: None,
    };
    let mut to_factor = tf.clone();
    if let TableFactor::Table {
        name,
        alias: a,
        args: Some(args),
        ..
    } = &mut to_factor
    {
        *name = sqlparser::ast::ObjectName::from(vec![sqlparser::ast::Ident::new(to)]);
        *a = Some(alias);
        args.args = vec![doc.clone()];
    }
    record_factor(&to_factor)
}
