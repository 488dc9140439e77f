//! `variance`, `var_pop`, `stddev` and `stddev_pop` over integers and
//! numerics, as PostgreSQL's `numeric_stddev_internal` computes them from
//! the count, the sum and the sum of squares: `(N·Σx² − (Σx)²) / (N·(N−1))`
//! (or `N·N`) at the scale numeric division chooses, and for the standard
//! deviations its square root rounded to that same scale.

use bigdecimal::num_bigint::{BigInt, Sign};

use super::{finite, ten_pow, Numeric};
use crate::error::Result;

/// What the aggregate has seen.
#[derive(Debug, Clone)]
pub struct Moments {
    n: i64,
    sum: Numeric,
    squares: Numeric,
    special: bool,
}

impl Default for Moments {
    fn default() -> Moments {
        Moments {
            n: 0,
            sum: Numeric::zero(),
            squares: Numeric::zero(),
            special: false,
        }
    }
}

impl Moments {
    pub fn add(&mut self, x: &Numeric) -> Result<()> {
        self.n += 1;
        match x {
            Numeric::Num(_) => {
                self.sum = self.sum.add(x)?;
                self.squares = self.squares.add(&x.mul(x)?)?;
            }
            // NaN and the infinities make the result NaN.
            _ => self.special = true,
        }
        Ok(())
    }

    /// The result (`None`: NULL, for no rows or, for a sample, one).
    pub fn result(&self, sample: bool, root: bool) -> Result<Option<Numeric>> {
        if self.n == 0 || (sample && self.n <= 1) {
            return Ok(None);
        }
        if self.special {
            return Ok(Some(Numeric::NaN));
        }
        let n = Numeric::from_i64(self.n);
        let numerator = n.mul(&self.squares)?.sub(&self.sum.mul(&self.sum)?)?;
        if numerator.total_cmp(&Numeric::zero()).is_le() {
            return Ok(Some(Numeric::zero()));
        }
        let other = if sample {
            Numeric::from_i64(self.n - 1)
        } else {
            n.clone()
        };
        let variance = numerator.div(&n.mul(&other)?)?;
        if !root {
            return Ok(Some(variance));
        }
        let scale = variance.dscale();
        sqrt_rounded(&variance, scale).map(Some)
    }
}

/// The square root of a positive finite `v`, rounded half away from zero
/// to `scale` digits after the point.
pub(super) fn sqrt_rounded(v: &Numeric, scale: i64) -> Result<Numeric> {
    let Numeric::Num(d) = v else {
        return Ok(v.clone());
    };
    let (m, s) = d.as_bigint_and_exponent();
    // sqrt(v)·10^(scale+1) = sqrt(m·10^(2·scale + 2 − s)).
    let e = 2 * scale + 2 - s;
    let t = if e >= 0 {
        m * ten_pow(e as u64)
    } else {
        m / ten_pow((-e) as u64)
    };
    let q = t.sqrt();
    let r = (q + BigInt::from(5u8)) / BigInt::from(10u8);
    let r = if r.sign() == Sign::Minus { -r } else { r };
    finite(r, scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(xs: &[&str], sample: bool, root: bool) -> Option<String> {
        let mut m = Moments::default();
        for x in xs {
            m.add(&Numeric::parse(x).unwrap()).unwrap();
        }
        m.result(sample, root).unwrap().map(|n| n.to_string())
    }

    #[test]
    fn variances_and_deviations_as_postgresql() {
        // PostgreSQL 15: variance(x), stddev(x) over (1, 2, 3, 4).
        let xs = ["1", "2", "3", "4"];
        assert_eq!(
            stats(&xs, true, false).as_deref(),
            Some("1.6666666666666667")
        );
        assert_eq!(
            stats(&xs, true, true).as_deref(),
            Some("1.2909944487358056")
        );
        assert_eq!(
            stats(&xs, false, false).as_deref(),
            Some("1.2500000000000000")
        );
        assert_eq!(
            stats(&xs, false, true).as_deref(),
            Some("1.1180339887498948")
        );
        assert_eq!(stats(&["5"], true, true), None);
        assert_eq!(stats(&["5"], false, true).as_deref(), Some("0"));
        assert_eq!(stats(&[], false, false), None);
    }
}
