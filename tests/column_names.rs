//! Result column names, as PostgreSQL 15 gives them: clients read rows by
//! these names (a dict row, an ORM's raw query), so each select list here
//! must name its columns exactly as the real server does, compared with
//! a throwaway PostgreSQL on every run.

mod common;

use common::postgres::Postgres;
use common::TestNode;
use tokio_postgres::SimpleQueryMessage;

/// The column names of `sql`'s result.
async fn names(c: &tokio_postgres::Client, sql: &str) -> Result<Vec<String>, String> {
    let msgs = c.simple_query(sql).await.map_err(|e| e.to_string())?;
    Ok(msgs
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::RowDescription(cols) => {
                Some(cols.iter().map(|c| c.name().to_string()).collect())
            }
            _ => None,
        })
        .unwrap_or_default())
}

#[tokio::test]
async fn select_lists_name_their_columns_as_postgresql() {
    let pg = Postgres::start();
    let pg = common::connect(&pg.conn_string()).await.expect("connect");
    let node = TestNode::start();
    let mosaic = node.client().await;
    let queries = [
        "SELECT 1, 'a', NULL, true, false, 1.5",
        "SELECT interval '90 minutes', INTERVAL '2' HOUR, date '2024-01-01', timestamp '2024-01-01', \
         timestamptz '2024-01-01 00:00+00', time '10:00', numeric '1.5', int '3', text 'x', bool 't', \
         jsonb '{}', bytea '\\x01', varchar 'v', float8 '1'",
        "SELECT CAST('1' AS int), '1'::int, '1 day'::interval, 1::text, (1 + 2)::bigint, true::int",
        "SELECT 1.1::float4::float8, int '3'::text, interval '1 day'::text, (x::int)::text, \
         lower('A')::varchar, CASE WHEN true THEN 1 END::text FROM (VALUES ('1')) v(x)",
        "SELECT ARRAY[1]::text, COALESCE(1, 2)::text, GREATEST(1, 2)::text, EXISTS (SELECT 1)::text, \
         (SELECT 1 AS q)::text, NULLIF(1, 2)::text, count(*)::text, (1 + 2)::text, 'a'::text::varchar",
        "SELECT 1 + 2, -1, NOT true, 'a' || 'b', 1 = 1, 1 IS NULL, 2 BETWEEN 1 AND 3",
        "SELECT count(*), sum(1), max('a'), coalesce(NULL, 1), nullif(1, 2), greatest(1, 2), lower('A')",
        "SELECT CASE WHEN true THEN 1 END, EXISTS (SELECT 1), (SELECT 1), (SELECT 1 AS x), ARRAY[1, 2]",
        "SELECT extract(year FROM date '2024-01-01'), substring('abc' FROM 2), position('b' IN 'abc'), \
         trim('  a  '), ceil(1.5), floor(1.5), current_date IS NOT NULL",
        "SELECT (ARRAY[1, 2])[1], x AS renamed, x FROM (VALUES (1)) v(x)",
        "SELECT * FROM (VALUES (1, 'a')) v",
        "SELECT * FROM (VALUES ('l', 1, 2)) a(v, id, w) JOIN (VALUES (1, 'r', 3)) b(id, x, w) USING (id)",
        "SELECT * FROM (VALUES ('l', 1, 2)) a(v, id, w) NATURAL FULL JOIN (VALUES (1, 'r', 2)) b(id, x, w)",
        "SELECT *, 0 AS z FROM (VALUES (1, 2)) a(p, q) RIGHT JOIN (VALUES (2, 1)) b(q, p) USING (q, p)",
        "SELECT timestamptz '2024-01-01 00:00+00' AT TIME ZONE 'UTC', array_to_json(ARRAY[1]), to_json(1)",
        "SELECT substr('abc', 2), substring('abc', 2), substring('abc' FROM 2 FOR 1)",
        "SELECT true UNION SELECT false",
        "SELECT 1 AS a UNION ALL SELECT 2 AS b",
        "SELECT current_schema, current_schema(), current_user, session_user, current_role, current_catalog",
        "SHOW TIME ZONE",
        "SHOW timezone",
        "SHOW datestyle",
        "SHOW IntervalStyle",
        "SHOW transaction isolation level",
        "SHOW session_authorization",
        "SHOW is_superuser",
    ];
    let mut differ = vec![];
    for sql in queries {
        let want = names(&pg, sql).await;
        let got = names(&mosaic, sql).await;
        if want != got {
            differ.push(format!(
                "{sql}\n  PostgreSQL: {want:?}\n  MosaicDB:   {got:?}"
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
