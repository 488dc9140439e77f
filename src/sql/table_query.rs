//! `TABLE name`, PostgreSQL's short form of `SELECT * FROM name`. As a
//! statement (which sqlparser does not read) the word is respelled
//! before parsing; inside a query (a set operation's arm, a subquery, a
//! CTE, INSERT's source), where sqlparser reads it, the TABLE body becomes
//! that SELECT in the AST, which every later step and SQLite read.

use std::borrow::Cow;
use std::ops::ControlFlow;

use sqlparser::ast::{Query, SetExpr, Statement, VisitMut, VisitorMut};
use sqlparser::tokenizer::Token;

use super::tokens;

/// Whether `word` stands in `sql` as a word of its own (any case).
pub(super) fn has_word(sql: &str, word: &str) -> bool {
    let b = sql.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    b.windows(word.len()).enumerate().any(|(i, w)| {
        w.eq_ignore_ascii_case(word.as_bytes())
            && (i == 0 || !ident(b[i - 1]))
            && b.get(i + word.len()).is_none_or(|&c| !ident(c))
    })
}

/// Whether a parenthesis in `sql` opens a query (`(SELECT`, `(WITH`,
/// `(VALUES`, `(TABLE`).
fn opens_query(sql: &str) -> bool {
    sql.match_indices('(').any(|(i, _)| {
        let rest = sql[i + 1..].trim_start().as_bytes();
        ["select", "with", "values", "table"]
            .iter()
            .any(|w| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w.as_bytes()))
    })
}

/// `TABLE name` at the start of a statement respelled `SELECT * FROM name`.
pub(super) fn respell_table_statements(sql: &str) -> Cow<'_, str> {
    // Cheap tests first: every statement passes here, and tokenizing is
    // not free (`my_table` holds no word TABLE).
    if !has_word(sql, "table") {
        return sql.into();
    }
    let Some((tokens, mut texts)) = tokens::with_text(sql) else {
        return sql.into();
    };
    let solid = tokens::solid(&tokens);
    let mut changed = false;
    // The first token of the statement being read.
    let mut first = None;
    for (k, &i) in solid.iter().enumerate() {
        let before = k.checked_sub(1).map(|p| &tokens[solid[p]]);
        let starts = before.is_none_or(|t| matches!(t, Token::SemiColon));
        if starts {
            first = Some(&tokens[i]);
        }
        let named = solid
            .get(k + 1)
            .is_some_and(|&j| matches!(tokens[j], Token::Word(_)));
        if !named || !tokens::is_word(&tokens[i], "TABLE") {
            continue;
        }
        // After INSERT's target (`INSERT INTO t [(cols)] TABLE u`) or
        // EXPLAIN's options, where no other TABLE can stand.
        let source = first
            .is_some_and(|f| tokens::is_word(f, "INSERT") || tokens::is_word(f, "EXPLAIN"))
            && before.is_some_and(|t| {
                matches!(t, Token::RParen)
                    || (matches!(t, Token::Word(_))
                        && !["CREATE", "TEMP", "TEMPORARY", "UNLOGGED", "INTO"]
                            .iter()
                            .any(|w| tokens::is_word(t, w)))
            });
        if starts || source {
            texts[i] = "SELECT * FROM";
            changed = true;
        }
    }
    if !changed {
        return sql.into();
    }
    texts.concat().into()
}

