//! PostgreSQL's `numeric`: arbitrary precision decimals with a display
//! scale, NaN and ±Infinity, and the rules of PostgreSQL 15's numeric.c
//! (result scales, rounding half away from zero, typmods, text and binary
//! formats), on top of the `bigdecimal` crate.
//!
//! DESIGN: a finite value is a `BigDecimal` whose scale is PostgreSQL's
//! display scale (`dscale`, never negative): `1.50` is 150 × 10^-2 and
//! prints as `1.50`, while it compares equal to `1.5`. Every operation sets
//! the result's scale the way PostgreSQL does, so the text a value prints
//! as is exactly PostgreSQL's. Values are stored in SQLite as that text
//! (see `types` and `store::udf::numeric`).

use std::cmp::Ordering;
use std::fmt;

use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::num_traits::{Signed, ToPrimitive, Zero};
use bigdecimal::BigDecimal;

use crate::error::{Error, Result};

/// Most decimal digits before the point (PostgreSQL's NUMERIC_WEIGHT_MAX
/// of base-10000 digits) and after it (NUMERIC_DSCALE_MAX).
const MAX_INT_DIGITS: i64 = 131_072;
pub const MAX_DSCALE: i64 = 16_383;
/// Bounds PostgreSQL puts on a quotient's scale (NUMERIC_MIN_SIG_DIGITS,
/// NUMERIC_MAX_DISPLAY_SCALE) and on round/trunc's (NUMERIC_MAX_RESULT_SCALE).
const MIN_SIG_DIGITS: i64 = 16;
const MAX_DISPLAY_SCALE: i64 = 1000;
const MAX_RESULT_SCALE: i64 = 2000;

/// A numeric value.
#[derive(Debug, Clone)]
pub enum Numeric {
    NaN,
    PosInf,
    NegInf,
    /// A finite value; its scale is the display scale (≥ 0).
    Num(BigDecimal),
}

fn overflow() -> Error {
    Error::NumericOutOfRange("value overflows numeric format".into())
}

fn division_by_zero() -> Error {
    Error::DivisionByZero("division by zero".into())
}

fn ten_pow(n: u64) -> BigInt {
    num_pow(BigInt::from(10u8), n)
}

fn num_pow(base: BigInt, mut n: u64) -> BigInt {
    let mut result = BigInt::from(1u8);
    let mut b = base;
    while n > 0 {
        if n & 1 == 1 {
            result *= &b;
        }
        n >>= 1;
        if n > 0 {
            b = &b * &b;
        }
    }
    result
}

/// `m × 10^-from` at scale `to`, rounding half away from zero (or
/// truncating) when digits are dropped.
fn rescale(m: &BigInt, from: i64, to: i64, round: bool) -> BigInt {
    if to >= from {
        return m * ten_pow((to - from) as u64);
    }
    let div = ten_pow((from - to) as u64);
    let (q, r) = (m / &div, m % &div);
    if round && (r.abs() * 2u8) >= div {
        q + if m.is_negative() { -1 } else { 1 }
    } else {
        q
    }
}

/// `n / d` rounded half away from zero.
fn div_round(n: &BigInt, d: &BigInt) -> BigInt {
    let (q, r) = (n / d, n % d);
    if r.abs() * 2u8 >= d.abs() {
        q + if n.is_negative() != d.is_negative() {
            -1
        } else {
            1
        }
    } else {
        q
    }
}

/// A finite value from mantissa and scale, checked against the format's limits.
fn finite(m: BigInt, scale: i64) -> Result<Numeric> {
    let n = Numeric::Num(BigDecimal::new(m, scale));
    if n.int_digits() > MAX_INT_DIGITS || scale > MAX_DSCALE {
        return Err(overflow());
    }
    Ok(n)
}

impl Numeric {
    pub fn zero() -> Numeric {
        Numeric::Num(BigDecimal::new(BigInt::zero(), 0))
    }

    pub fn from_i64(v: i64) -> Numeric {
        Numeric::Num(BigDecimal::new(BigInt::from(v), 0))
    }

    pub fn from_i128(v: i128) -> Numeric {
        Numeric::Num(BigDecimal::new(BigInt::from(v), 0))
    }

