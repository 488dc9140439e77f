//! Interval arithmetic as PostgreSQL computes it: sums field by field,
//! products and quotients that cascade fractions of months into days and
//! of days into microseconds, timestamps moved by calendar months and
//! days, differences of timestamps, `age`, the `justify_*` functions and
//! the fields `extract` reads.

use super::{out_of_range, Interval, DAYS_PER_MONTH, MICROS_PER_DAY, MICROS_PER_HOUR};
use super::{MICROS_PER_MINUTE, MICROS_PER_SECOND};
use crate::error::{Error, Result};
use crate::types::datetime::{civil_from_days, days_from_civil, days_in_month};

/// PostgreSQL's TSROUND: a float rounded to six fractional digits.
fn ts_round(x: f64) -> f64 {
    (x * 1e6).round_ties_even() / 1e6
}

fn fits_i32(x: f64) -> Option<i32> {
    (x.is_finite() && x >= i32::MIN as f64 && x < -(i32::MIN as f64)).then_some(x as i32)
}

/// The (year, month, day, microsecond of day) of a timestamp
/// (microseconds since the Unix epoch).
fn civil(ts: i64) -> (i64, u32, u32, i64) {
    let (y, m, d) = civil_from_days(ts.div_euclid(MICROS_PER_DAY));
    (y, m, d, ts.rem_euclid(MICROS_PER_DAY))
}

impl Interval {
    pub fn checked_neg(self) -> Option<Interval> {
        Some(Interval {
            months: self.months.checked_neg()?,
            days: self.days.checked_neg()?,
            micros: self.micros.checked_neg()?,
        })
    }

    pub fn negated(self) -> Result<Interval> {
        self.checked_neg().ok_or_else(out_of_range)
    }

    pub fn plus(self, o: Interval) -> Result<Interval> {
        self.fieldwise(o, i32::checked_add, i64::checked_add)
    }

    pub fn minus(self, o: Interval) -> Result<Interval> {
        self.fieldwise(o, i32::checked_sub, i64::checked_sub)
    }

    /// Field by field with `day_op` on months and days, `time_op` on the
    /// microseconds; 22008 on overflow.
    fn fieldwise(
        self,
        o: Interval,
        day_op: fn(i32, i32) -> Option<i32>,
        time_op: fn(i64, i64) -> Option<i64>,
    ) -> Result<Interval> {
        let r = || {
            Some(Interval {
                months: day_op(self.months, o.months)?,
                days: day_op(self.days, o.days)?,
                micros: time_op(self.micros, o.micros)?,
            })
        };
        r().ok_or_else(out_of_range)
    }

    /// `interval * factor` (PostgreSQL's interval_mul): whole months and
    /// days stay, their fractions cascade down to days and microseconds.
    pub fn times(self, factor: f64) -> Result<Interval> {
        self.scaled(|x| x * factor)
    }

    /// `interval / factor` (PostgreSQL's interval_div); 22012 for zero.
    pub fn divided_by(self, factor: f64) -> Result<Interval> {
        if factor == 0.0 {
            return Err(Error::DivisionByZero("division by zero".into()));
        }
        self.scaled(|x| x / factor)
    }

    /// Each field scaled by `by` (a product or a quotient, computed as
    /// PostgreSQL computes each), fractions of months and days cascaded.
    fn scaled(self, by: impl Fn(f64) -> f64) -> Result<Interval> {
        let months = fits_i32(by(self.months as f64)).ok_or_else(out_of_range)?;
        let days = fits_i32(by(self.days as f64)).ok_or_else(out_of_range)?;
        let month_rest = ts_round((by(self.months as f64) - months as f64) * DAYS_PER_MONTH as f64);
        let mut sec_rest = ts_round(
            (by(self.days as f64) - days as f64 + month_rest - month_rest.trunc()) * 86_400.0,
        );
        let mut days = days;
        if sec_rest.abs() >= 86_400.0 {
            let whole = (sec_rest / 86_400.0) as i32;
            days = days.checked_add(whole).ok_or_else(out_of_range)?;
            sec_rest -= whole as f64 * 86_400.0;
        }
        days = days
            .checked_add(month_rest as i32)
            .ok_or_else(out_of_range)?;
        let t = (by(self.micros as f64) + sec_rest * 1e6).round_ties_even();
        if !t.is_finite() || t < i64::MIN as f64 || t >= -(i64::MIN as f64) {
            return Err(out_of_range());
        }
        Ok(Interval {
            months,
            days,
            micros: t as i64,
        })
    }

