//! `INTERSECT ALL` and `EXCEPT ALL`, which SQLite lacks, in terms of the
//! forms it has: each row is numbered among its duplicates
//! (`row_number() OVER (PARTITION BY every column)`), so that the n-th copy
//! of a row on the left meets the n-th copy on the right, and the plain
//! INTERSECT/EXCEPT of the numbered rows keeps PostgreSQL's counts:
//! min(l, r) copies for INTERSECT ALL, max(l − r, 0) for EXCEPT ALL.
//! Partitions and set operations both take NULLs as equal, as PostgreSQL's
//! set operations do, and a column keeps the collation its type sorts by
//! (numeric's, jsonb's, …) through the CTE it is read from.

use sqlparser::ast::{Expr, Query, SelectItem, SetExpr, SetOperator, SetQuantifier, Statement};

use crate::error::{Error, Result};

/// Replace `body`, if it is `a INTERSECT ALL b` or `a EXCEPT ALL b`, by a
/// SELECT that gives the same rows under the same column names.
pub(super) fn rewrite(body: &mut SetExpr) -> Result<()> {
    let SetExpr::SetOperation {
        left,
        op,
        set_quantifier: SetQuantifier::All,
        right,
    } = body
    else {
        return Ok(());
    };
    if !matches!(op, SetOperator::Intersect | SetOperator::Except) {
        return Ok(());
    }
    let names = output_names(left)
        .ok_or_else(|| Error::Unsupported(format!("{op} ALL over a select list with *")))?;
    let cols: Vec<String> = (1..=names.len()).map(|i| format!("_c{i}")).collect();
    let list = cols.join(", ");
    let numbered =
        |from: &str| format!("SELECT {list}, row_number() OVER (PARTITION BY {list}) FROM {from}");
    let outer: Vec<String> = cols
        .iter()
        .zip(&names)
        .map(|(c, n)| match n {
            Some(n) => format!("{c} AS {}", crate::types::quote(n)),
            None => c.clone(),
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM (WITH _mosaic_l({list}) AS ({left}), _mosaic_r({list}) AS ({right}) \
         {} {op} {}) AS _mosaic_setop",
        outer.join(", "),
        numbered("_mosaic_l"),
        numbered("_mosaic_r"),
    );
    match crate::sql::parse(&sql)?.pop() {
        Some(Statement::Query(q)) => {
            let Query { body: new, .. } = *q;
            *body = *new;
            Ok(())
        }
        _ => Err(Error::Internal(format!("{op} ALL did not parse"))),
    }
}

/// The output column names of a query body, as its leftmost SELECT gives
/// them (`None` for an expression without a name); `None` when a `*`
/// leaves the width unknown here.
fn output_names(body: &SetExpr) -> Option<Vec<Option<String>>> {
    match body {
        SetExpr::Select(s) => s
            .projection
            .iter()
            .map(|item| match item {
                SelectItem::ExprWithAlias { alias, .. } => {
                    Some(Some(crate::sql::ident_name(alias)))
                }
                SelectItem::UnnamedExpr(Expr::Identifier(id)) => {
                    Some(Some(crate::sql::ident_name(id)))
                }
                SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => {
                    Some(parts.last().map(crate::sql::ident_name))
                }
                SelectItem::UnnamedExpr(_) => Some(None),
                _ => None,
            })
            .collect(),
        SetExpr::SetOperation { left, .. } => output_names(left),
        SetExpr::Query(q) => output_names(&q.body),
        SetExpr::Values(v) => Some(vec![None; v.rows.first()?.len()]),
        _ => None,
    }
}
