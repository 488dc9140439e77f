//! The interval type: months, days and microseconds, kept apart as
//! PostgreSQL keeps them (a month is not a fixed number of days, nor a day
//! of hours across a daylight-saving change). Input reads PostgreSQL's
//! syntax (`'1 year 2 mons'`, `'-1 day +02:00'`, `'1.5 weeks'`, `'@ 1
//! hour ago'`, `'1-2'`, ISO 8601 `'P1Y2M3DT4H'`), output is IntervalStyle
//! `postgres` (`1 year 2 mons 3 days 04:05:06.5`), binary is PostgreSQL's
//! (microseconds, days, months). Values compare as PostgreSQL compares
//! them: a month counts 30 days and a day 24 hours, so `'1 day'` equals
//! `'24:00:00'` while each keeps its own spelling.
//!
//! Stored as its output text; `store::udf` compares that text through
//! [`compare_text`] (the `pg_interval` collation) and computes the
//! operations of `arith` on it.

mod arith;
mod range;
pub use range::Range;
#[cfg(test)]
mod tests;

use crate::error::{Error, Result};

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
pub const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;
pub const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;
pub const DAYS_PER_MONTH: i64 = 30;

/// The SQLite collation of interval values and keys: compares stored
/// texts by PostgreSQL's interval order (registered by `store::udf`).
pub const COLLATION: &str = "pg_interval";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Interval {
    pub months: i32,
    pub days: i32,
    pub micros: i64,
}

fn syntax(s: &str) -> Error {
    Error::InvalidDatetimeFormat(format!("invalid input syntax for type interval: \"{s}\""))
}

fn field_overflow(s: &str) -> Error {
    Error::IntervalFieldOverflow(format!("interval field value out of range: \"{s}\""))
}

/// 22008, as PostgreSQL reports an interval result out of range.
pub fn out_of_range() -> Error {
    Error::DatetimeFieldOverflow("interval out of range".into())
}

/// The units of interval input, with the field each one fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
    Decade,
    Century,
    Millennium,
}

impl Unit {
    /// PostgreSQL's unit words, compared on their first 10 characters as
    /// PostgreSQL truncates them (`microseconds` is `microsecon`).
    fn from_word(w: &str) -> Option<Unit> {
        let w: String = w.chars().take(10).collect();
        Some(match w.as_str() {
            "us" | "usec" | "usecs" | "usecond" | "useconds" | "microsecon" => Unit::Microsecond,
            "ms" | "msec" | "msecs" | "msecond" | "mseconds" | "millisecon" => Unit::Millisecond,
            "s" | "sec" | "secs" | "second" | "seconds" => Unit::Second,
            "m" | "min" | "mins" | "minute" | "minutes" => Unit::Minute,
            "h" | "hr" | "hrs" | "hour" | "hours" => Unit::Hour,
            "d" | "day" | "days" => Unit::Day,
            "w" | "week" | "weeks" => Unit::Week,
            "mon" | "mons" | "month" | "months" => Unit::Month,
            "y" | "yr" | "yrs" | "year" | "years" => Unit::Year,
            "dec" | "decs" | "decade" | "decades" => Unit::Decade,
            "c" | "cent" | "century" | "centuries" => Unit::Century,
            "mil" | "mils" | "millennia" | "millennium" => Unit::Millennium,
            _ => return None,
        })
    }

    /// The field bit each unit sets: a field given twice is an error.
    fn mask(self) -> u32 {
        1 << (self as u32)
    }
}

const TIME_MASK: u32 =
    (1 << Unit::Hour as u32) | (1 << Unit::Minute as u32) | (1 << Unit::Second as u32);
const ALL_SECONDS_MASK: u32 =
    (1 << Unit::Second as u32) | (1 << Unit::Millisecond as u32) | (1 << Unit::Microsecond as u32);

/// The fields of an interval while it is read, wide enough to see overflow.
#[derive(Default)]
struct Fields {
    years: i64,
    months: i64,
    days: i64,
    micros: i64,
}

impl Fields {
    fn micros(&mut self, val: i64, frac: f64, scale: i64) -> Option<()> {
        self.micros = self.micros.checked_add(val.checked_mul(scale)?)?;
        self.fract_micros(frac, scale)
    }

    /// A fraction of `scale` microseconds, rounded half away from zero to
    /// the microsecond (PostgreSQL's AdjustFractMicroseconds).
    fn fract_micros(&mut self, frac: f64, scale: i64) -> Option<()> {
        if frac == 0.0 {
            return Some(());
        }
        let f = frac * scale as f64;
        let mut usec = f as i64;
        let rest = f - usec as f64;
        if rest > 0.5 {
            usec += 1;
        } else if rest < -0.5 {
            usec -= 1;
        }
        self.micros = self.micros.checked_add(usec)?;
        Some(())
    }

