//! The SQL front end: parse PostgreSQL-dialect SQL with sqlparser, classify
//! statements, rewrite the AST into SQL SQLite runs with the same meaning,
//! and infer PostgreSQL result types. Nothing here touches storage.

pub mod functions;
pub mod infer;
pub mod rewrite;
pub mod types;

use std::sync::Arc;

use crate::store::table::TableDef;

/// Read access to table definitions, for inference and planning.
pub trait Catalog {
    fn table(&self, name: &str) -> Option<Arc<TableDef>>;
}
