//! `CREATE TABLE name (a, b) AS query`: a list of column names without
//! types, which sqlparser does not read. Each name gets the placeholder
//! type [`UNTYPED`] before parsing, so the statement parses as a CREATE
//! TABLE with a query, and `exec::ddl::create_as` takes the names back.

use std::borrow::Cow;

use sqlparser::tokenizer::Token;

/// The type a name of a CREATE TABLE AS column list is given to parse.
pub const UNTYPED: &str = "mosaic_untyped";

fn is_word(t: &Token, w: &str) -> bool {
    matches!(t, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w))
}

/// `sql` with [`UNTYPED`] after each name of a CREATE TABLE AS column list
/// (unchanged when it has none).
pub(crate) fn type_column_list(sql: &str) -> Cow<'_, str> {
    let head = sql.trim_start().as_bytes();
    if !head
        .get(..6)
        .is_some_and(|h| h.eq_ignore_ascii_case(b"create"))
    {
        return sql.into();
    }
    let Some((tokens, texts)) = super::tokens::with_text(sql) else {
        return sql.into();
    };
    let solid: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i], Token::Whitespace(_)))
        .collect();
    let Some(names) = column_list(&tokens, &solid) else {
        return sql.into();
    };
    let mut out = String::with_capacity(sql.len() + names.len() * (UNTYPED.len() + 1));
    for (i, t) in texts.iter().enumerate() {
        out.push_str(t);
        if names.contains(&i) {
            out.push(' ');
            out.push_str(UNTYPED);
        }
    }
    out.into()
}

/// The token indexes of the column names of `CREATE [TEMP | UNLOGGED]
/// TABLE [IF NOT EXISTS] name (a, b, …) AS`, if the statement starts so.
fn column_list(tokens: &[Token], solid: &[usize]) -> Option<Vec<usize>> {
    let at = |k: usize| solid.get(k).map(|&i| &tokens[i]);
    let mut k = 1;
    while at(k).is_some_and(|t| {
        ["temp", "temporary", "unlogged", "global", "local"]
            .iter()
            .any(|w| is_word(t, w))
    }) {
        k += 1;
    }
    if !at(k).is_some_and(|t| is_word(t, "table")) {
        return None;
    }
    k += 1;
    if at(k).is_some_and(|t| is_word(t, "if")) {
        k += 3;
    }
    // The table name: word(.word)*
    matches!(at(k), Some(Token::Word(_))).then_some(())?;
    k += 1;
    while matches!(at(k), Some(Token::Period)) {
        matches!(at(k + 1), Some(Token::Word(_))).then_some(())?;
        k += 2;
    }
    matches!(at(k), Some(Token::LParen)).then_some(())?;
    k += 1;
    let mut names = Vec::new();
    loop {
        matches!(at(k), Some(Token::Word(_))).then_some(())?;
        names.push(solid[k]);
        match at(k + 1) {
            Some(Token::Comma) => k += 2,
            Some(Token::RParen) => {
                k += 2;
                break;
            }
            _ => return None,
        }
    }
    at(k).is_some_and(|t| is_word(t, "as")).then_some(names)
}

/// The option `CREATE MATERIALIZED VIEW … AS query WITH NO DATA` is
/// given to parse: sqlparser reads no `WITH [NO] DATA` after a view's
/// query, so the clause moves before `AS` as this option
/// (`WITH (mosaic_no_data = true)`), and `WITH DATA`, the default, goes.
pub const NO_DATA_OPTION: &str = "mosaic_no_data";

/// `sql` with a trailing `WITH [NO] DATA` of a CREATE MATERIALIZED VIEW
/// moved where it parses (unchanged otherwise).
pub(crate) fn matview_data_clause(sql: &str) -> Cow<'_, str> {
    let head = sql.trim_start().as_bytes();
    if !head
        .get(..6)
        .is_some_and(|h| h.eq_ignore_ascii_case(b"create"))
    {
        return sql.into();
    }
    let Some((tokens, texts)) = super::tokens::with_text(sql) else {
        return sql.into();
    };
    let solid: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i], Token::Whitespace(_) | Token::SemiColon))
        .collect();
    let word = |k: usize, w: &str| solid.get(k).is_some_and(|&i| is_word(&tokens[i], w));
    if !(word(1, "materialized") && word(2, "view")) {
        return sql.into();
    }
    let n = solid.len();
    let (clause, no_data) =
        if n >= 3 && word(n - 3, "with") && word(n - 2, "no") && word(n - 1, "data") {
            (solid[n - 3], true)
        } else if n >= 2 && word(n - 2, "with") && word(n - 1, "data") {
            (solid[n - 2], false)
        } else {
            return sql.into();
        };
    // The first AS outside parentheses begins the query.
    let mut depth = 0i32;
    let mut as_at = None;
    for &i in &solid {
        match &tokens[i] {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            t if depth == 0 && is_word(t, "as") => {
                as_at = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(as_at) = as_at else {
        return sql.into();
    };
    let mut out = String::with_capacity(sql.len() + 40);
    for (i, t) in texts[..clause].iter().enumerate() {
        if i == as_at && no_data {
            out.push_str(&format!("WITH ({NO_DATA_OPTION} = true) "));
        }
        out.push_str(t);
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matviews_data_clause_moves_before_its_query() {
        assert_eq!(
            matview_data_clause("CREATE MATERIALIZED VIEW m AS SELECT (1) AS a WITH NO DATA;"),
            "CREATE MATERIALIZED VIEW m WITH (mosaic_no_data = true) AS SELECT (1) AS a "
        );
        assert_eq!(
            matview_data_clause("create materialized view m (x) as select 1 with data"),
            "create materialized view m (x) as select 1 "
        );
        let plain = "CREATE MATERIALIZED VIEW m AS SELECT 1";
        assert_eq!(matview_data_clause(plain), plain);
    }

    #[test]
    fn names_without_types_get_the_placeholder() {
        assert_eq!(
            type_column_list("CREATE TABLE t (a, \"B\") AS SELECT 1, 2"),
            "CREATE TABLE t (a mosaic_untyped, \"B\" mosaic_untyped) AS SELECT 1, 2"
        );
        assert_eq!(
            type_column_list("create table if not exists s.t(x) as values (1)"),
            "create table if not exists s.t(x mosaic_untyped) as values (1)"
        );
    }

    #[test]
    fn other_statements_are_left_alone() {
        for sql in [
            "CREATE TABLE t (a int, b text)",
            "CREATE TABLE t AS SELECT 1",
            "CREATE TABLE t (a int) AS SELECT 1",
            "SELECT 1",
            "CREATE INDEX i ON t (a)",
            "créé",
            "\u{e9}\u{e9}\u{e9}\u{e9}",
        ] {
            assert_eq!(type_column_list(sql), sql);
        }
    }
}
