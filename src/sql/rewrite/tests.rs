use rusqlite::types::Value;
use rusqlite::Connection;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::*;

fn rewrite(sql: &str) -> Result<String> {
    let mut stmts = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
    to_sqlite(&mut stmts[0])?;
    Ok(stmts[0].to_string())
}

#[test]
#[rustfmt::skip]
fn rewrites_round_trip() {
    let cases = [
        ("SELECT * FROM t WHERE id = $1", "SELECT * FROM t WHERE id = ?1"),
        ("SELECT x::int FROM t", "SELECT pg_cast(x, 'int4') FROM t"),
        ("SELECT CAST(x AS varchar(3))", "SELECT pg_cast(x, 'varchar(3)')"),
        ("SELECT (a = b)::text", "SELECT CASE ((a = b)) WHEN 1 THEN 'true' WHEN 0 THEN 'false' END"),
        ("SELECT true, false", "SELECT 1, 0"),
        ("SELECT a FROM t WHERE a ILIKE 'x%'", "SELECT a FROM t WHERE lower(a) LIKE lower('x%') ESCAPE '\\'"),
        ("SELECT a NOT ILIKE b", "SELECT lower(a) NOT LIKE lower(b) ESCAPE '\\'"),
        ("SELECT a IS DISTINCT FROM b, a IS NOT DISTINCT FROM b", "SELECT a IS NOT b, a IS b"),
        ("SELECT E'a\\nb'", "SELECT 'a\nb'"),
        ("SELECT a / b, a % b", "SELECT pg_div(a, b), pg_mod(a, b)"),
        ("SELECT now(), current_timestamp, current_date", "SELECT pg_now(), pg_now(), pg_current_date()"),
        ("SELECT substring(s FROM 2 FOR 3), substring(s, 2)", "SELECT pg_substring(s, 2, 3), pg_substring(s, 2)"),
        ("SELECT position('b' IN s)", "SELECT instr(s, 'b')"),
        ("SELECT trim(BOTH 'x' FROM s), trim(LEADING FROM s), btrim(s)", "SELECT trim(s, 'x'), ltrim(s), trim(s)"),
        ("SELECT greatest(a, b), least(a, 1)", "SELECT pg_greatest(a, b), pg_least(a, 1)"),
        ("SELECT string_agg(x, ',' ORDER BY y) FROM t", "SELECT group_concat(x, ',' ORDER BY y NULLS LAST) FROM t"),
        ("SELECT extract(year FROM ts), date_trunc('day', ts)", "SELECT pg_extract('year', ts), pg_date_trunc('day', ts)"),
        ("SELECT bool_and(b), bool_or(b), count(DISTINCT x) FROM t", "SELECT min(b), max(b), count(DISTINCT x) FROM t"),
        ("SELECT ceiling(x), ceil(x), floor(x)", "SELECT ceil(x), ceil(x), floor(x)"),
        ("SELECT j->'a', j->>'b' FROM t", "SELECT j -> 'a', j ->> 'b' FROM t"),
        ("SELECT * FROM t LIMIT ALL OFFSET 2", "SELECT * FROM t LIMIT -1 OFFSET 2"),
        ("SELECT * FROM t OFFSET 5 ROWS FETCH FIRST 3 ROWS ONLY", "SELECT * FROM t LIMIT 3 OFFSET 5"),
        ("SELECT * FROM t ORDER BY a LIMIT 10", "SELECT * FROM t ORDER BY a NULLS LAST LIMIT 10"),
        ("SELECT * FROM t FOR UPDATE", "SELECT * FROM t"),
        ("INSERT INTO t (a, b) VALUES ($1, true) RETURNING a::text", "INSERT INTO t (a, b) VALUES (?1, 1) RETURNING pg_cast(a, 'text')"),
        ("UPDATE t SET a = a / 2 WHERE b ILIKE $2 RETURNING *", "UPDATE t SET a = pg_div(a, 2) WHERE lower(b) LIKE lower(?2) ESCAPE '\\' RETURNING *"),
        ("INSERT INTO t VALUES (1) ON CONFLICT (a) DO UPDATE SET b = excluded.b || 'x'", "INSERT INTO t VALUES (1) ON CONFLICT(a) DO UPDATE SET b = excluded.b || 'x'"),
        ("DELETE FROM t WHERE a = ANY(ARRAY[1, 2])", "DELETE FROM t WHERE a IN (1, 2)"),
        ("SELECT DATE '2024-01-01'", "SELECT pg_cast('2024-01-01', 'date')"),
        ("SELECT x FROM (SELECT 1 AS x) AS s WHERE x IN (SELECT y FROM u LIMIT 1)", "SELECT x FROM (SELECT 1 AS x) AS s WHERE x IN (SELECT y FROM u LIMIT 1)"),
        ("CREATE TABLE t (a int DEFAULT 1 / 0)", "CREATE TABLE t (a INT DEFAULT 1 / 0)"),
        ("SELECT a + 1, a - b, a * 2 FROM t", "SELECT pg_add(a, 1), pg_sub(a, b), pg_mul(a, 2) FROM t"),
        ("SELECT * FROM t ORDER BY a DESC, b", "SELECT * FROM t ORDER BY a DESC NULLS FIRST, b NULLS LAST"),
        ("SELECT string_agg(DISTINCT x, ',') FROM t", "SELECT pg_string_agg_distinct(x, ',') FROM t"),
        ("SELECT avg(x) FROM t", "SELECT pg_avg(x) FROM t"),
    ];
    for (pg, want) in cases {
        assert_eq!(rewrite(pg).unwrap_or_else(|e| format!("ERR {e}")), want, "{pg}");
    }
}

#[test]
fn untranslatable_constructs_are_unsupported() {
    for sql in [
        "SELECT DISTINCT ON (a) a FROM t",
        "SELECT string_to_array(a, ',') FROM t",
        "SELECT interval '1 day'",
        "SELECT ts AT TIME ZONE 'UTC'",
        "SELECT x::interval",
        "SELECT a SIMILAR TO 'x'",
    ] {
        let err = rewrite(sql).unwrap_err();
        assert_eq!(err.sqlstate(), "0A000", "{sql}: {err}");
    }
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
    crate::sql::functions::register(&conn).unwrap();
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
        let (state, _) = crate::sql::functions::sqlstate_of_message(&msg).unwrap();
        assert_eq!(state, code, "{pg}");
    }
}

#[test]
fn every_registered_aggregate_is_known_to_the_rewrite() {
    let source = [
        include_str!("../functions.rs"),
        include_str!("../functions/aggregate.rs"),
        include_str!("../functions/catalog.rs"),
        include_str!("../functions/text.rs"),
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
                    super::expr::AGGREGATES.contains(&name),
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
