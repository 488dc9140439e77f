//! What the metrics and `mosaic.health` read of the store.

use super::{segment, Store};
use crate::error::Result;

impl Store {
    /// Rows in this node's open segments, not sealed into shards yet.
    pub fn open_rows(&self) -> Result<u64> {
        Ok(self.open_rows_by_table()?.iter().map(|(_, n)| n).sum())
    }

    /// Rows in this node's open segment of each table, by table name.
    pub fn open_rows_by_table(&self) -> Result<Vec<(String, u64)>> {
        let writer = self.writer.lock();
        let mut out = Vec::new();
        for table in self.catalog.tables() {
            out.push((
                table.name.clone(),
                segment::count_rows(&writer, &table.name)?,
            ));
        }
        Ok(out)
    }
}
