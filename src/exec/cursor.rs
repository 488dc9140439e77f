//! Server-side cursors: `DECLARE name [NO SCROLL | SCROLL] CURSOR [WITH
//! HOLD] FOR query`, `FETCH`, `MOVE` and `CLOSE`, as psycopg's and
//! psycopg2's named cursors use them.
//!
//! DESIGN: DECLARE runs the query once and keeps its rows in a temp table
//! of the session's SQLite connection (rows on disk, not in memory; row
//! `k` of the result is rowid `k`), so FETCH is a range read by rowid and
//! scrolling is free. The table lives in the session's transaction: a
//! ROLLBACK takes the tables its block created with it, which is exactly
//! PostgreSQL's rule for cursors (even WITH HOLD ones). COMMIT drops the
//! block's cursors without HOLD; held ones stay until CLOSE or the end of
//! the session.

use std::collections::BTreeMap;

use sqlparser::ast::{Query, Statement};
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::error::{Error, Result};
use crate::exec::{query, Column, Outcome, Prepared, RowSink, Session, TxnState};
use crate::types::Datum;

/// A parsed `DECLARE … CURSOR`.
#[derive(Debug, Clone, PartialEq)]
pub struct Declare {
    pub name: String,
    pub query: Box<Query>,
    pub hold: bool,
    /// `SCROLL` (true), `NO SCROLL` (false), or neither.
    pub scroll: Option<bool>,
    /// The query's result columns, which FETCH returns.
    pub columns: Vec<Column>,
}

/// Where a FETCH or MOVE goes, as PostgreSQL reads its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `n`, `NEXT`, `FORWARD [n]`, `ALL` (None: all the rest).
    Forward(Option<i64>),
    /// `PRIOR`, `BACKWARD [n]`, `BACKWARD ALL`.
    Backward(Option<i64>),
    /// `ABSOLUTE n`, `FIRST` (1), `LAST` (-1).
    Absolute(i64),
    Relative(i64),
}

/// A parsed FETCH (rows back) or MOVE (only the count).
#[derive(Debug, Clone, PartialEq)]
pub struct Fetch {
    pub name: String,
    pub direction: Direction,
    pub move_only: bool,
}

/// An open cursor of a session.
#[derive(Debug)]
pub struct Cursor {
    /// The temp table holding its rows.
    table: String,
    pub columns: Vec<Column>,
    /// 0 before the first row, `total + 1` after the last.
    pos: i64,
    total: i64,
    hold: bool,
    scroll: Option<bool>,
    /// It survived a COMMIT (WITH HOLD), so a later ROLLBACK keeps it.
    committed: bool,
}

/// A session's open cursors by name.
#[derive(Debug, Default)]
pub struct Cursors(BTreeMap<String, Cursor>);

impl Cursors {
    /// The result columns of a cursor, for FETCH's RowDescription.
    pub fn columns(&self, name: &str) -> Option<Vec<Column>> {
        self.0.get(name).map(|c| c.columns.clone())
    }
}

fn no_such_cursor(name: &str) -> Error {
    Error::NoSuchCursor(format!("cursor \"{name}\" does not exist"))
}

fn quote(name: &str) -> String {
    crate::types::quote(name)
}

