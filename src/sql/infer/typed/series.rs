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
    /// `generate_series(start, stop[, step])` of timestamps (or dates) or
    /// of numerics in a SELECT list: `pg_<kind>_generate_series` of its
    /// arguments as that kind reads them, which
    /// `sql::rewrite::pg_catalog::select_srf` expands over positions as it
    /// does a series of integers. True when `e` was one.
    pub(super) fn series_call(&mut self, e: &mut Expr, name: &str) -> Result<bool> {
        let Expr::Function(f) = e else {
            return Ok(false);
        };
        if name != "generate_series" || f.over.is_some() {
            return Ok(false);
        }
        let args: Vec<Expr> = super::expr::arg_exprs(f)
            .into_iter()
            .map(|x| x.clone())
            .collect();
        let (start, stop, step, kind) = match self.timestamp_series_parts(&args)? {
            Some((a, b, s, k)) => (a.to_string(), b.to_string(), s.to_string(), k),
            None => match self.numeric_series_parts(&args) {
                Some((a, b, s)) => (a, b, s, "numeric"),
                None => return Ok(false),
            },
        };
        *e = crate::sql::parse_expr(&format!(
            "pg_{kind}_generate_series({start}, {stop}, {step})"
        ))?;
        Ok(true)
    }

    /// The arguments of a `generate_series` of numerics (any argument
    /// numeric, as PostgreSQL resolves the call), each cast to numeric.
    fn numeric_series_parts(&mut self, exprs: &[Expr]) -> Option<(String, String, String)> {
        if !(2..=3).contains(&exprs.len())
            || !exprs
                .iter()
                .any(|e| matches!(self.type_of(e), PgType::Numeric(_)))
        {
            return None;
        }
        let numeric = |e: &Expr| format!("CAST(({e}) AS numeric)");
        let step = exprs
            .get(2)
            .map_or_else(|| "CAST(1 AS numeric)".to_string(), numeric);
        Some((numeric(&exprs[0]), numeric(&exprs[1]), step))
    }

    pub(super) fn numeric_series(&mut self, tf: &mut TableFactor) -> Result<()> {
        let Some(exprs) = series_arguments(tf).filter(|e| (2..=3).contains(&e.len())) else {
            return Ok(());
        };
        // The series of indexes this builds is of integers.
        let built = |e: &Expr| matches!(e, Expr::Function(f) if crate::sql::object_name(&f.name) == "pg_numeric_series_last");
        if built(&exprs[1]) {
            return Ok(());
        }
        let Some((start, stop, step)) = self.numeric_series_parts(&exprs) else {
            return Ok(());
        };
        series_from(
            tf,
            &format!(
                "generate_series(0, pg_numeric_series_last({start}, {stop}, {step})) AS mosaic_series"
            ),
            &format!("pg_numeric_series_at({start}, {step}, value)"),
        )
    }
}
