//! `… ORDER BY k FETCH FIRST n ROWS WITH TIES` (after `OFFSET m`): the
//! rows after the first m, up to the (m+n)th, and every row that ties
//! with it on the ORDER BY keys, as a query SQLite runs:
//!
//! ```text
//! SELECT c1 AS name1, … FROM (
//!     SELECT items…, order keys…, rank() OVER (ORDER BY …), row_number() OVER (ORDER BY …)
//!     FROM … WHERE … GROUP BY … HAVING …
//! ) AS _mosaic_ties(c1, …, o1, …, rk, rn)
//! WHERE rn > m AND rk <= m + n ORDER BY o1, …
//! ```
//!
//! A row's rank is the position of the first row of its peers, so it is
//! kept exactly when its peers begin within the first m + n rows.

use sqlparser::ast::{Expr, LimitClause, OrderByExpr, OrderByKind, SelectItem, SetExpr, Statement};

use crate::error::{Error, Result};
use crate::sql::distinct_on::{expand_wildcard, outer_order, output_columns, target};

const ALIAS: &str = "_mosaic_ties";

/// Rewrite `stmt`'s own query if it fetches WITH TIES; `names` are the
/// statement's result column names.
pub fn expand(stmt: &mut Statement, names: &[String]) -> Result<()> {
    match stmt {
        Statement::Query(q) => expand_query(q, names),
        _ => Ok(()),
    }
}

/// Rewrite `q` if it is such a query; `names` are its result column names.
pub fn expand_query(q: &mut sqlparser::ast::Query, names: &[String]) -> Result<()> {
    let Some(fetch) = q.fetch.as_ref().filter(|f| f.with_ties) else {
        return Ok(());
    };
    if fetch.percent {
        return Err(Error::Unsupported("FETCH … PERCENT".into()));
    }
    let count = fetch
        .quantity
        .clone()
        .unwrap_or_else(|| Expr::Value(sqlparser::ast::Value::Number("1".into(), false).into()));
    let SetExpr::Select(sel) = q.body.as_ref() else {
        return Err(Error::Unsupported("WITH TIES over a set operation".into()));
    };
    if sel.distinct.is_some() {
        return Err(Error::Unsupported("WITH TIES with DISTINCT".into()));
    }
    let mut sel = sel.clone();
    expand_wildcard(&mut sel, names, "WITH TIES")?;
    let order: Vec<OrderByExpr> = match q.order_by.as_ref().map(|o| &o.kind) {
        Some(OrderByKind::Expressions(list)) if !list.is_empty() => list
            .iter()
            .map(|o| {
                Ok(OrderByExpr {
                    expr: target(&o.expr, &sel.projection)?,
                    ..o.clone()
                })
            })
            .collect::<Result<_>>()?,
        _ => {
            return Err(Error::Syntax(
                "WITH TIES cannot be specified without ORDER BY clause".into(),
            ))
        }
    };
    let offset = match &q.limit_clause {
        None => "0".to_string(),
        Some(LimitClause::LimitOffset {
            limit: None,
            offset,
            limit_by,
        }) if limit_by.is_empty() => offset
            .as_ref()
            .map_or_else(|| "0".to_string(), |o| format!("({})", o.value)),
        Some(_) => return Err(Error::Unsupported("LIMIT with FETCH … WITH TIES".into())),
    };
    let n = sel.projection.len();
    let mut inner = *sel;
    for (i, o) in order.iter().enumerate() {
        inner.projection.push(SelectItem::ExprWithAlias {
            expr: o.expr.clone(),
            alias: sqlparser::ast::Ident::new(format!("_o{}", i + 1)),
        });
    }
    let window: Vec<String> = order.iter().map(ToString::to_string).collect();
    for f in ["rank", "row_number"] {
        let w = crate::sql::parse_expr(&format!("{f}() OVER (ORDER BY {})", window.join(", ")))?;
        inner.projection.push(SelectItem::UnnamedExpr(w));
    }
    let mut columns: Vec<String> = (1..=n).map(|i| format!("_c{i}")).collect();
    columns.extend((1..=order.len()).map(|i| format!("_o{i}")));
    columns.push("_rk".into());
    columns.push("_rn".into());
    let outer_items = output_columns(names, n);
    let outer_sort = outer_order(&order);
    let sql = format!(
        "SELECT {} FROM ({inner}) AS {ALIAS}({}) WHERE _rn > {offset} AND _rk <= {offset} + ({count}) ORDER BY {}",
        outer_items.join(", "),
        columns.join(", "),
        outer_sort.join(", ")
    );
    let Some(Statement::Query(mut new)) = crate::sql::parse(&sql)?.pop() else {
        return Err(Error::Internal("WITH TIES rewrite did not parse".into()));
    };
    new.with = q.with.take();
    new.locks = std::mem::take(&mut q.locks);
    *q = *new;
    Ok(())
}
