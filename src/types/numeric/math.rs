//! `sqrt`, `exp`, `ln`, `log` and `power` of numerics, and `scale`,
//! `min_scale`, `trim_scale`, as PostgreSQL 15's numeric.c answers them.
//!
//! The result's display scale is chosen by numeric.c's rules (at least
//! NUMERIC_MIN_SIG_DIGITS significant digits, judged from its estimate
//! of the result's weight, and never fewer digits after the point than
//! the inputs show). The value is the exact result rounded half away from
//! zero at that scale: it is computed in fixed point with `GUARD` digits
//! beyond it (the logarithm by the series of `atanh`, the exponential by
//! Taylor's series, both after reducing the argument by powers of two),
//! so it differs from numeric.c's (which keeps 8 guard digits) only for a
//! result within 10^-(scale+8) of halfway between two of its last digits.

use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::num_traits::{One, Signed, ToPrimitive, Zero};
use bigdecimal::BigDecimal;

use super::{
    div_round, finite, moments::sqrt_rounded, overflow, rescale, ten_pow, Numeric,
    MAX_DISPLAY_SCALE, MAX_RESULT_SCALE, MIN_SIG_DIGITS,
};
use crate::error::{Error, Result};

/// Digits computed beyond the result's scale.
const GUARD: i64 = 12;

/// log10(e) and ln(10), as numeric.c writes them (their last digits cut
/// off): its estimates, and the scales chosen from them, use these.
#[allow(clippy::approx_constant)]
const LOG10_E: f64 = 0.434294481903252;
#[allow(clippy::approx_constant)]
const LN_10: f64 = 2.302585092994046;

fn log_of_zero() -> Error {
    Error::InvalidArgumentForLog("cannot take logarithm of zero".into())
}

fn log_of_negative() -> Error {
    Error::InvalidArgumentForLog("cannot take logarithm of a negative number".into())
}

/// numeric.c's choice of a result scale: `wanted`, no less than any of
/// `at_least` or 0, no more than NUMERIC_MAX_DISPLAY_SCALE.
fn result_scale(wanted: i64, at_least: &[i64]) -> i64 {
    at_least
        .iter()
        .fold(wanted, |r, s| r.max(*s))
        .clamp(0, MAX_DISPLAY_SCALE)
}

/// The decimal exponent of the first digit of `m × 10^-s` (m ≠ 0).
fn exponent(m: &BigInt, s: i64) -> i64 {
    m.abs().to_string().len() as i64 - 1 - s
}

/// `m × 10^-s` as a double, for estimates only (±inf beyond its range).
fn approx(m: &BigInt, s: i64) -> f64 {
    format!("{m}e{}", -s).parse().unwrap_or(0.0)
}

/// ln(|m × 10^-s|) as a double, for estimates only, whatever the size.
fn approx_ln(m: &BigInt, s: i64) -> f64 {
    let digits = m.abs().to_string();
    let head: f64 = digits[..digits.len().min(17)].parse().unwrap_or(1.0);
    let e = digits.len().min(17) as i64 - 1;
    ((head / 10f64.powi(e as i32)).log10() + exponent(m, s) as f64) * std::f64::consts::LN_10
}

/// numeric.c's `estimate_ln_dweight`: about log10(|ln(v)|), from the first
/// two base-10000 digits of v, or from v − 1 when v is near 1.
fn ln_dweight(v: &BigDecimal) -> i64 {
    if v.sign() != Sign::Plus {
        return 0;
    }
    let (m, s) = v.as_bigint_and_exponent();
    let tenths = |n: u8| BigDecimal::new(BigInt::from(n), 1);
    if *v >= tenths(9) && *v <= tenths(11) {
        let x = v - BigDecimal::from(1);
        let (xm, xs) = x.as_bigint_and_exponent();
        return if xm.is_zero() { 0 } else { exponent(&xm, xs) };
    }
    // v = digits × 10^dweight, digits its first one or two base-10000
    // digits (two when it has more than one).
    let weight = super::first_group(&m, s).1;
    let shift = |by: i64| -> BigInt {
        let e = by - s;
        if e >= 0 {
            &m * ten_pow(e as u64)
        } else {
            &m / ten_pow((-e) as u64)
        }
    };
    let one_group = {
        let e = s + 4 * weight;
        e <= 0 || (&m % ten_pow(e as u64)).is_zero()
    };
    let (digits, dweight) = if one_group {
        (shift(-4 * weight), 4 * weight)
    } else {
        (shift(4 - 4 * weight), 4 * weight - 4)
    };
    let ln = digits.to_f64().unwrap_or(1.0).ln() + dweight as f64 * LN_10;
    ln.abs().log10() as i64
}

