//! Generated columns, `GENERATED ALWAYS AS (expr) STORED`: PostgreSQL's
//! checks on the expression, its SQLite form and its text in the
//! catalogs. The open segment computes the column as a SQLite stored
//! generated column of the same expression, on every INSERT and UPDATE
//! (`store::segment`); sealed shards store the values computed then, so
//! reads need nothing more.
//!
//! The expression is typed as a query would type it and must give the
//! column's type, or one converted to it exactly (integers of another
//! width, checked against the column's range; an integer or numeric to a
//! numeric or an integer; anything to text or unbounded varchar):
//! anything else PostgreSQL would convert by an assignment cast is refused
//! with 0A000 rather than stored differently.

use std::ops::ControlFlow;
use std::sync::Arc;

use sqlparser::ast::Expr;

use crate::error::{Error, Result};
use crate::sql::{ident_name, object_name};
use crate::types::table::{Column, TableDef};
use crate::types::PgType;

/// The catalog a generation expression sees: its own table only.
struct OwnTable<'a>(&'a TableDef);

impl crate::sql::Schema for OwnTable<'_> {
    fn table(&self, name: &str) -> Option<Arc<TableDef>> {
        (name == self.0.name).then(|| Arc::new(self.0.clone()))
    }
}

/// Check every generated column of `def` as PostgreSQL checks it when the
/// table is created or altered.
pub fn validate(def: &TableDef) -> Result<()> {
    for col in def.columns.iter().filter(|c| c.generated.is_some()) {
        check(def, col)?;
        expression(def, col)?;
    }
    Ok(())
}

/// What PostgreSQL refuses in a generation expression: subqueries,
/// aggregates, window functions, functions that are not IMMUTABLE, and
/// columns that do not exist or are generated themselves.
fn check(def: &TableDef, col: &Column) -> Result<()> {
    let text = col.generated.as_deref().unwrap_or_default();
    let e = crate::sql::parse_expr(text)?;
    let column = |name: &str| -> Result<()> {
        match def.column_index(name).map(|i| &def.columns[i]) {
            None => Err(Error::NoSuchColumn(name.to_string())),
            Some(c) if c.generated.is_some() => Err(Error::InvalidObjectDefinition(format!(
                "cannot use generated column \"{name}\" in column generation expression"
            ))
            .with_detail("A generated column cannot reference another generated column.")),
            Some(_) => Ok(()),
        }
    };
    let found = sqlparser::ast::visit_expressions(&e, |e| {
        let refused = match e {
            Expr::Subquery(_)
            | Expr::Exists { .. }
            | Expr::In {
                target: sqlparser::ast::InTarget::Subquery(_),
                ..
            } => Err(Error::NotSupported(
                "cannot use subquery in column generation expression".into(),
            )),
            Expr::Identifier(id) => column(&ident_name(id)),
            Expr::CompoundIdentifier(ids) => match ids.as_slice() {
                [t, c] if ident_name(t) == def.name => column(&ident_name(c)),
                _ => Err(Error::Unsupported(format!(
                    "column reference {e} in a generation expression"
                ))),
            },
            Expr::Function(f) => function(f),
            _ => Ok(()),
        };
        match refused {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => ControlFlow::Break(err),
        }
    });
    match found {
        ControlFlow::Break(err) => Err(err),
        ControlFlow::Continue(()) => Ok(()),
    }
}

fn function(f: &sqlparser::ast::Function) -> Result<()> {
    let name = object_name(&f.name);
    let bare = name.trim_start_matches("pg_catalog.");
    if f.over.is_some() {
        return Err(Error::Windowing(
            "window functions are not allowed in column generation expressions".into(),
        ));
    }
    if crate::sql::validate::is_aggregate_name(bare) {
        return Err(Error::Grouping(
            "aggregate functions are not allowed in column generation expressions".into(),
        ));
    }
    if crate::sql::VOLATILE.contains(&bare) || crate::sql::index_expr::not_immutable(bare) {
        return Err(Error::InvalidObjectDefinition(
            "generation expression is not immutable".into(),
        ));
    }
    Ok(())
}

