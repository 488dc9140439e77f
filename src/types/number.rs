//! Floats as PostgreSQL prints them: float4/float8 text output (shortest
//! round-trip digits, `%g`-style switch to exponents), and a float in
//! numeric's text form without exponents (JSON numbers, and numeric values
//! written as REAL before numeric was exact). Exact numeric is `numeric`.

/// Sign and shortest decimal digits of a finite non-zero value, with the
/// decimal exponent of the first digit (value = d.ddd × 10^exp). The
/// digits are Ryu's, as PostgreSQL's: where two shortest forms are equally
/// near, other algorithms (Rust's own formatting) can pick the other one
/// (`1e23` prints as `9.999999999999999e+22` in PostgreSQL).
fn shortest(v: f64, single: bool) -> (bool, String, i32) {
    let mut buf = ryu::Buffer::new();
    let s = if single {
        buf.format_finite(v as f32)
    } else {
        buf.format_finite(v)
    };
    let neg = s.starts_with('-');
    let s = s.trim_start_matches('-');
    let (mant, e) = s.split_once(['e', 'E']).unwrap_or((s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let all: String = int.chars().chain(frac.chars()).collect();
    let lead = all.len() - all.trim_start_matches('0').len();
    // The first significant digit's place: int's digits lie above the point.
    let first = int.len() as i32 - 1 - lead as i32;
    let digits = all.trim_start_matches('0').trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    (neg, digits.to_string(), first + e)
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

/// A float in numeric's text form, with its shortest digits: never an
/// exponent.
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
            // Two shortest forms equally near: Ryu's (PostgreSQL's) choice.
            (1e15 + 0.3, "1.0000000000000002e+15"),
            (0.0001234, "0.0001234"),
            (1e23 * 10.0, "1e+24"),
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
}

/// A float as C's `%g` prints it (six significant digits, an exponent
/// below 1e-4 and from 1e6), which PostgreSQL's messages use.
pub fn format_g(v: f64) -> String {
    if !v.is_finite() {
        return match (v.is_nan(), v > 0.0) {
            (true, _) => "nan".into(),
            (false, true) => "inf".into(),
            (false, false) => "-inf".into(),
        };
    }
    let sci = format!("{v:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.abs())
    } else {
        trim(&format!("{v:.*}", (5 - exp) as usize))
    }
}

#[cfg(test)]
mod format_g_tests {
    #[test]
    fn as_c_prints_it() {
        let cases = [
            (1.5, "1.5"),
            (2.0, "2"),
            (-3.0, "-3"),
            (1.0000001, "1"),
            (123456.7, "123457"),
            (999999.5, "1e+06"),
            (1e10, "1e+10"),
            (0.0001, "0.0001"),
            (0.00001234, "1.234e-05"),
            (0.0, "0"),
            (-0.25, "-0.25"),
            (1e-7, "1e-07"),
            (1234567.0, "1.23457e+06"),
            (100.0, "100"),
        ];
        for (v, want) in cases {
            assert_eq!(super::format_g(v), want, "{v}");
        }
    }
}

/// An integer, numeric or floating-point type.
pub fn is_number(t: &crate::types::PgType) -> bool {
    use crate::types::PgType;
    matches!(
        t,
        PgType::Int2
            | PgType::Int4
            | PgType::Int8
            | PgType::Numeric(_)
            | PgType::Float4
            | PgType::Float8
    )
}