/// `2 × atanh(z)` at scale `w` for `z = zn / 10^w`, |z| small:
/// `2(z + z³/3 + z⁵/5 + …)`.
fn twice_atanh(zn: &BigInt, w: i64) -> BigInt {
    let unit = ten_pow(w as u64);
    let z2 = zn * zn / &unit;
    let (mut term, mut sum, mut n) = (zn.clone(), BigInt::zero(), 1u32);
    while !term.is_zero() {
        sum += &term / n;
        term = term * &z2 / &unit;
        n += 2;
    }
    sum * 2
}

/// ln(2) at scale `w`: `2 atanh(1/3)`.
fn ln2(w: i64) -> BigInt {
    twice_atanh(&(ten_pow(w as u64) / 3), w)
}

/// ln(m × 10^-s) × 10^p (m > 0), within a few units.
fn ln_fixed(m: &BigInt, s: i64, p: i64) -> BigInt {
    // v = a × 2^k with a near 1; ln v = k ln 2 + 2 atanh((a−1)/(a+1)).
    let k = (approx_ln(m, s) / std::f64::consts::LN_2).round() as i64;
    let w = p + GUARD + k.unsigned_abs().to_string().len() as i64;
    let e = w - s;
    let scaled = if e >= 0 {
        m * ten_pow(e as u64)
    } else {
        m / ten_pow((-e) as u64)
    };
    let a = if k >= 0 {
        scaled >> (k as u64)
    } else {
        scaled << ((-k) as u64)
    };
    let unit = ten_pow(w as u64);
    let z = (&a - &unit) * &unit / (&a + &unit);
    let ln = twice_atanh(&z, w) + ln2(w) * k;
    rescale(&ln, w, p, true)
}

/// e^(m × 10^-s) × 10^p, to within a unit of its last place relative to
/// the value; `digits` is at least the result's decimal digits before
/// the point.
fn exp_fixed(m: &BigInt, s: i64, p: i64, digits: i64) -> BigInt {
    // x = n ln 2 + r, |r| ≤ ln(2)/2: e^x = 2^n e^r.
    let n = (approx(m, s) / std::f64::consts::LN_2).round() as i64;
    let w = p + GUARD + digits.max(0) + n.unsigned_abs().to_string().len() as i64;
    let unit = ten_pow(w as u64);
    let e = w - s;
    let x = if e >= 0 {
        m * ten_pow(e as u64)
    } else {
        div_round(m, &ten_pow((-e) as u64))
    };
    let r = x - ln2(w) * n;
    let (mut term, mut sum, mut i) = (unit.clone(), unit.clone(), 1u32);
    loop {
        term = &term * &r / (&unit * i);
        if term.is_zero() {
            break;
        }
        sum += &term;
        i += 1;
    }
    let value = if n >= 0 {
        sum << (n as u64)
    } else {
        sum >> ((-n) as u64)
    };
    rescale(&value, w, p, true)
}

/// A fixed-point value at scale `p`, rounded to `scale`.
fn rounded(v: &BigInt, p: i64, scale: i64) -> Result<Numeric> {
    finite(rescale(v, p, scale, true), scale)
}

fn zero_at(scale: i64) -> Numeric {
    Numeric::Num(BigDecimal::new(BigInt::zero(), scale))
}

impl Numeric {
    /// `sqrt(x)`.
    pub fn sqrt(&self) -> Result<Numeric> {
        let d = match self {
            Numeric::NaN | Numeric::PosInf => return Ok(self.clone()),
            Numeric::NegInf => return Err(negative_sqrt()),
            Numeric::Num(d) if d.sign() == Sign::Minus => return Err(negative_sqrt()),
            Numeric::Num(d) => d,
        };
        let (m, s) = d.as_bigint_and_exponent();
        let weight = super::first_group(&m, s).1;
        let sweight = (weight + 1) * 4 / 2 - 1;
        sqrt_rounded(self, result_scale(MIN_SIG_DIGITS - sweight, &[s]))
    }

