//! The array functions on known array types (`array_length`,
//! `array_position`, `array_append`, `array_to_string`, …) as the calls
//! of `store::udf::array`, told their elements' family; `min`/`max` of
//! an array under its collation, and `unnest` in a SELECT list told its
//! family for `sql::rewrite::pg_catalog`'s set-returning functions.

use sqlparser::ast::{Expr, Function};

use super::super::expr::{arg_exprs, call, func_name, string, take};
use super::super::Typer;
use super::{elements, family};
use crate::error::{Error, Result};
use crate::types::{cast_spec, PgType};

/// The functions whose array argument is the first.
const ON_FIRST: &[&str] = &[
    "array_length",
    "array_upper",
    "array_lower",
    "array_ndims",
    "array_dims",
    "cardinality",
    "array_position",
    "array_positions",
    "array_append",
    "array_cat",
    "array_remove",
    "array_replace",
    "array_to_string",
    "trim_array",
    "unnest",
    "min",
    "max",
    "array_agg",
];

fn rename(f: &mut Function, name: &str) {
    f.name = sqlparser::ast::ObjectName::from(vec![sqlparser::ast::Ident::new(name)]);
}

impl Typer<'_> {
    /// An array function over a known array type; true when `e` was one.
    pub(in super::super) fn array_call(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::Function(f) = e else {
            return Ok(false);
        };
        let name = func_name(f);
        if matches!(name.as_str(), "array_agg" | "string_agg") {
            self.collate_aggregate_order(f);
        }
        match name.as_str() {
            "string_to_array" => {
                rename(f, "pg_string_to_array");
                return Ok(true);
            }
            "array_fill" => {
                rename(f, "pg_arr_fill");
                return Ok(true);
            }
            _ => {}
        }
        let which = match name.as_str() {
            "array_prepend" => 1,
            n if ON_FIRST.contains(&n) => 0,
            _ => return Ok(false),
        };
        let types: Vec<PgType> = {
            let args: Vec<Expr> = arg_exprs(f).into_iter().map(|x| x.clone()).collect();
            args.iter().map(|a| self.type_of(a)).collect()
        };
        let Some(arr) = types.get(which).cloned() else {
            return Ok(false);
        };
        let Some((elem, fam)) = elements(&arr) else {
            let aggregate = matches!(name.as_str(), "min" | "max" | "array_agg");
            if !aggregate && !matches!(arr, PgType::Text | PgType::Unknown | PgType::Array(_)) {
                let shown: Vec<String> = types.iter().map(PgType::display_name).collect();
                return Err(Error::NoSuchFunction(format!(
                    "{name}({})",
                    shown.join(", ")
                )));
            }
            return Ok(false);
        };
        let mut args: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
        // The element arguments, of the element type.
        let element_args: &[usize] = match name.as_str() {
            "array_position" | "array_positions" | "array_append" | "array_remove" => &[1],
            "array_replace" => &[1, 2],
            "array_prepend" => &[0],
            _ => &[],
        };
        for &i in element_args {
            if let (Some(a), Some(t)) = (args.get_mut(i), types.get(i)) {
                let x = take(a);
                *a = self.element_of(x, t, &elem)?;
            }
        }
        let fam_arg = family(fam);
        let new = match name.as_str() {
            "array_length" | "array_upper" | "array_lower" | "array_ndims" | "array_dims"
            | "cardinality" => call(
                &format!("pg_arr_{}", name.strip_prefix("array_").unwrap_or(&name)),
                args,
            ),
            "array_position" | "array_positions" | "array_remove" | "array_replace" => {
                args.push(fam_arg);
                call(&format!("pg_arr_{}", &name["array_".len()..]), args)
            }
            "array_append" | "array_prepend" => {
                call(&format!("pg_arr_{}", &name["array_".len()..]), args)
            }
            "trim_array" => call("pg_arr_trim", args),
            "array_cat" => {
                if let (Some(b), Some(t)) = (args.get_mut(1), types.get(1)) {
                    if matches!(t, PgType::Array(_)) && elements(t).map(|x| x.1) != Some(fam) {
                        let shown: Vec<String> = types.iter().map(PgType::display_name).collect();
                        return Err(Error::NoSuchFunction(format!(
                            "{name}({})",
                            shown.join(", ")
                        )));
                    }
                    if *t != arr {
                        self.as_array(b, &arr)?;
                    }
                }
                call("pg_arr_cat", args)
            }
            "array_to_string" => {
                let (array, arr) = super::super::zone::array_text(take(&mut args[0]), &arr);
                args[0] = array;
                args.push(string(cast_spec(&arr)));
                args.push(fam_arg);
                call("pg_arr_to_string", args)
            }
            "unnest" if args.len() == 1 => {
                args.push(fam_arg);
                rename(f, "unnest");
                set_args(f, args);
                return Ok(true);
            }
            "min" | "max" => {
                let collated = args
                    .into_iter()
                    .map(|a| super::super::collate_as(a, &arr))
                    .collect();
                set_args(f, collated);
                return Ok(true);
            }
            "array_agg" => return Err(Error::Unsupported("array_agg of arrays".into())),
            _ => return Ok(false),
        };
        *e = new;
        Ok(true)
    }
}

impl Typer<'_> {
    /// An aggregate's own ORDER BY keys under their types' collations.
    fn collate_aggregate_order(&mut self, f: &mut Function) {
        let sqlparser::ast::FunctionArguments::List(l) = &mut f.args else {
            return;
        };
        // PostgreSQL sorts a DISTINCT aggregate's input to find its
        // duplicates, so array_agg(DISTINCT x) gathers in x's order.
        let distinct = matches!(
            l.duplicate_treatment,
            Some(sqlparser::ast::DuplicateTreatment::Distinct)
        );
        let ordered = l
            .clauses
            .iter()
            .any(|c| matches!(c, sqlparser::ast::FunctionArgumentClause::OrderBy(_)));
        // And finds them by value: numerics 1.5 and 1.50 are one.
        if let (
            true,
            Some(sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(
                first,
            ))),
        ) = (distinct, l.args.first_mut())
        {
            let ty = self.type_of(first);
            if super::super::collated_type(&ty) {
                let inner = take(first);
                *first = super::super::collate_as(inner, &ty);
            }
        }
        if let (
            true,
            false,
            Some(sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(
                first,
            ))),
        ) = (distinct, ordered, l.args.first())
        {
            l.clauses
                .push(sqlparser::ast::FunctionArgumentClause::OrderBy(vec![
                    sqlparser::ast::OrderByExpr {
                        expr: first.clone(),
                        options: Default::default(),
                        with_fill: None,
                    },
                ]));
        }
        for clause in &mut l.clauses {
            if let sqlparser::ast::FunctionArgumentClause::OrderBy(keys) = clause {
                for k in keys {
                    let ty = self.type_of(&k.expr);
                    if super::super::collated_type(&ty) {
                        let inner = take(&mut k.expr);
                        k.expr = super::super::collate_as(inner, &ty);
                    }
                }
            }
        }
    }
}

/// Put `args` back as `f`'s arguments, in order.
fn set_args(f: &mut Function, args: Vec<Expr>) {
    let mut args = args.into_iter();
    for slot in arg_exprs(f) {
        if let Some(a) = args.next() {
            *slot = a;
        }
    }
    let rest: Vec<Expr> = args.collect();
    if let sqlparser::ast::FunctionArguments::List(l) = &mut f.args {
        l.args.extend(rest.into_iter().map(|a| {
            sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(a))
        }));
    }
}
