//! Column types, random tables and their rows, as SQL text that PostgreSQL
//! and MosaicDB both accept.

use super::rng::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Int4,
    Int8,
    Float8,
    Numeric,
    Text,
    Varchar,
    Bool,
    Date,
    Timestamp,
    Interval,
}

/// The types random columns get.
pub const COLUMN_TYPES: &[Ty] = &[
    Ty::Int4,
    Ty::Int8,
    Ty::Float8,
    Ty::Text,
    Ty::Varchar,
    Ty::Bool,
    Ty::Date,
    Ty::Timestamp,
    Ty::Numeric,
    Ty::Interval,
];

impl Ty {
    /// The type's name in DDL and casts.
    pub fn sql(self) -> &'static str {
        match self {
            Ty::Int4 => "int4",
            Ty::Int8 => "int8",
            Ty::Float8 => "float8",
            Ty::Numeric => "numeric",
            Ty::Text => "text",
            Ty::Varchar => "varchar(8)",
            Ty::Bool => "bool",
            Ty::Date => "date",
            Ty::Timestamp => "timestamp",
            Ty::Interval => "interval",
        }
    }
}

pub struct Column {
    pub name: String,
    pub ty: Ty,
}

pub struct Table {
    pub name: String,
    pub cols: Vec<Column>,
}

/// Text values: empty, case variants, spaces, LIKE metacharacters, a quote,
/// a backslash, non-ASCII; few enough that rows repeat them.
const TEXTS: &[&str] = &[
    "", "a", "A", "ab", "abc", "Abc", "ABC", "b", "a b", " a ", "a%b", "x_y", "hello", "Hello",
    "it's", "zz", "10", "2", "Ünï", "ü", "-1", "a\\b",
];

/// A random text value; with `known_bugs` also ones left out of [`TEXTS`].
pub fn text_value(rng: &mut Rng, known_bugs: bool) -> &'static str {
    // ß: upper() maps it to SS (`SELECT upper('straße')` is STRASSE);
    //   PostgreSQL maps character by character and keeps ß.
    if known_bugs && rng.chance(5) {
        return "straße";
    }
    rng.pick(TEXTS)
}

const DATES: &[&str] = &[
    "2024-02-29",
    "2024-03-01",
    "2000-01-01",
    "1999-12-31",
    "1970-01-01",
    "2024-01-15",
    "1900-02-28",
    "2038-01-19",
];

const TIMES: &[&str] = &[
    "00:00:00",
    "12:00:00",
    "23:59:59",
    "08:30:15",
    "23:59:59.5",
    "00:00:00.25",
];

/// float8 values, all far below 2^53 in magnitude (and float8 products
/// keep a small literal factor, see expr.rs) but for 1e+100, whose
/// products overflow; with `known_bugs` also larger and smaller ones.
// float8 ties: 1e10 and -1e-05 are left out, so no value reaches 2^53,
//   where the shortest decimal can fall exactly on a rounding tie, and
//   PostgreSQL's output then is not the shortest one MosaicDB prints:
//   `SELECT 1e23::float8` is 9.999999999999999e+22 in PostgreSQL, 1e+23 in
//   MosaicDB.
fn float_value(rng: &mut Rng, known_bugs: bool) -> &'static str {
    const FLOATS: &[&str] = &[
        "0", "1", "-1", "0.5", "-2.25", "0.1", "1.5", "2.5", "-0.5", "3.75", "100", "-0.01",
        "123.456",
    ];
    if known_bugs && rng.chance(10) {
        return rng.pick(&["1e+100", "1e10", "-1e-05"]);
    }
    if rng.chance(5) {
        return "1e+100";
    }
    rng.pick(FLOATS)
}

/// Interval values, each spelled as PostgreSQL prints it and no two equal
/// by value: equal intervals of different spellings (`1 day`, `24:00:00`)
/// group and sort as one, and which spelling such a group shows is not
/// fixed, so the pool keeps them apart.
const INTERVALS: &[&str] = &[
    "1 day",
    "02:00:00",
    "-01:30:00",
    "3 days 04:00:00",
    "1 mon",
    "1 year 2 mons",
    "00:00:00.5",
    "-2 days",
    "00:00:00",
    "5 days",
    "-1 mons +1 day",
];

const NUMERICS: &[&str] = &[
    "0", "1", "-1", "0.5", "-2.25", "0.10", "1.5", "2.50", "123.456", "-0.01",
];

/// An int4 value: mostly small, sometimes larger, sometimes at the limits.
pub fn int4_value(rng: &mut Rng, _known_bugs: bool) -> i64 {
    match rng.weighted(&[70, 24, 6]) {
        0 => rng.range(-12, 12),
        1 => rng.pick(&[100, -100, 1000, 65536, -99999]),
        _ => rng.pick(&[i32::MAX as i64, -(i32::MAX as i64), i32::MIN as i64]),
    }
}

/// An int8 value: mostly small, sometimes large, sometimes `±(2^63 - 1)`.
pub fn int8_value(rng: &mut Rng) -> i64 {
    match rng.weighted(&[70, 25, 5]) {
        0 => rng.range(-12, 12),
        1 => rng.pick(&[
            100,
            -100,
            65536,
            123_456_789_012,
            -4_000_000_000,
            2_147_483_648,
        ]),
        _ => rng.pick(&[i64::MAX, -i64::MAX]),
    }
}