/// Parse `FETCH …` or `MOVE …` (the whole of one statement, a trailing
/// semicolon allowed). sqlparser's FETCH lacks `FETCH FORWARD FROM c`,
/// `FETCH c` and MOVE, so the grammar is read here.
pub fn parse_fetch(sql: &str) -> Result<Fetch> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let tokens: Vec<Token> = Tokenizer::new(&dialect, sql)
        .tokenize()
        .map_err(|e| Error::Syntax(format!("syntax error: {e}")))?
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let syntax = |what: &str| Error::Syntax(format!("syntax error in FETCH/MOVE: {what}"));
    let word = |t: Option<&Token>| match t {
        Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    };
    let mut end = tokens.len();
    while end > 0 && tokens[end - 1] == Token::SemiColon {
        end -= 1;
    }
    let tokens = &tokens[..end];
    let move_only = match word(tokens.first()).as_deref() {
        Some("FETCH") => false,
        Some("MOVE") => true,
        _ => return Err(syntax("expected FETCH or MOVE")),
    };
    let mut i = 1;
    let number = |i: &mut usize| -> Option<i64> {
        let (neg, at) = match tokens.get(*i) {
            Some(Token::Minus) => (true, *i + 1),
            Some(Token::Plus) => (false, *i + 1),
            _ => (false, *i),
        };
        let Some(Token::Number(n, _)) = tokens.get(at) else {
            return None;
        };
        let n: i64 = n.parse().ok()?;
        *i = at + 1;
        Some(if neg { -n } else { n })
    };
    let direction = match word(tokens.get(i)).as_deref() {
        Some("NEXT") => {
            i += 1;
            Direction::Forward(Some(1))
        }
        Some("PRIOR") => {
            i += 1;
            Direction::Backward(Some(1))
        }
        Some("FIRST") => {
            i += 1;
            Direction::Absolute(1)
        }
        Some("LAST") => {
            i += 1;
            Direction::Absolute(-1)
        }
        Some("ALL") => {
            i += 1;
            Direction::Forward(None)
        }
        Some(w @ ("ABSOLUTE" | "RELATIVE")) => {
            i += 1;
            let n = number(&mut i).ok_or_else(|| syntax("expected a count"))?;
            if w == "ABSOLUTE" {
                Direction::Absolute(n)
            } else {
                Direction::Relative(n)
            }
        }
        Some(w @ ("FORWARD" | "BACKWARD")) => {
            i += 1;
            let n = if word(tokens.get(i)).as_deref() == Some("ALL") {
                i += 1;
                None
            } else {
                Some(number(&mut i).unwrap_or(1))
            };
            match (w, n) {
                ("FORWARD", n) => Direction::Forward(n),
                (_, Some(n)) => Direction::Forward(Some(-n)),
                (_, None) => Direction::Backward(None),
            }
        }
        _ => match number(&mut i) {
            Some(n) => Direction::Forward(Some(n)),
            None => Direction::Forward(Some(1)),
        },
    };
    // A negative forward count goes backward, as in PostgreSQL.
    let direction = match direction {
        Direction::Forward(Some(n)) if n < 0 => Direction::Backward(Some(-n)),
        Direction::Backward(Some(n)) if n < 0 => Direction::Forward(Some(-n)),
        d => d,
    };
    if matches!(word(tokens.get(i)).as_deref(), Some("FROM" | "IN")) {
        i += 1;
    }
    let name = match tokens.get(i) {
        Some(Token::Word(w)) if w.quote_style.is_some() => w.value.clone(),
        Some(Token::Word(w)) => w.value.to_lowercase(),
        _ => return Err(syntax("expected a cursor name")),
    };
    if i + 1 != tokens.len() {
        return Err(syntax("unexpected text after the cursor name"));
    }
    Ok(Fetch {
        name,
        direction,
        move_only,
    })
}

/// The `Declare` of a parsed `DECLARE … CURSOR FOR query`.
pub fn declare_of(stmt: &Statement) -> Result<Declare> {
    let Statement::Declare { stmts, .. } = stmt else {
        return Err(Error::Internal("not a DECLARE".into()));
    };
    let [d] = stmts.as_slice() else {
        return Err(Error::Unsupported("DECLARE of several cursors".into()));
    };
    let (Some(query), [name]) = (&d.for_query, d.names.as_slice()) else {
        return Err(Error::Unsupported("DECLARE without CURSOR … FOR".into()));
    };
    if d.binary == Some(true) {
        return Err(Error::Unsupported("DECLARE BINARY".into()));
    }
    Ok(Declare {
        name: crate::sql::ident_name(name),
        query: query.clone(),
        hold: d.hold == Some(true),
        scroll: d.scroll,
        columns: vec![],
    })
}

/// DECLARE: run the query, keep its rows.
pub fn declare(sess: &mut Session, d: &Declare, params: &[Datum]) -> Result<Outcome> {
    if sess.txn == TxnState::Idle && !d.hold {
        return Err(Error::NoTransaction(
            "DECLARE CURSOR can only be used in transaction blocks".into(),
        ));
    }
    if sess.cursors.0.contains_key(&d.name) {
        return Err(Error::CursorExists(format!(
            "cursor \"{}\" already exists",
            d.name
        )));
    }
    let table = format!("mosaic_cursor_{}", super::next_id());
    let q = Statement::Query(d.query.clone());
    let total = sess.in_statement(false, |sess| {
        let (sql, _) = query::compile(sess, q, params)?;
        let width = sess.conn.column_count(&sql)?;
        let cols: Vec<String> = (0..width.max(1)).map(|i| format!("c{i}")).collect();
        sess.conn.batch(&format!(
            "CREATE TEMP TABLE {}({})",
            quote(&table),
            cols.join(", ")
        ))?;
        let n = sess
            .conn
            .execute(&format!("INSERT INTO temp.{} {sql}", quote(&table)), params)?;
        Ok(n as i64)
    })?;
    sess.cursors.0.insert(
        d.name.clone(),
        Cursor {
            table,
            columns: d.columns.clone(),
            pos: 0,
            total,
            hold: d.hold,
            scroll: d.scroll,
            committed: false,
        },
    );
    Ok(Outcome::Command("DECLARE CURSOR".into()))
}

