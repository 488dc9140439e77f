//! The typed step's integer and float calls: arithmetic in its result
//! type through `store::udf::arith`'s range-checked functions (see `expr`).

use sqlparser::ast::{BinaryOperator as Op, Expr, Function, Ident, ObjectName, Value};

use super::expr::{arg_exprs, call, take};
use super::Typer;
use crate::error::{Error, Result};
use crate::types::PgType;

impl Typer<'_> {
    /// Integer and float calls made explicit (abs in the argument's type,
    /// round half to even), float4 arguments of text functions printed as
    /// float4, and min/max of a boolean refused as PostgreSQL does; true
    /// when the call needs nothing more.
    pub(super) fn typed_call(
        &mut self,
        f: &mut Function,
        name: &str,
        types: &[PgType],
    ) -> Result<bool> {
        if matches!(name, "concat" | "concat_ws" | "string_agg" | "format") {
            // float4 prints with its own shortest digits.
            for (a, t) in arg_exprs(f).into_iter().zip(types) {
                if *t == PgType::Float4 {
                    *a = call("pg_float4_text", vec![take(a)]);
                }
                // A timestamptz prints in the session's zone.
                if *t == PgType::Timestamptz {
                    *a = call("pg_tz_text", vec![take(a)]);
                }
            }
        }
        if matches!(name, "coalesce" | "greatest" | "least" | "nullif") {
            let mut args = arg_exprs(f);
            self.zone_literals(&mut args);
            self.literals_as(&mut args, types)?;
        }
        match (name, types) {
            ("abs", [t]) => {
                if let Some(to) = typed_arith(t, "abs") {
                    f.name = ObjectName::from(vec![Ident::new(to)]);
                    return Ok(true);
                }
            }
            // round(float) rounds half to even, as rint() does.
            ("round", [PgType::Float4 | PgType::Float8]) => {
                f.name = ObjectName::from(vec![Ident::new("pg_rint")]);
                return Ok(true);
            }
            ("min" | "max", [PgType::Bool]) if f.over.is_none() => {
                return Err(Error::NoSuchFunction(format!("{name}(boolean)")).with_hint(
                    "No function matches the given name and argument types. \
                     You might need to add explicit type casts.",
                ));
            }
            _ => {}
        }
        Ok(false)
    }
}

impl Typer<'_> {
    /// The quoted literals among `coalesce`/`greatest`/`least`/`nullif`'s
    /// arguments (of `types`) cast to the type the others resolve to, as
    /// PostgreSQL reads them (`nullif(id, '1')` compares integers, not
    /// text), when that type is a scalar one other than text.
    fn literals_as(&mut self, args: &mut [&mut Expr], types: &[PgType]) -> Result<()> {
        let typed: Vec<PgType> = args
            .iter()
            .zip(types)
            .filter(|(a, _)| super::values::quoted(a).is_none())
            .map(|(_, t)| t.clone())
            .filter(|t| *t != PgType::Unknown)
            .collect();
        if typed.is_empty() || typed.len() == args.len() {
            return Ok(());
        }
        let Some(to) = super::values::literal_target(&typed, |t| {
            super::values::int_or_float(t)
                || matches!(
                    t,
                    PgType::Bool
                        | PgType::Numeric(_)
                        | PgType::Date
                        | PgType::Time
                        | PgType::Timestamp
                        | PgType::Uuid
                        | PgType::Interval
                        | PgType::Bytea
                )
        }) else {
            return Ok(());
        };
        for a in args.iter_mut() {
            if let Some(text) = super::values::quoted(a) {
                // PostgreSQL reads the literal as it plans, used or not.
                to.parse_text(text)?;
                let literal = sqlparser::ast::Value::SingleQuotedString(text.to_string());
                **a = crate::sql::parse_expr(&format!("CAST({literal} AS {})", to.display_name()))?;
            }
        }
        Ok(())
    }
}

/// The registered function (`store::udf::arith`) computing `op` (`add`,
/// `sub`, `mul`, `div`, `mod`, `neg`, `abs`) in the integer or float type
/// `ty` with PostgreSQL's range checks; `None` for other types.
pub(super) fn typed_arith(ty: &PgType, op: &str) -> Option<String> {
    let t = match ty {
        PgType::Int2 => "int2",
        PgType::Int4 => "int4",
        PgType::Int8 => "int8",
        PgType::Float4 if op != "mod" => "float4",
        PgType::Float8 if op != "mod" => "float8",
        _ => return None,
    };
    if op.is_empty() {
        return None;
    }
    Some(format!("pg_{t}_{op}"))
}

/// A number literal (a negative one keeps SQLite's own minus).
pub(super) fn is_number(e: &Expr) -> bool {
    matches!(e, Expr::Value(v) if matches!(v.value, Value::Number(..)))
}

impl Typer<'_> {
    /// The bitwise operators (`& | # << >>`) exist for integers only: a
    /// quoted literal beside an integer is read as one (22P02 if it is
    /// not), any other operand type is 42883, two quoted literals 42725,
    /// as in PostgreSQL. True when `e` is such an operator.
    pub(super) fn bitwise(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::BinaryOp { left, op, right } = e else {
            return Ok(false);
        };
        if !matches!(
            op,
            Op::BitwiseAnd
                | Op::BitwiseOr
                | Op::PGBitwiseXor
                | Op::PGBitwiseShiftLeft
                | Op::PGBitwiseShiftRight
        ) {
            return Ok(false);
        }
        let shift = matches!(op, Op::PGBitwiseShiftLeft | Op::PGBitwiseShiftRight);
        let int = |t: &PgType| matches!(t, PgType::Int2 | PgType::Int4 | PgType::Int8);
        let (lq, rq) = (
            super::values::quoted(left).is_some(),
            super::values::quoted(right).is_some(),
        );
        if lq && rq {
            return Err(Error::AmbiguousFunction(format!(
                "operator is not unique: unknown {op} unknown"
            )));
        }
        let (lt, rt) = (self.type_of(left), self.type_of(right));
        // A literal takes the other side's type (a shift count is int4).
        let wanted = |other: &PgType, right_side: bool| {
            if shift && right_side {
                PgType::Int4
            } else {
                other.clone()
            }
        };
        let lt = if lq { wanted(&rt, false) } else { lt };
        let rt = if rq { wanted(&lt, true) } else { rt };
        let known = |t: &PgType| int(t) || *t == PgType::Unknown;
        if !known(&lt) || !known(&rt) {
            return Err(Error::NoSuchOperator(format!(
                "operator does not exist: {} {op} {}",
                lt.display_name(),
                rt.display_name()
            )));
        }
        for (side, ty, lit) in [(&mut **left, &lt, lq), (&mut **right, &rt, rq)] {
            if let (true, Some(text)) = (lit, super::values::quoted(side)) {
                *side = crate::sql::coerce::datum_expr(&ty.parse_text(text)?);
            }
        }
        Ok(true)
    }
}
