//! `generate_series(start, stop[, step])` in FROM over other than
//! integers: numerics here (any argument numeric, as PostgreSQL resolves
//! the call), timestamps in `interval`. Each becomes a subquery over
//! SQLite's series of indexes, each value computed from its index
//! (`store::udf::numeric`, `store::udf::interval`), named as PostgreSQL
//! names the column.

use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, TableFactor};

use super::Typer;
use crate::error::Result;
use crate::types::PgType;

/// The arguments of `generate_series(…)` in FROM, when `tf` is one whose
/// arguments are all plain expressions.
pub(super) fn series_arguments(tf: &TableFactor) -> Option<Vec<Expr>> {
    let TableFactor::Table {
        name,
        args: Some(args),
        ..
    } = tf
    else {
        return None;
    };
    let fname = crate::sql::object_name(name);
    if fname.strip_prefix("pg_catalog.").unwrap_or(&fname) != "generate_series" {
        return None;
    }
    args.args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// Make `tf` the subquery of SQLite's series `source` (of indexes named
/// `value`), each row `value` (SQL over the index), keeping `tf`'s alias
/// and WITH ORDINALITY.
pub(super) fn series_from(tf: &mut TableFactor, source: &str, value: &str) -> Result<()> {
    let (alias, with_ordinality) = match tf {
        TableFactor::Table {
            alias,
            with_ordinality,
            ..
        } => (alias.clone(), *with_ordinality),
        _ => return Ok(()),
    };
    *tf = crate::sql::rewrite::pg_catalog::series_subquery(
        alias.as_ref(),
        with_ordinality,
        &crate::sql::rewrite::pg_catalog::Series {
            source,
            value,
            ordinal: "value + 1",
            default_col: "generate_series",
        },
    )?;
    Ok(())
}

impl Typer<'_> {
    pub(super) fn numeric_series(&mut self, tf: &mut TableFactor) -> Result<()> {
        let Some(exprs) = series_arguments(tf).filter(|e| (2..=3).contains(&e.len())) else {
            return Ok(());
        };
        // The series of indexes this builds is of integers.
        let built = |e: &Expr| matches!(e, Expr::Function(f) if crate::sql::object_name(&f.name) == "pg_numeric_series_last");
        if built(&exprs[1]) {
            return Ok(());
        }
        if !exprs
            .iter()
            .any(|e| matches!(self.type_of(e), PgType::Numeric(_)))
        {
            return Ok(());
        }
        let numeric = |e: &Expr| format!("CAST(({e}) AS numeric)");
        let (start, stop) = (numeric(&exprs[0]), numeric(&exprs[1]));
        let step = exprs
            .get(2)
            .map_or_else(|| "CAST(1 AS numeric)".to_string(), numeric);
        series_from(
            tf,
            &format!(
                "generate_series(0, pg_numeric_series_last({start}, {stop}, {step})) AS mosaic_series"
            ),
            &format!("pg_numeric_series_at({start}, {step}, value)"),
        )
    }
}
