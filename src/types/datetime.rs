//! Dates and timestamps in the stored text shapes: parsing PostgreSQL
//! input, formatting, and the day/microsecond arithmetic the binary
//! format and the date functions need. A timestamptz is stored as its
//! UTC time; the session's TimeZone (`types::zone`) applies where a client
//! reads or writes one in text (`format_timestamptz`, `parse_timestamptz`)
//! and where PostgreSQL's own functions take its local fields.

use crate::error::{Error, Result};

pub const MICROS_PER_DAY: i64 = 86_400_000_000;
/// Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
pub const PG_EPOCH_DAYS: i64 = 10_957;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// The days of month `m` (1–12) of year `y`, proleptic Gregorian.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// The days MosaicDB stores a date or time in: 0001-01-01 to 9999-12-31.
/// DESIGN: dates and times are stored as the text PostgreSQL prints,
/// which sorts by value (in comparisons, ORDER BY, indexes, zone maps)
/// only while the year has four digits and is not BC. Values outside are
/// refused (0A000) wherever one is made, rather than sorted wrongly.
pub fn check_days(days: i64) -> Result<i64> {
    let (first, last) = (days_from_civil(1, 1, 1), days_from_civil(9999, 12, 31));
    if days < first {
        return Err(Error::Unsupported(
            "a date or time before 0001-01-01 (BC)".into(),
        ));
    }
    if days > last {
        return Err(Error::Unsupported("a date or time after 9999-12-31".into()));
    }
    Ok(days)
}

/// A date's stored text, if MosaicDB stores that day (`check_days`).
pub fn date_text(days: i64) -> Result<String> {
    check_days(days).map(format_date)
}

/// A timestamp's stored text, if MosaicDB stores its day (`check_days`).
pub fn timestamp_text(micros: i64) -> Result<String> {
    check_days(micros.div_euclid(MICROS_PER_DAY))?;
    Ok(format_timestamp(micros))
}

/// `YYYY-MM-DD` of a day number.
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The times a statement's date/time functions answer from, in
/// microseconds since the Unix epoch: the start of its transaction
/// (`now()`, `current_timestamp`, `current_date`, …) and of the statement
/// (`statement_timestamp()`). A fragment run on a peer carries its
/// coordinator's, so every node answers alike; 0 means "not fixed" (the
/// clock's reading then). The session's TimeZone travels with them: a
/// fragment takes local fields in its coordinator's zone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatementTimes {
    pub transaction: i64,
    pub statement: i64,
    pub zone: crate::types::zone::Zone,
}

