//! Judging one MosaicDB answer against PostgreSQL's, and the tally of a
//! whole run.

use std::collections::BTreeMap;
use std::fmt::Write;

/// Rows as text (NULL as None), or `SQLSTATE message`.
pub type Answer = Result<Vec<Vec<Option<String>>>, String>;

pub enum Verdict {
    /// The same rows (in the same order, when the statement fixes it).
    Same,
    /// MosaicDB refused or failed with this SQLSTATE (PostgreSQL may have
    /// failed too): allowed.
    MosaicError(String),
    /// PostgreSQL failed while planning, folding a constant subexpression
    /// that fails (`CAST(1e10::float8 AS int4)`, even in a CASE arm or
    /// over no rows), and MosaicDB, evaluating only what rows reach,
    /// answered: allowed, since neither answer is wrong.
    Folded,
    /// The same rows but for the sign of a zero: -0 and 0 are equal, so
    /// which of them a group, DISTINCT or a set operation keeps is up to
    /// the engine (`GROUP BY trunc(x)` over -0.5 and 0.5). Allowed, and
    /// counted: MosaicDB's own -0 bugs are kept out of the grammar.
    ZeroSign,
    /// A different answer, rows where PostgreSQL failed, or no SQL error
    /// at all (a dropped connection, a timeout).
    Differs,
}

/// The SQLSTATE of an error answer, if the server sent one.
fn sqlstate(error: &str) -> Option<&str> {
    let code = error.split(' ').next()?;
    (code.len() == 5 && code.chars().all(|c| c.is_ascii_alphanumeric())).then_some(code)
}

/// `folded`: PostgreSQL's error comes from planning (see [`Verdict::Folded`]).
pub fn judge(pg: &Answer, mosaic: &Answer, ordered: bool, folded: bool) -> Verdict {
    match (pg, mosaic) {
        (_, Err(e)) => match sqlstate(e) {
            Some(code) => Verdict::MosaicError(code.to_string()),
            None => Verdict::Differs,
        },
        (Err(_), Ok(_)) if folded => Verdict::Folded,
        (Err(_), Ok(_)) => Verdict::Differs,
        (Ok(a), Ok(b)) => {
            let same = |a: &[Row], b: &[Row]| {
                if ordered {
                    same_in_order(a, b)
                } else {
                    sorted(a) == sorted(b)
                }
            };
            let unsigned = |rows: &[Row]| rows.iter().map(sort_key).collect::<Vec<Row>>();
            if same(a, b) {
                Verdict::Same
            } else if same(&unsigned(a), &unsigned(b)) {
                Verdict::ZeroSign
            } else {
                Verdict::Differs
            }
        }
    }
}

type Row = Vec<Option<String>>;

fn sorted(rows: &[Row]) -> Vec<Row> {
    let mut rows = rows.to_vec();
    rows.sort();
    rows
}

/// A row as ORDER BY sees it: -0 and 0 are equal (and print differently),
/// and so are numerics of different scales (`0.0` and `0.00`).
fn sort_key(row: &Row) -> Row {
    row.iter().map(|v| v.as_deref().map(numeric_key)).collect()
}

/// A decimal's text without trailing fractional zeros, `-0` as `0`; other
/// text as it is.
fn numeric_key(v: &str) -> String {
    let digits = v.strip_prefix('-').unwrap_or(v);
    let decimal = digits.split_once('.').is_some_and(|(i, f)| {
        !i.is_empty()
            && i.bytes().all(|b| b.is_ascii_digit())
            && f.bytes().all(|b| b.is_ascii_digit())
    });
    let trimmed = if decimal {
        v.trim_end_matches('0').trim_end_matches('.')
    } else {
        v
    };
    match trimmed {
        "-0" => "0".to_string(),
        t => t.to_string(),
    }
}

/// Equal answers to a statement that orders by every output column: the
/// same sequence of sort keys, and within each run of equal keys the same
/// rows (ties may come in any order) — except the last run, which LIMIT
/// may have cut anywhere.
fn same_in_order(a: &[Row], b: &[Row]) -> bool {
    let (ka, kb): (Vec<Row>, Vec<Row>) = (
        a.iter().map(sort_key).collect(),
        b.iter().map(sort_key).collect(),
    );
    if ka != kb {
        return false;
    }
    let mut start = 0;
    while start < a.len() {
        let end = (start..a.len())
            .find(|&i| ka[i] != ka[start])
            .unwrap_or(a.len());
        if end < a.len() && sorted(&a[start..end]) != sorted(&b[start..end]) {
            return false;
        }
        start = end;
    }
    true
}

/// The rows of `a` not matched by a row of `b` (as multisets).
fn missing_from(a: &[Row], b: &[Row]) -> Vec<Row> {
    let mut rest = b.to_vec();
    let mut out = Vec::new();
    for row in a {
        match rest.iter().position(|r| r == row) {
            Some(i) => {
                rest.swap_remove(i);
            }
            None => out.push(row.clone()),
        }
    }
    out
}

const MAX_ROWS: usize = 10;

