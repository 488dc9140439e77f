//! The ordered-set aggregates `percentile_cont`, `percentile_disc` and
//! `mode`, the binary statistics `corr`, `covar_pop`, `covar_samp` and
//! `regr_*`, and `bit_and`, `bit_or`, `bit_xor`.
//!
//! The typed step (`sql::infer::typed::ordered`) hands an ordered-set
//! aggregate its values already sorted, by SQLite's ORDER BY inside the
//! call under the value type's collation (ASC or DESC as the WITHIN GROUP
//! clause says), so these only count positions; `pg_mode` is told the
//! value's array family to find runs of equal values. NULL values are
//! skipped, as PostgreSQL's ordered-set aggregates skip them.
//!
//! The binary statistics accumulate as PostgreSQL's `float8_regr_accum`
//! does (Youngs and Cramer's update of N, Sx, Sxx, Sy, Syy, Sxy), so the
//! same rows in the same order give the same last digits. Y is the first
//! argument, as in PostgreSQL.

use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::fail;
use super::math::float_value as float_of;
use crate::error::Error;
use crate::types::array::Family;

/// 22003 unless `p` is a fraction between 0 and 1.
fn check_fraction(p: f64) -> Result<f64, Error> {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return Err(Error::NumericOutOfRange(format!(
            "percentile value {} is not between 0 and 1",
            crate::types::number::format_g(p)
        )));
    }
    Ok(p)
}

/// `pg_percentile_check(fraction, result)`: the result, once the
/// fraction is known to be one (PostgreSQL checks it even over no rows).
fn percentile_check(ctx: &mut Context<'_>) -> rusqlite::Result<Value> {
    if let Some(p) = float_of(ctx.get_raw(0))? {
        check_fraction(p).map_err(fail)?;
    }
    Ok(super::value(super::datum(ctx.get_raw(1))))
}

/// The values of an ordered-set aggregate in the order they came, and
/// its fraction (`None` while unseen or NULL).
#[derive(Default)]
pub struct Sorted {
    fraction: Option<f64>,
    values: Vec<Value>,
    /// `pg_mode`'s family (told with every row: a final call has no
    /// arguments).
    family: Option<Family>,
}

#[derive(Clone, Copy)]
enum Ordered {
    /// `pg_percentile_cont(fraction, value)`: values are numbers.
    Cont,
    /// `pg_percentile_disc(fraction, value)`.
    Disc,
    /// `pg_mode(value, family)`.
    Mode,
}

impl Aggregate<Sorted, Value> for Ordered {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Sorted> {
        Ok(Sorted::default())
    }

    fn step(&self, ctx: &mut Context<'_>, s: &mut Sorted) -> rusqlite::Result<()> {
        let at = match self {
            Ordered::Mode => {
                if s.family.is_none() {
                    s.family = ctx.get_raw(1).as_str().ok().and_then(Family::from_name);
                }
                0
            }
            Ordered::Cont | Ordered::Disc => {
                s.fraction = float_of(ctx.get_raw(0))?;
                1
            }
        };
        let v = ctx.get_raw(at);
        if !matches!(v, ValueRef::Null) {
            s.values.push(super::value(super::datum(v)));
        }
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, s: Option<Sorted>) -> rusqlite::Result<Value> {
        let Some(s) = s else {
            return Ok(Value::Null);
        };
        match self {
            Ordered::Cont | Ordered::Disc => {
                let Some(p) = s.fraction else {
                    return Ok(Value::Null);
                };
                let p = check_fraction(p).map_err(fail)?;
                if s.values.is_empty() {
                    return Ok(Value::Null);
                }
                if let Ordered::Disc = self {
                    return Ok(disc(&s.values, p));
                }
                cont(&s.values, p)
            }
            Ordered::Mode => Ok(mode(s.values, s.family.unwrap_or(Family::Text))),
        }
    }
}

/// PostgreSQL's `percentile_disc_final`: the first value whose place
/// K satisfies K/N >= p.
fn disc(values: &[Value], p: f64) -> Value {
    let n = values.len();
    let k = (p * n as f64).ceil() as usize;
    values[k.clamp(1, n) - 1].clone()
}

