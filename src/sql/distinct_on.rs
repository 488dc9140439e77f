//! `SELECT DISTINCT ON (k…) … ORDER BY …`, PostgreSQL's first row of each
//! group of equal keys in the ORDER BY's order, as a query SQLite runs:
//! the rows numbered within their group by a window, the first kept.
//!
//! ```text
//! SELECT c1 AS name1, … FROM (
//!     SELECT items…, order keys…, row_number() OVER (PARTITION BY k… ORDER BY …)
//!     FROM … WHERE … GROUP BY … HAVING …
//! ) AS _mosaic_distinct_on(c1, …, o1, …, rn)
//! WHERE rn = 1 ORDER BY o1, … LIMIT … OFFSET …
//! ```
//!
//! The statement's own query is rewritten with the statement's result
//! names; a query below it (`expand_nested`) with its own, where they can
//! be told on their own (a correlated subquery's cannot: it stays
//! refused).

use sqlparser::ast::{
    Distinct, Expr, Ident, OrderByExpr, OrderByKind, SelectItem, SetExpr, Statement, Value,
};

use crate::error::{Error, Result};

const ALIAS: &str = "_mosaic_distinct_on";

/// Rewrite `stmt`'s DISTINCT ON, if its own query has one; `names` are the
/// statement's result column names.
pub fn expand(stmt: &mut Statement, names: &[String]) -> Result<()> {
    match stmt {
        Statement::Query(q) => expand_query(q, names),
        _ => Ok(()),
    }
}

/// Rewrite `q` if it is such a query; `names` are its result column names.
pub fn expand_query(q: &mut sqlparser::ast::Query, names: &[String]) -> Result<()> {
    let SetExpr::Select(sel) = q.body.as_ref() else {
        return Ok(());
    };
    let Some(Distinct::On(on)) = &sel.distinct else {
        return Ok(());
    };
    let mut sel = sel.clone();
    expand_wildcard(&mut sel, names, "DISTINCT ON")?;
    let resolve = |e: &Expr| -> Result<Expr> { target(e, &sel.projection) };
    let keys: Vec<Expr> = on.iter().map(resolve).collect::<Result<_>>()?;
    let order: Vec<OrderByExpr> = match q.order_by.as_ref().map(|o| &o.kind) {
        Some(OrderByKind::Expressions(list)) => list
            .iter()
            .map(|o| {
                Ok(OrderByExpr {
                    expr: resolve(&o.expr)?,
                    ..o.clone()
                })
            })
            .collect::<Result<_>>()?,
        Some(OrderByKind::All(_)) => return Err(Error::Unsupported("ORDER BY ALL".into())),
        None => vec![],
    };
    check_leading(&keys, &order)?;
    // The output is sorted by the ORDER BY, then by the keys it leaves out.
    let mut sort = order.clone();
    for k in &keys {
        if !order.iter().any(|o| same(&o.expr, k)) {
            sort.push(OrderByExpr {
                expr: k.clone(),
                options: Default::default(),
                with_fill: None,
            });
        }
    }
    let mut inner = sel.as_ref().clone();
    inner.distinct = None;
    let n = inner.projection.len();
    for (i, o) in sort.iter().enumerate() {
        inner.projection.push(SelectItem::ExprWithAlias {
            expr: o.expr.clone(),
            alias: sqlparser::ast::Ident::new(format!("_o{}", i + 1)),
        });
    }
    let partition: Vec<String> = keys.iter().map(ToString::to_string).collect();
    let window_order: Vec<String> = sort.iter().map(ToString::to_string).collect();
    let rn = crate::sql::parse_expr(&format!(
        "row_number() OVER (PARTITION BY {}{})",
        partition.join(", "),
        if window_order.is_empty() {
            String::new()
        } else {
            format!(" ORDER BY {}", window_order.join(", "))
        }
    ))?;
    inner.projection.push(SelectItem::UnnamedExpr(rn));
    let mut columns: Vec<String> = (1..=n).map(|i| format!("_c{i}")).collect();
    columns.extend((1..=sort.len()).map(|i| format!("_o{i}")));
    columns.push("_rn".into());
    let outer_items = output_columns(names, n);
    let outer_sort = outer_order(&sort);
    let sql = format!(
        "SELECT {} FROM ({inner}) AS {ALIAS}({}) WHERE _rn = 1{}",
        outer_items.join(", "),
        columns.join(", "),
        if outer_sort.is_empty() {
            String::new()
        } else {
            format!(" ORDER BY {}", outer_sort.join(", "))
        }
    );
    let Some(Statement::Query(mut new)) = crate::sql::parse(&sql)?.pop() else {
        return Err(Error::Internal("DISTINCT ON rewrite did not parse".into()));
    };
    new.with = q.with.take();
    new.limit_clause = q.limit_clause.take();
    new.fetch = q.fetch.take();
    new.locks = std::mem::take(&mut q.locks);
    *q = *new;
    Ok(())
}