fn show_rows(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows.iter().take(MAX_ROWS) {
        let cells: Vec<String> = row
            .iter()
            .map(|v| match v {
                None => "NULL".to_string(),
                Some(s) => format!("{s:?}"),
            })
            .collect();
        let _ = write!(out, "\n      {}", cells.join(" | "));
    }
    if rows.len() > MAX_ROWS {
        let _ = write!(out, "\n      … ({} more)", rows.len() - MAX_ROWS);
    }
    out
}

/// An answer as a few lines of text: rows as `a | b | NULL`, at most
/// [`MAX_ROWS`] of them.
pub fn show(answer: &Answer) -> String {
    match answer {
        Err(e) => format!("ERROR {e}"),
        Ok(rows) => format!("{} row(s){}", rows.len(), show_rows(rows)),
    }
}

pub struct Difference {
    pub target: &'static str,
    pub round: u64,
    pub sql: String,
    pub pg: Answer,
    pub mosaic: Answer,
}

impl Difference {
    /// The statement and both answers; for two row sets, the rows only one
    /// side has (or, with the same rows, both orders).
    pub fn describe(&self) -> String {
        let head = format!("[{}, round {}] {}", self.target, self.round, self.sql);
        match (&self.pg, &self.mosaic) {
            (Ok(a), Ok(b)) if sorted(a) != sorted(b) => format!(
                "{head}\n    PostgreSQL: {} row(s), {} only here:{}\n    MosaicDB:   {} row(s), {} only here:{}",
                a.len(),
                missing_from(a, b).len(),
                show_rows(&missing_from(a, b)),
                b.len(),
                missing_from(b, a).len(),
                show_rows(&missing_from(b, a))
            ),
            (Ok(_), Ok(_)) => format!(
                "{head}\n    the same rows in another order\n    PostgreSQL: {}\n    MosaicDB:   {}",
                show(&self.pg),
                show(&self.mosaic)
            ),
            _ => format!(
                "{head}\n    PostgreSQL: {}\n    MosaicDB:   {}",
                show(&self.pg),
                show(&self.mosaic)
            ),
        }
    }
}

/// Counts for one MosaicDB setup (single node, or cluster).
#[derive(Default)]
pub struct Counts {
    pub same: usize,
    pub zero_sign: usize,
    pub folded: usize,
    pub errors: BTreeMap<String, usize>,
    /// Of the MosaicDB errors, those where PostgreSQL answered.
    pub pg_answered: usize,
    pub differs: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.same
            + self.zero_sign
            + self.folded
            + self.differs
            + self.errors.values().sum::<usize>()
    }

    fn line(&self) -> String {
        let errors: usize = self.errors.values().sum();
        let by_code: Vec<String> = self
            .errors
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        format!(
            "same {} (and {} but for the sign of a zero), mosaic errors {errors} ({}; {} where \
             PostgreSQL answered), PostgreSQL failed planning {}, differs {}",
            self.same,
            self.zero_sign,
            by_code.join(", "),
            self.pg_answered,
            self.folded,
            self.differs
        )
    }
}

#[derive(Default)]
pub struct Tally {
    pub statements: usize,
    pub pg_errors: usize,
    pub targets: BTreeMap<&'static str, Counts>,
    pub differences: Vec<Difference>,
    /// MosaicDB errors as `[target] SQLSTATE message: sql`, for the report.
    pub error_log: Vec<String>,
    /// Sealed shards the cluster held after each round's inserts, summed.
    pub shards: usize,
    /// The round running (each has its own tables).
    pub round: u64,
    /// Each round's tables and rows, for the report.
    pub setup_log: Vec<String>,
}

impl Tally {
    pub fn record(
        &mut self,
        target: &'static str,
        sql: &str,
        pg: &Answer,
        mosaic: Answer,
        ordered: bool,
        folded: bool,
    ) {
        let counts = self.targets.entry(target).or_default();
        match judge(pg, &mosaic, ordered, folded) {
            Verdict::Same => counts.same += 1,
            Verdict::Folded => counts.folded += 1,
            Verdict::ZeroSign => counts.zero_sign += 1,
            Verdict::MosaicError(code) => {
                *counts.errors.entry(code).or_default() += 1;
                if pg.is_ok() {
                    counts.pg_answered += 1;
                }
                if let Err(e) = &mosaic {
                    let pg = match pg {
                        Ok(rows) => format!("PostgreSQL answered {} row(s)", rows.len()),
                        Err(e) => format!("PostgreSQL: {e}"),
                    };
                    let round = self.round;
                    self.error_log
                        .push(format!("[{target}, round {round}] {e} ({pg}): {sql}"));
                }
            }
            Verdict::Differs => {
                counts.differs += 1;
                self.differences.push(Difference {
                    target,
                    round: self.round,
                    sql: sql.to_string(),
                    pg: pg.clone(),
                    mosaic,
                });
            }
        }
    }

    pub fn summary(&self, seed: u64) -> String {
        let mut line = format!(
            "differential seed {seed}: {} statements (PostgreSQL errored on {}; the cluster held {} \
             sealed shards)",
            self.statements, self.pg_errors, self.shards
        );
        for (target, counts) in &self.targets {
            let _ = write!(line, "; {target}: {}", counts.line());
        }
        line
    }
}
