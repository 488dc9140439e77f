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
        .try_with_sql(&respell_lock_strengths(sql))?
        .parse_statements()?)
}

/// `FOR NO KEY UPDATE` and `FOR KEY SHARE`, which sqlparser does not
/// read, as `FOR UPDATE` and `FOR SHARE`: every row lock is the node's
/// write lock here (see exec::locks), so the weaker strengths lock the
/// same. Only the words change; the text is rebuilt from its tokens only
/// when they occur.
fn respell_lock_strengths(sql: &str) -> std::borrow::Cow<'_, str> {
    use sqlparser::tokenizer::{Token, Tokenizer};
    if !sql.to_ascii_lowercase().contains("key") {
        return sql.into();
    }
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize() else {
        return sql.into();
    };
    let word = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w));
    // Indexes of the non-whitespace tokens, to match words across spaces.
    let solid: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i], Token::Whitespace(_)))
        .collect();
    let mut drop = vec![false; tokens.len()];
    for (k, &i) in solid.iter().enumerate() {
        let at = |n: usize| solid.get(k + n).map(|&j| &tokens[j]);
        if !word(&tokens[i], "FOR") {
            continue;
        }
        let span = match (at(1), at(2), at(3)) {
            (Some(a), Some(b), Some(c)) if word(a, "NO") && word(b, "KEY") && word(c, "UPDATE") => {
                2
            }
            (Some(a), Some(b), _) if word(a, "KEY") && word(b, "SHARE") => 1,
            _ => continue,
        };
        // Drop the extra words and the whitespace after each.
        for &j in &solid[k + 1..=k + span] {
            drop[j] = true;
            if matches!(tokens.get(j + 1), Some(Token::Whitespace(_))) {
                drop[j + 1] = true;
            }
        }
    }
    if !drop.contains(&true) {
        return sql.into();
    }
    tokens
        .iter()
        .zip(drop)
        .filter(|(_, d)| !d)
        .map(|(t, _)| t.to_string())
        .collect::<String>()
        .into()
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

/// Translate a PostgreSQL expression (a CHECK constraint) to SQLite SQL.
pub fn expr_to_sqlite(text: &str) -> Result<String> {
    let mut e = parse_expr(text)?;
    rewrite::expr_to_sqlite(&mut e)?;
    Ok(e.to_string())
}

/// Translate a column DEFAULT (PostgreSQL SQL text) to a SQLite expression;
/// `nextval('seq')` draws from the node's sequences.
pub fn default_to_sqlite(text: &str) -> Result<String> {
    if let Some(seq) = crate::types::table::sequence_name(text) {
        return Ok(format!("mosaic_nextval('{}')", seq.replace('\'', "''")));
    }
    expr_to_sqlite(text)
}

#[cfg(test)]
mod respell_tests {
    #[test]
    fn weaker_lock_strengths_read_as_the_node_lock() {
        let sql = "SELECT 'for no key update' FROM t FOR  NO KEY UPDATE SKIP LOCKED";
        assert_eq!(
            super::respell_lock_strengths(sql),
            "SELECT 'for no key update' FROM t FOR  UPDATE SKIP LOCKED"
        );
        assert_eq!(
            super::respell_lock_strengths("select 1 from t for key share of t"),
            "select 1 from t for share of t"
        );
        let plain = "SELECT key FROM t";
        assert!(matches!(
            super::respell_lock_strengths(plain),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
