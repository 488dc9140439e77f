//! A sequence's definition (CREATE SEQUENCE's options, or the implicit
//! sequence of a serial column) and PostgreSQL's rules for them.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::types::PgType;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequenceDef {
    /// smallint, integer or bigint.
    pub ty: PgType,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
    /// `OWNED BY table.column`: dropped with the table.
    pub owned_by: Option<(String, String)>,
    /// Which run of the sequence this is: 0 until a RESTART (ALTER
    /// SEQUENCE, TRUNCATE … RESTART IDENTITY) gives it the clock of that
    /// change. Each node keeps its position per run, so a restart reaches
    /// every node with the catalog, and rolling it back finds the old
    /// run's position where it was.
    #[serde(default)]
    pub epoch: i64,
    /// Where the current run starts (RESTART WITH), if not at `start`.
    #[serde(default)]
    pub restart: Option<i64>,
}

/// A CREATE SEQUENCE option, its value already a number.
#[derive(Debug, Clone, PartialEq)]
pub enum SeqOption {
    Type(PgType),
    Increment(i64),
    /// `None`: NO MINVALUE.
    Min(Option<i64>),
    /// `None`: NO MAXVALUE.
    Max(Option<i64>),
    Start(i64),
    Cache(i64),
    Cycle(bool),
    OwnedBy(Option<(String, String)>),
    /// ALTER's `RESTART [WITH n]` (`None`: at START).
    Restart(Option<i64>),
}

impl SequenceDef {
    /// The sequence behind a serial (or identity) column of type `ty`.
    pub fn serial(ty: PgType) -> SequenceDef {
        let max = type_max(&ty);
        SequenceDef {
            ty,
            start: 1,
            increment: 1,
            min: 1,
            max,
            cache: 1,
            cycle: false,
            owned_by: None,
            epoch: 0,
            restart: None,
        }
    }

    /// The name a node keeps this sequence's position under: its name,
    /// and the run after a restart.
    pub fn key(&self, name: &str) -> String {
        match self.epoch {
            0 => name.to_string(),
            e => format!("{name}{KEY_SEPARATOR}{e}"),
        }
    }

    /// The first value of the current run.
    pub fn first(&self) -> i64 {
        self.restart.unwrap_or(self.start)
    }

    /// A definition from CREATE SEQUENCE's options, with PostgreSQL's
    /// defaults and checks.
    pub fn from_options(options: &[SeqOption]) -> Result<SequenceDef> {
        let mut ty = PgType::Int8;
        let (mut inc, mut min, mut max, mut start, mut cache, mut cycle, mut owned) =
            (1, None, None, None, 1, false, None);
        for o in options {
            match o {
                SeqOption::Type(t) => ty = t.clone(),
                SeqOption::Increment(i) => inc = *i,
                SeqOption::Min(m) => min = *m,
                SeqOption::Max(m) => max = *m,
                SeqOption::Start(s) => start = Some(*s),
                SeqOption::Cache(c) => cache = *c,
                SeqOption::Cycle(c) => cycle = *c,
                SeqOption::OwnedBy(o) => owned = o.clone(),
                SeqOption::Restart(_) => {}
            }
        }
        check_type(&ty)?;
        if inc == 0 {
            return Err(Error::InvalidParameter("INCREMENT must not be zero".into()));
        }
        let (lo, hi) = (type_min(&ty), type_max(&ty));
        let min = min.unwrap_or(if inc > 0 { 1 } else { lo });
        let max = max.unwrap_or(if inc > 0 { hi } else { -1 });
        let type_name = ty.display_name();
        for (what, v) in [("MINVALUE", min), ("MAXVALUE", max)] {
            if v < lo || v > hi {
                return Err(Error::InvalidParameter(format!(
                    "{what} ({v}) is out of range for sequence data type {type_name}"
                )));
            }
        }
        if min >= max {
            return Err(Error::InvalidParameter(format!(
                "MINVALUE ({min}) must be less than MAXVALUE ({max})"
            )));
        }
        let start = start.unwrap_or(if inc > 0 { min } else { max });
        if start < min {
            return Err(Error::InvalidParameter(format!(
                "START value ({start}) cannot be less than MINVALUE ({min})"
            )));
        }
        if start > max {
            return Err(Error::InvalidParameter(format!(
                "START value ({start}) cannot be greater than MAXVALUE ({max})"
            )));
        }
        if cache < 1 {
            return Err(Error::InvalidParameter(format!(
                "CACHE ({cache}) must be greater than zero"
            )));
        }
        Ok(SequenceDef {
            ty,
            start,
            increment: inc,
            min,
            max,
            cache,
            cycle,
            owned_by: owned,
            epoch: 0,
            restart: None,
        })
    }