    /// A fraction of `scale` days: whole days, the rest as microseconds.
    fn fract_days(&mut self, frac: f64, scale: i64) -> Option<()> {
        if frac == 0.0 {
            return Some(());
        }
        let f = frac * scale as f64;
        let whole = f as i64;
        self.days = self.days.checked_add(whole)?;
        self.fract_micros(f - whole as f64, MICROS_PER_DAY)
    }

    /// A fraction of `scale` years, as whole months (rounded).
    fn fract_years(&mut self, frac: f64, scale: i64) -> Option<()> {
        if frac == 0.0 {
            return Some(());
        }
        let m = (frac * scale as f64 * 12.0).round_ties_even() as i64;
        self.months = self.months.checked_add(m)?;
        Some(())
    }

    fn add(&mut self, unit: Unit, val: i64, frac: f64) -> Option<()> {
        match unit {
            Unit::Microsecond => self.micros(val, frac, 1),
            Unit::Millisecond => self.micros(val, frac, 1000),
            Unit::Second => self.micros(val, frac, MICROS_PER_SECOND),
            Unit::Minute => self.micros(val, frac, MICROS_PER_MINUTE),
            Unit::Hour => self.micros(val, frac, MICROS_PER_HOUR),
            Unit::Day => {
                self.days = self.days.checked_add(val)?;
                self.fract_micros(frac, MICROS_PER_DAY)
            }
            Unit::Week => {
                self.days = self.days.checked_add(val.checked_mul(7)?)?;
                self.fract_days(frac, 7)
            }
            Unit::Month => {
                self.months = self.months.checked_add(val)?;
                self.fract_days(frac, DAYS_PER_MONTH)
            }
            Unit::Year | Unit::Decade | Unit::Century | Unit::Millennium => {
                let scale = match unit {
                    Unit::Year => 1,
                    Unit::Decade => 10,
                    Unit::Century => 100,
                    _ => 1000,
                };
                self.years = self.years.checked_add(val.checked_mul(scale)?)?;
                self.fract_years(frac, scale)
            }
        }
    }

    fn finish(self, negate: bool) -> Option<Interval> {
        let months = self.years.checked_mul(12)?.checked_add(self.months)?;
        let mut iv = Interval {
            months: i32::try_from(months).ok()?,
            days: i32::try_from(self.days).ok()?,
            micros: self.micros,
        };
        if negate {
            iv = iv.checked_neg()?;
        }
        Some(iv)
    }
}

/// A number of interval input: its integer part and its signed fraction.
fn number(tok: &str) -> std::result::Result<(i64, f64), bool> {
    let neg = tok.starts_with('-');
    let body = tok.trim_start_matches(['+', '-']);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    if int.is_empty() && frac.is_none_or(str::is_empty) {
        return Err(false);
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) {
        return Err(false);
    }
    let mut val: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| true)?
    };
    let mut f = match frac {
        Some(f) if !f.bytes().all(|b| b.is_ascii_digit()) => return Err(false),
        Some(f) => format!("0.{f}0").parse::<f64>().map_err(|_| false)?,
        None => 0.0,
    };
    if neg {
        val = -val;
        f = -f;
    }
    Ok((val, f))
}

/// `h:m[:s[.f]]` (or `m:s.f`) as microseconds: `None` for a bad format,
/// `Some(Err)` for a field out of range.
fn clock(tok: &str) -> std::result::Result<i64, bool> {
    let parts: Vec<&str> = tok.split(':').collect();
    let int = |s: &str| -> std::result::Result<i64, bool> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(false);
        }
        s.parse().map_err(|_| true)
    };
    let fraction = |s: &str| -> std::result::Result<(i64, i64), bool> {
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let us = if frac.is_empty() {
            0
        } else {
            if !frac.bytes().all(|b| b.is_ascii_digit()) {
                return Err(false);
            }
            let f: f64 = format!("0.{frac}").parse().map_err(|_| false)?;
            (f * 1e6).round_ties_even() as i64
        };
        Ok((int(whole)?, us))
    };
    let (h, m, s, us) = match parts.as_slice() {
        [h, m] if m.contains('.') => {
            let (s, us) = fraction(m)?;
            (0, int(h)?, s, us)
        }
        [h, m] => (int(h)?, int(m)?, 0, 0),
        [h, m, s] => {
            let (s, us) = fraction(s)?;
            (int(h)?, int(m)?, s, us)
        }
        _ => return Err(false),
    };
    if m > 59 || s > 60 || us > MICROS_PER_SECOND {
        return Err(true);
    }
    let total = h
        .checked_mul(MICROS_PER_HOUR)
        .and_then(|t| t.checked_add(m * MICROS_PER_MINUTE + s * MICROS_PER_SECOND + us))
        .ok_or(true)?;
    Ok(total)
}

