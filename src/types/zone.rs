//! Time zones for `AT TIME ZONE` and `timezone()`, as PostgreSQL names
//! them: IANA names from the tz database (chrono-tz; any case),
//! abbreviations as PostgreSQL 15's default set reads them (`CET`, `PST`;
//! those it resolves through a zone's history are refused), POSIX offsets (`'+02'` and `'UTC+2'` are two hours
//! *west* of Greenwich, as in PostgreSQL), and an interval (`INTERVAL
//! '+02:00'`, east). A wall time that a zone skips (a spring-forward gap)
//! takes the offset from before the jump, one it repeats (fall-back) the
//! offset from after it, as PostgreSQL decides.

use chrono::{Offset, TimeZone};
use chrono_tz::OffsetName;

use crate::error::{Error, Result};

const MICROS: i64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Zone {
    /// Seconds east of UTC.
    Fixed(i64),
    Named(chrono_tz::Tz),
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::UTC
    }
}

/// A zone between nodes (a fragment answers in its coordinator's zone):
/// a tz database name or seconds east of UTC.
#[derive(serde::Serialize, serde::Deserialize)]
enum Wire {
    Fixed(i64),
    Named(String),
}

impl serde::Serialize for Zone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Zone::Fixed(secs) => Wire::Fixed(*secs),
            Zone::Named(tz) => Wire::Named(tz.name().to_string()),
        }
        .serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Zone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Zone, D::Error> {
        Ok(match Wire::deserialize(d)? {
            Wire::Fixed(secs) => Zone::Fixed(secs),
            Wire::Named(n) => Zone::Named(n.parse().map_err(serde::de::Error::custom)?),
        })
    }
}

/// An offset as PostgreSQL prints it after a timestamptz: `+02`,
/// `-03:30`, `+00:09:21`.
pub fn offset_text(secs: i64) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
    match (m, s) {
        (0, 0) => format!("{sign}{h:02}"),
        (_, 0) => format!("{sign}{h:02}:{m:02}"),
        _ => format!("{sign}{h:02}:{m:02}:{s:02}"),
    }
}

fn not_recognized(name: &str) -> Error {
    Error::InvalidParameter(format!("time zone \"{name}\" not recognized"))
}

/// `[+-]h[h][:mm[:ss]]` as seconds, sign included.
fn offset(s: &str) -> Option<i64> {
    let (sign, body) = match s.as_bytes().first()? {
        b'-' => (-1, &s[1..]),
        b'+' => (1, &s[1..]),
        _ => (1, s),
    };
    let mut parts = body.split(':');
    let mut total = 0;
    for (i, unit) in [3600, 60, 1].into_iter().enumerate() {
        let Some(p) = parts.next() else { break };
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v: i64 = p.parse().ok()?;
        if i > 0 && v > 59 {
            return None;
        }
        total += v * unit;
    }
    if parts.next().is_some() || total > 15 * 3600 + 59 * 60 {
        return None;
    }
    Some(sign * total)
}

/// PostgreSQL 15's default abbreviations (`zone_abbrevs.txt`).
const ABBREVIATIONS: &str = include_str!("zone_abbrevs.txt");

/// A time zone abbreviation as PostgreSQL's default set reads it, in any
/// case: its fixed offset, or 0A000 for one whose offset PostgreSQL takes
/// from a zone's history; `None` when it is none.
pub fn abbreviation(name: &str) -> Option<Result<Zone>> {
    ABBREVIATIONS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (a, off) = l.split_once(' ')?;
            a.eq_ignore_ascii_case(name).then(|| match off.parse::<i64>() {
                Ok(secs) => Ok(Zone::Fixed(secs)),
                Err(_) => Err(Error::Unsupported(format!(
                    "time zone abbreviation \"{name}\", whose offset PostgreSQL takes from a zone's history (use a tz database name)"
                ))),
            })
        })
}

impl Zone {
    pub const UTC: Zone = Zone::Fixed(0);

    /// The zone a timestamp's input names after its time: an
    /// abbreviation (`PST`) or a tz database name (`Europe/Paris`);
    /// `Ok(None)` for neither.
    pub fn of_input(token: &str) -> Result<Option<Zone>> {
        if let Some(z) = abbreviation(token) {
            return z.map(Some);
        }
        Ok(chrono_tz::Tz::from_str_insensitive(token)
            .ok()
            .map(Zone::Named))
    }

