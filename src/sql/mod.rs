//! The SQL front end: parse PostgreSQL-dialect SQL with sqlparser, classify
//! statements, rewrite the AST into SQL SQLite runs with the same meaning,
//! and infer PostgreSQL result types. Nothing here touches storage.

pub mod infer;
pub mod rewrite;
pub mod validate;

use std::sync::Arc;

use crate::types::table::TableDef;

/// The table definitions a statement is checked, typed and planned
/// against (the catalog as one session sees it, system views included).
pub trait Schema {
    fn table(&self, name: &str) -> Option<Arc<TableDef>>;
}

pub mod coerce;
pub mod ddl;

use sqlparser::ast::{Expr, Ident, ObjectName, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::error::Result;

/// How deeply a statement may nest before it is refused (54001). Every
/// thread that parses, types or rewrites SQL has a stack sized for it.
const RECURSION_LIMIT: usize = 1000;

/// Stack size for threads that handle SQL (deeply nested statements
/// recurse through the parser, inference and rewrite).
pub const STACK_SIZE: usize = 64 << 20;

/// Parse PostgreSQL-dialect SQL into statements.
pub fn parse(sql: &str) -> Result<Vec<Statement>> {
    Ok(Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(sql)?
        .parse_statements()?)
}

/// Parse a single PostgreSQL expression.
pub fn parse_expr(text: &str) -> Result<Expr> {
    Ok(Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(text)?
        .parse_expr()?)
}

/// The name an identifier denotes: folded to lower case unless quoted, as
/// PostgreSQL does.
pub fn ident_name(ident: &Ident) -> String {
    let name = if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    };
    truncate_identifier(name)
}

/// PostgreSQL keeps the first 63 bytes of an identifier (NAMEDATALEN - 1).
pub fn truncate_identifier(mut name: String) -> String {
    const MAX: usize = 63;
    if name.len() > MAX {
        let mut end = MAX;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    name
}

/// The table name an object name denotes (`public.t` and `t` are the same;
/// other schemas keep their prefix, e.g. `mosaic.shards`).
pub fn object_name(name: &ObjectName) -> String {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| p.as_ident().map(ident_name))
        .collect();
    match parts.as_slice() {
        [schema, table] if schema == "public" => table.clone(),
        _ => parts.join("."),
    }
}

/// Translate a CHECK constraint of a table with columns `cols` (PostgreSQL
/// SQL text) to SQLite SQL, its numeric operations made explicit.
pub fn check_to_sqlite(text: &str, cols: &[(String, crate::types::PgType)]) -> Result<String> {
    let mut e = parse_expr(text)?;
    infer::type_numeric_expr(&mut e, cols.to_vec())?;
    rewrite::expr_to_sqlite(&mut e)?;
    Ok(e.to_string())
}

/// Translate a column DEFAULT (PostgreSQL SQL text) of a column of type
/// `ty` to a SQLite expression; `nextval('seq')` draws from the node's
/// sequences, and a numeric default is cast to the column's type.
pub fn default_to_sqlite(text: &str, ty: &crate::types::PgType) -> Result<String> {
    if let Some(seq) = crate::types::table::sequence_name(text) {
        return Ok(format!("mosaic_nextval('{}')", seq.replace('\'', "''")));
    }
    let mut e = infer::typed_default(text, ty)?;
    rewrite::expr_to_sqlite(&mut e)?;
    Ok(e.to_string())
}
