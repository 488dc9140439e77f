//! Rows of a COPY FROM on their way into the open segment, gathered into
//! multi-row INSERTs (`store::rows_per_insert`): a statement's start and
//! end, AUTOINCREMENT's bookkeeping among them, cost more than the row it
//! inserts.

use crate::error::Result;
use crate::store::{rows_per_insert, value_rows, Conn};
use crate::types::Datum;

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
        let per = rows_per_insert(width);
        let head = format!("INSERT INTO {target} ({}) VALUES ", columns.join(", "));
        Batch {
            single: format!("{head}{}", value_rows(width, 1)),
            many: format!("{head}{}", value_rows(width, per)),
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
