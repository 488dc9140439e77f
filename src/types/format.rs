//! `to_char`'s templates for dates, timestamps and intervals, as
//! PostgreSQL's formatting.c reads them: keywords (`YYYY`, `Month`,
//! `HH24`, `IW`, …, matched longest first, their case choosing the case of
//! names), the `FM` prefix (no padding), the `TH`/`th` suffix (ordinal),
//! double-quoted text and any other character copied. A timestamptz's
//! parts are its wall time in the session's zone, with that zone's offset
//! and abbreviation (`TZ`, `OF`, `TZH`, `TZM`).

use crate::error::{Error, Result};

pub mod number;
mod parse;
pub use parse::parse;

/// A moment broken into the fields templates read.
#[derive(Debug, Clone, Default)]
pub struct Parts {
    pub year: i64,
    /// 1–12 (for an interval: 0–11).
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
    pub micros: i64,
    /// Day of the year, 1-based (for an interval: its span in days).
    pub yday: i64,
    /// Days since 1970-01-01 (not for an interval).
    pub days: i64,
    /// A timestamptz's offset in the session's zone, seconds east.
    pub offset: i64,
    /// A timestamptz's zone abbreviation there (`CEST`, `UTC`, `-03`).
    pub zone: String,
}

/// What the value is, for the keywords that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Timestamp,
    Timestamptz,
    Interval,
}