/// PostgreSQL's `percentile_cont_final_common` with `float8_lerp`.
fn cont(values: &[Value], p: f64) -> rusqlite::Result<Value> {
    let at = |i: usize| -> rusqlite::Result<f64> {
        float_of(ValueRef::from(&values[i]))?
            .ok_or_else(|| fail(Error::Internal("a NULL among percentile values".into())))
    };
    let span = p * (values.len() - 1) as f64;
    let (first, second) = (span.floor(), span.ceil());
    let lo = at(first as usize)?;
    let v = if first == second {
        lo
    } else {
        let hi = at(second as usize)?;
        lo + (span - first) * (hi - lo)
    };
    if v.is_nan() {
        return Err(fail(Error::Unsupported(
            "a NaN result (SQLite cannot hold one)".into(),
        )));
    }
    Ok(Value::Real(v))
}

/// PostgreSQL's `mode_final`: the value of the longest run of equal
/// values, the earliest run on a tie, its first value.
fn mode(values: Vec<Value>, family: Family) -> Value {
    let text = |v: &Value| super::as_text(ValueRef::from(v)).unwrap_or_default();
    let mut best: Option<(Value, usize)> = None;
    let mut run: Option<(Value, String, usize)> = None;
    for v in values {
        let t = text(&v);
        match &mut run {
            Some((_, key, count)) if family.compare(key, &t).is_eq() => *count += 1,
            _ => {
                if let Some((first, _, count)) = run.take() {
                    if best.as_ref().is_none_or(|(_, c)| count > *c) {
                        best = Some((first, count));
                    }
                }
                run = Some((v, t, 1));
            }
        }
    }
    if let Some((first, _, count)) = run {
        if best.as_ref().is_none_or(|(_, c)| count > *c) {
            best = Some((first, count));
        }
    }
    best.map_or(Value::Null, |(v, _)| v)
}

/// The state of `pg_percentile_cont_multi(fractions, value)` and
/// `pg_percentile_disc_multi(fractions, value, type)`.
#[derive(Default)]
pub struct Many {
    fractions: Option<String>,
    values: Vec<Value>,
    spec: Option<String>,
}

/// The percentiles of an array of fractions, as an array of the same
/// shape (a NULL fraction gives NULL); `true` for the continuous ones.
struct Multi(bool);

impl Aggregate<Many, Value> for Multi {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Many> {
        Ok(Many::default())
    }

    fn step(&self, ctx: &mut Context<'_>, m: &mut Many) -> rusqlite::Result<()> {
        m.fractions = super::as_text(ctx.get_raw(0));
        if !self.0 && m.spec.is_none() {
            m.spec = super::as_text(ctx.get_raw(2));
        }
        let v = ctx.get_raw(1);
        if !matches!(v, ValueRef::Null) {
            m.values.push(super::value(super::datum(v)));
        }
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, m: Option<Many>) -> rusqlite::Result<Value> {
        let Some(m) = m else {
            return Ok(Value::Null);
        };
        let Some(fractions) = m.fractions.filter(|_| !m.values.is_empty()) else {
            return Ok(Value::Null);
        };
        let ty = m.spec.as_deref().and_then(crate::types::cast_target);
        let mut out: Vec<Option<String>> = vec![];
        for item in crate::types::array::parse_array(&fractions) {
            let Some(text) = item else {
                out.push(None);
                continue;
            };
            let p = float_of(ValueRef::Text(text.as_bytes()))?.unwrap_or(f64::NAN);
            let p = check_fraction(p).map_err(fail)?;
            out.push(if self.0 {
                match cont(&m.values, p)? {
                    Value::Real(v) => Some(crate::types::number::format_float(v, false)),
                    _ => None,
                }
            } else {
                let v = disc(&m.values, p);
                let d = super::datum(ValueRef::from(&v));
                match &ty {
                    Some(t) => t.render_text(&d),
                    None => super::as_text(ValueRef::from(&v)),
                }
            });
        }
        Ok(Value::Text(crate::types::array::format_array(&out)))
    }
}

