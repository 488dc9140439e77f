//! The SQL/JSON path functions and operators in the forms the rest of
//! the pipeline runs (`types::json::path` evaluates the paths):
//!
//! - `jsonb_path_query(…)` returns the items `jsonb_path_query_array(…)`
//!   collects, one per row: it becomes `jsonb_array_elements` over that
//!   array, in a SELECT list (named `jsonb_path_query`, as PostgreSQL names
//!   it) and in FROM (its one column named by the alias);
//! - `doc @? path` and `doc @@ path` stay operators, which the typed step
//!   makes `jsonb_path_exists(doc, path, '{}', true)` and
//!   `jsonb_path_match(doc, path, '{}', true)` when `doc` is jsonb;
//! - a cast to `jsonpath` is dropped where one of these reads it (the path
//!   is checked as it is used); elsewhere MosaicDB has no jsonpath type
//!   (0A000).

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, DataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments,
    Ident, ObjectName, Query, SelectItem, SetExpr, Statement, TableAlias, TableFactor, Value,
    VisitMut, VisitorMut,
};

use crate::error::{Error, Result};

/// The functions that take a path as their second argument.
const PATH_FUNCTIONS: &[&str] = &[
    "jsonb_path_exists",
    "jsonb_path_match",
    "jsonb_path_query",
    "jsonb_path_query_array",
    "jsonb_path_query_first",
    "jsonb_path_exists_tz",
    "jsonb_path_match_tz",
    "jsonb_path_query_tz",
    "jsonb_path_query_array_tz",
    "jsonb_path_query_first_tz",
];

fn name_of(f: &Function) -> Option<String> {
    match f.name.0.as_slice() {
        [one] => one.as_ident().map(crate::sql::ident_name),
        [schema, one] if schema.as_ident().is_some_and(|s| s.value == "pg_catalog") => {
            one.as_ident().map(crate::sql::ident_name)
        }
        _ => None,
    }
}

fn is_jsonpath(dt: &DataType) -> bool {
    matches!(dt, DataType::Custom(n, _) if n.to_string().eq_ignore_ascii_case("jsonpath"))
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    let mut f = match crate::sql::parse_expr(&format!("{name}()")) {
        Ok(Expr::Function(f)) => f,
        _ => return Expr::Value(Value::Null.into()),
    };
    if let FunctionArguments::List(l) = &mut f.args {
        l.args = args
            .into_iter()
            .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
            .collect();
    }
    Expr::Function(f)
}

/// `jsonb_path_query(args)` as `jsonb_array_elements(jsonb_path_query_array(args))`.
fn query_as_elements(f: &mut Function) {
    let inner = Function {
        name: ObjectName::from(vec![Ident::new("jsonb_path_query_array")]),
        ..f.clone()
    };
    if let Expr::Function(outer) = call("jsonb_array_elements", vec![Expr::Function(inner)]) {
        *f = outer;
    }
}

struct PathRewrite {
    error: Option<Error>,
}

impl PathRewrite {
    /// `f`'s arguments in order (target, path, vars, silent; named ones
    /// put in their place, the defaults `'{}'` and false filled in before
    /// them), the casts to jsonpath dropped.
    fn path_arguments(&mut self, f: &mut Function) {
        let slots = match crate::sql::argument_slots(f, &["target", "path", "vars", "silent"]) {
            Ok(slots) => slots,
            Err(e) => {
                self.error = Some(e);
                return;
            }
        };
        let FunctionArguments::List(l) = &mut f.args else {
            return;
        };
        l.args.clear();
        let last = slots.iter().rposition(Option::is_some).unwrap_or(0);
        let defaults = [
            None,
            None,
            Some(Expr::Value(Value::SingleQuotedString("{}".into()).into())),
            Some(Expr::Value(Value::Boolean(false).into())),
        ];
        for (i, slot) in slots.into_iter().enumerate().take(last + 1) {
            let Some(mut e) = slot.or_else(|| defaults[i].clone()) else {
                self.error = Some(Error::NoSuchFunction(format!(
                    "{} without its target or path",
                    f.name
                )));
                return;
            };
            if let Expr::Cast {
                expr, data_type, ..
            } = &mut e
            {
                if is_jsonpath(data_type) {
                    e = std::mem::replace(expr.as_mut(), Expr::Value(Value::Null.into()));
                }
            }
            l.args.push(FunctionArg::Unnamed(FunctionArgExpr::Expr(e)));
        }
    }
}