/// DISTINCT ON and WITH TIES in the queries below the statement's own
/// (derived tables, CTEs, subqueries, INSERT's source), rewritten as the
/// statement's own are, each with its result column names from
/// `names_of`; where those cannot be told on their own (a correlated
/// subquery), the query stays refused.
pub fn expand_nested(
    stmt: &mut Statement,
    names_of: &mut dyn FnMut(&sqlparser::ast::Query) -> Option<Vec<String>>,
) -> Result<()> {
    struct Nested<'a> {
        skip_first: bool,
        names_of: &'a mut dyn FnMut(&sqlparser::ast::Query) -> Option<Vec<String>>,
        error: Option<Error>,
    }
    impl sqlparser::ast::VisitorMut for Nested<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, q: &mut sqlparser::ast::Query) -> std::ops::ControlFlow<()> {
            if std::mem::take(&mut self.skip_first) {
                return std::ops::ControlFlow::Continue(());
            }
            let distinct_on = matches!(
                q.body.as_ref(),
                SetExpr::Select(s) if matches!(s.distinct, Some(Distinct::On(_)))
            );
            let ties = q.fetch.as_ref().is_some_and(|f| f.with_ties);
            if !distinct_on && !ties {
                return std::ops::ControlFlow::Continue(());
            }
            let Some(names) = (self.names_of)(q) else {
                return std::ops::ControlFlow::Continue(());
            };
            let r = expand_query(q, &names)
                .and_then(|()| crate::sql::with_ties::expand_query(q, &names));
            match r {
                Ok(()) => std::ops::ControlFlow::Continue(()),
                Err(e) => {
                    self.error = Some(e);
                    std::ops::ControlFlow::Break(())
                }
            }
        }
    }
    let mut v = Nested {
        skip_first: matches!(stmt, Statement::Query(_)),
        names_of,
        error: None,
    };
    let _ = sqlparser::ast::VisitMut::visit(stmt, &mut v);
    match v.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The outer query's items: inner column `_c<i>` under the statement's
/// own name for it.
pub(crate) fn output_columns(names: &[String], n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| {
            let name = names.get(i - 1).map_or("?column?", String::as_str);
            format!("_c{i} AS {}", crate::types::quote(name))
        })
        .collect()
}

/// The statement's ORDER BY keys as the outer query reads them: key `i`
/// from inner column `_o<i>`, with its direction and NULLS placement.
pub(crate) fn outer_order(order: &[OrderByExpr]) -> Vec<String> {
    order
        .iter()
        .enumerate()
        .map(|(i, o)| {
            OrderByExpr {
                expr: Expr::Identifier(sqlparser::ast::Ident::new(format!("_o{}", i + 1))),
                ..o.clone()
            }
            .to_string()
        })
        .collect()
}

/// `SELECT DISTINCT ON (…) * FROM t` (or `t.*`): the star as the table's
/// columns, named by the statement's result columns. A star over a join or
/// among other items is refused (the message names `what` needed it).
pub(crate) fn expand_wildcard(
    sel: &mut sqlparser::ast::Select,
    names: &[String],
    what: &str,
) -> Result<()> {
    let qualifier = match sel.projection.as_slice() {
        [SelectItem::Wildcard(_)] => None,
        [SelectItem::QualifiedWildcard(
            sqlparser::ast::SelectItemQualifiedWildcardKind::ObjectName(q),
            _,
        )] => Some(q.clone()),
        items
            if items.iter().all(|i| {
                matches!(
                    i,
                    SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }
                )
            }) =>
        {
            return Ok(())
        }
        _ => {
            return Err(Error::Unsupported(format!(
                "{what} with * among other items"
            )))
        }
    };
    if sel.from.len() != 1 || !sel.from[0].joins.is_empty() {
        return Err(Error::Unsupported(format!("{what} with * over a join")));
    }
    sel.projection = names
        .iter()
        .map(|n| {
            // Spelled as a key naming it is (`ORDER BY 1` and `id` match).
            let column = if crate::types::ident_text(n) == *n {
                Ident::new(n)
            } else {
                Ident::with_quote('"', n)
            };
            SelectItem::UnnamedExpr(match &qualifier {
                Some(q) => {
                    let mut parts: Vec<Ident> =
                        q.0.iter().filter_map(|p| p.as_ident().cloned()).collect();
                    parts.push(column);
                    Expr::CompoundIdentifier(parts)
                }
                None => Expr::Identifier(column),
            })
        })
        .collect();
    Ok(())
}

