//! The typed step for intervals (`types::interval`): arithmetic with
//! intervals and timestamps, comparisons by value, aggregates and the
//! interval functions become the `pg_interval_*` calls of
//! `store::udf::interval`; a quoted literal an interval meets is read as
//! one now (22007 for bad input, as PostgreSQL reports it at parse time).
//! `to_char` of a date, time or interval and `to_timestamp` of a number
//! take the same road.

use sqlparser::ast::{
    BinaryOperator as Op, DateTimeField, DuplicateTreatment, Expr, Function, FunctionArguments,
    InTarget, UnaryOperator, Value,
};

use super::expr::{arg_exprs, call, func_name, refuse, string, take};
use super::values::quoted;
use super::Typer;
use crate::error::{Error, Result};
use crate::sql::infer::expr::{interval_arith, is_quoted};
use crate::types::interval::Interval;
use crate::types::PgType;

/// Names of the calls this step emits, which it leaves alone when it meets
/// them again.
pub(super) fn is_interval_call(name: &str) -> bool {
    name.starts_with("pg_interval_")
        || name.starts_with("pg_timestamp_")
        || name.starts_with("pg_justify_")
        || matches!(
            name,
            "pg_age"
                | "pg_make_interval"
                | "pg_to_char"
                | "pg_to_timestamp"
                | "pg_to_timestamp_text"
                | "pg_to_date"
                | "pg_at_time_zone"
                | "pg_timestamp_series_at"
                | "pg_timestamp_series_last"
                | "pg_date_bin"
        )
}

/// An interval becoming text (a cast, `||`): under the plain text
/// collation, so the interval collation a min/max or a set operation put
/// on it does not carry on into the text built from it.
pub(super) fn as_text(e: Expr) -> Expr {
    Expr::Collate {
        expr: Box::new(e),
        collation: sqlparser::ast::ObjectName::from(vec![sqlparser::ast::Ident::new(
            crate::types::TEXT_COLLATION,
        )]),
    }
}

/// A quoted literal read as an interval, in its stored form.
fn literal_interval(e: &mut Expr) -> Result<()> {
    if let Some(text) = quoted(e) {
        *e = string(Interval::parse(text)?.format());
    }
    Ok(())
}

/// `ts AT TIME ZONE zone` as `pg_at_time_zone`: a timestamp becomes the
/// instant of its wall time there (timestamptz); a timestamptz, a date
/// or an untyped literal (read as timestamptz, PostgreSQL's preferred
/// type) becomes its wall time there (timestamp).
pub(super) fn at_time_zone(ts: Expr, ts_ty: &PgType, zone: Expr, zone_ty: &PgType) -> Expr {
    let flag = |b: bool| Expr::Value(Value::Number(if b { "1" } else { "0" }.into(), false).into());
    let to_local = *ts_ty != PgType::Timestamp;
    call(
        "pg_at_time_zone",
        vec![ts, zone, flag(to_local), flag(*zone_ty == PgType::Interval)],
    )
}

/// The lower-case name of an EXTRACT field.
pub(super) fn field_name(f: &DateTimeField) -> String {
    match f {
        DateTimeField::Custom(i) => i.value.to_ascii_lowercase(),
        other => other.to_string().to_ascii_lowercase(),
    }
}

/// make_interval's parameters, in order.
const MAKE_INTERVAL: [&str; 7] = ["years", "months", "weeks", "days", "hours", "mins", "secs"];

/// `make_interval(…)` with every parameter given, in order (named ones
/// where they belong, the rest 0).
fn make_interval(f: &Function) -> Result<Expr> {
    let slots = crate::sql::argument_slots(f, &MAKE_INTERVAL)?;
    let args = slots
        .into_iter()
        .zip(zeros())
        .map(|(s, zero)| s.unwrap_or(zero))
        .collect();
    Ok(call("pg_make_interval", args))
}

fn zeros() -> Vec<Expr> {
    let n = |v: &str| Expr::Value(Value::Number(v.into(), false).into());
    let mut z: Vec<Expr> = (0..6).map(|_| n("0")).collect();
    z.push(n("0.0"));
    z
}

