//! A node's unsealed rows as it copies them to one other node, its buddy,
//! so that they stay readable while it is down (`cluster::unsealed` sends
//! them, `store::copies` keeps them).

use serde::{Deserialize, Serialize};

use crate::types::Datum;

/// One push of an origin's open-segment changes to its buddy. Pushes of
/// one `epoch` are numbered from 1 (`seq`) and applied in that order; a
/// buddy that did not apply the one before refuses and the origin sends
/// its whole open segment again, under a new epoch.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UnsealedPush {
    pub origin: String,
    pub epoch: u64,
    pub seq: u64,
    /// The origin's whole open segment: copies of tables not in `tables`
    /// are dropped.
    pub whole: bool,
    pub tables: Vec<TableCopy>,
    /// Tables whose open segment the origin no longer has (dropped).
    pub dropped: Vec<String>,
}

/// One table's changes in a push.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TableCopy {
    pub table: String,
    /// The open segment's columns, each as (name, SQLite declaration).
    pub columns: Vec<(String, String)>,
    /// `rows` are the whole open segment of the table: the copy starts over.
    pub whole: bool,
    /// Rows as they stand now: (row key, version, values in `columns` order).
    pub rows: Vec<(i64, i64, Vec<Datum>)>,
    /// Keys of rows no longer in the open segment (deleted, updated into
    /// another key, sealed).
    pub gone: Vec<i64>,
    /// Rows up to this key were sealed into shards every live node has
    /// been told of: the copy drops them.
    pub trim_to: Option<i64>,
}

/// A table's columns as a copy keeps them: (name, SQLite declaration),
/// as its open segment declares them.
pub fn copy_columns(def: &crate::types::table::TableDef) -> Vec<(String, String)> {
    def.columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.sqlite_decl()))
        .collect()
}

/// Where an origin's unsealed rows are copied: its buddy and the epoch of
/// the copy there, as the origin announces it in its holdings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buddy {
    pub node: String,
    pub epoch: u64,
}
