//! An interval's field qualifier and seconds precision (`INTERVAL '1.5'
//! DAY`, `INTERVAL '…' HOUR TO MINUTE`, `SECOND(2)`, `INTERVAL(2) '…'`):
//! how the text is read (a bare number is a count of the rightmost field;
//! `m:s` under MINUTE TO SECOND) and which fields the value keeps, as
//! PostgreSQL's `AdjustIntervalForTypmod` drops the lower ones and rounds
//! the seconds.

use super::Interval;
use crate::error::{Error, Result};

const MICROS_PER_HOUR: i64 = 3_600_000_000;
const MICROS_PER_MINUTE: i64 = 60_000_000;

/// The field qualifiers PostgreSQL's grammar allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    YearToMonth,
    DayToHour,
    DayToMinute,
    DayToSecond,
    HourToMinute,
    HourToSecond,
    MinuteToSecond,
}

impl Range {
    /// The qualifier `leading [TO last]`, fields named as in SQL; `None`
    /// for a pair PostgreSQL's grammar does not have.
    pub fn of(leading: &str, last: Option<&str>) -> Option<Range> {
        let f = |s: &str| s.trim().to_ascii_lowercase();
        Some(match (f(leading).as_str(), last.map(f).as_deref()) {
            ("year", None) => Range::Year,
            ("month", None) => Range::Month,
            ("day", None) => Range::Day,
            ("hour", None) => Range::Hour,
            ("minute", None) => Range::Minute,
            ("second", None) => Range::Second,
            ("year", Some("month")) => Range::YearToMonth,
            ("day", Some("hour")) => Range::DayToHour,
            ("day", Some("minute")) => Range::DayToMinute,
            ("day", Some("second")) => Range::DayToSecond,
            ("hour", Some("minute")) => Range::HourToMinute,
            ("hour", Some("second")) => Range::HourToSecond,
            ("minute", Some("second")) => Range::MinuteToSecond,
            _ => return None,
        })
    }

    /// The unit a bare number is a count of: the rightmost field.
    fn unit(self) -> &'static str {
        match self {
            Range::Year => "year",
            Range::Month | Range::YearToMonth => "month",
            Range::Day => "day",
            Range::Hour | Range::DayToHour => "hour",
            Range::Minute | Range::HourToMinute | Range::DayToMinute => "minute",
            _ => "second",
        }
    }

    /// Whether the qualifier ends at SECOND, where a precision may follow.
    pub fn has_seconds(self) -> bool {
        matches!(
            self,
            Range::Second | Range::DayToSecond | Range::HourToSecond | Range::MinuteToSecond
        )
    }
}

impl Interval {
    /// Read `text` as an interval qualified by `range`, rounded to
    /// `precision` digits of seconds (0 to 6).
    pub fn parse_qualified(
        text: &str,
        range: Option<Range>,
        precision: Option<u32>,
    ) -> Result<Interval> {
        let t = text.trim();
        let bare = !t.is_empty() && t.parse::<f64>().is_ok_and(f64::is_finite);
        let mut iv = match range {
            Some(r) if bare => Interval::parse(&format!("{t} {}", r.unit()))?,
            None if bare => Interval::parse(&format!("{t} second"))?,
            Some(Range::MinuteToSecond) if minutes_seconds(t) => {
                let (sign, rest) = match t.strip_prefix('-') {
                    Some(rest) => ("-", rest),
                    None => ("", t.strip_prefix('+').unwrap_or(t)),
                };
                Interval::parse(&format!("{sign}0:{rest}"))?
            }
            Some(Range::DayToHour) if two_numbers(t) => {
                let (d, h) = t.split_once(char::is_whitespace).unwrap_or((t, "0"));
                Interval::parse(&format!("{d} day {} hour", h.trim()))?
            }
            _ => Interval::parse(t)?,
        };
        iv.adjust(range, precision)?;
        Ok(iv)
    }

    /// Drop the fields below `range` and round the seconds to `precision`
    /// digits, as PostgreSQL stores a value of a qualified interval type.
    pub fn adjust(&mut self, range: Option<Range>, precision: Option<u32>) -> Result<()> {
        match range {
            Some(Range::Year) => {
                self.months = (self.months / 12) * 12;
                self.days = 0;
                self.micros = 0;
            }
            Some(Range::Month | Range::YearToMonth) => {
                self.days = 0;
                self.micros = 0;
            }
            Some(Range::Day) => self.micros = 0,
            Some(Range::Hour | Range::DayToHour) => {
                self.micros = (self.micros / MICROS_PER_HOUR) * MICROS_PER_HOUR
            }
            Some(Range::Minute | Range::HourToMinute | Range::DayToMinute) => {
                self.micros = (self.micros / MICROS_PER_MINUTE) * MICROS_PER_MINUTE
            }
            _ => {}
        }
        if let Some(p) = precision.filter(|p| *p < 6) {
            let scale = 10i64.pow(6 - p);
            let half = scale / 2;
            let rounded = |m: i64| m.checked_add(half).map(|m| m / scale * scale);
            self.micros = match self.micros {
                m if m >= 0 => rounded(m),
                m => rounded(-m).map(|r| -r),
            }
            .ok_or_else(|| Error::NumericOutOfRange("interval out of range".into()))?;
        }
        Ok(())
    }
}

/// `m:s` or `m:s.f`, optionally signed: minutes and seconds.
fn minutes_seconds(t: &str) -> bool {
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    match t.split_once(':') {
        Some((m, s)) => {
            !m.is_empty()
                && m.bytes().all(|b| b.is_ascii_digit())
                && !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                && s.bytes().filter(|b| *b == b'.').count() <= 1
        }
        None => false,
    }
}

/// `d h`: two bare numbers, days then hours.
fn two_numbers(t: &str) -> bool {
    let parts: Vec<&str> = t.split_whitespace().collect();
    parts.len() == 2
        && parts
            .iter()
            .all(|p| p.parse::<f64>().is_ok_and(f64::is_finite))
}