    fn parts(&self) -> Option<(BigInt, i64)> {
        match self {
            Numeric::Num(d) => Some(d.as_bigint_and_exponent()),
            _ => None,
        }
    }

    /// The display scale (0 for NaN and the infinities).
    pub fn dscale(&self) -> i64 {
        self.parts().map_or(0, |(_, s)| s)
    }

    pub fn is_nan(&self) -> bool {
        matches!(self, Numeric::NaN)
    }

    /// -1, 0 or 1 (NaN: 0).
    fn signum(&self) -> i32 {
        match self {
            Numeric::NaN => 0,
            Numeric::PosInf => 1,
            Numeric::NegInf => -1,
            Numeric::Num(d) => match d.sign() {
                Sign::Minus => -1,
                Sign::NoSign => 0,
                Sign::Plus => 1,
            },
        }
    }

    /// Decimal digits before the point of |value| (0 for |value| < 1).
    fn int_digits(&self) -> i64 {
        match self.parts() {
            Some((m, s)) if !m.is_zero() => (m.abs().to_string().len() as i64 - s).max(0),
            _ => 0,
        }
    }

    /// PostgreSQL's text input (`numeric_in`): `' -1.5e3 '`, `NaN`,
    /// `Infinity`, `-inf`; 22P02 with PostgreSQL's message otherwise.
    pub fn parse(text: &str) -> Result<Numeric> {
        let bad =
            || Error::InvalidInput(format!("invalid input syntax for type numeric: \"{text}\""));
        let t = text.trim_matches(|c: char| c.is_ascii_whitespace());
        let lower = t.to_ascii_lowercase();
        let special = match lower.as_str() {
            "nan" => Some(Numeric::NaN),
            "infinity" | "+infinity" | "inf" | "+inf" => Some(Numeric::PosInf),
            "-infinity" | "-inf" => Some(Numeric::NegInf),
            _ => None,
        };
        if let Some(s) = special {
            return Ok(s);
        }
        let (neg, body) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (mantissa, exp) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], Some(&body[i + 1..])),
            None => (body, None),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !digits_ok(int) || !digits_ok(frac) {
            return Err(bad());
        }
        let exponent: i64 = match exp {
            None => 0,
            Some(e) => {
                let e = e.trim_start_matches(|c: char| c.is_ascii_whitespace());
                let d = e.strip_prefix(['+', '-']).unwrap_or(e);
                if d.is_empty() || !digits_ok(d) {
                    return Err(bad());
                }
                if d.len() > 10 {
                    return Err(overflow());
                }
                let v: i64 = d.parse().map_err(|_| bad())?;
                if v >= i64::from(i32::MAX / 2) {
                    return Err(overflow());
                }
                if e.starts_with('-') {
                    -v
                } else {
                    v
                }
            }
        };
        let mut m: BigInt = format!("{int}{frac}").parse().map_err(|_| bad())?;
        if neg {
            m = -m;
        }
        // value = m × 10^(exponent - frac digits); its display scale is
        // the digits after the point less the exponent, never negative.
        let scale = frac.len() as i64 - exponent;
        if scale < 0 {
            if -scale > MAX_INT_DIGITS + 1 && !m.is_zero() {
                return Err(overflow());
            }
            return finite(m * ten_pow((-scale) as u64), 0);
        }
        if scale > MAX_DSCALE + MAX_INT_DIGITS {
            // All digits are far below any scale the format can show.
            return Err(overflow());
        }
        finite(m, scale)
    }

    /// Round to `scale` digits after the point (half away from zero); a
    /// negative scale rounds to tens, hundreds, … and shows no fraction.
    pub fn round(&self, scale: i64) -> Result<Numeric> {
        self.round_or_trunc(scale, true)
    }

    /// Truncate to `scale` digits after the point (toward zero).
    pub fn trunc(&self, scale: i64) -> Result<Numeric> {
        self.round_or_trunc(scale, false)
    }

    fn round_or_trunc(&self, scale: i64, round: bool) -> Result<Numeric> {
        let Some((m, s)) = self.parts() else {
            return Ok(self.clone());
        };
        let scale = scale.clamp(-MAX_RESULT_SCALE, MAX_RESULT_SCALE);
        let q = rescale(&m, s, scale, round);
        if scale >= 0 {
            finite(q, scale)
        } else {
            finite(q * ten_pow((-scale) as u64), 0)
        }
    }

    /// The smallest integer not below the value.
    pub fn ceil(&self) -> Result<Numeric> {
        self.to_integral(true)
    }

    /// The largest integer not above the value.
    pub fn floor(&self) -> Result<Numeric> {
        self.to_integral(false)
    }

    fn to_integral(&self, up: bool) -> Result<Numeric> {
        let Some((m, s)) = self.parts() else {
            return Ok(self.clone());
        };
        let t = rescale(&m, s, 0, false);
        let exact = rescale(&t, 0, s, false) == m;
        let t = match (exact, up, m.is_negative()) {
            (false, true, false) => t + 1,
            (false, false, true) => t - 1,
            _ => t,
        };
        finite(t, 0)
    }

    pub fn neg(&self) -> Numeric {
        match self {
            Numeric::NaN => Numeric::NaN,
            Numeric::PosInf => Numeric::NegInf,
            Numeric::NegInf => Numeric::PosInf,
            Numeric::Num(d) => Numeric::Num(-d.clone()),
        }
    }

    pub fn abs(&self) -> Numeric {
        match self {
            Numeric::NegInf => Numeric::PosInf,
            Numeric::Num(d) => Numeric::Num(d.abs()),
            other => other.clone(),
        }
    }

    /// `sign(x)`: -1, 0 or 1 as a numeric of scale 0 (NaN for NaN).
    pub fn sign(&self) -> Numeric {
        match self {
            Numeric::NaN => Numeric::NaN,
            other => Numeric::from_i64(i64::from(other.signum())),
        }
    }

    /// `a + b`: the result's scale is the larger of the operands'.
    pub fn add(&self, other: &Numeric) -> Result<Numeric> {
        use Numeric::*;
        match (self, other) {
            (NaN, _) | (_, NaN) | (PosInf, NegInf) | (NegInf, PosInf) => Ok(NaN),
            (PosInf, _) | (_, PosInf) => Ok(PosInf),
            (NegInf, _) | (_, NegInf) => Ok(NegInf),
            (Num(a), Num(b)) => {
                let (ma, sa) = a.as_bigint_and_exponent();
                let (mb, sb) = b.as_bigint_and_exponent();
                let s = sa.max(sb);
                finite(rescale(&ma, sa, s, false) + rescale(&mb, sb, s, false), s)
            }
        }
    }

    /// `a - b`.
    pub fn sub(&self, other: &Numeric) -> Result<Numeric> {
        self.add(&other.neg())
    }

    /// `a * b`: the result's scale is the sum of the operands'.
    pub fn mul(&self, other: &Numeric) -> Result<Numeric> {
        use Numeric::*;
        match (self, other) {
            (NaN, _) | (_, NaN) => Ok(NaN),
            (Num(a), Num(b)) => {
                let (ma, sa) = a.as_bigint_and_exponent();
                let (mb, sb) = b.as_bigint_and_exponent();
                let s = sa + sb;
                if s > MAX_DSCALE {
                    // PostgreSQL rounds the exact product to the largest scale.
                    return finite(rescale(&(ma * mb), s, MAX_DSCALE, true), MAX_DSCALE);
                }
                finite(ma * mb, s)
            }
            (a, b) => match a.signum() * b.signum() {
                0 => Ok(NaN),
                1 => Ok(PosInf),
                _ => Ok(NegInf),
            },
        }
    }

    /// `a / b` at the scale PostgreSQL picks (`select_div_scale`),
    /// rounded half away from zero; division by zero is 22012.
    pub fn div(&self, other: &Numeric) -> Result<Numeric> {
        use Numeric::*;
        match (self, other) {
            (NaN, _) | (_, NaN) => Ok(NaN),
            (PosInf | NegInf, PosInf | NegInf) => Ok(NaN),
            (PosInf | NegInf, b) => match self.signum() * b.signum() {
                0 => Err(division_by_zero()),
                1 => Ok(PosInf),
                _ => Ok(NegInf),
            },
            (Num(_), PosInf | NegInf) => Ok(Numeric::zero()),
            (Num(a), Num(b)) => {
                if b.is_zero() {
                    return Err(division_by_zero());
                }
                let rscale = select_div_scale(a, b);
                let (ma, sa) = a.as_bigint_and_exponent();
                let (mb, sb) = b.as_bigint_and_exponent();
                // a / b × 10^rscale = ma × 10^(rscale + sb - sa) / mb.
                let e = rscale + sb - sa;
                let q = if e >= 0 {
                    div_round(&(ma * ten_pow(e as u64)), &mb)
                } else {
                    div_round(&ma, &(mb * ten_pow((-e) as u64)))
                };
                finite(q, rscale)
            }
        }
    }

    /// `a % b`: the remainder of the truncated quotient, with the sign of
    /// `a` and the larger of the operands' scales.
    pub fn rem(&self, other: &Numeric) -> Result<Numeric> {
        use Numeric::*;
        match (self, other) {
            (NaN, _) | (_, NaN) => Ok(NaN),
            (PosInf | NegInf, b) => {
                if b.signum() == 0 && !matches!(b, PosInf | NegInf) {
                    Err(division_by_zero())
                } else {
                    Ok(NaN)
                }
            }
            (a @ Num(_), PosInf | NegInf) => Ok(a.clone()),
            (Num(a), Num(b)) => {
                if b.is_zero() {
                    return Err(division_by_zero());
                }
                let (ma, sa) = a.as_bigint_and_exponent();
                let (mb, sb) = b.as_bigint_and_exponent();
                let s = sa.max(sb);
                let (x, y) = (rescale(&ma, sa, s, false), rescale(&mb, sb, s, false));
                finite(x % y, s)
            }
        }
    }

    /// PostgreSQL's ordering: by value, NaN above everything (and equal to
    /// itself), the infinities beyond every number.
    pub fn total_cmp(&self, other: &Numeric) -> Ordering {
        use Numeric::*;
        let rank = |n: &Numeric| match n {
            NegInf => 0,
            Num(_) => 1,
            PosInf => 2,
            NaN => 3,
        };
        match (self, other) {
            (Num(a), Num(b)) => a.cmp(b),
            (a, b) => rank(a).cmp(&rank(b)),
        }
    }

    /// Apply `numeric(precision, scale)`: round to the scale, and 22003
    /// ("numeric field overflow", with PostgreSQL's detail) when the
    /// integer part has more digits than the type allows.
    pub fn apply_typmod(&self, precision: u32, scale: u32) -> Result<Numeric> {
        let detail = |what: String| {
            Error::NumericOutOfRange("numeric field overflow".into()).with_detail(format!(
                "A field with precision {precision}, scale {scale} {what}."
            ))
        };
        match self {
            Numeric::NaN => Ok(Numeric::NaN),
            Numeric::PosInf | Numeric::NegInf => {
                Err(detail("cannot hold an infinite value".into()))
            }
            Numeric::Num(_) => {
                let r = self.round(i64::from(scale))?;
                let max = i64::from(precision) - i64::from(scale);
                if r.int_digits() > max {
                    let bound = if max > 0 {
                        format!("10^{max}")
                    } else {
                        "1".into()
                    };
                    return Err(detail(format!(
                        "must round to an absolute value less than {bound}"
                    )));
                }
                Ok(r)
            }
        }
    }

    /// numeric → int2/int4/int8 (`bits` 16, 32 or 64): rounded half away
    /// from zero; 22003 when out of range, 0A000 for NaN and infinities.
    pub fn to_int(&self, bits: u32) -> Result<i64> {
        let name = match bits {
            16 => "smallint",
            32 => "integer",
            _ => "bigint",
        };
        let m = match self {
            Numeric::NaN => {
                return Err(Error::NotSupported(format!("cannot convert NaN to {name}")))
            }
            Numeric::PosInf | Numeric::NegInf => {
                return Err(Error::NotSupported(format!(
                    "cannot convert infinity to {name}"
                )))
            }
            Numeric::Num(d) => {
                let (m, s) = d.as_bigint_and_exponent();
                rescale(&m, s, 0, true)
            }
        };
        let out = || Error::NumericOutOfRange(format!("{name} out of range"));
        let v = m.to_i64().ok_or_else(out)?;
        let ok = match bits {
            16 => i16::try_from(v).is_ok(),
            32 => i32::try_from(v).is_ok(),
            _ => true,
        };
        if ok {
            Ok(v)
        } else {
            Err(out())
        }
    }

    /// numeric → float8, correctly rounded; 22003 when out of its range.
    pub fn to_f64(&self) -> Result<f64> {
        match self {
            Numeric::NaN => Ok(f64::NAN),
            Numeric::PosInf => Ok(f64::INFINITY),
            Numeric::NegInf => Ok(f64::NEG_INFINITY),
            Numeric::Num(d) => {
                let text = self.to_string();
                let v: f64 = text.parse().map_err(|_| overflow())?;
                if v.is_infinite() || (v == 0.0 && !d.is_zero()) {
                    return Err(Error::NumericOutOfRange(format!(
                        "\"{text}\" is out of range for type double precision"
                    )));
                }
                Ok(v)
            }
        }
    }

    /// float8 → numeric as PostgreSQL converts it: through `%.15g` (and
    /// float4 through `%.6g`, `digits` being 15 or 6).
    pub fn from_f64(v: f64, digits: usize) -> Result<Numeric> {
        if v.is_nan() {
            return Ok(Numeric::NaN);
        }
        if v.is_infinite() {
            return Ok(if v > 0.0 {
                Numeric::PosInf
            } else {
                Numeric::NegInf
            });
        }
        // `%.Ng` keeps N significant digits and drops trailing zeros; the
        // exponent form parses to the same value and scale as the fixed one.
        let s = format!("{:.*e}", digits.saturating_sub(1), v);
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = if mant.contains('.') {
            mant.trim_end_matches('0').trim_end_matches('.')
        } else {
            mant
        };
        Numeric::parse(&format!("{mant}e{exp}"))
    }

    /// PostgreSQL's binary send format (base-10000 digits).
    pub fn to_binary(&self) -> Vec<u8> {
        let mut b = Vec::new();
        let mut header = |ndigits: i16, weight: i16, sign: u16, dscale: u16| {
            b.extend_from_slice(&ndigits.to_be_bytes());
            b.extend_from_slice(&weight.to_be_bytes());
            b.extend_from_slice(&sign.to_be_bytes());
            b.extend_from_slice(&dscale.to_be_bytes());
        };
        let (m, s) = match self {
            Numeric::NaN => {
                header(0, 0, NUMERIC_NAN, 0);
                return b;
            }
            Numeric::PosInf => {
                header(0, 0, NUMERIC_PINF, 0);
                return b;
            }
            Numeric::NegInf => {
                header(0, 0, NUMERIC_NINF, 0);
                return b;
            }
            Numeric::Num(d) => d.as_bigint_and_exponent(),
        };
        let (groups, weight) = base10000(&m, s);
        let sign = if m.is_negative() {
            NUMERIC_NEG
        } else {
            NUMERIC_POS
        };
        header(groups.len() as i16, weight, sign, s as u16);
        for g in groups {
            b.extend_from_slice(&g.to_be_bytes());
        }
        b
    }

    /// PostgreSQL's binary receive format; digits the display scale hides
    /// are truncated away, as `numeric_recv` does.
    pub fn from_binary(b: &[u8]) -> Result<Numeric> {
        let bad = |what: &str| {
            Error::InvalidInput(format!("invalid {what} in external \"numeric\" value"))
        };
        if b.len() < 8 {
            return Err(Error::ProtocolViolation(
                "insufficient data left in message".into(),
            ));
        }
        let word = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let ndigits = word(0) as i16;
        let weight = word(2) as i16;
        let sign = word(4);
        let dscale = word(6);
        if ndigits < 0 || b.len() != 8 + 2 * ndigits as usize {
            return Err(Error::ProtocolViolation(
                "incorrect binary data format in bind parameter".into(),
            ));
        }
        match sign {
            NUMERIC_NAN => return Ok(Numeric::NaN),
            NUMERIC_PINF => return Ok(Numeric::PosInf),
            NUMERIC_NINF => return Ok(Numeric::NegInf),
            NUMERIC_POS | NUMERIC_NEG => {}
            _ => return Err(bad("sign")),
        }
        if i64::from(dscale) > MAX_DSCALE {
            return Err(bad("scale"));
        }
        let mut m = BigInt::zero();
        for i in 0..ndigits as usize {
            let d = word(8 + 2 * i);
            if d >= 10000 {
                return Err(bad("digit"));
            }
            m = m * 10000u32 + d;
        }
        if sign == NUMERIC_NEG {
            m = -m;
        }
        // value = m × 10000^(weight - ndigits + 1).
        let exp10 = 4 * (i64::from(weight) - i64::from(ndigits) + 1);
        let (m, s) = if exp10 >= 0 {
            (m * ten_pow(exp10 as u64), 0)
        } else {
            (m, -exp10)
        };
        finite(rescale(&m, s, i64::from(dscale), false), i64::from(dscale))
    }
}

