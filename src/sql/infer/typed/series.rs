//! `generate_series(start, stop[, step])` of numerics in FROM (any
//! argument numeric, as PostgreSQL resolves the call): a subquery over
//! SQLite's series of indexes, each value `start + step * index`
//! (`store::udf::numeric`), named as PostgreSQL names the column.

use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, TableFactor};

use super::Typer;
use crate::error::Result;
use crate::types::PgType;

impl Typer<'_> {
    pub(super) fn numeric_series(&mut self, tf: &mut TableFactor) -> Result<()> {
        let TableFactor::Table {
            name,
            alias,
            args: Some(args),
            with_ordinality,
            ..
        } = tf
        else {
            return Ok(());
        };
        let fname = crate::sql::object_name(name);
        if fname.strip_prefix("pg_catalog.").unwrap_or(&fname) != "generate_series" {
            return Ok(());
        }
        let exprs: Vec<Expr> = (args.args.iter())
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                _ => None,
            })
            .collect();
        if !(2..=3).contains(&exprs.len()) || exprs.len() != args.args.len() {
            return Ok(());
        }
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
        let source = format!(
            "generate_series(0, pg_numeric_series_last({start}, {stop}, {step})) AS mosaic_series"
        );
        let value = format!("pg_numeric_series_at({start}, {step}, value)");
        let (alias, with_ordinality) = (alias.clone(), *with_ordinality);
        *tf = crate::sql::rewrite::pg_catalog::series_subquery(
            alias.as_ref(),
            with_ordinality,
            &crate::sql::rewrite::pg_catalog::Series {
                source: &source,
                value: &value,
                ordinal: "value + 1",
                default_col: "generate_series",
            },
        )?;
        Ok(())
    }
}
