//! Shards that stay sound: a shard file damaged on disk is found (when a
//! statement first reads it, or by the periodic scrub), never answers a
//! query, and is replaced by a healthy copy from another holder.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{simple_rows, start_cluster, wait_rows, TestNode, CLUSTER_TIMEOUT};

/// Overwrite a stretch in the middle of a file with other bytes.
fn damage(path: &PathBuf) {
    let mut bytes = std::fs::read(path).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(path, bytes).unwrap();
}

fn shard_file(node: &TestNode, id: &str) -> PathBuf {
    node.data_dir().join("shards").join(format!("{id}.db"))
}

async fn shard_ids(client: &tokio_postgres::Client, home: &str) -> Vec<String> {
    let rows = simple_rows(
        client,
        &format!(
            "SELECT shard_id FROM mosaic.shards WHERE table_name = 't' AND home_node = '{home}' \
             ORDER BY 1"
        ),
    )
    .await;
    rows.into_iter().filter_map(|r| r[0].clone()).collect()
}

const SUM: &str = "SELECT count(*)::text || ' ' || sum(id)::text FROM t";

#[tokio::test]
async fn a_damaged_shard_on_a_lone_node_is_refused_not_read() {
    let mut node = TestNode::start_with(&[
        "--shard-max-rows",
        "100",
        "--node-name",
        "solo",
        "--metrics-addr",
        "127.0.0.1:0",
    ]);
    let c = node.client().await;
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, pad text); \
         INSERT INTO t SELECT i, repeat('x', 200) FROM generate_series(1, 100) i",
    )
    .await
    .unwrap();
    let ids = shard_ids(&c, "solo").await;
    assert_eq!(ids.len(), 1);
    drop(c);
    node.stop();
    damage(&shard_file(&node, &ids[0]));
    node.restart();
    let c = node.client().await;
    let err = c.simple_query(SUM).await.unwrap_err();
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "XX001", "{db:?}");
    assert!(db.message().contains(&ids[0]), "{}", db.message());
    // Still refused, and the node goes on serving what is sound.
    assert_eq!(common::sqlstate(&c, SUM).await, "XX001");
    assert_eq!(common::sqlstate(&c, "SELECT 1").await, "ok");
    let (status, scrape) = common::http_get(&common::metrics_addr(&node), "/metrics")
        .await
        .expect("metrics answer");
    assert_eq!(status, 200);
    assert_eq!(
        common::metric_value(&scrape, "mosaic_damaged_shards"),
        Some(1.0)
    );
}

#[tokio::test]
async fn a_damaged_shard_is_replaced_from_a_copy_when_read_and_by_the_scrub() {
    let args = [
        "--replication-factor",
        "2",
        "--shard-max-rows",
        "100",
        "--scrub-interval-secs",
        "1",
    ];
    let mut nodes = start_cluster(&["h1", "h2"], &args).await;
    let c2 = nodes[1].client().await;
    c2.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, pad text); \
         INSERT INTO t SELECT i, repeat('x', 200) FROM generate_series(1, 200) i",
    )
    .await
    .unwrap();
    let want = format!("200 {}", (1..=200).sum::<i64>());
    let ids = shard_ids(&c2, "h2").await;
    assert_eq!(ids.len(), 2);
    // Both shards copied to h1.
    let c1 = nodes[0].client().await;
    wait_rows(
        &c1,
        "SELECT count(*) FROM mosaic.shards WHERE table_name = 't' AND holders = '{h1,h2}'",
        &["2"],
    )
    .await;
    let healthy: Vec<Vec<u8>> = ids
        .iter()
        .map(|id| std::fs::read(shard_file(&nodes[0], id)).unwrap())
        .collect();
    drop(c2);

    // Damaged while h2 is down: found when first read after the restart.
    nodes[1].stop();
    damage(&shard_file(&nodes[1], &ids[0]));
    nodes[1].restart();
    common::wait_alive(&nodes[1], 1).await;
    let c2 = nodes[1].client().await;
    let start = Instant::now();
    loop {
        // Never a wrong answer: the right one, or XX001 until repaired.
        match simple_rows_or_code(&c2, SUM).await {
            Ok(got) if got == want => break,
            Ok(got) => panic!("read {got} from a damaged shard, want {want}"),
            Err(code) => assert_eq!(code, "XX001"),
        }
        assert!(start.elapsed() < CLUSTER_TIMEOUT, "never repaired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_file(&shard_file(&nodes[1], &ids[0]), &healthy[0]).await;

    // Damaged while h2 runs, after it was read: the scrub finds it.
    damage(&shard_file(&nodes[1], &ids[1]));
    wait_file(&shard_file(&nodes[1], &ids[1]), &healthy[1]).await;
    assert_eq!(simple_rows_or_code(&c2, SUM).await, Ok(want));
    let log = std::fs::read_to_string(nodes[1].log_path()).unwrap();
    assert!(
        log.contains("damaged shard replaced by a healthy copy"),
        "{log}"
    );
}

/// The first value of `sql`'s answer, or its SQLSTATE.
async fn simple_rows_or_code(client: &tokio_postgres::Client, sql: &str) -> Result<String, String> {
    match common::try_simple_rows(client, sql).await {
        Ok(rows) => Ok(rows[0][0].clone().unwrap_or_default()),
        Err(e) => Err(e.split(' ').next().unwrap_or_default().to_string()),
    }
}

/// Waits until the file at `path` holds `bytes` again.
async fn wait_file(path: &PathBuf, bytes: &[u8]) {
    let start = Instant::now();
    while std::fs::read(path).ok().as_deref() != Some(bytes) {
        assert!(
            start.elapsed() < CLUSTER_TIMEOUT,
            "{} not repaired",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
