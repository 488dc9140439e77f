//! The ordered-set aggregates (`percentile_cont`, `percentile_disc`,
//! `mode` WITHIN GROUP) as `store::udf::ordered`'s calls, their values
//! sorted by SQLite's ORDER BY inside the call under the value type's
//! collation; the binary statistics (`corr`, `covar_*`, `regr_*`) and
//! the bit aggregates checked for their argument types. None of them is
//! a window function here.

use sqlparser::ast::{
    DuplicateTreatment, Expr, Function, FunctionArgumentClause, FunctionArguments, OrderByExpr,
};

use super::expr::{arg_exprs, call, refuse, string, take};
use super::{collate_as, Typer};
use crate::error::{Error, Result};
use crate::types::array::Family;
use crate::types::PgType;

use crate::sql::validate::BINARY_STATISTICS as BINARY;

const BITS: &[&str] = &["bit_and", "bit_or", "bit_xor"];

fn no_such(name: &str, types: &[PgType]) -> Error {
    let shown: Vec<String> = types.iter().map(PgType::display_name).collect();
    Error::NoSuchFunction(format!("{name}({})", shown.join(", ")))
}

/// A type PostgreSQL casts to double precision implicitly.
fn to_float(t: &PgType) -> bool {
    matches!(
        t,
        PgType::Int2
            | PgType::Int4
            | PgType::Int8
            | PgType::Float4
            | PgType::Float8
            | PgType::Numeric(_)
            | PgType::Unknown
    )
}

impl Typer<'_> {
    /// One of this module's aggregates, checked and (for the ordered-set
    /// ones) rewritten; true when `e` was one.
    pub(super) fn ordered_call(&mut self, e: &mut Expr, name: &str) -> Result<bool> {
        let Expr::Function(f) = e else {
            return Ok(false);
        };
        let ordered = matches!(name, "percentile_cont" | "percentile_disc" | "mode");
        if !ordered && !BINARY.contains(&name) && !BITS.contains(&name) {
            return Ok(false);
        }
        if f.over.is_some() {
            return Err(refuse(if ordered {
                format!("OVER for ordered-set aggregate {name}")
            } else {
                format!("{name} as a window function")
            }));
        }
        let types: Vec<PgType> = {
            let args: Vec<Expr> = arg_exprs(f).into_iter().map(|x| x.clone()).collect();
            args.iter().map(|a| self.type_of(a)).collect()
        };
        if ordered {
            *e = self.within_group(f, name, &types)?;
        } else if !f.within_group.is_empty() {
            return Err(Error::WrongObjectType(format!(
                "{name} is not an ordered-set aggregate, so it cannot have WITHIN GROUP"
            )));
        } else if BINARY.contains(&name) {
            if types.len() != 2 || !types.iter().all(to_float) {
                return Err(no_such(name, &types));
            }
        } else if !matches!(
            types.as_slice(),
            [PgType::Int2 | PgType::Int4 | PgType::Int8]
        ) {
            return Err(no_such(name, &types));
        }
        Ok(true)
    }

    /// `percentile_cont(p) WITHIN GROUP (ORDER BY x)` as
    /// `pg_percentile_check(p, pg_percentile_cont(p, x ORDER BY x))`, and
    /// the others alike (`pg_mode(x, family ORDER BY x)`).
    fn within_group(&mut self, f: &mut Function, name: &str, types: &[PgType]) -> Result<Expr> {
        let direct = usize::from(name != "mode");
        if f.within_group.len() != 1 {
            let mut shown = types.to_vec();
            shown.extend(f.within_group.iter().map(|_| PgType::Unknown));
            return Err(no_such(name, &shown));
        }
        if types.len() != direct {
            return Err(no_such(name, types));
        }
        if let FunctionArguments::List(l) = &f.args {
            if matches!(l.duplicate_treatment, Some(DuplicateTreatment::Distinct)) {
                return Err(refuse(format!("DISTINCT in {name} WITHIN GROUP")));
            }
        }
        // An array of fractions gives an array of answers.
        let many = matches!(types.first(), Some(PgType::Array(_)));
        match (types.first(), arg_exprs(f).into_iter().next()) {
            (Some(PgType::Array(elem)), _) if to_float(elem) => {}
            (Some(PgType::Array(_)), _) => return Err(no_such(name, types)),
            // A literal or NULL fraction is a double precision one.
            (_, Some(a)) if super::is_plain_literal(a) => {
                *a = super::cast_to(take(a), &PgType::Float8)?;
            }
            (Some(t), _) if !to_float(t) => return Err(no_such(name, types)),
            _ => {}
        }
        let key = &mut f.within_group[0];
        let kt = self.type_of(&key.expr);
        let family = match (&kt, name) {
            (PgType::Interval, "percentile_cont") => {
                return Err(refuse("percentile_cont over interval".into()))
            }
            (t, "percentile_cont") if !to_float(t) => {
                let mut shown = types.to_vec();
                shown.push(kt.clone());
                return Err(no_such(name, &shown));
            }
            (PgType::Enum(_), _) => Family::Text,
            (t, _) => Family::of(t)
                .ok_or_else(|| refuse(format!("{name} over type {}", t.display_name())))?,
        };
        let value = take(&mut key.expr);
        let order = OrderByExpr {
            expr: collate_as(value.clone(), &kt),
            options: key.options.clone(),
            with_fill: None,
        };
        let mut args: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
        let fraction = args.first().cloned().filter(|_| !many);
        args.push(value);
        if name == "mode" {
            args.push(string(family.name().into()));
        }
        let udf = match (many, name) {
            (true, "percentile_disc") => {
                args.push(string(crate::types::cast_spec(&kt)));
                "pg_percentile_disc_multi".to_string()
            }
            (true, _) => format!("pg_{name}_multi"),
            _ => format!("pg_{name}"),
        };
        let Expr::Function(mut g) = call(&udf, args) else {
            return Err(Error::Internal("call builds a function".into()));
        };
        if let FunctionArguments::List(l) = &mut g.args {
            l.clauses.push(FunctionArgumentClause::OrderBy(vec![order]));
        }
        g.filter = f.filter.take();
        Ok(match fraction {
            Some(p) => call("pg_percentile_check", vec![p, Expr::Function(g)]),
            None => Expr::Function(g),
        })
    }
}
