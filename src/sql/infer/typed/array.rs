//! The typed step for arrays (`types::array`): where an operand's type is
//! a known array type, `ARRAY[…]`, casts, subscripts and slices,
//! comparisons, `||`, `@>`/`<@`/`&&`, ANY/ALL and the array functions
//! become the calls of `store::udf::array`, each told its elements'
//! family; a quoted literal an array meets is read as one of its type.
//! Arrays the catalog keeps as text (`pg_catalog`'s `text[]` columns are
//! typed text) are left to `sql::rewrite::pg_catalog`.

use std::mem::discriminant;

use sqlparser::ast::{AccessExpr, BinaryOperator as Op, DataType, Expr, InTarget, Subscript};

use super::expr::{call, not, string, take};
use super::{cast_to, Typer};
use crate::error::{Error, Result};
use crate::sql::infer::expr::common_type;
use crate::types::array::Family;
use crate::types::{cast_spec, PgType};

/// Names of the calls this step emits, which it leaves alone when it meets
/// them again.
pub(super) fn is_array_call(name: &str) -> bool {
    name.starts_with("pg_arr_")
        || matches!(name, "pg_array" | "pg_array_get" | "pg_string_to_array")
}

/// The element type and family of an array type.
fn elements(ty: &PgType) -> Option<(PgType, Family)> {
    match ty {
        PgType::Array(elem) => Some((*elem.clone(), Family::of(elem)?)),
        _ => None,
    }
}

fn family(f: Family) -> Expr {
    string(f.name().into())
}

/// 42883 for an operator between types that have none.
fn no_operator(op: &str, l: &PgType, r: &PgType) -> Error {
    Error::NoSuchOperator(format!(
        "operator does not exist: {} {op} {}",
        l.display_name(),
        r.display_name()
    ))
    .with_hint(
        "No operator matches the given name and argument types. You might need to add explicit type casts.",
    )
}

/// Whether `e` is an untyped literal or parameter (PostgreSQL's unknown).
fn untyped(e: &Expr, ty: &PgType) -> bool {
    *ty == PgType::Unknown
        || matches!(e, Expr::Value(v) if matches!(v.value,
            sqlparser::ast::Value::SingleQuotedString(_) | sqlparser::ast::Value::Null))
}

/// The family two types compare in, when one side is an element of an
/// array of the other's (`x = ANY(a)`): numbers meet at the wider type.
fn compared_family(x: &PgType, elem: &PgType) -> Option<Family> {
    let common = common_type(&[elem.clone(), x.clone()]);
    Family::of(&common)
}

/// Whether a value of type `own` can be an element of type `elem`:
/// the same family, or numbers that meet.
fn matchable(own: &PgType, elem: &PgType) -> bool {
    let number = crate::types::number::is_number;
    *own == PgType::Unknown
        || discriminant(own) == discriminant(elem)
        || number(own) && number(elem)
        || Family::of(own) == Family::of(elem)
            && !matches!(own, PgType::Bool)
            && !matches!(elem, PgType::Bool)
}

fn zero() -> Expr {
    Expr::Value(sqlparser::ast::Value::Number("0".into(), false).into())
}

fn comparison(op: &Op) -> Option<&'static str> {
    Some(match op {
        Op::Eq => "=",
        Op::NotEq => "<>",
        Op::Lt => "<",
        Op::LtEq => "<=",
        Op::Gt => ">",
        Op::GtEq => ">=",
        _ => return None,
    })
}

