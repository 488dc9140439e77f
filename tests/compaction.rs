//! Compaction: a shard that has lost at least half its rows to tombstones
//! is rewritten into a new shard without them, and answers stay the same,
//! also after a restart.

mod common;

use common::TestNode;
use tokio_postgres::{Client, SimpleQueryMessage};

async fn column(client: &Client, sql: &str) -> Vec<String> {
    client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap_or("NULL").to_string()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn shards_with_many_tombstones_are_rewritten() {
    let mut node = TestNode::start_with(&["--shard-max-rows", "50"]);
    let client = node.client().await;
    client
        .batch_execute(
            "CREATE TABLE c (id integer PRIMARY KEY, v text); \
             INSERT INTO c SELECT i, 'v' || i FROM generate_series(1, 100) i",
        )
        .await
        .unwrap();
    let before = column(
        &client,
        "SELECT shard_id FROM mosaic.shards ORDER BY shard_id",
    )
    .await;
    assert_eq!(before.len(), 2, "{before:?}");

    // 10 of 50 rows of the first shard: tombstones, no compaction yet.
    client
        .batch_execute("DELETE FROM c WHERE id <= 10")
        .await
        .unwrap();
    let after_few = column(
        &client,
        "SELECT shard_id FROM mosaic.shards ORDER BY shard_id",
    )
    .await;
    assert_eq!(after_few, before);

    // 30 of 50: the shard is rewritten with its 20 live rows.
    client
        .batch_execute("DELETE FROM c WHERE id <= 30")
        .await
        .unwrap();
    let counts = column(
        &client,
        "SELECT row_count FROM mosaic.shards ORDER BY row_count",
    )
    .await;
    assert_eq!(counts, vec!["20", "50"]);
    let after = column(
        &client,
        "SELECT shard_id FROM mosaic.shards ORDER BY shard_id",
    )
    .await;
    assert_eq!(after.len(), 2);
    assert_ne!(after, before, "the compacted shard must have a new id");

    // Every row of the second shard updated: the old shard goes away, and
    // the 50 new versions fill the open segment, which is sealed anew.
    client
        .batch_execute("UPDATE c SET v = 'new' WHERE id > 50")
        .await
        .unwrap();
    let counts = column(
        &client,
        "SELECT row_count FROM mosaic.shards ORDER BY row_count",
    )
    .await;
    assert_eq!(counts, vec!["20", "50"]);
    let last = column(
        &client,
        "SELECT shard_id FROM mosaic.shards ORDER BY shard_id",
    )
    .await;
    assert!(
        last.iter().filter(|id| !after.contains(id)).count() == 1,
        "the updated shard must be replaced: {after:?} -> {last:?}"
    );

    let check = |client: Client| async move {
        assert_eq!(column(&client, "SELECT count(*) FROM c").await, vec!["70"]);
        assert_eq!(column(&client, "SELECT min(id) FROM c").await, vec!["31"]);
        assert_eq!(
            column(&client, "SELECT count(*) FROM c WHERE v = 'new'").await,
            vec!["50"]
        );
        assert_eq!(
            column(&client, "SELECT v FROM c WHERE id = 40").await,
            vec!["v40"]
        );
        client
    };
    let client = check(client).await;
    drop(client);
    node.restart();
    check(node.client().await).await;
}
