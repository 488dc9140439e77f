//! A prepared statement keeps answering correctly while the shards under
//! it change: sealing, tombstones, compaction and DDL all change what its
//! compiled SQL must read.

mod common;

use common::TestNode;

#[tokio::test]
async fn prepared_queries_follow_the_shards() {
    let node = TestNode::start_with(&["--shard-max-rows", "20"]);
    let client = node.client().await;
    client
        .batch_execute("CREATE TABLE p (id integer PRIMARY KEY, v text)")
        .await
        .unwrap();
    let get = client
        .prepare("SELECT v FROM p WHERE id = $1")
        .await
        .unwrap();
    let count = client.prepare("SELECT count(*) FROM p").await.unwrap();
    let value = |rows: Vec<tokio_postgres::Row>| rows.first().map(|r| r.get::<_, String>(0));

    client
        .batch_execute("INSERT INTO p VALUES (1, 'one'), (2, 'two')")
        .await
        .unwrap();
    assert_eq!(
        value(client.query(&get, &[&1i32]).await.unwrap()).as_deref(),
        Some("one")
    );

    // Now sealed (and more rows, in more shards).
    client
        .batch_execute("INSERT INTO p SELECT i, 'v' || i FROM generate_series(3, 60) i; SELECT mosaic.seal('p')")
        .await
        .unwrap();
    assert_eq!(
        value(client.query(&get, &[&1i32]).await.unwrap()).as_deref(),
        Some("one")
    );
    assert_eq!(
        value(client.query(&get, &[&45i32]).await.unwrap()).as_deref(),
        Some("v45")
    );

    // Tombstoned in its shard, new version in the open segment.
    client
        .batch_execute("UPDATE p SET v = 'uno' WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(
        value(client.query(&get, &[&1i32]).await.unwrap()).as_deref(),
        Some("uno")
    );
    client
        .batch_execute("DELETE FROM p WHERE id = 45")
        .await
        .unwrap();
    assert_eq!(value(client.query(&get, &[&45i32]).await.unwrap()), None);

    // Enough deletes to compact a shard away.
    client
        .batch_execute("DELETE FROM p WHERE id BETWEEN 21 AND 40")
        .await
        .unwrap();
    assert_eq!(value(client.query(&get, &[&30i32]).await.unwrap()), None);
    assert_eq!(
        value(client.query(&get, &[&50i32]).await.unwrap()).as_deref(),
        Some("v50")
    );
    let n: i64 = client.query_one(&count, &[]).await.unwrap().get(0);
    assert_eq!(n, 39);

    // A column added later.
    client
        .batch_execute("ALTER TABLE p ADD COLUMN w integer DEFAULT 7")
        .await
        .unwrap();
    let w = client
        .prepare("SELECT w FROM p WHERE id = $1")
        .await
        .unwrap();
    let row = client.query_one(&w, &[&2i32]).await.unwrap();
    assert_eq!(row.get::<_, Option<i32>>(0), Some(7));
    assert_eq!(
        value(client.query(&get, &[&2i32]).await.unwrap()).as_deref(),
        Some("two")
    );
}

/// MosaicDB's own functions take parameters like any function (what a
/// driver sends for `execute("SELECT mosaic.seal(%s)", (t,))`), and refuse
/// clearly where they cannot run.
#[tokio::test]
async fn admin_functions_take_parameters() {
    let node = TestNode::start();
    let client = node.client().await;
    client
        .batch_execute("CREATE TABLE adm (id int); INSERT INTO adm VALUES (1), (2)")
        .await
        .unwrap();
    let row = client
        .query_one("SELECT mosaic.seal($1)", &[&"adm"])
        .await
        .unwrap();
    let id: Option<String> = row.get(0);
    let id = id.expect("sealing two rows makes a shard");
    let shards = common::simple_rows(&client, "SELECT shard_id FROM mosaic.shards").await;
    assert!(
        shards.iter().any(|r| r[0].as_deref() == Some(id.as_str())),
        "{id} not in {shards:?}"
    );
    let row = client
        .query_one("SELECT mosaic.seal($1::text)", &[&"adm"])
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, Option<String>>(0),
        None,
        "nothing left to seal"
    );
    let err = client
        .simple_query("SELECT length(mosaic.seal('adm'))")
        .await
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("0A000"), "{err}");
}

