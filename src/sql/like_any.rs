//! `x LIKE ANY (ARRAY[p1, p2])`, `x ILIKE ANY ('{p1,p2}')` and `LIKE ALL`,
//! PostgreSQL's match against each pattern of an array, spelled out as
//! `(x LIKE p1 OR x LIKE p2)` (AND for ALL): the same answer, NULL
//! included (ANY is true when one pattern matches, else NULL when one is
//! NULL, else false; ALL the other way round; `NOT LIKE ANY` is true when
//! one pattern does not match). Only an array written out
//! (`ARRAY[…]` or a `'{…}'` literal) has patterns to spell out; the
//! matched expression is repeated, so one calling a volatile function
//! or holding a subquery is refused, as is any other array.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Query, Statement, Value,
    Visit, VisitMut, Visitor, VisitorMut,
};

use crate::error::{Error, Result};

/// Spell out every `LIKE`/`ILIKE` with `ANY`, `SOME` or `ALL` of `stmt`.
pub(super) fn expand(stmt: &mut Statement) -> Result<()> {
    struct Spell;
    impl VisitorMut for Spell {
        type Break = Error;
        fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<Error> {
            match spell(e) {
                Ok(()) => ControlFlow::Continue(()),
                Err(err) => ControlFlow::Break(err),
            }
        }
    }
    match stmt.visit(&mut Spell) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

fn spell(e: &mut Expr) -> Result<()> {
    let (ilike, any, negated, expr, pattern, escape_char) = match e {
        Expr::Like {
            any,
            negated,
            expr,
            pattern,
            escape_char,
        } => (false, *any, *negated, expr, pattern, escape_char),
        Expr::ILike {
            any,
            negated,
            expr,
            pattern,
            escape_char,
        } => (true, *any, *negated, expr, pattern, escape_char),
        _ => return Ok(()),
    };
    // sqlparser reads `LIKE ALL (a)` and `LIKE SOME (a)` as a call of a
    // function named all or some (reserved words: no function has them).
    let (all, array) = match (any, quantified(pattern)) {
        (true, _) => (false, &**pattern),
        (false, Some(("all", a))) => (true, a),
        (false, Some((_, a))) => (false, a),
        (false, None) => return Ok(()),
    };
    let what = format!(
        "{} {}",
        if ilike { "ILIKE" } else { "LIKE" },
        if all { "ALL" } else { "ANY" }
    );
    let patterns = patterns(array).ok_or_else(|| {
        Error::Unsupported(format!(
            "{what} over an array that is not written out (ARRAY[…] or '{{…}}')"
        ))
    })?;
    if crate::sql::functions::calls_volatile(expr) || has_subquery(expr) {
        return Err(Error::Unsupported(format!(
            "{what} of an expression that calls a volatile function or holds a subquery"
        )));
    }
    let one = |p: Expr| {
        let (expr, pattern, escape_char) = (expr.clone(), Box::new(p), escape_char.clone());
        if ilike {
            Expr::ILike {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            }
        } else {
            Expr::Like {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            }
        }
    };
    let op = if all {
        BinaryOperator::And
    } else {
        BinaryOperator::Or
    };
    let spelled = patterns
        .into_iter()
        .map(one)
        .reduce(|a, b| Expr::BinaryOp {
            left: Box::new(a),
            op: op.clone(),
            right: Box::new(b),
        })
        // ANY over no elements is false, ALL true.
        .unwrap_or(Expr::Value(Value::Boolean(all).into()));
    *e = Expr::Nested(Box::new(spelled));
    Ok(())
}

/// `all(a)` or `some(a)` (lower case) with its one argument.
fn quantified(e: &Expr) -> Option<(&'static str, &Expr)> {
    let Expr::Function(f) = e else {
        return None;
    };
    let name = match crate::sql::object_name(&f.name)
        .to_ascii_lowercase()
        .as_str()
    {
        "all" => "all",
        "some" => "some",
        _ => return None,
    };
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    match list.args.as_slice() {
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(a))] => Some((name, a)),
        _ => None,
    }
}

/// The patterns of an array written out: `ARRAY[…]`'s elements, or a
/// `'{…}'` literal's (a NULL element as NULL).
fn patterns(e: &Expr) -> Option<Vec<Expr>> {
    match e {
        Expr::Nested(inner) => patterns(inner),
        // `ARRAY[]::text[]`, `'{…}'::varchar[]`.
        Expr::Cast {
            expr, data_type, ..
        } if matches!(
            data_type.to_string().to_ascii_lowercase().as_str(),
            "text[]" | "varchar[]" | "character varying[]"
        ) =>
        {
            patterns(expr)
        }
        Expr::Array(a) => Some(a.elem.clone()),
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) if s.trim_start().starts_with('{') => Some(
                crate::types::array::parse_array(s)
                    .into_iter()
                    .map(|p| match p {
                        Some(p) => Expr::Value(Value::SingleQuotedString(p).into()),
                        None => Expr::Value(Value::Null.into()),
                    })
                    .collect(),
            ),
            _ => None,
        },
        _ => None,
    }
}

fn has_subquery(e: &Expr) -> bool {
    struct Queries;
    impl Visitor for Queries {
        type Break = ();
        fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            ControlFlow::Break(())
        }
    }
    e.visit(&mut Queries).is_break()
}