/// `INSERT INTO t (SELECT …)`: the parenthesized query as INSERT's
/// source (sqlparser reads the parenthesis as a column list), its
/// parentheses dropped.
pub(super) fn unwrap_insert_query(sql: &str) -> Cow<'_, str> {
    if !has_word(sql, "insert") || !opens_query(sql) {
        return sql.into();
    }
    let Some((tokens, mut texts)) = tokens::with_text(sql) else {
        return sql.into();
    };
    let solid = tokens::solid(&tokens);
    let word = |k: usize, w: &str| {
        solid
            .get(k)
            .is_some_and(|&i| tokens::is_word(&tokens[i], w))
    };
    let mut changed = false;
    for k in 0..solid.len() {
        if !(word(k, "INSERT") && word(k + 1, "INTO")) {
            continue;
        }
        // The target: a name of one or more dotted parts.
        let mut j = k + 2;
        while solid
            .get(j + 1)
            .is_some_and(|&i| matches!(tokens[i], Token::Period))
        {
            j += 2;
        }
        let open = j + 1;
        let is_open = solid
            .get(open)
            .is_some_and(|&i| matches!(tokens[i], Token::LParen));
        let query = ["SELECT", "WITH", "VALUES", "TABLE"]
            .iter()
            .any(|w| word(open + 1, w));
        if !is_open || !query {
            continue;
        }
        let mut depth = 0;
        for &i in &solid[open..] {
            match tokens[i] {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        texts[solid[open]] = " ";
                        texts[i] = " ";
                        changed = true;
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    if !changed {
        return sql.into();
    }
    texts.concat().into()
}

/// Every TABLE body inside `stmt`'s queries as `SELECT * FROM name`.
pub(super) fn table_bodies(stmt: &mut Statement) {
    struct Bodies;
    impl VisitorMut for Bodies {
        type Break = ();
        fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
            select_star(&mut q.body);
            ControlFlow::Continue(())
        }
    }
    let _ = stmt.visit(&mut Bodies);
}

fn select_star(body: &mut SetExpr) {
    match body {
        SetExpr::Table(t) => {
            let name: Vec<String> = [&t.schema_name, &t.table_name]
                .into_iter()
                .flatten()
                .map(|i| i.to_string())
                .collect();
            let sql = format!("SELECT * FROM {}", name.join("."));
            let parsed = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
                .try_with_sql(&sql)
                .and_then(|mut p| p.parse_query());
            if let Ok(q) = parsed {
                *body = *q.body;
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            select_star(left);
            select_star(right);
        }
        _ => {}
    }
}

/// The tables an INSERT, UPDATE or DELETE writes and reads beside, named
/// as SQLite knows their open segments: `public.t` as `t`, and `s.t` of
/// another schema as the one identifier `"s.t"` (its catalog name,
/// `types::schema`). Reads elsewhere resolve names already, but a write's
/// target reaches SQLite by its name.
pub(super) fn public_write_targets(stmt: &mut Statement) {
    use sqlparser::ast::{FromTable, TableObject, TableWithJoins};
    fn strip(name: &mut sqlparser::ast::ObjectName) {
        let [schema, _] = name.0.as_slice() else {
            return;
        };
        let Some(schema) = schema.as_ident().map(super::ident_name) else {
            return;
        };
        match schema.as_str() {
            "public" => {
                name.0.remove(0);
            }
            // `mosaic_public`: a permanent table a temporary one shadows.
            "pg_temp" | "main" | "temp" | "mosaic_public" => {}
            _ => {
                let full = super::object_name(name);
                name.0 = vec![sqlparser::ast::ObjectNamePart::Identifier(
                    sqlparser::ast::Ident::with_quote('"', full),
                )];
            }
        }
    }
    fn factors(list: &mut [TableWithJoins]) {
        for t in list {
            for f in
                std::iter::once(&mut t.relation).chain(t.joins.iter_mut().map(|j| &mut j.relation))
            {
                if let sqlparser::ast::TableFactor::Table { name, .. } = f {
                    strip(name);
                }
            }
        }
    }
    match stmt {
        Statement::Insert(ins) => {
            if let TableObject::TableName(name) = &mut ins.table {
                strip(name);
            }
        }
        Statement::Update(u) => factors(std::slice::from_mut(&mut u.table)),
        Statement::Delete(d) => {
            let (FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f)) = &mut d.from;
            factors(f);
            if let Some(using) = &mut d.using {
                factors(using);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_statements_become_selects() {
        assert_eq!(respell_table_statements("TABLE t"), "SELECT * FROM t");
        assert_eq!(
            unwrap_insert_query("INSERT INTO s.t (SELECT (1) UNION SELECT 2) RETURNING *"),
            "INSERT INTO s.t  SELECT (1) UNION SELECT 2  RETURNING *"
        );
        assert_eq!(
            unwrap_insert_query("INSERT INTO t (a) SELECT 1"),
            "INSERT INTO t (a) SELECT 1"
        );
        assert_eq!(
            respell_table_statements("table t ORDER BY a; TABLE s.u"),
            "SELECT * FROM t ORDER BY a; SELECT * FROM s.u"
        );
        assert_eq!(
            respell_table_statements("CREATE TABLE t (a int)"),
            "CREATE TABLE t (a int)"
        );
        assert!(!has_word("INSERT INTO my_table VALUES (1)", "table"));
        assert!(!opens_query("INSERT INTO t (a) VALUES (1)"));
        assert!(opens_query("INSERT INTO t ( select 1)"));
        assert_eq!(
            respell_table_statements("INSERT INTO t (a) TABLE u"),
            "INSERT INTO t (a) SELECT * FROM u"
        );
        assert_eq!(
            respell_table_statements("EXPLAIN (COSTS OFF) TABLE u"),
            "EXPLAIN (COSTS OFF) SELECT * FROM u"
        );
        assert_eq!(
            respell_table_statements("EXPLAIN CREATE TABLE x AS SELECT 1"),
            "EXPLAIN CREATE TABLE x AS SELECT 1"
        );
        let stmts = super::super::parse("SELECT 1 UNION (TABLE t) EXCEPT TABLE u").unwrap();
        let text = stmts[0].to_string();
        assert!(!text.contains("TABLE"), "{text}");
    }
}