/// One token of interval input.
#[derive(Debug)]
enum Token<'a> {
    Number(&'a str),
    Time(&'a str),
    Word(&'a str),
}

fn tokens(s: &str) -> Option<Vec<Token<'_>>> {
    let b = s.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_digit() || c == b'.' || c == b'+' || c == b'-' {
            i += 1;
            while i < b.len() && (b[i].is_ascii_digit() || matches!(b[i], b'.' | b':' | b'-')) {
                i += 1;
            }
            let t = &s[start..i];
            out.push(if t.contains(':') {
                Token::Time(t)
            } else {
                Token::Number(t)
            });
        } else if c.is_ascii_alphabetic() || c == b'@' {
            i += 1;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            out.push(Token::Word(&s[start..i]));
        } else {
            return None;
        }
    }
    Some(out)
}

impl Interval {
    /// Parse PostgreSQL's interval input.
    pub fn parse(text: &str) -> Result<Interval> {
        let s = text.trim().to_ascii_lowercase();
        if let Some(iso) = s.strip_prefix('p') {
            return iso8601(iso, text);
        }
        let toks = tokens(&s).ok_or_else(|| syntax(text))?;
        let mut fields = Fields::default();
        let mut mask = 0u32;
        let mut negate = false;
        // A unit word waiting for its number (read from the right, as
        // PostgreSQL reads), or a day implied by the time after a number.
        let mut unit: Option<Unit> = None;
        let mut implied_day = false;
        let bad = |overflow: bool| {
            if overflow {
                field_overflow(text)
            } else {
                syntax(text)
            }
        };
        for tok in toks.iter().rev() {
            match tok {
                Token::Word("@") => {}
                Token::Word("ago") => negate = true,
                Token::Word(w) => {
                    if unit.is_some() {
                        return Err(syntax(text));
                    }
                    unit = Some(Unit::from_word(w).ok_or_else(|| syntax(text))?);
                    implied_day = false;
                }
                Token::Time(t) => {
                    if unit.is_some() || mask & TIME_MASK != 0 {
                        return Err(syntax(text));
                    }
                    let (neg, body) = match t.as_bytes()[0] {
                        b'-' => (true, &t[1..]),
                        b'+' => (false, &t[1..]),
                        _ => (false, *t),
                    };
                    let us = clock(body).map_err(bad)?;
                    fields.micros = fields
                        .micros
                        .checked_add(if neg { -us } else { us })
                        .ok_or_else(|| field_overflow(text))?;
                    mask |= TIME_MASK;
                    implied_day = true;
                }
                Token::Number(n) => {
                    let u = match unit.take() {
                        Some(u) => u,
                        None if implied_day => Unit::Day,
                        None => Unit::Second,
                    };
                    implied_day = false;
                    let (val, frac, u) = match year_month(n) {
                        Some(ym) => (ym.map_err(bad)?, 0.0, Unit::Month),
                        None => {
                            let (v, f) = number(n).map_err(bad)?;
                            (v, f, u)
                        }
                    };
                    let m = match u {
                        Unit::Second if frac != 0.0 => ALL_SECONDS_MASK,
                        u => u.mask(),
                    };
                    if mask & m != 0 {
                        return Err(syntax(text));
                    }
                    mask |= m;
                    fields
                        .add(u, val, frac)
                        .ok_or_else(|| field_overflow(text))?;
                }
            }
        }
        if mask == 0 || unit.is_some() {
            return Err(syntax(text));
        }
        fields.finish(negate).ok_or_else(|| field_overflow(text))
    }

    /// The interval's text in IntervalStyle `postgres`.
    pub fn format(&self) -> String {
        let year = self.months / 12;
        let mon = self.months % 12;
        let mut out = String::new();
        let mut is_zero = true;
        let mut is_before = false;
        for (value, unit) in [(year, "year"), (mon, "mon"), (self.days, "day")] {
            if value == 0 {
                continue;
            }
            let space = if is_zero { "" } else { " " };
            let plus = if is_before && value > 0 { "+" } else { "" };
            let s = if value != 1 { "s" } else { "" };
            out.push_str(&format!("{space}{plus}{value} {unit}{s}"));
            is_zero = false;
            is_before = value < 0;
        }
        let t = self.micros;
        let hour = t / MICROS_PER_HOUR;
        let min = (t % MICROS_PER_HOUR) / MICROS_PER_MINUTE;
        let sec = (t % MICROS_PER_MINUTE) / MICROS_PER_SECOND;
        let fsec = t % MICROS_PER_SECOND;
        if is_zero || t != 0 {
            let space = if is_zero { "" } else { " " };
            let sign = if t < 0 {
                "-"
            } else if is_before {
                "+"
            } else {
                ""
            };
            out.push_str(&format!(
                "{space}{sign}{:02}:{:02}:{:02}",
                hour.unsigned_abs(),
                min.unsigned_abs(),
                sec.unsigned_abs()
            ));
            if fsec != 0 {
                let f = format!("{:06}", fsec.unsigned_abs());
                out.push('.');
                out.push_str(f.trim_end_matches('0'));
            }
        }
        out
    }

