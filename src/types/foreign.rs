//! A FOREIGN KEY constraint as the catalog keeps it, on the referencing
//! (child) table's definition.

use serde::{Deserialize, Serialize};

use crate::types::table::TableDef;

/// What happens to referencing rows when their referenced key is deleted
/// or updated (`ON DELETE …` / `ON UPDATE …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl Action {
    /// The letter pg_constraint's `confupdtype` / `confdeltype` hold.
    pub fn code(self) -> char {
        match self {
            Action::NoAction => 'a',
            Action::Restrict => 'r',
            Action::Cascade => 'c',
            Action::SetNull => 'n',
            Action::SetDefault => 'd',
        }
    }

    /// The words SQL spells it with (`SET NULL`).
    pub fn words(self) -> &'static str {
        match self {
            Action::NoAction => "NO ACTION",
            Action::Restrict => "RESTRICT",
            Action::Cascade => "CASCADE",
            Action::SetNull => "SET NULL",
            Action::SetDefault => "SET DEFAULT",
        }
    }
}

/// One FOREIGN KEY constraint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForeignKey {
    /// The constraint's name (given, or PostgreSQL's `<table>_<cols>_fkey`).
    pub name: String,
    /// Positions of the referencing columns in the child table.
    pub columns: Vec<usize>,
    /// The referenced (parent) table.
    pub parent: String,
    /// The referenced columns, by name, in the order they pair with
    /// `columns`: the parent's primary key or one of its UNIQUE keys.
    pub parent_columns: Vec<String>,
    pub on_delete: Action,
    pub on_update: Action,
    /// MATCH FULL (otherwise MATCH SIMPLE: a row with a NULL in any
    /// referencing column is not checked).
    pub match_full: bool,
    /// DEFERRABLE, and INITIALLY DEFERRED. Checks still run at each
    /// statement: a violation inside a transaction block, which PostgreSQL
    /// would let a later statement mend before COMMIT, is refused with
    /// 0A000 (see `exec::write::foreign`).
    #[serde(default)]
    pub deferrable: bool,
    #[serde(default)]
    pub initially_deferred: bool,
}

impl ForeignKey {
    /// Positions of the referenced columns in `parent` (the parent's
    /// definition); `None` if one no longer exists.
    pub fn parent_positions(&self, parent: &TableDef) -> Option<Vec<usize>> {
        self.parent_columns
            .iter()
            .map(|c| parent.column_index(c))
            .collect()
    }
}