/// The rows a move visits, in order, and where it leaves the cursor.
fn plan_move(c: &Cursor, d: Direction) -> Result<(Vec<i64>, i64)> {
    let (pos, n) = (c.pos, c.total);
    let forward_only = c.scroll == Some(false);
    let backward = || {
        Err(Error::ObjectNotInState(
            "cursor can only scan forward".into(),
        ))
    };
    let to = |target: i64| -> (Vec<i64>, i64) {
        if target <= 0 {
            (vec![], 0)
        } else if target > n {
            (vec![], n + 1)
        } else {
            (vec![target], target)
        }
    };
    Ok(match d {
        Direction::Forward(Some(0)) | Direction::Relative(0) => {
            if forward_only {
                return backward();
            }
            if (1..=n).contains(&pos) {
                (vec![pos], pos)
            } else {
                (vec![], pos)
            }
        }
        Direction::Forward(count) => {
            let count = count.unwrap_or(i64::MAX);
            let last = pos.saturating_add(count);
            let rows = (pos + 1..=last.min(n)).collect();
            (rows, if last > n { n + 1 } else { last })
        }
        Direction::Backward(count) => {
            if forward_only {
                return backward();
            }
            let count = count.unwrap_or(i64::MAX);
            let first = pos.saturating_sub(count);
            let rows = (first.max(1)..=(pos - 1).min(n)).rev().collect();
            (rows, first.max(0))
        }
        Direction::Absolute(k) => {
            let target = if k >= 0 { k } else { n + 1 + k };
            if forward_only && target <= pos {
                return backward();
            }
            to(target)
        }
        Direction::Relative(k) => {
            if forward_only && k < 0 {
                return backward();
            }
            to(pos.saturating_add(k))
        }
    })
}

/// FETCH (rows to `sink`) or MOVE.
pub fn fetch(sess: &mut Session, f: &Fetch, sink: &mut RowSink) -> Result<Outcome> {
    let c = sess
        .cursors
        .0
        .get(&f.name)
        .ok_or_else(|| no_such_cursor(&f.name))?;
    let (rows, pos) = plan_move(c, f.direction)?;
    let count = rows.len();
    if !f.move_only && !rows.is_empty() {
        let (lo, hi) = (rows[0].min(rows[count - 1]), rows[0].max(rows[count - 1]));
        let order = if rows[0] <= rows[count - 1] {
            "ASC"
        } else {
            "DESC"
        };
        let width = c.columns.len();
        let sql = format!(
            "SELECT * FROM temp.{} WHERE rowid BETWEEN ?1 AND ?2 ORDER BY rowid {order}",
            quote(&c.table)
        );
        sess.conn
            .query(&sql, &[Datum::Int(lo), Datum::Int(hi)], &mut |mut row| {
                row.truncate(width);
                sink(row)
            })?;
    }
    if let Some(c) = sess.cursors.0.get_mut(&f.name) {
        c.pos = pos;
    }
    Ok(if f.move_only {
        Outcome::Command(format!("MOVE {count}"))
    } else {
        Outcome::Rows { count }
    })
}

/// CLOSE name, or CLOSE ALL (`None`).
pub fn close(sess: &mut Session, name: Option<&str>) -> Result<Outcome> {
    match name {
        Some(name) => {
            let c = sess
                .cursors
                .0
                .remove(name)
                .ok_or_else(|| no_such_cursor(name))?;
            drop_table(sess, &c.table);
            Ok(Outcome::Command("CLOSE CURSOR".into()))
        }
        None => {
            close_all(sess);
            Ok(Outcome::Command("CLOSE CURSOR ALL".into()))
        }
    }
}

fn drop_table(sess: &Session, table: &str) {
    if let Err(e) = sess
        .conn
        .batch(&format!("DROP TABLE IF EXISTS temp.{}", quote(table)))
    {
        tracing::debug!(error = %e, "dropping a cursor's rows failed");
    }
}

/// Every cursor goes (CLOSE ALL, DISCARD ALL).
pub fn close_all(sess: &mut Session) {
    for (_, c) in std::mem::take(&mut sess.cursors.0) {
        drop_table(sess, &c.table);
    }
}

/// After COMMIT: cursors without HOLD close; held ones now outlive a
/// later ROLLBACK.
pub fn after_commit(sess: &mut Session) {
    let all = std::mem::take(&mut sess.cursors.0);
    for (name, mut c) in all {
        if c.hold {
            c.committed = true;
            sess.cursors.0.insert(name, c);
        } else {
            drop_table(sess, &c.table);
        }
    }
}

