//! Every expected value below is what PostgreSQL 15 prints.

use super::*;

fn n(s: &str) -> Numeric {
    Numeric::parse(s).unwrap()
}

fn show(r: Result<Numeric>) -> String {
    match r {
        Ok(v) => v.to_string(),
        Err(e) => match e.detail() {
            Some(d) => format!("{}: {e}\nDETAIL: {d}", e.sqlstate()),
            None => format!("{}: {e}", e.sqlstate()),
        },
    }
}

#[test]
fn text_input_and_output() {
    let cases = [
        ("1.50", "1.50"),
        (" -0.00 ", "0.00"),
        ("+7", "7"),
        (".5", "0.5"),
        ("5.", "5"),
        ("1e3", "1000"),
        ("1.5e-3", "0.0015"),
        ("-1.23E+2", "-123"),
        ("12345678901234567.89", "12345678901234567.89"),
        ("0.000000000000000000001", "0.000000000000000000001"),
        ("nan", "NaN"),
        ("Infinity", "Infinity"),
        ("-inf", "-Infinity"),
        ("+INF", "Infinity"),
    ];
    for (input, want) in cases {
        assert_eq!(n(input).to_string(), want, "{input}");
    }
    for bad in [
        "", "abc", "1.2.3", "1e", "--1", ".", "1 2", "- 1", "NaN1", "0x10",
    ] {
        let e = Numeric::parse(bad).unwrap_err();
        assert_eq!(e.sqlstate(), "22P02", "{bad}");
        assert_eq!(
            e.to_string(),
            format!("invalid input syntax for type numeric: \"{bad}\"")
        );
    }
    assert_eq!(Numeric::parse("1e200000").unwrap_err().sqlstate(), "22003");
}

#[test]
fn arithmetic_scales_follow_postgres() {
    let cases = [
        (n("0.1").add(&n("0.2")), "0.3"),
        (n("1.50").add(&n("1")), "2.50"),
        (n("1.5").sub(&n("1.50")), "0.00"),
        (n("1.5").mul(&n("2.25")), "3.375"),
        (n("1.10").mul(&n("2.0")), "2.200"),
        (n("1").div(&n("3")), "0.33333333333333333333"),
        (n("10").div(&n("4")), "2.5000000000000000"),
        (n("10").div(&n("4.0")), "2.5000000000000000"),
        (n("2").div(&n("3")), "0.66666666666666666667"),
        (n("100000").div(&n("3")), "33333.333333333333"),
        (
            n("1.0000000000000000000001").div(&n("1")),
            "1.0000000000000000000001",
        ),
        (n("7").div(&n("-2")), "-3.5000000000000000"),
        (n("0").div(&n("5")), "0.00000000000000000000"),
        (n("12345678").div(&n("0.001")), "12345678000.00000000"),
        (n("7.5").rem(&n("2")), "1.5"),
        (n("-7").rem(&n("2.00")), "-1.00"),
        (n("1").div(&n("0")), "22012: division by zero"),
        (n("1").rem(&n("0")), "22012: division by zero"),
    ];
    for (got, want) in cases {
        assert_eq!(show(got), want);
    }
}

#[test]
fn special_values() {
    assert_eq!(show(n("NaN").add(&n("1"))), "NaN");
    assert_eq!(show(n("Infinity").add(&n("-Infinity"))), "NaN");
    assert_eq!(show(n("Infinity").mul(&n("0"))), "NaN");
    assert_eq!(show(n("-Infinity").mul(&n("2"))), "-Infinity");
    assert_eq!(show(n("1").div(&n("Infinity"))), "0");
    assert_eq!(show(n("Infinity").div(&n("0"))), "22012: division by zero");
    assert_eq!(show(n("NaN").div(&n("0"))), "NaN");
    assert_eq!(show(n("5").rem(&n("Infinity"))), "5");
    assert_eq!(n("NaN"), n("nan"));
    assert_eq!(n("NaN").total_cmp(&n("Infinity")), Ordering::Greater);
    assert_eq!(n("-Infinity").total_cmp(&n("-1e100")), Ordering::Less);
    assert_eq!(n("1.0"), n("1.00"));
    assert_eq!(n("10").total_cmp(&n("9")), Ordering::Greater);
}

