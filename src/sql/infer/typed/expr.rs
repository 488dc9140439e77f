//! The typed step's expression rewrites (see `typed`).

use sqlparser::ast::{
    BinaryOperator as Op, CeilFloorKind, DateTimeField, DuplicateTreatment, Expr, Function,
    FunctionArg, FunctionArgExpr, FunctionArguments, Ident, InTarget, ObjectName, UnaryOperator,
    Value, WindowType,
};

use super::arith::{is_number, typed_arith};
use super::values::bool_text;
use super::{collate, is_numeric, Typer};
use crate::error::{Error, Result};
pub(super) use crate::sql::build::{call, take};
use crate::types::numeric::Numeric;
use crate::types::PgType;

/// How an operand takes part in a numeric operation.
#[derive(Debug, Clone, PartialEq)]
enum Side {
    Num,
    Int,
    Float,
    /// A literal or parameter that takes its type from the operation.
    Lit,
    Other(PgType),
}

/// What an operation over some operands is computed as.
enum Mode {
    /// No numeric operand: left as it is.
    Plain,
    /// Numeric arithmetic (integers and literals promoted).
    Numeric,
    /// A float operand: numeric operands become float8.
    Float,
}

pub(super) fn string(s: String) -> Expr {
    Expr::Value(Value::SingleQuotedString(s).into())
}

/// An integer expression as a numeric value.
pub(super) fn numeric_of_int(e: Expr) -> Expr {
    call("pg_numeric_cast", vec![e, string("numeric".into())])
}

fn zero() -> Expr {
    Expr::Value(Value::Number("0".into(), false).into())
}

pub(super) fn refuse(what: String) -> Error {
    Error::Unsupported(what)
}

/// `pg_numeric_cmp(a, b) op 0`.
fn compare(a: Expr, op: Op, b: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(call("pg_numeric_cmp", vec![a, b])),
        op,
        right: Box::new(zero()),
    }
}

pub(super) fn not(e: Expr) -> Expr {
    Expr::UnaryOp {
        op: UnaryOperator::Not,
        expr: Box::new(Expr::Nested(Box::new(e))),
    }
}

pub(super) fn func_name(f: &Function) -> String {
    super::name_parts(&f.name)
        .last()
        .cloned()
        .unwrap_or_default()
}

