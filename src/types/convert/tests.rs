use super::*;
use Datum::{Blob, Int, Real, Text};

fn t(s: &str) -> Datum {
    Text(s.into())
}

/// (type, text input, stored value, text output); every row also
/// round-trips through the binary format.
#[test]
fn text_and_binary_round_trip() {
    let rows: Vec<(PgType, &str, Datum, &str)> = vec![
        (PgType::Bool, " TRUE ", Int(1), "t"),
        (PgType::Bool, "off", Int(0), "f"),
        (PgType::Bool, "y", Int(1), "t"),
        (PgType::Bool, "0", Int(0), "f"),
        (PgType::Int2, "-32768", Int(-32768), "-32768"),
        (PgType::Int4, " 42 ", Int(42), "42"),
        (PgType::Int4, "+7", Int(7), "7"),
        (
            PgType::Int8,
            "9223372036854775807",
            Int(i64::MAX),
            "9223372036854775807",
        ),
        (PgType::Float8, "1.5", Real(1.5), "1.5"),
        (PgType::Float8, "1e20", Real(1e20), "1e+20"),
        (PgType::Float8, "0.00001", Real(1e-5), "1e-05"),
        (
            PgType::Float8,
            "-Infinity",
            Real(f64::NEG_INFINITY),
            "-Infinity",
        ),
        (PgType::Float4, "0.1", Real(f64::from(0.1f32)), "0.1"),
        (PgType::Numeric(None), "2.5", t("2.5"), "2.5"),
        (PgType::Numeric(None), " 1.50 ", t("1.50"), "1.50"),
        (PgType::Numeric(Some((5, 2))), "1.005", t("1.01"), "1.01"),
        (PgType::Numeric(None), "NaN", t("NaN"), "NaN"),
        (
            PgType::Numeric(Some((20, 2))),
            "12345678901234567.89",
            t("12345678901234567.89"),
            "12345678901234567.89",
        ),
        (
            PgType::Numeric(None),
            "1e20",
            t("100000000000000000000"),
            "100000000000000000000",
        ),
        (PgType::Text, "héllo", t("héllo"), "héllo"),
        (PgType::Varchar(Some(3)), "abc  ", t("abc"), "abc"),
        (PgType::Bpchar(Some(4)), "ab", t("ab  "), "ab  "),
        (
            PgType::Bytea,
            "\\xDEADbeef",
            Blob(vec![0xde, 0xad, 0xbe, 0xef]),
            "\\xdeadbeef",
        ),
        (
            PgType::Bytea,
            "a\\\\b\\001",
            Blob(vec![b'a', b'\\', b'b', 1]),
            "\\x615c6201",
        ),
        (PgType::Date, "2024-02-29", t("2024-02-29"), "2024-02-29"),
        (PgType::Date, "1999-12-31", t("1999-12-31"), "1999-12-31"),
        (
            PgType::Timestamp,
            "2024-01-02T03:04:05",
            t("2024-01-02 03:04:05"),
            "2024-01-02 03:04:05",
        ),
        (
            PgType::Timestamp,
            "2024-01-02 03:04:05.120",
            t("2024-01-02 03:04:05.12"),
            "2024-01-02 03:04:05.12",
        ),
        (
            PgType::Timestamptz,
            "2024-01-02 03:04:05+02",
            t("2024-01-02 01:04:05"),
            "2024-01-02 01:04:05+00",
        ),
        (
            PgType::Timestamptz,
            "1990-06-01 00:00:00Z",
            t("1990-06-01 00:00:00"),
            "1990-06-01 00:00:00+00",
        ),
        (
            PgType::Uuid,
            "{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}",
            t("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        ),
        (
            PgType::Uuid,
            "a0eebc999c0b4ef8bb6d6bb9bd380a11",
            t("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        ),
        (
            PgType::Json,
            "{\"b\":1, \"a\":2}",
            t("{\"b\":1, \"a\":2}"),
            "{\"b\":1, \"a\":2}",
        ),
        (
            PgType::Jsonb,
            "{\"b\":[1,2],\"a\":1}",
            t("{\"a\": 1, \"b\": [1, 2]}"),
            "{\"a\": 1, \"b\": [1, 2]}",
        ),
    ];
    for (ty, input, stored, output) in rows {
        let got = ty.parse_text(input).unwrap();
        assert_eq!(got, stored, "{ty:?} {input}");
        assert_eq!(
            ty.render_text(&got).as_deref(),
            Some(output),
            "{ty:?} {input}"
        );
        let bin = ty.render_binary(&got).unwrap().unwrap();
        assert_eq!(
            ty.parse_binary(&bin).unwrap(),
            stored,
            "{ty:?} binary {input}"
        );
    }
}

#[test]
fn binary_encodings_match_postgres() {
    let d = |s: &str| Text(s.into());
    assert_eq!(
        PgType::Date.render_binary(&d("2000-01-02")).unwrap(),
        Some(vec![0, 0, 0, 1])
    );
    assert_eq!(
        PgType::Timestamp
            .render_binary(&d("2000-01-01 00:00:01"))
            .unwrap(),
        Some(1_000_000i64.to_be_bytes().to_vec())
    );
    assert_eq!(
        PgType::Int2.render_binary(&Int(-2)).unwrap(),
        Some(vec![0xff, 0xfe])
    );
    assert!(PgType::Int2.render_binary(&Int(70000)).is_err());
    assert_eq!(
        PgType::Jsonb.render_binary(&d("1")).unwrap(),
        Some(vec![1, b'1'])
    );
    // An int8 parameter declared int4, and psycopg's int2 for an int8 column.
    assert_eq!(
        PgType::Int4.parse_binary(&5i64.to_be_bytes()).unwrap(),
        Int(5)
    );
    assert_eq!(
        PgType::Int8.parse_binary(&5i16.to_be_bytes()).unwrap(),
        Int(5)
    );
    assert!(PgType::Int4
        .parse_binary(&(1i64 << 40).to_be_bytes())
        .is_err());
    assert_eq!(PgType::Bool.render_binary(&Datum::Null).unwrap(), None);
}

#[test]
fn bad_input_gets_postgres_errors() {
    let cases: Vec<(PgType, &str, &str, &str)> = vec![
        (
            PgType::Int4,
            "abc",
            "22P02",
            "invalid input syntax for type integer: \"abc\"",
        ),
        (
            PgType::Int4,
            "1.5",
            "22P02",
            "invalid input syntax for type integer: \"1.5\"",
        ),
        (
            PgType::Int4,
            "2147483648",
            "22003",
            "value \"2147483648\" is out of range for type integer",
        ),
        (
            PgType::Int2,
            "40000",
            "22003",
            "value \"40000\" is out of range for type smallint",
        ),
        (
            PgType::Int8,
            "",
            "22P02",
            "invalid input syntax for type bigint: \"\"",
        ),
        (
            PgType::Bool,
            "maybe",
            "22P02",
            "invalid input syntax for type boolean: \"maybe\"",
        ),
        (
            PgType::Bool,
            "o",
            "22P02",
            "invalid input syntax for type boolean: \"o\"",
        ),
        (
            PgType::Float8,
            "1e400",
            "22003",
            "\"1e400\" is out of range for type double precision",
        ),
        (
            PgType::Float8,
            "x",
            "22P02",
            "invalid input syntax for type double precision: \"x\"",
        ),
        (
            PgType::Numeric(None),
            "1.2.3",
            "22P02",
            "invalid input syntax for type numeric: \"1.2.3\"",
        ),
        (
            PgType::Numeric(Some((3, 1))),
            "100",
            "22003",
            "numeric field overflow\nDETAIL: A field with precision 3, scale 1 must round to an absolute value less than 10^2.",
        ),
        (
            PgType::Varchar(Some(2)),
            "abc",
            "22001",
            "value too long for type character varying(2)",
        ),
        (
            PgType::Bpchar(Some(2)),
            "abc",
            "22001",
            "value too long for type character(2)",
        ),
        (
            PgType::Date,
            "2024-02-30",
            "22008",
            "date/time field value out of range: \"2024-02-30\"",
        ),
        (
            PgType::Date,
            "soon",
            "22007",
            "invalid input syntax for type date: \"soon\"",
        ),
        (
            PgType::Timestamptz,
            "x",
            "22007",
            "invalid input syntax for type timestamp with time zone: \"x\"",
        ),
        (
            PgType::Uuid,
            "1234",
            "22P02",
            "invalid input syntax for type uuid: \"1234\"",
        ),
        (
            PgType::Json,
            "{",
            "22P02",
            "invalid input syntax for type json",
        ),
        (
            PgType::Jsonb,
            "[1,",
            "22P02",
            "invalid input syntax for type json",
        ),
        (
            PgType::Bytea,
            "\\x1",
            "22P02",
            "invalid hexadecimal data: odd number of digits",
        ),
    ];
    for (ty, input, code, msg) in cases {
        let err = ty.parse_text(input).unwrap_err();
        let text = match err.detail() {
            Some(d) => format!("{err}\nDETAIL: {d}"),
            None => err.to_string(),
        };
        assert_eq!(
            (err.sqlstate(), text.as_str()),
            (code, msg),
            "{ty:?} {input}"
        );
    }
}

#[test]
fn mixed_storage_renders_as_the_declared_type() {
    assert_eq!(PgType::Float8.render_text(&Int(3)).as_deref(), Some("3"));
    assert_eq!(
        PgType::Numeric(None).render_text(&Int(3)).as_deref(),
        Some("3")
    );
    assert_eq!(PgType::Int8.render_text(&Real(4.0)).as_deref(), Some("4"));
    assert_eq!(PgType::Int8.render_text(&Real(4.5)).as_deref(), Some("4.5"));
    assert_eq!(
        PgType::Float8.render_binary(&Int(3)).unwrap(),
        Some(3f64.to_be_bytes().to_vec())
    );
}
