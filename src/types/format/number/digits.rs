//! The digits `to_char` writes, their sign and the blanks before them,
//! as each of PostgreSQL's `int4_to_char`, `int8_to_char`,
//! `float4_to_char`, `float8_to_char` and `numeric_to_char` prepares them
//! (rounded to the template's places, `#` where they do not fit, Roman
//! numerals, scientific notation).

use super::{Desc, Number, EEEE, MULTI, ROMAN};
use crate::error::{Error, Result};
use crate::types::numeric::Numeric;

/// Roman numerals of 1 to 3999; fifteen `#` otherwise.
fn roman(n: i64) -> String {
    if !(1..=3999).contains(&n) {
        return "#".repeat(15);
    }
    const ONES: [&str; 9] = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"];
    const TENS: [&str; 9] = ["X", "XX", "XXX", "XL", "L", "LX", "LXX", "LXXX", "XC"];
    const HUNDREDS: [&str; 9] = ["C", "CC", "CCC", "CD", "D", "DC", "DCC", "DCCC", "CM"];
    let digit = |p: i64| (n / p % 10) as usize;
    let mut out = "M".repeat(digit(1000));
    for (p, table) in [(100, &HUNDREDS), (10, &TENS), (1, &ONES)] {
        if digit(p) > 0 {
            out.push_str(table[digit(p) - 1]);
        }
    }
    out
}

