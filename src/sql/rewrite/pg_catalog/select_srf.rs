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
        // Of timestamps or numerics, as the typed step renamed it.
        "generate_series"
        | "pg_tz_generate_series"
        | "pg_timestamp_generate_series"
        | "pg_numeric_generate_series" => "generate_series",
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
/// and LIMIT see the expanded rows, as in PostgreSQL. Where PostgreSQL
/// expands after grouping (`expands_after_grouping`), which positions in
/// FROM cannot do, the SELECT is refused.
pub(super) fn select_srfs(q: &mut Query) -> Result<()> {
    let SetExpr::Select(sel) = q.body.as_mut() else {
        return Ok(());
    };
    if !calls_srf(sel) {
        return Ok(());
    }
    if expands_after_grouping(sel) {
        return Err(Error::Unsupported(
            "a set-returning function in the SELECT list of a grouped or aggregated query \
             (not a GROUP BY item), or beside a window function"
                .into(),
        ));
    }
    // The arrays walked, and the lengths of the series.
    let mut arrays: Vec<String> = Vec::new();
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
            arrays.push(array.to_string());
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
    if !arrays.is_empty() {
        lengths.insert(0, format!("pg_array_longest({})", arrays.join(", ")));
    }
    let longest = match lengths.as_slice() {
        [] => return Ok(()),
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
    let series = super::series_args(&list.args)?;
    if series.volatile() {
        return Err(Error::Unsupported(
            "generate_series in a SELECT list with a volatile argument".into(),
        ));
    }
    let (a, b, step) = series.texts();
    let name = crate::sql::object_name(&f.name);
    let typed = unqualified(&name)
        .strip_suffix("_generate_series")
        .and_then(|k| k.strip_prefix("pg_"));
    let (length, at) = match typed {
        // `store::udf`'s series of that kind, position 0 the start.
        Some(kind) => {
            let length = format!("pg_{kind}_series_last({a}, {b}, {step}) + 1");
            let at = format!(
                "CASE WHEN mosaic_srf.value <= {length} THEN pg_{kind}_series_at({a}, {step}, mosaic_srf.value - 1) END"
            );
            (length, at)
        }
        None => {
            let length = format!("pg_series_last({a}, {b}, {step}) + 1");
            let at = format!(
                "CASE WHEN mosaic_srf.value <= {length} THEN {a} + {step} * (mosaic_srf.value - 1) END"
            );
            (length, at)
        }
    };
    Ok((length, crate::sql::parse_expr(&at)?))
}

/// Whether `e` calls a set-returning function this module expands.
fn expands(e: &Expr) -> bool {
    sqlparser::ast::visit_expressions(e, |x| match x {
        Expr::Function(f) if srf_kind(f).is_some() => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

/// Whether the SELECT list calls a set-returning function this module
/// expands.
fn calls_srf(sel: &Select) -> bool {
    sel.projection.iter().any(|item| match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => expands(e),
        _ => false,
    })
}

/// Whether PostgreSQL would expand one of the SELECT list's set-returning
/// functions after grouping or windowing, which positions joined to FROM
/// (expanding first) cannot do: in a grouped or aggregated SELECT, a list
/// item calling one that is not itself a GROUP BY item (`SELECT cat,
/// unnest(a) … GROUP BY cat`, `SELECT count(*), unnest(a) …`); any with a
/// window function in the list. An item that is a GROUP BY item
/// (`SELECT srf(x) IS NULL, count(*) … GROUP BY 1`) expands before the
/// grouping in PostgreSQL too.
fn expands_after_grouping(sel: &Select) -> bool {
    let (aggregates, windows) = list_calls(sel);
    if windows {
        return true;
    }
    let group: &[Expr] = match &sel.group_by {
        GroupByExpr::Expressions(e, _) => e,
        GroupByExpr::All(_) => &[],
    };
    let all = matches!(sel.group_by, GroupByExpr::All(_));
    if group.is_empty() && !all && !aggregates && sel.having.is_none() {
        return false;
    }
    sel.projection.iter().enumerate().any(|(i, item)| {
        let (expr, alias) = match item {
            SelectItem::UnnamedExpr(e) => (e, None),
            SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias)),
            _ => return false,
        };
        let calls = expands(expr);
        let grouped = group.iter().any(|g| match g {
            Expr::Value(v) => v.value.to_string() == (i + 1).to_string(),
            Expr::Identifier(id) => alias.is_some_and(|a| a.value == id.value),
            g => g == expr,
        });
        calls && !grouped
    })
}

/// Whether the SELECT list calls an aggregate, and a window function (not
/// in a subquery of it).
fn list_calls(sel: &Select) -> (bool, bool) {
    struct Finds {
        depth: usize,
        aggregates: bool,
        windows: bool,
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
            if let (Expr::Function(f), 0) = (e, self.depth) {
                let name = crate::sql::object_name(&f.name);
                if f.over.is_some() {
                    self.windows = true;
                } else if crate::sql::validate::is_aggregate_name(unqualified(&name)) {
                    self.aggregates = true;
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = Finds {
        depth: 0,
        aggregates: false,
        windows: false,
    };
    let _ = sel.projection.visit(&mut v);
    (v.aggregates, v.windows)
}
