//! PostgreSQL's catalogs (`pg_catalog.*`, `information_schema.*`) as
//! MosaicDB's catalog answers them. Each is a system view: `definition`
//! gives its columns, `rows` its contents for a session, materialized
//! right before a statement that reads it.

use crate::error::Result;
use crate::exec::Session;
use crate::sql::types::Datum;
use crate::store::table::TableDef;

/// The columns of a catalog relation by canonical name
/// (`pg_catalog.pg_class`, `information_schema.tables`).
pub fn definition(name: &str) -> Option<TableDef> {
    let _ = name;
    None
}

/// The rows of a catalog relation, as this session sees the catalog.
pub fn rows(sess: &Session, name: &str) -> Result<Vec<Vec<Datum>>> {
    let _ = (sess, name);
    Ok(vec![])
}