/// N, Sx, Sxx, Sy, Syy, Sxy as `float8_regr_accum` keeps them.
#[derive(Default)]
pub struct Regr {
    n: f64,
    sx: f64,
    sxx: f64,
    sy: f64,
    syy: f64,
    sxy: f64,
}

impl Regr {
    fn add(&mut self, y: f64, x: f64) -> Result<(), Error> {
        let n = self.n + 1.0;
        let sx = self.sx + x;
        let sy = self.sy + y;
        let (mut sxx, mut syy, mut sxy) = (self.sxx, self.syy, self.sxy);
        if self.n > 0.0 {
            let tmp_x = x * n - sx;
            let tmp_y = y * n - sy;
            let scale = 1.0 / (n * self.n);
            sxx += tmp_x * tmp_x * scale;
            syy += tmp_y * tmp_y * scale;
            sxy += tmp_x * tmp_y * scale;
            let finite_x = !self.sx.is_infinite() && !x.is_infinite();
            let finite_y = !self.sy.is_infinite() && !y.is_infinite();
            if ((sx.is_infinite() || sxx.is_infinite()) && finite_x)
                || ((sy.is_infinite() || syy.is_infinite()) && finite_y)
                || (sxy.is_infinite() && finite_x && finite_y)
            {
                return Err(Error::NumericOutOfRange(
                    "value out of range: overflow".into(),
                ));
            }
            for s in [&mut sxx, &mut syy, &mut sxy] {
                if s.is_infinite() {
                    *s = f64::NAN;
                }
            }
        } else {
            if x.is_nan() || x.is_infinite() {
                sxx = f64::NAN;
                sxy = f64::NAN;
            }
            if y.is_nan() || y.is_infinite() {
                syy = f64::NAN;
                sxy = f64::NAN;
            }
        }
        *self = Regr {
            n,
            sx,
            sxx,
            sy,
            syy,
            sxy,
        };
        Ok(())
    }

    /// The final value of the aggregate `name`, as PostgreSQL's final
    /// functions compute it (`None`: NULL).
    fn result(&self, name: &str) -> Option<f64> {
        let Regr {
            n,
            sx,
            sxx,
            sy,
            syy,
            sxy,
        } = *self;
        if n < 1.0 {
            return None;
        }
        Some(match name {
            "regr_sxx" => sxx,
            "regr_syy" => syy,
            "regr_sxy" => sxy,
            "regr_avgx" => sx / n,
            "regr_avgy" => sy / n,
            "covar_pop" => sxy / n,
            "covar_samp" if n < 2.0 => return None,
            "covar_samp" => sxy / (n - 1.0),
            "corr" if sxx == 0.0 || syy == 0.0 => return None,
            "corr" => sxy / (sxx * syy).sqrt(),
            "regr_r2" if sxx == 0.0 => return None,
            "regr_r2" if syy == 0.0 => 1.0,
            "regr_r2" => (sxy * sxy) / (sxx * syy),
            "regr_slope" if sxx == 0.0 => return None,
            "regr_slope" => sxy / sxx,
            "regr_intercept" if sxx == 0.0 => return None,
            _ => (sy - sx * sxy / sxx) / n,
        })
    }
}

