//! Interval input, as far as a duration needs it (`pg_sleep_for`): the
//! `quantity unit` pairs of PostgreSQL's interval syntax
//! (`'1 minute 30 seconds'`, `'@ 2 hours ago'`, `'1.5 s'`), a clock
//! `[-]HH:MM[:SS[.frac]]`, or a bare number of seconds. Months and years,
//! whose length depends on the calendar, are refused with 0A000; anything
//! else PostgreSQL would not read fails with 22007. There is no interval
//! type yet: this is its parser's first part.

use crate::error::{Error, Result};

fn syntax(s: &str) -> Error {
    Error::InvalidDatetimeFormat(format!("invalid input syntax for type interval: \"{s}\""))
}

/// Seconds per unit, by the names PostgreSQL accepts.
fn unit_seconds(unit: &str) -> Option<f64> {
    Some(match unit {
        "microsecond" | "microseconds" | "us" | "usec" | "usecs" => 1e-6,
        "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" => 1e-3,
        "second" | "seconds" | "s" | "sec" | "secs" => 1.0,
        "minute" | "minutes" | "m" | "min" | "mins" => 60.0,
        "hour" | "hours" | "h" | "hr" | "hrs" => 3600.0,
        "day" | "days" | "d" => 86400.0,
        "week" | "weeks" | "w" => 7.0 * 86400.0,
        _ => return None,
    })
}

/// Units whose length depends on the calendar.
const CALENDAR_UNITS: &[&str] = &[
    "mon",
    "mons",
    "month",
    "months",
    "y",
    "yr",
    "yrs",
    "year",
    "years",
    "decade",
    "decades",
    "century",
    "centuries",
    "millennium",
    "millennia",
    "millenniums",
];

/// `[-]HH:MM[:SS[.frac]]` as seconds.
fn clock(t: &str) -> Option<f64> {
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let parts: Vec<&str> = t.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let h: f64 = parts[0].parse().ok()?;
    let m: f64 = parts[1].parse().ok()?;
    let s: f64 = parts.get(2).map_or(Some(0.0), |s| s.parse().ok())?;
    let total = h * 3600.0 + m * 60.0 + s;
    Some(if neg { -total } else { total })
}

/// The length of an interval given as text, in seconds.
pub fn parse_seconds(s: &str) -> Result<f64> {
    let lower = s.trim().to_lowercase();
    let mut words: Vec<&str> = lower.split_whitespace().collect();
    if words.first() == Some(&"@") {
        words.remove(0);
    }
    let ago = words.last() == Some(&"ago");
    if ago {
        words.pop();
    }
    if words.is_empty() {
        return Err(syntax(s));
    }
    let mut total = 0.0;
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if let Some(c) = w.contains(':').then(|| clock(w)) {
            total += c.ok_or_else(|| syntax(s))?;
            i += 1;
            continue;
        }
        // A number with its unit glued on (`10s`) or as the next word.
        let split = w.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(w.len());
        let (num, glued) = w.split_at(split);
        let n: f64 = num.parse().map_err(|_| syntax(s))?;
        let unit = if glued.is_empty() {
            i += 1;
            words.get(i).copied()
        } else {
            Some(glued)
        };
        let per = match unit {
            None => 1.0,
            Some(u) if CALENDAR_UNITS.contains(&u) => {
                return Err(Error::Unsupported(format!(
                    "interval \"{s}\" of months or years here"
                )))
            }
            Some(u) => unit_seconds(u).ok_or_else(|| syntax(s))?,
        };
        total += n * per;
        i += 1;
    }
    Ok(if ago { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_postgresql_reads_them() {
        let s = |t: &str| parse_seconds(t).unwrap();
        assert_eq!(s("1 second"), 1.0);
        assert_eq!(s("1 minute 30 seconds"), 90.0);
        assert_eq!(s("@ 2 hours ago"), -7200.0);
        assert_eq!(s("1.5 s"), 1.5);
        assert_eq!(s("10ms"), 0.01);
        assert_eq!(s("00:00:02.5"), 2.5);
        assert_eq!(s("1 day 01:00"), 90000.0);
        assert_eq!(s("3"), 3.0);
        assert_eq!(parse_seconds("soon").unwrap_err().sqlstate(), "22007");
        assert_eq!(
            parse_seconds("1 fortnight").unwrap_err().sqlstate(),
            "22007"
        );
        assert_eq!(parse_seconds("1 month").unwrap_err().sqlstate(), "0A000");
        assert_eq!(
            parse_seconds("2 centuries").unwrap_err().sqlstate(),
            "0A000"
        );
    }
}
