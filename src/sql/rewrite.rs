//! PostgreSQL → SQLite translation, on the AST (never on strings).
//!
//! `to_sqlite` rewrites a parsed PostgreSQL statement in place so that its
//! `Display` output is SQLite SQL with the same meaning: `$n` → `?n`,
//! `::`/CAST to `pg_cast` (validating as PostgreSQL input does), ILIKE,
//! PostgreSQL functions to SQLite equivalents or to functions registered by
//! `sql::functions`, and so on. Table references are left alone: the
//! planner replaces them with shard sources. DDL is not rewritten here;
//! DDL code can translate a DEFAULT or CHECK expression with
//! [`expr_to_sqlite`].
//!
//! Known gaps: a `::text` cast of a boolean *column* prints `1`/`0` (the
//! AST does not say the column is boolean; boolean expressions and literals
//! are handled); integer overflow in `+ - *` becomes a float in SQLite
//! where PostgreSQL raises 22003; functions with no mapping pass through
//! verbatim so extension functions (vector, geo) and the executor's own
//! (`version()`, …) keep working, and SQLite reports the rest as unknown.

mod expr;
pub mod pg_catalog;
mod setops;

#[cfg(test)]
pub(crate) use expr::AGGREGATES;

use std::ops::ControlFlow;

use sqlparser::ast::{
    Distinct, Expr, LimitClause, OffsetRows, Query, Select, Statement, Value, VisitMut, VisitorMut,
};

use crate::error::{Error, Result};

/// Rewrite `stmt` in place into SQLite SQL with the same meaning; a
/// construct with no translation is `Error::Unsupported` naming it.
pub fn to_sqlite(stmt: &mut Statement) -> Result<()> {
    match stmt {
        Statement::Query(_)
        | Statement::Insert(_)
        | Statement::Update(_)
        | Statement::Delete(_) => {}
        _ => return Ok(()),
    }
    if let Statement::Insert(ins) = stmt {
        // Checked by sql::validate: SQLite inserts what it is given.
        ins.overriding = None;
        // `sql::on_constraint` made ON CONSTRAINT the constraint's columns.
        if let Some(sqlparser::ast::OnInsert::OnConflict(oc)) = &ins.on {
            if let Some(sqlparser::ast::ConflictTarget::OnConstraint(_)) = oc.conflict_target {
                return Err(Error::Unsupported("ON CONFLICT ON CONSTRAINT".into()));
            }
        }
    }
    pg_catalog::rewrite(stmt)?;
    run(stmt)
}

/// A HAVING makes its query grouped in PostgreSQL, all its rows one group
/// when there is no GROUP BY, aggregate or not (`SELECT 1 FROM t HAVING
/// true` is one row, also over no rows); SQLite groups only a query with
/// an aggregate in its output, so the first output column is given one
/// that leaves its value as it is. (`sql::validate` refuses a column
/// outside an aggregate in such a query; after `*` SQLite refuses it.)
fn one_group(s: &mut Select) {
    use sqlparser::ast::SelectItem;
    if !crate::sql::validate::grouped_by_having_alone(s) {
        return;
    }
    let (Some(SelectItem::UnnamedExpr(first))
    | Some(SelectItem::ExprWithAlias { expr: first, .. })) = s.projection.first_mut()
    else {
        return;
    };
    if let Ok(grouped) =
        crate::sql::parse_expr(&format!("CASE WHEN count(*) >= 0 THEN {first} END"))
    {
        *first = grouped;
    }
}

/// Rewrite one expression (a DEFAULT, a CHECK) the same way.
pub fn expr_to_sqlite(e: &mut Expr) -> Result<()> {
    pg_catalog::rewrite_expr(e)?;
    run(e)
}

