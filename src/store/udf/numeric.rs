//! PostgreSQL's numeric in SQLite: the `pg_numeric` collation and the
//! functions and aggregates `sql::typed` turns numeric operators, casts
//! and aggregates into (`pg_numeric_add(a, b)`, `pg_numeric_cmp(a, b) < 0`,
//! `pg_numeric_sum(x)`, …).
//!
//! DESIGN: a numeric value is stored as TEXT in PostgreSQL's printed form
//! (`1.50`, `NaN`, `-Infinity`), which keeps every digit and the display
//! scale. Text compares bytewise in SQLite, so every column declared
//! numeric carries `COLLATE pg_numeric`, which compares by value (NaN above
//! every number, as PostgreSQL sorts): SQLite then uses it for comparisons
//! with the column, ORDER BY, GROUP BY, DISTINCT, joins and UNIQUE indexes.
//! Expressions have no column collation, so `sql::typed` compares them with
//! `pg_numeric_cmp` and puts `COLLATE pg_numeric` on numeric sort and group
//! keys. The functions take any stored form: TEXT, an INTEGER (an integer
//! operand promoted to numeric), or a REAL (a value written before numeric
//! was exact, read as it printed then).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use rusqlite::functions::{Aggregate, Context, FunctionFlags, WindowAggregate};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::{as_text, fail, FnResult};
use crate::error::{Error, Result};
use crate::types::number::format_numeric;
use crate::types::numeric::Numeric;
use crate::types::{cast_target, Datum, PgType, NUMERIC_COLLATION};

/// A stored value as a numeric; `None` for NULL.
pub(crate) fn numeric_of(v: ValueRef<'_>) -> Result<Option<Numeric>> {
    Ok(Some(match v {
        ValueRef::Null => return Ok(None),
        ValueRef::Integer(i) => Numeric::from_i64(i),
        ValueRef::Real(f) if f.is_finite() => Numeric::parse(&format_numeric(f))?,
        ValueRef::Real(f) => Numeric::from_f64(f, 15)?,
        ValueRef::Text(t) => Numeric::parse(&String::from_utf8_lossy(t))?,
        ValueRef::Blob(_) => {
            return Err(Error::DatatypeMismatch(
                "cannot use a bytea value as numeric".into(),
            ))
        }
    }))
}