/// A prepared query that runs as fragments and a merge (an aggregate, a
/// top-k) is split once and reused: it answers as the same query sent
/// afresh through every change of its table, the table's DDL included.
#[tokio::test]
async fn prepared_fragment_queries_follow_the_table() {
    let node = TestNode::start_with(&["--shard-max-rows", "10"]);
    let client = node.client().await;
    client
        .batch_execute(
            "CREATE TABLE f (id integer PRIMARY KEY, g integer, x integer);
             INSERT INTO f SELECT i, i % 3, i FROM generate_series(1, 40) i;
             SELECT mosaic.seal('f')",
        )
        .await
        .unwrap();
    let groups = "SELECT g, count(*), sum(x) FROM f GROUP BY g ORDER BY g";
    let top = "SELECT id, x FROM f ORDER BY x DESC, id LIMIT $1";
    let prepared = [
        client.prepare(groups).await.unwrap(),
        client.prepare(top).await.unwrap(),
    ];
    let changes = [
        "UPDATE f SET x = x * 10 WHERE g = 1",
        "DELETE FROM f WHERE id BETWEEN 5 AND 25",
        "INSERT INTO f SELECT i, i % 4, -i FROM generate_series(100, 130) i",
        "ALTER TABLE f ADD COLUMN note text DEFAULT 'n'",
        "DROP TABLE f; CREATE TABLE f (id integer PRIMARY KEY, g integer, x integer);
         INSERT INTO f VALUES (1, 7, 70), (2, 8, 80)",
    ];
    for change in changes {
        client.batch_execute(change).await.unwrap();
        for (st, sql) in prepared.iter().zip([groups, top]) {
            let limit = 5i64;
            let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = match sql {
                s if s.contains("$1") => vec![&limit],
                _ => vec![],
            };
            let reused = client.query(st, &params).await.unwrap();
            let fresh_sql = sql.replace("$1", "5");
            let fresh = client.simple_query(&fresh_sql).await.unwrap();
            let fresh: Vec<Vec<String>> = fresh
                .iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => Some(
                        (0..r.len())
                            .map(|i| r.get(i).unwrap().to_string())
                            .collect(),
                    ),
                    _ => None,
                })
                .collect();
            let reused: Vec<Vec<String>> = reused
                .iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| match r.columns()[i].type_() {
                            &tokio_postgres::types::Type::INT4 => r.get::<_, i32>(i).to_string(),
                            _ => r.get::<_, i64>(i).to_string(),
                        })
                        .collect()
                })
                .collect();
            assert!(!fresh.is_empty(), "{sql} after {change}");
            assert_eq!(reused, fresh, "{sql} after {change}");
        }
    }
}

/// The rows of `sql` (simple protocol), or its SQLSTATE alone.
async fn answer(
    client: &tokio_postgres::Client,
    sql: &str,
) -> Result<Vec<Vec<Option<String>>>, String> {
    common::try_simple_rows(client, sql)
        .await
        .map_err(|e| e.chars().take(5).collect())
}