/// C's `%+.*e`: a sign always, at least two exponent digits.
fn c_exp(v: f64, digits: usize) -> String {
    let s = format!("{:.*e}", digits, v.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if v.is_sign_negative() { '-' } else { '+' };
    let esign = if exp < 0 { '-' } else { '+' };
    format!("{sign}{mantissa}e{esign}{:02}", exp.abs())
}

/// `numeric_out_sci`: the significand rounded to `scale` digits after
/// the point (it may round up to 10), `e`, the exponent's sign and at
/// least two digits.
fn numeric_sci(n: &Numeric, scale: i32) -> Result<String> {
    let text = n.to_string();
    let negative = text.starts_with('-');
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let int_len = text
        .trim_start_matches('-')
        .split('.')
        .next()
        .map_or(0, str::len) as i64;
    let exponent = match digits.find(|c| c != '0') {
        // The first significant digit's place.
        Some(first) => int_len - 1 - first as i64,
        None => 0,
    };
    // The point moved exactly, then one rounding.
    let abs = n.abs().to_string();
    let significand = Numeric::parse(&format!("{abs}e{}", -exponent))?.round(i64::from(scale))?;
    let esign = if exponent < 0 { '-' } else { '+' };
    Ok(format!(
        "{}{significand}e{esign}{:02}",
        if negative { "-" } else { "" },
        exponent.abs()
    ))
}

/// `#` in every digit place, the point where the template has it.
fn overflowed(d: &Desc) -> Vec<u8> {
    let mut s = vec![b'#'; (d.pre + d.post + 1).max(0) as usize];
    if let Some(p) = s.get_mut(d.pre.max(0) as usize) {
        *p = b'.';
    }
    s
}

/// The digits to write, their sign and the blank places before them,
/// as each of PostgreSQL's `*_to_char` functions prepares them.
pub(super) fn digits(value: &Number, d: &mut Desc) -> Result<(Vec<u8>, u8, i32)> {
    let plain = |orgnum: String, d: &Desc| -> (Vec<u8>, u8, i32) {
        let (sign, body) = match orgnum.strip_prefix('-') {
            Some(rest) => (b'-', rest.to_string()),
            None => (b'+', orgnum),
        };
        let pre_len = body.find('.').unwrap_or(body.len()) as i32;
        if pre_len < d.pre {
            (body.into_bytes(), sign, d.pre - pre_len)
        } else if pre_len > d.pre {
            (overflowed(d), sign, 0)
        } else {
            (body.into_bytes(), sign, 0)
        }
    };
    if d.has(ROMAN) {
        return roman_digits(value);
    }
    if d.has(EEEE) {
        return eeee_digits(value, d);
    }
    let multiplier = 10f64.powi(d.multi);
    let with_point = |mut s: String, post: i32| {
        if post > 0 {
            s.push('.');
            s.push_str(&"0".repeat(post as usize));
        }
        s
    };
    match value {
        Number::Int4(v) | Number::Int8(v) => {
            let v = match value {
                _ if !d.has(MULTI) => *v,
                // int4_to_char multiplies in 32 bits, by a power of ten
                // that must itself fit (PostgreSQL 15.20 and later; before,
                // the product wrapped around).
                Number::Int4(_) => {
                    let overflow = || Error::NumericOutOfRange("integer out of range".into());
                    let m = 10i32.checked_pow(d.multi as u32).ok_or_else(overflow)?;
                    i64::from((*v as i32).checked_mul(m).ok_or_else(overflow)?)
                }
                _ => {
                    let overflow = || Error::NumericOutOfRange("bigint out of range".into());
                    let m = 10i64.checked_pow(d.multi as u32).ok_or_else(overflow)?;
                    v.checked_mul(m).ok_or_else(overflow)?
                }
            };
            if d.has(MULTI) {
                d.pre += d.multi;
            }
            let (sign, body) = match v.to_string().strip_prefix('-') {
                Some(rest) => (b'-', rest.to_string()),
                None => (b'+', v.to_string()),
            };
            let pre_len = body.len() as i32;
            let numstr = with_point(body, d.post);
            Ok(if pre_len < d.pre {
                (numstr.into_bytes(), sign, d.pre - pre_len)
            } else if pre_len > d.pre {
                (overflowed(d), sign, 0)
            } else {
                (numstr.into_bytes(), sign, 0)
            })
        }
        Number::Float4(_) | Number::Float8(_) => {
            let (v, dig) = match value {
                Number::Float4(f) => (f64::from(*f), 6),
                Number::Float8(f) => (*f, 15),
                _ => (0.0, 15),
            };
            let v = if d.has(MULTI) {
                d.pre += d.multi;
                match value {
                    Number::Float4(f) => f64::from(*f * multiplier as f32),
                    _ => v * multiplier,
                }
            } else {
                v
            };
            let pre_len = format!("{:.0}", v.abs()).len() as i32;
            if pre_len >= dig {
                d.post = 0;
            } else if pre_len + d.post > dig {
                d.post = dig - pre_len;
            }
            Ok(plain(format!("{:.*}", d.post.max(0) as usize, v), d))
        }
        Number::Numeric(n) => {
            let v = if d.has(MULTI) {
                d.pre += d.multi;
                n.mul(&Numeric::parse(&format!("1e{}", d.multi))?)?
            } else {
                n.clone()
            };
            Ok(plain(v.round(i64::from(d.post))?.to_string(), d))
        }
    }
}

/// Roman numerals of the value rounded to an integer.
fn roman_digits(value: &Number) -> Result<(Vec<u8>, u8, i32)> {
    // PostgreSQL 15 converts an exact number to integer (22003 when
    // it does not fit); a double beyond integer's range is `#`s.
    let out_of_range = || Error::NumericOutOfRange("integer out of range".into());
    let n = match value {
        Number::Int4(v) => *v,
        Number::Int8(v) => i64::from(i32::try_from(*v).map_err(|_| out_of_range())?),
        Number::Float4(f) => f64::from(*f).round_ties_even() as i64,
        Number::Float8(f) => f.round_ties_even() as i64,
        Number::Numeric(n) => n.round(0)?.to_int(32)?,
    };
    let n = i32::try_from(n).map_or(i64::from(i32::MAX), i64::from);
    Ok((roman(n).into_bytes(), 0, 0))
}

/// Scientific notation with the template's digits after the point.
fn eeee_digits(value: &Number, d: &Desc) -> Result<(Vec<u8>, u8, i32)> {
    let post = d.post.max(0) as usize;
    let special = |d: &Desc| {
        let mut s = vec![b'#'; (d.pre + d.post + 6).max(1) as usize];
        s[0] = b' ';
        if let Some(p) = s.get_mut((d.pre + 1) as usize) {
            *p = b'.';
        }
        s
    };
    let text = match value {
        Number::Int4(v) => c_exp(*v as f64, post),
        Number::Int8(v) => numeric_sci(&Numeric::from_i64(*v), d.post)?,
        Number::Float4(f) if !f.is_finite() => return Ok((special(d), 0, 0)),
        Number::Float8(f) if !f.is_finite() => return Ok((special(d), 0, 0)),
        Number::Float4(f) => c_exp(f64::from(*f), post),
        Number::Float8(f) => c_exp(*f, post),
        Number::Numeric(n) if !matches!(n, Numeric::Num(_)) => return Ok((special(d), 0, 0)),
        Number::Numeric(n) => numeric_sci(n, d.post)?,
    };
    let text = match text.strip_prefix('+') {
        Some(rest) => format!(" {rest}"),
        None if text.starts_with('-') => text,
        None => format!(" {text}"),
    };
    Ok((text.into_bytes(), 0, 0))
}
