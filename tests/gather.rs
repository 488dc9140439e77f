//! Statements over more shards than a session attaches at once gather the
//! shards' rows into a temp table instead, and answer the same.

mod common;

use common::TestNode;
use tokio_postgres::SimpleQueryMessage;

#[tokio::test]
async fn joins_over_hundreds_of_shards_gather() {
    let node = TestNode::start_with(&["--shard-max-rows", "5"]);
    let client = node.client().await;
    client
        .batch_execute(
            "CREATE TABLE ga (id integer PRIMARY KEY, k integer, v text); \
             CREATE TABLE gb (k integer PRIMARY KEY, name text); \
             INSERT INTO ga SELECT i, i % 40, 'v' || i FROM generate_series(1, 800) i; \
             INSERT INTO gb SELECT i, 'k' || i FROM generate_series(0, 39) i; \
             DELETE FROM ga WHERE id <= 200 AND id % 10 = 0; \
             UPDATE ga SET v = 'changed' WHERE id > 600 AND id % 7 = 0",
        )
        .await
        .unwrap();
    let shards: i64 = client
        .query_one(
            "SELECT count(*) FROM mosaic.shards WHERE table_name = 'ga'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        shards >= 140,
        "expected over a hundred shards, got {shards}"
    );

    let sql =
        "SELECT b.name, count(*), sum(a.id), sum(CASE WHEN a.v = 'changed' THEN 1 ELSE 0 END) \
               FROM ga a JOIN gb b ON a.k = b.k GROUP BY b.name ORDER BY b.name";
    let plan: Vec<String> = client
        .simple_query(&format!("EXPLAIN {sql}"))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        })
        .collect();
    assert!(
        plan.iter().any(|l| l.starts_with("Gather ga:")),
        "{plan:#?}"
    );

    let rows = client.query(sql, &[]).await.unwrap();
    assert_eq!(rows.len(), 40);
    // The same answer computed here.
    for row in rows {
        let name: String = row.get(0);
        let k: i64 = name[1..].parse().unwrap();
        let ids: Vec<i64> = (1..=800)
            .filter(|i| i % 40 == k && !(*i <= 200 && i % 10 == 0))
            .collect();
        let changed = ids.iter().filter(|i| **i > 600 && *i % 7 == 0).count() as i64;
        assert_eq!(row.get::<_, i64>(1), ids.len() as i64, "{name}");
        assert_eq!(row.get::<_, i64>(2), ids.iter().sum::<i64>(), "{name}");
        assert_eq!(row.get::<_, i64>(3), changed, "{name}");
    }
}