impl Typer<'_> {
    /// `+ - * /` where an interval takes part, and the difference of two
    /// timestamps; true when `e` was one.
    pub(super) fn interval_binary(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::BinaryOp { left, op, right } = e else {
            return Ok(false);
        };
        if !matches!(
            op,
            Op::Plus | Op::Minus | Op::Multiply | Op::Divide | Op::Modulo
        ) {
            return Ok(false);
        }
        let (lt, rt) = (self.type_of(left), self.type_of(right));
        let Some(result) = interval_arith(op, (&lt, left), (&rt, right)) else {
            return Ok(false);
        };
        let is_iv = |t: &PgType, e: &Expr| *t == PgType::Interval || is_quoted(e);
        *e = match (op.clone(), &result) {
            (_, PgType::Unknown) => {
                return Err(Error::NoSuchOperator(format!(
                    "operator does not exist: {} {op} {}",
                    lt.display_name(),
                    rt.display_name()
                )))
            }
            (Op::Plus | Op::Minus, PgType::Interval) if is_iv(&lt, left) && is_iv(&rt, right) => {
                literal_interval(left)?;
                literal_interval(right)?;
                let name = if *op == Op::Plus {
                    "pg_interval_add"
                } else {
                    "pg_interval_sub"
                };
                call(name, vec![take(left), take(right)])
            }
            // The difference of two timestamps (a literal read as the other).
            (Op::Minus, PgType::Interval) => {
                // A timestamptz meets a timestamp (or a literal) read in
                // the session's zone.
                let tz = lt == PgType::Timestamptz || rt == PgType::Timestamptz;
                for (side, own, other) in [(&mut *left, &lt, &rt), (&mut *right, &rt, &lt)] {
                    if tz && *own != PgType::Timestamptz {
                        **side = super::zone::instant(take(side));
                    } else if let Some(text) = quoted(side) {
                        **side = crate::sql::coerce::datum_expr(&other.parse_text(text)?);
                    }
                }
                call("pg_timestamp_diff", vec![take(left), take(right)])
            }
            (Op::Plus, PgType::Timestamptz) if lt == PgType::Interval => {
                super::zone::add(take(right), take(left), false)
            }
            (Op::Plus, _) if lt == PgType::Interval => {
                call("pg_timestamp_add_interval", vec![take(right), take(left)])
            }
            (Op::Plus | Op::Minus, PgType::Timestamptz) => {
                literal_interval(right)?;
                super::zone::add(take(left), take(right), *op == Op::Minus)
            }
            (Op::Plus | Op::Minus, _) => {
                literal_interval(right)?;
                let name = if *op == Op::Plus {
                    "pg_timestamp_add_interval"
                } else {
                    "pg_timestamp_sub_interval"
                };
                call(name, vec![take(left), take(right)])
            }
            (Op::Multiply, _) if lt == PgType::Interval => {
                call("pg_interval_mul", vec![take(left), take(right)])
            }
            (Op::Multiply, _) => call("pg_interval_mul", vec![take(right), take(left)]),
            _ => call("pg_interval_div", vec![take(left), take(right)]),
        };
        Ok(true)
    }

    /// `-interval`; true when `e` was one.
    pub(super) fn interval_unary(&mut self, e: &mut Expr) -> bool {
        let Expr::UnaryOp { op, expr } = e else {
            return false;
        };
        if self.type_of(expr) != PgType::Interval {
            return false;
        }
        match op {
            UnaryOperator::Minus => *e = call("pg_interval_neg", vec![take(expr)]),
            UnaryOperator::Plus => *e = take(expr),
            _ => return false,
        }
        true
    }

    /// Comparisons, BETWEEN and IN lists where an interval takes part, as
    /// `pg_interval_cmp(a, b) op 0` (literals read as intervals); true
    /// when `e` was one. A function, not a COLLATE: SQLite carries an
    /// explicit collation up through the expressions around it, so a
    /// text built from the comparison's result would sort as intervals.
    pub(super) fn interval_comparison(&mut self, e: &mut Expr) -> Result<bool> {
        let cmp = |a: Expr, op: Op, b: Expr| Expr::BinaryOp {
            left: Box::new(call("pg_interval_cmp", vec![a, b])),
            op,
            right: Box::new(Expr::Value(Value::Number("0".into(), false).into())),
        };
        let new = match e {
            Expr::BinaryOp { left, op, right }
                if matches!(
                    op,
                    Op::Eq | Op::NotEq | Op::Lt | Op::LtEq | Op::Gt | Op::GtEq
                ) =>
            {
                if !self.any_interval(&mut [&mut **left, &mut **right])? {
                    return Ok(false);
                }
                cmp(take(left), op.clone(), take(right))
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                if !self.any_interval(&mut [&mut **expr, &mut **low, &mut **high])? {
                    return Ok(false);
                }
                let x = take(expr);
                let both = Expr::BinaryOp {
                    left: Box::new(cmp(x.clone(), Op::GtEq, take(low))),
                    op: Op::And,
                    right: Box::new(cmp(x, Op::LtEq, take(high))),
                };
                let both = Expr::Nested(Box::new(both));
                if *negated {
                    super::expr::not(both)
                } else {
                    both
                }
            }
            Expr::In {
                expr,
                target: InTarget::List(list),
                negated,
                ..
            } => {
                let mut all: Vec<&mut Expr> = vec![&mut **expr];
                all.extend(list.iter_mut());
                if !self.any_interval(&mut all)? {
                    return Ok(false);
                }
                // x = a OR x = b …: NULL where no item matches and one is
                // NULL, as IN is.
                let x = take(expr);
                let any = list
                    .drain(..)
                    .map(|item| cmp(x.clone(), Op::Eq, item))
                    .reduce(|a, b| Expr::BinaryOp {
                        left: Box::new(a),
                        op: Op::Or,
                        right: Box::new(b),
                    });
                let Some(any) = any else {
                    return Ok(false);
                };
                let any = Expr::Nested(Box::new(any));
                if *negated {
                    super::expr::not(any)
                } else {
                    any
                }
            }
            Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => {
                if !self.any_interval(&mut [&mut **a, &mut **b])? {
                    return Ok(false);
                }
                let (a, b) = (take(a), take(b));
                let distinct = crate::sql::parse_expr(&format!(
                    "CASE WHEN ({a}) IS NULL OR ({b}) IS NULL THEN (({a}) IS NULL) <> (({b}) IS NULL) \
                     ELSE pg_interval_cmp({a}, {b}) <> 0 END"
                ))?;
                if matches!(e, Expr::IsNotDistinctFrom(..)) {
                    super::expr::not(distinct)
                } else {
                    distinct
                }
            }
            Expr::Case {
                operand: Some(operand),
                conditions,
                ..
            } => {
                let mut all: Vec<&mut Expr> = vec![&mut **operand];
                all.extend(conditions.iter_mut().map(|c| &mut c.condition));
                if !self.any_interval(&mut all)? {
                    return Ok(false);
                }
                let x = take(operand);
                for c in conditions.iter_mut() {
                    c.condition = cmp(x.clone(), Op::Eq, take(&mut c.condition));
                }
                if let Expr::Case { operand, .. } = e {
                    *operand = None;
                }
                return Ok(true);
            }
            _ => return Ok(false),
        };
        *e = new;
        Ok(true)
    }

    /// Whether an interval is among `operands`; if so, their quoted
    /// literals are read as intervals now.
    fn any_interval(&mut self, operands: &mut [&mut Expr]) -> Result<bool> {
        let types: Vec<PgType> = operands.iter().map(|e| self.type_of(e)).collect();
        if !types.contains(&PgType::Interval) {
            return Ok(false);
        }
        for e in operands.iter_mut() {
            literal_interval(e)?;
        }
        Ok(true)
    }

    /// `generate_series(start, stop, step)` of timestamps in FROM: a
    /// subquery over SQLite's series of indexes, each the start moved by
    /// the step that many times (`store::udf::interval`), named as
    /// PostgreSQL names the column.
    pub(super) fn timestamp_series(&mut self, tf: &mut sqlparser::ast::TableFactor) -> Result<()> {
        let Some(exprs) = super::series::series_arguments(tf) else {
            return Ok(());
        };
        let Some((start, stop, step, kind)) = self.timestamp_series_parts(&exprs)? else {
            return Ok(());
        };
        super::series::series_from(
            tf,
            &format!(
                "generate_series(0, pg_{kind}_series_last({start}, {stop}, {step})) AS mosaic_series"
            ),
            &format!("pg_{kind}_series_at({start}, {step}, value)"),
        )
    }

    /// The arguments of a `generate_series(start, stop, step)` of
    /// timestamps (or dates), as its kind (`timestamp`, or `tz` stepping on
    /// the calendar of the session's zone) reads them; `None` for another.
    pub(super) fn timestamp_series_parts(
        &mut self,
        exprs: &[Expr],
    ) -> Result<Option<(Expr, Expr, Expr, &'static str)>> {
        let [start, stop, step] = exprs else {
            return Ok(None);
        };
        // A date start is read as timestamptz, as PostgreSQL resolves it.
        if !matches!(
            self.type_of(start),
            PgType::Timestamp | PgType::Timestamptz | PgType::Date
        ) {
            return Ok(None);
        }
        let mut step = step.clone();
        literal_interval(&mut step)?;
        let (start, stop, kind) = match self.type_of(start) {
            PgType::Timestamp => (start.clone(), stop.clone(), "timestamp"),
            PgType::Date => (super::zone::instant(start.clone()), stop.clone(), "tz"),
            _ => (start.clone(), stop.clone(), "tz"),
        };
        let stop = match self.type_of(&stop) {
            PgType::Date | PgType::Timestamp | PgType::Unknown | PgType::Text if kind == "tz" => {
                super::zone::instant(stop)
            }
            _ => stop,
        };
        Ok(Some((start, stop, step, kind)))
    }

    /// `ts AT TIME ZONE zone`; true when `e` was one.
    pub(super) fn at_time_zone(&mut self, e: &mut Expr) -> bool {
        let Expr::AtTimeZone {
            timestamp,
            time_zone,
        } = e
        else {
            return false;
        };
        let (ts_ty, zone_ty) = (self.type_of(timestamp), self.type_of(time_zone));
        *e = at_time_zone(take(timestamp), &ts_ty, take(time_zone), &zone_ty);
        true
    }

    /// `extract(field FROM interval)`; true when `e` was one.
    pub(super) fn interval_extract(&mut self, e: &mut Expr) -> bool {
        let Expr::Extract { field, expr, .. } = e else {
            return false;
        };
        if self.type_of(expr) != PgType::Interval {
            return false;
        }
        let zero = Expr::Value(Value::Number("0".into(), false).into());
        *e = call(
            "pg_interval_part",
            vec![string(field_name(field)), take(expr), zero],
        );
        true
    }

    /// Aggregates and functions over intervals; true when `e` became
    /// another call.
    pub(super) fn interval_call(&mut self, e: &mut Expr, types: &[PgType]) -> Result<bool> {
        let Expr::Function(f) = e else {
            return Ok(false);
        };
        let name = func_name(f);
        let distinct = matches!(
            &f.args,
            FunctionArguments::List(l) if matches!(l.duplicate_treatment, Some(DuplicateTreatment::Distinct))
        );
        let rename = |f: &mut Function, to: &str| {
            f.name = sqlparser::ast::ObjectName::from(vec![sqlparser::ast::Ident::new(to)])
        };
        let collate_args = |f: &mut Function| {
            for a in arg_exprs(f) {
                *a = super::collate_as(take(a), &PgType::Interval);
            }
        };
        match (name.as_str(), types) {
            ("sum" | "avg", [PgType::Interval]) => {
                if f.over.is_some() {
                    return Err(refuse(format!("{name}(interval) as a window function")));
                }
                rename(f, &format!("pg_interval_{name}"));
                if distinct {
                    collate_args(f);
                }
            }
            ("min" | "max", [PgType::Interval]) => collate_args(f),
            // The value's order key, not its collation (which SQLite would
            // carry into whatever is built from the count).
            ("count", [PgType::Interval]) if distinct => {
                for a in arg_exprs(f) {
                    *a = call("pg_interval_key", vec![take(a)]);
                }
            }
            ("age", [_]) => {
                let arg = arg_exprs(f).into_iter().map(take).collect::<Vec<_>>();
                let today = call("pg_current_date", vec![]);
                *e = call("pg_age", std::iter::once(today).chain(arg).collect());
            }
            ("age", [_, _]) => rename(f, "pg_age"),
            ("justify_days" | "justify_hours" | "justify_interval", [_]) => {
                for a in arg_exprs(f) {
                    literal_interval(a)?;
                }
                rename(f, &format!("pg_{name}"));
            }
            ("make_interval", _) => *e = make_interval(f)?,
            ("date_part", [_, PgType::Interval]) => {
                let mut args: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
                args.push(Expr::Value(Value::Number("1".into(), false).into()));
                *e = call("pg_interval_part", args);
            }
            // to_char of a number (`types::format::number`).
            (
                "to_char",
                [t @ (PgType::Int2
                | PgType::Int4
                | PgType::Int8
                | PgType::Float4
                | PgType::Float8
                | PgType::Numeric(_)), _],
            ) => *e = number_to_char(f, t),
            // to_char of a date, time or interval.
            (
                "to_char",
                [t @ (PgType::Date | PgType::Timestamp | PgType::Timestamptz | PgType::Interval), _],
            ) => {
                let kind = string(crate::types::cast_spec(t));
                let mut args: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
                args.push(kind);
                *e = call("pg_to_char", args);
            }
            (
                "to_timestamp",
                [PgType::Int2
                | PgType::Int4
                | PgType::Int8
                | PgType::Float4
                | PgType::Float8
                | PgType::Numeric(_)],
            ) => rename(f, "pg_to_timestamp"),
            ("to_timestamp", [_, _]) => rename(f, "pg_to_timestamp_text"),
            ("timezone", [zone, ts]) => {
                let (zone, ts) = (zone.clone(), ts.clone());
                let mut args: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
                let (Some(t), Some(z)) = (args.pop(), args.pop()) else {
                    return Ok(false);
                };
                *e = at_time_zone(t, &ts, z, &zone);
            }
            ("to_date", [_, _]) => rename(f, "pg_to_date"),
            ("date_trunc", [_, PgType::Interval]) => rename(f, "pg_interval_trunc"),
            ("date_bin", [_, _, _]) => {
                for a in arg_exprs(f).into_iter().take(1) {
                    literal_interval(a)?;
                }
                rename(f, "pg_date_bin");
            }
            // MosaicDB has no infinite values.
            (
                "isfinite",
                [PgType::Interval | PgType::Date | PgType::Timestamp | PgType::Timestamptz],
            ) => {
                let arg = arg_exprs(f).into_iter().map(take).next();
                let v = arg.unwrap_or(Expr::Value(Value::Null.into()));
                *e = crate::sql::parse_expr(&format!(
                    "CASE WHEN ({v}) IS NULL THEN NULL ELSE true END"
                ))?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// `to_char(number, template)` as `pg_to_char_number`, told the number's
/// type (smallint formats as integer).
fn number_to_char(f: &mut Function, t: &PgType) -> Expr {
    let kind = match t {
        PgType::Int2 | PgType::Int4 => "int4",
        PgType::Int8 => "int8",
        PgType::Float4 => "float4",
        PgType::Float8 => "float8",
        _ => "numeric",
    };
    let mut args: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
    args.push(string(kind.into()));
    call("pg_to_char_number", args)
}
