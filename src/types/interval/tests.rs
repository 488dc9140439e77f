use super::*;
use crate::types::datetime::{format_timestamp, parse_timestamp};

fn show(s: &str) -> String {
    match Interval::parse(s) {
        Ok(iv) => iv.format(),
        Err(e) => format!("ERROR {}", e.sqlstate()),
    }
}

#[test]
fn input_and_output_are_postgresqls() {
    // Each pair was printed by PostgreSQL 15 (IntervalStyle postgres).
    let cases = [
        ("1 day", "1 day"),
        ("1day", "1 day"),
        ("-1 day +2 hours", "-1 days +02:00:00"),
        ("1 day -2 hours", "1 day -02:00:00"),
        ("-1 year 2 mons", "-10 mons"),
        ("1.5 years", "1 year 6 mons"),
        ("1.5 months", "1 mon 15 days"),
        ("1.5 weeks", "10 days 12:00:00"),
        ("1.5 days", "1 day 12:00:00"),
        ("10", "00:00:10"),
        ("1 12:00", "1 day 12:00:00"),
        ("1 +02:03", "1 day 02:03:00"),
        ("@ 1 hour ago", "-01:00:00"),
        ("1:30.5", "00:01:30.5"),
        ("1:59:60", "02:00:00"),
        ("P1Y2M3DT4H5M6.5S", "1 year 2 mons 3 days 04:05:06.5"),
        ("P1.5Y", "1 year 6 mons"),
        ("PT36H", "36:00:00"),
        ("1-2", "1 year 2 mons"),
        ("-1-2", "-1 years -2 mons"),
        ("2 hours 30 minutes", "02:30:00"),
        ("100000 hours", "100000:00:00"),
        ("0.000001 s", "00:00:00.000001"),
        ("0.0000005 s", "00:00:00"),
        ("1 microseconds", "00:00:00.000001"),
        ("3 millisecond", "00:00:00.003"),
        ("1.1234567 s", "00:00:01.123457"),
        (" 5 mins ", "00:05:00"),
        ("1 week 2 days", "9 days"),
        ("+1 day", "1 day"),
        ("1 decade 2 centuries", "210 years"),
        ("178000000 years", "178000000 years"),
        ("1 days ago 2 hours", "-1 days -02:00:00"),
        ("0", "00:00:00"),
        (
            "1 year 2 mons 3 days 04:05:06.789",
            "1 year 2 mons 3 days 04:05:06.789",
        ),
        ("-1 days -02:00:00", "-1 days -02:00:00"),
        ("1 2", "ERROR 22007"),
        ("1 day 2 day", "ERROR 22007"),
        ("25:61", "ERROR 22015"),
        ("ago", "ERROR 22007"),
        ("1 hour 1:00", "ERROR 22007"),
        ("", "ERROR 22007"),
        ("infinity", "ERROR 22007"),
        ("1 quarter", "ERROR 22007"),
        ("2147483648 days", "ERROR 22015"),
        ("day", "ERROR 22007"),
    ];
    for (input, want) in cases {
        assert_eq!(show(input), want, "{input:?}");
    }
}

#[test]
fn output_reads_back_as_the_same_value() {
    for s in [
        "1 year -2 mons +3 days -04:05:06.7",
        "-00:00:00.000001",
        "-178000000 years",
    ] {
        let iv = Interval::parse(s).unwrap();
        assert_eq!(Interval::parse(&iv.format()).unwrap(), iv, "{s}");
        assert_eq!(Interval::from_binary(&iv.to_binary()).unwrap(), iv);
    }
}

#[test]
fn comparison_counts_a_month_as_30_days() {
    use std::cmp::Ordering::*;
    assert_eq!(compare_text("1 day", "24:00:00"), Equal);
    assert_eq!(compare_text("1 mon", "30 days"), Equal);
    assert_eq!(compare_text("1 mon", "29 days 23:59:59"), Greater);
    assert_eq!(compare_text("-1 days", "00:00:00"), Less);
}

fn iv(s: &str) -> Interval {
    Interval::parse(s).unwrap()
}

fn ts(s: &str) -> i64 {
    parse_timestamp(s, false).unwrap()
}

#[test]
fn arithmetic_is_postgresqls() {
    assert_eq!(
        iv("1 mon 1 day").times(1.5).unwrap().format(),
        "1 mon 16 days 12:00:00"
    );
    assert_eq!(iv("1 day").divided_by(3.0).unwrap().format(), "08:00:00");
    assert_eq!(
        iv("1 mon").divided_by(7.0).unwrap().format(),
        "4 days 06:51:25.6896"
    );
    assert_eq!(iv("1 day").divided_by(0.0).unwrap_err().sqlstate(), "22012");
    let add = |t: &str, i: &str| format_timestamp(iv(i).add_to_timestamp(ts(t)).unwrap());
    assert_eq!(add("2024-01-31", "1 month"), "2024-02-29 00:00:00");
    assert_eq!(add("2024-02-29", "1 year"), "2025-02-28 00:00:00");
    assert_eq!(
        add("2024-03-31 10:00", "-1 mon -1 day"),
        "2024-02-28 10:00:00"
    );
    assert_eq!(
        Interval::between(ts("2024-01-02 01:00"), ts("2024-01-01"))
            .unwrap()
            .format(),
        "1 day 01:00:00"
    );
    let age = |a: &str, b: &str| Interval::age(ts(a), ts(b)).unwrap().format();
    assert_eq!(age("2024-03-01", "2024-01-31"), "1 mon 1 day");
    assert_eq!(
        age("2023-01-01", "2024-02-29 12:00"),
        "-1 years -1 mons -28 days -12:00:00"
    );
    assert_eq!(
        iv("35 days 25 hours").justify_interval().unwrap().format(),
        "1 mon 6 days 01:00:00"
    );
    assert_eq!(
        iv("1 mon -1 day").justify_days().unwrap().format(),
        "29 days"
    );
    assert_eq!(
        iv("-25 hours").justify_hours().unwrap().format(),
        "-1 days -01:00:00"
    );
    assert_eq!(
        iv("1 year 2 mons 3 days 04:05:06.5").part("epoch").unwrap(),
        "37015506.500000"
    );
    assert_eq!(iv("04:05:06.5").part("second").unwrap(), "6.500000");
    assert_eq!(iv("04:05:06.5").part("millisecond").unwrap(), "6500.000");
    assert_eq!(iv("-04:05:06").part("minute").unwrap(), "-5");
}
