//! Unsealed rows outlive their node: each node copies its open-segment
//! changes to its buddy (the next live node by name) before the client
//! hears back, and while the node is down every other node reads those
//! rows from the copy — inserts, updates, deletes and transaction blocks
//! as they were acknowledged, exactly once, through the buddy itself and
//! through a third node. Writes that would change those rows, and reads
//! after the table changed, fail with 58000 rather than answer stale. A
//! dead buddy is replaced; a seal never shows a row twice or loses one; a
//! node forgotten for good leaves its unsealed rows to its buddy.
//!
//! Node names sort as `uc?-1 < uc?-2 < uc?-3`, so node 3's buddy is node 1
//! (the first after it, wrapping), and node 2's once node 1 is down.

mod common;

use common::{start_cluster, try_simple_rows, wait_rows, wait_state, TestNode};

type Rows = Vec<Vec<Option<String>>>;

const ALL: &str = "SELECT id, v FROM t ORDER BY id";
const SUMMARY: &str = "SELECT count(*), count(DISTINCT id), sum(id), max(v) FROM t";

async fn must(client: &tokio_postgres::Client, sql: &str) -> Rows {
    try_simple_rows(client, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Create `t` and write through `nodes[home]`: inserts, an update, a
/// delete and a transaction block, none of it sealed.
async fn unsealed_writes(nodes: &[TestNode], home: usize) {
    let a = nodes[0].client().await;
    // numeric and array columns: their SQLite collations exist in the
    // copy too.
    a.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, v text, n numeric DEFAULT 1.50, a int[] DEFAULT '{1,2}')",
    )
        .await
        .unwrap();
    let h = nodes[home].client().await;
    h.batch_execute(
        "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 50) g;
         UPDATE t SET v = 'changed' WHERE id = 3;
         DELETE FROM t WHERE id = 4;
         BEGIN; INSERT INTO t VALUES (100, 'in a block'); UPDATE t SET v = 'again' WHERE id = 5; COMMIT;
         BEGIN; INSERT INTO t VALUES (200, 'rolled back'); ROLLBACK;",
    )
    .await
    .unwrap();
    let shards = must(
        &a,
        "SELECT count(*) FROM mosaic.shards WHERE table_name = 't'",
    )
    .await;
    assert_eq!(shards[0][0].as_deref(), Some("0"), "nothing was sealed");
}

