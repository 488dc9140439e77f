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
        }
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
            }
        }
        if !matches!(ty, PgType::Int2 | PgType::Int4 | PgType::Int8) {
            return Err(Error::InvalidParameter(
                "sequence type must be smallint, integer, or bigint".into(),
            ));
        }
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
        })
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
