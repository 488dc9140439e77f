//! `to_timestamp(text, template)` and `to_date(text, template)`: the input
//! read by the same keywords `to_char` writes, as PostgreSQL reads it
//! outside FX mode. Blanks before a field are skipped; a separator in the
//! template matches one separator in the input or nothing; a number takes
//! as many digits as its field holds when another field follows at once,
//! else every digit there is; names match without regard to case; a year
//! of fewer than four digits is taken nearest to 2020.

use super::{keyword_at, DAYS, MONTHS};
use crate::error::{Error, Result};
use crate::types::datetime::{days_from_civil, days_in_month, MICROS_PER_DAY};

/// What the input gave.
#[derive(Default)]
struct Read {
    year: Option<i64>,
    /// Digits the year was written with (a short one is taken near 2020).
    year_digits: usize,
    month: Option<i64>,
    day: Option<i64>,
    yday: Option<i64>,
    julian: Option<i64>,
    hour: i64,
    hour12: bool,
    pm: Option<bool>,
    minute: i64,
    second: i64,
    micros: i64,
    /// Seconds east of UTC (TZH/TZM).
    offset: i64,
    offset_negative: bool,
    /// ISO year, week and day of the week (IYYY, IW, ID).
    iso_year: Option<i64>,
    iso_week: Option<i64>,
    iso_day: Option<i64>,
}

fn invalid(value: &str, key: &str) -> Error {
    Error::InvalidDatetimeFormat(format!("invalid value \"{value}\" for \"{key}\""))
        .with_detail("Value must be an integer.")
}

fn out_of_range(input: &str) -> Error {
    Error::DatetimeFieldOverflow(format!("date/time field value out of range: \"{input}\""))
}

/// The widest a number of this keyword is written.
fn width(key: &str) -> usize {
    match key.to_ascii_uppercase().as_str() {
        "YYYY" | "IYYY" => 4,
        "YYY" | "IYY" | "DDD" | "IDDD" | "MS" => 3,
        "US" => 6,
        "SSSS" | "SSSSS" => 5,
        "J" => 10,
        "Y" | "I" | "D" | "ID" | "Q" | "W" => 1,
        k if k.starts_with("FF") => k[2..].parse().unwrap_or(6),
        _ => 2,
    }
}

fn is_separator(c: char) -> bool {
    !c.is_alphanumeric()
}

/// A number of `key` at the start of `s`: the text it takes and its value.
fn number<'a>(s: &'a str, key: &str, fixed: bool) -> Result<(i64, &'a str, usize)> {
    let s = s.trim_start();
    let w = width(key);
    let sign = usize::from(s.starts_with(['-', '+']));
    let digits = s[sign..]
        .char_indices()
        .take_while(|(i, c)| c.is_ascii_digit() && (!fixed || *i < w))
        .count();
    if digits == 0 {
        let shown: String = s.chars().take(w).collect();
        return Err(invalid(&shown, key));
    }
    let text = &s[..sign + digits];
    let v = text.parse::<i64>().map_err(|_| invalid(text, key))?;
    Ok((v, &s[sign + digits..], digits))
}

/// The index of the name in `names` that `s` starts with (case aside),
/// the whole name or, with `short`, its first three letters.
fn name<'a>(s: &'a str, names: &[&str], short: bool, key: &str) -> Result<(usize, &'a str)> {
    let s = s.trim_start();
    for (i, n) in names.iter().enumerate() {
        let n = if short { &n[..3] } else { n };
        if s.len() >= n.len() && s[..n.len()].eq_ignore_ascii_case(n) {
            return Ok((i, &s[n.len()..]));
        }
    }
    let shown: String = s.chars().take_while(|c| c.is_alphabetic()).collect();
    Err(
        Error::InvalidDatetimeFormat(format!("invalid value \"{shown}\" for \"{key}\""))
            .with_detail("The given value did not match any of the allowed values for this field."),
    )
}