impl VisitorMut for PathRewrite {
    type Break = ();

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        name_select_items(&mut q.body);
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, t: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name,
            args: Some(args),
            alias,
            ..
        } = t
        else {
            return ControlFlow::Continue(());
        };
        let last = name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(crate::sql::ident_name);
        if !matches!(
            last.as_deref(),
            Some("jsonb_path_query" | "jsonb_path_query_tz")
        ) {
            return ControlFlow::Continue(());
        }
        // The one column is named by the alias, or by the function.
        let column = alias
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_else(|| Ident::new("jsonb_path_query"));
        let a = alias.get_or_insert_with(|| TableAlias {
            explicit: true,
            name: column.clone(),
            columns: vec![],
            at: None,
        });
        if a.columns.is_empty() {
            a.columns = vec![sqlparser::ast::TableAliasColumnDef {
                name: column,
                data_type: None,
            }];
        }
        let inner = Function {
            name: ObjectName::from(vec![Ident::new("jsonb_path_query_array")]),
            uses_odbc_syntax: false,
            parameters: FunctionArguments::None,
            args: FunctionArguments::List(sqlparser::ast::FunctionArgumentList {
                duplicate_treatment: None,
                args: args.args.clone(),
                clauses: vec![],
            }),
            filter: None,
            null_treatment: None,
            over: None,
            within_group: vec![],
        };
        let mut inner = inner;
        self.path_arguments(&mut inner);
        args.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Function(
            inner,
        )))];
        *name = ObjectName::from(vec![Ident::new("jsonb_array_elements")]);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        match e {
            // The typed step makes these calls, where the operand types
            // are known (`@@` of text is text search).
            Expr::BinaryOp {
                op: BinaryOperator::AtQuestion | BinaryOperator::AtAt,
                right,
                ..
            } => {
                if let Expr::Cast {
                    expr, data_type, ..
                } = right.as_mut()
                {
                    if is_jsonpath(data_type) {
                        let inner =
                            std::mem::replace(expr.as_mut(), Expr::Value(Value::Null.into()));
                        **right = inner;
                    }
                }
            }
            Expr::Function(f) => {
                let Some(name) = name_of(f) else {
                    return ControlFlow::Continue(());
                };
                if PATH_FUNCTIONS.contains(&name.as_str()) {
                    self.path_arguments(f);
                    if name.starts_with("jsonb_path_query")
                        && !name.contains("array")
                        && !name.contains("first")
                    {
                        query_as_elements(f);
                    }
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        if matches!(e, Expr::Cast { data_type, .. } if is_jsonpath(data_type)) {
            self.error = Some(Error::Unsupported(
                "the jsonpath type outside the jsonb_path functions and the @? and @@ operators"
                    .into(),
            ));
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

/// A SELECT list's unaliased `jsonb_path_query(…)` keeps its name.
fn name_select_items(body: &mut SetExpr) {
    match body {
        SetExpr::Select(s) => {
            for item in &mut s.projection {
                if let SelectItem::UnnamedExpr(Expr::Function(f)) = item {
                    let name = name_of(f);
                    if matches!(
                        name.as_deref(),
                        Some("jsonb_path_query" | "jsonb_path_query_tz")
                    ) {
                        *item = SelectItem::ExprWithAlias {
                            expr: Expr::Function(f.clone()),
                            alias: Ident::new(name.unwrap_or_default()),
                        };
                    }
                }
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            name_select_items(left);
            name_select_items(right);
        }
        _ => {}
    }
}

/// Whether `sql` may hold what this module rewrites (every statement
/// passes here; most skip the walk).
pub(super) fn mentioned(sql: &str) -> bool {
    sql.contains("@?")
        || sql.contains("@@")
        || super::mentions(sql, "jsonpath")
        || super::mentions(sql, "jsonb_pa")
}

/// Rewrite `stmt`'s path functions and operators (see the module doc).
pub(super) fn rewrite(stmt: &mut Statement) -> Result<()> {
    let mut r = PathRewrite { error: None };
    let _ = stmt.visit(&mut r);
    match r.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