#[test]
fn round_and_trunc() {
    let cases = [
        (n("1.005").round(2), "1.01"),
        (n("2.5").round(0), "3"),
        (n("-2.5").round(0), "-3"),
        (n("1.5").round(3), "1.500"),
        (n("1234.5").round(-2), "1200"),
        (n("1250").round(-2), "1300"),
        (n("-1250").round(-2), "-1300"),
        (n("55").round(-3), "0"),
        (n("1.999").trunc(2), "1.99"),
        (n("-1.999").trunc(0), "-1"),
        (n("1999").trunc(-2), "1900"),
        (n("-1.2").ceil(), "-1"),
        (n("-1.2").floor(), "-2"),
        (n("1.2").ceil(), "2"),
        (n("3.00").floor(), "3"),
        (n("-0.5").ceil(), "0"),
    ];
    for (got, want) in cases {
        assert_eq!(show(got), want);
    }
    assert_eq!(n("-3.20").abs().to_string(), "3.20");
    assert_eq!(n("-3.20").sign().to_string(), "-1");
    assert_eq!(n("0.00").neg().to_string(), "0.00");
}

#[test]
fn typmods_round_and_check() {
    assert_eq!(
        show(n("12345678901234567.891").apply_typmod(20, 2)),
        "12345678901234567.89"
    );
    assert_eq!(show(n("1.005").apply_typmod(5, 2)), "1.01");
    assert_eq!(show(n("999.995").apply_typmod(5, 2)),
        "22003: numeric field overflow\nDETAIL: A field with precision 5, scale 2 must round to an absolute value less than 10^3.");
    assert_eq!(show(n("0.5").apply_typmod(2, 2)), "0.50");
    assert_eq!(show(n("1").apply_typmod(2, 2)),
        "22003: numeric field overflow\nDETAIL: A field with precision 2, scale 2 must round to an absolute value less than 1.");
    assert_eq!(show(n("Infinity").apply_typmod(5, 2)),
        "22003: numeric field overflow\nDETAIL: A field with precision 5, scale 2 cannot hold an infinite value.");
    assert_eq!(show(n("NaN").apply_typmod(5, 2)), "NaN");
}

#[test]
fn conversions() {
    assert_eq!(n("2.5").to_int(32).unwrap(), 3);
    assert_eq!(n("-2.5").to_int(32).unwrap(), -3);
    assert_eq!(n("2147483647.4").to_int(32).unwrap(), 2_147_483_647);
    let e = n("2147483647.5").to_int(32).unwrap_err();
    assert_eq!(
        (e.sqlstate(), e.to_string().as_str()),
        ("22003", "integer out of range")
    );
    let e = n("NaN").to_int(64).unwrap_err();
    assert_eq!(
        (e.sqlstate(), e.to_string().as_str()),
        ("0A000", "cannot convert NaN to bigint")
    );
    assert_eq!(n("0.1").to_f64().unwrap(), 0.1);
    assert!(n("NaN").to_f64().unwrap().is_nan());
    assert_eq!(n("1e400").to_f64().unwrap_err().sqlstate(), "22003");
    let f = |v: f64| Numeric::from_f64(v, 15).unwrap().to_string();
    assert_eq!(f(0.1), "0.1");
    assert_eq!(f(1.0 / 3.0), "0.333333333333333");
    assert_eq!(f(1e20), "100000000000000000000");
    assert_eq!(f(1e-5), "0.00001");
    assert_eq!(f(-2.5), "-2.5");
    assert_eq!(f(100.0), "100");
    assert_eq!(
        Numeric::from_f64(f64::from(0.1f32), 6).unwrap().to_string(),
        "0.1"
    );
}

#[test]
fn binary_format_round_trips_exactly() {
    for s in [
        "0",
        "0.00",
        "1",
        "-1",
        "1.50",
        "12345678901234567.89",
        "0.0001",
        "0.00001234",
        "10000",
        "99990000",
        "-0.000000001",
        "123456789.123456789",
        "NaN",
        "Infinity",
        "-Infinity",
        "1e40",
    ] {
        let v = n(s);
        let back = Numeric::from_binary(&v.to_binary()).unwrap();
        assert_eq!(back.to_string(), v.to_string(), "{s}");
    }
    // PostgreSQL's bytes for 12345.678: 3 digits, weight 1, dscale 3.
    assert_eq!(
        n("12345.678").to_binary(),
        vec![0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x7c]
    );
    assert_eq!(n("0.00").to_binary(), vec![0, 0, 0, 0, 0, 0, 0, 2]);
    assert!(Numeric::from_binary(&[0, 1]).is_err());
}
