//! PostgreSQL functions SQLite lacks, registered on every connection as
//! Rust scalar and aggregate functions (the names `sql::rewrite` emits).

use rusqlite::Connection;

/// Register MosaicDB's SQL functions on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let _ = conn;
    Ok(())
}

/// The SQLSTATE and message carried by an error message of one of our
/// functions (`22P02: invalid input ...`), if it has one.
pub fn sqlstate_of_message(msg: &str) -> Option<(&'static str, String)> {
    const STATES: [&str; 7] = [
        "22P02", "22003", "22012", "22001", "42883", "0A000", "22023",
    ];
    let (code, text) = msg.split_once(": ")?;
    STATES
        .iter()
        .find(|s| **s == code)
        .map(|s| (*s, text.to_string()))
}
