//! Types and PostgreSQL column names of expressions.

use sqlparser::ast::{
    BinaryOperator as Op, DataType, DateTimeField, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArguments, Ident, UnaryOperator, Value,
};

use super::{name_parts, norm, Env};
use crate::error::Result;
use crate::sql::rewrite::pg_catalog;
use crate::types::PgType;

mod more;

pub(super) fn is_null(e: &Expr) -> bool {
    matches!(e, Expr::Value(v) if v.value == Value::Null)
}

pub(super) fn args(f: &Function) -> Vec<&Expr> {
    match &f.args {
        FunctionArguments::List(l) => l
            .args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
                | FunctionArg::Named {
                    arg: FunctionArgExpr::Expr(e),
                    ..
                }
                | FunctionArg::ExprNamed {
                    arg: FunctionArgExpr::Expr(e),
                    ..
                } => Some(e),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

pub(super) fn func_name(f: &Function) -> String {
    name_parts(&f.name).last().cloned().unwrap_or_default()
}

fn rank(t: &PgType) -> u8 {
    match t {
        PgType::Int2 => 1,
        PgType::Int4 => 2,
        PgType::Int8 => 3,
        PgType::Numeric(_) => 4,
        PgType::Float4 => 5,
        PgType::Float8 => 6,
        _ => 0,
    }
}

/// The type known types `ts` resolve to together (see `first_known`):
/// number types meet at the widest, anything else is the first.
pub(super) fn common_type(ts: &[PgType]) -> PgType {
    let known: Vec<&PgType> = ts.iter().filter(|t| **t != PgType::Unknown).collect();
    let Some(first) = known.first().map(|t| (*t).clone()) else {
        return PgType::Unknown;
    };
    if known.iter().any(|t| rank(t) == 0) {
        return first;
    }
    let widest = known
        .iter()
        .max_by_key(|t| rank(t))
        .map(|t| (*t).clone())
        .unwrap_or(first);
    match widest {
        PgType::Numeric(_) if known.iter().any(|t| **t != widest) => PgType::Numeric(None),
        other => other,
    }
}

/// The result type of `+ - * / %` on two numeric types.
fn arith(l: PgType, r: PgType) -> PgType {
    match (&l, &r) {
        (PgType::Unknown, _) => r,
        (_, PgType::Unknown) => l,
        (PgType::Date, t) | (t, PgType::Date) if rank(t) >= 1 && rank(t) <= 3 => PgType::Date,
        (PgType::Date, PgType::Date) => PgType::Int4,
        (PgType::Float4, PgType::Float4) => PgType::Float4,
        _ if rank(&l) == 0 || rank(&r) == 0 => PgType::Unknown,
        _ if rank(&l) >= 5 || rank(&r) >= 5 => PgType::Float8,
        _ if rank(&l) >= rank(&r) => l,
        _ => r,
    }
}

/// Whether `e` is a quoted literal, whose type PostgreSQL takes from
/// the operator it meets.
pub(super) fn is_quoted(e: &Expr) -> bool {
    let mut inner = e;
    while let Expr::Nested(x) = inner {
        inner = x;
    }
    matches!(inner, Expr::Value(v) if matches!(
        v.value,
        Value::SingleQuotedString(_) | Value::EscapedStringLiteral(_) | Value::DollarQuotedString(_)
    ))
}

/// The result type of `+ - * /` where an interval takes part, or of the
/// difference of two timestamps, as PostgreSQL resolves the operators
/// (a quoted literal becomes the operand type the operator wants):
/// timestamps and dates move by an interval (a date becomes a timestamp),
/// intervals add and scale by numbers, timestamps subtract to an
/// interval. `None` where no such operator applies.
pub(crate) fn interval_arith(op: &Op, l: (&PgType, &Expr), r: (&PgType, &Expr)) -> Option<PgType> {
    let interval = |(t, e): (&PgType, &Expr)| *t == PgType::Interval || is_quoted(e);
    let moment = |t: &PgType| matches!(t, PgType::Timestamp | PgType::Timestamptz | PgType::Date);
    let number = |(t, e): (&PgType, &Expr)| rank(t) > 0 || is_quoted(e);
    let moved = |t: &PgType| match t {
        PgType::Timestamptz => PgType::Timestamptz,
        _ => PgType::Timestamp,
    };
    let any_interval = *l.0 == PgType::Interval || *r.0 == PgType::Interval;
    match op {
        Op::Plus if moment(l.0) && *r.0 == PgType::Interval => Some(moved(l.0)),
        Op::Plus if *l.0 == PgType::Interval && moment(r.0) => Some(moved(r.0)),
        Op::Plus if moment(l.0) && *l.0 != PgType::Date && is_quoted(r.1) => Some(moved(l.0)),
        Op::Minus if moment(l.0) && *r.0 == PgType::Interval => Some(moved(l.0)),
        Op::Plus | Op::Minus if any_interval && interval(l) && interval(r) => {
            Some(PgType::Interval)
        }
        Op::Minus
            if matches!(l.0, PgType::Timestamp | PgType::Timestamptz)
                && (matches!(r.0, PgType::Timestamp | PgType::Timestamptz) || is_quoted(r.1)) =>
        {
            Some(PgType::Interval)
        }
        Op::Minus if matches!(r.0, PgType::Timestamp | PgType::Timestamptz) && is_quoted(l.1) => {
            Some(PgType::Interval)
        }
        Op::Multiply
            if (*l.0 == PgType::Interval && number(r))
                || (number(l) && *r.0 == PgType::Interval) =>
        {
            Some(PgType::Interval)
        }
        Op::Divide if *l.0 == PgType::Interval && number(r) => Some(PgType::Interval),
        _ if any_interval => Some(PgType::Unknown),
        _ => None,
    }
}

/// The number of digits after the point in a numeric literal's text.
fn literal_scale(t: &str) -> Option<u32> {
    let t = t.trim();
    if t.contains(['e', 'E']) || t.parse::<f64>().is_err() {
        return None;
    }
    Some(t.split_once('.').map(|(_, f)| f.len() as u32).unwrap_or(0))
}

/// The display scale of a numeric (0 for integers), when known.
fn scale_of(t: &PgType) -> Option<u32> {
    match t {
        PgType::Numeric(Some((_, s))) => Some(*s),
        PgType::Int2 | PgType::Int4 | PgType::Int8 => Some(0),
        _ => None,
    }
}

/// A numeric result of arithmetic carries PostgreSQL's display scale: the
/// larger of the operands' for `+ - %`, their sum for `*`; a quotient's
/// depends on the values, so it is left open.
fn numeric_scale(op: &Op, l: &PgType, r: &PgType, result: PgType) -> PgType {
    if !matches!(result, PgType::Numeric(_)) {
        return result;
    }
    let scale = match (scale_of(l), scale_of(r)) {
        (Some(a), Some(b)) => match op {
            Op::Plus | Op::Minus | Op::Modulo => Some(a.max(b)),
            Op::Multiply => Some(a + b),
            _ => None,
        },
        _ => None,
    };
    PgType::Numeric(scale.map(|s| (0, s)))
}

/// Whether a math function of this argument type returns numeric (else float8).
fn math(t: PgType) -> PgType {
    if matches!(t, PgType::Numeric(_)) {
        PgType::Numeric(None)
    } else {
        PgType::Float8
    }
}

/// `-n` for a minus sign before a number literal (parenthesised or not).
fn negated_literal(op: &UnaryOperator, e: &Expr) -> Option<String> {
    if *op != UnaryOperator::Minus {
        return None;
    }
    match e {
        Expr::Nested(inner) => negated_literal(op, inner),
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => Some(format!("-{n}")),
            _ => None,
        },
        _ => None,
    }
}

/// The type of a numeric literal: int4, int8 or numeric by its size and form.
pub(super) fn number_type(n: &str) -> PgType {
    if n.contains(['e', 'E']) {
        PgType::Numeric(None)
    } else if let Some((_, frac)) = n.split_once('.') {
        PgType::Numeric(Some((0, frac.len() as u32)))
    } else if n.parse::<i32>().is_ok() {
        PgType::Int4
    } else if n.parse::<i64>().is_ok() {
        PgType::Int8
    } else {
        PgType::Numeric(Some((0, 0)))
    }
}

/// The type of EXTRACT: numeric, with the scale PostgreSQL gives the field.
fn extract_type(field: &DateTimeField) -> PgType {
    let scale = match field {
        DateTimeField::Epoch | DateTimeField::Second | DateTimeField::Seconds => 6,
        DateTimeField::Milliseconds | DateTimeField::Millisecond => 3,
        _ => 0,
    };
    PgType::Numeric(Some((0, scale)))
}

impl Env<'_> {
    /// The first argument type that says something (NULL and unknown don't).
    /// The type CASE, COALESCE, GREATEST and the like resolve `es` to, as
    /// PostgreSQL's select_common_type does for what MosaicDB types: number
    /// types meet at the widest (int2 < int4 < int8 < numeric < float4 <
    /// float8; numerics of different typmods at plain numeric), otherwise
    /// the first known type; all unknown is text.
    pub(super) fn first_known(&mut self, es: &[&Expr]) -> Result<PgType> {
        let mut known = Vec::new();
        for e in es {
            if is_null(e) {
                continue;
            }
            let t = self.expr_type(e)?;
            if t != PgType::Unknown {
                known.push(t);
            }
        }
        if known.is_empty() {
            return Ok(PgType::Text);
        }
        Ok(common_type(&known))
    }

    pub(super) fn expr_type(&mut self, e: &Expr) -> Result<PgType> {
        Ok(match e {
            Expr::Identifier(id) => self.column(None, &norm(id))?,
            Expr::CompoundIdentifier(ids) => self.compound_type(ids)?,
            Expr::Value(v) => self.value_type(&v.value),
            Expr::Nested(inner) => self.expr_type(inner)?,
            Expr::Cast {
                data_type, expr, ..
            } => self.cast_type(expr, data_type)?,
            Expr::TypedString(ts) => PgType::from_sql(&ts.data_type)?,
            Expr::Interval(_) => PgType::Interval,
            Expr::BinaryOp { left, op, right } => self.binary_type(left, op, right)?,
            Expr::UnaryOp { op, expr } => match (op, negated_literal(op, expr)) {
                // PostgreSQL folds the sign into a number literal before
                // typing it: -2147483648 is an int4.
                (_, Some(n)) => number_type(&n),
                (UnaryOperator::Not, _) => PgType::Bool,
                (UnaryOperator::PGSquareRoot, _) => math(self.expr_type(expr)?),
                _ => self.expr_type(expr)?,
            },
            Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsTrue(_)
            | Expr::IsFalse(_)
            | Expr::IsNotTrue(_)
            | Expr::IsNotFalse(_)
            | Expr::IsUnknown(_)
            | Expr::IsNotUnknown(_)
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::In { .. }
            | Expr::Between { .. }
            | Expr::Like { .. }
            | Expr::ILike { .. }
            | Expr::SimilarTo { .. }
            | Expr::RLike { .. }
            | Expr::AnyOp { .. }
            | Expr::AllOp { .. }
            | Expr::Exists { .. } => PgType::Bool,
            Expr::Function(f) => self.function_type(f)?,
            Expr::Case {
                conditions,
                else_result,
                ..
            } => {
                let mut branches: Vec<&Expr> = conditions.iter().map(|c| &c.result).collect();
                branches.extend(else_result.as_deref());
                self.first_known(&branches)?
            }
            Expr::Subquery(q) => {
                let cols = self.query_cols(q)?;
                cols.into_iter().next().map_or(PgType::Unknown, |c| c.1)
            }
            // A date's epoch is whole seconds.
            Expr::Extract { field, expr, .. }
                if matches!(field, DateTimeField::Epoch)
                    && self.expr_type(expr)? == PgType::Date =>
            {
                PgType::Numeric(Some((0, 0)))
            }
            Expr::Extract { field, .. } => extract_type(field),
            Expr::Ceil { expr, .. } | Expr::Floor { expr, .. } => math(self.expr_type(expr)?),
            Expr::Position { .. } => PgType::Int4,
            Expr::Substring { expr, .. } | Expr::Overlay { expr, .. }
                if self.expr_type(expr)? == PgType::Bytea =>
            {
                PgType::Bytea
            }
            Expr::Substring { .. } | Expr::Trim { .. } | Expr::Overlay { .. } => PgType::Text,
            Expr::AtTimeZone { timestamp, .. } => match self.expr_type(timestamp)? {
                PgType::Timestamp => PgType::Timestamptz,
                _ => PgType::Timestamp,
            },
            Expr::Collate { expr, .. } => self.expr_type(expr)?,
            Expr::Array(arr) => {
                // Quoted literals take the type of the others, as
                // PostgreSQL's unknown-typed literals do.
                let typed: Vec<&Expr> = arr
                    .elem
                    .iter()
                    .filter(|e| {
                        !is_quoted(e) && !matches!(e, Expr::Value(v) if v.value == Value::Null)
                    })
                    .collect();
                let items = if typed.is_empty() {
                    arr.elem.iter().collect()
                } else {
                    typed
                };
                PgType::Array(Box::new(match self.first_known(&items)? {
                    PgType::Unknown => PgType::Text,
                    t => t,
                }))
            }
            Expr::CompoundFieldAccess { root, access_chain } => {
                self.access_type(root, access_chain)?
            }
            _ => PgType::Unknown,
        })
    }

    /// The type of a column named with a qualifier: the last two parts are
    /// the table and the column.
    fn compound_type(&self, ids: &[Ident]) -> Result<PgType> {
        match ids {
            [.., table, col] => self.column(Some(&norm(table)), &norm(col)),
            [col] => self.column(None, &norm(col)),
            [] => Ok(PgType::Unknown),
        }
    }

    /// The type of a literal or a parameter (a parameter of unknown type is text).
    fn value_type(&self, v: &Value) -> PgType {
        match v {
            Value::Number(n, _) => number_type(n),
            Value::Boolean(_) => PgType::Bool,
            Value::Placeholder(p) => p
                .strip_prefix('$')
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| self.params.get(n.wrapping_sub(1)))
                .cloned()
                .unwrap_or(PgType::Text),
            _ => PgType::Text,
        }
    }

    /// The type a cast to `data_type` gives `expr`.
    fn cast_type(&mut self, expr: &Expr, data_type: &DataType) -> Result<PgType> {
        if let Ok(t @ PgType::Array(_)) = PgType::from_sql(data_type) {
            return Ok(t);
        }
        if let Some(t) = pg_catalog::cast_type(data_type) {
            return Ok(t);
        }
        Ok(match PgType::from_sql(data_type)? {
            // An unconstrained numeric keeps the scale of the text it was cast from.
            PgType::Numeric(None) => match expr {
                Expr::Value(v) => match &v.value {
                    Value::SingleQuotedString(t) | Value::Number(t, _) => literal_scale(t)
                        .map(|s| PgType::Numeric(Some((0, s))))
                        .unwrap_or(PgType::Numeric(None)),
                    _ => PgType::Numeric(None),
                },
                other => match self.expr_type(other)? {
                    t @ PgType::Numeric(_) => t,
                    t => scale_of(&t)
                        .map(|s| PgType::Numeric(Some((0, s))))
                        .unwrap_or(PgType::Numeric(None)),
                },
            },
            t => t,
        })
    }

    /// The result type of a binary operator (comparisons and logic are boolean).
    fn binary_type(&mut self, left: &Expr, op: &Op, right: &Expr) -> Result<PgType> {
        // Each side is typed once: typing a side again at every level of a
        // chain (`a || b || c …`) would take time exponential in its length.
        Ok(match op {
            Op::Plus | Op::Minus | Op::Multiply | Op::Divide | Op::Modulo => {
                let l = self.expr_type(left)?;
                if *op == Op::Minus && l == PgType::Jsonb {
                    return Ok(PgType::Jsonb);
                }
                let r = self.expr_type(right)?;
                if matches!(l, PgType::Vector(_)) || matches!(r, PgType::Vector(_)) {
                    return Ok(PgType::Vector(None));
                }
                if let Some(t) = super::typed::time::time_arith(op, (&l, left), (&r, right))
                    .or_else(|| interval_arith(op, (&l, left), (&r, right)))
                {
                    return Ok(t);
                }
                let (l, r) = more::untyped_operands((left, l), (right, r));
                // A literal beside a date is a date: date - date is days
                // (`typed::expr`'s date_minus_literal reads it so).
                if *op == Op::Minus
                    && matches!(
                        (&l, &r),
                        (PgType::Date, PgType::Unknown) | (PgType::Unknown, PgType::Date)
                    )
                {
                    return Ok(PgType::Int4);
                }
                numeric_scale(op, &l, &r, arith(l.clone(), r.clone()))
            }
            Op::PGExp => more::math2(self.expr_type(left)?, self.expr_type(right)?),
            Op::StringConcat => {
                let (l, r) = (self.expr_type(left)?, self.expr_type(right)?);
                if matches!(l, PgType::Vector(_)) || matches!(r, PgType::Vector(_)) {
                    PgType::Vector(None)
                } else if matches!(l, PgType::Array(_)) {
                    l
                } else if matches!(r, PgType::Array(_)) {
                    r
                } else if l == PgType::Jsonb || r == PgType::Jsonb {
                    PgType::Jsonb
                } else if l == PgType::Bytea || r == PgType::Bytea {
                    PgType::Bytea
                } else {
                    PgType::Text
                }
            }
            Op::HashMinus => PgType::Jsonb,
            Op::LongArrow | Op::HashLongArrow => PgType::Text,
            Op::Arrow | Op::HashArrow => match self.expr_type(left)? {
                PgType::Json => PgType::Json,
                _ => PgType::Jsonb,
            },
            Op::BitwiseAnd
            | Op::BitwiseOr
            | Op::PGBitwiseXor
            | Op::PGBitwiseShiftLeft
            | Op::PGBitwiseShiftRight => match is_quoted(left) {
                // A literal takes the other operand's type.
                true => self.expr_type(right)?,
                false => self.expr_type(left)?,
            },
            Op::Spaceship | Op::LtDashGt => PgType::Float8,
            Op::Custom(c) if c == "<#>" || c == super::typed::vector::L1_OPERATOR => PgType::Float8,
            _ => PgType::Bool,
        })
    }

    /// `arr[i]` is an element; `(_pg_expandarray(a)).n` a position and
    /// `.x` an element; other composites are not typed.
    fn access_type(&mut self, root: &Expr, chain: &[sqlparser::ast::AccessExpr]) -> Result<PgType> {
        use sqlparser::ast::{AccessExpr, Subscript};
        let mut inner = root;
        while let Expr::Nested(e) = inner {
            inner = e;
        }
        let indexes = chain
            .iter()
            .all(|a| matches!(a, AccessExpr::Subscript(Subscript::Index { .. })));
        if indexes && self.expr_type(root)? == PgType::Jsonb {
            return Ok(PgType::Jsonb);
        }
        Ok(match chain {
            [AccessExpr::Subscript(Subscript::Index { .. })] => match self.expr_type(root)? {
                PgType::Array(elem) => *elem,
                _ => PgType::Text,
            },
            [AccessExpr::Subscript(Subscript::Slice { .. })] => match self.expr_type(root)? {
                t @ PgType::Array(_) => t,
                _ => PgType::Unknown,
            },
            // `alias.column[i]`.
            [dots @ .., AccessExpr::Subscript(Subscript::Index { .. })] => {
                let Some(column) = pg_catalog::qualified_column(root, dots) else {
                    return Ok(PgType::Unknown);
                };
                match self.expr_type(&column)? {
                    PgType::Array(elem) => *elem,
                    _ => PgType::Text,
                }
            }
            [AccessExpr::Dot(Expr::Identifier(field))] => match inner {
                Expr::Function(f) if func_name(f) == "_pg_expandarray" => {
                    match field.value.to_lowercase().as_str() {
                        "n" => PgType::Int4,
                        _ => match args(f).first() {
                            Some(a) => match self.expr_type(a)? {
                                PgType::Array(elem) => *elem,
                                _ => PgType::Int2,
                            },
                            None => PgType::Unknown,
                        },
                    }
                }
                _ => PgType::Unknown,
            },
            _ => PgType::Unknown,
        })
    }

    /// The type of an interval function, or of the typed step's interval
    /// calls (`typed::interval`); `None` for other functions.
    fn interval_function_type(&mut self, name: &str, a: &[&Expr]) -> Result<Option<PgType>> {
        Ok(Some(match name {
            "age" | "justify_days" | "justify_hours" | "justify_interval" | "make_interval" => {
                PgType::Interval
            }
            "pg_timestamp_add_interval" | "pg_timestamp_sub_interval" => {
                match a.first().map(|e| self.expr_type(e)).transpose()? {
                    Some(PgType::Timestamptz) => PgType::Timestamptz,
                    _ => PgType::Timestamp,
                }
            }
            "pg_interval_part" => PgType::Numeric(None),
            "pg_timestamp_series_at" => match a.first().map(|e| self.expr_type(e)).transpose()? {
                Some(PgType::Timestamptz | PgType::Date) => PgType::Timestamptz,
                _ => PgType::Timestamp,
            },
            "pg_timestamp_series_last" | "pg_tz_series_last" | "pg_tz_offset" => PgType::Int8,
            "pg_tz_instant"
            | "pg_tz_trunc"
            | "pg_tz_trunc_in"
            | "pg_tz_add"
            | "pg_tz_series_at"
            | "pg_tz_generate_series" => PgType::Timestamptz,
            "pg_tz_local" | "pg_timestamp_generate_series" => PgType::Timestamp,
            "pg_tz_text" | "pg_tz_to_char" => PgType::Text,
            "isfinite" => PgType::Bool,
            "date_bin" | "pg_date_bin" => match a.get(1).map(|e| self.expr_type(e)).transpose()? {
                Some(PgType::Timestamptz) => PgType::Timestamptz,
                _ => PgType::Timestamp,
            },
            "pg_to_char" | "pg_to_char_number" => PgType::Text,
            "timezone" => match a.get(1).map(|e| self.expr_type(e)).transpose()? {
                Some(PgType::Timestamp) => PgType::Timestamptz,
                _ => PgType::Timestamp,
            },
            "pg_at_time_zone" => match a.get(2) {
                Some(Expr::Value(v)) if v.value == Value::Number("0".into(), false) => {
                    PgType::Timestamptz
                }
                _ => PgType::Timestamp,
            },
            "to_timestamp" | "pg_to_timestamp" | "pg_to_timestamp_text" => PgType::Timestamptz,
            "to_date" | "pg_to_date" => PgType::Date,
            "pg_interval_cmp" => PgType::Int4,
            "pg_interval_key" => PgType::Text,
            "sum" | "avg" => match a.first().map(|e| self.expr_type(e)).transpose()? {
                Some(PgType::Interval) => PgType::Interval,
                _ => return Ok(None),
            },
            n if n.starts_with("pg_interval_")
                || n.starts_with("pg_justify_")
                || matches!(n, "pg_age" | "pg_timestamp_diff" | "pg_make_interval") =>
            {
                PgType::Interval
            }
            _ => return Ok(None),
        }))
    }

    fn function_type(&mut self, f: &Function) -> Result<PgType> {
        let name = func_name(f);
        let a = args(f);
        let first = |env: &mut Self| match a.first() {
            Some(e) => env.expr_type(e),
            None => Ok(PgType::Unknown),
        };
        if let Some(t) = self.interval_function_type(&name, &a)? {
            return Ok(t);
        }
        if let Some(t) = self.array_function_type(&name, &a)? {
            return Ok(t);
        }
        if let Some(t) = self.ordered_function_type(&name, f)? {
            return Ok(t);
        }
        Ok(match name.as_str() {
            "count" | "row_number" | "rank" | "dense_rank" | "nextval" | "currval" | "setval"
            | "lastval" | "txid_current" => PgType::Int8,
            "pg_current_xact_id" => PgType::Xid8,
            "sha224" | "sha256" | "sha384" | "sha512" | "decode" => PgType::Bytea,
            "bit_length" | "ascii" => PgType::Int4,
            "ntile" | "length" | "char_length" | "character_length" | "octet_length" | "strpos"
            | "position" | "pg_backend_pid" | "array_length" => PgType::Int4,
            "sum" => match first(self)? {
                PgType::Vector(_) => PgType::Vector(None),
                PgType::Int2 | PgType::Int4 => PgType::Int8,
                PgType::Int8 => PgType::Numeric(Some((0, 0))),
                PgType::Numeric(m) => PgType::Numeric(m.map(|(_, s)| (0, s))),
                PgType::Float4 => PgType::Float4,
                _ => PgType::Float8,
            },
            "avg" => match first(self)? {
                PgType::Vector(_) => PgType::Vector(None),
                PgType::Float4 | PgType::Float8 => PgType::Float8,
                _ => PgType::Numeric(None),
            },
            // A lag/lead default keeps its own scale: numeric, no typmod.
            "lag" | "lead" if a.len() == 3 => match first(self)? {
                PgType::Numeric(_) => PgType::Numeric(None),
                t => t,
            },
            "min" | "max" | "lag" | "lead" | "first_value" | "last_value" | "nth_value" | "abs"
            | "mod" | "pg_grouping_null" | "pg_domain_check" => first(self)?,
            "bool_and" | "bool_or" | "every" | "starts_with" | "revoke_token" => PgType::Bool,
            "issue_token" | "rotate_token_key" => PgType::Text,
            "percent_rank" | "cume_dist" | "random" | "pi" | "date_part" => PgType::Float8,
            "round" | "trunc" if a.len() == 2 => PgType::Numeric(None),
            "round" | "trunc" | "ceil" | "ceiling" | "floor" | "sqrt" | "power" | "pow" | "exp"
            | "ln" | "log" | "log10" | "sign" => math(first(self)?),
            "string_agg" => match first(self)? {
                PgType::Bytea => PgType::Bytea,
                _ => PgType::Text,
            },
            "lower" | "upper" | "substring" | "substr" | "trim" | "btrim" | "ltrim" | "rtrim"
            | "concat" | "concat_ws" | "replace" | "left" | "right" | "repeat" | "split_part"
            | "reverse" | "lpad" | "rpad" | "initcap" | "md5" | "to_char" | "version"
            | "current_database" | "current_schema" | "current_user" | "session_user" | "user"
            | "current_catalog" | "format" | "chr" | "quote_ident" | "quote_literal"
            | "quote_nullable" | "translate" | "encode" | "regexp_replace" | "current_setting"
            | "set_config" => PgType::Text,
            "now"
            | "current_timestamp"
            | "transaction_timestamp"
            | "statement_timestamp"
            | "clock_timestamp" => PgType::Timestamptz,
            "localtimestamp" => PgType::Timestamp,
            "localtime" => PgType::Time,
            "current_date" => PgType::Date,
            "date_trunc" => match a.get(1) {
                Some(e) => match self.expr_type(e)? {
                    PgType::Timestamp => PgType::Timestamp,
                    PgType::Interval => PgType::Interval,
                    _ => PgType::Timestamptz,
                },
                None => PgType::Timestamptz,
            },
            "coalesce" | "nullif" | "greatest" | "least" => self.resolved(&a)?,
            "gen_random_uuid" | "uuid_generate_v4" => PgType::Uuid,
            "generate_subscripts" => PgType::Int4,
            "pg_numeric_cmp" | "pg_numeric_distinct" | "pg_numeric_in" => PgType::Int4,
            "pg_numeric_cast" => match a.get(1) {
                Some(Expr::Value(v)) => match &v.value {
                    Value::SingleQuotedString(s) => {
                        crate::types::cast_target(s).unwrap_or(PgType::Unknown)
                    }
                    _ => PgType::Unknown,
                },
                _ => PgType::Unknown,
            },
            n if n.starts_with("pg_numeric") => PgType::Numeric(None),
            "pg_float4_text" | "pg_float8_text" => PgType::Text,
            // The typed step's integer and float arithmetic.
            n if n.starts_with("pg_int2_") => PgType::Int2,
            n if n.starts_with("pg_int4_") => PgType::Int4,
            n if n.starts_with("pg_int8_") => PgType::Int8,
            n if n.starts_with("pg_float4_") => PgType::Float4,
            n if n.starts_with("pg_float8_") || n == "pg_rint" => PgType::Float8,
            _ => more::json_result_type(&name, &a)
                .or_else(|| pg_catalog_result_type(&name))
                .or_else(|| session_result_type(&name))
                .or_else(|| super::typed::vector::result_type(&name))
                .or_else(|| super::typed::geometry::result_type(&name))
                .unwrap_or(PgType::Unknown),
        })
    }
}

