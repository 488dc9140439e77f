//! Set-returning functions in a SELECT list: `unnest`, `generate_subscripts`,
//! `_pg_expandarray`, the JSON ones and integer `generate_series`, stepping
//! in lockstep over positions joined last to the FROM list.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, Query, Select, SelectItem,
    SetExpr, Statement, Visit, Visitor,
};

use super::{is_string, string, unqualified};
use crate::error::{Error, Result};
use crate::sql::build::call;

/// A set-returning function of a SELECT list this module rewrites:
/// `unnest(a)`, `generate_subscripts(a, 1)`,
/// `information_schema._pg_expandarray(a)`, whose composite `(x, n)` is
/// a JSON object (see `field_access`), the JSON ones, and
/// `generate_series(a, b[, step])` of integers.
fn srf_kind(f: &sqlparser::ast::Function) -> Option<&'static str> {
    if f.over.is_some() {
        return None;
    }
    let name = crate::sql::object_name(&f.name);
    let name = name.strip_prefix("information_schema.").unwrap_or(&name);
    Some(match unqualified(name) {
        "unnest" => "unnest",
        "generate_subscripts" => "generate_subscripts",
        "_pg_expandarray" => "_pg_expandarray",
        "generate_series" => "generate_series",
        // The json ones walk the array `pg_json_rows` makes of their rows.
        "jsonb_array_elements" => "jsonb_array_elements",
        "jsonb_array_elements_text" => "jsonb_array_elements_text",
        "jsonb_object_keys" => "jsonb_object_keys",
        "json_array_elements" => "json_array_elements",
        "json_array_elements_text" => "json_array_elements_text",
        "json_object_keys" => "json_object_keys",
        _ => return None,
    })
}

/// The array a set-returning call walks (its first argument).
fn srf_array(f: &sqlparser::ast::Function) -> Option<Expr> {
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    match list.args.first() {
        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(a))) => Some(a.clone()),
        _ => None,
    }
}

/// The family the typed step gave a set-returning call's array (its
/// second argument, a string), if it did.
fn srf_family(f: &sqlparser::ast::Function) -> Option<Expr> {
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    match list.args.get(1) {
        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(a))) if is_string(a) => Some(a.clone()),
        _ => None,
    }
}

/// What a set-returning call becomes at array position `pos`.
fn srf_at(kind: &str, array: Expr, pos: Expr, family: Option<Expr>) -> Expr {
    match kind {
        "unnest" => match family {
            Some(f) => call("pg_array_get", vec![array, pos, f]),
            None => call("pg_array_get", vec![array, pos]),
        },
        "generate_subscripts" => call("pg_array_subscript", vec![array, pos]),
        _ => call(
            "json_object",
            vec![
                string("x"),
                call("pg_array_value", vec![array, pos.clone()]),
                string("n"),
                pos,
            ],
        ),
    }
}

/// Set-returning functions in a SELECT list (`SELECT unnest(indkey) AS
/// attnum, generate_subscripts(indkey, 1) AS ord FROM pg_index`, or
/// inside an expression: `(_pg_expandarray(indkey)).n`): each source row
/// repeats once per position, as many times as the longest array or
/// series has elements, the functions stepping in lockstep (as PostgreSQL
/// 10 and later do; a shorter one gives NULL). The positions come from a
/// correlated series joined last to the FROM list, so DISTINCT, ORDER BY
/// and LIMIT see the expanded rows, as in PostgreSQL. PostgreSQL expands
/// after grouping, which positions in FROM cannot do: a grouped or
/// aggregated SELECT is refused.
pub(super) fn select_srfs(q: &mut Query) -> Result<()> {
    let SetExpr::Select(sel) = q.body.as_mut() else {
        return Ok(());
    };
    if !calls_srf(sel) {
        return Ok(());
    }
    if groups(sel) {
        return Err(Error::Unsupported(
            "a set-returning function in the SELECT list of a query with GROUP BY, HAVING, \
             aggregates or window functions"
                .into(),
        ));
    }
    let mut lengths: Vec<String> = Vec::new();
    let mut bad = None;
    for item in sel.projection.iter_mut() {
        let (SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. }) = item else {
            continue;
        };
        // PostgreSQL names an unaliased call after the function.
        let top = match expr {
            Expr::Function(f) => srf_kind(f),
            _ => None,
        };
        let _ = sqlparser::ast::visit_expressions_mut(expr, |e| {
            let Expr::Function(f) = e else {
                return ControlFlow::<()>::Continue(());
            };
            let Some(kind) = srf_kind(f) else {
                return ControlFlow::Continue(());
            };
            if kind == "generate_series" {
                match series(f) {
                    Ok((length, at)) => {
                        lengths.push(length);
                        *e = at;
                        return ControlFlow::Continue(());
                    }
                    Err(err) => {
                        bad = Some(err);
                        return ControlFlow::Break(());
                    }
                }
            }
            let Some(array) = srf_array(f) else {
                bad = Some(Error::Unsupported(format!(
                    "{kind} without an array argument"
                )));
                return ControlFlow::Break(());
            };
            let (kind, array) = match kind.starts_with("json") {
                true => ("unnest", call("pg_json_rows", vec![array, string(kind)])),
                false => (kind, array),
            };
            lengths.push(format!("pg_array_longest({array})"));
            let family = srf_family(f);
            match crate::sql::parse_expr("mosaic_srf.value") {
                Ok(pos) => *e = srf_at(kind, array, pos, family),
                Err(err) => bad = Some(err),
            }
            ControlFlow::Continue(())
        });
        if let Some(err) = bad {
            return Err(err);
        }
        if let (Some(kind), SelectItem::UnnamedExpr(e)) = (top, &*item) {
            *item = SelectItem::ExprWithAlias {
                expr: e.clone(),
                alias: sqlparser::ast::Ident::new(kind),
            };
        }
    }
    if lengths.is_empty() {
        return Ok(());
    }
    let longest = match lengths.as_slice() {
        [one] => one.clone(),
        many => format!("max({})", many.join(", ")),
    };
    let sql = format!("SELECT 1 FROM generate_series(1, {longest}) AS mosaic_srf");
    let Some(Statement::Query(driver)) = crate::sql::parse(&sql)?.pop() else {
        return Err(Error::Internal("set-returning driver did not parse".into()));
    };
    let SetExpr::Select(driver) = *driver.body else {
        return Err(Error::Internal("set-returning driver did not parse".into()));
    };
    sel.from.extend(driver.from);
    Ok(())
}

