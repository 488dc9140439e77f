//! What runs over the whole store now and then: the open-segment row
//! counts the metrics and `mosaic.health` read, and sealing idle segments.

use std::collections::HashMap;

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

    /// Seal the open segments whose row count is unchanged since `prev`
    /// (one interval ago); returns the current counts.
    pub fn seal_idle(&self, prev: &HashMap<String, u64>) -> Result<HashMap<String, u64>> {
        let mut now = HashMap::new();
        for table in self.catalog.tables() {
            let rows = {
                let writer = self.writer.lock();
                segment::count_rows(&writer, &table.name)?
            };
            if rows > 0 && prev.get(&table.name) == Some(&rows) {
                self.seal(&table.name)?;
            } else {
                now.insert(table.name.clone(), rows);
            }
        }
        Ok(now)
    }
}