    /// `exp(x)`.
    pub fn exp(&self) -> Result<Numeric> {
        let d = match self {
            Numeric::NaN | Numeric::PosInf => return Ok(self.clone()),
            Numeric::NegInf => return Ok(Numeric::zero()),
            Numeric::Num(d) => d,
        };
        let (m, s) = d.as_bigint_and_exponent();
        let val = approx(&m, s);
        let weight = (val * LOG10_E).clamp(-(MAX_RESULT_SCALE as f64), MAX_RESULT_SCALE as f64);
        let scale = result_scale(MIN_SIG_DIGITS - weight as i64, &[s]);
        exp_at(&m, s, val, scale)
    }

    /// `ln(x)`.
    pub fn ln(&self) -> Result<Numeric> {
        let d = match self {
            Numeric::NaN | Numeric::PosInf => return Ok(self.clone()),
            Numeric::NegInf => return Err(log_of_negative()),
            Numeric::Num(d) => d,
        };
        let (m, s) = positive_for_log(d)?;
        let scale = result_scale(MIN_SIG_DIGITS - ln_dweight(d), &[s]);
        rounded(&ln_fixed(&m, s, scale + GUARD), scale + GUARD, scale)
    }

    /// `log(base, x)`; `log(x)` is `log(10, x)`.
    pub fn log(base: &Numeric, num: &Numeric) -> Result<Numeric> {
        use Numeric::*;
        let (b, n) = match (base, num) {
            (Num(b), Num(n)) => (b, n),
            (NaN, _) | (_, NaN) => return Ok(NaN),
            _ => {
                let (sb, sn) = (base.signum(), num.signum());
                if sb < 0 || sn < 0 {
                    return Err(log_of_negative());
                }
                if sb == 0 || sn == 0 {
                    return Err(log_of_zero());
                }
                return Ok(match (base, num) {
                    (PosInf, PosInf) => NaN,
                    (PosInf, _) => Numeric::zero(),
                    _ => PosInf,
                });
            }
        };
        let (bm, bs) = positive_for_log(b)?;
        let (nm, ns) = positive_for_log(n)?;
        let (base_dweight, num_dweight) = (ln_dweight(b), ln_dweight(n));
        let result_dweight = num_dweight - base_dweight;
        let scale = result_scale(MIN_SIG_DIGITS - result_dweight, &[bs, ns]);
        // Each logarithm with enough digits for the quotient's.
        let p = scale + GUARD + result_dweight.abs() + base_dweight.abs() + num_dweight.abs();
        let ln_base = ln_fixed(&bm, bs, p);
        if b.is_one() {
            return Err(Error::DivisionByZero("division by zero".into()));
        }
        let ln_num = ln_fixed(&nm, ns, p);
        finite(
            div_round(&(ln_num * ten_pow(scale as u64)), &ln_base),
            scale,
        )
    }

    /// `power(x, y)` and `x ^ y`.
    pub fn power(&self, exp: &Numeric) -> Result<Numeric> {
        let (b, e) = match (self, exp) {
            (Numeric::Num(b), Numeric::Num(e)) => (b, e),
            _ => return self.power_special(exp),
        };
        if b.is_zero() && e.sign() == Sign::Minus {
            return Err(zero_to_negative());
        }
        let (bm, bs) = b.as_bigint_and_exponent();
        let (em, es) = e.as_bigint_and_exponent();
        let integral = e.is_integer();
        if integral {
            if let Some(n) = e.to_i64().and_then(|n| i32::try_from(n).ok()) {
                let scale = result_scale(MIN_SIG_DIGITS, &[bs]);
                return power_int(&bm, bs, n, scale);
            }
        }
        if b.is_zero() {
            return Ok(zero_at(MIN_SIG_DIGITS));
        }
        let negative = b.sign() == Sign::Minus;
        if negative && !integral {
            return Err(complex_result());
        }
        let odd = is_odd(e);
        let bm = bm.abs();
        let val = approx(&em, es) * approx_ln(&bm, bs);
        if val.abs() > MAX_RESULT_SCALE as f64 * 3.01 {
            if val > 0.0 {
                return Err(overflow());
            }
            return Ok(zero_at(MAX_DISPLAY_SCALE));
        }
        let weight = val * LOG10_E;
        let scale = result_scale(MIN_SIG_DIGITS - weight as i64, &[bs, es]);
        let r = exp_of_product(&bm, bs, &em, es, val, scale)?;
        Ok(if negative && odd { r.neg() } else { r })
    }

