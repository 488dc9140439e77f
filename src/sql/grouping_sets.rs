//! `GROUP BY GROUPING SETS (…)`, `ROLLUP (…)` and `CUBE (…)` (and plain
//! keys beside them) as PostgreSQL computes them: one grouped query per
//! grouping set, joined by UNION ALL. In each arm a key outside its set
//! reads as NULL (`pg_grouping_null(k)`, an aggregate of the key's type that
//! is always NULL) outside aggregates,
//! and `GROUPING(k, …)` is the arm's bit mask (a bit set for each
//! argument outside the set, the first argument the highest bit). An
//! ORDER BY over the whole names output columns (by name, position, or
//! an expression of the select list, which becomes its position).

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArguments, GroupByExpr, Ident, OrderByKind, Query, Select, SelectItem, SetExpr,
    SetOperator, SetQuantifier, Statement, Value, VisitMut, VisitorMut,
};

use crate::error::{Error, Result};

/// Rewrite every query of `stmt` that groups by grouping sets.
pub fn expand(stmt: &mut Statement) -> Result<()> {
    struct Expand;
    impl VisitorMut for Expand {
        type Break = Error;
        fn pre_visit_select(&mut self, s: &mut Select) -> ControlFlow<Error> {
            empty_sets(&mut s.group_by);
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, q: &mut Query) -> ControlFlow<Error> {
            match expand_query(q) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => ControlFlow::Break(e),
            }
        }
    }
    match stmt.visit(&mut Expand) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// `()` in a GROUP BY list, the empty grouping set: beside other keys
/// it adds nothing (`GROUP BY a, ()` groups by `a`), alone it is the one
/// group of all rows (`GROUPING SETS (())`).
fn empty_sets(group_by: &mut GroupByExpr) {
    let GroupByExpr::Expressions(keys, _) = group_by else {
        return;
    };
    let empty = |k: &Expr| matches!(k, Expr::Tuple(t) if t.is_empty());
    if !keys.iter().any(empty) {
        return;
    }
    if keys.iter().all(empty) {
        *keys = vec![Expr::GroupingSets(vec![vec![]])];
    } else {
        keys.retain(|k| !empty(k));
    }
}

fn unsupported(what: &str) -> Error {
    Error::Unsupported(format!("{what} with GROUPING SETS, ROLLUP or CUBE"))
}

/// The grouping sets of a GROUP BY list, in PostgreSQL's order; `None`
/// when it has none (plain keys only).
fn grouping_sets(keys: &[Expr]) -> Option<Vec<Vec<Expr>>> {
    if !keys
        .iter()
        .any(|k| matches!(k, Expr::GroupingSets(_) | Expr::Rollup(_) | Expr::Cube(_)))
    {
        return None;
    }
    let mut sets: Vec<Vec<Expr>> = vec![vec![]];
    for k in keys {
        let options: Vec<Vec<Expr>> = match k {
            Expr::GroupingSets(lists) => lists.clone(),
            Expr::Rollup(lists) => (0..=lists.len())
                .rev()
                .map(|n| lists[..n].concat())
                .collect(),
            Expr::Cube(lists) => {
                let n = lists.len();
                (0..1usize << n)
                    .rev()
                    .map(|mask| {
                        (0..n)
                            .filter(|i| mask & (1 << (n - 1 - i)) != 0)
                            .flat_map(|i| lists[i].clone())
                            .collect()
                    })
                    .collect()
            }
            plain => vec![vec![plain.clone()]],
        };
        sets = sets
            .iter()
            .flat_map(|s| {
                options.iter().map(move |o| {
                    let mut s = s.clone();
                    s.extend(o.iter().cloned());
                    s
                })
            })
            .collect();
    }
    Some(sets)
}

/// `e` as it reads in the arm grouping by `set`: keys outside the set are
/// NULL outside aggregates, GROUPING(…) is the arm's mask.
fn in_arm(e: &Expr, set: &[String], all: &[String]) -> Result<Expr> {
    let text = e.to_string();
    if all.contains(&text) && !set.contains(&text) {
        return Ok(null_of(e));
    }
    let mut out = e.clone();
    let mut err = None;
    let _ = sqlparser::ast::visit_expressions_mut(&mut out, |x| {
        if let Expr::Function(f) = x {
            let name = crate::sql::object_name(&f.name).to_ascii_lowercase();
            if name == "grouping" {
                let FunctionArguments::List(l) = &f.args else {
                    return ControlFlow::Continue(());
                };
                let mut mask = 0i64;
                for a in &l.args {
                    mask <<= 1;
                    let t = a.to_string();
                    if !all.contains(&t) {
                        err = Some(Error::Grouping(
                            "arguments to GROUPING must be grouping expressions of the associated query level"
                                .into(),
                        ));
                        return ControlFlow::Break(());
                    }
                    if !set.contains(&t) {
                        mask |= 1;
                    }
                }
                *x = Expr::Value(Value::Number(mask.to_string(), false).into());
            }
        }
        ControlFlow::<()>::Continue(())
    });
    if let Some(e) = err {
        return Err(e);
    }
    // Keys outside the set, outside aggregate calls.
    replace_keys(&mut out, set, all);
    Ok(out)
}