    /// The definition after ALTER SEQUENCE's `options`, with PostgreSQL's
    /// checks (its `init_params` for an existing sequence). `last` is the
    /// value the sequence stands at on this node; a RESTART starts a new
    /// run numbered `epoch`.
    pub fn alter(&self, options: &[SeqOption], last: i64, epoch: i64) -> Result<SequenceDef> {
        let mut d = self.clone();
        let (mut reset_max, mut reset_min) = (false, false);
        let (mut max, mut min, mut restart) = (None, None, None);
        for o in options {
            match o {
                SeqOption::Type(t) => {
                    check_type(t)?;
                    reset_max = self.max == type_max(&self.ty);
                    reset_min = self.min == type_min(&self.ty);
                    d.ty = t.clone();
                }
                SeqOption::Increment(i) => d.increment = *i,
                SeqOption::Min(m) => min = Some(*m),
                SeqOption::Max(m) => max = Some(*m),
                SeqOption::Start(s) => d.start = *s,
                SeqOption::Cache(c) => d.cache = *c,
                SeqOption::Cycle(c) => d.cycle = *c,
                SeqOption::OwnedBy(o) => d.owned_by = o.clone(),
                SeqOption::Restart(r) => restart = Some(*r),
            }
        }
        if d.increment == 0 {
            return Err(Error::InvalidParameter("INCREMENT must not be zero".into()));
        }
        let (lo, hi) = (type_min(&d.ty), type_max(&d.ty));
        match max {
            Some(Some(m)) => d.max = m,
            _ if max.is_some() || reset_max => {
                d.max = if d.increment > 0 || reset_max { hi } else { -1 }
            }
            _ => {}
        }
        match min {
            Some(Some(m)) => d.min = m,
            _ if min.is_some() || reset_min => {
                d.min = if d.increment < 0 || reset_min { lo } else { 1 }
            }
            _ => {}
        }
        let type_name = d.ty.display_name();
        for (what, v) in [("MAXVALUE", d.max), ("MINVALUE", d.min)] {
            if v < lo || v > hi {
                return Err(Error::InvalidParameter(format!(
                    "{what} ({v}) is out of range for sequence data type {type_name}"
                )));
            }
        }
        if d.min >= d.max {
            return Err(Error::InvalidParameter(format!(
                "MINVALUE ({}) must be less than MAXVALUE ({})",
                d.min, d.max
            )));
        }
        d.check_bound("START", d.start)?;
        let last = match restart {
            Some(r) => {
                d.epoch = epoch;
                d.restart = Some(r.unwrap_or(d.start));
                d.first()
            }
            None => last,
        };
        d.check_bound("RESTART", last)?;
        if d.cache < 1 {
            return Err(Error::InvalidParameter(format!(
                "CACHE ({}) must be greater than zero",
                d.cache
            )));
        }
        Ok(d)
    }

    /// `START value (5) cannot be less than MINVALUE (10)` and its like.
    fn check_bound(&self, what: &str, v: i64) -> Result<()> {
        if v < self.min {
            return Err(Error::InvalidParameter(format!(
                "{what} value ({v}) cannot be less than MINVALUE ({})",
                self.min
            )));
        }
        if v > self.max {
            return Err(Error::InvalidParameter(format!(
                "{what} value ({v}) cannot be greater than MAXVALUE ({})",
                self.max
            )));
        }
        Ok(())
    }

    /// The error for running past the end, as nextval reports it.
    pub fn exhausted(&self, name: &str) -> Error {
        let (end, v) = if self.increment > 0 {
            ("maximum", self.max)
        } else {
            ("minimum", self.min)
        };
        Error::SequenceLimit(format!(
            "nextval: reached {end} value of sequence \"{name}\" ({v})"
        ))
    }

    /// setval's bounds check.
    pub fn check_setval(&self, name: &str, value: i64) -> Result<()> {
        if value < self.min || value > self.max {
            return Err(Error::NumericOutOfRange(format!(
                "setval: value {value} is out of bounds for sequence \"{name}\" ({}..{})",
                self.min, self.max
            )));
        }
        Ok(())
    }
}

fn check_type(ty: &PgType) -> Result<()> {
    if !matches!(ty, PgType::Int2 | PgType::Int4 | PgType::Int8) {
        return Err(Error::InvalidParameter(
            "sequence type must be smallint, integer, or bigint".into(),
        ));
    }
    Ok(())
}

/// Separates a sequence's name from its run in a position's key.
pub const KEY_SEPARATOR: char = '\u{1f}';

fn type_max(ty: &PgType) -> i64 {
    match ty {
        PgType::Int2 => i16::MAX as i64,
        PgType::Int4 => i32::MAX as i64,
        _ => i64::MAX,
    }
}

fn type_min(ty: &PgType) -> i64 {
    match ty {
        PgType::Int2 => i16::MIN as i64,
        PgType::Int4 => i32::MIN as i64,
        _ => i64::MIN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_increments_sign() {
        let up = SequenceDef::from_options(&[]).unwrap();
        assert_eq!((up.start, up.min, up.max), (1, 1, i64::MAX));
        let down = SequenceDef::from_options(&[SeqOption::Increment(-1)]).unwrap();
        assert_eq!((down.start, down.min, down.max), (-1, i64::MIN, -1));
        let small = SequenceDef::from_options(&[SeqOption::Type(PgType::Int2)]).unwrap();
        assert_eq!(small.max, 32767);
    }

    #[test]
    fn bad_options_are_refused() {
        assert!(SequenceDef::from_options(&[SeqOption::Increment(0)]).is_err());
        assert!(SequenceDef::from_options(&[SeqOption::Start(0)]).is_err());
        assert!(SequenceDef::from_options(&[
            SeqOption::Type(PgType::Int2),
            SeqOption::Max(Some(40000))
        ])
        .is_err());
    }
}