/// Column `col`'s generation expression, typed and converted to the
/// column's type, in PostgreSQL SQL.
fn expression(def: &TableDef, col: &Column) -> Result<Expr> {
    let text = col.generated.as_deref().unwrap_or_default();
    let e = crate::sql::parse_expr(text)?;
    let from = type_in(def, text)?;
    refuse_setting_text(def, col, &e)?;
    let int = |t: &PgType| matches!(t, PgType::Int2 | PgType::Int4 | PgType::Int8);
    let to = &col.ty;
    if from == *to || (int(&from) && int(to)) {
        return Ok(e);
    }
    let converts = match to {
        PgType::Numeric(_) => int(&from) || matches!(from, PgType::Numeric(_)),
        PgType::Int2 | PgType::Int4 | PgType::Int8 => matches!(from, PgType::Numeric(_)),
        // A value's text is its output, by either kind of cast, where no
        // session setting changes it.
        PgType::Text | PgType::Varchar(None) => !setting_text(&from),
        _ => false,
    };
    if !converts {
        return Err(Error::Unsupported(format!(
            "generated column \"{}\" of type {} from an expression of type {}",
            col.name,
            to.display_name(),
            match from {
                PgType::Unknown => "unknown".to_string(),
                f => f.display_name(),
            }
        )));
    }
    crate::sql::infer::cast_to(e, to)
}

/// The type of expression `text` over `def`'s columns, as a query types it.
fn type_in(def: &TableDef, text: &str) -> Result<PgType> {
    let query = format!("SELECT ({text}) FROM {}", crate::types::quote(&def.name));
    let stmt = crate::sql::parse(&query)?
        .pop()
        .ok_or_else(|| Error::Internal("empty statement".into()))?;
    Ok(
        crate::sql::infer::result_columns(&stmt, &OwnTable(def), &[])?
            .pop()
            .map_or(PgType::Unknown, |(_, t)| t),
    )
}

/// Types whose text depends on a session setting (DateStyle, TimeZone,
/// IntervalStyle, extra_float_digits, bytea_output): computed once when a
/// row is written, their text would be the writing session's.
fn setting_text(t: &PgType) -> bool {
    matches!(
        t,
        PgType::Date
            | PgType::Time
            | PgType::Timestamp
            | PgType::Timestamptz
            | PgType::Interval
            | PgType::Float4
            | PgType::Float8
            | PgType::Bytea
    )
}

/// A cast to text of such a value inside the expression is refused
/// (PostgreSQL refuses the date and time ones as not immutable, 42P17;
/// it takes the float ones, and keeps the writing session's digits).
fn refuse_setting_text(def: &TableDef, col: &Column, e: &Expr) -> Result<()> {
    let mut casts = Vec::new();
    let _ = sqlparser::ast::visit_expressions(e, |x| {
        if let Expr::Cast {
            expr, data_type, ..
        } = x
        {
            let to = PgType::from_sql(data_type).unwrap_or(PgType::Unknown);
            if matches!(to, PgType::Text | PgType::Varchar(_) | PgType::Bpchar(_)) {
                casts.push(expr.to_string());
            }
        }
        ControlFlow::<()>::Continue(())
    });
    for inner in casts {
        let t = type_in(def, &inner)?;
        if setting_text(&t) {
            return Err(Error::Unsupported(format!(
                "generated column \"{}\" casting a value of type {} to text (its text depends on session settings)",
                col.name,
                t.display_name()
            )));
        }
    }
    Ok(())
}

/// Column `col`'s generation expression in SQLite SQL, for the open
/// segment's `GENERATED ALWAYS AS (…) STORED`.
pub fn to_sqlite(def: &TableDef, col: &Column) -> Result<String> {
    check(def, col)?;
    let mut e = expression(def, col)?;
    let cols: Vec<(String, PgType)> = def
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.clone()))
        .collect();
    crate::sql::infer::type_numeric_expr(&mut e, cols)?;
    crate::sql::rewrite::expr_to_sqlite(&mut e)?;
    Ok(e.to_string())
}

/// The expression as PostgreSQL's `pg_get_expr` prints it: exactly, for
/// the forms `sql::index_expr` prints; otherwise as it was written, in
/// parentheses (PostgreSQL would add its casts).
pub fn shown(def: &TableDef, text: &str) -> String {
    match crate::sql::index_expr::expr_text(text, def) {
        Ok(t) => t,
        Err(_) => format!("({text})"),
    }
}