    /// Whole days of the time moved into days (`justify_hours`).
    pub fn justify_hours(self) -> Result<Interval> {
        let whole = self.micros / MICROS_PER_DAY;
        let mut micros = self.micros - whole * MICROS_PER_DAY;
        let mut days = i64::from(self.days) + whole;
        if days > 0 && micros < 0 {
            micros += MICROS_PER_DAY;
            days -= 1;
        } else if days < 0 && micros > 0 {
            micros -= MICROS_PER_DAY;
            days += 1;
        }
        Ok(Interval {
            months: self.months,
            days: i32::try_from(days).map_err(|_| out_of_range())?,
            micros,
        })
    }

    /// Whole 30-day periods moved into months (`justify_days`).
    pub fn justify_days(self) -> Result<Interval> {
        let whole = i64::from(self.days) / DAYS_PER_MONTH;
        let mut days = i64::from(self.days) - whole * DAYS_PER_MONTH;
        let mut months = i64::from(self.months) + whole;
        if months > 0 && days < 0 {
            days += DAYS_PER_MONTH;
            months -= 1;
        } else if months < 0 && days > 0 {
            days -= DAYS_PER_MONTH;
            months += 1;
        }
        Ok(Interval {
            months: i32::try_from(months).map_err(|_| out_of_range())?,
            days: days as i32,
            micros: self.micros,
        })
    }

    /// Both, with the signs made to agree (`justify_interval`).
    pub fn justify_interval(self) -> Result<Interval> {
        let mut months = i64::from(self.months);
        let mut days = i64::from(self.days);
        let mut micros = self.micros;
        if (days > 0 && micros > 0) || (days < 0 && micros < 0) {
            let whole = days / DAYS_PER_MONTH;
            days -= whole * DAYS_PER_MONTH;
            months += whole;
        }
        let whole = micros / MICROS_PER_DAY;
        micros -= whole * MICROS_PER_DAY;
        days += whole;
        let whole = days / DAYS_PER_MONTH;
        days -= whole * DAYS_PER_MONTH;
        months += whole;
        if months > 0 && (days < 0 || (days == 0 && micros < 0)) {
            days += DAYS_PER_MONTH;
            months -= 1;
        } else if months < 0 && (days > 0 || (days == 0 && micros > 0)) {
            days -= DAYS_PER_MONTH;
            months += 1;
        }
        if days > 0 && micros < 0 {
            micros += MICROS_PER_DAY;
            days -= 1;
        } else if days < 0 && micros > 0 {
            micros -= MICROS_PER_DAY;
            days += 1;
        }
        Ok(Interval {
            months: i32::try_from(months).map_err(|_| out_of_range())?,
            days: i32::try_from(days).map_err(|_| out_of_range())?,
            micros,
        })
    }

    /// A timestamp (microseconds since the Unix epoch) moved by this
    /// interval: months on the calendar (a day past the new month's end
    /// becomes its last day), then days, then the time.
    pub fn add_to_timestamp(self, ts: i64) -> Result<i64> {
        let range = || Error::DatetimeFieldOverflow("timestamp out of range".into());
        let mut ts = ts;
        if self.months != 0 {
            let (y, m, d, tod) = civil(ts);
            let total = y * 12 + i64::from(m) - 1 + i64::from(self.months);
            let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
            let nd = d.min(days_in_month(ny, nm));
            ts = days_from_civil(ny, nm, nd)
                .checked_mul(MICROS_PER_DAY)
                .and_then(|t| t.checked_add(tod))
                .ok_or_else(range)?;
        }
        if self.days != 0 {
            ts = ts
                .checked_add(i64::from(self.days) * MICROS_PER_DAY)
                .ok_or_else(range)?;
        }
        ts.checked_add(self.micros).ok_or_else(range)
    }

    /// `a - b` of two timestamps: days and time, no months
    /// (PostgreSQL's timestamp_mi, justified into days).
    pub fn between(a: i64, b: i64) -> Result<Interval> {
        let micros = a.checked_sub(b).ok_or_else(out_of_range)?;
        Interval {
            months: 0,
            days: 0,
            micros,
        }
        .justify_hours()
    }

