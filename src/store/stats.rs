//! What the metrics read of the store when they are scraped.

use super::{segment, Store};
use crate::error::Result;

impl Store {
    /// Rows in this node's open segments, not sealed into shards yet.
    pub fn open_rows(&self) -> Result<u64> {
        let writer = self.writer.lock();
        let mut rows = 0;
        for table in self.catalog.tables() {
            rows += segment::count_rows(&writer, &table.name)?;
        }
        Ok(rows)
    }
}
