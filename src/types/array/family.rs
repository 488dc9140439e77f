//! How the elements of an array compare, and how SQLite stores one taken
//! out of it: by the element type's family. Arrays compare as PostgreSQL's
//! `array_cmp` does: element by element (a NULL element above every
//! value, two NULLs equal), then the shorter first.

use std::cmp::Ordering;

use super::parse_array;
use crate::types::{Datum, PgType};

/// The families of element types arrays are built of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// boolean and the integers: stored as an integer.
    Int,
    /// real and double precision: stored as a double.
    Real,
    Numeric,
    Interval,
    /// character(n): trailing spaces do not count.
    Bpchar,
    Jsonb,
    /// bytea, kept as its hex text (`\x0a`), which sorts as the bytes do.
    Bytea,
    /// Text and the types whose stored text sorts as the value does
    /// (varchar, date, timestamp, timestamptz, uuid).
    Text,
}

/// Every family, to register a collation for each.
pub const ALL: [Family; 8] = [
    Family::Int,
    Family::Real,
    Family::Numeric,
    Family::Interval,
    Family::Bpchar,
    Family::Jsonb,
    Family::Bytea,
    Family::Text,
];

/// The prefix of the SQLite collations of array columns and keys.
pub const COLLATION_PREFIX: &str = "pg_array_";

impl Family {
    /// The family of an element type; `None` for the types arrays are
    /// not built of here (json, enums, arrays).
    pub fn of(elem: &PgType) -> Option<Family> {
        Some(match elem {
            PgType::Bool | PgType::Int2 | PgType::Int4 | PgType::Int8 | PgType::Oid => Family::Int,
            PgType::Float4 | PgType::Float8 => Family::Real,
            PgType::Numeric(_) => Family::Numeric,
            PgType::Interval => Family::Interval,
            PgType::Bpchar(_) => Family::Bpchar,
            PgType::Jsonb => Family::Jsonb,
            PgType::Text
            | PgType::Varchar(_)
            | PgType::Date
            | PgType::Time
            | PgType::Timestamp
            | PgType::Timestamptz
            | PgType::Uuid
            | PgType::Char
            | PgType::Unknown => Family::Text,
            PgType::Bytea => Family::Bytea,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Family::Int => "int",
            Family::Real => "real",
            Family::Numeric => "numeric",
            Family::Interval => "interval",
            Family::Bpchar => "bpchar",
            Family::Jsonb => "jsonb",
            Family::Bytea => "bytea",
            Family::Text => "text",
        }
    }

    pub fn from_name(name: &str) -> Option<Family> {
        ALL.into_iter().find(|f| f.name() == name)
    }

    /// The collation of an array column or key of this family.
    pub fn collation(self) -> String {
        format!("{COLLATION_PREFIX}{}", self.name())
    }

    /// Compare two non-NULL elements by value.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Family::Int => match (a.parse::<i64>(), b.parse::<i64>()) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                _ => a.cmp(b),
            },
            Family::Real => match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                _ => a.cmp(b),
            },
            Family::Numeric => {
                use crate::types::numeric::Numeric;
                match (Numeric::parse(a), Numeric::parse(b)) {
                    (Ok(x), Ok(y)) => x.total_cmp(&y),
                    _ => a.cmp(b),
                }
            }
            Family::Interval => crate::types::interval::compare_text(a, b),
            Family::Bpchar => a.trim_end_matches(' ').cmp(b.trim_end_matches(' ')),
            Family::Jsonb => crate::types::json::jsonb_cmp(a, b).unwrap_or_else(|| a.cmp(b)),
            Family::Bytea | Family::Text => a.cmp(b),
        }
    }

    /// An element's stored value, from its text in the stored array.
    pub fn value(self, s: &str) -> Datum {
        match self {
            Family::Int => s.parse().map_or_else(|_| Datum::Text(s.into()), Datum::Int),
            Family::Real => s
                .parse()
                .map_or_else(|_| Datum::Text(s.into()), Datum::Real),
            Family::Bytea => {
                crate::types::convert::parse_bytea(s).unwrap_or_else(|_| Datum::Text(s.into()))
            }
            _ => Datum::Text(s.into()),
        }
    }
}

/// Compare two stored arrays as PostgreSQL's `array_cmp` does.
pub fn compare(family: Family, a: &str, b: &str) -> Ordering {
    compare_items(family, &parse_array(a), &parse_array(b))
}

/// [`compare`] over arrays already split into their elements.
pub fn compare_items(family: Family, x: &[Option<String>], y: &[Option<String>]) -> Ordering {
    for (p, q) in x.iter().zip(y) {
        let o = match (p, q) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(p), Some(q)) => family.compare(p, q),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    x.len().cmp(&y.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_compare_by_element_value_then_length() {
        assert_eq!(compare(Family::Int, "{9}", "{10}"), Ordering::Less);
        assert_eq!(compare(Family::Text, "{9}", "{10}"), Ordering::Greater);
        assert_eq!(compare(Family::Int, "{1,2}", "{1}"), Ordering::Greater);
        assert_eq!(compare(Family::Int, "{1,NULL}", "{1,5}"), Ordering::Greater);
        assert_eq!(
            compare(Family::Int, "{1,NULL}", "{1,NULL}"),
            Ordering::Equal
        );
        assert_eq!(compare(Family::Numeric, "{1.50}", "{1.5}"), Ordering::Equal);
        assert_eq!(compare(Family::Int, "{}", "{1}"), Ordering::Less);
    }
}