impl Parts {
    /// The parts of a timestamp (microseconds since the Unix epoch).
    pub fn of_timestamp(ts: i64) -> Parts {
        use super::datetime::{civil_from_days, days_from_civil, MICROS_PER_DAY};
        let days = ts.div_euclid(MICROS_PER_DAY);
        let tod = ts.rem_euclid(MICROS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        Parts {
            year: y,
            month: i64::from(m),
            day: i64::from(d),
            hour: tod / 3_600_000_000,
            minute: tod / 60_000_000 % 60,
            second: tod / 1_000_000 % 60,
            micros: tod % 1_000_000,
            yday: days - days_from_civil(y, 1, 1) + 1,
            days,
            ..Parts::default()
        }
    }

    /// The parts of an interval, as PostgreSQL's interval_to_char sees them.
    pub fn of_interval(iv: &super::interval::Interval) -> Parts {
        let t = iv.micros;
        let year = i64::from(iv.months / 12);
        let month = i64::from(iv.months % 12);
        Parts {
            year,
            month,
            day: i64::from(iv.days),
            hour: t / 3_600_000_000,
            minute: t / 60_000_000 % 60,
            second: t / 1_000_000 % 60,
            micros: t % 1_000_000,
            yday: (year * 12 + month) * 30 + i64::from(iv.days),
            ..Parts::default()
        }
    }

    /// 0 for Sunday.
    fn dow(&self) -> i64 {
        (self.days + 4).rem_euclid(7)
    }

    fn isodow(&self) -> i64 {
        match self.dow() {
            0 => 7,
            d => d,
        }
    }

    /// The ISO year and week.
    fn iso(&self) -> (i64, i64) {
        use super::datetime::{civil_from_days, days_from_civil};
        let thursday = self.days - self.isodow() + 4;
        let (iy, _, _) = civil_from_days(thursday);
        (iy, (thursday - days_from_civil(iy, 1, 1)) / 7 + 1)
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const ROMAN: [&str; 12] = [
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
];

/// The keywords, each spelled as PostgreSQL's table spells it; the
/// longest match at a position wins.
const KEYWORDS: &[&str] = &[
    "A.D.", "A.M.", "AD", "AM", "B.C.", "BC", "CC", "DAY", "DDD", "DD", "DY", "Day", "Dy", "D",
    "FF1", "FF2", "FF3", "FF4", "FF5", "FF6", "FX", "HH24", "HH12", "HH", "IDDD", "ID", "IW",
    "IYYY", "IYY", "IY", "I", "J", "MI", "MM", "MONTH", "MON", "MS", "Month", "Mon", "OF", "P.M.",
    "PM", "Q", "RM", "SSSSS", "SSSS", "SS", "TZH", "TZM", "TZ", "US", "WW", "W", "Y,YYY", "YYYY",
    "YYY", "YY", "Y", "a.d.", "a.m.", "ad", "am", "b.c.", "bc", "cc", "day", "ddd", "dd", "dy",
    "d", "ff1", "ff2", "ff3", "ff4", "ff5", "ff6", "fx", "hh24", "hh12", "hh", "iddd", "id", "iw",
    "iyyy", "iyy", "iy", "i", "j", "mi", "mm", "month", "mon", "ms", "of", "p.m.", "pm", "q", "rm",
    "sssss", "ssss", "ss", "tzh", "tzm", "tz", "us", "ww", "w", "y,yyy", "yyyy", "yyy", "yy", "y",
];

fn keyword_at(s: &str) -> Option<&'static str> {
    KEYWORDS
        .iter()
        .filter(|k| s.starts_with(**k))
        .max_by_key(|k| k.len())
        .copied()
}

/// `v` zero-padded to `width` digits (none under FM), as `%0*d` prints.
fn padded(v: i64, width: usize, fm: bool) -> String {
    if fm {
        v.to_string()
    } else {
        format!("{v:0width$}")
    }
}

/// `name` in the case the keyword is written in: `MONTH`, `Month`, `month`.
fn cased(name: &str, key: &str) -> String {
    if key.chars().all(|c| !c.is_ascii_lowercase()) {
        name.to_uppercase()
    } else if key.chars().all(|c| !c.is_ascii_uppercase()) {
        name.to_lowercase()
    } else {
        name.to_string()
    }
}

/// A name, blank-padded to 9 characters unless under FM.
fn name(name: &str, key: &str, pad: bool, fm: bool) -> String {
    let n = cased(name, key);
    if pad && !fm {
        format!("{n:<9}")
    } else {
        n
    }
}

/// The English ordinal suffix of the number ending `s`.
fn ordinal(s: &str, upper: bool) -> &'static str {
    let digits: Vec<char> = s.chars().filter(|c| c.is_ascii_digit()).collect();
    let last = digits.last().copied().unwrap_or('0');
    let teen = digits.len() >= 2 && digits[digits.len() - 2] == '1';
    let lower = match last {
        _ if teen => "th",
        '1' => "st",
        '2' => "nd",
        '3' => "rd",
        _ => "th",
    };
    match (upper, lower) {
        (false, l) => l,
        (true, "st") => "ST",
        (true, "nd") => "ND",
        (true, "rd") => "RD",
        (true, _) => "TH",
    }
}

fn for_interval() -> Error {
    Error::InvalidDatetimeFormat("invalid format specification for an interval value".into())
        .with_hint("Intervals are not tied to specific calendar dates.")
}

/// One keyword's text.
fn keyword(key: &str, p: &Parts, kind: Kind, fm: bool) -> Result<String> {
    let interval = kind == Kind::Interval;
    let upper = key.to_ascii_uppercase();
    if interval {
        if matches!(
            upper.as_str(),
            "MONTH" | "MON" | "DAY" | "DY" | "D" | "ID" | "TZ" | "OF" | "TZH" | "TZM"
        ) {
            return Err(for_interval());
        }
        if matches!(
            upper.as_str(),
            "W" | "WW"
                | "IW"
                | "IYYY"
                | "IYY"
                | "IY"
                | "I"
                | "IDDD"
                | "J"
                | "RM"
                | "Q"
                | "A.D."
                | "AD"
                | "B.C."
                | "BC"
        ) {
            return Err(Error::Unsupported(format!(
                "to_char of an interval with \"{key}\""
            )));
        }
    }
    // An interval's negative field is printed one digit wider (its sign
    // counts), as PostgreSQL's `%0*d` with a wider width prints it.
    let wide = |v: i64, w: usize| if interval && v < 0 { w + 1 } else { w };
    let hour12 = match p.hour % 12 {
        0 => 12,
        h => h,
    };
    if let Some(t) = text_keyword(&upper, key, p, kind, fm) {
        return Ok(t);
    }
    Ok(match upper.as_str() {
        "DDD" => padded(p.yday, 3, fm),
        "DD" => padded(p.day, 2, fm),
        "D" => (p.dow() + 1).to_string(),
        "ID" => p.isodow().to_string(),
        "FF1" | "FF2" | "FF3" | "FF4" | "FF5" | "FF6" => {
            let n: u32 = upper[2..].parse().unwrap_or(6);
            padded(p.micros / 10i64.pow(6 - n), n as usize, false)
        }
        "FX" => String::new(),
        "HH24" => padded(p.hour, wide(p.hour, 2), fm),
        "HH12" | "HH" => {
            let h = if interval {
                hour12_of_interval(p.hour)
            } else {
                hour12
            };
            padded(h, wide(p.hour, 2), fm)
        }
        "IDDD" => {
            let (_, w) = p.iso();
            padded((w - 1) * 7 + p.isodow(), 3, fm)
        }
        "IW" => padded(p.iso().1, 2, fm),
        "IYYY" => padded(p.iso().0, 4, fm),
        "IYY" => padded(p.iso().0 % 1000, 3, fm),
        "IY" => padded(p.iso().0 % 100, 2, fm),
        "I" => (p.iso().0 % 10).to_string(),
        "J" => (p.days + 2_440_588).to_string(),
        "MI" => padded(p.minute, wide(p.minute, 2), fm),
        "MM" => padded(p.month, wide(p.month, 2), fm),
        "MS" => padded(p.micros / 1000, wide(p.micros, 3), false),
        "US" => padded(p.micros, wide(p.micros, 6), false),
        "Q" => ((p.month - 1) / 3 + 1).to_string(),
        "SSSSS" | "SSSS" => (p.hour * 3600 + p.minute * 60 + p.second).to_string(),
        "SS" => padded(p.second, wide(p.second, 2), fm),
        "WW" => padded((p.yday - 1) / 7 + 1, 2, fm),
        "W" => ((p.day - 1) / 7 + 1).to_string(),
        "Y,YYY" => {
            let th = p.year / 1000;
            format!("{th},{:03}", p.year - th * 1000)
        }
        "YYYY" => padded(p.year, wide(p.year, 4), fm),
        "YYY" => padded(p.year % 1000, wide(p.year, 3), fm),
        "YY" => padded(p.year % 100, wide(p.year, 2), fm),
        "Y" => (p.year % 10).to_string(),
        _ => key.to_string(),
    })
}
/// The keywords that write names, eras, half-days, centuries, months in
/// Roman numerals and zones; `None` for the numeric ones.
fn text_keyword(upper: &str, key: &str, p: &Parts, kind: Kind, fm: bool) -> Option<String> {
    let interval = kind == Kind::Interval;
    Some(match upper {
        "A.D." | "AD" | "B.C." | "BC" => {
            let era = if p.year > 0 { "AD" } else { "BC" };
            let dotted = key.contains('.');
            let t = if dotted {
                format!("{}.{}.", &era[..1], &era[1..])
            } else {
                era.to_string()
            };
            cased(&t, key)
        }
        "A.M." | "AM" | "P.M." | "PM" => {
            let half = if p.hour % 24 < 12 { "AM" } else { "PM" };
            let t = if key.contains('.') {
                format!("{}.{}.", &half[..1], &half[1..])
            } else {
                half.to_string()
            };
            cased(&t, key)
        }
        "CC" => {
            let c = if interval {
                p.year / 100
            } else if p.year > 0 {
                (p.year - 1) / 100 + 1
            } else {
                p.year / 100 - 1
            };
            if (-99..=99).contains(&c) {
                let w = if c >= 0 { 2 } else { 3 };
                padded(c, w, fm)
            } else {
                c.to_string()
            }
        }
        "DAY" => name(DAYS[p.dow() as usize], key, true, fm),
        "DY" => name(&DAYS[p.dow() as usize][..3], key, false, fm),
        "MONTH" => name(MONTHS[(p.month - 1).clamp(0, 11) as usize], key, true, fm),
        "MON" => name(
            &MONTHS[(p.month - 1).clamp(0, 11) as usize][..3],
            key,
            false,
            fm,
        ),
        // FM does not shorten fractions.
        "TZH" => padded_sign(p.offset / 3600, fm),
        "TZM" => padded((p.offset.abs() / 60) % 60, 2, fm),
        "OF" => match p.offset.abs() / 60 % 60 {
            0 => padded_sign(p.offset / 3600, fm),
            m => format!("{}:{m:02}", padded_sign(p.offset / 3600, fm)),
        },
        "TZ" => match kind {
            Kind::Timestamptz if p.zone.is_empty() => cased("UTC", key),
            Kind::Timestamptz => cased(&p.zone, key),
            _ => String::new(),
        },
        "RM" => {
            let r = ROMAN[(p.month - 1).clamp(0, 11) as usize];
            let r = if key == "rm" {
                r.to_lowercase()
            } else {
                r.to_string()
            };
            if fm {
                r
            } else {
                format!("{r:<4}")
            }
        }
        _ => return None,
    })
}

/// An interval's HH/HH12: hours modulo 12, 0 shown as 12.
fn hour12_of_interval(h: i64) -> i64 {
    match h % 12 {
        0 => 12,
        r => r,
    }
}

/// A zone offset's hours with their sign (`+00`).
fn padded_sign(hours: i64, fm: bool) -> String {
    let sign = if hours >= 0 { '+' } else { '-' };
    format!("{sign}{}", padded(hours.abs(), 2, fm))
}

/// `to_char(value, template)` of the broken-down value `p`.
pub fn to_char(p: &Parts, template: &str, kind: Kind) -> Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while !rest.is_empty() {
        let mut fm = false;
        let mut body = rest;
        for prefix in ["FM", "fm", "TM", "tm"] {
            if let Some(after) = body.strip_prefix(prefix) {
                if keyword_at(after).is_some() {
                    fm |= prefix.eq_ignore_ascii_case("fm");
                    body = after;
                }
            }
        }
        if let Some(key) = keyword_at(body) {
            let text = keyword(key, p, kind, fm)?;
            rest = &body[key.len()..];
            let th = ["TH", "th"].into_iter().find(|s| rest.starts_with(s));
            out.push_str(&text);
            if let Some(suffix) = th {
                out.push_str(ordinal(&text, suffix == "TH"));
                rest = &rest[2..];
            }
            continue;
        }
        let mut chars = rest.chars();
        let Some(c) = chars.next() else { break };
        match c {
            '"' => {
                let mut lit = chars.as_str();
                while let Some(ch) = lit.chars().next() {
                    lit = &lit[ch.len_utf8()..];
                    match ch {
                        '"' => break,
                        '\\' => {
                            if let Some(next) = lit.chars().next() {
                                out.push(next);
                                lit = &lit[next.len_utf8()..];
                            }
                        }
                        other => out.push(other),
                    }
                }
                rest = lit;
            }
            '\\' if chars.as_str().starts_with('"') => {
                out.push('"');
                rest = &chars.as_str()[1..];
            }
            other => {
                out.push(other);
                rest = chars.as_str();
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::datetime::parse_timestamp;

    fn fmt(ts: &str, template: &str) -> String {
        let p = Parts::of_timestamp(parse_timestamp(ts, false).unwrap());
        to_char(&p, template, Kind::Timestamp).unwrap()
    }

    #[test]
    fn templates_read_as_postgresql_reads_them() {
        let t = "2024-02-29 13:05:09.123456";
        assert_eq!(
            fmt(t, "YYYY-MM-DD HH24:MI:SS.US"),
            "2024-02-29 13:05:09.123456"
        );
        assert_eq!(
            fmt(t, "Day, DDth Month YYYY"),
            "Thursday , 29th February  2024"
        );
        assert_eq!(fmt(t, "FMDay, FMDDth FMMonth"), "Thursday, 29th February");
        assert_eq!(fmt(t, "HH12:MI AM dy mon"), "01:05 PM thu feb");
        assert_eq!(fmt(t, "\"at\" hh24 \"o'clock\""), "at 13 o'clock");
        assert_eq!(fmt("2021-01-03 12:00", "IYYY-IW-ID"), "2020-53-7");
        assert_eq!(fmt("2024-01-01", "J Q CC RM"), "2460311 1 21 I   ");
        assert_eq!(fmt("2024-01-01", "Y,YYY"), "2,024");
    }
}