#[tokio::test(flavor = "multi_thread")]
async fn unsealed_rows_are_read_from_the_buddy_while_their_node_is_down() {
    let names = ["uc-1", "uc-2", "uc-3"];
    let mut nodes = start_cluster(&names, &["--seal-idle-secs", "3600"]).await;
    unsealed_writes(&nodes, 2).await;
    let a = nodes[0].client().await;
    let b = nodes[1].client().await;
    let all = must(&a, ALL).await;
    let summary = must(&a, SUMMARY).await;
    assert_eq!(all.len(), 50, "49 of 1..50, and 100: {all:?}");
    assert_eq!(
        summary[0],
        ["50", "50", "1371", "v9"].map(|s| Some(s.to_string())),
        "{summary:?}"
    );
    let holder = must(
        &a,
        "SELECT buddy FROM mosaic.nodes WHERE node_name = 'uc-3'",
    )
    .await;
    assert_eq!(holder[0][0].as_deref(), Some("uc-1"), "uc-3 copies to uc-1");

    nodes[2].kill9();
    wait_state(&a, "uc-3", "down").await;
    wait_state(&b, "uc-3", "down").await;
    // Through the buddy itself, and through a node asking the buddy.
    for (c, node) in [(&a, "uc-1"), (&b, "uc-2")] {
        assert_eq!(must(c, ALL).await, all, "every row on {node}");
        assert_eq!(must(c, SUMMARY).await, summary, "aggregates on {node}");
        let one = must(c, "SELECT v FROM t WHERE id = 3").await;
        assert_eq!(one[0][0].as_deref(), Some("changed"), "on {node}");
        let none = must(c, "SELECT v FROM t WHERE id IN (4, 200)").await;
        assert!(
            none.is_empty(),
            "deleted and rolled back rows on {node}: {none:?}"
        );
    }

    // What would change the copied rows is refused, not done half.
    for sql in [
        "UPDATE t SET v = 'x' WHERE id = 7",
        "DELETE FROM t WHERE id = 8",
        "INSERT INTO t VALUES (9, 'duplicate?')",
    ] {
        let err = try_simple_rows(&b, sql).await.expect_err(sql);
        assert!(err.starts_with("58000 "), "{sql}: {err}");
        assert!(err.contains("uc-3"), "{sql} names uc-3: {err}");
    }
    assert_eq!(must(&b, ALL).await, all, "nothing changed");

    // Back up, the node answers for its rows itself, each once.
    nodes[2].restart();
    wait_state(&a, "uc-3", "alive").await;
    wait_rows(&b, "SELECT count(*) FROM t", &["50"]).await;
    assert_eq!(must(&b, ALL).await, all, "after uc-3 is back");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_buddy_is_replaced_and_a_changed_table_is_not_read_stale() {
    let names = ["ucb-1", "ucb-2", "ucb-3"];
    let mut nodes = start_cluster(&names, &["--seal-idle-secs", "3600"]).await;
    unsealed_writes(&nodes, 2).await;
    let b = nodes[1].client().await;
    let all = must(&b, ALL).await;

    // ucb-3's buddy ucb-1 dies: ucb-3 copies everything to ucb-2 and says so.
    nodes[0].kill9();
    wait_state(&b, "ucb-1", "down").await;
    wait_rows(
        &b,
        "SELECT buddy FROM mosaic.nodes WHERE node_name = 'ucb-3'",
        &["ucb-2"],
    )
    .await;
    let c = nodes[2].client().await;
    c.batch_execute("INSERT INTO t VALUES (300, 'after the move')")
        .await
        .unwrap();
    let mut want = all.clone();
    want.push(vec![Some("300".into()), Some("after the move".into())]);

    nodes[2].kill9();
    wait_state(&b, "ucb-3", "down").await;
    // ucb-1 is down too, but held none of t's rows: its shards are none.
    assert_eq!(must(&b, ALL).await, want, "read from the copy on ucb-2");

    // The table changes while ucb-3 is down: its copied rows have the old
    // columns, and a read says so instead of guessing the new one.
    b.batch_execute("ALTER TABLE t ADD COLUMN w int DEFAULT 7")
        .await
        .unwrap();
    let err = try_simple_rows(&b, "SELECT * FROM t")
        .await
        .expect_err("a read of rows copied before ADD COLUMN");
    assert!(err.starts_with("58000 "), "{err}");
    assert!(err.contains("ucb-3") && err.contains("changed"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_seal_never_shows_a_row_twice_nor_loses_one() {
    let names = ["ucs-1", "ucs-2", "ucs-3"];
    let mut nodes = start_cluster(&names, &["--seal-idle-secs", "3600"]).await;
    unsealed_writes(&nodes, 2).await;
    let a = nodes[0].client().await;
    let b = nodes[1].client().await;
    let c = nodes[2].client().await;
    let summary = must(&a, SUMMARY).await;
    // Seal on ucs-3 and die at once: the shard may not have reached any
    // other node, but each row is in the copy or in a shard every node
    // knows of. The answer is the whole one, or 58000 naming the shard:
    // never a row twice, never one missing.
    must(&c, "SELECT mosaic.seal('t')").await;
    nodes[2].kill9();
    wait_state(&b, "ucs-3", "down").await;
    for (client, node) in [(&a, "ucs-1"), (&b, "ucs-2")] {
        match try_simple_rows(client, SUMMARY).await {
            Ok(rows) => assert_eq!(rows, summary, "on {node}"),
            Err(e) => assert!(
                e.starts_with("58000 ") && e.contains("ucs-3"),
                "on {node}: {e}"
            ),
        }
    }
    // Back up, ucs-3 writes more, seals those rows while its buddy's copy
    // holds them, and writes again. The new shard reaches another node
    // only once the copy has dropped its rows; then, ucs-3 down again,
    // every row is read once: from a shard's copy or from the buddy's.
    nodes[2].restart();
    wait_state(&b, "ucs-3", "alive").await;
    let c = nodes[2].client().await;
    c.batch_execute("INSERT INTO t SELECT g, 'w' FROM generate_series(400, 409) g")
        .await
        .unwrap();
    must(&c, "SELECT mosaic.seal('t')").await;
    c.batch_execute("INSERT INTO t SELECT g, 'x' FROM generate_series(500, 504) g")
        .await
        .unwrap();
    wait_rows(
        &b,
        "SELECT count(*) FROM mosaic.shards WHERE table_name = 't' AND holders NOT LIKE '%,%'",
        &["0"],
    )
    .await;
    let want = must(&a, SUMMARY).await;
    assert_eq!(
        want[0][..3],
        ["65", "65", "7926"].map(|s| Some(s.to_string())),
        "{want:?}"
    );
    nodes[2].kill9();
    wait_state(&b, "ucs-3", "down").await;
    assert_eq!(must(&a, SUMMARY).await, want, "on ucs-1, the buddy");
    assert_eq!(must(&b, SUMMARY).await, want, "on ucs-2");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forgotten_nodes_unsealed_rows_stay_with_its_buddy() {
    let names = ["ucf-1", "ucf-2", "ucf-3"];
    let mut nodes = start_cluster(&names, &["--seal-idle-secs", "3600"]).await;
    unsealed_writes(&nodes, 2).await;
    let a = nodes[0].client().await;
    let b = nodes[1].client().await;
    let all = must(&a, ALL).await;
    nodes[2].kill9();
    wait_state(&a, "ucf-3", "down").await;
    wait_state(&b, "ucf-3", "down").await;
    must(&b, "SELECT mosaic.forget_node('ucf-3')").await;
    // ucf-1 kept ucf-3's copy: the rows are its own now, read everywhere,
    // and written as any other.
    for (c, node) in [(&a, "ucf-1"), (&b, "ucf-2")] {
        assert_eq!(must(c, ALL).await, all, "every row on {node}");
    }
    must(&b, "UPDATE t SET v = 'after' WHERE id = 7").await;
    let one = must(&a, "SELECT v FROM t WHERE id = 7").await;
    assert_eq!(one[0][0].as_deref(), Some("after"));
    assert_eq!(must(&b, SUMMARY).await[0][0].as_deref(), Some("50"));
}
