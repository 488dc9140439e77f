//! The typed step for pgvector's `vector` (`types::vector`): the distance
//! operators `<->` (L2), `<=>` (cosine), `<#>` (negative inner product)
//! and `<+>` (L1), `+ - *`, `||` and comparisons where a vector takes
//! part, casts to and from vectors, and pgvector's functions and
//! aggregates become the `pg_vector_*` calls of `store::udf::vector`. A
//! quoted literal a vector meets is read as a vector here (22P02 and the
//! dimension errors at parse time, as PostgreSQL reports them), and
//! becomes the stored BLOB.

use sqlparser::ast::{BinaryOperator as Op, Expr, Value};

use super::expr::{arg_exprs, call, func_name, take};
use super::values::quoted;
use super::Typer;
use crate::error::{Error, Result};
use crate::types::PgType;

/// How `sql::parse` spells pgvector's `<+>`, which sqlparser reads as `<`
/// and `+>` (`sql::respell_l1_operator`).
pub const L1_OPERATOR: &str = "<%+>";

/// The UDF behind a distance operator.
fn distance_call(op: &Op) -> Option<&'static str> {
    Some(match op {
        Op::LtDashGt => "pg_vector_l2",
        Op::Spaceship => "pg_vector_cosine",
        Op::Custom(c) if c == "<#>" => "pg_vector_neg_ip",
        Op::Custom(c) if c == L1_OPERATOR => "pg_vector_l1",
        _ => return None,
    })
}

/// An operator as PostgreSQL prints it in a message.
fn op_text(op: &Op) -> String {
    match op {
        Op::Custom(c) if c == L1_OPERATOR => "<+>".into(),
        other => other.to_string(),
    }
}

/// Functions that take a value of any type and pass a vector through or
/// only look at whether it is NULL.
const TAKES_ANY: &[&str] = &[
    "count",
    "coalesce",
    "nullif",
    "pg_typeof",
    "num_nulls",
    "num_nonnulls",
];

/// Names of the calls this step emits.
pub(super) fn is_vector_call(name: &str) -> bool {
    name.starts_with("pg_vector_")
}

/// A sort key of type vector in pgvector's btree order: text that sorts
/// by bytes as the vectors sort (`pg_vector_sortkey`).
pub(super) fn sort_key(key: Expr) -> Expr {
    call("pg_vector_sortkey", vec![key])
}

/// A sort key naming a vector output column by position or alias, which
/// cannot be wrapped in `sort_key`.
pub(super) fn output_key_refused() -> Error {
    Error::Unsupported(
        "ORDER BY a vector output column by its position or alias (write the expression)".into(),
    )
}

/// The UDF behind one of pgvector's functions of vectors.
fn function_call(name: &str) -> Option<&'static str> {
    Some(match name {
        "l2_distance" => "pg_vector_l2",
        "cosine_distance" => "pg_vector_cosine",
        "inner_product" => "pg_vector_ip",
        "l1_distance" => "pg_vector_l1",
        "vector_dims" => "pg_vector_dims",
        "vector_norm" => "pg_vector_norm",
        "l2_normalize" => "pg_vector_l2_normalize",
        "subvector" => "pg_vector_subvector",
        "sum" => "pg_vector_sum",
        "avg" => "pg_vector_avg",
        _ => return None,
    })
}

/// The result type of one of pgvector's functions or of a call this step
/// emitted; `None` for other calls (`sum` and `avg` of a vector are typed
/// where `sum` and `avg` are).
pub fn result_type(name: &str) -> Option<PgType> {
    if matches!(name, "sum" | "avg") {
        return None;
    }
    let udf = function_call(name).unwrap_or(name);
    Some(match udf {
        "pg_vector_dims" | "pg_vector_cmp" => PgType::Int4,
        "pg_vector_l2" | "pg_vector_cosine" | "pg_vector_ip" | "pg_vector_neg_ip"
        | "pg_vector_l1" | "pg_vector_norm" => PgType::Float8,
        "pg_vector_out" | "pg_vector_sortkey" => PgType::Text,
        "pg_vector_to_array" => PgType::Array(Box::new(PgType::Float4)),
        n if n.starts_with("pg_vector_") => PgType::Vector(None),
        _ => return None,
    })
}