fn run<T: VisitMut>(node: &mut T) -> Result<()> {
    match node.visit(&mut Rewriter) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

struct Rewriter;

impl VisitorMut for Rewriter {
    type Break = Error;

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<Error> {
        if let Err(e) = all_set_ops(&mut q.body) {
            return ControlFlow::Break(e);
        }
        unparenthesize_set_operands(&mut q.body);
        into_flow(rewrite_query(q))
    }

    fn pre_visit_select(&mut self, s: &mut Select) -> ControlFlow<Error> {
        if let Some(Distinct::On(_)) = s.distinct {
            return ControlFlow::Break(Error::Unsupported("DISTINCT ON".into()));
        }
        one_group(s);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<Error> {
        into_flow(expr::pre(e))
    }

    /// PostgreSQL sorts NULLs as larger than every value (last ascending,
    /// first descending); SQLite sorts them smallest.
    fn pre_visit_order_by_expr(
        &mut self,
        o: &mut sqlparser::ast::OrderByExpr,
    ) -> ControlFlow<Error> {
        if o.options.nulls_first.is_none() {
            let desc = matches!(o.options.sort, Some(sqlparser::ast::OrderBySort::Desc));
            o.options.nulls_first = Some(desc);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(
        &mut self,
        f: &mut sqlparser::ast::TableFactor,
    ) -> ControlFlow<Error> {
        // SQLite wants the AS before the alias of a DELETE's or UPDATE's
        // target (`DELETE FROM t x` is PostgreSQL's, not SQLite's).
        if let sqlparser::ast::TableFactor::Table { alias: Some(a), .. } = f {
            a.explicit = true;
        }
        into_flow(derived_column_aliases(f))
    }

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<Error> {
        into_flow(expr::post(e))
    }
}

fn into_flow(r: Result<()>) -> ControlFlow<Error> {
    match r {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => ControlFlow::Break(e),
    }
}

/// SQLite does not accept a parenthesized operand of UNION/INTERSECT/
/// EXCEPT; `(a UNION b) EXCEPT c` becomes `SELECT * FROM (a UNION b) EXCEPT c`.
fn unparenthesize_set_operands(body: &mut sqlparser::ast::SetExpr) {
    use sqlparser::ast::SetExpr;
    if let SetExpr::SetOperation { left, right, .. } = body {
        for side in [left, right] {
            if let SetExpr::Query(q) = side.as_ref() {
                let sql = format!("SELECT * FROM ({q})");
                if let Ok(Some(sqlparser::ast::Statement::Query(outer))) =
                    crate::sql::parse(&sql).map(|mut v| v.pop())
                {
                    **side = *outer.body;
                }
            } else {
                unparenthesize_set_operands(side);
            }
        }
    }
}

/// SQLite has INTERSECT and EXCEPT, but not their ALL forms: those become
/// forms it has (`setops`), innermost first.
fn all_set_ops(body: &mut sqlparser::ast::SetExpr) -> Result<()> {
    if let sqlparser::ast::SetExpr::SetOperation { left, right, .. } = body {
        all_set_ops(left)?;
        all_set_ops(right)?;
    }
    setops::rewrite(body)
}

/// `(subquery) AS x(a, b)`: SQLite has no column list on a derived
/// table, so the names go onto the subquery's own output columns.
fn derived_column_aliases(f: &mut sqlparser::ast::TableFactor) -> Result<()> {
    use sqlparser::ast::{SelectItem, SetExpr, TableFactor};
    let TableFactor::Derived {
        subquery,
        alias: Some(alias),
        ..
    } = f
    else {
        return Ok(());
    };
    if alias.columns.is_empty() {
        return Ok(());
    }
    let names: Vec<sqlparser::ast::Ident> = alias.columns.drain(..).map(|c| c.name).collect();
    let mut body = subquery.body.as_mut();
    while let SetExpr::SetOperation { left, .. } = body {
        body = left.as_mut();
    }
    match body {
        SetExpr::Values(values) => {
            // SQLite names VALUES columns column1, column2, ...
            let width = values.rows.first().map(|r| r.len()).unwrap_or(0);
            let items = (0..width)
                .map(|i| {
                    let col =
                        Expr::Identifier(sqlparser::ast::Ident::new(format!("column{}", i + 1)));
                    match names.get(i) {
                        Some(n) => SelectItem::ExprWithAlias {
                            expr: col,
                            alias: n.clone(),
                        },
                        None => SelectItem::UnnamedExpr(col),
                    }
                })
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!("SELECT {items} FROM ({subquery})");
            match crate::sql::parse(&sql)?.pop() {
                Some(sqlparser::ast::Statement::Query(q)) => *subquery = q,
                _ => return Err(Error::Internal("derived VALUES did not parse".into())),
            }
            Ok(())
        }
        SetExpr::Select(sel) => {
            for (item, name) in sel.projection.iter_mut().zip(names) {
                *item = match std::mem::replace(item, SelectItem::UnnamedExpr(number("0"))) {
                    SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => {
                        SelectItem::ExprWithAlias { expr, alias: name }
                    }
                    _ => {
                        return Err(Error::Unsupported(
                            "column aliases on a derived table selecting *".into(),
                        ))
                    }
                };
            }
            Ok(())
        }
        _ => Err(Error::Unsupported(
            "column aliases on this derived table".into(),
        )),
    }
}

/// A LIMIT or OFFSET count through `check` (`store::udf::arith`), unless
/// it is a plain count already.
fn checked_count(check: &str, e: Expr) -> Expr {
    match &e {
        Expr::Value(v) if matches!(&v.value, Value::Number(n, _) if n.parse::<u64>().is_ok()) => e,
        _ => expr::call(check, vec![e]),
    }
}

fn number(n: &str) -> Expr {
    Expr::Value(Value::Number(n.into(), false).into())
}

/// LIMIT/OFFSET/FETCH in the one shape SQLite reads: `LIMIT n OFFSET m`,
/// with `LIMIT -1` when only an offset is given.
fn rewrite_query(q: &mut Query) -> Result<()> {
    if !q.pipe_operators.is_empty() {
        return Err(Error::Unsupported("pipe operators".into()));
    }
    // SQLite has no row locks; a transaction already holds the write lock.
    q.locks.clear();
    let mut limit = None;
    let mut offset = None;
    match q.limit_clause.take() {
        Some(LimitClause::LimitOffset {
            limit: l,
            offset: o,
            limit_by,
        }) => {
            if !limit_by.is_empty() {
                return Err(Error::Unsupported("LIMIT BY".into()));
            }
            limit = l;
            offset = o;
        }
        Some(LimitClause::OffsetCommaLimit {
            offset: o,
            limit: l,
        }) => {
            limit = Some(l);
            offset = Some(sqlparser::ast::Offset {
                value: o,
                rows: OffsetRows::None,
            });
        }
        None => {}
    }
    if let Some(f) = q.fetch.take() {
        if f.percent || f.with_ties {
            return Err(Error::Unsupported("FETCH … PERCENT / WITH TIES".into()));
        }
        limit = Some(f.quantity.unwrap_or_else(|| number("1")));
    }
    // PostgreSQL's counts: negative is an error, NULL is no limit (no
    // offset); SQLite takes a negative count for no limit.
    limit = limit.map(|l| checked_count("pg_limit_count", l));
    if let Some(o) = offset.as_mut() {
        o.value = checked_count("pg_offset_count", o.value.clone());
        o.rows = OffsetRows::None;
        if limit.is_none() {
            limit = Some(number("-1"));
        }
    }
    if limit.is_some() || offset.is_some() {
        q.limit_clause = Some(LimitClause::LimitOffset {
            limit,
            offset,
            limit_by: vec![],
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
