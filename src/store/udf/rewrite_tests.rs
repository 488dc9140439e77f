//! The translation (`sql::rewrite`) run for real on SQLite with these
//! functions registered: what the rewrite emits must exist and behave.

use rusqlite::types::Value;
use rusqlite::Connection;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

fn rewrite(sql: &str) -> crate::error::Result<String> {
    let mut stmts = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
    crate::sql::rewrite::to_sqlite(&mut stmts[0])?;
    Ok(stmts[0].to_string())
}

fn run(conn: &Connection, pg: &str) -> rusqlite::Result<Vec<Value>> {
    let sql = rewrite(pg).unwrap();
    conn.query_row(&sql, [], |r| {
        (0..r.as_ref().column_count())
            .map(|i| r.get::<_, Value>(i))
            .collect()
    })
}

#[test]
fn rewritten_sql_runs_on_sqlite() {
    let conn = Connection::open_in_memory().unwrap();
    crate::store::udf::register(&conn).unwrap();
    conn.execute_batch(
        "PRAGMA case_sensitive_like = ON;
         CREATE TABLE t (a INTEGER, s TEXT, b INTEGER, f REAL);
         INSERT INTO t VALUES (1, 'Hello', 1, 1.5), (2, 'world', 0, NULL), (3, NULL, 1, 2.5);",
    )
    .unwrap();
    let t = |s: &str| Value::Text(s.into());
    let i = Value::Integer;
    let cases: Vec<(&str, Vec<Value>)> = vec![
        ("SELECT '12'::int + 1, (1 < 2)::text, 't'::bool, 7 / 2, 7.0 / 2", vec![i(13), t("true"), i(1), i(3), Value::Real(3.5)]),
        ("SELECT count(*) FROM t WHERE s ILIKE 'HEL%'", vec![i(1)]),
        ("SELECT count(*) FROM t WHERE s LIKE 'hel%'", vec![i(0)]),
        ("SELECT greatest(1, NULL, 3), least(NULL, 2), coalesce(NULL, 'x'), nullif(1, 1)", vec![i(3), i(2), t("x"), Value::Null]),
        ("SELECT string_agg(s, '-' ORDER BY a DESC) FROM t", vec![t("world-Hello")]),
        ("SELECT bool_and(b = 1), bool_or(b = 1), every(a > 0) FROM t", vec![i(0), i(1), i(1)]),
        ("SELECT NULL IS DISTINCT FROM NULL, 1 IS DISTINCT FROM NULL, 1 IS NOT DISTINCT FROM 1", vec![i(0), i(1), i(1)]),
        ("SELECT substring('hello' FROM 2 FOR 3), position('l' IN 'hello'), trim(BOTH 'x' FROM 'xxaxx')", vec![t("ell"), i(3), t("a")]),
        ("SELECT upper('abc'), length('héllo'), concat('a', NULL, 'b'), split_part('a.b.c', '.', 3)", vec![t("ABC"), i(5), t("ab"), t("c")]),
        ("SELECT extract(year FROM '2024-05-06 07:08:09'::timestamp), date_trunc('month', '2024-05-06'::date)", vec![Value::Real(2024.0), t("2024-05-01 00:00:00")]),
        ("SELECT '2024-05-06 07:08:09+02'::timestamptz, '2024-05-06'::date", vec![t("2024-05-06 05:08:09"), t("2024-05-06")]),
        ("SELECT a FROM t ORDER BY a OFFSET 1 ROWS FETCH FIRST 1 ROW ONLY", vec![i(2)]),
        ("SELECT round(2.5), abs(-3), ceil(1.2), floor(-1.5), sqrt(4.0), power(2, 10), mod(7, 3)", vec![Value::Real(3.0), i(3), Value::Real(2.0), Value::Real(-2.0), Value::Real(2.0), Value::Real(1024.0), i(1)]),
        ("SELECT '{\"a\": [1, 2]}'::jsonb -> 'a' ->> 1", vec![i(2)]),
        ("SELECT left('hello', 2), right('hello', 2), repeat('ab', 2), reverse('abc'), lpad('1', 3, '0'), initcap('ab cd')", vec![t("he"), t("lo"), t("abab"), t("cba"), t("001"), t("Ab Cd")]),
    ];
    for (pg, want) in cases {
        let got = run(&conn, pg).unwrap_or_else(|e| panic!("{pg}: {e}"));
        assert_eq!(got, want, "{pg}");
    }
    for (pg, code) in [
        ("SELECT 1 / 0", "22012"),
        ("SELECT 'abc'::int", "22P02"),
        ("SELECT '99999'::int2", "22003"),
        ("SELECT '2024-13-01'::date", "22008"),
    ] {
        let err = run(&conn, pg).unwrap_err();
        let msg = match &err {
            rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
            other => other.to_string(),
        };
        let (state, _) = crate::store::errors::sqlstate_of_message(&msg).unwrap();
        assert_eq!(state, code, "{pg}");
    }
}

#[test]
fn every_registered_aggregate_is_known_to_the_rewrite() {
    let source = [
        include_str!("../udf.rs"),
        include_str!("aggregate.rs"),
        include_str!("pg_catalog.rs"),
        include_str!("text.rs"),
        include_str!("ordered.rs"),
    ]
    .concat();
    let mut seen = 0;
    for line in source.lines() {
        for marker in ["create_aggregate_function(", "create_window_function("] {
            if let Some(rest) = line.split(marker).nth(1) {
                let Some(name) = rest.split('"').nth(1) else {
                    continue;
                };
                seen += 1;
                assert!(
                    crate::sql::rewrite::AGGREGATES.contains(&name),
                    "aggregate {name} is missing from rewrite::expr::AGGREGATES"
                );
            }
        }
    }
    assert!(
        seen >= 4,
        "found only {seen} registrations: the scan is broken"
    );
}