/// NULL of `key`'s type in an arm that does not group by it: an
/// aggregate of it (so the arm stays a valid grouped query) that is
/// always NULL, whatever the type (`min` has no boolean or json form).
fn null_of(key: &Expr) -> Expr {
    crate::sql::build::call("pg_grouping_null", vec![key.clone()])
}

fn replace_keys(e: &mut Expr, set: &[String], all: &[String]) {
    let text = e.to_string();
    if all.contains(&text) && !set.contains(&text) {
        *e = null_of(e);
        return;
    }
    match e {
        Expr::Function(f) => {
            let name = crate::sql::object_name(&f.name).to_ascii_lowercase();
            if crate::sql::validate::is_aggregate_name(&name) {
                return;
            }
            if let FunctionArguments::List(l) = &mut f.args {
                for a in &mut l.args {
                    if let sqlparser::ast::FunctionArg::Unnamed(
                        sqlparser::ast::FunctionArgExpr::Expr(x),
                    ) = a
                    {
                        replace_keys(x, set, all);
                    }
                }
            }
        }
        Expr::BinaryOp { left, right, .. } => {
            replace_keys(left, set, all);
            replace_keys(right, set, all);
        }
        Expr::UnaryOp { expr, .. }
        | Expr::Nested(expr)
        | Expr::Cast { expr, .. }
        | Expr::IsNull(expr)
        | Expr::IsNotNull(expr) => replace_keys(expr, set, all),
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            if let Some(o) = operand {
                replace_keys(o, set, all);
            }
            for c in conditions {
                replace_keys(&mut c.condition, set, all);
                replace_keys(&mut c.result, set, all);
            }
            if let Some(x) = else_result {
                replace_keys(x, set, all);
            }
        }
        _ => {}
    }
}

fn expand_query(q: &mut Query) -> Result<()> {
    let SetExpr::Select(sel) = q.body.as_ref() else {
        return Ok(());
    };
    let GroupByExpr::Expressions(keys, modifiers) = &sel.group_by else {
        return Ok(());
    };
    let Some(sets) = grouping_sets(keys) else {
        return Ok(());
    };
    if !modifiers.is_empty() {
        return Err(unsupported("GROUP BY modifiers"));
    }
    if sel.distinct.is_some() {
        return Err(unsupported("DISTINCT"));
    }
    if sel
        .projection
        .iter()
        .any(|i| i.to_string().contains(" OVER "))
    {
        return Err(unsupported("window functions"));
    }
    let sets: Vec<Vec<String>> = sets
        .iter()
        .map(|s| s.iter().map(ToString::to_string).collect())
        .collect();
    let set_exprs = grouping_sets(keys).unwrap_or_default();
    let mut all: Vec<String> = vec![];
    for s in &sets {
        for k in s {
            if !all.contains(k) {
                all.push(k.clone());
            }
        }
    }
    let mut arms = vec![];
    for (set, exprs) in sets.iter().zip(&set_exprs) {
        let mut arm = sel.as_ref().clone();
        arm.group_by = GroupByExpr::Expressions(dedup(exprs), vec![]);
        for item in &mut arm.projection {
            match item {
                SelectItem::UnnamedExpr(e) => {
                    let new = in_arm(e, set, &all)?;
                    if new != *e {
                        *item = match column_name(e) {
                            Some(alias) => SelectItem::ExprWithAlias { expr: new, alias },
                            None => SelectItem::UnnamedExpr(new),
                        };
                    }
                }
                SelectItem::ExprWithAlias { expr, .. } => *expr = in_arm(expr, set, &all)?,
                _ => return Err(unsupported("*")),
            }
        }
        if let Some(h) = &mut arm.having {
            *h = in_arm(h, set, &all)?;
        }
        if exprs.is_empty() {
            one_group(&mut arm)?;
        }
        arms.push(SetExpr::Select(Box::new(arm)));
    }
    let projection = sel.projection.clone();
    let mut arms = arms.into_iter();
    let Some(first) = arms.next() else {
        return Ok(());
    };
    let body = arms.fold(first, |left, right| SetExpr::SetOperation {
        op: SetOperator::Union,
        set_quantifier: SetQuantifier::All,
        left: Box::new(left),
        right: Box::new(right),
    });
    *q.body = body;
    order_by_outputs(q, &projection)
}

