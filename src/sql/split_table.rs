//! `regexp_split_to_table(string, pattern [, flags])` as `unnest` of
//! `regexp_split_to_array(…)` (`store::udf::regexp`), and
//! `string_to_table(string, delimiter [, null_string])` as `unnest` of
//! `string_to_array(…)`, in a SELECT list and in FROM, keeping
//! PostgreSQL's column name (the function's unless an alias names it);
//! `regexp_matches(…)` in a SELECT list as
//! each element of `pg_regexp_matches(…)` cast to text[], and in FROM as
//! a derived table of the same.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Function, Ident, ObjectName, Select, SelectItem, Statement, TableAlias, TableFactor,
    VisitMut, VisitorMut,
};

/// The set-returning splits, each with the array function it unnests.
const SPLITS: &[(&str, &str)] = &[
    ("regexp_split_to_table", "regexp_split_to_array"),
    ("string_to_table", "string_to_array"),
];

/// The split a function name calls, as (its name, its array function).
fn split_of(name: &ObjectName) -> Option<(&'static str, &'static str)> {
    let last = name.0.last()?.to_string();
    SPLITS
        .iter()
        .find(|(n, _)| last.eq_ignore_ascii_case(n))
        .copied()
}

fn is_matches(name: &ObjectName) -> bool {
    name.0
        .last()
        .is_some_and(|p| p.to_string().eq_ignore_ascii_case("regexp_matches"))
}

/// `CAST(unnest(pg_regexp_matches(args)) AS text[])`.
fn matches_of(f: &Function) -> Expr {
    let mut inner = f.clone();
    inner.name = ObjectName::from(vec![Ident::new("pg_regexp_matches")]);
    crate::sql::parse_expr(&format!("CAST(unnest({inner}) AS text[])"))
        .unwrap_or(Expr::Function(inner))
}

/// `regexp_matches(…)` in FROM: a derived table of its matches, one
/// text[] per row, the column named as PostgreSQL names a function's
/// (the alias, its column alias, or `regexp_matches`).
fn matches_table(
    args: &sqlparser::ast::TableFunctionArgs,
    alias: Option<TableAlias>,
    with_ordinality: bool,
) -> crate::error::Result<TableFactor> {
    if with_ordinality {
        return Err(crate::error::Error::Unsupported(
            "regexp_matches in FROM WITH ORDINALITY".into(),
        ));
    }
    let list: Vec<String> = args.args.iter().map(ToString::to_string).collect();
    let alias = alias.unwrap_or_else(|| TableAlias {
        explicit: true,
        name: Ident::new("regexp_matches"),
        columns: vec![],
        at: None,
    });
    let column = match alias.columns.as_slice() {
        [] => alias.name.clone(),
        [c] => c.name.clone(),
        _ => {
            return Err(crate::error::Error::Syntax(
                "too many column aliases specified for function regexp_matches".into(),
            ))
        }
    };
    let sql = format!(
        "SELECT CAST(unnest(pg_regexp_matches({})) AS text[]) AS {column}",
        list.join(", ")
    );
    Ok(TableFactor::Derived {
        lateral: false,
        subquery: crate::sql::parse_query(&sql)?,
        alias: Some(TableAlias {
            columns: vec![],
            ..alias
        }),
        sample: None,
    })
}

/// `unnest(array_fn(args))` for a call's arguments.
fn unnest_of(f: &Function, array_fn: &str) -> Expr {
    let mut inner = f.clone();
    inner.name = ObjectName::from(vec![Ident::new(array_fn)]);
    let mut outer = f.clone();
    outer.name = ObjectName::from(vec![Ident::new("unnest")]);
    outer.args = sqlparser::ast::FunctionArguments::List(sqlparser::ast::FunctionArgumentList {
        duplicate_treatment: None,
        args: vec![sqlparser::ast::FunctionArg::Unnamed(
            sqlparser::ast::FunctionArgExpr::Expr(Expr::Function(inner)),
        )],
        clauses: vec![],
    });
    Expr::Function(outer)
}

pub(super) fn split_tables(stmt: &mut Statement) -> crate::error::Result<()> {
    struct Split;
    impl VisitorMut for Split {
        type Break = crate::error::Error;
        fn pre_visit_select(&mut self, s: &mut Select) -> ControlFlow<Self::Break> {
            for item in &mut s.projection {
                if let SelectItem::UnnamedExpr(Expr::Function(f)) = item {
                    if let Some((name, array_fn)) = split_of(&f.name) {
                        *item = SelectItem::ExprWithAlias {
                            expr: unnest_of(f, array_fn),
                            alias: Ident::new(name),
                        };
                    } else if is_matches(&f.name) {
                        *item = SelectItem::ExprWithAlias {
                            expr: matches_of(f),
                            alias: Ident::new("regexp_matches"),
                        };
                    }
                }
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<Self::Break> {
            if let Expr::Function(f) = e {
                if let Some((_, array_fn)) = split_of(&f.name) {
                    *e = unnest_of(f, array_fn);
                } else if is_matches(&f.name) {
                    *e = matches_of(f);
                }
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<Self::Break> {
            let TableFactor::Table {
                name,
                args: Some(args),
                alias,
                with_ordinality,
                ..
            } = tf
            else {
                return ControlFlow::Continue(());
            };
            if is_matches(name) {
                return match matches_table(args, alias.take(), *with_ordinality) {
                    Ok(new) => {
                        *tf = new;
                        ControlFlow::Continue(())
                    }
                    Err(e) => ControlFlow::Break(e),
                };
            }
            let Some((fname, array_fn)) = split_of(name) else {
                return ControlFlow::Continue(());
            };
            let list: Vec<String> = args.args.iter().map(ToString::to_string).collect();
            let inner = format!("{array_fn}({})", list.join(", "));
            let alias = alias.take().or_else(|| {
                Some(TableAlias {
                    explicit: true,
                    name: Ident::new(fname),
                    columns: vec![],
                    at: None,
                })
            });
            if let Some(new) = super::function_factor("unnest", &[inner], *with_ordinality, alias) {
                *tf = new;
            }
            ControlFlow::Continue(())
        }
    }
    match stmt.visit(&mut Split) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}