/// After ROLLBACK: only held cursors of earlier transactions remain
/// (SQLite's rollback removed the others' tables).
pub fn after_rollback(sess: &mut Session) {
    let all = std::mem::take(&mut sess.cursors.0);
    for (name, c) in all {
        if c.committed {
            sess.cursors.0.insert(name, c);
        } else {
            drop_table(sess, &c.table);
        }
    }
}

/// After ROLLBACK TO SAVEPOINT: cursors declared since the savepoint lost
/// their tables with it, and close.
pub fn after_rollback_to(sess: &mut Session) {
    let all = std::mem::take(&mut sess.cursors.0);
    for (name, c) in all {
        let exists = sess
            .conn
            .exists(
                "SELECT 1 FROM sqlite_temp_master WHERE type = 'table' AND name = ?1",
                &[Datum::Text(c.table.clone())],
            )
            .unwrap_or(false);
        if exists {
            sess.cursors.0.insert(name, c);
        }
    }
}

/// `p` with the result columns of the cursor it fetches from, when it is
/// a FETCH and the cursor is open (its RowDescription).
pub fn describe(sess: &Session, p: &Prepared) -> Option<Prepared> {
    let super::Kind::Fetch(f) = &p.kind else {
        return None;
    };
    if f.move_only {
        return None;
    }
    let columns = sess.cursors.columns(&f.name)?;
    let mut p = p.clone();
    p.columns = columns;
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(sql: &str) -> (String, Direction, bool) {
        let f = parse_fetch(sql).expect(sql);
        (f.name, f.direction, f.move_only)
    }

    #[test]
    fn fetch_and_move_grammar() {
        use Direction::*;
        let cases = [
            (
                "FETCH FORWARD 1000 FROM \"c\"",
                "c",
                Forward(Some(1000)),
                false,
            ),
            ("fetch forward all from c;", "c", Forward(None), false),
            ("FETCH c", "c", Forward(Some(1)), false),
            ("FETCH FORWARD FROM C", "c", Forward(Some(1)), false),
            ("FETCH 5 IN c", "c", Forward(Some(5)), false),
            ("FETCH -2 FROM c", "c", Backward(Some(2)), false),
            ("FETCH ALL c", "c", Forward(None), false),
            ("FETCH PRIOR FROM c", "c", Backward(Some(1)), false),
            ("FETCH BACKWARD ALL FROM c", "c", Backward(None), false),
            ("FETCH LAST FROM c", "c", Absolute(-1), false),
            ("MOVE ABSOLUTE -3 FROM c", "c", Absolute(-3), true),
            (
                "MOVE RELATIVE 2 IN \"My Cursor\"",
                "My Cursor",
                Relative(2),
                true,
            ),
        ];
        for (sql, name, d, m) in cases {
            assert_eq!(dir(sql), (name.to_string(), d, m), "{sql}");
        }
        for bad in [
            "FETCH",
            "FETCH 1 FROM",
            "FETCH FROM c d",
            "MOVE ABSOLUTE FROM c",
        ] {
            assert_eq!(
                parse_fetch(bad).map(|_| ()).unwrap_err().sqlstate(),
                "42601",
                "{bad}"
            );
        }
    }

    fn cursor(pos: i64, total: i64, scroll: Option<bool>) -> Cursor {
        Cursor {
            table: String::new(),
            columns: vec![],
            pos,
            total,
            hold: false,
            scroll,
            committed: false,
        }
    }

    #[test]
    fn moves_follow_postgresql() {
        use Direction::*;
        let c = cursor(0, 5, None);
        assert_eq!(plan_move(&c, Forward(Some(2))).unwrap(), (vec![1, 2], 2));
        assert_eq!(
            plan_move(&c, Forward(None)).unwrap(),
            (vec![1, 2, 3, 4, 5], 6)
        );
        assert_eq!(
            plan_move(&c, Forward(Some(5))).unwrap(),
            (vec![1, 2, 3, 4, 5], 5)
        );
        assert_eq!(plan_move(&c, Absolute(-1)).unwrap(), (vec![5], 5));
        assert_eq!(plan_move(&c, Absolute(9)).unwrap(), (vec![], 6));
        let c = cursor(6, 5, Some(true));
        assert_eq!(plan_move(&c, Backward(Some(2))).unwrap(), (vec![5, 4], 4));
        assert_eq!(
            plan_move(&c, Backward(None)).unwrap(),
            (vec![5, 4, 3, 2, 1], 0)
        );
        assert_eq!(plan_move(&c, Relative(-1)).unwrap(), (vec![5], 5));
        let c = cursor(3, 5, Some(false));
        let err = plan_move(&c, Backward(Some(1))).unwrap_err();
        assert_eq!(err.sqlstate(), "55000");
        assert_eq!(plan_move(&c, Relative(0)).unwrap_err().sqlstate(), "55000");
    }
}
