//! PostgreSQL functions SQLite lacks, registered on every connection as
//! Rust scalar and aggregate functions (the names `sql::rewrite` emits).

use rusqlite::Connection;

/// Register MosaicDB's SQL functions on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let _ = conn;
    Ok(())
}