impl Typer<'_> {
    /// An array expression made explicit; true when `e` was one.
    pub(super) fn array_expr(&mut self, e: &mut Expr) -> Result<bool> {
        match e {
            Expr::Array(_) => self.constructor(e),
            Expr::Cast { .. } => self.array_cast(e),
            Expr::CompoundFieldAccess { .. } => self.subscript(e),
            Expr::BinaryOp { .. } => self.array_binary(e),
            Expr::AnyOp { .. } | Expr::AllOp { .. } => self.quantified_array(e),
            Expr::IsDistinctFrom(..) | Expr::IsNotDistinctFrom(..) => self.array_distinct(e),
            Expr::Function(_) => self.array_call(e),
            _ => Ok(false),
        }
    }

    /// `e` as an array of type `ty`: a quoted literal or parameter is read
    /// as one, an array of another element type is cast.
    fn as_array(&mut self, e: &mut Expr, ty: &PgType) -> Result<()> {
        let own = self.type_of(e);
        if own == *ty {
            return Ok(());
        }
        let inner = take(e);
        *e = cast_to(inner, ty)?;
        Ok(())
    }

    /// `ARRAY[a, b, …]`: each element of the common type.
    fn constructor(&mut self, e: &mut Expr) -> Result<bool> {
        let ty = self.type_of(e);
        let Expr::Array(arr) = e else {
            return Ok(false);
        };
        if arr.elem.is_empty() {
            return Err(Error::IndeterminateDatatype(
                "cannot determine type of empty array".into(),
            ));
        }
        let Some((elem, _)) = elements(&ty) else {
            return match ty {
                PgType::Array(elem) => Err(Error::Unsupported(format!(
                    "arrays of {}",
                    elem.display_name()
                ))),
                _ => Ok(false),
            };
        };
        let mut items = std::mem::take(&mut arr.elem);
        for item in &mut items {
            let own = self.type_of(item);
            if !matchable(&own, &elem) && !untyped(item, &own) {
                return Err(Error::DatatypeMismatch(format!(
                    "ARRAY types {} and {} cannot be matched",
                    elem.display_name(),
                    own.display_name()
                )));
            }
            if discriminant(&own) != discriminant(&elem) && own != PgType::Unknown
                || untyped(item, &own) && elem != PgType::Text
            {
                let inner = take(item);
                *item = cast_to(inner, &elem)?;
            }
        }
        *e = call("pg_array", items);
        Ok(true)
    }

    /// A cast to an array type, or of an array to text.
    fn array_cast(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::Cast {
            expr, data_type, ..
        } = e
        else {
            return Ok(false);
        };
        let own = self.type_of(expr);
        if let (Some((_, from)), true) = (elements(&own), is_text_type(data_type)) {
            let _ = from;
            let (array, spec) = super::zone::array_text(take(expr), &own);
            *e = call("pg_arr_out", vec![array, string(cast_spec(&spec))]);
            return Ok(true);
        }
        if !matches!(data_type, DataType::Array(_)) {
            return Ok(false);
        }
        // An array of a type MosaicDB lacks is refused, not left to SQLite.
        let target = PgType::from_sql(data_type)?;
        let Some((elem, _)) = elements(&target) else {
            return Ok(false);
        };
        if let Expr::Array(arr) = expr.as_mut() {
            if arr.elem.is_empty() {
                *e = string("{}".into());
                return Ok(true);
            }
            // Each element cast; the constructor then has the type.
            for item in &mut arr.elem {
                let inner = take(item);
                *item = cast_to(inner, &elem)?;
            }
            *e = take(expr);
            return self.constructor(e);
        }
        let spec = string(cast_spec(&target));
        *e = match elements(&own) {
            Some((from, _)) if from == elem => take(expr),
            Some((_, from)) => call("pg_arr_cast", vec![take(expr), family(from), spec]),
            None => call("pg_cast", vec![take(expr), spec]),
        };
        Ok(true)
    }

    /// `a[i]` and `a[lo:hi]`.
    fn subscript(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::CompoundFieldAccess { root, access_chain } = e else {
            return Ok(false);
        };
        let root_ty = self.type_of(root);
        if root_ty == PgType::Jsonb {
            return self.jsonb_subscript(e).map(|()| true);
        }
        let Some((_, fam)) = elements(&root_ty) else {
            if !matches!(root_ty, PgType::Text | PgType::Unknown | PgType::Array(_)) {
                return Err(Error::DatatypeMismatch(format!(
                    "cannot subscript type {} because it does not support subscripting",
                    root_ty.display_name()
                )));
            }
            return Ok(false);
        };
        let star = || string("*".into());
        let new = match access_chain.as_mut_slice() {
            [AccessExpr::Subscript(Subscript::Index { index })] => {
                call("pg_array_get", vec![take(root), take(index), family(fam)])
            }
            [AccessExpr::Subscript(Subscript::Slice {
                lower_bound,
                upper_bound,
                stride: None,
            })] => call(
                "pg_arr_slice",
                vec![
                    take(root),
                    lower_bound.take().unwrap_or_else(star),
                    upper_bound.take().unwrap_or_else(star),
                ],
            ),
            _ => {
                return Err(Error::Unsupported(
                    "array subscripts other than a[i] and a[lo:hi]".into(),
                ))
            }
        };
        *e = new;
        Ok(true)
    }

    /// Comparisons, `||`, `@>`, `<@` and `&&` with an array operand.
    fn array_binary(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::BinaryOp { left, op, right } = e else {
            return Ok(false);
        };
        let (l, r) = (self.type_of(left), self.type_of(right));
        let (Some(arr), other_left) = (match (elements(&l), elements(&r)) {
            (Some(_), _) => (Some(l.clone()), false),
            (None, Some(_)) => (Some(r.clone()), true),
            _ => (None, false),
        }) else {
            return Ok(false);
        };
        let Some((elem, fam)) = elements(&arr) else {
            return Ok(false);
        };
        let op = op.clone();
        if op == Op::StringConcat {
            return self.concat(e, &l, &r).map(|_| true);
        }
        let contains = matches!(op, Op::AtArrow | Op::ArrowAt | Op::PGOverlap);
        let Some(sym) = comparison(&op).or(contains.then_some("")) else {
            return Ok(false);
        };
        // The other side: an array of the same family, or an untyped
        // literal read as this array type.
        let (other, other_ty) = if other_left {
            (&mut **left, &l)
        } else {
            (&mut **right, &r)
        };
        match elements(other_ty) {
            Some((o, f)) if f == fam && discriminant(&o) == discriminant(&elem) => {}
            _ if untyped(other, other_ty) => {
                let arr_ty = arr.clone();
                self.as_array(other, &arr_ty)?;
            }
            _ => {
                let opname = if contains {
                    op.to_string()
                } else {
                    sym.to_string()
                };
                return Err(no_operator(&opname, &l, &r));
            }
        }
        let (a, b) = (take(left), take(right));
        *e = match op {
            Op::AtArrow => call("pg_arr_contains", vec![a, b, family(fam)]),
            Op::ArrowAt => call("pg_arr_contains", vec![b, a, family(fam)]),
            Op::PGOverlap => call("pg_arr_overlap", vec![a, b, family(fam)]),
            op => Expr::BinaryOp {
                left: Box::new(call("pg_arr_cmp", vec![a, b, family(fam)])),
                op,
                right: Box::new(zero()),
            },
        };
        Ok(true)
    }

    /// `a || b`, `a || x`, `x || a`: an untyped literal is an array.
    fn concat(&mut self, e: &mut Expr, l: &PgType, r: &PgType) -> Result<()> {
        let Expr::BinaryOp { left, right, .. } = e else {
            return Ok(());
        };
        let new = match (elements(l), elements(r)) {
            (Some(_), Some(_)) => {
                if l != r {
                    return Err(no_operator("||", l, r));
                }
                call("pg_arr_cat", vec![take(left), take(right)])
            }
            (Some((elem, _)), None) => {
                if untyped(right, r)
                    && !matches!(**right, Expr::Value(ref v) if v.value == sqlparser::ast::Value::Null)
                {
                    self.as_array(right, l)?;
                    call("pg_arr_cat", vec![take(left), take(right)])
                } else {
                    // A wider number widens the array (int[] || numeric).
                    let wider = common_type(&[elem.clone(), r.clone()]);
                    let elem = if matchable(r, &elem) && discriminant(&wider) != discriminant(&elem)
                    {
                        let to = PgType::Array(Box::new(wider.clone()));
                        self.as_array(left, &to)?;
                        wider
                    } else {
                        elem
                    };
                    let x = self.element_of(take(right), r, &elem)?;
                    call("pg_arr_append", vec![take(left), x])
                }
            }
            (None, Some((elem, _))) => {
                if untyped(left, l)
                    && !matches!(**left, Expr::Value(ref v) if v.value == sqlparser::ast::Value::Null)
                {
                    self.as_array(left, r)?;
                    call("pg_arr_cat", vec![take(left), take(right)])
                } else {
                    let x = self.element_of(take(left), l, &elem)?;
                    call("pg_arr_prepend", vec![x, take(right)])
                }
            }
            (None, None) => return Ok(()),
        };
        *e = new;
        Ok(())
    }

    /// A value as an element of type `elem` (cast when its type differs).
    fn element_of(&mut self, x: Expr, ty: &PgType, elem: &PgType) -> Result<Expr> {
        if discriminant(ty) == discriminant(elem) && *ty != PgType::Unknown {
            return Ok(x);
        }
        if matches!(&x, Expr::Value(v) if v.value == sqlparser::ast::Value::Null) {
            return Ok(x);
        }
        let compatible = Family::of(ty).is_some_and(|f| Family::of(elem) == Some(f))
            || untyped(&x, ty)
            || discriminant(&common_type(&[elem.clone(), ty.clone()])) == discriminant(elem);
        if !compatible {
            return Err(Error::NoSuchFunction(format!(
                "array_append({}[], {})",
                elem.display_name(),
                ty.display_name()
            )));
        }
        cast_to(x, elem)
    }

    /// `x op ANY(a)` / `x op ALL(a)` over an array (not a subquery).
    fn quantified_array(&mut self, e: &mut Expr) -> Result<bool> {
        let all = matches!(e, Expr::AllOp { .. });
        let (Expr::AnyOp {
            left,
            compare_op,
            right,
            ..
        }
        | Expr::AllOp {
            left,
            compare_op,
            right,
        }) = e
        else {
            return Ok(false);
        };
        let mut inner = &mut **right;
        while let Expr::Nested(x) = inner {
            inner = x;
        }
        if matches!(inner, Expr::Subquery(_)) {
            return Ok(false);
        }
        // `x = ANY(ARRAY[…])` and `x <> ALL(ARRAY[…])` are IN lists.
        if let Expr::Array(arr) = inner {
            let x_ty = self.type_of(left);
            let elem = match self.type_of(&Expr::Array(arr.clone())) {
                PgType::Array(elem) => *elem,
                _ => PgType::Unknown,
            };
            if !untyped(left, &x_ty) && !matchable(&x_ty, &elem) {
                return Err(no_operator(
                    comparison(compare_op).unwrap_or("="),
                    &x_ty,
                    &elem,
                ));
            }
            let list = match (all, &*compare_op) {
                (false, Op::Eq) | (true, Op::NotEq) => std::mem::take(&mut arr.elem),
                _ => vec![],
            };
            if !list.is_empty() {
                *e = Expr::In {
                    expr: Box::new(take(left)),
                    target: InTarget::List(list),
                    negated: all,
                    global: false,
                };
                return Ok(false);
            }
        }
        let Some(sym) = comparison(compare_op) else {
            return Ok(false);
        };
        let x_ty = self.type_of(left);
        let mut a_ty = self.type_of(right);
        if !matches!(a_ty, PgType::Array(_) | PgType::Text | PgType::Unknown) {
            return Err(Error::WrongObjectType(
                "op ANY/ALL (array) requires array on right side".into(),
            ));
        }
        if elements(&a_ty).is_none() {
            if !untyped(right, &a_ty)
                || x_ty == PgType::Unknown
                || x_ty == PgType::Text && a_ty == PgType::Text
            {
                return Ok(false);
            }
            a_ty = PgType::Array(Box::new(x_ty.clone()));
            if Family::of(&x_ty).is_none() {
                return Ok(false);
            }
            self.as_array(right, &a_ty)?;
        }
        let Some((elem, _)) = elements(&a_ty) else {
            return Ok(false);
        };
        let fam = if untyped(left, &x_ty) {
            let inner = take(left);
            **left = cast_to(inner, &elem)?;
            Family::of(&elem)
        } else {
            compared_family(&x_ty, &elem)
        };
        let Some(fam) = fam.filter(|f| {
            Family::of(&x_ty).is_none_or(|x| x == *f)
                || common_type(&[elem.clone(), x_ty.clone()]) != elem
                || matches!(x_ty, PgType::Int2 | PgType::Int4 | PgType::Int8)
        }) else {
            return Err(no_operator(sym, &x_ty, &elem));
        };
        let name = if all { "pg_arr_all" } else { "pg_arr_any" };
        *e = call(
            name,
            vec![take(left), take(right), string(sym.into()), family(fam)],
        );
        Ok(true)
    }

    /// `a IS [NOT] DISTINCT FROM b` over arrays.
    fn array_distinct(&mut self, e: &mut Expr) -> Result<bool> {
        let negate = matches!(e, Expr::IsNotDistinctFrom(..));
        let (Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b)) = e else {
            return Ok(false);
        };
        let (ta, tb) = (self.type_of(a), self.type_of(b));
        let arr = match (elements(&ta), elements(&tb)) {
            (Some(_), _) => ta.clone(),
            (None, Some(_)) => tb.clone(),
            _ => return Ok(false),
        };
        let Some((_, fam)) = elements(&arr) else {
            return Ok(false);
        };
        self.as_array(a, &arr)?;
        self.as_array(b, &arr)?;
        let (a, b) = (take(a), take(b));
        let sql = format!(
            "coalesce(pg_arr_cmp({a}, {b}, '{f}') <> 0, ({a}) IS NULL <> ({b}) IS NULL)",
            f = fam.name()
        );
        let d = crate::sql::parse_expr(&sql)?;
        *e = if negate { not(d) } else { d };
        Ok(true)
    }
}