/// The clock's reading, in microseconds since the Unix epoch.
pub fn clock_micros() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// A timestamp (microseconds since the Unix epoch) rounded to
/// `precision` (0–6) fractional digits as PostgreSQL rounds a
/// timestamp(p): half away from zero, counted from its own epoch
/// (2000-01-01).
pub fn round_micros(micros: i64, precision: u32) -> i64 {
    if precision >= 6 {
        return micros;
    }
    let unit = 10i64.pow(6 - precision);
    let half = unit / 2;
    let shift = PG_EPOCH_DAYS * MICROS_PER_DAY;
    let t = micros.saturating_sub(shift);
    let r = if t >= 0 {
        t.saturating_add(half) / unit * unit
    } else {
        -(t.saturating_neg().saturating_add(half) / unit * unit)
    };
    r.saturating_add(shift)
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` of microseconds since the Unix epoch,
/// with the fraction's trailing zeros trimmed as PostgreSQL prints it.
pub fn format_timestamp(micros: i64) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let tod = micros.rem_euclid(MICROS_PER_DAY);
    format!("{} {}", format_date(days), format_time(tod))
}

/// `HH:MM:SS[.ffffff]` of microseconds since midnight (`24:00:00` for a
/// whole day), as PostgreSQL prints a time.
pub fn format_time(micros: i64) -> String {
    let secs = micros / 1_000_000;
    let frac = micros % 1_000_000;
    let mut s = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if frac != 0 {
        let f = format!("{frac:06}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<(i64, usize)> {
        let start = self.i;
        let mut v: i64 = 0;
        while self.i < self.b.len() && self.i - start < max && self.b[self.i].is_ascii_digit() {
            v = v * 10 + i64::from(self.b[self.i] - b'0');
            self.i += 1;
        }
        let n = self.i - start;
        (n >= min).then_some((v, n))
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

/// What a date/time input string holds.
struct Parsed {
    days: i64,
    micros_of_day: i64,
    /// Offset east of UTC in seconds, when the input named one.
    offset: Option<i64>,
}

fn syntax(ty: &str, s: &str) -> Error {
    Error::InvalidDatetimeFormat(format!("invalid input syntax for type {ty}: \"{s}\""))
}

fn out_of_range(s: &str) -> Error {
    Error::DatetimeFieldOverflow(format!("date/time field value out of range: \"{s}\""))
}

fn parse_parts(ty: &str, s: &str) -> Result<Parsed> {
    let t = s.trim();
    if ["infinity", "+infinity", "-infinity"]
        .iter()
        .any(|i| t.eq_ignore_ascii_case(i))
    {
        return Err(Error::Unsupported(format!("{ty} '{t}'")));
    }
    let mut c = Cursor {
        b: t.as_bytes(),
        i: 0,
    };
    let (y, _) = c.digits(4, 7).ok_or_else(|| syntax(ty, s))?;
    if !c.eat(b'-') {
        return Err(syntax(ty, s));
    }
    let (m, _) = c.digits(1, 2).ok_or_else(|| syntax(ty, s))?;
    if !c.eat(b'-') {
        return Err(syntax(ty, s));
    }
    let (d, _) = c.digits(1, 2).ok_or_else(|| syntax(ty, s))?;
    if y == 0 || !(1..=12).contains(&m) || d < 1 || d > i64::from(days_in_month(y, m as u32)) {
        return Err(out_of_range(s));
    }
    let days = days_from_civil(y, m as u32, d as u32);
    let mut micros_of_day = 0;
    if c.eat(b'T')
        || c.eat(b't')
        || (c.peek() == Some(b' ') && {
            c.skip_spaces();
            c.peek().is_some_and(|b| b.is_ascii_digit())
        })
    {
        micros_of_day = time_of_day(&mut c, ty, s)?;
    }
    c.skip_spaces();
    // A zone by name or abbreviation (`PST`, `Europe/Paris`).
    let token: &str = t[c.i..].split_whitespace().next().unwrap_or_default();
    if token.starts_with(|x: char| x.is_ascii_alphabetic()) {
        if let Some(zone) = crate::types::zone::Zone::of_input(token)? {
            c.i += token.len();
            c.skip_spaces();
            if !c.done() {
                return Err(syntax(ty, s));
            }
            let local = days * MICROS_PER_DAY + micros_of_day;
            return Ok(Parsed {
                days,
                micros_of_day,
                offset: Some((local - zone.instant_of(local)) / 1_000_000),
            });
        }
    }
    let offset = parse_offset(&mut c, t).ok_or_else(|| syntax(ty, s))?;
    c.skip_spaces();
    if !c.done() {
        return Err(syntax(ty, s));
    }
    Ok(Parsed {
        days,
        micros_of_day,
        offset,
    })
}

/// `H[H]:MM[:SS[.f…]]` at the cursor, as microseconds since midnight
/// (fractions rounded to microseconds as PostgreSQL rounds them;
/// `24:00:00` the one value past 23:59:59.999999).
fn time_of_day(c: &mut Cursor<'_>, ty: &str, s: &str) -> Result<i64> {
    let (h, _) = c.digits(1, 2).ok_or_else(|| syntax(ty, s))?;
    if !c.eat(b':') {
        return Err(syntax(ty, s));
    }
    let (mi, _) = c.digits(2, 2).ok_or_else(|| syntax(ty, s))?;
    let mut sec = 0;
    let mut frac = 0;
    if c.eat(b':') {
        sec = c.digits(2, 2).ok_or_else(|| syntax(ty, s))?.0;
        if c.eat(b'.') {
            let start = c.i;
            c.digits(0, usize::MAX);
            let f = &c.b[start..c.i];
            let mut v: i64 = 0;
            for &ch in f.iter().take(6) {
                v = v * 10 + i64::from(ch - b'0');
            }
            for _ in f.len().min(6)..6 {
                v *= 10;
            }
            if f.len() > 6 && f[6] >= b'5' {
                v += 1;
            }
            frac = v;
        }
    }
    let micros = ((h * 60 + mi) * 60 + sec) * 1_000_000 + frac;
    if h > 24 || mi > 59 || sec > 60 || micros > MICROS_PER_DAY {
        return Err(out_of_range(s));
    }
    Ok(micros)
}

/// Parse PostgreSQL `time` input into microseconds since midnight: a
/// time of day (`HH:MM[:SS[.f]]`, optionally after `T`, with `AM`/`PM`),
/// or a whole timestamp whose date is dropped; a zone after it is
/// ignored, as PostgreSQL ignores it for `time`.
pub fn parse_time(s: &str) -> Result<i64> {
    const TY: &str = "time";
    let t = s.trim();
    if t.eq_ignore_ascii_case("allballs") {
        return Ok(0);
    }
    let b = t.as_bytes();
    if b.len() > 4 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' {
        return Ok(parse_parts(TY, s)?.micros_of_day);
    }
    let mut c = Cursor { b, i: 0 };
    if c.peek().is_some_and(|x| x == b'T' || x == b't') {
        c.i += 1;
    }
    let mut micros = time_of_day(&mut c, TY, s)?;
    c.skip_spaces();
    let rest = &t[c.i..];
    for (word, pm) in [("am", false), ("pm", true), ("a.m.", false), ("p.m.", true)] {
        if rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word) {
            let hour = micros / 3_600_000_000;
            if hour > 12 {
                return Err(out_of_range(s));
            }
            if hour == 12 {
                micros -= 12 * 3_600_000_000;
            }
            if pm {
                micros += 12 * 3_600_000_000;
            }
            c.i += word.len();
            c.skip_spaces();
            break;
        }
    }
    let rest = &t[c.i..];
    let named_zone = rest.starts_with(|x: char| x.is_ascii_alphabetic())
        && !["utc", "gmt", "z"]
            .iter()
            .any(|z| rest.len() >= z.len() && rest[..z.len()].eq_ignore_ascii_case(z));
    if named_zone {
        return Err(Error::Unsupported(format!(
            "a time zone name in time input (\"{s}\")"
        )));
    }
    parse_offset(&mut c, t).ok_or_else(|| syntax(TY, s))?;
    c.skip_spaces();
    if !c.done() {
        return Err(syntax(TY, s));
    }
    Ok(micros)
}

/// An optional zone suffix: `Z`, `UTC`, `+HH`, `+HH:MM`, `+HHMM`, `-…`.
/// `None` for a malformed one, `Some(None)` when there is none.
fn parse_offset(c: &mut Cursor<'_>, t: &str) -> Option<Option<i64>> {
    let rest = &t[c.i..];
    if rest.is_empty() {
        return Some(None);
    }
    for z in ["UTC", "GMT", "Z"] {
        if rest.len() >= z.len() && rest[..z.len()].eq_ignore_ascii_case(z) {
            c.i += z.len();
            return Some(Some(0));
        }
    }
    let sign = match c.peek()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    c.i += 1;
    let (h, n) = c.digits(1, 4)?;
    let (h, mut m) = if n > 2 { (h / 100, h % 100) } else { (h, 0) };
    if n <= 2 && c.eat(b':') {
        m = c.digits(2, 2)?.0;
    }
    if h > 15 || m > 59 {
        return None;
    }
    Some(Some(sign * (h * 3600 + m * 60)))
}

/// A timestamptz (microseconds since the Unix epoch) as PostgreSQL prints
/// it in `zone`: the wall time there and its offset (`+02`, `-03:30`).
pub fn format_timestamptz(utc: i64, zone: crate::types::zone::Zone) -> String {
    let offset = zone.offset_at(utc);
    let local = utc + offset * 1_000_000;
    format!(
        "{}{}",
        format_timestamp(local),
        crate::types::zone::offset_text(offset)
    )
}

/// Timestamptz input in `zone`: a time without an offset is a wall time
/// there (PostgreSQL's choice where the zone skips or repeats it).
pub fn parse_timestamptz(s: &str, zone: crate::types::zone::Zone) -> Result<i64> {
    let p = parse_parts("timestamp with time zone", s)?;
    let local = p.days * MICROS_PER_DAY + p.micros_of_day;
    let utc = match p.offset {
        Some(off) => local - off * 1_000_000,
        None => zone.instant_of(local),
    };
    check_days(utc.div_euclid(MICROS_PER_DAY))?;
    Ok(utc)
}

/// Parse PostgreSQL date input into days since 1970-01-01.
pub fn parse_date(s: &str) -> Result<i64> {
    let p = parse_parts("date", s)?;
    Ok(p.days)
}

/// Parse timestamp input into microseconds since the Unix epoch. With
/// `tz`, an offset in the input is applied (none means UTC); without, an
/// offset is ignored as PostgreSQL ignores it for `timestamp`.
pub fn parse_timestamp(s: &str, tz: bool) -> Result<i64> {
    let ty = if tz {
        "timestamp with time zone"
    } else {
        "timestamp"
    };
    let p = parse_parts(ty, s)?;
    let local = p.days * MICROS_PER_DAY + p.micros_of_day;
    Ok(match (tz, p.offset) {
        (true, Some(off)) => local - off * 1_000_000,
        _ => local,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_away_from_zero_from_2000() {
        let at = |s: &str| parse_timestamp(s, false).unwrap();
        let round = |s: &str, p| format_timestamp(round_micros(at(s), p));
        assert_eq!(round("2024-01-01 10:00:00.5", 0), "2024-01-01 10:00:01");
        assert_eq!(round("2024-01-01 10:00:00.4", 0), "2024-01-01 10:00:00");
        assert_eq!(
            round("2024-01-01 10:00:00.125", 2),
            "2024-01-01 10:00:00.13"
        );
        // Before 2000 a half rounds to the earlier second.
        assert_eq!(round("1999-12-31 23:59:59.5", 0), "1999-12-31 23:59:59");
        assert_eq!(round("1999-12-31 23:59:59.6", 0), "2000-01-01 00:00:00");
        assert_eq!(
            round("2024-01-01 10:00:00.123456", 6),
            "2024-01-01 10:00:00.123456"
        );
    }

    #[test]
    fn civil_round_trip() {
        for d in [-800_000, -1, 0, 1, 10_957, 19_000, 2_900_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(days_from_civil(2000, 1, 1), PG_EPOCH_DAYS);
    }

    #[test]
    fn timestamps_parse_and_format() {
        let cases = [
            ("2024-03-01 12:34:56", false, "2024-03-01 12:34:56"),
            ("2024-03-01T12:34:56.500", false, "2024-03-01 12:34:56.5"),
            ("2024-03-01", false, "2024-03-01 00:00:00"),
            ("2024-03-01 12:00:00+02", true, "2024-03-01 10:00:00"),
            ("2024-03-01 12:00:00+02:30", true, "2024-03-01 09:30:00"),
            ("2024-03-01T01:00:00Z", true, "2024-03-01 01:00:00"),
            ("2024-03-01 01:00:00-0100", true, "2024-03-01 02:00:00"),
            ("2024-03-01 12:00:00+02", false, "2024-03-01 12:00:00"),
            (
                "2024-03-01 12:00:00.1234567",
                false,
                "2024-03-01 12:00:00.123457",
            ),
        ];
        for (input, tz, want) in cases {
            let got = format_timestamp(parse_timestamp(input, tz).unwrap());
            assert_eq!(got, want, "{input}");
        }
        assert!(parse_timestamp("2024-02-30 00:00:00", false).is_err());
        assert!(parse_timestamp("yesterday-ish", false).is_err());
        assert!(parse_date("2024-13-01").is_err());
    }
}
