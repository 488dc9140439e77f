//! A table's definition as the catalog keeps it and every layer reads it.

use serde::{Deserialize, Serialize};

use crate::sql::types::PgType;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub ty: PgType,
    pub not_null: bool,
    /// The DEFAULT expression, as PostgreSQL SQL text.
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableDef {
    pub name: String,
    /// Stable object id, used as pg_class.oid and in RowDescription.
    pub oid: u32,
    pub columns: Vec<Column>,
    /// Column positions of the primary key (empty when there is none).
    pub primary_key: Vec<usize>,
    /// Column positions of each UNIQUE constraint (the primary key excluded).
    pub unique: Vec<Vec<usize>>,
    /// CHECK constraints, as PostgreSQL SQL text.
    pub checks: Vec<String>,
    pub indexes: Vec<Index>,
}

impl TableDef {
    /// Position of a column by name (names are stored lowercased unless quoted).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Every unique key of the table: the primary key first, then UNIQUE constraints.
    pub fn unique_keys(&self) -> impl Iterator<Item = &Vec<usize>> {
        std::iter::once(&self.primary_key)
            .filter(|k| !k.is_empty())
            .chain(self.unique.iter())
    }
}