/// A quoted literal read as a vector of `ty`: its stored BLOB, in a call
/// that keeps its type for the steps that type the statement again.
fn literal(e: &mut Expr, ty: &PgType) -> Result<()> {
    super::values::read_literal(e, ty, "pg_vector_value")
}

/// The dimensions a cast checks, as the UDFs take them (NULL: any).
fn typmod_arg(t: &PgType) -> Expr {
    Expr::Value(
        match t {
            PgType::Vector(Some(n)) => Value::Number(n.to_string(), false),
            _ => Value::Null,
        }
        .into(),
    )
}

/// A quoted literal or NULL: of no type until its context gives one.
pub(super) fn untyped(e: &Expr) -> bool {
    quoted(e).is_some() || matches!(e, Expr::Value(v) if matches!(v.value, Value::Null))
}

/// An operand's type as PostgreSQL names it in a message.
pub(super) fn shown(e: &Expr, t: &PgType) -> String {
    match untyped(e) {
        true => "unknown".into(),
        false => t.without_modifiers().display_name(),
    }
}

/// A literal or parameter: the same value on every row.
fn constant(e: &Expr) -> bool {
    match e {
        Expr::Value(_) => true,
        Expr::Nested(x) => constant(x),
        Expr::Function(f) => func_name(f) == "pg_vector_value",
        _ => false,
    }
}

fn is_vector(t: &PgType) -> bool {
    matches!(t, PgType::Vector(_))
}