const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

/// The base-10000 digits of |m| × 10^-s, aligned on the decimal point and
/// stripped of leading and trailing zero groups, with the weight of the
/// first (PostgreSQL's layout).
fn base10000(m: &BigInt, s: i64) -> (Vec<u16>, i16) {
    if m.is_zero() {
        return (vec![], 0);
    }
    // Align the fraction to a multiple of four digits.
    let pad = (4 - s.rem_euclid(4)) % 4;
    let digits = (m.abs() * ten_pow(pad as u64)).to_string();
    let frac_groups = (s + pad) / 4;
    let lead = (4 - digits.len() % 4) % 4;
    let padded = format!("{}{digits}", "0".repeat(lead));
    let mut groups: Vec<u16> = padded
        .as_bytes()
        .chunks(4)
        .map(|c| c.iter().fold(0u16, |a, d| a * 10 + u16::from(d - b'0')))
        .collect();
    let mut weight = groups.len() as i64 - frac_groups - 1;
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    (groups, weight as i16)
}

/// The leading base-10000 digit of a non-zero |m| × 10^-s and its weight.
fn first_group(m: &BigInt, s: i64) -> (i64, i64) {
    if m.is_zero() {
        return (0, 0);
    }
    let digits = m.abs().to_string();
    let e10 = digits.len() as i64 - 1 - s;
    let weight = e10.div_euclid(4);
    let take = (e10 - 4 * weight + 1) as usize;
    let head: String = digits
        .chars()
        .chain(std::iter::repeat('0'))
        .take(take)
        .collect();
    (head.parse().unwrap_or(0), weight)
}

