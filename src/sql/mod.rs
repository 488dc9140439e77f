//! The SQL front end: parse PostgreSQL-dialect SQL with sqlparser, classify
//! statements, rewrite the AST into SQL SQLite runs with the same meaning,
//! and infer PostgreSQL result types. Nothing here touches storage.

pub mod infer;
pub mod rewrite;
pub mod validate;
pub mod views;

use std::sync::Arc;

use crate::types::table::TableDef;

/// The table definitions a statement is checked, typed and planned
/// against (the catalog as one session sees it, system views included).
pub trait Schema {
    fn table(&self, name: &str) -> Option<Arc<TableDef>>;

    /// A view by name (its definition's kind holds the query).
    fn view(&self, _name: &str) -> Option<Arc<TableDef>> {
        None
    }

    /// A SQL function by name (CREATE FUNCTION).
    fn function(&self, _name: &str) -> Option<Arc<crate::types::function::FunctionDef>> {
        None
    }
}

/// Functions whose value differs between two evaluations: an expression
/// calling one may not be copied where PostgreSQL evaluates it once (a
/// WITH query inlined, a SQL function's argument its body uses twice).
pub const VOLATILE: &[&str] = &[
    "random",
    "setseed",
    "nextval",
    "setval",
    "gen_random_uuid",
    "uuid_generate_v4",
    "clock_timestamp",
    "timeofday",
    "pg_sleep",
    "pg_cancel_backend",
    "pg_terminate_backend",
];

pub mod alter_identity;
pub mod alter_sequence;
mod build;
pub mod coerce;
pub mod ctas;
pub mod ddl;
pub mod distinct_on;
pub mod domain;
pub mod functions;
pub mod grouping_sets;
pub mod index;
pub mod index_expr;
mod interval_precision;
pub mod joined_writes;
mod json_path;
pub mod json_records;
mod like_any;
pub mod literals;
pub mod merge;
pub mod on_constraint;
pub mod privileges;
pub mod roles;
pub mod session_user;
pub mod set_schema;
mod split_table;
mod table_query;
mod tokens;
pub mod vector_index;
pub mod with_ties;
pub mod with_writes;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, ObjectName, Statement,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::error::{Error, Result};

/// How deeply a statement may nest before it is refused (54001). Every
/// thread that parses, types or rewrites SQL has a stack sized for it.
const RECURSION_LIMIT: usize = 1000;

/// Stack size for threads that handle SQL (deeply nested statements
/// recurse through the parser, inference and rewrite).
pub const STACK_SIZE: usize = 64 << 20;

/// Parse PostgreSQL-dialect SQL into statements.
pub fn parse(sql: &str) -> Result<Vec<Statement>> {
    parse_respelled(
        sql,
        &respell_l1_operator(&respell_lock_strengths(&ctas::type_column_list(
            &ctas::matview_data_clause(&roles::respell_create_user(
                &table_query::respell_table_statements(&table_query::unwrap_insert_query(
                    &merge::respell_default_values(&interval_precision::respell(sql)),
                )),
            )),
        ))),
    )
}

/// Parse `text`, the respelled form of `sql` (which errors are told of).
fn parse_respelled(sql: &str, text: &str) -> Result<Vec<Statement>> {
    Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| {
            if conflict_on_expression(sql) {
                Error::Unsupported("ON CONFLICT with an index expression as its target".into())
            } else if assigns_array_element(sql) {
                Error::Unsupported("assigning to array elements or slices (SET a[i] = …)".into())
            } else if let Some(what) = unparsed_form(sql) {
                Error::Unsupported(what.into())
            } else if sets_schema(sql) {
                Error::Unsupported(
                    "ALTER … SET SCHEMA (moving a relation to another schema)".into(),
                )
            } else {
                syntax_error(sql, e)
            }
        })
        .and_then(|mut stmts| {
            // Each pass below walks every statement whole; one that the
            // text shows has nothing to do is skipped (a point select
            // spent more in these walks than in parsing).
            if text.len() > RECURSION_LIMIT {
                // Each level of nesting takes a character at least.
                stmts.iter().try_for_each(check_depth)?;
            }
            if mentions(text, "_to_table") || mentions(text, "regexp_matches") {
                stmts.iter_mut().try_for_each(split_table::split_tables)?;
            }
            if mentions(text, "unnest") || table_query::has_word(text, "lateral") {
                stmts.iter_mut().try_for_each(unnest_as_function)?;
            }
            if table_query::has_word(text, "row") {
                stmts.iter_mut().for_each(row_constructors);
            }
            if table_query::has_word(text, "table") {
                stmts.iter_mut().for_each(table_query::table_bodies);
            }
            stmts.iter_mut().for_each(table_query::public_write_targets);
            if mentions(text, "_to_record") {
                stmts.iter_mut().try_for_each(json_records::json_records)?;
            }
            if json_path::mentioned(sql) {
                stmts.iter_mut().try_for_each(json_path::rewrite)?;
            }
            if mentions(text, "like")
                && ["any", "all", "some"]
                    .iter()
                    .any(|w| table_query::has_word(text, w))
            {
                stmts.iter_mut().try_for_each(like_any::expand)?;
            }
            if unicode_strings(sql) {
                stmts.iter_mut().for_each(plain_unicode_strings);
            }
            Ok(stmts)
        })
}

