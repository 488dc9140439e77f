//! Rows of a COPY FROM on their way into the open segment, gathered into
//! multi-row INSERTs: one SQLite statement per `per` rows rather than per
//! row (a statement's start and end, AUTOINCREMENT's bookkeeping among
//! them, cost more than the row it inserts).

use crate::error::Result;
use crate::store::Conn;
use crate::types::Datum;

/// At most this many rows per statement, and at most SQLite's limit of
/// bound values (32766) in one.
const MOST_ROWS: usize = 64;
const MOST_VALUES: usize = 32766;

#[derive(Debug)]
pub(super) struct Batch {
    /// `INSERT … VALUES (?1, …)`: one row.
    single: String,
    /// The same with `per` rows.
    many: String,
    per: usize,
    width: usize,
    pending: Vec<Datum>,
}

impl Batch {
    /// Inserts into `target`'s `columns` (quoted names).
    pub(super) fn new(target: &str, columns: &[String]) -> Batch {
        let width = columns.len();
        let per = MOST_VALUES
            .checked_div(width)
            .map_or(1, |n| n.clamp(1, MOST_ROWS));
        let row = |first: usize| {
            let marks: Vec<String> = (first..first + width).map(|i| format!("?{i}")).collect();
            format!("({})", marks.join(", "))
        };
        let head = format!("INSERT INTO {target} ({}) VALUES ", columns.join(", "));
        let rows: Vec<String> = (0..per).map(|r| row(1 + r * width)).collect();
        Batch {
            single: format!("{head}{}", row(1)),
            many: format!("{head}{}", rows.join(", ")),
            per,
            width,
            pending: Vec::with_capacity(per * width),
        }
    }

    /// Add one row (its values in the columns' order), inserting the
    /// batch once it is full.
    pub(super) fn push(&mut self, conn: &Conn, values: Vec<Datum>) -> Result<()> {
        if self.width == 0 {
            return conn.prepare(&self.single)?.execute(&[]).map(drop);
        }
        self.pending.extend(values);
        if self.pending.len() >= self.per * self.width {
            let mut many = conn.prepare(&self.many)?;
            many.execute(&self.pending)?;
            self.pending.clear();
        }
        Ok(())
    }

    /// Insert the rows still waiting, one statement each.
    pub(super) fn flush(&mut self, conn: &Conn) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut single = conn.prepare(&self.single)?;
        for row in self.pending.chunks(self.width) {
            single.execute(row)?;
        }
        self.pending.clear();
        Ok(())
    }
}
