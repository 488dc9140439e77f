//! `lwprint_double` (liblwgeom/lwprint.c) on top of PostGIS's modified ryu
//! (`d2sfixed_buffered_n` / `d2sexp_buffered_n` in deps/ryu/d2s.c).

/// Formats a double exactly like PostGIS `lwprint_double(d, maxdd)`:
/// shortest round-trip digits, rounded half-even to `precision` decimals
/// (negative precision = 0), trailing zeros trimmed; exponent notation
/// (`1e+20`, `6.1e-17`) when |d| <= 1e-8 or |d| >= 1e15.  NaN prints `NaN`,
/// infinities `Infinity`/`-Infinity`, zero (also -0) `0`.
///
/// Like PostGIS, rounding in exponent notation does not renormalise the
/// mantissa: 9.99e20 with precision 0 prints `10e+20`.
pub fn format_double(d: f64, precision: i32) -> String {
    let precision = precision.max(0) as u32;
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d < 0.0 {
            "-Infinity".into()
        } else {
            "Infinity".into()
        };
    }
    if d == 0.0 {
        return "0".into();
    }
    let sign = d.is_sign_negative();
    let (mantissa, exponent) = shortest(d.abs());
    let ad = d.abs();
    if ad <= 1e-8 || ad >= 1e15 {
        let olength = decimal_len(mantissa) as i32;
        let sci_exp = exponent + olength - 1;
        let mut out = to_chars_fixed(mantissa, 1 - olength, sign, precision);
        out.push('e');
        if sci_exp < 0 {
            out.push('-');
        } else {
            out.push('+');
        }
        out.push_str(&sci_exp.unsigned_abs().to_string());
        out
    } else {
        to_chars_fixed(mantissa, exponent, sign, precision)
    }
}

/// Shortest round-trip decimal digits of a finite positive double, as
/// (mantissa without trailing zeros, decimal exponent).
fn shortest(ad: f64) -> (u64, i32) {
    let s = format!("{ad:e}");
    let (digits, exp) = match s.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (s.as_str(), 0),
    };
    let frac_len = digits.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
    let mut m: u64 = 0;
    for b in digits.bytes().filter(u8::is_ascii_digit) {
        m = m.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
    }
    let mut e = exp - frac_len;
    while m != 0 && m.is_multiple_of(10) {
        m /= 10;
        e += 1;
    }
    (m, e)
}

fn decimal_len(v: u64) -> u32 {
    if v == 0 {
        1
    } else {
        v.ilog10() + 1
    }
}

/// ryu `to_chars_fixed` as modified by PostGIS.
fn to_chars_fixed(mut output: u64, mut exp: i32, sign: bool, precision: u32) -> String {
    let mut olength = decimal_len(output);
    if exp < 0 && precision < exp.unsigned_abs() {
        let digits_to_trim = exp.unsigned_abs() - precision;
        if digits_to_trim > olength {
            output = 0;
            exp = 0;
        } else {
            let divisor = 10u64.pow(digits_to_trim);
            let half = divisor / 2;
            let q = output / divisor;
            let rem = output - q * divisor;
            output = q;
            exp += digits_to_trim as i32;
            if rem > half || (rem == half && output & 1 == 1) {
                output += 1;
            }
            while output != 0 && output.is_multiple_of(10) {
                output /= 10;
                exp += 1;
            }
        }
        olength = decimal_len(output);
    }
    let (int_part, int_zeros, dec_part, dec_lead) = if exp >= 0 {
        (output, exp as u32, 0u64, 0u32)
    } else {
        let nexp = exp.unsigned_abs();
        if nexp < olength {
            let p = 10u64.pow(nexp);
            let dec = output % p;
            (output / p, 0, dec, nexp - decimal_len(dec).min(nexp))
        } else {
            (0, 0, output, nexp - olength)
        }
    };
    let mut s = String::new();
    if sign && (int_part != 0 || dec_part != 0) {
        s.push('-');
    }
    s.push_str(&int_part.to_string());
    for _ in 0..int_zeros {
        s.push('0');
    }
    if dec_part != 0 {
        s.push('.');
        for _ in 0..dec_lead {
            s.push('0');
        }
        s.push_str(&dec_part.to_string());
    }
    s
}