struct Binary(&'static str);

impl Aggregate<Regr, Value> for Binary {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Regr> {
        Ok(Regr::default())
    }

    fn step(&self, ctx: &mut Context<'_>, r: &mut Regr) -> rusqlite::Result<()> {
        let y = float_of(ctx.get_raw(0))?;
        let x = float_of(ctx.get_raw(1))?;
        if let (Some(y), Some(x)) = (y, x) {
            if self.0 == "regr_count" {
                r.n += 1.0;
                return Ok(());
            }
            r.add(y, x).map_err(fail)?;
        }
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, r: Option<Regr>) -> rusqlite::Result<Value> {
        let r = r.unwrap_or_default();
        if self.0 == "regr_count" {
            return Ok(Value::Integer(r.n as i64));
        }
        match r.result(self.0) {
            None => Ok(Value::Null),
            Some(v) if v.is_nan() => Err(fail(Error::Unsupported(
                "a NaN result (SQLite cannot hold one)".into(),
            ))),
            Some(v) => Ok(Value::Real(v)),
        }
    }
}

#[derive(Clone, Copy)]
enum Bits {
    And,
    Or,
    Xor,
}

impl Aggregate<Option<i64>, Value> for Bits {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Option<i64>> {
        Ok(None)
    }

    fn step(&self, ctx: &mut Context<'_>, acc: &mut Option<i64>) -> rusqlite::Result<()> {
        let v = match ctx.get_raw(0) {
            ValueRef::Null => return Ok(()),
            ValueRef::Integer(i) => i,
            _ => {
                return Err(fail(Error::DatatypeMismatch(
                    "bit aggregate over a value that is not an integer".into(),
                )))
            }
        };
        *acc = Some(match (*acc, self) {
            (None, _) => v,
            (Some(a), Bits::And) => a & v,
            (Some(a), Bits::Or) => a | v,
            (Some(a), Bits::Xor) => a ^ v,
        });
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, acc: Option<Option<i64>>) -> rusqlite::Result<Value> {
        Ok(acc.flatten().map_or(Value::Null, Value::Integer))
    }
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    conn.create_aggregate_function("pg_percentile_cont", 2, det, Ordered::Cont)?;
    conn.create_aggregate_function("pg_percentile_disc", 2, det, Ordered::Disc)?;
    conn.create_aggregate_function("pg_mode", 2, det, Ordered::Mode)?;
    conn.create_aggregate_function("pg_percentile_cont_multi", 2, det, Multi(true))?;
    conn.create_aggregate_function("pg_percentile_disc_multi", 3, det, Multi(false))?;
    conn.create_scalar_function("pg_percentile_check", 2, det, percentile_check)?;
    for name in crate::sql::validate::BINARY_STATISTICS {
        conn.create_aggregate_function(*name, 2, det, Binary(name))?;
    }
    conn.create_aggregate_function("bit_and", 1, det, Bits::And)?;
    conn.create_aggregate_function("bit_or", 1, det, Bits::Or)?;
    conn.create_aggregate_function("bit_xor", 1, det, Bits::Xor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discrete_and_continuous_positions() {
        let v: Vec<Value> = [1, 2, 3, 4].into_iter().map(Value::Integer).collect();
        assert_eq!(disc(&v, 0.0), Value::Integer(1));
        assert_eq!(disc(&v, 0.5), Value::Integer(2));
        assert_eq!(disc(&v, 0.51), Value::Integer(3));
        assert_eq!(disc(&v, 1.0), Value::Integer(4));
        assert_eq!(cont(&v, 0.5).unwrap(), Value::Real(2.5));
        assert_eq!(cont(&v, 1.0).unwrap(), Value::Real(4.0));
    }

    #[test]
    fn mode_takes_the_earliest_longest_run() {
        let v = |xs: &[i64]| xs.iter().map(|&i| Value::Integer(i)).collect::<Vec<_>>();
        assert_eq!(mode(v(&[1, 2, 2, 3, 3]), Family::Int), Value::Integer(2));
        assert_eq!(mode(v(&[1, 2, 3, 3]), Family::Int), Value::Integer(3));
        let t = |xs: &[&str]| xs.iter().map(|s| Value::Text(s.to_string())).collect();
        assert_eq!(
            mode(t(&["1.0", "1.00", "2"]), Family::Numeric),
            Value::Text("1.0".into())
        );
    }

    #[test]
    fn regression_follows_youngs_and_cramer() {
        let mut r = Regr::default();
        for (y, x) in [(1.0, 2.0), (3.0, 4.0), (4.0, 7.0)] {
            r.add(y, x).unwrap();
        }
        assert_eq!(r.result("regr_avgx"), Some(13.0 / 3.0));
        assert!(r.result("corr").unwrap() > 0.9);
        assert_eq!(Regr::default().result("corr"), None);
        let mut big = Regr::default();
        big.add(1e300, 1.0).unwrap();
        assert!(big.add(-1e300, 1.0).is_err(), "overflow is 22003");
    }
}