    /// `age(a, b)`: the difference field by field, borrowing from the
    /// next larger field as PostgreSQL's timestamp_age does.
    pub fn age(a: i64, b: i64) -> Result<Interval> {
        let (y1, m1, d1, t1) = civil(a);
        let (y2, m2, d2, t2) = civil(b);
        let split = |t: i64| {
            (
                t / MICROS_PER_HOUR,
                t % MICROS_PER_HOUR / MICROS_PER_MINUTE,
                t % MICROS_PER_MINUTE / MICROS_PER_SECOND,
                t % MICROS_PER_SECOND,
            )
        };
        let (h1, mi1, s1, f1) = split(t1);
        let (h2, mi2, s2, f2) = split(t2);
        let mut f = f1 - f2;
        let mut s = s1 - s2;
        let mut mi = mi1 - mi2;
        let mut h = h1 - h2;
        let mut d = i64::from(d1) - i64::from(d2);
        let mut mo = i64::from(m1) - i64::from(m2);
        let mut y = y1 - y2;
        let flip = a < b;
        if flip {
            (f, s, mi, h, d, mo, y) = (-f, -s, -mi, -h, -d, -mo, -y);
        }
        while f < 0 {
            f += MICROS_PER_SECOND;
            s -= 1;
        }
        while s < 0 {
            s += 60;
            mi -= 1;
        }
        while mi < 0 {
            mi += 60;
            h -= 1;
        }
        while h < 0 {
            h += 24;
            d -= 1;
        }
        while d < 0 {
            let (yy, mm) = if flip { (y1, m1) } else { (y2, m2) };
            d += i64::from(days_in_month(yy, mm));
            mo -= 1;
        }
        while mo < 0 {
            mo += 12;
            y -= 1;
        }
        if flip {
            (f, s, mi, h, d, mo, y) = (-f, -s, -mi, -h, -d, -mo, -y);
        }
        Ok(Interval {
            months: i32::try_from(y * 12 + mo).map_err(|_| out_of_range())?,
            days: i32::try_from(d).map_err(|_| out_of_range())?,
            micros: ((h * 60 + mi) * 60 + s) * MICROS_PER_SECOND + f,
        })
    }

    /// `date_trunc(unit, interval)`: the fields below `unit` zeroed, as
    /// PostgreSQL's interval_trunc does (`unit` in lower case).
    pub fn truncated(self, unit: &str) -> Result<Interval> {
        let rank = match unit {
            "millennium" | "millennia" | "mil" | "mils" => 9,
            "century" | "centuries" | "c" | "cent" => 8,
            "decade" | "decades" | "dec" | "decs" => 7,
            "year" | "years" | "y" | "yr" | "yrs" => 6,
            "quarter" | "qtr" => 5,
            "month" | "months" | "mon" | "mons" => 4,
            "day" | "days" | "d" => 3,
            "hour" | "hours" | "h" | "hr" | "hrs" => 2,
            "minute" | "minutes" | "m" | "min" | "mins" => 1,
            "second" | "seconds" | "s" | "sec" | "secs" => 0,
            "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" => -1,
            "microsecond" | "microseconds" | "us" | "usec" | "usecs" => -2,
            "week" | "weeks" | "w" => {
                return Err(Error::Unsupported(format!(
                    "unit \"{unit}\" for type interval"
                )))
            }
            other => {
                return Err(Error::InvalidParameter(format!(
                    "unit \"{other}\" not recognized for type interval"
                )))
            }
        };
        let mut year = i64::from(self.months / 12);
        let mut mon = i64::from(self.months % 12);
        let mut day = i64::from(self.days);
        let t = self.micros;
        let (mut hour, mut min) = (t / MICROS_PER_HOUR, t % MICROS_PER_HOUR / MICROS_PER_MINUTE);
        let (mut sec, mut fsec) = (
            t % MICROS_PER_MINUTE / MICROS_PER_SECOND,
            t % MICROS_PER_SECOND,
        );
        for (r, step) in [(9, 1000), (8, 100), (7, 10)] {
            if rank >= r {
                year = year / step * step;
            }
        }
        if rank >= 6 {
            mon = 0;
        }
        if rank >= 5 {
            mon = 3 * (mon / 3);
        }
        if rank >= 4 {
            day = 0;
        }
        if rank >= 3 {
            hour = 0;
        }
        if rank >= 2 {
            min = 0;
        }
        if rank >= 1 {
            sec = 0;
        }
        if rank >= 0 {
            fsec = 0;
        } else if rank == -1 {
            fsec = fsec / 1000 * 1000;
        }
        Ok(Interval {
            months: i32::try_from(year * 12 + mon).map_err(|_| out_of_range())?,
            days: i32::try_from(day).map_err(|_| out_of_range())?,
            micros: ((hour * 60 + min) * 60 + sec) * MICROS_PER_SECOND + fsec,
        })
    }

