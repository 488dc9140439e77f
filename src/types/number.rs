//! Numbers as PostgreSQL prints and sends them: float4/float8 text output
//! (shortest round-trip digits, `%g`-style switch to exponents), numeric
//! text without exponents, and the NUMERIC binary format (base-10000
//! digits). Numeric is stored as REAL, so its digits are f64's shortest.

use crate::error::{Error, Result};

/// Sign and shortest decimal digits of a finite non-zero value, with the
/// decimal exponent of the first digit (value = d.ddd × 10^exp).
fn shortest(v: f64, single: bool) -> (bool, String, i32) {
    let s = if single {
        format!("{:e}", v as f32)
    } else {
        format!("{v:e}")
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    (neg, digits, exp.parse().unwrap_or(0))
}

fn special(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v.is_infinite() {
        Some(if v > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        None
    }
}

fn fixed(neg: bool, digits: &str, exp: i32) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// float8 (or float4 with `single`) text output as PostgreSQL 15 prints it.
pub fn format_float(v: f64, single: bool) -> String {
    if let Some(s) = special(v) {
        return s.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let (neg, digits, exp) = shortest(v, single);
    let precision = if single { 6 } else { 15 };
    if exp < -4 || exp >= precision {
        let mut out = String::new();
        if neg {
            out.push('-');
        }
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&format!(
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        ));
        out
    } else {
        fixed(neg, &digits, exp)
    }
}

/// numeric text output of a value stored as REAL: never an exponent.
pub fn format_numeric(v: f64) -> String {
    if let Some(s) = special(v) {
        return s.into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let (neg, digits, exp) = shortest(v, false);
    fixed(neg, &digits, exp)
}

const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

/// PostgreSQL NUMERIC binary send format of a value stored as REAL.
pub fn numeric_to_binary(v: f64) -> Vec<u8> {
    let header = |ndigits: i16, weight: i16, sign: u16, dscale: u16| {
        let mut b = Vec::with_capacity(8 + 2 * ndigits.max(0) as usize);
        b.extend_from_slice(&ndigits.to_be_bytes());
        b.extend_from_slice(&weight.to_be_bytes());
        b.extend_from_slice(&sign.to_be_bytes());
        b.extend_from_slice(&dscale.to_be_bytes());
        b
    };
    if v.is_nan() {
        return header(0, 0, NUMERIC_NAN, 0);
    }
    if v.is_infinite() {
        return header(0, 0, if v > 0.0 { NUMERIC_PINF } else { NUMERIC_NINF }, 0);
    }
    let text = format_numeric(v);
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text.as_str()),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let int = int.trim_start_matches('0');
    let dscale = frac.len() as u16;
    let int_pad = (4 - int.len() % 4) % 4;
    let frac_pad = (4 - frac.len() % 4) % 4;
    let all: String = std::iter::repeat_n('0', int_pad)
        .chain(int.chars())
        .chain(frac.chars())
        .chain(std::iter::repeat_n('0', frac_pad))
        .collect();
    let mut groups: Vec<i16> = all
        .as_bytes()
        .chunks(4)
        .map(|c| c.iter().fold(0i16, |a, d| a * 10 + i16::from(d - b'0')))
        .collect();
    let mut weight = ((int_pad + int.len()) / 4) as i16 - 1;
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        return header(0, 0, NUMERIC_POS, dscale);
    }
    let mut b = header(
        groups.len() as i16,
        weight,
        if neg { NUMERIC_NEG } else { NUMERIC_POS },
        dscale,
    );
    for g in groups {
        b.extend_from_slice(&g.to_be_bytes());
    }
    b
}

/// Decode the NUMERIC binary format into its decimal text and f64 value.
pub fn numeric_from_binary(b: &[u8]) -> Result<f64> {
    let bad = || Error::InvalidInput("invalid external \"numeric\" value".into());
    if b.len() < 8 {
        return Err(bad());
    }
    let word = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    let ndigits = word(0) as i16;
    let weight = word(2) as i16;
    let sign = word(4);
    let dscale = usize::from(word(6));
    match sign {
        NUMERIC_NAN => return Ok(f64::NAN),
        NUMERIC_PINF => return Ok(f64::INFINITY),
        NUMERIC_NINF => return Ok(f64::NEG_INFINITY),
        NUMERIC_POS | NUMERIC_NEG => {}
        _ => return Err(bad()),
    }
    if ndigits < 0 || b.len() != 8 + 2 * ndigits as usize || dscale > 16383 {
        return Err(bad());
    }
    let digits: Vec<u16> = (0..ndigits as usize).map(|i| word(8 + 2 * i)).collect();
    if digits.iter().any(|d| *d >= 10000) {
        return Err(bad());
    }
    // Rebuild the decimal text, then let Rust's parser round it correctly.
    let mut text = String::new();
    if sign == NUMERIC_NEG {
        text.push('-');
    }
    let digit_at = |pos: i32| -> u16 {
        let idx = i32::from(weight) - pos;
        if idx >= 0 && (idx as usize) < digits.len() {
            digits[idx as usize]
        } else {
            0
        }
    };
    if weight < 0 {
        text.push('0');
    } else {
        for pos in (0..=i32::from(weight)).rev() {
            text.push_str(&format!("{:04}", digit_at(pos)));
        }
    }
    text.push('.');
    let frac_groups = digits.len() as i32 - i32::from(weight) - 1;
    for pos in 1..=frac_groups.max(0) {
        text.push_str(&format!("{:04}", digit_at(-pos)));
    }
    text.push('0');
    let _ = dscale;
    text.parse::<f64>().map_err(|_| bad())
}

/// PostgreSQL's binary NUMERIC for a plain decimal string (`-12.50`),
/// keeping `dscale` digits after the point.
pub fn numeric_text_to_binary(text: &str, dscale: u16) -> Option<Vec<u8>> {
    let (neg, t) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    // Base-10000 digits: pad the integer part on the left and the fraction
    // on the right to multiples of four.
    let int = int.trim_start_matches('0');
    let ipad = (4 - int.len() % 4) % 4;
    let int = format!("{}{int}", "0".repeat(ipad));
    let fpad = (4 - frac.len() % 4) % 4;
    let frac = format!("{frac}{}", "0".repeat(fpad));
    let mut digits: Vec<i16> = Vec::new();
    for chunk in int.as_bytes().chunks(4).chain(frac.as_bytes().chunks(4)) {
        digits.push(std::str::from_utf8(chunk).ok()?.parse().ok()?);
    }
    let mut weight = (int.len() / 4) as i16 - 1;
    while digits.first() == Some(&0) {
        digits.remove(0);
        weight -= 1;
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        weight = 0;
    }
    let mut b = Vec::with_capacity(8 + 2 * digits.len());
    b.extend_from_slice(&(digits.len() as i16).to_be_bytes());
    b.extend_from_slice(&weight.to_be_bytes());
    b.extend_from_slice(
        &(if neg && !digits.is_empty() {
            NUMERIC_NEG
        } else {
            NUMERIC_POS
        })
        .to_be_bytes(),
    );
    b.extend_from_slice(&dscale.to_be_bytes());
    for d in digits {
        b.extend_from_slice(&d.to_be_bytes());
    }
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_postgres() {
        let cases = [
            (1.5, "1.5"),
            (0.1, "0.1"),
            (1e20, "1e+20"),
            (1e-5, "1e-05"),
            (1e15, "1e+15"),
            (1e14, "100000000000000"),
            (0.0001, "0.0001"),
            (-2.5e-7, "-2.5e-07"),
            (123456789.125, "123456789.125"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (f64::NAN, "NaN"),
            (0.0, "0"),
            (1.0 / 3.0, "0.3333333333333333"),
        ];
        for (v, want) in cases {
            assert_eq!(format_float(v, false), want, "{v}");
        }
        assert_eq!(format_float(f64::from(0.1f32), true), "0.1");
        assert_eq!(format_float(1e6, true), "1e+06");
        assert_eq!(format_float(123456.0, true), "123456");
        assert_eq!(format_numeric(1e20), "100000000000000000000");
        assert_eq!(format_numeric(2.5), "2.5");
        assert_eq!(format_numeric(100.0), "100");
        assert_eq!(format_numeric(1e-7), "0.0000001");
    }

    #[test]
    fn numeric_binary_round_trips() {
        for v in [
            0.0,
            1.0,
            -1.0,
            2.5,
            100.0,
            12345.6789,
            -0.001,
            1e20,
            1e-9,
            9999.0,
            10000.0,
            123456789.125,
        ] {
            let b = numeric_to_binary(v);
            assert_eq!(numeric_from_binary(&b).unwrap(), v, "{v}");
        }
        // 12345.678: ndigits 3, weight 1, dscale 3, digits 1 2345 6780.
        assert_eq!(
            numeric_to_binary(12345.678),
            [0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x7c]
        );
        assert!(numeric_from_binary(&numeric_to_binary(f64::NAN))
            .unwrap()
            .is_nan());
        assert!(numeric_from_binary(&[0, 1]).is_err());
    }
}