    /// `power` where an operand is NaN or infinite: POSIX's `pow` rules,
    /// as numeric.c follows them.
    fn power_special(&self, exp: &Numeric) -> Result<Numeric> {
        use Numeric::*;
        let is_one = |n: &Numeric| matches!(n, Num(d) if d.is_one());
        if self.is_nan() {
            return Ok(if matches!(exp, Num(d) if d.is_zero()) {
                Numeric::from_i64(1)
            } else {
                NaN
            });
        }
        if exp.is_nan() {
            return Ok(if is_one(self) {
                Numeric::from_i64(1)
            } else {
                NaN
            });
        }
        let (s1, s2) = (self.signum(), exp.signum());
        if s1 == 0 && s2 < 0 {
            return Err(zero_to_negative());
        }
        // numeric.c counts the infinities as integers here.
        let integral = |n: &Numeric| match n {
            Num(d) => d.is_integer(),
            _ => true,
        };
        if s1 < 0 && !integral(exp) {
            return Err(complex_result());
        }
        if is_one(self) || s2 == 0 {
            return Ok(Numeric::from_i64(1));
        }
        if s1 == 0 && s2 > 0 {
            return Ok(Numeric::zero());
        }
        if matches!(exp, PosInf | NegInf) {
            let abs_gt_one = match self {
                Num(d) => {
                    let abs = d.abs();
                    if abs.is_one() && d.sign() == Sign::Minus {
                        return Ok(Numeric::from_i64(1));
                    }
                    abs > BigDecimal::one()
                }
                _ => true,
            };
            return Ok(if abs_gt_one == (s2 > 0) {
                PosInf
            } else {
                Numeric::zero()
            });
        }
        if matches!(self, PosInf) {
            return Ok(if s2 > 0 { PosInf } else { Numeric::zero() });
        }
        // -Infinity to a finite power.
        if s2 < 0 {
            return Ok(Numeric::zero());
        }
        let odd = matches!(exp, Num(d) if is_odd(d));
        Ok(if odd { NegInf } else { PosInf })
    }

    /// `factorial(n)` of a bigint.
    pub fn factorial(n: i64) -> Result<Numeric> {
        if n < 0 {
            return Err(Error::NumericOutOfRange(
                "factorial of a negative number is undefined".into(),
            ));
        }
        // numeric.c's bound: beyond it the result overflows the format.
        if n > 32177 {
            return Err(overflow());
        }
        let product = (2..=n).fold(BigInt::from(1u8), |p, i| p * i);
        finite(product, 0)
    }

    /// `scale(x)`: the display scale; `None` for NaN and the infinities.
    pub fn scale(&self) -> Option<i64> {
        self.parts().map(|(_, s)| s)
    }

    /// `min_scale(x)`: the fewest digits after the point that show the
    /// value exactly; `None` for NaN and the infinities.
    pub fn min_scale(&self) -> Option<i64> {
        let (m, s) = self.parts()?;
        if m.is_zero() {
            return Some(0);
        }
        let digits = m.abs().to_string();
        let zeros = digits.len() - digits.trim_end_matches('0').len();
        Some((s - zeros as i64).max(0))
    }

    /// `trim_scale(x)`: the value at its `min_scale`.
    pub fn trim_scale(&self) -> Numeric {
        match (self.parts(), self.min_scale()) {
            (Some((m, s)), Some(min)) => {
                Numeric::Num(BigDecimal::new(rescale(&m, s, min, false), min))
            }
            _ => self.clone(),
        }
    }
}

fn negative_sqrt() -> Error {
    Error::InvalidArgumentForPower("cannot take square root of a negative number".into())
}

fn complex_result() -> Error {
    Error::InvalidArgumentForPower(
        "a negative number raised to a non-integer power yields a complex result".into(),
    )
}

/// Whether `d` is an odd integer.
fn is_odd(d: &BigDecimal) -> bool {
    d.is_integer() && (d.with_scale(0).as_bigint_and_exponent().0 % 2u8) != BigInt::zero()
}

fn zero_to_negative() -> Error {
    Error::InvalidArgumentForPower("zero raised to a negative power is undefined".into())
}

/// A finite value for the logarithm, as mantissa and scale; PostgreSQL's
/// errors for zero and negative numbers.
fn positive_for_log(d: &BigDecimal) -> Result<(BigInt, i64)> {
    match d.sign() {
        Sign::NoSign => Err(log_of_zero()),
        Sign::Minus => Err(log_of_negative()),
        Sign::Plus => Ok(d.as_bigint_and_exponent()),
    }
}