    /// `date_bin(stride, ts, origin)`: the start of the stride-wide bin,
    /// counted from `origin`, that holds `ts` (all in microseconds).
    pub fn bin(self, ts: i64, origin: i64) -> Result<i64> {
        if self.months != 0 {
            return Err(Error::Unsupported(
                "timestamps binned into intervals containing months or years".into(),
            ));
        }
        let stride = i128::from(self.days) * i128::from(MICROS_PER_DAY) + i128::from(self.micros);
        if stride <= 0 {
            return Err(Error::DatetimeFieldOverflow(
                "stride must be greater than zero".into(),
            ));
        }
        let delta = i128::from(ts) - i128::from(origin);
        let binned = i128::from(origin) + delta.div_euclid(stride) * stride;
        i64::try_from(binned)
            .map_err(|_| Error::DatetimeFieldOverflow("timestamp out of range".into()))
    }

    /// `make_interval(years, months, weeks, days, hours, mins, secs)`.
    pub fn make(ints: [i64; 6], secs: f64) -> Result<Interval> {
        let [years, months, weeks, days, hours, mins] = ints;
        let m = years
            .checked_mul(12)
            .and_then(|y| y.checked_add(months))
            .and_then(|m| i32::try_from(m).ok());
        let d = weeks
            .checked_mul(7)
            .and_then(|w| w.checked_add(days))
            .and_then(|d| i32::try_from(d).ok());
        let s = (secs * 1e6).round_ties_even();
        let t = hours
            .checked_mul(MICROS_PER_HOUR)
            .and_then(|h| h.checked_add(mins.checked_mul(MICROS_PER_MINUTE)?))
            .and_then(|t| (s.is_finite() && s.abs() < 9.2e18).then(|| t.checked_add(s as i64))?);
        match (m, d, t) {
            (Some(months), Some(days), Some(micros)) => Ok(Interval {
                months,
                days,
                micros,
            }),
            _ => Err(out_of_range()),
        }
    }

    /// A field of `extract`/`date_part` as PostgreSQL 15's numeric result
    /// text (seconds with six decimals, milliseconds with three, epoch with
    /// six); `field` is lower case.
    pub fn part(self, field: &str) -> Result<String> {
        let year = i64::from(self.months / 12);
        let mon = i64::from(self.months % 12);
        let t = self.micros;
        let sec_us = t % MICROS_PER_MINUTE;
        let scaled = |v: i128, scale: u32| -> String {
            let div = 10i128.pow(scale);
            let sign = if v < 0 { "-" } else { "" };
            let a = v.unsigned_abs();
            let d = div as u128;
            if scale == 0 {
                format!("{sign}{a}")
            } else {
                format!("{sign}{}.{:0w$}", a / d, a % d, w = scale as usize)
            }
        };
        Ok(match field {
            "microsecond" | "microseconds" | "usec" | "usecs" | "us" => scaled(sec_us.into(), 0),
            "millisecond" | "milliseconds" | "msec" | "msecs" | "ms" => scaled(sec_us.into(), 3),
            "second" | "seconds" | "sec" | "secs" | "s" => scaled(sec_us.into(), 6),
            "minute" | "minutes" | "min" | "mins" | "m" => {
                (t % MICROS_PER_HOUR / MICROS_PER_MINUTE).to_string()
            }
            "hour" | "hours" | "h" | "hr" | "hrs" => (t / MICROS_PER_HOUR).to_string(),
            "day" | "days" | "d" => self.days.to_string(),
            "month" | "months" | "mon" | "mons" => mon.to_string(),
            "quarter" | "qtr" => (mon / 3 + 1).to_string(),
            "year" | "years" | "y" | "yr" | "yrs" => year.to_string(),
            "decade" | "decades" | "dec" | "decs" => (year / 10).to_string(),
            "century" | "centuries" | "c" | "cent" => (year / 100).to_string(),
            "millennium" | "millennia" | "mil" | "mils" => (year / 1000).to_string(),
            "epoch" => {
                let days = 36525 * (year as i128) * 86_400 / 100
                    + (DAYS_PER_MONTH as i128 * mon as i128 + i128::from(self.days)) * 86_400;
                scaled(days * 1_000_000 + i128::from(t), 6)
            }
            other => {
                return Err(Error::Unsupported(format!(
                    "unit \"{other}\" for type interval"
                )))
            }
        })
    }
}