/// `generate_series(a, b[, step])` of integers at each position: how many
/// values it has (`pg_series_last` counts from 0, and gives -1 for none
/// or a NULL argument), and its value at position `mosaic_srf.value`
/// (NULL past its last). Its arguments are copied into both, so a
/// volatile one (evaluated once per row in PostgreSQL) is refused.
fn series(f: &sqlparser::ast::Function) -> Result<(String, Expr)> {
    let FunctionArguments::List(list) = &f.args else {
        return Err(Error::Unsupported(
            "generate_series without arguments".into(),
        ));
    };
    let args: Vec<&Expr> = (list.args.iter())
        .filter_map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect();
    if args.len() != list.args.len() {
        return Err(Error::Unsupported(
            "generate_series with named arguments".into(),
        ));
    }
    let (a, b, step) = match args.as_slice() {
        [a, b] => (a.to_string(), b.to_string(), "1".to_string()),
        [a, b, s] => (a.to_string(), b.to_string(), s.to_string()),
        _ => {
            return Err(Error::Unsupported(format!(
                "generate_series with {} arguments",
                args.len()
            )))
        }
    };
    if args
        .iter()
        .any(|e| crate::sql::functions::calls_volatile(e))
    {
        return Err(Error::Unsupported(
            "generate_series in a SELECT list with a volatile argument".into(),
        ));
    }
    let length = format!("pg_series_last(({a}), ({b}), ({step})) + 1");
    let at = crate::sql::parse_expr(&format!(
        "CASE WHEN mosaic_srf.value <= {length} THEN ({a}) + ({step}) * (mosaic_srf.value - 1) END"
    ))?;
    Ok((length, at))
}

/// Whether the SELECT list calls a set-returning function this module
/// expands.
fn calls_srf(sel: &Select) -> bool {
    sel.projection.iter().any(|item| match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
            sqlparser::ast::visit_expressions(e, |x| match x {
                Expr::Function(f) if srf_kind(f).is_some() => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            })
            .is_break()
        }
        _ => false,
    })
}

/// Whether the SELECT groups its rows: GROUP BY, HAVING, or an aggregate
/// or window function in its list (not in a subquery of it).
fn groups(sel: &Select) -> bool {
    let grouped = match &sel.group_by {
        GroupByExpr::Expressions(e, m) => !e.is_empty() || !m.is_empty(),
        GroupByExpr::All(_) => true,
    };
    if grouped || sel.having.is_some() {
        return true;
    }
    struct Finds {
        depth: usize,
        found: bool,
    }
    impl Visitor for Finds {
        type Break = ();
        fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.depth += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            if let Expr::Function(f) = e {
                let name = crate::sql::object_name(&f.name);
                if self.depth == 0
                    && (f.over.is_some()
                        || crate::sql::validate::is_aggregate_name(unqualified(&name)))
                {
                    self.found = true;
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = Finds {
        depth: 0,
        found: false,
    };
    let _ = sel.projection.visit(&mut v);
    v.found
}