/// Whether a cast target is a text type (an array printed as text).
fn is_text_type(dt: &DataType) -> bool {
    matches!(PgType::from_sql(dt), Ok(PgType::Text | PgType::Varchar(_)))
}

mod calls;

impl Typer<'_> {
    /// `unnest(a, …)` in FROM over known array types: each array followed
    /// by its family, for `sql::rewrite::pg_catalog`'s table functions.
    pub(super) fn unnest_factor(&mut self, tf: &mut sqlparser::ast::TableFactor) -> Result<()> {
        use sqlparser::ast::{FunctionArg, FunctionArgExpr};
        let sqlparser::ast::TableFactor::Table {
            name,
            args: Some(args),
            ..
        } = tf
        else {
            return Ok(());
        };
        let fname = crate::sql::object_name(name);
        if fname.strip_prefix("pg_catalog.").unwrap_or(&fname) != "unnest" {
            return Ok(());
        }
        let mut out = Vec::with_capacity(args.args.len() * 2);
        for a in &args.args {
            let FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) = a else {
                return Ok(());
            };
            let ty = self.type_of(x);
            let Some((_, fam)) = elements(&ty) else {
                if args.args.len() == 1 {
                    return Ok(());
                }
                return Err(Error::Unsupported(format!(
                    "unnest of an array of type {}",
                    ty.display_name()
                )));
            };
            out.push(a.clone());
            out.push(FunctionArg::Unnamed(FunctionArgExpr::Expr(family(fam))));
        }
        args.args = out;
        Ok(())
    }
}
