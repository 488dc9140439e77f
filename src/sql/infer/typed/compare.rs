//! Comparisons PostgreSQL has no operator for: a string against a value
//! of a type no string converts to implicitly.

use sqlparser::ast::{BinaryOperator as Op, Expr, InTarget, Value};

use super::{is_numeric, Typer};
use crate::error::{Error, Result};
use crate::types::PgType;

/// Whether `x` has a type of its own: a quoted literal, NULL or a
/// parameter takes the other side's.
fn typed(x: &Expr) -> bool {
    let inner = unnested(x);
    let untyped = super::values::quoted(inner).is_some()
        || matches!(inner, Expr::Value(v) if matches!(v.value, Value::Placeholder(_) | Value::Null));
    !untyped
}

fn unnested(mut x: &Expr) -> &Expr {
    while let Expr::Nested(n) = x {
        x = n;
    }
    x
}

/// Whether `x` is an explicit cast to a string. (With a table's column
/// declared as one and a subquery's column of quoted literals,
/// `Env::certain_column`, the only strings taken as
/// certain: the types inferred for other expressions, system relations'
/// columns and array subscripts among them, are not all PostgreSQL's yet,
/// and a wrong refusal would break a query PostgreSQL answers.)
fn cast_to_string(x: &Expr) -> bool {
    let Expr::Cast { data_type, .. } = unnested(x) else {
        return false;
    };
    let name = data_type.to_string().to_lowercase();
    name == "text"
        || name.starts_with("varchar")
        || name.starts_with("character varying")
        || name.starts_with("char")
        || name.starts_with("character")
}

impl Typer<'_> {
    /// A comparison of a string (text, varchar, char; a table's column or
    /// an explicit cast) with a value of a type no string converts to
    /// implicitly (a number, boolean, date or time, interval, uuid, enum,
    /// array), with a comparison or arithmetic operator, BETWEEN (`>=` and
    /// `<=`; NOT BETWEEN `<` and `>`) or an IN list (`=`): PostgreSQL has
    /// no such operator (42883), so neither side is converted to the
    /// other. A quoted
    /// literal or a parameter is of no type yet, and takes the other's.
    /// (`op ANY/ALL (array)` is checked with the arrays, `array.rs`.)
    pub(super) fn string_comparison(&mut self, e: &Expr) -> Result<()> {
        let pairs: Vec<(&Expr, String, &Expr)> = match e {
            Expr::BinaryOp { left, op, right }
                if matches!(
                    op,
                    Op::Eq
                        | Op::NotEq
                        | Op::Lt
                        | Op::LtEq
                        | Op::Gt
                        | Op::GtEq
                        | Op::Plus
                        | Op::Minus
                        | Op::Multiply
                        | Op::Divide
                        | Op::Modulo
                ) =>
            {
                vec![(left, op.to_string(), right)]
            }
            // PostgreSQL reads NOT BETWEEN as `x < low OR x > high`.
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let (above, below) = if *negated { ("<", ">") } else { (">=", "<=") };
                vec![(expr, above.into(), low), (expr, below.into(), high)]
            }
            Expr::In {
                expr,
                target: InTarget::List(items),
                ..
            } => items.iter().map(|i| (&**expr, "=".into(), i)).collect(),
            _ => return Ok(()),
        };
        for (left, op, right) in pairs {
            self.string_pair(left, &op, right)?;
        }
        Ok(())
    }

    /// A string for certain: cast to one, a table's column declared as
    /// one, or a subquery's column of quoted literals.
    fn certain_string(&self, x: &Expr) -> bool {
        cast_to_string(x) || self.env.certain_column(x)
    }

    fn string_pair(&mut self, left: &Expr, op: &str, right: &Expr) -> Result<()> {
        let lt = typed(left).then(|| self.type_of(left));
        let rt = typed(right).then(|| self.type_of(right));
        let (l_certain, r_certain) = (self.certain_string(left), self.certain_string(right));
        refuse(lt, l_certain, op, rt, r_certain)
    }
}

/// 42883 when one side is a string for certain (`*_certain`) and the
/// other of a type no string converts to implicitly.
fn refuse(
    lt: Option<PgType>,
    l_certain: bool,
    op: &str,
    rt: Option<PgType>,
    r_certain: bool,
) -> Result<()> {
    let is_string = |t: &PgType| matches!(t, PgType::Text | PgType::Varchar(_) | PgType::Bpchar(_));
    let is_other = |t: &PgType| {
        is_numeric(t)
            || matches!(
                t,
                PgType::Int2
                    | PgType::Int4
                    | PgType::Int8
                    | PgType::Float4
                    | PgType::Float8
                    | PgType::Bool
                    | PgType::Date
                    | PgType::Time
                    | PgType::Timestamp
                    | PgType::Timestamptz
                    | PgType::Interval
                    | PgType::Uuid
                    | PgType::Enum(_)
                    | PgType::Array(_)
            )
    };
    match (lt, rt) {
        (Some(l), Some(r))
            if (is_string(&l) && l_certain && is_other(&r))
                || (is_other(&l) && is_string(&r) && r_certain) =>
        {
            Err(Error::NoSuchOperator(format!(
                "operator does not exist: {} {op} {}",
                l.without_modifiers().display_name(),
                r.without_modifiers().display_name()
            ))
            .with_hint(
                "No operator matches the given name and argument types. You might need to add explicit type casts.",
            ))
        }
        _ => Ok(()),
    }
}
