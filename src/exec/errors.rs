//! SQLite errors turned into MosaicDB errors with the SQLSTATE PostgreSQL
//! would give. SQLite reports constraint failures as text; the shapes below
//! are SQLite's own messages.

use crate::error::Error;

/// Map a SQLite error raised while running a statement.
pub fn map(e: rusqlite::Error) -> Error {
    use rusqlite::ffi::ErrorCode;
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        // SQLITE_BUSY_SNAPSHOT: this transaction read a snapshot that another
        // transaction's commit has since replaced, so it cannot write.
        if f.extended_code == 517 {
            return Error::SerializationFailure(
                "could not serialize access due to concurrent update".into(),
            );
        }
    }
    let (code, msg) = match &e {
        rusqlite::Error::SqliteFailure(f, m) => (Some(f.code), m.clone().unwrap_or_default()),
        rusqlite::Error::SqlInputError { msg, .. } => (None, msg.clone()),
        other => (None, other.to_string()),
    };
    if let Some(e) = crate::store::udf::error_from_message(&msg) {
        return e;
    }
    match code {
        Some(ErrorCode::OperationInterrupted) => return Error::Canceled,
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            return Error::SerializationFailure(
                "another transaction holds the write lock on this node".into(),
            )
        }
        _ => {}
    }
    if let Some(rest) = msg.strip_prefix("UNIQUE constraint failed: ") {
        return Error::UniqueViolation(format!(
            "duplicate key value violates unique constraint on {rest}"
        ));
    }
    if let Some(rest) = msg.strip_prefix("NOT NULL constraint failed: ") {
        let (table, col) = rest.split_once('.').unwrap_or(("", rest));
        return Error::NotNullViolation(format!(
            "null value in column \"{col}\" of relation \"{table}\" violates not-null constraint"
        ));
    }
    if let Some(rest) = msg.strip_prefix("CHECK constraint failed: ") {
        if rest.ends_with("out of range") {
            return Error::NumericOutOfRange(rest.to_string());
        }
        return Error::CheckViolation(format!(
            "new row violates check constraint \"{}\"",
            rest.trim_matches('"')
        ));
    }
    if let Some(rest) = msg.strip_prefix("cannot store ") {
        return Error::InvalidInput(format!("invalid input: cannot store {rest}"));
    }
    if let Some(rest) = msg.strip_prefix("no such table: ") {
        return Error::NoSuchTable(rest.trim_start_matches("main.").to_string());
    }
    if let Some(rest) = msg.strip_prefix("no such column: ") {
        return Error::NoSuchColumn(rest.to_string());
    }
    if msg.contains("do not have the same number of result columns") {
        let op = msg.split_whitespace().nth(7).unwrap_or("UNION");
        return Error::Syntax(format!(
            "each {op} query must have the same number of columns"
        ));
    }
    if let Some(col) = msg.strip_prefix("ambiguous column name: ") {
        return Error::AmbiguousColumn(col.rsplit('.').next().unwrap_or(col).to_string());
    }
    if msg.contains(" values for ") && msg.ends_with(" columns") {
        return Error::Syntax("INSERT has more expressions than target columns".into());
    }
    if let Some((_, col)) = msg.split_once(" has no column named ") {
        return Error::NoSuchColumn(col.to_string());
    }
    if let Some(rest) = msg.strip_prefix("no such function: ") {
        return Error::NoSuchFunction(rest.to_string());
    }
    if msg.contains("syntax error") || msg.starts_with("near \"") {
        return Error::Syntax(msg);
    }
    if msg.contains("integer overflow") {
        return Error::NumericOutOfRange("integer out of range".into());
    }
    if msg.starts_with("wrong number of arguments") {
        return Error::NoSuchFunction(msg);
    }
    if msg.contains("misuse of aggregate") || msg.contains("GROUP BY") {
        return Error::Syntax(msg);
    }
    Error::Internal(msg)
}
