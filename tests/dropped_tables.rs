//! A DROP TABLE keeps the table's data (its open segment and shard files)
//! only while some node might still send a newer definition of it (an
//! ALTER made on the other side of a split, which would win and bring the
//! table back: `tests/partition.rs`): a lone node and a cluster whose
//! nodes are all up remove it at once, a node that is down holds it until
//! it comes back or is forgotten. Meanwhile the name is free for a new
//! table.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{simple_rows, sqlstate, start_cluster, wait_rows, wait_state, TestNode};
use tokio_postgres::Client;

async fn exec(client: &Client, sql: &str) {
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
}

/// The shard ids `client`'s node lists for table `t`.
async fn shards_of_t(client: &Client) -> Vec<String> {
    let ids: Vec<String> = simple_rows(
        client,
        "SELECT DISTINCT shard_id FROM mosaic.shards WHERE table_name = 't'",
    )
    .await
    .into_iter()
    .filter_map(|r| r[0].clone())
    .collect();
    assert!(!ids.is_empty(), "t has sealed shards");
    ids
}

/// The files of `ids` that `nodes` have.
fn files(nodes: &[&TestNode], ids: &[String]) -> Vec<PathBuf> {
    nodes
        .iter()
        .flat_map(|n| {
            ids.iter()
                .map(|id| n.data_dir().join("shards").join(format!("{id}.db")))
        })
        .filter(|p| p.exists())
        .collect()
}

/// Wait until none of `nodes` has a file of `ids`.
async fn files_gone(nodes: &[&TestNode], ids: &[String], what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = files(nodes, ids);
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {left:?} stay");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Wait until dt-2 holds a copy of each of `ids` (as `client`'s node sees it).
async fn held_by_dt2(client: &Client, ids: &[String]) {
    wait_rows(
        client,
        "SELECT count(*) FROM mosaic.shards WHERE table_name = 't' AND 'dt-2' = ANY(holders)",
        &[&ids.len().to_string()],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lone_node_removes_a_dropped_tables_files_at_once() {
    let mut node = TestNode::start();
    let c = node.client().await;
    exec(
        &c,
        "CREATE TABLE t (id int PRIMARY KEY, v text);
         INSERT INTO t SELECT g, 'v' FROM generate_series(1, 10) g;
         SELECT mosaic.seal('t');",
    )
    .await;
    let ids = shards_of_t(&c).await;
    assert_eq!(files(&[&node], &ids).len(), ids.len());
    exec(&c, "DROP TABLE t").await;
    assert_eq!(files(&[&node], &ids), Vec::<PathBuf>::new());
    node.restart();
    let c = node.client().await;
    exec(
        &c,
        "CREATE TABLE t (id int PRIMARY KEY, w int); INSERT INTO t VALUES (1, 1)",
    )
    .await;
    assert_eq!(sqlstate(&c, "INSERT INTO t VALUES (1, 2)").await, "23505");
    let rows = simple_rows(&c, "SELECT count(*), sum(w) FROM t").await;
    assert_eq!(rows, vec![vec![Some("1".into()), Some("1".into())]]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_tables_files_stay_while_a_node_is_down() {
    let names = ["dt-1", "dt-2"];
    let mut nodes = start_cluster(&names, &[]).await;
    let a = nodes[0].client().await;
    let b = nodes[1].client().await;
    let seal_t = "CREATE TABLE t (id int PRIMARY KEY, v text);
         INSERT INTO t SELECT g, 'v' FROM generate_series(1, 10) g;
         SELECT mosaic.seal('t');";

    // Both nodes up: the DROP removes the files everywhere.
    exec(&a, seal_t).await;
    let first = shards_of_t(&a).await;
    held_by_dt2(&b, &first).await;
    exec(&a, "DROP TABLE t").await;
    assert_eq!(files(&[&nodes[0]], &first), Vec::<PathBuf>::new());
    files_gone(&[&nodes[0], &nodes[1]], &first, "both nodes up").await;

    // dt-2 down: dt-1 keeps the files of its DROP, and the name is free.
    exec(&a, seal_t).await;
    let second = shards_of_t(&a).await;
    held_by_dt2(&b, &second).await;
    nodes[1].kill9();
    wait_state(&a, "dt-2", "down").await;
    exec(&a, "DROP TABLE t").await;
    exec(
        &a,
        "CREATE TABLE t (id int PRIMARY KEY, w int); INSERT INTO t VALUES (1, 1), (2, 2)",
    )
    .await;
    assert_eq!(sqlstate(&a, "INSERT INTO t VALUES (1, 3)").await, "23505");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        files(&[&nodes[0]], &second).len(),
        second.len(),
        "kept while dt-2 is down"
    );

    // dt-2 back: it learns of the DROP and the new table, and both nodes
    // let the files go.
    nodes[1].restart();
    let b = nodes[1].client().await;
    wait_state(&a, "dt-2", "alive").await;
    wait_rows(
        &b,
        "SELECT string_agg(id || ':' || w, ',' ORDER BY id) FROM t",
        &["1:1,2:2"],
    )
    .await;
    files_gone(&[&nodes[0], &nodes[1]], &second, "after dt-2 came back").await;

    // dt-2 down for good: forgetting it lets the files of a DROP go.
    exec(&a, "SELECT mosaic.seal('t')").await;
    let third = shards_of_t(&a).await;
    nodes[1].kill9();
    wait_state(&a, "dt-2", "down").await;
    exec(&a, "DROP TABLE t").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        files(&[&nodes[0]], &third).len(),
        third.len(),
        "kept while dt-2 is down"
    );
    exec(&a, "SELECT mosaic.forget_node('dt-2')").await;
    files_gone(&[&nodes[0]], &third, "after dt-2 was forgotten").await;
}