pub(super) fn arg_exprs(f: &mut Function) -> Vec<&mut Expr> {
    match &mut f.args {
        FunctionArguments::List(l) => l
            .args
            .iter_mut()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

impl Typer<'_> {
    fn side(&mut self, e: &Expr) -> Side {
        let mut inner = e;
        while let Expr::Nested(x) = inner {
            inner = x;
        }
        if let Expr::Value(v) = inner {
            match &v.value {
                Value::SingleQuotedString(_)
                | Value::EscapedStringLiteral(_)
                | Value::DollarQuotedString(_)
                | Value::Null => return Side::Lit,
                Value::Placeholder(_) if !is_numeric(&self.type_of(inner)) => {
                    return match self.type_of(inner) {
                        PgType::Int2 | PgType::Int4 | PgType::Int8 => Side::Int,
                        PgType::Float4 | PgType::Float8 => Side::Float,
                        _ => Side::Lit,
                    }
                }
                _ => {}
            }
        }
        match self.type_of(inner) {
            PgType::Numeric(_) => Side::Num,
            PgType::Int2 | PgType::Int4 | PgType::Int8 => Side::Int,
            PgType::Float4 | PgType::Float8 => Side::Float,
            other => Side::Other(other),
        }
    }

    /// How an operation `what` over `operands` is computed; refused when a
    /// numeric meets an operand of another (or unknown) type.
    fn mode(&mut self, what: &str, operands: &[&Expr]) -> Result<(Mode, Vec<Side>)> {
        let sides: Vec<Side> = operands.iter().map(|e| self.side(e)).collect();
        if !sides.contains(&Side::Num) {
            return Ok((Mode::Plain, sides));
        }
        if let Some(Side::Other(t)) = sides.iter().find(|s| matches!(s, Side::Other(_))) {
            return Err(refuse(match t {
                PgType::Unknown => format!("{what} of a numeric and an operand of unknown type"),
                t => format!("{what} of numeric and {}", t.display_name()),
            }));
        }
        let mode = if sides.contains(&Side::Float) {
            Mode::Float
        } else {
            Mode::Numeric
        };
        Ok((mode, sides))
    }

    /// Make operand `e` (of `side`) fit `mode`: in numeric mode a text
    /// literal is read as numeric now; in float mode numeric is float8.
    fn fit(&mut self, e: &mut Expr, side: &Side, mode: &Mode) -> Result<()> {
        match (mode, side) {
            (Mode::Numeric, Side::Lit) => {
                let mut inner = &mut *e;
                while let Expr::Nested(x) = inner {
                    inner = x;
                }
                if let Expr::Value(v) = inner {
                    if let Value::SingleQuotedString(s)
                    | Value::EscapedStringLiteral(s)
                    | Value::DollarQuotedString(sqlparser::ast::DollarQuotedString {
                        value: s,
                        ..
                    }) = &v.value
                    {
                        *inner = string(Numeric::parse(s)?.to_string());
                    }
                }
            }
            (Mode::Float, Side::Num) => {
                *e = call("pg_numeric_cast", vec![take(e), string("float8".into())]);
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn expr(&mut self, e: &mut Expr) -> Result<()> {
        if self.overlaps(e)? || self.vector_cast_first(e)? || self.geometry_cast(e)? {
            return Ok(());
        }
        if self.array_expr(e)? {
            return Ok(());
        }
        self.enum_expr(e)?;
        self.jsonb_compared(e);
        if self.interval_comparison(e)? {
            return Ok(());
        }
        match e {
            Expr::Value(v) => {
                if let Value::Number(n, _) = &v.value {
                    if is_numeric(&super::super::expr::number_type(n)) {
                        *e = string(Numeric::parse(n)?.to_string());
                    }
                }
                Ok(())
            }
            Expr::BinaryOp { .. } => self.binary(e),
            Expr::UnaryOp { .. } => self.unary(e),
            Expr::Between { .. } => self.between(e),
            Expr::In { .. } | Expr::AnyOp { .. } | Expr::AllOp { .. } => {
                if self.vector_in_list(e)? {
                    return Ok(());
                }
                self.string_comparison(e)?;
                self.membership(e)
            }
            Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => {
                let (mode, sides) = self.mode("IS DISTINCT FROM", &[a, b])?;
                self.fit(a, &sides[0], &mode)?;
                self.fit(b, &sides[1], &mode)?;
                if let Mode::Numeric = mode {
                    let negate = matches!(e, Expr::IsNotDistinctFrom(..));
                    let (Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b)) = e else {
                        return Ok(());
                    };
                    let d = call("pg_numeric_distinct", vec![take(a), take(b)]);
                    *e = if negate { not(d) } else { d };
                }
                Ok(())
            }
            Expr::TypedString(_) => {
                self.zone_cast(e);
                Ok(())
            }
            Expr::Cast { .. } => {
                if self.zone_cast(e) {
                    return Ok(());
                }
                self.cast(e)
            }
            Expr::Extract { .. } => {
                if !self.zone_extract(e)? && !self.time_extract(e)? {
                    self.interval_extract(e);
                }
                Ok(())
            }
            Expr::AtTimeZone { .. } => {
                self.at_time_zone(e);
                Ok(())
            }
            Expr::Ceil { expr, field } | Expr::Floor { expr, field } => {
                let plain = matches!(
                    field,
                    CeilFloorKind::DateTimeField(DateTimeField::NoDateTime)
                );
                if plain && is_numeric(&self.type_of(expr)) {
                    let name = if matches!(e, Expr::Ceil { .. }) {
                        "pg_numeric_ceil"
                    } else {
                        "pg_numeric_floor"
                    };
                    if let Expr::Ceil { expr, .. } | Expr::Floor { expr, .. } = e {
                        *e = call(name, vec![take(expr)]);
                    }
                }
                Ok(())
            }
            Expr::Function(_) => self.function(e),
            Expr::Substring { .. } => {
                if self.regex_substring(e)? {
                    return Ok(());
                }
                self.bytea(e).map(|_| ())
            }
            Expr::Case { .. } => self.case(e),
            _ => Ok(()),
        }
    }

    fn binary(&mut self, e: &mut Expr) -> Result<()> {
        if self.geometry_binary(e)? || self.vector_binary(e)? {
            return Ok(());
        }
        self.string_comparison(e)?;
        if self.bytea(e)? {
            return Ok(());
        }
        self.date_minus_literal(e);
        if self.bitwise(e)? {
            return Ok(());
        }
        if self.json_binary(e)? || self.time_binary(e)? || self.interval_binary(e)? {
            return Ok(());
        }
        let result = match e {
            Expr::BinaryOp {
                op: Op::Plus | Op::Minus | Op::Multiply | Op::Divide | Op::Modulo,
                ..
            } => self.type_of(e),
            _ => PgType::Unknown,
        };
        let Expr::BinaryOp { left, op, right } = e else {
            return Ok(());
        };
        if matches!(
            op,
            Op::Eq | Op::NotEq | Op::Lt | Op::LtEq | Op::Gt | Op::GtEq
        ) {
            self.temporal(&mut [&mut **left, &mut **right])?;
            self.scalar_literals(&mut [&mut **left, &mut **right])?;
            self.bpchar(&mut [&mut **left, &mut **right]);
        }
        let jsonb = [&**left, &**right]
            .iter()
            .any(|x| self.type_of(x) == PgType::Jsonb);
        if jsonb && matches!(op, Op::StringConcat | Op::Eq | Op::NotEq) {
            return self.jsonb_binary(e);
        }
        if *op == Op::StringConcat {
            for side in [left, right] {
                match self.type_of(side) {
                    PgType::Bool => **side = bool_text(take(side)),
                    // SQLite's `||` prints a float its own way (`1.0`).
                    PgType::Float4 => **side = call("pg_float4_text", vec![take(side)]),
                    PgType::Float8 => **side = call("pg_float8_text", vec![take(side)]),
                    PgType::Interval => **side = super::interval::as_text(take(side)),
                    PgType::Timestamptz => **side = call("pg_tz_text", vec![take(side)]),
                    _ => {}
                }
                self.bpchar_text(side);
            }
            return Ok(());
        }
        let (name, cmp) = match op {
            Op::Plus => ("pg_numeric_add", false),
            Op::Minus => ("pg_numeric_sub", false),
            Op::Multiply => ("pg_numeric_mul", false),
            Op::Divide => ("pg_numeric_div", false),
            Op::Modulo => ("pg_numeric_mod", false),
            Op::Eq | Op::NotEq | Op::Lt | Op::LtEq | Op::Gt | Op::GtEq => ("", true),
            Op::PGExp => {
                let types = [self.type_of(left), self.type_of(right)];
                if super::calls::numeric_math(&types) {
                    *e = call("pg_numeric_power", vec![take(left), take(right)]);
                }
                return Ok(());
            }
            _ => return Ok(()),
        };
        // A quoted literal meeting an integer or float operand is read as
        // the result's type, as PostgreSQL reads it ('1.5' + 1 is 22P02).
        if !cmp && super::values::int_or_float(&result) {
            for side in [&mut *left, &mut *right] {
                if let Some(text) = super::values::quoted(side) {
                    **side = crate::sql::coerce::datum_expr(&result.parse_text(text)?);
                }
            }
        }
        let (mode, sides) = self.mode(&format!("operator {op}"), &[left, right])?;
        self.fit(left, &sides[0], &mode)?;
        self.fit(right, &sides[1], &mode)?;
        if let Mode::Numeric = mode {
            let op = op.clone();
            *e = if cmp {
                compare(take(left), op, take(right))
            } else {
                call(name, vec![take(left), take(right)])
            };
        } else if let Some(f) = typed_arith(&result, &name["pg_numeric_".len().min(name.len())..]) {
            *e = call(&f, vec![take(left), take(right)]);
        }
        Ok(())
    }

    fn unary(&mut self, e: &mut Expr) -> Result<()> {
        if self.interval_unary(e) {
            return Ok(());
        }
        let Expr::UnaryOp { op, expr } = e else {
            return Ok(());
        };
        let ty = self.type_of(expr);
        if !is_numeric(&ty) {
            let f = match op {
                UnaryOperator::Minus if !is_number(expr) => typed_arith(&ty, "neg"),
                UnaryOperator::PGAbs => typed_arith(&ty, "abs"),
                _ => None,
            };
            if let Some(f) = f {
                *e = call(&f, vec![take(expr)]);
            }
            return Ok(());
        }
        *e = match op {
            UnaryOperator::Plus => take(expr),
            UnaryOperator::Minus => match expr.as_ref() {
                Expr::Value(v) => match &v.value {
                    Value::Number(n, _) => string(Numeric::parse(n)?.neg().to_string()),
                    _ => call("pg_numeric_neg", vec![take(expr)]),
                },
                _ => call("pg_numeric_neg", vec![take(expr)]),
            },
            UnaryOperator::PGAbs => call("pg_numeric_abs", vec![take(expr)]),
            UnaryOperator::Not => return Ok(()),
            other => return Err(refuse(format!("operator {other} on numeric"))),
        };
        Ok(())
    }

    fn between(&mut self, e: &mut Expr) -> Result<()> {
        self.string_comparison(e)?;
        let Expr::Between {
            expr,
            negated,
            low,
            high,
        } = e
        else {
            return Ok(());
        };
        self.temporal(&mut [&mut **expr, &mut **low, &mut **high])?;
        self.scalar_literals(&mut [&mut **expr, &mut **low, &mut **high])?;
        let (mode, sides) = self.mode("BETWEEN", &[expr, low, high])?;
        self.fit(expr, &sides[0], &mode)?;
        self.fit(low, &sides[1], &mode)?;
        self.fit(high, &sides[2], &mode)?;
        if let Mode::Numeric = mode {
            let x = take(expr);
            let both = Expr::BinaryOp {
                left: Box::new(compare(x.clone(), Op::GtEq, take(low))),
                op: Op::And,
                right: Box::new(compare(x, Op::LtEq, take(high))),
            };
            *e = if *negated {
                not(both)
            } else {
                Expr::Nested(Box::new(both))
            };
        }
        Ok(())
    }

    /// IN lists and subqueries, ANY and ALL.
    fn membership(&mut self, e: &mut Expr) -> Result<()> {
        let all = matches!(e, Expr::AllOp { .. });
        match e {
            Expr::In {
                expr,
                target: InTarget::List(list),
                negated,
                ..
            } => {
                let mut all: Vec<&mut Expr> = vec![&mut **expr];
                all.extend(list.iter_mut());
                self.temporal(&mut all)?;
                self.scalar_literals(&mut all)?;
                self.bpchar(&mut all);
                let mut operands: Vec<&Expr> = vec![expr];
                operands.extend(list.iter());
                let (mode, sides) = self.mode("IN", &operands)?;
                self.fit(expr, &sides[0], &mode)?;
                for (x, s) in list.iter_mut().zip(&sides[1..]) {
                    self.fit(x, s, &mode)?;
                }
                if let Mode::Numeric = mode {
                    let mut args = vec![take(expr)];
                    args.append(list);
                    let test = call("pg_numeric_in", args);
                    *e = if *negated { not(test) } else { test };
                }
                Ok(())
            }
            Expr::In {
                expr,
                target: InTarget::Subquery(subquery),
                negated,
                ..
            } => {
                let sub = self.env.query_cols(subquery).unwrap_or_default();
                let sub_ty = sub.first().map(|c| c.1.clone()).unwrap_or(PgType::Unknown);
                let own = self.type_of(expr);
                let chars = |t: &PgType| {
                    matches!(t, PgType::Bpchar(_) | PgType::Varchar(_) | PgType::Unknown)
                };
                if matches!((&own, &sub_ty), (PgType::Bpchar(_), t) | (t, PgType::Bpchar(_)) if chars(t))
                {
                    // Compared as character(n): trailing spaces do not count.
                    **expr = super::collate_as(take(expr), &PgType::Bpchar(None));
                    return Ok(());
                }
                if !is_numeric(&own) && !is_numeric(&sub_ty) {
                    return Ok(());
                }
                let q = quantified(expr, &Op::Eq, subquery, false)?;
                *e = if *negated { not(q) } else { q };
                Ok(())
            }
            Expr::AnyOp {
                left,
                compare_op,
                right,
                ..
            }
            | Expr::AllOp {
                left,
                compare_op,
                right,
            } => {
                let Expr::Subquery(q) = right.as_ref() else {
                    if is_numeric(&self.type_of(left)) {
                        return Err(refuse("ANY/ALL over an array of numeric".into()));
                    }
                    return Ok(());
                };
                let sub = self.env.query_cols(q).unwrap_or_default();
                let sub_ty = sub.first().map(|c| c.1.clone()).unwrap_or(PgType::Unknown);
                if !is_numeric(&self.type_of(left)) && !is_numeric(&sub_ty) {
                    return Ok(());
                }
                *e = quantified(left, compare_op, q, all)?;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn case(&mut self, e: &mut Expr) -> Result<()> {
        self.case_results(e);
        let Expr::Case {
            operand: Some(operand),
            conditions,
            ..
        } = e
        else {
            return Ok(());
        };
        let mut operands: Vec<&Expr> = vec![operand];
        operands.extend(conditions.iter().map(|c| &c.condition));
        let (mode, sides) = self.mode("CASE", &operands)?;
        self.fit(operand, &sides[0], &mode)?;
        for (c, s) in conditions.iter_mut().zip(&sides[1..]) {
            self.fit(&mut c.condition, s, &mode)?;
        }
        if let Mode::Numeric = mode {
            let x = take(operand);
            for c in conditions.iter_mut() {
                c.condition = compare(x.clone(), Op::Eq, take(&mut c.condition));
            }
            if let Expr::Case { operand, .. } = e {
                *operand = None;
            }
        }
        Ok(())
    }

    /// A CASE whose results resolve to numeric (some numeric, the others
    /// integers) gives every result as numeric, so they compare, sort and
    /// print as one type.
    fn case_results(&mut self, e: &mut Expr) {
        if self.type_of(e) == PgType::Timestamptz {
            if let Expr::Case {
                conditions,
                else_result,
                ..
            } = e
            {
                let mut results: Vec<&mut Expr> = conditions
                    .iter_mut()
                    .map(|c| &mut c.result)
                    .chain(else_result.iter_mut().map(|b| &mut **b))
                    .collect();
                self.zone_literals(&mut results);
            }
            return;
        }
        if !is_numeric(&self.type_of(e)) {
            return;
        }
        let Expr::Case {
            conditions,
            else_result,
            ..
        } = e
        else {
            return;
        };
        let results = conditions
            .iter_mut()
            .map(|c| &mut c.result)
            .chain(else_result.iter_mut().map(|b| &mut **b));
        for r in results {
            if matches!(self.side(r), Side::Int) {
                *r = numeric_of_int(take(r));
            }
        }
    }

    /// A window's partition and order keys under their types' collations.
    fn collate_window(&mut self, spec: &mut sqlparser::ast::WindowSpec) {
        for p in &mut spec.partition_by {
            let ty = self.type_of(p);
            *p = super::collate_as(take(p), &ty);
        }
        for o in &mut spec.order_by {
            let ty = self.type_of(&o.expr);
            o.expr = super::collate_as(take(&mut o.expr), &ty);
        }
    }

    /// What a call's arguments need whatever the call becomes: jsonb
    /// aggregates unordered, char(n) lengths and aggregates, enum ones.
    fn argument_steps(&mut self, name: &str, f: &mut Function) -> Result<()> {
        self.jsonb_unordered(name, f)?;
        if super::values::TEXT_FUNCTIONS.contains(&name) {
            self.bpchar_length(arg_exprs(f));
        }
        self.enum_aggregate(name, arg_exprs(f));
        self.bpchar_aggregate(name, arg_exprs(f));
        Ok(())
    }

    fn function(&mut self, e: &mut Expr) -> Result<()> {
        let Expr::Function(f) = e else {
            return Ok(());
        };
        let name = func_name(f);
        if name.starts_with("pg_numeric")
            || super::interval::is_interval_call(&name)
            || name.starts_with("pg_time_")
            || super::zone::is_zone_call(&name)
            || super::array::is_array_call(&name)
            || super::vector::is_vector_call(&name)
            || super::geometry::is_geometry_call(&name)
            || self.json_function(e, &name)?
            || self.ordered_call(e, &name)?
        {
            return Ok(());
        }
        let Expr::Function(f) = e else {
            return Ok(());
        };
        self.argument_steps(&name, f)?;
        if let Some(WindowType::WindowSpec(spec)) = &mut f.over {
            self.collate_window(spec);
        }
        let types: Vec<PgType> = {
            let args: Vec<Expr> = arg_exprs(f).into_iter().map(|x| x.clone()).collect();
            args.iter().map(|a| self.type_of(a)).collect()
        };
        if self.series_call(e, &name)?
            || self.geometry_function(e, &types)?
            || self.vector_function(e, &types)?
            || self.zone_call(e, &types)?
            || self.time_call(e, &types)?
            || self.interval_call(e, &types)?
        {
            return Ok(());
        }
        let Expr::Function(f) = e else {
            return Ok(());
        };
        if let Some(new) = super::calls::by_argument_types(&name, f, &types, &self.env)? {
            *e = new;
            return Ok(());
        }
        if self.typed_call(f, &name, &types)? {
            return Ok(());
        }
        super::calls::statistics_call(&name, f, &types)?;
        if super::calls::numeric_math_call(&name, f, &types) {
            return Ok(());
        }
        let rename = |f: &mut Function, to: &str| f.name = ObjectName::from(vec![Ident::new(to)]);
        // sum(bigint) is numeric: it cannot overflow.
        if name == "sum" && types == [PgType::Int8] {
            rename(f, "pg_int8_sum");
            return Ok(());
        }
        let any_numeric = types.iter().any(is_numeric);
        if !any_numeric && !matches!(name.as_str(), "round" | "trunc") {
            return Ok(());
        }
        let distinct = matches!(
            &f.args,
            FunctionArguments::List(l) if matches!(l.duplicate_treatment, Some(DuplicateTreatment::Distinct))
        );
        let first_numeric = types.first().is_some_and(is_numeric);
        match name.as_str() {
            "sum" | "avg" | "min" | "max" if first_numeric && types.len() == 1 => {
                rename(f, &format!("pg_numeric_{name}"));
                if distinct {
                    for a in arg_exprs(f) {
                        *a = collate(take(a));
                    }
                }
            }
            "count" if distinct => {
                for a in arg_exprs(f) {
                    *a = collate(take(a));
                }
            }
            "round" | "trunc" if types.len() == 2 => {
                if matches!(types[0], PgType::Float4 | PgType::Float8) {
                    return Err(Error::NoSuchFunction(format!(
                        "{name}(double precision, integer)"
                    )));
                }
                rename(f, &format!("pg_numeric_{name}"));
            }
            "round" | "trunc" | "ceil" | "ceiling" | "floor" | "abs" | "sign"
                if first_numeric && types.len() == 1 =>
            {
                let to = match name.as_str() {
                    "ceiling" => "ceil",
                    other => other,
                };
                rename(f, &format!("pg_numeric_{to}"));
            }
            "mod" | "greatest" | "least" | "nullif" => self.numeric_call(e, &name)?,
            // Integers among numerics come back as numeric, so the value
            // compares, groups and prints as its type says.
            "coalesce"
                if types.iter().all(|t| {
                    is_numeric(t)
                        || matches!(
                            t,
                            PgType::Int2 | PgType::Int4 | PgType::Int8 | PgType::Unknown
                        )
                }) =>
            {
                for (a, t) in arg_exprs(f).into_iter().zip(&types) {
                    if matches!(t, PgType::Int2 | PgType::Int4 | PgType::Int8) {
                        *a = numeric_of_int(take(a));
                    }
                }
            }
            n => super::calls::float_or_refused(n, f, &types)?,
        }
        Ok(())
    }

    /// mod, greatest, least and nullif over numeric operands.
    fn numeric_call(&mut self, e: &mut Expr, name: &str) -> Result<()> {
        let Expr::Function(f) = e else {
            return Ok(());
        };
        let operands: Vec<Expr> = arg_exprs(f).into_iter().map(|x| x.clone()).collect();
        let refs: Vec<&Expr> = operands.iter().collect();
        let (mode, sides) = self.mode(&format!("function {name}"), &refs)?;
        for (a, s) in arg_exprs(f).into_iter().zip(&sides) {
            self.fit(a, s, &mode)?;
        }
        if !matches!(mode, Mode::Numeric) {
            if name == "mod" && matches!(mode, Mode::Float) {
                return Err(Error::NoSuchFunction(
                    "mod(double precision, numeric)".into(),
                ));
            }
            return Ok(());
        }
        let mut args: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
        *e = match name {
            "mod" => call("pg_numeric_mod", args),
            "greatest" => call("pg_numeric_greatest", args),
            "least" => call("pg_numeric_least", args),
            _ if args.len() == 2 => {
                let b = args.pop().unwrap_or_else(zero);
                let a = args.pop().unwrap_or_else(zero);
                crate::sql::parse_expr(&format!(
                    "CASE WHEN pg_numeric_cmp({a}, {b}) = 0 THEN NULL ELSE {a} END"
                ))?
            }
            _ => {
                return Err(Error::NoSuchFunction(
                    "nullif with other than two arguments".into(),
                ))
            }
        };
        Ok(())
    }
}

/// `x op ANY|ALL (subquery)` (and `x IN (subquery)`) compared by numeric
/// value, with PostgreSQL's three-valued result, spelled with EXISTS.
fn quantified(left: &Expr, op: &Op, q: &sqlparser::ast::Query, all: bool) -> Result<Expr> {
    let cmp = format!("pg_numeric_cmp({left}, _q.v) {op} 0");
    let from = format!("FROM ({q}) AS _q(v)");
    let sql = if all {
        format!(
            "CASE WHEN EXISTS (SELECT 1 {from} WHERE NOT ({cmp})) THEN false \
             WHEN EXISTS (SELECT 1 {from} WHERE ({cmp}) IS NULL) THEN NULL ELSE true END"
        )
    } else {
        format!(
            "CASE WHEN EXISTS (SELECT 1 {from} WHERE {cmp}) THEN true \
             WHEN EXISTS (SELECT 1 {from} WHERE ({cmp}) IS NULL) THEN NULL ELSE false END"
        )
    };
    crate::sql::parse_expr(&sql)
}