/// A DISTINCT ON or ORDER BY item as the expression it stands for: an
/// output column's position (`1`) or name (`n` of `… AS n`) is that
/// column's expression.
pub(crate) fn target(e: &Expr, projection: &[SelectItem]) -> Result<Expr> {
    match e {
        Expr::Value(v) => {
            if let Value::Number(n, _) = &v.value {
                let pos: usize = n.parse().map_err(|_| {
                    Error::InvalidColumnReference(format!(
                        "non-integer constant in DISTINCT ON or ORDER BY: {n}"
                    ))
                })?;
                return match pos.checked_sub(1).and_then(|i| projection.get(i)) {
                    Some(
                        SelectItem::UnnamedExpr(x) | SelectItem::ExprWithAlias { expr: x, .. },
                    ) => Ok(x.clone()),
                    _ => Err(Error::InvalidColumnReference(format!(
                        "ORDER BY position {pos} is not in select list"
                    ))),
                };
            }
            Ok(e.clone())
        }
        Expr::Identifier(id) => Ok(projection
            .iter()
            .find_map(|i| match i {
                SelectItem::ExprWithAlias { expr, alias } if alias.value == id.value => {
                    Some(expr.clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| e.clone())),
        _ => Ok(e.clone()),
    }
}

fn same(a: &Expr, b: &Expr) -> bool {
    a.to_string() == b.to_string()
}

/// PostgreSQL's rule: the DISTINCT ON keys are the ORDER BY's leading
/// items (in any order); an ORDER BY item before a key that is not one
/// itself breaks it (42P10).
fn check_leading(keys: &[Expr], order: &[OrderByExpr]) -> Result<()> {
    let mut past_keys = false;
    for o in order {
        let is_key = keys.iter().any(|k| same(k, &o.expr));
        if is_key && past_keys {
            return Err(Error::InvalidColumnReference(
                "SELECT DISTINCT ON expressions must match initial ORDER BY expressions".into(),
            ));
        }
        past_keys |= !is_key;
    }
    if past_keys && keys.iter().any(|k| !order.iter().any(|o| same(&o.expr, k))) {
        return Err(Error::InvalidColumnReference(
            "SELECT DISTINCT ON expressions must match initial ORDER BY expressions".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str, names: &[&str]) -> Result<String> {
        let mut stmt = crate::sql::parse(sql)?.remove(0);
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        expand(&mut stmt, &names)?;
        Ok(stmt.to_string())
    }

    #[test]
    fn first_row_per_key_by_a_window() {
        assert_eq!(
            rewritten("SELECT DISTINCT ON (g) g, id FROM t ORDER BY g, id DESC LIMIT 2", &["g", "id"])
                .unwrap_or_default(),
            "SELECT _c1 AS \"g\", _c2 AS \"id\" FROM (SELECT g, id, g AS _o1, id AS _o2, row_number() OVER (PARTITION BY g ORDER BY g, id DESC) FROM t) AS _mosaic_distinct_on (_c1, _c2, _o1, _o2, _rn) WHERE _rn = 1 ORDER BY _o1, _o2 DESC LIMIT 2"
        );
    }

    #[test]
    fn keys_must_lead_the_order() {
        let e = rewritten(
            "SELECT DISTINCT ON (g) g, id FROM t ORDER BY id, g",
            &["g", "id"],
        );
        assert!(matches!(e, Err(Error::InvalidColumnReference(_))));
        assert!(rewritten(
            "SELECT DISTINCT ON (g, v) g FROM t ORDER BY v, g, id",
            &["g"]
        )
        .is_ok());
        assert!(rewritten("SELECT DISTINCT ON (g) * FROM t ORDER BY 1", &["g"]).is_ok());
        assert!(rewritten("SELECT DISTINCT ON (g) * FROM t ORDER BY 1", &["id", "g"]).is_err());
        assert!(rewritten("SELECT DISTINCT ON (g) * FROM t ORDER BY g", &["g", "id"]).is_ok());
    }
}
