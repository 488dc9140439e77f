//! A table renamed (ALTER TABLE … RENAME TO). The catalog change drops
//! the old name and defines the same table (its oid) under the new one.
//! Whichever of the two another node applies first, the table's data
//! there follows it: the new definition finds the table still under the
//! old name and moves its storage (`follow_rename`), or finds it kept as
//! dropped and puts it back under the new name (`dropped::restore`).
//! Copies of other nodes' unsealed rows (`copies`) follow too, and the
//! cluster's record of what each node holds follows the renames noted
//! here (`take_renamed`).

use crate::error::Result;
use crate::store::catalog::Entry;
use crate::store::{segment, Store};
use crate::types::table::TableDef;

impl Store {
    /// Before `def` (stamped `hlc`, from another node) is applied: if this
    /// node has the same table (its oid) under another name, that name is
    /// the table's former one, and everything of it here moves to `def`'s.
    pub(super) fn follow_rename(&self, def: &TableDef, hlc: i64) -> Result<()> {
        let Some(old) = self
            .catalog
            .tables()
            .into_iter()
            .find(|t| t.oid == def.oid && t.name != def.name && t.is_table() && !t.is_temp())
        else {
            return Ok(());
        };
        let since = self.catalog.hlc_of(&Entry::Table {
            name: old.name.clone(),
            def: None,
            hlc: 0,
        })?;
        let mut moved = (*old).clone();
        moved.name = def.name.clone();
        {
            let writer = self.writer.lock();
            writer.execute_batch("BEGIN IMMEDIATE")?;
            let r = segment::rename(&writer, &old, &moved);
            segment::finish(&writer, r)?;
        }
        // The former name is gone as of the rename; the table stands
        // under the new one as it was, for `def` to be applied to.
        self.catalog.drop_table(&old.name, hlc)?;
        self.catalog.put_table(moved, since)?;
        self.renamed_here(&old.name, &def.name)?;
        tracing::info!(from = %old.name, to = %def.name, "a table renamed elsewhere is renamed here");
        Ok(())
    }

    /// After table `old` became `new` here (this node's DDL committed, or
    /// another node's applied): copies of other nodes' unsealed rows of it
    /// follow, and the rename waits for the cluster's registry.
    pub fn renamed_here(&self, old: &str, new: &str) -> Result<()> {
        self.copies.rename_table(old, new)?;
        self.renamed.lock().push((old.to_string(), new.to_string()));
        Ok(())
    }

    /// The renames noted since the last call, oldest first.
    pub fn take_renamed(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.renamed.lock())
    }
}