impl Typer<'_> {
    /// An operand of a vector operator: a literal read as a vector; any
    /// other type than a vector (or a parameter, which takes the type)
    /// refused as PostgreSQL refuses the operator.
    fn vector_operand(&mut self, e: &mut Expr, t: &PgType) -> Result<bool> {
        if quoted(e).is_some() {
            literal(e, &PgType::Vector(None))?;
            return Ok(true);
        }
        let null = matches!(e, Expr::Value(v) if matches!(v.value, Value::Null));
        Ok(is_vector(t) || null || *t == PgType::Unknown)
    }

    /// Binary operators where a vector takes part; true when `e` was one.
    pub(super) fn vector_binary(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::BinaryOp { left, op, right } = e else {
            return Ok(false);
        };
        // Only these operators take vectors: the others (AND, OR, LIKE, …)
        // are not typed here, so long chains of them stay cheap.
        let vector_op = matches!(
            op,
            Op::Plus
                | Op::Minus
                | Op::Multiply
                | Op::StringConcat
                | Op::Eq
                | Op::NotEq
                | Op::Lt
                | Op::LtEq
                | Op::Gt
                | Op::GtEq
        ) || distance_call(op).is_some();
        if !vector_op {
            return Ok(false);
        }
        let (lt, rt) = (self.type_of(left), self.type_of(right));
        if !is_vector(&lt) && !is_vector(&rt) {
            // pgvector's distance operators between other types: refused
            // as PostgreSQL refuses them (SQLite cannot even parse them).
            if distance_call(op).is_some() {
                let (l, r) = (shown(left, &lt), shown(right, &rt));
                if l == "unknown" && r == "unknown" {
                    return Err(Error::AmbiguousFunction(format!(
                        "operator is not unique: unknown {} unknown",
                        op_text(op)
                    ))
                    .with_hint("Could not choose a best candidate operator. You might need to add explicit type casts."));
                }
                return Err(Error::NoSuchOperator(format!(
                    "operator does not exist: {l} {} {r}",
                    op_text(op)
                ))
                .with_hint(
                    "No operator matches the given name and argument types. You might need to add explicit type casts.",
                ));
            }
            return Ok(false);
        }
        let name = match &*op {
            Op::Plus => "pg_vector_add",
            Op::Minus => "pg_vector_sub",
            Op::Multiply => "pg_vector_mul",
            Op::StringConcat => "pg_vector_concat",
            Op::Eq | Op::NotEq | Op::Lt | Op::LtEq | Op::Gt | Op::GtEq => "pg_vector_cmp",
            other => match distance_call(other) {
                Some(n) => n,
                None => return Err(no_operator(&lt, op, &rt)),
            },
        };
        let ok_left = self.vector_operand(left, &lt)?;
        let ok_right = self.vector_operand(right, &rt)?;
        if !ok_left || !ok_right {
            return Err(no_operator(&lt, op, &rt));
        }
        // The distances are symmetric: a constant operand goes second,
        // where the UDF reads it once per statement (`store::udf::vector`).
        if distance_call(op).is_some() && constant(left) && !constant(right) {
            std::mem::swap(left, right);
        }
        let c = call(name, vec![take(left), take(right)]);
        *e = if name == "pg_vector_cmp" {
            let zero = Expr::Value(Value::Number("0".into(), false).into());
            Expr::BinaryOp {
                left: Box::new(c),
                op: op.clone(),
                right: Box::new(zero),
            }
        } else {
            c
        };
        Ok(true)
    }

    /// A cast to or from a vector, taken before the array casts see a
    /// cast to `real[]`; true when `e` was one.
    pub(super) fn vector_cast_first(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::Cast {
            expr, data_type, ..
        } = e
        else {
            return Ok(false);
        };
        let Ok(target) = PgType::from_sql(data_type) else {
            return Ok(false);
        };
        if !is_vector(&target) && !is_vector(&self.type_of(expr)) {
            return Ok(false);
        }
        self.vector_cast(e, &target)
    }

    /// A cast to or from a vector; true when `e` was one.
    pub(super) fn vector_cast(&mut self, e: &mut Expr, target: &PgType) -> Result<bool> {
        let Expr::Cast { expr, .. } = e else {
            return Ok(false);
        };
        let from = self.type_of(expr);
        match (target, &from) {
            (PgType::Vector(_), _) if quoted(expr).is_some() => {
                literal(expr, target)?;
                *e = take(expr);
            }
            (PgType::Vector(_), PgType::Array(elem))
                if matches!(
                    **elem,
                    PgType::Int4 | PgType::Float4 | PgType::Float8 | PgType::Numeric(_)
                ) =>
            {
                *e = call("pg_vector_from_array", vec![take(expr), typmod_arg(target)]);
            }
            (PgType::Vector(_), PgType::Vector(_) | PgType::Text | PgType::Varchar(_))
            | (PgType::Vector(_), PgType::Unknown) => {
                *e = call("pg_vector_cast", vec![take(expr), typmod_arg(target)]);
            }
            (PgType::Vector(_), other) => return Err(cannot_cast(other, target)),
            (PgType::Text | PgType::Varchar(_), PgType::Vector(_)) => {
                **expr = call("pg_vector_out", vec![take(expr)]);
            }
            (PgType::Array(elem), PgType::Vector(_)) if **elem == PgType::Float4 => {
                *e = call("pg_vector_to_array", vec![take(expr)]);
            }
            (other, PgType::Vector(_)) => return Err(cannot_cast(&from, other)),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `v IN (…)` of a vector: the quoted items read as vectors, each
    /// compared by pgvector's order (`pg_vector_cmp`).
    pub(super) fn vector_in_list(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::In {
            expr,
            target: sqlparser::ast::InTarget::List(list),
            negated,
            ..
        } = e
        else {
            return Ok(false);
        };
        if !is_vector(&self.type_of(expr)) {
            return Ok(false);
        }
        let mut any = Vec::with_capacity(list.len());
        for item in list.iter_mut() {
            let t = self.type_of(item);
            if !self.vector_operand(item, &t)? {
                return Err(no_operator(&PgType::Vector(None), &Op::Eq, &t));
            }
            let c = call("pg_vector_cmp", vec![(**expr).clone(), take(item)]);
            any.push(Expr::BinaryOp {
                left: Box::new(c),
                op: Op::Eq,
                right: Box::new(Expr::Value(Value::Number("0".into(), false).into())),
            });
        }
        let Some(first) = any.pop() else {
            return Ok(false);
        };
        let or = any.into_iter().fold(first, |acc, x| Expr::BinaryOp {
            left: Box::new(x),
            op: Op::Or,
            right: Box::new(acc),
        });
        let or = Expr::Nested(Box::new(or));
        *e = if *negated {
            Expr::UnaryOp {
                op: sqlparser::ast::UnaryOperator::Not,
                expr: Box::new(or),
            }
        } else {
            or
        };
        Ok(true)
    }

    /// pgvector's functions and `sum`/`avg` of vectors; true when `e` was one.
    pub(super) fn vector_function(&mut self, e: &mut Expr, types: &[PgType]) -> Result<bool> {
        let Expr::Function(f) = e else {
            return Ok(false);
        };
        let name = func_name(f);
        let Some(udf) = function_call(&name) else {
            // Any other function of a vector would see its stored bytes:
            // refused as PostgreSQL refuses a function pgvector lacks.
            if types.iter().any(is_vector) && !TAKES_ANY.contains(&name.as_str()) {
                return Err(no_function(&name, &arg_exprs(f), types));
            }
            return Ok(false);
        };
        let vectors = match name.as_str() {
            "sum" | "avg" => {
                if !types.first().is_some_and(is_vector) {
                    return Ok(false);
                }
                1
            }
            "vector_dims" | "vector_norm" | "l2_normalize" | "subvector" => 1,
            _ => 2,
        };
        let mut args = arg_exprs(f);
        if args.len() < vectors {
            return Ok(false);
        }
        // pgvector declares these for halfvec and sparsevec too: with no
        // vector among the arguments, untyped literals match each alike.
        let overloaded = !matches!(name.as_str(), "vector_norm" | "sum" | "avg");
        if overloaded
            && args.iter().take(vectors).all(|a| untyped(a))
            && !types.iter().any(is_vector)
        {
            let list: Vec<String> = args.iter().zip(types).map(|(a, t)| shown(a, t)).collect();
            return Err(Error::AmbiguousFunction(format!(
                "function {name}({}) is not unique",
                list.join(", ")
            ))
            .with_hint("Could not choose a best candidate function. You might need to add explicit type casts."));
        }
        for i in 0..vectors.min(types.len()) {
            if !self.vector_operand(args[i], &types[i])? {
                return Err(no_function(&name, &args, types));
            }
        }
        f.name = sqlparser::ast::ObjectName::from(vec![sqlparser::ast::Ident::new(udf)]);
        Ok(true)
    }
}

/// 42883 for a call no function matches, its arguments named as
/// PostgreSQL names them (`unknown` for a quoted literal).
pub(super) fn no_function(name: &str, args: &[&mut Expr], types: &[PgType]) -> Error {
    let list: Vec<String> = args.iter().zip(types).map(|(a, t)| shown(a, t)).collect();
    Error::NoSuchFunction(format!("{name}({})", list.join(", "))).with_hint(
        "No function matches the given name and argument types. You might need to add explicit type casts.",
    )
}

fn no_operator(l: &PgType, op: &Op, r: &PgType) -> Error {
    Error::NoSuchOperator(format!(
        "operator does not exist: {} {} {}",
        l.without_modifiers().display_name(),
        op_text(op),
        r.without_modifiers().display_name()
    ))
    .with_hint(
        "No operator matches the given name and argument types. You might need to add explicit type casts.",
    )
}

pub(super) fn cannot_cast(from: &PgType, to: &PgType) -> Error {
    Error::CannotCoerce(format!(
        "cannot cast type {} to {}",
        from.without_modifiers().display_name(),
        to.without_modifiers().display_name()
    ))
}