/// The result type of the advisory lock, signal and sleep functions.
fn session_result_type(name: &str) -> Option<PgType> {
    Some(match name {
        "pg_try_advisory_lock"
        | "pg_try_advisory_lock_shared"
        | "pg_try_advisory_xact_lock"
        | "pg_try_advisory_xact_lock_shared"
        | "pg_advisory_unlock"
        | "pg_advisory_unlock_shared"
        | "pg_cancel_backend"
        | "pg_terminate_backend" => PgType::Bool,
        "pg_advisory_lock"
        | "pg_advisory_lock_shared"
        | "pg_advisory_xact_lock"
        | "pg_advisory_xact_lock_shared"
        | "pg_advisory_unlock_all"
        | "pg_notify"
        | "pg_sleep"
        | "pg_sleep_for"
        | "pg_sleep_until"
        | "setseed" => PgType::Void,
        _ => return None,
    })
}

/// The result type of a catalog function, for type inference.
fn pg_catalog_result_type(name: &str) -> Option<PgType> {
    Some(match name {
        "pg_table_is_visible"
        | "has_table_privilege"
        | "has_schema_privilege"
        | "has_database_privilege"
        | "pg_relation_is_publishable"
        | "pg_collation_is_visible"
        | "pg_type_is_visible" => PgType::Bool,
        "to_regtype" | "to_regclass" | "pg_partition_ancestors" => PgType::Int8,
        "format_type"
        | "pg_typeof"
        | "pg_get_expr"
        | "pg_get_indexdef"
        | "pg_get_constraintdef"
        | "pg_get_viewdef"
        | "pg_size_pretty"
        | "pg_get_userbyid"
        | "obj_description"
        | "col_description"
        | "shobj_description"
        | "pg_encoding_to_char"
        | "array_to_string"
        | "pg_get_statisticsobjdef_columns"
        | "pg_get_serial_sequence"
        | "pg_get_triggerdef"
        | "current_schemas" => PgType::Text,
        "pg_relation_size" | "pg_total_relation_size" | "pg_table_size" | "pg_indexes_size" => {
            PgType::Int8
        }
        "array_upper" | "array_lower" | "array_length" | "cardinality" => PgType::Int4,
        _ => return None,
    })
}
