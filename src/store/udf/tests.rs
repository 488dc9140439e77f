use crate::store::errors::{error_from_message, sqlstate_of_message};
use rusqlite::types::Value;
use rusqlite::Connection;

use super::*;

fn conn() -> Connection {
    let c = Connection::open_in_memory().unwrap();
    register(&c).unwrap();
    c
}

fn eval(c: &Connection, expr: &str) -> rusqlite::Result<Value> {
    c.query_row(&format!("SELECT {expr}"), [], |r| r.get::<_, Value>(0))
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

#[test]
fn functions_compute_like_postgres() {
    let c = conn();
    let cases: Vec<(&str, Value)> = vec![
        ("pg_cast(' 12 ', 'int4')", Value::Integer(12)),
        // A REAL is a float8: rint() rounds half to even (numeric → int
        // is pg_numeric_cast, half away from zero).
        ("pg_cast(2.5, 'int4')", Value::Integer(2)),
        ("pg_cast(3.5, 'int4')", Value::Integer(4)),
        ("pg_numeric_cast('2.5', 'int4')", Value::Integer(3)),
        ("pg_numeric_add('0.1', '0.2')", text("0.3")),
        ("pg_numeric_div(1, '3.0')", text("0.33333333333333333333")),
        ("pg_numeric_cmp('1.0', '1.00')", Value::Integer(0)),
        ("pg_numeric_cmp('NaN', 'Infinity')", Value::Integer(1)),
        ("pg_numeric_in('2', 1, NULL)", Value::Null),
        ("pg_numeric_round('1.005', 2)", text("1.01")),
        ("pg_cast(2, 'numeric(5,2)')", text("2.00")),
        ("pg_cast(0.1, 'numeric')", text("0.1")),
        (
            "pg_numeric(0.30000000000000004)",
            text("0.30000000000000004"),
        ),
        ("pg_cast('yes', 'bool')", Value::Integer(1)),
        ("pg_cast(1.5, 'text')", text("1.5")),
        ("pg_cast(1e20, 'text')", text("1e+20")),
        ("pg_cast('abcdef', 'varchar(3)')", text("abc")),
        ("pg_cast('ab', 'bpchar(4)')", text("ab  ")),
        (
            "pg_cast('2024-01-02T03:04:05+01', 'timestamptz')",
            text("2024-01-02 02:04:05"),
        ),
        ("pg_cast('2024-01-02 10:00:00', 'date')", text("2024-01-02")),
        ("pg_cast(NULL, 'int4')", Value::Null),
        ("pg_greatest(1, NULL, 3)", Value::Integer(3)),
        ("pg_least(NULL, 'b', 'a')", text("a")),
        ("pg_greatest(NULL, NULL)", Value::Null),
        ("pg_div(7, 2)", Value::Integer(3)),
        ("pg_div(-7, 2)", Value::Integer(-3)),
        ("pg_div(7.0, 2)", Value::Real(3.5)),
        ("pg_mod(-7, 3)", Value::Integer(-1)),
        ("pg_mod(5.5, 2)", Value::Real(1.5)),
        (
            "pg_date_trunc('month', '2024-03-15 10:11:12.5')",
            text("2024-03-01 00:00:00"),
        ),
        (
            "pg_date_trunc('hour', '2024-03-15 10:11:12.5')",
            text("2024-03-15 10:00:00"),
        ),
        (
            "pg_date_trunc('week', '2024-03-17 10:00:00')",
            text("2024-03-11 00:00:00"),
        ),
        (
            "pg_date_trunc('day', '2024-03-17')",
            text("2024-03-17 00:00:00"),
        ),
        (
            "pg_extract('year', '2024-03-15 10:11:12.5')",
            Value::Real(2024.0),
        ),
        (
            "pg_extract('second', '2024-03-15 10:11:12.5')",
            Value::Real(12.5),
        ),
        ("pg_extract('dow', '2024-03-17')", Value::Real(0.0)),
        ("pg_extract('isodow', '2024-03-17')", Value::Real(7.0)),
        ("pg_extract('doy', '2024-03-01')", Value::Real(61.0)),
        ("pg_extract('week', '2021-01-03')", Value::Real(53.0)),
        ("pg_extract('quarter', '2024-08-01')", Value::Real(3.0)),
        (
            "pg_extract('epoch', '1970-01-02 00:00:00')",
            Value::Real(86400.0),
        ),
        ("lower('ÀB')", text("àb")),
        ("upper('straße')", text("STRAßE")),
        ("pg_initcap('hello wORLD-x')", text("Hello World-X")),
        ("pg_substring('hello', 0, 3)", text("he")),
        ("pg_substring('hello', -1, 3)", text("h")),
        ("pg_substring('hello', 2)", text("ello")),
        ("pg_lpad('hi', 5, 'xy')", text("xyxhi")),
        ("pg_rpad('hello', 3)", text("hel")),
        ("pg_left('hello', -2)", text("hel")),
        ("pg_right('hello', 2)", text("lo")),
        ("pg_split_part('a,b,c', ',', 2)", text("b")),
        ("pg_split_part('a,b,c', ',', -1)", text("c")),
        ("pg_split_part('a,b,c', ',', 9)", text("")),
        ("pg_concat('a', NULL, 1, 2.5)", text("a12.5")),
        ("pg_concat_ws('-', 'a', NULL, 'b')", text("a-b")),
        ("pg_repeat('ab', 3)", text("ababab")),
        ("pg_starts_with('alpha', 'al')", Value::Integer(1)),
        ("pg_reverse('abc')", text("cba")),
    ];
    for (expr, want) in cases {
        assert_eq!(eval(&c, expr).unwrap(), want, "{expr}");
    }
    let Value::Real(r) = eval(&c, "pg_random()").unwrap() else {
        panic!("random is not a float")
    };
    assert!((0.0..1.0).contains(&r));
    let Value::Text(now) = eval(&c, "pg_now()").unwrap() else {
        panic!("now is not text")
    };
    assert!(PgType::Timestamp.parse_text(&now).is_ok(), "{now}");
}

#[test]
fn failures_carry_their_sqlstate() {
    let c = conn();
    let cases = [
        (
            "pg_cast('abc', 'int4')",
            "22P02",
            "invalid input syntax for type integer: \"abc\"",
        ),
        ("pg_cast(70000, 'int2')", "22003", "smallint out of range"),
        (
            "pg_cast('2024-02-30', 'date')",
            "22008",
            "date/time field value out of range: \"2024-02-30\"",
        ),
        ("pg_div(1, 0)", "22012", "division by zero"),
        ("pg_mod(1, 0)", "22012", "division by zero"),
        ("pg_div(1.5, 0.0)", "22012", "division by zero"),
        (
            "pg_split_part('a', ',', 0)",
            "22023",
            "field position must not be zero",
        ),
        (
            "pg_date_trunc('fortnight', '2024-01-01')",
            "22023",
            "timestamp units \"fortnight\" not recognized",
        ),
    ];
    for (expr, code, msg) in cases {
        let err = eval(&c, expr).unwrap_err();
        let text = match &err {
            rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
            other => other.to_string(),
        };
        let (state, m) = sqlstate_of_message(&text).unwrap_or_else(|| panic!("{expr}: {text}"));
        assert_eq!((state, m.as_str()), (code, msg), "{expr}");
        assert_eq!(error_from_message(&text).unwrap().sqlstate(), code);
    }
    assert_eq!(sqlstate_of_message("no such table: t"), None);
}