/// The arm grouping by the empty set is one group, rows or none, as a
/// query with an aggregate is. An arm with no aggregate (`SELECT 1 …
/// GROUPING SETS (())`) would be a plain query, a row per input row, and
/// SQLite does not count one in HAVING: its first output becomes
/// `COALESCE(e, pg_grouping_null(e))`, the same value, from an aggregate.
fn one_group(arm: &mut sqlparser::ast::Select) -> Result<()> {
    let has = crate::sql::validate::has_aggregate;
    let aggregate = arm.projection.iter().any(|item| match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => has(e),
        _ => false,
    }) || arm.having.as_ref().is_some_and(has);
    if aggregate {
        return Ok(());
    }
    let grouped = |e: &Expr| crate::sql::build::call("coalesce", vec![e.clone(), null_of(e)]);
    match arm.projection.first_mut() {
        Some(SelectItem::ExprWithAlias { expr, .. }) => *expr = grouped(expr),
        Some(item @ SelectItem::UnnamedExpr(_)) => {
            let SelectItem::UnnamedExpr(e) = &*item else {
                return Ok(());
            };
            // PostgreSQL's name for it: a column's or function's, or
            // `?column?` for a constant or an operator.
            let alias = match e {
                Expr::Value(_) | Expr::BinaryOp { .. } | Expr::UnaryOp { .. } => {
                    Ident::with_quote('"', "?column?")
                }
                _ => column_name(e).ok_or_else(|| {
                    unsupported("an empty grouping set and no aggregate (name the first column)")
                })?,
            };
            *item = SelectItem::ExprWithAlias {
                expr: grouped(e),
                alias,
            };
        }
        _ => return Err(unsupported("an empty grouping set and no aggregate")),
    }
    Ok(())
}

/// The name PostgreSQL gives an unaliased select item (FigureColname), for
/// the items an arm rewrites: so every arm's column keeps it.
fn column_name(e: &Expr) -> Option<Ident> {
    match e {
        Expr::Identifier(i) => Some(i.clone()),
        Expr::CompoundIdentifier(ids) => ids.last().cloned(),
        Expr::Nested(x) => column_name(x),
        Expr::Function(f) => {
            let name = crate::sql::object_name(&f.name);
            let short = name
                .rsplit('.')
                .next()
                .unwrap_or(&name)
                .to_ascii_lowercase();
            Some(Ident::with_quote('"', short))
        }
        Expr::Cast { expr, .. } => column_name(expr),
        Expr::Case { else_result, .. } => Some(
            else_result
                .as_deref()
                .and_then(|x| match x {
                    Expr::Identifier(_) | Expr::CompoundIdentifier(_) => column_name(x),
                    _ => None,
                })
                .unwrap_or_else(|| Ident::with_quote('"', "case")),
        ),
        _ => None,
    }
}

/// The keys of a GROUP BY in their order, each once.
fn dedup(keys: &[Expr]) -> Vec<Expr> {
    let mut out: Vec<Expr> = vec![];
    for k in keys {
        if !out.iter().any(|o| o.to_string() == k.to_string()) {
            out.push(k.clone());
        }
    }
    out
}

/// ORDER BY over the UNION ALL: names, positions, or select-list
/// expressions (made positions).
fn order_by_outputs(q: &mut Query, projection: &[SelectItem]) -> Result<()> {
    let Some(order) = q.order_by.as_mut() else {
        return Ok(());
    };
    let OrderByKind::Expressions(keys) = &mut order.kind else {
        return Ok(());
    };
    for k in keys {
        if matches!(&k.expr, Expr::Value(v) if matches!(v.value, Value::Number(..))) {
            continue;
        }
        let text = k.expr.to_string();
        let position = projection.iter().position(|i| match i {
            SelectItem::UnnamedExpr(e) => e.to_string() == text,
            SelectItem::ExprWithAlias { expr, alias } => {
                expr.to_string() == text || Ident::new(alias.value.clone()).to_string() == text
            }
            _ => false,
        });
        match position {
            Some(p) => k.expr = Expr::Value(Value::Number((p + 1).to_string(), false).into()),
            None => return Err(unsupported("an ORDER BY key that is not an output column")),
        }
    }
    Ok(())
}
