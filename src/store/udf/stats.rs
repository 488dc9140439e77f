//! `stddev`, `stddev_samp`, `stddev_pop`, `variance`, `var_samp` and
//! `var_pop` over double precision, accumulated as PostgreSQL's
//! `float8_accum` does (Youngs and Cramer's update of the count, the sum
//! and the sum of squared deviations), so that the same rows in the same
//! order give the same last digits. A NaN result (from infinite inputs)
//! is refused, as SQLite cannot hold a NaN. Over integers and numerics
//! the typed step calls `pg_numeric_<name>` instead, exact numerics
//! accumulated as `types::numeric::Moments`.

use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::fail;
use crate::error::Error;

#[derive(Default)]
pub struct Moments {
    n: f64,
    sx: f64,
    sxx: f64,
}

impl Moments {
    fn add(&mut self, x: f64) -> Result<(), Error> {
        let n = self.n + 1.0;
        let sx = self.sx + x;
        let mut sxx = self.sxx;
        if self.n > 0.0 {
            let tmp = x * n - sx;
            sxx += tmp * tmp / (n * self.n);
            if sx.is_infinite() || sxx.is_infinite() {
                if !self.sx.is_infinite() && !x.is_infinite() {
                    return Err(Error::NumericOutOfRange(
                        "value out of range: overflow".into(),
                    ));
                }
                sxx = f64::NAN;
            }
        } else if x.is_nan() || x.is_infinite() {
            sxx = f64::NAN;
        }
        *self = Moments { n, sx, sxx };
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Kind {
    VarSamp,
    VarPop,
    StddevSamp,
    StddevPop,
}

struct Stat(Kind);

impl Aggregate<Moments, Value> for Stat {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Moments> {
        Ok(Moments::default())
    }

    fn step(&self, ctx: &mut Context<'_>, m: &mut Moments) -> rusqlite::Result<()> {
        let x = match ctx.get_raw(0) {
            ValueRef::Null => return Ok(()),
            ValueRef::Integer(i) => i as f64,
            ValueRef::Real(f) => f,
            _ => {
                return Err(fail(Error::DatatypeMismatch(
                    "statistics aggregate over a value that is not a number".into(),
                )))
            }
        };
        m.add(x).map_err(fail)
    }

    fn finalize(&self, _: &mut Context<'_>, m: Option<Moments>) -> rusqlite::Result<Value> {
        let m = m.unwrap_or_default();
        let (samp, root) = match self.0 {
            Kind::VarSamp => (true, false),
            Kind::VarPop => (false, false),
            Kind::StddevSamp => (true, true),
            Kind::StddevPop => (false, true),
        };
        let divisor = if samp { m.n - 1.0 } else { m.n };
        if m.n == 0.0 || (samp && m.n <= 1.0) {
            return Ok(Value::Null);
        }
        let v = m.sxx / divisor;
        let v = if root { v.sqrt() } else { v };
        if v.is_nan() {
            return Err(fail(Error::Unsupported(
                "a NaN result (SQLite cannot hold one)".into(),
            )));
        }
        Ok(Value::Real(v))
    }
}

/// The same aggregates over integers and numerics, in numeric.
struct NumericStat(Kind);

impl Aggregate<crate::types::numeric::Moments, Value> for NumericStat {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<crate::types::numeric::Moments> {
        Ok(Default::default())
    }

    fn step(
        &self,
        ctx: &mut Context<'_>,
        m: &mut crate::types::numeric::Moments,
    ) -> rusqlite::Result<()> {
        let Some(x) = super::numeric::numeric_of(ctx.get_raw(0)).map_err(fail)? else {
            return Ok(());
        };
        m.add(&x).map_err(fail)
    }

    fn finalize(
        &self,
        _: &mut Context<'_>,
        m: Option<crate::types::numeric::Moments>,
    ) -> rusqlite::Result<Value> {
        let (sample, root) = match self.0 {
            Kind::VarSamp => (true, false),
            Kind::VarPop => (false, false),
            Kind::StddevSamp => (true, true),
            Kind::StddevPop => (false, true),
        };
        let r = m.unwrap_or_default().result(sample, root).map_err(fail)?;
        Ok(r.map(|n| Value::Text(n.to_string())).unwrap_or(Value::Null))
    }
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    for name in crate::sql::validate::STATISTICS {
        let kind = || match *name {
            "stddev" | "stddev_samp" => Kind::StddevSamp,
            "stddev_pop" => Kind::StddevPop,
            "variance" | "var_samp" => Kind::VarSamp,
            _ => Kind::VarPop,
        };
        conn.create_aggregate_function(*name, 1, det, Stat(kind()))?;
        let numeric = format!("pg_numeric_{name}");
        conn.create_aggregate_function(numeric.as_str(), 1, det, NumericStat(kind()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_follow_youngs_and_cramer() {
        let mut m = Moments::default();
        for x in [1.5, 2.5, 10.0] {
            m.add(x).unwrap();
        }
        assert_eq!(m.n, 3.0);
        assert_eq!(m.sx, 14.0);
        // Sum of squared deviations from the mean 14/3.
        assert!((m.sxx - 43.166_666_666_666_664).abs() < 1e-12, "{}", m.sxx);
        let mut big = Moments::default();
        big.add(1e300).unwrap();
        assert!(big.add(-1e300).is_err(), "overflow is 22003");
    }
}
