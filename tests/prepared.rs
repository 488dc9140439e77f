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