    /// The session's TimeZone setting as `SET TIME ZONE` reads it, with
    /// the name SHOW gives back: a tz database name (any case; shown as
    /// the database spells it, `CET` and `EST5EDT` included), a number of
    /// hours east of Greenwich (`2`, `'-3.5'`; shown `<+02>-02`), a
    /// POSIX offset (`UTC+3`: west; shown as given) or the `<+02>-02`
    /// form SHOW printed.
    pub fn from_setting(v: &str) -> Result<(Zone, String)> {
        let n = v.trim();
        let invalid = || {
            Error::InvalidParameter(format!("invalid value for parameter \"TimeZone\": \"{v}\""))
        };
        if let Ok(hours) = n.parse::<f64>() {
            let secs = (hours * 3600.0).round();
            if !hours.is_finite() || secs.abs() > 14.0 * 3600.0 + 59.0 * 60.0 {
                return Err(invalid());
            }
            return Ok(Zone::fixed_setting(secs as i64));
        }
        if let Some(rest) = n.strip_prefix('<') {
            let (abbr, west) = rest.split_once('>').ok_or_else(invalid)?;
            let west = offset(west).ok_or_else(invalid)?;
            if offset_text(-west) != abbr {
                return Err(invalid());
            }
            return Ok(Zone::fixed_setting(-west));
        }
        if matches!(n.to_ascii_uppercase().as_str(), "UTC" | "Z" | "ZULU") {
            return Ok((Zone::UTC, "UTC".into()));
        }
        if let Ok(tz) = chrono_tz::Tz::from_str_insensitive(n) {
            return Ok((Zone::Named(tz), tz.name().to_string()));
        }
        // A POSIX offset; abbreviations are no TimeZone setting.
        match Zone::parse(n) {
            Ok(z @ Zone::Fixed(_)) if abbreviation(n).is_none() => Ok((z, n.to_string())),
            _ => Err(invalid()),
        }
    }

    /// A fixed zone `secs` east of UTC, with the name SHOW gives it.
    pub fn fixed_setting(secs: i64) -> (Zone, String) {
        let abbr = offset_text(secs);
        let west = offset_text(-secs);
        (Zone::Fixed(secs), format!("<{abbr}>{west}"))
    }

    /// A zone by PostgreSQL's name for it.
    pub fn parse(name: &str) -> Result<Zone> {
        let n = name.trim();
        let upper = n.to_ascii_uppercase();
        if matches!(upper.as_str(), "Z" | "UTC" | "GMT" | "UCT" | "ZULU") {
            return Ok(Zone::Fixed(0));
        }
        // An abbreviation first, as PostgreSQL reads one (`CET` is always
        // +01 there, where the tz database's CET keeps summer time).
        if let Some(z) = abbreviation(n) {
            return z;
        }
        if let Ok(tz) = chrono_tz::Tz::from_str_insensitive(n) {
            return Ok(Zone::Named(tz));
        }
        // POSIX: an offset west of Greenwich, bare or after UTC/GMT.
        let posix = ["utc", "gmt"]
            .iter()
            .find_map(|p| {
                n.get(..3)
                    .filter(|head| head.eq_ignore_ascii_case(p))
                    .map(|_| &n[3..])
            })
            .unwrap_or(n);
        if let Some(west) = offset(posix) {
            return Ok(Zone::Fixed(-west));
        }
        Err(not_recognized(n))
    }

    /// A fixed zone from an interval (east of UTC); PostgreSQL refuses
    /// one with months or days.
    pub fn of_interval(iv: &super::interval::Interval) -> Result<Zone> {
        if iv.months != 0 || iv.days != 0 {
            return Err(Error::InvalidParameter(format!(
                "interval time zone \"{}\" must not include months or days",
                iv.format()
            )));
        }
        Ok(Zone::Fixed(iv.micros / MICROS))
    }

    /// Seconds east of UTC at the instant `utc` (microseconds since the
    /// Unix epoch).
    pub fn offset_at(&self, utc: i64) -> i64 {
        match self {
            Zone::Fixed(s) => *s,
            Zone::Named(tz) => {
                let Some(dt) = chrono::DateTime::from_timestamp_micros(utc) else {
                    return 0;
                };
                i64::from(
                    tz.offset_from_utc_datetime(&dt.naive_utc())
                        .fix()
                        .local_minus_utc(),
                )
            }
        }
    }

