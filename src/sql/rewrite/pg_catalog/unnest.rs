//! `unnest` of several arrays in FROM, as the typed step leaves it: each
//! array followed by its elements' family (`types::array::Family`), and
//! `unnest` of a column of another FROM item (lateral).

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, SetExpr, Statement, TableFactor};

use crate::error::{Error, Result};

/// `unnest(a, 'fa', b, 'fb', …)` in FROM (arrays the typed step gave
/// their families): one row per position of the longest, the shorter
/// ones padded with NULLs, one column per array (each named `unnest`
/// unless the alias names them).
pub(super) fn several(
    list: &[FunctionArg],
    alias: Option<&sqlparser::ast::TableAlias>,
    with_ordinality: bool,
) -> Result<TableFactor> {
    if !list.len().is_multiple_of(2) {
        return Err(Error::Unsupported(
            "unnest of several arrays of these types".into(),
        ));
    }
    let arrays: Vec<String> = list.iter().step_by(2).map(ToString::to_string).collect();
    let named = |i: usize| alias.and_then(|a| a.columns.get(i).map(|c| c.name.to_string()));
    let mut cols: Vec<String> = list
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| {
            format!(
                "pg_array_get({}, p.value, {}) AS {}",
                pair[0],
                pair[1],
                named(i).unwrap_or_else(|| format!("unnest_{i}"))
            )
        })
        .collect();
    if with_ordinality {
        let name = named(arrays.len()).unwrap_or_else(|| "ordinality".into());
        cols.push(format!("p.value AS {name}"));
    }
    let alias_name = alias.map_or_else(|| "unnest".to_string(), |a| a.name.to_string());
    let sql = format!(
        "SELECT * FROM (SELECT {} FROM json_each(pg_array_positions({})) AS p) AS {alias_name}",
        cols.join(", "),
        arrays.join(", ")
    );
    let Some(Statement::Query(q)) = crate::sql::parse(&sql)?.pop() else {
        return Err(Error::Internal("unnest did not parse".into()));
    };
    let sqlparser::ast::SetExpr::Select(sel) = *q.body else {
        return Err(Error::Internal("unnest did not parse".into()));
    };
    sel.from
        .into_iter()
        .next()
        .map(|twj| twj.relation)
        .ok_or_else(|| Error::Internal("unnest did not parse".into()))
}

/// The alias prefix of a lateral `unnest`'s `json_each` row.
pub const LATERAL_PREFIX: &str = "mosaic_lat_";

/// Whether the arguments of an `unnest` in FROM read columns (of another
/// FROM item, or of an outer query): it is then a `json_each` of its
/// own, which can see them, rather than a subquery, which cannot
/// (`sql::infer::typed::lateral` reads its columns).
pub fn is_lateral_unnest(args: &[FunctionArg]) -> bool {
    reads_columns(args, 2)
}

/// Whether a `generate_series` in FROM reads columns of the FROM items
/// before it (`FROM t, generate_series(1, t.n) AS g`).
pub fn is_lateral_series(args: &[FunctionArg]) -> bool {
    reads_columns(args, 1)
}

/// Whether a `json_each(…)` in FROM is SQLite's, as this module writes it
/// (over one of its own functions), rather than PostgreSQL's json
/// function of that name.
pub(super) fn is_internal_json_each(args: &[FunctionArg]) -> bool {
    matches!(args, [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Function(f)))]
    if matches!(
        crate::sql::object_name(&f.name).as_str(),
        "pg_array_json"
            | "pg_json_items"
            | "pg_array_positions"
            | "pg_listening_channels_json"
            // A LATERAL subquery's rows (`sql::infer::typed::lateral`):
            // PostgreSQL has no function json.
            | "json"
    ))
}

/// Whether the typed step gave each array of an `unnest` its family (a
/// string after each).
pub(super) fn has_families(args: &[FunctionArg]) -> bool {
    args.len().is_multiple_of(2)
        && args.iter().skip(1).step_by(2).all(|a| {
            matches!(a, FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))
                if matches!(v.value, sqlparser::ast::Value::SingleQuotedString(_)))
        })
}

/// Whether the arguments (every `step`th: an `unnest`'s arrays are every
/// other one) read columns.
fn reads_columns(args: &[FunctionArg], step: usize) -> bool {
    args.iter().step_by(step).any(|a| match a {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => {
            let mut reads = false;
            let _ = sqlparser::ast::visit_expressions(x, |e| {
                if matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
                    reads = true;
                }
                ControlFlow::<()>::Continue(())
            });
            reads
        }
        _ => false,
    })
}

/// A lateral `unnest(a, 'fa', …)` as the `json_each` row its columns are
/// read from (`sql::infer::typed::lateral` reads them).
pub(super) fn lateral(
    args: &[FunctionArg],
    alias: Option<&sqlparser::ast::TableAlias>,
) -> Result<TableFactor> {
    // The typed step gave each array its family.
    let arrays: Vec<String> = args.iter().step_by(2).map(ToString::to_string).collect();
    let source = match arrays.as_slice() {
        [one] => format!("json_each(pg_array_json({one}))"),
        many => format!("json_each(pg_array_positions({}))", many.join(", ")),
    };
    row_factor(&source, "unnest", alias)
}

/// A `generate_series(a, b[, step])` of integers reading earlier FROM
/// items, as SQLite's series of its positions (0 up to
/// `pg_series_last`), which `sql::infer::typed::lateral` reads as
/// `a + step * value`.
pub(super) fn lateral_series(
    args: &[FunctionArg],
    alias: Option<&sqlparser::ast::TableAlias>,
) -> Result<TableFactor> {
    let (a, b, step) = super::series_args(args)?.texts();
    let last = format!("pg_series_last({a}, {b}, {step})");
    row_factor(
        &format!("generate_series(0, {last})"),
        "generate_series",
        alias,
    )
}

/// A set-returning json function in FROM (`jsonb_each(d) AS e`) as the
/// `json_each` walk of its rows (`pg_json_items`), which
/// `sql::infer::typed::lateral` reads.
pub(super) fn json_rows(
    fname: &str,
    args: &[FunctionArg],
    alias: Option<&sqlparser::ast::TableAlias>,
) -> Result<TableFactor> {
    let [doc] = args else {
        return Err(Error::NoSuchFunction(format!(
            "{fname} with {} arguments",
            args.len()
        )));
    };
    let source = format!("json_each(pg_json_items({doc}, '{fname}'))");
    row_factor(&source, fname, alias)
}

/// `source AS "mosaic_lat_<alias>"` as a FROM item.
fn row_factor(
    source: &str,
    default: &str,
    alias: Option<&sqlparser::ast::TableAlias>,
) -> Result<TableFactor> {
    let alias_name = alias.map_or_else(
        || default.to_string(),
        |a| match a.name.quote_style {
            None => a.name.value.to_lowercase(),
            Some(_) => a.name.value.clone(),
        },
    );
    let sql = format!(
        "SELECT 1 FROM {source} AS {}",
        sqlparser::ast::Ident::with_quote('"', format!("{LATERAL_PREFIX}{alias_name}"))
    );
    let Some(Statement::Query(q)) = crate::sql::parse(&sql)?.pop() else {
        return Err(Error::Internal("a table function did not parse".into()));
    };
    let SetExpr::Select(sel) = *q.body else {
        return Err(Error::Internal("a table function did not parse".into()));
    };
    sel.from
        .into_iter()
        .next()
        .map(|twj| twj.relation)
        .ok_or_else(|| Error::Internal("a table function did not parse".into()))
}