#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    use super::format_double as f;

    /// Expected strings copied from PostGIS 3.3.2 ST_AsText(ST_MakePoint(v,0), p).
    #[test]
    fn matches_postgis() {
        let cases: &[(f64, [&str; 5])] = &[
            (0.1, ["0.1", "0", "0.1", "0", "0.1"]),
            (1e20, ["1e+20", "1e+20", "1e+20", "1e+20", "1e+20"]),
            (1e-8, ["1e-8", "1e-8", "1e-8", "1e-8", "1e-8"]),
            (
                0.000000012345678901234567,
                ["0.000000012345679", "0", "0", "0", "0.00000001234567890123"],
            ),
            (
                123456789012345.6789,
                [
                    "123456789012345.67",
                    "123456789012346",
                    "123456789012345.7",
                    "123456789012346",
                    "123456789012345.67",
                ],
            ),
            (
                9.99999999999999999e20,
                ["1e+21", "1e+21", "1e+21", "1e+21", "1e+21"],
            ),
            (
                6.123233995736766e-17,
                [
                    "6.123233995736766e-17",
                    "6e-17",
                    "6.1e-17",
                    "6e-17",
                    "6.123233995736766e-17",
                ],
            ),
            (
                -1.2246467991473532e-16,
                [
                    "-1.224646799147353e-16",
                    "-1e-16",
                    "-1.2e-16",
                    "-1e-16",
                    "-1.2246467991473532e-16",
                ],
            ),
            (
                0.1234567890123456789,
                ["0.123456789012346", "0", "0.1", "0", "0.12345678901234568"],
            ),
            (
                1.0000000000000005,
                ["1", "1", "1", "1", "1.0000000000000004"],
            ),
            (
                2.9999999999999996,
                ["3", "3", "3", "3", "2.9999999999999996"],
            ),
            (-0.0, ["0", "0", "0", "0", "0"]),
            (f64::NAN, ["NaN", "NaN", "NaN", "NaN", "NaN"]),
            (1e15, ["1e+15", "1e+15", "1e+15", "1e+15", "1e+15"]),
            (
                999999999999999.9,
                [
                    "999999999999999.9",
                    "1000000000000000",
                    "999999999999999.9",
                    "1000000000000000",
                    "999999999999999.9",
                ],
            ),
            (
                0.00000001000000001,
                ["0.00000001", "0", "0", "0", "0.00000001000000001"],
            ),
            (5e-324, ["5e-324", "5e-324", "5e-324", "5e-324", "5e-324"]),
            (
                1.7976931348623157e308,
                [
                    "1.797693134862316e+308",
                    "2e+308",
                    "1.8e+308",
                    "2e+308",
                    "1.7976931348623157e+308",
                ],
            ),
            (12.5, ["12.5", "12", "12.5", "12", "12.5"]),
            (0.125, ["0.125", "0", "0.1", "0", "0.125"]),
            (-0.0000001, ["-0.0000001", "0", "0", "0", "-0.0000001"]),
            (
                9.99e20,
                ["9.99e+20", "10e+20", "10e+20", "10e+20", "9.99e+20"],
            ),
        ];
        for (v, exp) in cases {
            for (p, e) in [15, 0, 1, -3, 20].iter().zip(exp.iter()) {
                assert_eq!(f(*v, *p), *e, "value {v:e} precision {p}");
            }
        }
        assert_eq!(f(f64::INFINITY, 15), "Infinity");
        assert_eq!(f(f64::NEG_INFINITY, 15), "-Infinity");
        assert_eq!(f(2.5, 0), "2");
        assert_eq!(f(3.5, 0), "4");
        assert_eq!(f(0.05, 1), "0");
        assert_eq!(f(0.15, 1), "0.2");
        assert_eq!(f(1.45, 1), "1.4");
        assert_eq!(f(1000.0, 15), "1000");
        assert_eq!(f(-0.025, 15), "-0.025");
    }
}
