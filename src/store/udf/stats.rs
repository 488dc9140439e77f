//! `stddev`, `stddev_samp`, `stddev_pop`, `variance`, `var_samp` and
//! `var_pop` over double precision, accumulated as PostgreSQL's
//! `float8_accum` does (Youngs and Cramer's update of the count, the sum
//! and the sum of squared deviations), so that the same rows in the same
//! order give the same last digits. A NaN result (from infinite inputs)
//! is refused, as SQLite cannot hold a NaN. Over integers and numerics
//! the typed step calls `pg_numeric_<name>` instead, exact numerics
//! accumulated as `types::numeric::Moments`.

use rusqlite::functions::{Aggregate, Context, FunctionFlags, WindowAggregate};
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
pub(super) enum Kind {
    VarSamp,
    VarPop,
    StddevSamp,
    StddevPop,
}

/// What the aggregates share over double precision and over numerics:
/// reading an argument, adding it, the result for a kind.
trait Stats: Default + Send + std::panic::UnwindSafe + std::panic::RefUnwindSafe + 'static {
    type X: Clone + Send + std::panic::UnwindSafe + std::panic::RefUnwindSafe + 'static;
    /// The argument as a value (`None`: NULL, skipped).
    fn read(v: ValueRef<'_>) -> Result<Option<Self::X>, Error>;
    fn push(&mut self, x: &Self::X) -> Result<(), Error>;
    fn result(&self, kind: Kind) -> Result<Value, Error>;
}

/// (sample, square root) for a kind.
fn shape(kind: Kind) -> (bool, bool) {
    match kind {
        Kind::VarSamp => (true, false),
        Kind::VarPop => (false, false),
        Kind::StddevSamp => (true, true),
        Kind::StddevPop => (false, true),
    }
}

impl Stats for Moments {
    type X = f64;

    fn read(v: ValueRef<'_>) -> Result<Option<f64>, Error> {
        match v {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(i) => Ok(Some(i as f64)),
            ValueRef::Real(f) => Ok(Some(f)),
            _ => Err(Error::DatatypeMismatch(
                "statistics aggregate over a value that is not a number".into(),
            )),
        }
    }

    fn push(&mut self, x: &f64) -> Result<(), Error> {
        self.add(*x)
    }

    fn result(&self, kind: Kind) -> Result<Value, Error> {
        let (samp, root) = shape(kind);
        let divisor = if samp { self.n - 1.0 } else { self.n };
        if self.n == 0.0 || (samp && self.n <= 1.0) {
            return Ok(Value::Null);
        }
        let v = self.sxx / divisor;
        let v = if root { v.sqrt() } else { v };
        if v.is_nan() {
            return Err(Error::Unsupported(
                "a NaN result (SQLite cannot hold one)".into(),
            ));
        }
        Ok(Value::Real(v))
    }
}

/// Over integers and numerics, in numeric.
impl Stats for crate::types::numeric::Moments {
    type X = crate::types::numeric::Numeric;

    fn read(v: ValueRef<'_>) -> Result<Option<Self::X>, Error> {
        super::numeric::numeric_of(v)
    }

    fn push(&mut self, x: &Self::X) -> Result<(), Error> {
        self.add(x)
    }

    fn result(&self, kind: Kind) -> Result<Value, Error> {
        let (sample, root) = shape(kind);
        let r = crate::types::numeric::Moments::result(self, sample, root)?;
        Ok(r.map(|n| Value::Text(n.to_string())).unwrap_or(Value::Null))
    }
}

/// The plain aggregates (`stddev`, …, and `pg_numeric_stddev`, …).
struct Stat<S>(Kind, std::marker::PhantomData<S>);

impl<S: Stats> Aggregate<S, Value> for Stat<S> {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<S> {
        Ok(S::default())
    }

    fn step(&self, ctx: &mut Context<'_>, m: &mut S) -> rusqlite::Result<()> {
        match S::read(ctx.get_raw(0)).map_err(fail)? {
            Some(x) => m.push(&x).map_err(fail),
            None => Ok(()),
        }
    }

    fn finalize(&self, _: &mut Context<'_>, m: Option<S>) -> rusqlite::Result<Value> {
        m.unwrap_or_default().result(self.0).map_err(fail)
    }
}

/// The same aggregates as window functions (`pg_window_<name>`,
/// `pg_window_numeric_<name>`, named so by the typed step): the frame's
/// values in order beside what they add up to. PostgreSQL has no inverse
/// for the float8 statistics: when a frame's start moves, it aggregates
/// the frame again from its first row; so does this (at the next value
/// after rows left the frame), so the same rows in the same order give
/// the same last digits.
struct Framed<S: Stats> {
    values: std::collections::VecDeque<S::X>,
    stats: S,
    stale: bool,
}

impl<S: Stats> Default for Framed<S> {
    fn default() -> Self {
        Framed {
            values: Default::default(),
            stats: S::default(),
            stale: false,
        }
    }
}

struct Window<S>(Kind, std::marker::PhantomData<S>);

impl<S: Stats> Aggregate<Framed<S>, Value> for Window<S> {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Framed<S>> {
        Ok(Framed::default())
    }

    fn step(&self, ctx: &mut Context<'_>, f: &mut Framed<S>) -> rusqlite::Result<()> {
        let Some(x) = S::read(ctx.get_raw(0)).map_err(fail)? else {
            return Ok(());
        };
        if !f.stale {
            f.stats.push(&x).map_err(fail)?;
        }
        f.values.push_back(x);
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, f: Option<Framed<S>>) -> rusqlite::Result<Value> {
        let mut f = f.unwrap_or_default();
        self.value(Some(&mut f))
    }
}

impl<S: Stats> WindowAggregate<Framed<S>, Value> for Window<S> {
    fn value(&self, f: Option<&mut Framed<S>>) -> rusqlite::Result<Value> {
        let Some(f) = f else {
            return S::default().result(self.0).map_err(fail);
        };
        if f.stale {
            let mut stats = S::default();
            for x in &f.values {
                stats.push(x).map_err(fail)?;
            }
            f.stats = stats;
            f.stale = false;
        }
        f.stats.result(self.0).map_err(fail)
    }

    fn inverse(&self, ctx: &mut Context<'_>, f: &mut Framed<S>) -> rusqlite::Result<()> {
        // A NULL never entered the frame's values.
        if S::read(ctx.get_raw(0)).map_err(fail)?.is_some() {
            f.values.pop_front();
            f.stale = true;
        }
        Ok(())
    }
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    use crate::types::numeric::Moments as Exact;
    use std::marker::PhantomData as P;
    for name in crate::sql::validate::STATISTICS {
        let kind = match *name {
            "stddev" | "stddev_samp" => Kind::StddevSamp,
            "stddev_pop" => Kind::StddevPop,
            "variance" | "var_samp" => Kind::VarSamp,
            _ => Kind::VarPop,
        };
        conn.create_aggregate_function(*name, 1, det, Stat::<Moments>(kind, P))?;
        let numeric = format!("pg_numeric_{name}");
        conn.create_aggregate_function(numeric.as_str(), 1, det, Stat::<Exact>(kind, P))?;
        let window = format!("pg_window_{name}");
        conn.create_window_function(window.as_str(), 1, det, Window::<Moments>(kind, P))?;
        let window = format!("pg_window_numeric_{name}");
        conn.create_window_function(window.as_str(), 1, det, Window::<Exact>(kind, P))?;
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