impl Read {
    /// One keyword's field from the start of `s`; what is left of `s`.
    fn field<'a>(&mut self, key: &str, s: &'a str, fixed: bool) -> Result<&'a str> {
        let upper = key.to_ascii_uppercase();
        match upper.as_str() {
            "MONTH" | "MON" => {
                let (i, rest) = name(s, &MONTHS, upper == "MON", key)?;
                self.month = Some(i as i64 + 1);
                return Ok(rest);
            }
            "DAY" | "DY" => return Ok(name(s, &DAYS, upper == "DY", key)?.1),
            "AM" | "PM" | "A.M." | "P.M." => {
                let t = s.trim_start();
                let dotted = upper.contains('.');
                let (am, pm) = if dotted {
                    ("a.m.", "p.m.")
                } else {
                    ("am", "pm")
                };
                let n = am.len();
                let head = t.get(..n).unwrap_or("");
                let pm_now = if head.eq_ignore_ascii_case(pm) {
                    true
                } else if head.eq_ignore_ascii_case(am) {
                    false
                } else {
                    return Err(name(t, &[], false, key)
                        .err()
                        .unwrap_or_else(|| invalid(t, key)));
                };
                self.pm = Some(pm_now);
                return Ok(&t[n..]);
            }
            "TZ" | "OF" => {
                return Err(Error::Unsupported(format!(
                    "the \"{key}\" field in to_timestamp and to_date"
                )))
            }
            "FX" => return Ok(s),
            "TZH" => {
                let t = s.trim_start();
                self.offset_negative = t.starts_with('-');
                let (v, rest, _) = number(t, key, fixed)?;
                self.offset = v * 3600;
                return Ok(rest);
            }
            "TZM" => {
                let (v, rest, _) = number(s, key, fixed)?;
                let m = if self.offset_negative { -v } else { v };
                self.offset += m * 60;
                return Ok(rest);
            }
            _ => {}
        }
        let (v, rest, digits) = number(s, key, fixed)?;
        match upper.as_str() {
            "YYYY" | "YYY" | "YY" | "Y" | "Y,YYY" => {
                self.year = Some(v);
                self.year_digits = digits;
            }
            "MM" => self.month = Some(v),
            "DD" => self.day = Some(v),
            "DDD" => self.yday = Some(v),
            "IYYY" => self.iso_year = Some(v),
            "IW" => self.iso_week = Some(v),
            "ID" => self.iso_day = Some(v),
            "J" => self.julian = Some(v),
            "HH" | "HH12" => {
                if !(1..=12).contains(&v) {
                    return Err(Error::InvalidDatetimeFormat(format!(
                        "hour \"{v}\" is invalid for the 12-hour clock"
                    ))
                    .with_hint("Use the 24-hour clock, or give an hour between 1 and 12."));
                }
                self.hour = v;
                self.hour12 = true;
            }
            "HH24" => self.hour = v,
            "MI" => self.minute = v,
            "SS" => self.second = v,
            "MS" => self.micros = v * 10i64.pow(3 - digits.min(3) as u32) * 1000,
            "US" => self.micros = v * 10i64.pow(6 - digits.min(6) as u32),
            k if k.starts_with("FF") => self.micros = v * 10i64.pow(6 - digits.min(6) as u32),
            "SSSS" | "SSSSS" => {
                self.hour = v / 3600;
                self.minute = v / 60 % 60;
                self.second = v % 60;
            }
            // Read and not used, as PostgreSQL uses them only with the
            // fields they qualify.
            _ => {}
        }
        Ok(rest)
    }

    /// Microseconds since the Unix epoch, checked field by field.
    fn moment(&self, input: &str) -> Result<i64> {
        let bad = || out_of_range(input);
        let mut year = self.year.unwrap_or(0);
        if self.year.is_some() && self.year_digits < 4 {
            year = match year {
                y if y < 70 => y + 2000,
                y if y < 100 => y + 1900,
                y if y < 520 => y + 2000,
                y if y < 1000 => y + 1000,
                y => y,
            };
        }
        let days = if let Some(j) = self.julian {
            j - 2_440_588
        } else if let (Some(iy), Some(iw)) = (self.iso_year, self.iso_week) {
            // Monday of ISO week 1 is the Monday on or before January 4th.
            let jan4 = days_from_civil(iy, 1, 4);
            let monday = jan4 - (jan4 + 3).rem_euclid(7);
            monday + (iw - 1) * 7 + self.iso_day.unwrap_or(1) - 1
        } else if let Some(yd) = self.yday.filter(|_| self.month.is_none()) {
            days_from_civil(year, 1, 1) + yd - 1
        } else {
            let month = self.month.unwrap_or(1);
            let day = self.day.unwrap_or(1);
            if !(1..=12).contains(&month) {
                return Err(bad());
            }
            let m = month as u32;
            let last = days_in_month(year, m);
            if !(1..=i64::from(last)).contains(&day) {
                return Err(bad());
            }
            days_from_civil(year, m, day as u32)
        };
        let mut hour = self.hour;
        if self.hour12 || self.pm.is_some() {
            hour %= 12;
            if self.pm == Some(true) {
                hour += 12;
            }
        }
        if !(0..24).contains(&hour)
            || !(0..60).contains(&self.minute)
            || !(0..=60).contains(&self.second)
        {
            return Err(bad());
        }
        let tod = ((hour * 60 + self.minute) * 60 + self.second) * 1_000_000 + self.micros;
        Ok(days * MICROS_PER_DAY + tod - self.offset * 1_000_000)
    }
}