/// Simple queries that differ only in constants compared with columns run
/// as one prepared form (`exec::lifted`): each answers as PostgreSQL does,
/// also where a literal lies outside its column's type or is not of the
/// column's kind, and the form follows DDL and temporary tables.
#[tokio::test]
async fn simple_queries_with_constants_answer_as_postgresql() {
    const SETUP: &str = "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); \
        CREATE TABLE lit (id int PRIMARY KEY, s smallint, b bigint, t text, v varchar(5), c char(3), m mood, f float8, n numeric(8, 2)); \
        INSERT INTO lit VALUES (1, 7, 9000000000, 'a', 'ab', 'x', 'sad', 1.5, 2.25), \
        (2, -3, -1, 'b''q', 'abc  ', 'xy', 'happy', -0.5, 10), (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), \
        (40000, 32767, 0, 'Z', 'zz', 'z  ', 'ok', 1e10, 0.01)";
    let pg = common::postgres::Postgres::start();
    let pg = common::connect(&pg.conn_string()).await.expect("connect");
    let node = TestNode::start_with(&["--shard-max-rows", "2", "--metrics-addr", "127.0.0.1:0"]);
    let mosaic = node.client().await;
    pg.batch_execute(SETUP).await.unwrap();
    mosaic.batch_execute(SETUP).await.unwrap();
    let queries = [
        "SELECT id FROM lit WHERE id = 2",
        "SELECT id FROM lit WHERE id = 40000",
        "SELECT id FROM lit WHERE id = 3000000000",
        "SELECT id FROM lit WHERE id <> 2 AND id < 40000 ORDER BY id",
        "SELECT id FROM lit WHERE s = 100000",
        "SELECT id FROM lit WHERE s < 100000 ORDER BY id",
        "SELECT id FROM lit WHERE s = 7 AND b = 9000000000",
        "SELECT id FROM lit WHERE 9000000000 <= b",
        "SELECT id FROM lit WHERE b > 9223372036854775807",
        "SELECT id FROM lit WHERE t = 'b''q'",
        "SELECT id FROM lit WHERE t > 'a' ORDER BY id",
        "SELECT id FROM lit WHERE v = 'abc  '",
        "SELECT id FROM lit WHERE v = 'abc'",
        "SELECT id FROM lit WHERE v = 'abcdefgh'",
        "SELECT id FROM lit WHERE c = 'xy'",
        "SELECT id FROM lit WHERE c = 'xy '",
        "SELECT id FROM lit WHERE m = 'happy'",
        "SELECT id FROM lit WHERE m > 'sad' ORDER BY id",
        "SELECT id FROM lit WHERE m = 'angry'",
        "SELECT id FROM lit WHERE f = 1 OR f = -0.5 ORDER BY id",
        "SELECT id FROM lit WHERE f > 1 ORDER BY id",
        "SELECT id FROM lit WHERE n = 10 ORDER BY id",
        "SELECT id FROM lit WHERE n > 2 ORDER BY id",
        "SELECT id FROM lit WHERE id = '2'",
        "SELECT id FROM lit WHERE id = 'two'",
        "SELECT id FROM lit WHERE s = 1 AND nope = 2",
        "SELECT id FROM lit WHERE t = 5",
        "SELECT id FROM lit WHERE lit.v < 1.5",
        "SELECT id FROM lit WHERE c = 1",
        "SELECT id FROM lit WHERE t = '5'",
        // Not lifted (OR), so compared as sent: no range error either.
        "SELECT id FROM lit WHERE id = 3000000000 OR id = 2",
        "SELECT id FROM lit WHERE s < 100000 OR s = 5 ORDER BY id",
        "SELECT id FROM lit WHERE s BETWEEN -100000 AND 100000 ORDER BY id",
        // Writes lifted as SELECTs are, with the same answers and errors.
        "UPDATE lit SET b = b + -5 WHERE id = 1 RETURNING b",
        "UPDATE lit SET s = s + 1 WHERE id = 40000 RETURNING s",
        "UPDATE lit SET s = 40000 WHERE id = 1",
        "UPDATE lit SET v = 'toolong' WHERE id = 1",
        "INSERT INTO lit (id, s, v) VALUES (50, 1, 'ok') RETURNING id, s, v",
        "INSERT INTO lit (id, s) VALUES (51, 40000)",
        "INSERT INTO lit (id, s) VALUES (3000000000, 1)",
        "DELETE FROM lit WHERE id = 50 RETURNING id",
    ];
    let mut differ = Vec::new();
    for sql in queries {
        // Twice: the second runs the form the first prepared.
        for _ in 0..2 {
            let (want, got) = (answer(&pg, sql).await, answer(&mosaic, sql).await);
            if want != got {
                differ.push(format!(
                    "{sql}\n  PostgreSQL: {want:?}\n  MosaicDB:   {got:?}"
                ));
            }
        }
    }
    assert!(differ.is_empty(), "answers differ:\n{}", differ.join("\n"));

    // Queries differing only in their constants reuse one form's compiled
    // SQL (a query run once as sent compiles afresh every time).
    let metrics = common::metrics_addr(&node);
    let hits = || async {
        let (_, body) = common::http_get(&metrics, "/metrics")
            .await
            .expect("metrics");
        common::metric_value(&body, "mosaic_fragment_cache_hits_total").unwrap_or(0.0)
    };
    let before = hits().await;
    for id in [1, 2, 3, 1, 2, 3] {
        answer(&mosaic, &format!("SELECT t FROM lit WHERE id = {id}"))
            .await
            .unwrap();
    }
    assert!(
        hits().await >= before + 3.0,
        "the constants were not lifted"
    );

    // The form follows the table: a column added, the table replaced by
    // one of other types, a temporary table of the same name.
    let star = |id: i32| format!("SELECT * FROM lit WHERE id = {id}");
    assert_eq!(answer(&mosaic, &star(1)).await.unwrap()[0].len(), 9);
    mosaic
        .batch_execute("ALTER TABLE lit ADD COLUMN w int DEFAULT 5")
        .await
        .unwrap();
    assert_eq!(
        answer(&mosaic, &star(2)).await.unwrap()[0][9].as_deref(),
        Some("5")
    );
    mosaic
        .batch_execute("DROP TABLE lit; CREATE TABLE lit (id bigint PRIMARY KEY, z text); INSERT INTO lit VALUES (1, 'new')")
        .await
        .unwrap();
    assert_eq!(
        answer(&mosaic, &star(1)).await,
        Ok(vec![vec![Some("1".to_string()), Some("new".to_string())]])
    );
    mosaic
        .batch_execute("CREATE TEMP TABLE lit (id int, x int); INSERT INTO lit VALUES (1, 8)")
        .await
        .unwrap();
    assert_eq!(
        answer(&mosaic, &star(1)).await,
        Ok(vec![vec![Some("1".to_string()), Some("8".to_string())]])
    );
}