fn arg(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<Numeric>> {
    numeric_of(ctx.get_raw(i)).map_err(fail)
}

fn out(r: Result<Numeric>) -> FnResult {
    r.map(|n| Value::Text(n.to_string())).map_err(fail)
}

/// A binary operator: NULL when either side is.
fn binary(ctx: &Context<'_>, op: fn(&Numeric, &Numeric) -> Result<Numeric>) -> FnResult {
    match (arg(ctx, 0)?, arg(ctx, 1)?) {
        (Some(a), Some(b)) => out(op(&a, &b)),
        _ => Ok(Value::Null),
    }
}

fn unary(ctx: &Context<'_>, op: fn(&Numeric) -> Result<Numeric>) -> FnResult {
    match arg(ctx, 0)? {
        Some(a) => out(op(&a)),
        None => Ok(Value::Null),
    }
}

/// `round(x[, n])` / `trunc(x[, n])`.
fn scaled(ctx: &Context<'_>, round: bool) -> FnResult {
    let Some(x) = arg(ctx, 0)? else {
        return Ok(Value::Null);
    };
    let scale = if ctx.len() > 1 {
        match ctx.get_raw(1) {
            ValueRef::Null => return Ok(Value::Null),
            ValueRef::Integer(i) => i,
            v => match numeric_of(v).map_err(fail)? {
                Some(n) => n.to_int(32).map_err(fail)?,
                None => return Ok(Value::Null),
            },
        }
    } else {
        0
    };
    out(if round {
        x.round(scale)
    } else {
        x.trunc(scale)
    })
}

/// `pg_numeric_cmp(a, b)`: -1, 0 or 1 by value; NULL when either is NULL.
fn cmp(ctx: &Context<'_>) -> FnResult {
    match (arg(ctx, 0)?, arg(ctx, 1)?) {
        (Some(a), Some(b)) => Ok(Value::Integer(match a.total_cmp(&b) {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        })),
        _ => Ok(Value::Null),
    }
}

/// `pg_numeric_in(x, v1, v2, …)`: `x IN (v1, v2, …)` by value, with SQL's
/// NULL rules (NULL when no value matches and any side is NULL).
fn in_list(ctx: &Context<'_>) -> FnResult {
    let Some(x) = arg(ctx, 0)? else {
        return Ok(Value::Null);
    };
    let mut saw_null = false;
    for i in 1..ctx.len() {
        match arg(ctx, i)? {
            Some(v) if v.total_cmp(&x) == Ordering::Equal => return Ok(Value::Integer(1)),
            Some(_) => {}
            None => saw_null = true,
        }
    }
    Ok(if saw_null {
        Value::Null
    } else {
        Value::Integer(0)
    })
}

/// `a IS DISTINCT FROM b` by value: never NULL.
fn distinct(ctx: &Context<'_>) -> FnResult {
    Ok(Value::Integer(match (arg(ctx, 0)?, arg(ctx, 1)?) {
        (Some(a), Some(b)) => i64::from(a.total_cmp(&b) != Ordering::Equal),
        (None, None) => 0,
        _ => 1,
    }))
}

/// greatest/least by value, NULLs ignored.
fn extreme(ctx: &Context<'_>, greatest: bool) -> FnResult {
    let mut best: Option<Numeric> = None;
    for i in 0..ctx.len() {
        if let Some(v) = arg(ctx, i)? {
            best = Some(match best {
                None => v,
                Some(b) => {
                    let o = v.total_cmp(&b);
                    if (greatest && o.is_gt()) || (!greatest && o.is_lt()) {
                        v
                    } else {
                        b
                    }
                }
            });
        }
    }
    Ok(best.map_or(Value::Null, |n| Value::Text(n.to_string())))
}

/// `pg_numeric_cast(x, 'type')`: a numeric value cast to another type
/// (to an integer it rounds half away from zero; to float8 it is the
/// nearest double; to text it is its printed form).
fn cast_from(ctx: &Context<'_>) -> FnResult {
    let spec: String = ctx.get(1)?;
    let Some(x) = arg(ctx, 0)? else {
        return Ok(Value::Null);
    };
    let ty =
        cast_target(&spec).ok_or_else(|| fail(Error::Unsupported(format!("cast to {spec}"))))?;
    numeric_to(&x, &ty).map_err(fail)
}

pub(crate) fn numeric_to(x: &Numeric, ty: &PgType) -> Result<Value> {
    Ok(match ty {
        PgType::Int2 => Value::Integer(x.to_int(16)?),
        PgType::Int4 => Value::Integer(x.to_int(32)?),
        PgType::Int8 => Value::Integer(x.to_int(64)?),
        PgType::Float4 | PgType::Float8 if x.to_f64()?.is_nan() => {
            return Err(Error::Unsupported(
                "float NaN values (SQLite cannot store them)".into(),
            ))
        }
        PgType::Float8 => Value::Real(x.to_f64()?),
        PgType::Float4 => {
            let f = x.to_f64()?;
            let g = f as f32;
            if g.is_infinite() && f.is_finite() {
                return Err(Error::NumericOutOfRange(format!(
                    "\"{x}\" is out of range for type real"
                )));
            }
            Value::Real(f64::from(g))
        }
        PgType::Numeric(Some((p, s))) if *p > 0 => Value::Text(x.apply_typmod(*p, *s)?.to_string()),
        PgType::Numeric(_) => Value::Text(x.to_string()),
        PgType::Text | PgType::Varchar(_) | PgType::Bpchar(_) | PgType::Unknown => {
            match super::cast(ty, ValueRef::Text(x.to_string().as_bytes()))? {
                Datum::Text(t) => Value::Text(t),
                _ => Value::Text(x.to_string()),
            }
        }
        other => {
            return Err(Error::DatatypeMismatch(format!(
                "cannot cast type numeric to {}",
                other.display_name()
            )))
        }
    })
}

/// Any stored value as numeric text, with an optional typmod (casts to
/// numeric go through `udf::cast`; this is the same for values already
/// known to be numbers).
pub(crate) fn to_numeric(ty: &PgType, v: ValueRef<'_>) -> Result<Datum> {
    let n = match v {
        ValueRef::Null => return Ok(Datum::Null),
        ValueRef::Real(f) => Numeric::from_f64(f, 15)?,
        ValueRef::Integer(i) => Numeric::from_i64(i),
        ValueRef::Text(t) => Numeric::parse(&String::from_utf8_lossy(t))?,
        ValueRef::Blob(_) => {
            return Err(Error::DatatypeMismatch(
                "cannot cast type bytea to numeric".into(),
            ))
        }
    };
    let n = match ty {
        PgType::Numeric(Some((p, s))) if *p > 0 => n.apply_typmod(*p, *s)?,
        _ => n,
    };
    Ok(Datum::Text(n.to_string()))
}

/// A numeric ordered by value, for the min/max multisets.
#[derive(Clone)]
struct Key(Numeric);

impl PartialEq for Key {
    fn eq(&self, o: &Key) -> bool {
        self.0.total_cmp(&o.0) == Ordering::Equal
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Key) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Key {
    fn cmp(&self, o: &Key) -> Ordering {
        self.0.total_cmp(&o.0)
    }
}

/// The running state of sum/avg: the exact sum, how many values, and how
/// many of them show each display scale (the sum shows the largest, also
/// after a moving window drops values).
#[derive(Default)]
pub struct SumState {
    sum: Option<Numeric>,
    n: i64,
    scales: BTreeMap<i64, i64>,
}

impl SumState {
    fn add(&mut self, v: Numeric, sign: i64) -> Result<()> {
        let s = v.dscale();
        let v = if sign < 0 { v.neg() } else { v };
        self.sum = Some(match self.sum.take() {
            None => v,
            Some(acc) => acc.add(&v)?,
        });
        self.n += sign;
        let count = self.scales.entry(s).or_insert(0);
        *count += sign;
        if *count <= 0 {
            self.scales.remove(&s);
        }
        Ok(())
    }

    fn sum(&self) -> Result<Option<Numeric>> {
        if self.n <= 0 {
            return Ok(None);
        }
        let Some(sum) = &self.sum else {
            return Ok(None);
        };
        let scale = self.scales.keys().next_back().copied().unwrap_or(0);
        // The exact sum at the largest scale shown (dropped values may
        // have left a larger one behind).
        Ok(Some(match sum {
            Numeric::Num(_) if sum.dscale() != scale => sum.round(scale)?,
            _ => sum.clone(),
        }))
    }

    fn avg(&self) -> Result<Option<Numeric>> {
        match self.sum()? {
            Some(s) => Ok(Some(s.div(&Numeric::from_i64(self.n))?)),
            None => Ok(None),
        }
    }
}

/// `pg_numeric_sum` and `pg_numeric_avg`, also as window functions.
struct SumAgg {
    avg: bool,
}

impl Aggregate<SumState, Value> for SumAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<SumState> {
        Ok(SumState::default())
    }

    fn step(&self, ctx: &mut Context<'_>, st: &mut SumState) -> rusqlite::Result<()> {
        if let Some(v) = arg(ctx, 0)? {
            st.add(v, 1).map_err(fail)?;
        }
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, st: Option<SumState>) -> rusqlite::Result<Value> {
        match st {
            Some(s) => self.value(Some(&mut { s })),
            None => Ok(Value::Null),
        }
    }
}

impl WindowAggregate<SumState, Value> for SumAgg {
    fn value(&self, st: Option<&mut SumState>) -> rusqlite::Result<Value> {
        let Some(st) = st else {
            return Ok(Value::Null);
        };
        let r = if self.avg { st.avg() } else { st.sum() };
        Ok(r.map_err(fail)?
            .map_or(Value::Null, |n| Value::Text(n.to_string())))
    }

    fn inverse(&self, ctx: &mut Context<'_>, st: &mut SumState) -> rusqlite::Result<()> {
        if let Some(v) = arg(ctx, 0)? {
            st.add(v, -1).map_err(fail)?;
        }
        Ok(())
    }
}

/// `pg_int8_sum`: sum(bigint), numeric as in PostgreSQL, counted in 128
/// bits (no sum of 64-bit values overflows it before 2^64 rows): an
/// integer while it fits 64 bits, its digits as numeric text beyond.
/// Also a window function.
struct Int8Sum;

/// The values summed and how many there are (none: NULL).
type Int8State = (i128, i64);

impl Aggregate<Int8State, Value> for Int8Sum {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Int8State> {
        Ok((0, 0))
    }

    fn step(&self, ctx: &mut Context<'_>, st: &mut Int8State) -> rusqlite::Result<()> {
        int8_add(ctx, st, 1)
    }

    fn finalize(&self, _: &mut Context<'_>, st: Option<Int8State>) -> rusqlite::Result<Value> {
        Ok(int8_value(st.as_ref()))
    }
}

impl WindowAggregate<Int8State, Value> for Int8Sum {
    fn value(&self, st: Option<&mut Int8State>) -> rusqlite::Result<Value> {
        Ok(int8_value(st.map(|s| &*s)))
    }

    fn inverse(&self, ctx: &mut Context<'_>, st: &mut Int8State) -> rusqlite::Result<()> {
        int8_add(ctx, st, -1)
    }
}

fn int8_add(ctx: &Context<'_>, st: &mut Int8State, sign: i64) -> rusqlite::Result<()> {
    match ctx.get_raw(0) {
        ValueRef::Null => {}
        ValueRef::Integer(v) => {
            st.0 += v as i128 * sign as i128;
            st.1 += sign;
        }
        other => {
            return Err(fail(Error::Internal(format!(
                "sum(bigint) of a value stored as {:?}",
                other.data_type()
            ))))
        }
    }
    Ok(())
}

fn int8_value(st: Option<&Int8State>) -> Value {
    match st {
        Some(&(sum, n)) if n > 0 => match i64::try_from(sum) {
            Ok(v) => Value::Integer(v),
            Err(_) => Value::Text(sum.to_string()),
        },
        _ => Value::Null,
    }
}

/// `pg_numeric_min` / `pg_numeric_max`, also as window functions (a
/// multiset of the values in the frame).
struct Extreme {
    max: bool,
}

type Multiset = BTreeMap<Key, (Numeric, i64)>;

impl Aggregate<Multiset, Value> for Extreme {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Multiset> {
        Ok(Multiset::new())
    }

    fn step(&self, ctx: &mut Context<'_>, st: &mut Multiset) -> rusqlite::Result<()> {
        if let Some(v) = arg(ctx, 0)? {
            // The first value seen of equal ones is the one shown.
            st.entry(Key(v.clone())).or_insert((v, 0)).1 += 1;
        }
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, st: Option<Multiset>) -> rusqlite::Result<Value> {
        self.value(st.as_ref())
    }
}

impl Extreme {
    fn value(&self, st: Option<&Multiset>) -> rusqlite::Result<Value> {
        let pick = st.and_then(|m| {
            if self.max {
                m.values().next_back()
            } else {
                m.values().next()
            }
        });
        Ok(pick.map_or(Value::Null, |(n, _)| Value::Text(n.to_string())))
    }
}

impl WindowAggregate<Multiset, Value> for Extreme {
    fn value(&self, st: Option<&mut Multiset>) -> rusqlite::Result<Value> {
        Extreme::value(self, st.map(|m| &*m))
    }

    fn inverse(&self, ctx: &mut Context<'_>, st: &mut Multiset) -> rusqlite::Result<()> {
        if let Some(v) = arg(ctx, 0)? {
            let key = Key(v);
            if let Some(e) = st.get_mut(&key) {
                e.1 -= 1;
                if e.1 <= 0 {
                    st.remove(&key);
                }
            }
        }
        Ok(())
    }
}

/// `pg_numeric_avg_final(sum, count)`: the average from merged partial
/// sums and counts, as `pg_numeric_avg` gives it over all the rows.
fn avg_final(ctx: &Context<'_>) -> FnResult {
    let n = match ctx.get_raw(1) {
        ValueRef::Integer(n) if n > 0 => n,
        _ => return Ok(Value::Null),
    };
    match arg(ctx, 0)? {
        Some(s) => out(s.div(&Numeric::from_i64(n))),
        None => Ok(Value::Null),
    }
}

/// Compare two stored numeric texts by value (the `pg_numeric`
/// collation); text that is not a number sorts after every number.
pub(crate) fn collate(a: &str, b: &str) -> Ordering {
    match (Numeric::parse(a), Numeric::parse(b)) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// `generate_series(start, stop, step)` of numerics as a series of
/// indexes from 0 to this function's result (-1: no rows; a NULL bound or
/// step gives none, as in PostgreSQL); a zero step is 22023.
fn series_last(ctx: &mut Context<'_>) -> FnResult {
    let (Some(start), Some(stop), Some(step)) = (arg(ctx, 0)?, arg(ctx, 1)?, arg(ctx, 2)?) else {
        return Ok(Value::Integer(-1));
    };
    if step.total_cmp(&Numeric::zero()) == Ordering::Equal {
        return Err(fail(Error::InvalidParameter(
            "step size cannot equal zero".into(),
        )));
    }
    let steps = stop.sub(&start).and_then(|d| d.div(&step)).map_err(fail)?;
    if steps.total_cmp(&Numeric::zero()) == Ordering::Less {
        return Ok(Value::Integer(-1));
    }
    let last = steps.floor().and_then(|n| n.to_int(64)).map_err(fail)?;
    Ok(Value::Integer(last))
}

/// Value `k` of a numeric series: `start` itself first, then `start +
/// step * k`, of the scale PostgreSQL's repeated addition gives it.
fn series_at(ctx: &mut Context<'_>) -> FnResult {
    let (Some(start), Some(step)) = (arg(ctx, 0)?, arg(ctx, 1)?) else {
        return Ok(Value::Null);
    };
    let k = match ctx.get_raw(2) {
        ValueRef::Integer(k) => k,
        _ => return Ok(Value::Null),
    };
    if k == 0 {
        return out(Ok(start));
    }
    out(step.mul(&Numeric::from_i64(k)).and_then(|s| start.add(&s)))
}

pub fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    conn.create_collation(NUMERIC_COLLATION, collate)?;
    conn.create_scalar_function("pg_numeric_series_last", 3, det, series_last)?;
    conn.create_scalar_function("pg_numeric_series_at", 3, det, series_at)?;
    conn.create_scalar_function("pg_numeric_add", 2, det, |c| binary(c, Numeric::add))?;
    conn.create_scalar_function("pg_numeric_sub", 2, det, |c| binary(c, Numeric::sub))?;
    conn.create_scalar_function("pg_numeric_mul", 2, det, |c| binary(c, Numeric::mul))?;
    conn.create_scalar_function("pg_numeric_div", 2, det, |c| binary(c, Numeric::div))?;
    conn.create_scalar_function("pg_numeric_mod", 2, det, |c| binary(c, Numeric::rem))?;
    conn.create_scalar_function("pg_numeric_neg", 1, det, |c| unary(c, |x| Ok(x.neg())))?;
    conn.create_scalar_function("pg_numeric_abs", 1, det, |c| unary(c, |x| Ok(x.abs())))?;
    conn.create_scalar_function("pg_numeric_sign", 1, det, |c| unary(c, |x| Ok(x.sign())))?;
    conn.create_scalar_function("pg_numeric_ceil", 1, det, |c| unary(c, Numeric::ceil))?;
    conn.create_scalar_function("pg_numeric_floor", 1, det, |c| unary(c, Numeric::floor))?;
    conn.create_scalar_function("pg_numeric", 1, det, |c| unary(c, |x| Ok(x.clone())))?;
    for n in [1, 2] {
        conn.create_scalar_function("pg_numeric_round", n, det, |c| scaled(c, true))?;
        conn.create_scalar_function("pg_numeric_trunc", n, det, |c| scaled(c, false))?;
    }
    conn.create_scalar_function("pg_numeric_sqrt", 1, det, |c| unary(c, Numeric::sqrt))?;
    conn.create_scalar_function("pg_numeric_exp", 1, det, |c| unary(c, Numeric::exp))?;
    conn.create_scalar_function("pg_numeric_ln", 1, det, |c| unary(c, Numeric::ln))?;
    conn.create_scalar_function("pg_numeric_log10", 1, det, |c| {
        unary(c, |x| Numeric::log(&Numeric::from_i64(10), x))
    })?;
    conn.create_scalar_function("pg_numeric_log", 2, det, |c| binary(c, Numeric::log))?;
    conn.create_scalar_function("pg_numeric_power", 2, det, |c| binary(c, Numeric::power))?;
    conn.create_scalar_function("pg_numeric_factorial", 1, det, |c| match c.get_raw(0) {
        ValueRef::Null => Ok(Value::Null),
        ValueRef::Integer(n) => out(Numeric::factorial(n)),
        _ => Err(fail(Error::DatatypeMismatch(
            "factorial of a value that is not an integer".into(),
        ))),
    })?;
    conn.create_scalar_function("pg_numeric_trim_scale", 1, det, |c| {
        unary(c, |x| Ok(x.trim_scale()))
    })?;
    for (name, of) in [
        (
            "pg_numeric_scale",
            Numeric::scale as fn(&Numeric) -> Option<i64>,
        ),
        ("pg_numeric_min_scale", Numeric::min_scale),
    ] {
        conn.create_scalar_function(name, 1, det, move |c| {
            Ok(arg(c, 0)?
                .and_then(|x| of(&x))
                .map_or(Value::Null, Value::Integer))
        })?;
    }
    conn.create_scalar_function("pg_numeric_cmp", 2, det, |c| cmp(c))?;
    conn.create_scalar_function("pg_numeric_distinct", 2, det, |c| distinct(c))?;
    conn.create_scalar_function("pg_numeric_in", -1, det, |c| in_list(c))?;
    conn.create_scalar_function("pg_numeric_greatest", -1, det, |c| extreme(c, true))?;
    conn.create_scalar_function("pg_numeric_least", -1, det, |c| extreme(c, false))?;
    conn.create_scalar_function("pg_numeric_cast", 2, det, |c| cast_from(c))?;
    conn.create_scalar_function("pg_float4_numeric", 1, det, |c| {
        Ok(match c.get_raw(0) {
            ValueRef::Real(f) => Value::Text(Numeric::from_f64(f, 6).map_err(fail)?.to_string()),
            ValueRef::Integer(i) => Value::Text(i.to_string()),
            ValueRef::Null => Value::Null,
            other => Value::Text(as_text(other).unwrap_or_default()),
        })
    })?;
    conn.create_scalar_function("pg_numeric_avg_final", 2, det, |c| avg_final(c))?;
    conn.create_window_function("pg_numeric_sum", 1, det, SumAgg { avg: false })?;
    conn.create_window_function("pg_int8_sum", 1, det, Int8Sum)?;
    conn.create_window_function("pg_numeric_avg", 1, det, SumAgg { avg: true })?;
    conn.create_window_function("pg_numeric_min", 1, det, Extreme { max: false })?;
    conn.create_window_function("pg_numeric_max", 1, det, Extreme { max: true })
}