    /// The wall time in this zone of the instant `utc` (both as
    /// microseconds since the Unix epoch).
    pub fn local_of(&self, utc: i64) -> i64 {
        utc + self.offset_at(utc) * MICROS
    }

    /// `utc + iv` as PostgreSQL adds an interval to a timestamptz: months,
    /// then days, on the calendar of the wall time here (each landing
    /// resolved to an instant again), then the time part as elapsed time.
    pub fn add_interval(&self, utc: i64, iv: &super::interval::Interval) -> Result<i64> {
        use super::interval::Interval;
        let mut t = utc;
        for part in [
            Interval {
                months: iv.months,
                days: 0,
                micros: 0,
            },
            Interval {
                months: 0,
                days: iv.days,
                micros: 0,
            },
        ] {
            if part.months != 0 || part.days != 0 {
                t = self.instant_of(part.add_to_timestamp(self.local_of(t))?);
            }
        }
        t.checked_add(iv.micros)
            .ok_or_else(|| Error::DatetimeFieldOverflow("timestamp out of range".into()))
    }

    /// The abbreviation `to_char`'s TZ prints at the instant `utc`.
    pub fn abbreviation_at(&self, utc: i64) -> String {
        match self {
            Zone::Fixed(0) => "UTC".into(),
            Zone::Fixed(s) => offset_text(*s),
            Zone::Named(tz) => chrono::DateTime::from_timestamp_micros(utc)
                .and_then(|dt| {
                    tz.offset_from_utc_datetime(&dt.naive_utc())
                        .abbreviation()
                        .map(str::to_string)
                })
                .unwrap_or_else(|| offset_text(self.offset_at(utc))),
        }
    }

    /// The instant of the wall time `local` in this zone.
    pub fn instant_of(&self, local: i64) -> i64 {
        let tz = match self {
            Zone::Fixed(s) => return local - s * MICROS,
            Zone::Named(tz) => tz,
        };
        let Some(naive) = chrono::DateTime::from_timestamp_micros(local).map(|d| d.naive_utc())
        else {
            return local;
        };
        let secs = match tz.offset_from_local_datetime(&naive) {
            chrono::LocalResult::Single(o) => i64::from(o.fix().local_minus_utc()),
            // Repeated: the offset after the transition (the later instant).
            chrono::LocalResult::Ambiguous(a, b) => {
                let (a, b) = (a.fix().local_minus_utc(), b.fix().local_minus_utc());
                i64::from(a.min(b))
            }
            // Skipped: the offset from before the jump.
            chrono::LocalResult::None => self.offset_at(local - 12 * 3600 * MICROS),
        };
        local - secs * MICROS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::datetime::{format_timestamp, parse_timestamp};

    fn instant(ts: &str, zone: &str) -> String {
        let z = Zone::parse(zone).unwrap();
        format_timestamp(z.instant_of(parse_timestamp(ts, false).unwrap()))
    }

    #[test]
    fn zones_read_and_convert_as_postgresql_does() {
        // Each answer is PostgreSQL 15's `timestamp … AT TIME ZONE …`.
        assert_eq!(
            instant("2024-03-31 02:30", "Europe/Paris"),
            "2024-03-31 01:30:00"
        );
        assert_eq!(
            instant("2024-10-27 02:30", "Europe/Paris"),
            "2024-10-27 01:30:00"
        );
        assert_eq!(
            instant("2024-07-01 12:00", "europe/paris"),
            "2024-07-01 10:00:00"
        );
        assert_eq!(instant("2024-07-01 12:00", "+02"), "2024-07-01 14:00:00");
        assert_eq!(Zone::parse("CET").unwrap(), Zone::Fixed(3600));
        assert_eq!(Zone::parse("msk").unwrap_err().sqlstate(), "0A000");
        assert_eq!(instant("2024-07-01 12:00", "UTC"), "2024-07-01 12:00:00");
        let z = Zone::parse("America/New_York").unwrap();
        let t = parse_timestamp("2024-07-01 12:00", true).unwrap();
        assert_eq!(format_timestamp(z.local_of(t)), "2024-07-01 08:00:00");
        assert_eq!(Zone::parse("Nowhere/Land").unwrap_err().sqlstate(), "22023");
        assert_eq!(Zone::parse("pst").unwrap(), Zone::Fixed(-8 * 3600));
        assert!(Zone::from_setting("PST").is_err());
    }
}