/// A LATERAL subquery in a prepared statement: a parameter inside it and
/// one outside, values of several types in binary form (a float to its
/// last bit, a blob, a boolean), answering again after its rows are sealed
/// into shards.
#[tokio::test]
async fn prepared_lateral_subqueries_take_parameters() {
    let node = TestNode::start_with(&["--shard-max-rows", "4"]);
    let client = node.client().await;
    client
        .batch_execute(
            "CREATE TABLE lc (id int PRIMARY KEY, name text);
             CREATE TABLE lo (id int PRIMARY KEY, cust int, ratio float8, raw bytea, paid bool);
             INSERT INTO lc VALUES (1, 'ann'), (2, 'bob'), (3, 'cy');
             INSERT INTO lo VALUES (1, 1, 0.1, '\\x00ff', true), (2, 1, 0.30000000000000004, '\\x', false),
               (3, 2, 1e300, NULL, NULL), (4, 3, -2.5, '\\xdeadbeef', true)",
        )
        .await
        .unwrap();
    let top = client
        .prepare(
            "SELECT c.name, x.ratio, x.raw, x.paid FROM lc c, \
             LATERAL (SELECT ratio, raw, paid FROM lo WHERE lo.cust = c.id AND lo.ratio > $1 \
             ORDER BY ratio DESC LIMIT 1) x WHERE c.id <= $2 ORDER BY c.id",
        )
        .await
        .unwrap();
    type Row = (String, f64, Option<Vec<u8>>, Option<bool>);
    let run = |rows: Vec<tokio_postgres::Row>| -> Vec<Row> {
        rows.iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect()
    };
    let want: Vec<Row> = vec![
        ("ann".into(), 0.30000000000000004, Some(vec![]), Some(false)),
        ("bob".into(), 1e300, None, None),
    ];
    assert_eq!(
        run(client.query(&top, &[&0.0f64, &2i32]).await.unwrap()),
        want
    );
    client
        .batch_execute("SELECT mosaic.seal('lo')")
        .await
        .unwrap();
    assert_eq!(
        run(client.query(&top, &[&0.0f64, &2i32]).await.unwrap()),
        want
    );
    let all = run(client.query(&top, &[&-3.0f64, &3i32]).await.unwrap());
    assert_eq!(all.len(), 3);
    assert_eq!(
        all[2],
        (
            "cy".into(),
            -2.5,
            Some(vec![0xde, 0xad, 0xbe, 0xef]),
            Some(true)
        )
    );
}