/// `to_timestamp(input, template)` as microseconds since the Unix epoch
/// (UTC); `to_date` takes its day.
pub fn parse(input: &str, template: &str) -> Result<i64> {
    let mut read = Read::default();
    let mut s = input;
    let mut t = template;
    while !t.is_empty() {
        let mut body = t;
        for prefix in ["FM", "fm", "TM", "tm", "FX", "fx"] {
            if let Some(after) = body.strip_prefix(prefix) {
                if keyword_at(after).is_some() {
                    body = after;
                }
            }
        }
        if let Some(key) = keyword_at(body) {
            let after = &body[key.len()..];
            let after = ["TH", "th"]
                .iter()
                .find_map(|x| after.strip_prefix(x))
                .unwrap_or(after);
            // A field followed at once by another reads its width only.
            let fixed = keyword_at(after.trim_start_matches(['F', 'M'])).is_some()
                && !after.starts_with(is_separator);
            if s.trim_start().is_empty() {
                break;
            }
            s = read.field(key, s, fixed)?;
            t = after;
            continue;
        }
        let mut chars = t.chars();
        let Some(c) = chars.next() else { break };
        t = chars.as_str();
        if c == '"' {
            // Quoted text skips as many characters of the input.
            let end = t.find('"').unwrap_or(t.len());
            let n = t[..end].chars().count();
            s = skip_chars(s, n);
            t = t.get(end + 1..).unwrap_or("");
        } else if is_separator(c) {
            let trimmed = s.trim_start();
            if c.is_whitespace() {
                s = trimmed;
            } else if let Some(next) = trimmed.chars().next().filter(|n| is_separator(*n)) {
                s = &trimmed[next.len_utf8()..];
            }
        } else {
            s = skip_chars(s, 1);
        }
    }
    read.moment(input)
}

fn skip_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[i..],
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::types::datetime::format_timestamp;

    fn read(input: &str, template: &str) -> String {
        match parse(input, template) {
            Ok(ts) => format_timestamp(ts),
            Err(e) => format!("ERROR {}", e.sqlstate()),
        }
    }

    #[test]
    fn input_reads_as_postgresql_reads_it() {
        // Each answer is PostgreSQL 15's.
        assert_eq!(read("2024-1-5", "YYYY-MM-DD"), "2024-01-05 00:00:00");
        assert_eq!(read("20240115", "YYYYMMDD"), "2024-01-15 00:00:00");
        assert_eq!(read("24-01-15", "YY-MM-DD"), "2024-01-15 00:00:00");
        assert_eq!(read("2024/01/15", "YYYY-MM-DD"), "2024-01-15 00:00:00");
        assert_eq!(
            read("15 JANUARY 2024", "DD Month YYYY"),
            "2024-01-15 00:00:00"
        );
        assert_eq!(
            read("2024-01-15 01:30 PM", "YYYY-MM-DD HH:MI AM"),
            "2024-01-15 13:30:00"
        );
        assert_eq!(read("2024 100", "YYYY DDD"), "2024-04-09 00:00:00");
        assert_eq!(
            read("2024-01-15 10:20 +02", "YYYY-MM-DD HH24:MI TZH"),
            "2024-01-15 08:20:00"
        );
        assert_eq!(read("2024-09-4", "IYYY-IW-ID"), "2024-02-29 00:00:00");
        assert_eq!(read("2024-13-01", "YYYY-MM-DD"), "ERROR 22008");
        assert_eq!(read("abc", "YYYY"), "ERROR 22007");
        assert_eq!(read("2024x01x15", "YYYY-MM-DD"), "ERROR 22007");
        assert_eq!(read("2024-01-15 13:00", "YYYY-MM-DD HH:MI"), "ERROR 22007");
    }
}