    /// PostgreSQL's binary form: microseconds, days, months.
    pub fn to_binary(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(16);
        b.extend_from_slice(&self.micros.to_be_bytes());
        b.extend_from_slice(&self.days.to_be_bytes());
        b.extend_from_slice(&self.months.to_be_bytes());
        b
    }

    pub fn from_binary(b: &[u8]) -> Result<Interval> {
        let bad = || {
            Error::ProtocolViolation(
                "incorrect binary data format in bind parameter of type interval".into(),
            )
        };
        if b.len() != 16 {
            return Err(bad());
        }
        let micros = i64::from_be_bytes(b[0..8].try_into().map_err(|_| bad())?);
        let days = i32::from_be_bytes(b[8..12].try_into().map_err(|_| bad())?);
        let months = i32::from_be_bytes(b[12..16].try_into().map_err(|_| bad())?);
        Ok(Interval {
            months,
            days,
            micros,
        })
    }

    /// The value PostgreSQL orders intervals by: a month is 30 days, a
    /// day 24 hours.
    pub fn cmp_key(&self) -> i128 {
        i128::from(self.micros)
            + (i128::from(self.days) + i128::from(self.months) * 30) * i128::from(MICROS_PER_DAY)
    }

    /// The length in seconds, with months and years of the calendar
    /// refused (0A000): what `pg_sleep_for` waits.
    pub fn seconds_without_months(text: &str) -> Result<f64> {
        let iv = Interval::parse(text)?;
        if iv.months != 0 {
            return Err(Error::Unsupported(format!(
                "interval \"{text}\" of months or years here"
            )));
        }
        Ok(iv.days as f64 * 86_400.0 + iv.micros as f64 / 1e6)
    }
}

/// A SQL-standard `years-months` number (`1-2`, `-1-2`): `None` when the
/// token is no such thing.
fn year_month(tok: &str) -> Option<std::result::Result<i64, bool>> {
    let neg = tok.starts_with('-');
    let body = tok.trim_start_matches(['+', '-']);
    let (y, m) = body.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(y) || !digits(m) {
        return Some(Err(false));
    }
    let (Ok(y), Ok(m)) = (y.parse::<i64>(), m.parse::<i64>()) else {
        return Some(Err(true));
    };
    if m >= 12 {
        return Some(Err(true));
    }
    let total = y.checked_mul(12).and_then(|t| t.checked_add(m)).ok_or(true);
    Some(total.map(|t| if neg { -t } else { t }))
}

/// ISO 8601 "format with designators" (`P1Y2M3DT4H5M6.5S`, after the
/// `P`); the alternative format (`P0001-02-03T04:05:06`) is not read.
fn iso8601(s: &str, text: &str) -> Result<Interval> {
    let mut fields = Fields::default();
    let mut in_time = false;
    let mut rest = s;
    if rest.is_empty() {
        return Err(syntax(text));
    }
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('t') {
            if in_time {
                return Err(syntax(text));
            }
            in_time = true;
            rest = r;
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(end);
        let Some(designator) = after.chars().next() else {
            return Err(Error::Unsupported(format!(
                "the ISO 8601 alternative format of interval input (\"{text}\")"
            )));
        };
        if num.contains(['-', ':']) && num.len() > 1 && num[1..].contains('-') {
            return Err(Error::Unsupported(format!(
                "the ISO 8601 alternative format of interval input (\"{text}\")"
            )));
        }
        let (val, frac) = number(num).map_err(|o| {
            if o {
                field_overflow(text)
            } else {
                syntax(text)
            }
        })?;
        let unit = match (designator, in_time) {
            ('y', false) => Unit::Year,
            ('m', false) => Unit::Month,
            ('w', false) => Unit::Week,
            ('d', false) => Unit::Day,
            ('h', true) => Unit::Hour,
            ('m', true) => Unit::Minute,
            ('s', true) => Unit::Second,
            _ => return Err(syntax(text)),
        };
        fields
            .add(unit, val, frac)
            .ok_or_else(|| field_overflow(text))?;
        rest = &after[1..];
    }
    fields.finish(false).ok_or_else(|| field_overflow(text))
}

/// Compare two stored intervals by value (the `pg_interval` collation);
/// text that is no interval sorts by its bytes after every interval.
pub fn compare_text(a: &str, b: &str) -> std::cmp::Ordering {
    match (Interval::parse(a), Interval::parse(b)) {
        (Ok(x), Ok(y)) => x.cmp_key().cmp(&y.cmp_key()),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}