/// Whether `needle` (lower case) appears in `sql`, in any case.
pub(super) fn mentions(sql: &str, needle: &str) -> bool {
    sql.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Whether `sql` may hold a `U&'…'` string (cheap: every statement asks).
fn unicode_strings(sql: &str) -> bool {
    sql.as_bytes()
        .windows(3)
        .any(|w| w[0].eq_ignore_ascii_case(&b'u') && w[1] == b'&' && w[2] == b'\'')
}

/// `U&'d\0061t'` as the plain string it means: sqlparser decodes the
/// escapes, and every later step knows plain strings.
fn plain_unicode_strings(stmt: &mut Statement) {
    struct Plain;
    impl sqlparser::ast::VisitorMut for Plain {
        type Break = ();
        fn pre_visit_value(
            &mut self,
            v: &mut sqlparser::ast::ValueWithSpan,
        ) -> std::ops::ControlFlow<()> {
            if let sqlparser::ast::Value::UnicodeStringLiteral(s) = &mut v.value {
                v.value = sqlparser::ast::Value::SingleQuotedString(std::mem::take(s));
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    let _ = sqlparser::ast::VisitMut::visit(stmt, &mut Plain);
}

/// `pg_catalog.<name>(args)` as a FROM item.
fn function_factor(
    name: &str,
    args: &[String],
    with_ordinality: bool,
    alias: Option<sqlparser::ast::TableAlias>,
) -> Option<sqlparser::ast::TableFactor> {
    use sqlparser::ast::{SetExpr, TableFactor};
    let sql = format!(
        "SELECT * FROM pg_catalog.{name}({}){}",
        args.join(", "),
        if with_ordinality {
            " WITH ORDINALITY"
        } else {
            ""
        },
    );
    let parsed = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&sql)
        .and_then(|mut p| p.parse_statements())
        .ok()?
        .pop()?;
    let Statement::Query(q) = parsed else {
        return None;
    };
    let SetExpr::Select(sel) = *q.body else {
        return None;
    };
    let mut twj = sel.from.into_iter().next()?;
    if let TableFactor::Table { alias: a, .. } = &mut twj.relation {
        *a = alias;
    }
    Some(twj.relation)
}

/// `ROW(a, b)`, which sqlparser reads as a call of a function `row`, as
/// the row value `(a, b)` it is (compared as SQLite compares row values,
/// as PostgreSQL does).
fn row_constructors(stmt: &mut Statement) {
    let _ = sqlparser::ast::visit_expressions_mut(stmt, |e| {
        if let Expr::Function(f) = e {
            let bare_row = f.name.0.len() == 1
                && f.name.0[0].as_ident().is_some_and(|i| {
                    i.quote_style.is_none() && i.value.eq_ignore_ascii_case("row")
                });
            if let (true, FunctionArguments::List(l)) = (bare_row, &f.args) {
                let items: Option<Vec<Expr>> = l
                    .args
                    .iter()
                    .map(|a| match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Some(x.clone()),
                        _ => None,
                    })
                    .collect();
                if let Some(items) = items.filter(|i| i.len() > 1 && f.over.is_none()) {
                    *e = Expr::Tuple(items);
                }
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
}

/// `unnest(…)` in FROM, which sqlparser reads as its own FROM item, as
/// the function call it is in PostgreSQL (`pg_catalog.unnest(…)`), so
/// inference and the rewrite meet one shape.
fn unnest_as_function(stmt: &mut Statement) -> Result<()> {
    use sqlparser::ast::{TableFactor, VisitMut, VisitorMut};
    struct Unnest;
    impl VisitorMut for Unnest {
        type Break = Error;
        fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> std::ops::ControlFlow<Error> {
            // `LATERAL unnest(…)`: every function in FROM is lateral.
            if let TableFactor::Function {
                name,
                args,
                alias,
                with_ordinality,
                ..
            } = tf
            {
                let last = name.0.last().map(|p| p.to_string().to_ascii_lowercase());
                let known = matches!(last.as_deref(), Some("unnest" | "generate_series"))
                    || last
                        .as_deref()
                        .is_some_and(|n| crate::types::json::Items::of(n).is_some());
                if let (true, Some(last)) = (known, last) {
                    let list: Vec<String> = args.iter().map(ToString::to_string).collect();
                    let alias = alias.take();
                    if let Some(new) = function_factor(&last, &list, *with_ordinality, alias) {
                        *tf = new;
                    }
                }
                return std::ops::ControlFlow::Continue(());
            }
            let TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset,
                with_ordinality,
                ..
            } = tf
            else {
                return std::ops::ControlFlow::Continue(());
            };
            if *with_offset {
                return std::ops::ControlFlow::Break(Error::Unsupported(
                    "UNNEST … WITH OFFSET".into(),
                ));
            }
            let list: Vec<String> = array_exprs.iter().map(ToString::to_string).collect();
            if let Some(new) = function_factor("unnest", &list, *with_ordinality, alias.take()) {
                *tf = new;
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    match stmt.visit(&mut Unnest) {
        std::ops::ControlFlow::Break(e) => Err(e),
        std::ops::ControlFlow::Continue(()) => Ok(()),
    }
}

/// 54001 for a statement whose expressions nest deeper than the parser's
/// own limit. The parser builds `1 + 1 + … + 1` as a left-deep tree
/// without recursing, but everything after it (validation, typing, the
/// rewrite) recurses once per level.
fn check_depth(stmt: &Statement) -> Result<()> {
    struct Depth(usize);
    impl sqlparser::ast::Visitor for Depth {
        type Break = ();
        fn pre_visit_expr(&mut self, _e: &Expr) -> std::ops::ControlFlow<()> {
            self.0 += 1;
            if self.0 > RECURSION_LIMIT {
                return std::ops::ControlFlow::Break(());
            }
            std::ops::ControlFlow::Continue(())
        }
        fn post_visit_expr(&mut self, _e: &Expr) -> std::ops::ControlFlow<()> {
            self.0 -= 1;
            std::ops::ControlFlow::Continue(())
        }
    }
    match sqlparser::ast::Visit::visit(stmt, &mut Depth(0)) {
        std::ops::ControlFlow::Break(()) => {
            Err(Error::TooComplex("statement is nested too deeply".into()))
        }
        std::ops::ControlFlow::Continue(()) => Ok(()),
    }
}

/// Whether `sql` has `ON CONFLICT (…)` whose target holds an expression
/// (`((lower(email)))`), which the parser does not take.
/// Whether a statement sqlparser could not read is an UPDATE assigning to
/// an array element (`SET a[2] = …`, `SET a[1:2] = …`), which it does not
/// parse.
fn assigns_array_element(sql: &str) -> bool {
    let Some(words) = words(sql) else {
        return false;
    };
    let Some(set) = words.iter().position(|t| is_word(t, "set")) else {
        return false;
    };
    words[..set].iter().any(|t| is_word(t, "update"))
        && words[set..]
            .windows(2)
            .take_while(|w| !is_word(&w[0], "where") && !is_word(&w[0], "from"))
            .any(|w| {
                matches!(w[0], sqlparser::tokenizer::Token::Word(_))
                    && matches!(w[1], sqlparser::tokenizer::Token::LBracket)
            })
}

/// The tokens of `sql` but whitespace (`None` when it does not tokenize).
fn words(sql: &str) -> Option<Vec<sqlparser::tokenizer::Token>> {
    use sqlparser::tokenizer::{Token, Tokenizer};
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize().ok()?;
    Some(
        tokens
            .into_iter()
            .filter(|t| !matches!(t, Token::Whitespace(_)))
            .collect(),
    )
}

/// Whether token `t` is the keyword or name `k` (any case).
fn is_word(t: &sqlparser::tokenizer::Token, k: &str) -> bool {
    matches!(t, sqlparser::tokenizer::Token::Word(w) if w.value.eq_ignore_ascii_case(k))
}

/// A form of PostgreSQL's that the parser does not read, named for the
/// error that says so.
fn unparsed_form(sql: &str) -> Option<&'static str> {
    let words = words(sql)?;
    words.windows(2).find_map(|w| {
        if is_word(&w[0], "between") && is_word(&w[1], "symmetric") {
            Some("BETWEEN SYMMETRIC")
        } else if is_word(&w[0], "exclude")
            && ["current", "group", "ties", "no"]
                .iter()
                .any(|x| is_word(&w[1], x))
        {
            Some("EXCLUDE in a window frame")
        } else {
            None
        }
    })
}

/// `ALTER TABLE | VIEW | SEQUENCE … SET SCHEMA s`, which sqlparser does
/// not read.
fn sets_schema(sql: &str) -> bool {
    let Some(words) = words(sql) else {
        return false;
    };
    words.first().is_some_and(|t| is_word(t, "alter"))
        && words
            .windows(2)
            .any(|w| is_word(&w[0], "set") && is_word(&w[1], "schema"))
}

fn conflict_on_expression(sql: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("conflict") {
        let start = from + at + "conflict".len();
        from = start;
        let rest = lower[start..].trim_start();
        let Some(target) = rest.strip_prefix('(') else {
            continue;
        };
        let mut depth = 1;
        for c in target.chars() {
            match c {
                '(' => return true,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                break;
            }
        }
    }
    false
}

/// A parse error in PostgreSQL's words: `syntax error at or near "X"`
/// (or `at end of input`), pointing at the token's position in `sql`.
/// sqlparser says `Expected: …, found: X at Line: l, Column: c`.
fn syntax_error(sql: &str, e: sqlparser::parser::ParserError) -> Error {
    let msg = match &e {
        sqlparser::parser::ParserError::ParserError(m)
        | sqlparser::parser::ParserError::TokenizerError(m) => m.clone(),
        sqlparser::parser::ParserError::RecursionLimitExceeded => return e.into(),
    };
    if msg.ends_with("found: EOF") {
        let end = sql.trim_end().trim_end_matches(';').chars().count() + 1;
        return Error::Syntax("syntax error at end of input".into()).at_position(end);
    }
    let (rest, line, column) = match split_location(&msg) {
        Some(found) => found,
        None => return e.into(),
    };
    let position = char_position(sql, line, column);
    if let Some(token) = rest.rsplit_once("found: ").map(|(_, t)| t) {
        return Error::Syntax(format!("syntax error at or near \"{token}\"")).at_position(position);
    }
    if rest.starts_with("Unterminated string literal") {
        let token: String = sql.chars().skip(position.saturating_sub(1)).collect();
        return Error::Syntax(format!("unterminated quoted string at or near \"{token}\""))
            .at_position(position);
    }
    e.into()
}

/// `text at Line: l, Column: c` as (text, l, c).
fn split_location(msg: &str) -> Option<(&str, usize, usize)> {
    let (rest, loc) = msg.rsplit_once(" at Line: ")?;
    let (line, column) = loc.split_once(", Column: ")?;
    Some((rest, line.trim().parse().ok()?, column.trim().parse().ok()?))
}

/// The 1-based character position of (1-based) `line` and `column`.
fn char_position(sql: &str, line: usize, column: usize) -> usize {
    let before: usize = sql
        .split('\n')
        .take(line.saturating_sub(1))
        .map(|l| l.chars().count() + 1)
        .sum();
    before + column
}

/// `FOR NO KEY UPDATE` and `FOR KEY SHARE`, which sqlparser does not
/// read, as `FOR UPDATE` and `FOR SHARE`: every row lock is the node's
/// write lock here (see exec::locks), so the weaker strengths lock the
/// same. Only the words change; the text is rebuilt from its tokens only
/// when they occur.
/// pgvector's `<+>` (L1 distance), which sqlparser reads as `<` and `+`
/// and `>`, spelled as the one custom operator `infer::typed::vector`
/// knows it by.
fn respell_l1_operator(sql: &str) -> std::borrow::Cow<'_, str> {
    use sqlparser::tokenizer::Token;
    if !sql.contains("<+>") {
        return sql.into();
    }
    let Some((tokens, texts)) = tokens::with_text(sql) else {
        return sql.into();
    };
    let mut out = String::with_capacity(sql.len() + 4);
    let mut i = 0;
    while i < texts.len() {
        if let (Token::Lt, Some(Token::Plus), Some(Token::Gt)) =
            (&tokens[i], tokens.get(i + 1), tokens.get(i + 2))
        {
            out.push_str(infer::typed::vector::L1_OPERATOR);
            i += 3;
            continue;
        }
        out.push_str(texts[i]);
        i += 1;
    }
    out.into()
}

fn respell_lock_strengths(sql: &str) -> std::borrow::Cow<'_, str> {
    use sqlparser::tokenizer::Token;
    if !sql
        .as_bytes()
        .windows(3)
        .any(|w| w.eq_ignore_ascii_case(b"key"))
    {
        return sql.into();
    }
    let Some((tokens, texts)) = tokens::with_text(sql) else {
        return sql.into();
    };
    let word = tokens::is_word;
    let solid = tokens::solid(&tokens);
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
    texts
        .into_iter()
        .zip(drop)
        .filter(|(_, d)| !d)
        .map(|(t, _)| t)
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

/// A call's arguments by parameter: positional ones in order, named ones
/// (`name => value`) where `params` puts them; `None` for a parameter not
/// given. A name `params` lacks, a parameter given twice or an argument
/// past the last is 42883 (no such function); other argument forms 0A000.
pub fn argument_slots(f: &sqlparser::ast::Function, params: &[&str]) -> Result<Vec<Option<Expr>>> {
    use sqlparser::ast::{FunctionArg, FunctionArgExpr, FunctionArguments};
    let mut slots: Vec<Option<Expr>> = vec![None; params.len()];
    let FunctionArguments::List(list) = &f.args else {
        return Ok(slots);
    };
    for (i, a) in list.args.iter().enumerate() {
        let (slot, e) = match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => (i, e),
            FunctionArg::Named {
                name,
                arg: FunctionArgExpr::Expr(e),
                ..
            }
            | FunctionArg::ExprNamed {
                name: Expr::Identifier(name),
                arg: FunctionArgExpr::Expr(e),
                ..
            } => {
                let n = ident_name(name);
                let Some(slot) = params.iter().position(|p| *p == n) else {
                    return Err(Error::NoSuchFunction(format!(
                        "{}({n} => …) (no parameter named {n})",
                        f.name
                    )));
                };
                (slot, e)
            }
            other => {
                return Err(Error::Unsupported(format!(
                    "the argument {other} of {}",
                    f.name
                )))
            }
        };
        match slots.get_mut(slot) {
            Some(s @ None) => *s = Some(e.clone()),
            _ => {
                return Err(Error::NoSuchFunction(format!(
                    "{} with these arguments",
                    f.name
                )))
            }
        }
    }
    Ok(slots)
}

/// Parse a single query (`SELECT …`, `VALUES …`).
pub fn parse_query(text: &str) -> Result<Box<sqlparser::ast::Query>> {
    match parse(text)?.pop() {
        Some(Statement::Query(q)) => Ok(q),
        _ => Err(Error::Internal(format!("not a query: {text}"))),
    }
}

/// Whether `e` is the keyword DEFAULT where a value goes (a VALUES item,
/// a SET value), which the parser leaves as an identifier.
pub fn is_default_keyword(e: &sqlparser::ast::Expr) -> bool {
    matches!(e, sqlparser::ast::Expr::Identifier(id)
        if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("default"))
}

/// How many columns an INSERT's source gives, where its text says: a
/// VALUES row's length, a select list without `*` (a set operation's
/// first arm's).
pub fn source_width(body: &sqlparser::ast::SetExpr) -> Option<usize> {
    use sqlparser::ast::{SelectItem, SetExpr};
    match body {
        SetExpr::Values(v) => v.rows.first().map(|r| r.len()),
        SetExpr::Select(s) => s
            .projection
            .iter()
            .all(|i| {
                matches!(
                    i,
                    SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }
                )
            })
            .then_some(s.projection.len()),
        SetExpr::SetOperation { left, .. } => source_width(left),
        SetExpr::Query(q) => source_width(&q.body),
        _ => None,
    }
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

#[cfg(test)]
mod syntax_tests {
    fn err(sql: &str) -> (String, Option<usize>) {
        let e = super::parse(sql).unwrap_err();
        assert_eq!(e.sqlstate(), "42601", "{e}");
        (e.to_string(), e.position())
    }

    #[test]
    fn syntax_errors_read_as_postgresql_with_their_position() {
        assert_eq!(
            err("SELEC 1"),
            ("syntax error at or near \"SELEC\"".into(), Some(1))
        );
        assert_eq!(
            err("SELECT (1;"),
            ("syntax error at or near \";\"".into(), Some(10))
        );
        assert_eq!(
            err("SELECT *\n  FROM t t2 t3"),
            ("syntax error at or near \"t3\"".into(), Some(22))
        );
        assert_eq!(
            err("SELECT (1"),
            ("syntax error at end of input".into(), Some(10))
        );
        assert_eq!(
            err("SELECT 'abc"),
            (
                "unterminated quoted string at or near \"'abc\"".into(),
                Some(8)
            )
        );
    }
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