/// e^x at `scale`, x = m × 10^-s (about `val`): numeric.c's `exp_var`,
/// which overflows, or underflows to zero, beyond |x| = 6000.
fn exp_at(m: &BigInt, s: i64, val: f64, scale: i64) -> Result<Numeric> {
    if val.abs() >= MAX_RESULT_SCALE as f64 * 3.0 {
        if val > 0.0 {
            return Err(overflow());
        }
        return Ok(zero_at(scale));
    }
    let digits = (val * LOG10_E).ceil() as i64 + 1;
    let p = scale + GUARD;
    rounded(&exp_fixed(m, s, p, digits), p, scale)
}

/// e^(y × ln b) at `scale`, b = bm × 10^-bs > 0, y = em × 10^-es, their
/// product about `val`.
fn exp_of_product(
    bm: &BigInt,
    bs: i64,
    em: &BigInt,
    es: i64,
    val: f64,
    scale: i64,
) -> Result<Numeric> {
    // The product's error, times the result, must stay below its last
    // digit: as many more digits as the result and y have before the
    // point (ln's own error is multiplied by y), and the guard digits
    // twice: once for the product, once for the exponential.
    let result_digits = (val * LOG10_E).ceil().max(0.0) as i64 + 1;
    let y_digits = (exponent(em, es) + 1).max(0);
    let q = scale + GUARD + result_digits + y_digits + GUARD;
    let product = ln_fixed(bm, bs, q) * em;
    let (pm, ps) = (product, q + es);
    exp_at(&pm, ps, val, scale)
}

/// `m × 10^-s` raised to `k` by squarings, each product rounded to
/// `digits` significant digits: a mantissa and its scale.
fn pow_rounded(m: &BigInt, s: i64, mut k: u64, digits: i64) -> (BigInt, i64) {
    let cut = |(m, s): (BigInt, i64)| -> (BigInt, i64) {
        let extra = m.abs().to_string().len() as i64 - digits;
        if extra <= 0 {
            return (m, s);
        }
        (rescale(&m, s, s - extra, true), s - extra)
    };
    let mul = |a: &(BigInt, i64), b: &(BigInt, i64)| cut((&a.0 * &b.0, a.1 + b.1));
    let mut base = cut((m.clone(), s));
    let mut result = (BigInt::from(1u8), 0i64);
    while k > 0 {
        if k & 1 == 1 {
            result = mul(&result, &base);
        }
        k >>= 1;
        if k > 0 {
            base = mul(&base, &base);
        }
    }
    result
}

/// base^n for an integer n (numeric.c's `power_var_int`), at `scale`.
fn power_int(bm: &BigInt, bs: i64, n: i32, scale: i64) -> Result<Numeric> {
    if n == 0 {
        return finite(ten_pow(scale as u64), scale);
    }
    if bm.is_zero() {
        if n < 0 {
            return Err(Error::DivisionByZero("division by zero".into()));
        }
        return Ok(zero_at(scale));
    }
    // log10(|result|), to skip what certainly overflows or underflows.
    let f = f64::from(n) * approx_ln(bm, bs) / std::f64::consts::LN_10;
    if f > 3.0 * 32767.0 * 4.0 {
        return Err(overflow());
    }
    if f + 1.0 < -(scale as f64) || f + 1.0 < -(MAX_DISPLAY_SCALE as f64) {
        return Ok(zero_at(scale));
    }
    let k = n.unsigned_abs() as u64;
    // Exactly while that stays short; else to as many significant digits
    // as the result shows, and more for the roundings of the squarings.
    let exact_digits = bm.abs().to_string().len() as u64 * k;
    let (pm, ps) = if exact_digits <= 4 * (scale as u64 + 64) {
        (super::num_pow(bm.clone(), k), bs * k as i64)
    } else {
        let digits = scale + GUARD + f.abs().ceil() as i64 + 2 + k.to_string().len() as i64;
        pow_rounded(bm, bs, k, digits)
    };
    if n > 0 {
        return finite(rescale(&pm, ps, scale, true), scale);
    }
    // 1 / (pm × 10^-ps) at scale = 10^(scale + ps) / pm.
    let e = scale + ps;
    let q = if e >= 0 {
        div_round(&ten_pow(e as u64), &pm)
    } else {
        div_round(&BigInt::from(1u8), &(pm * ten_pow((-e) as u64)))
    };
    finite(q, scale)
}