/// An integer as SQL: negative ones parenthesized, so `a - (-1)` never
/// reads as a comment.
pub fn int_sql(v: i64) -> String {
    if v < 0 {
        format!("({v})")
    } else {
        v.to_string()
    }
}

/// A random value of `ty` as a literal of that type (NULL included when
/// `nulls`).
pub fn literal(rng: &mut Rng, ty: Ty, nulls: bool, known_bugs: bool) -> String {
    if nulls && rng.chance(12) {
        return format!("CAST(NULL AS {})", ty.sql());
    }
    match ty {
        Ty::Int4 => int_sql(int4_value(rng, known_bugs)),
        Ty::Int8 => format!("CAST({} AS int8)", int_sql(int8_value(rng))),
        Ty::Float8 => format!("CAST({} AS float8)", float_value(rng, known_bugs)),
        Ty::Numeric => format!("CAST({} AS numeric)", rng.pick(NUMERICS)),
        Ty::Text | Ty::Varchar => text_literal(text_value(rng, known_bugs)),
        Ty::Bool => rng.pick(&["true", "false"]).to_string(),
        Ty::Date => format!("DATE '{}'", rng.pick(DATES)),
        Ty::Timestamp => {
            format!("TIMESTAMP '{} {}'", rng.pick(DATES), rng.pick(TIMES))
        }
        Ty::Interval => format!("INTERVAL '{}'", rng.pick(INTERVALS)),
    }
}

/// A timestamp as an untyped literal, not in PostgreSQL's output form.
// timestamps as text: a timestamp compared with an untyped literal is
//   compared as text (`SELECT TIMESTAMP '2024-01-01 10:00:00' >
//   '2024-01-01 9:00:00'` is false), so only with known_bugs.
pub fn untyped_timestamp(rng: &mut Rng) -> String {
    format!("'{} {}:00:00'", rng.pick(DATES), rng.range(0, 9))
}

/// A string literal, quotes doubled.
pub fn text_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A cell of a row: like [`literal`] but plain (`'2024-01-01'`, `1.5`),
/// as an INSERT would spell it, and from small pools so values repeat.
fn cell(rng: &mut Rng, ty: Ty, key: bool, known_bugs: bool) -> String {
    if rng.chance(15) {
        return "NULL".into();
    }
    match ty {
        Ty::Int4 if key => rng.range(0, 6).to_string(),
        Ty::Int4 => int_sql(int4_value(rng, known_bugs)),
        Ty::Int8 => int_sql(int8_value(rng)),
        Ty::Float8 => float_value(rng, known_bugs).to_string(),
        Ty::Numeric => rng.pick(NUMERICS).to_string(),
        // varchar(8) holds every value of text_value.
        Ty::Text | Ty::Varchar => text_literal(text_value(rng, known_bugs)),
        Ty::Bool => rng.pick(&["true", "false"]).to_string(),
        Ty::Date => format!("'{}'", rng.pick(DATES)),
        Ty::Timestamp => format!("'{} {}'", rng.pick(DATES), rng.pick(TIMES)),
        Ty::Interval => format!("'{}'", rng.pick(INTERVALS)),
    }
}

/// `count` tables named `t0…`: each has an int4 join key `k` with
/// values 0..=6 first, then 2 to 5 columns of random types.
pub fn tables(rng: &mut Rng, count: usize) -> Vec<Table> {
    let types = COLUMN_TYPES;
    (0..count)
        .map(|t| {
            let mut cols = vec![Column {
                name: "k".into(),
                ty: Ty::Int4,
            }];
            for c in 0..rng.range(2, 5) {
                cols.push(Column {
                    name: format!("c{c}"),
                    ty: rng.pick(types),
                });
            }
            Table {
                name: format!("t{t}"),
                cols,
            }
        })
        .collect()
}

impl Table {
    pub fn create_sql(&self) -> String {
        let cols: Vec<String> = self
            .cols
            .iter()
            .map(|c| format!("{} {}", c.name, c.ty.sql()))
            .collect();
        format!("CREATE TABLE {} ({})", self.name, cols.join(", "))
    }

    /// Multi-row INSERTs adding up to `rows` rows; some rows repeat
    /// earlier ones.
    pub fn insert_sql(
        &self,
        rng: &mut Rng,
        rows: usize,
        per_statement: usize,
        known_bugs: bool,
    ) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for _ in 0..rows {
            if !all.is_empty() && rng.chance(10) {
                let again = rng.pick(&all).clone();
                all.push(again);
                continue;
            }
            let cells: Vec<String> = self
                .cols
                .iter()
                .map(|c| cell(rng, c.ty, c.name == "k", known_bugs))
                .collect();
            all.push(format!("({})", cells.join(", ")));
        }
        all.chunks(per_statement.max(1))
            .map(|chunk| format!("INSERT INTO {} VALUES {}", self.name, chunk.join(", ")))
            .collect()
    }
}