/// PostgreSQL's `select_div_scale`: at least 16 significant digits, never
/// fewer digits after the point than either operand shows, at most 1000.
fn select_div_scale(a: &BigDecimal, b: &BigDecimal) -> i64 {
    let (ma, sa) = a.as_bigint_and_exponent();
    let (mb, sb) = b.as_bigint_and_exponent();
    let (d1, w1) = first_group(&ma, sa);
    let (d2, w2) = first_group(&mb, sb);
    let mut qweight = w1 - w2;
    if d1 <= d2 {
        qweight -= 1;
    }
    (MIN_SIG_DIGITS - qweight * 4)
        .max(sa)
        .max(sb)
        .clamp(0, MAX_DISPLAY_SCALE)
}

impl fmt::Display for Numeric {
    /// PostgreSQL's text output (`numeric_out`): never an exponent, exactly
    /// the display scale's digits after the point.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (m, s) = match self {
            Numeric::NaN => return f.write_str("NaN"),
            Numeric::PosInf => return f.write_str("Infinity"),
            Numeric::NegInf => return f.write_str("-Infinity"),
            Numeric::Num(d) => d.as_bigint_and_exponent(),
        };
        let digits = m.abs().to_string();
        let s = s.max(0) as usize;
        let digits = if digits.len() <= s {
            format!("{}{digits}", "0".repeat(s + 1 - digits.len()))
        } else {
            digits
        };
        let (int, frac) = digits.split_at(digits.len() - s);
        if m.is_negative() {
            f.write_str("-")?;
        }
        f.write_str(int)?;
        if s > 0 {
            f.write_str(".")?;
            f.write_str(frac)?;
        }
        Ok(())
    }
}

impl PartialEq for Numeric {
    fn eq(&self, other: &Numeric) -> bool {
        self.total_cmp(other) == Ordering::Equal
    }
}

mod math;
mod moments;

pub use moments::Moments;

#[cfg(test)]
mod tests;
