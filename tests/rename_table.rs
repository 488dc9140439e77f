//! ALTER TABLE … RENAME TO across nodes: every node's rows of the table
//! (sealed, unsealed, and copies of another node's shards) follow it to
//! the new name, on the nodes that were up and on one that was down and
//! learns of the rename when it comes back; a transaction block that
//! renamed a table cannot use it before COMMIT while other nodes know it
//! by its old name (0A000), rather than answer without their rows.

mod common;

use common::{simple_rows, sqlstate, start_cluster, wait_rows, wait_state};
use tokio_postgres::Client;

async fn exec(client: &Client, sql: &str) {
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
}

async fn one(client: &Client, sql: &str) -> String {
    let rows = simple_rows(client, sql).await;
    rows[0][0].clone().unwrap_or_else(|| "NULL".into())
}

/// `count(*), sum(id)` of `table` as `client`'s node reads it.
async fn totals(client: &Client, table: &str) -> String {
    one(
        client,
        &format!("SELECT count(*) || '/' || sum(id) FROM {table}"),
    )
    .await
}

/// Two nodes, each with its own unsealed rows of `t` (ids 1–10 on the
/// first, 11–20 on the second), and a client of each.
async fn two_nodes_with_rows(
    names: [&str; 2],
    args: &[&str],
) -> (Vec<common::TestNode>, Client, Client) {
    let nodes = start_cluster(&names, args).await;
    let a = nodes[0].client().await;
    let b = nodes[1].client().await;
    exec(&a, "CREATE TABLE t (id int PRIMARY KEY, v text)").await;
    exec(
        &a,
        "INSERT INTO t SELECT g, 'a' FROM generate_series(1, 10) g",
    )
    .await;
    exec(
        &b,
        "INSERT INTO t SELECT g, 'b' FROM generate_series(11, 20) g",
    )
    .await;
    (nodes, a, b)
}

/// Wait until `client`'s node answers `totals` of `table`; an answer
/// other than `want` fails at once, an error (58000: a node's rows cannot
/// be read yet) is tried again.
async fn answers(client: &Client, table: &str, want: &str) {
    let sql = format!("SELECT count(*) || '/' || sum(id) FROM {table}");
    let start = std::time::Instant::now();
    loop {
        match common::try_simple_rows(client, &sql).await {
            Ok(rows) => {
                assert_eq!(rows[0][0].as_deref(), Some(want), "{sql}");
                return;
            }
            Err(e) if e.starts_with("58000") && start.elapsed().as_secs() < 30 => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{sql}: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_nodes_rows_follow_a_renamed_table() {
    let nodes = start_cluster(&["rn-1", "rn-2", "rn-3"], &[]).await;
    let a = nodes[0].client().await;
    let b = nodes[1].client().await;
    let c = nodes[2].client().await;
    exec(
        &a,
        "CREATE TABLE t (id int PRIMARY KEY, v text CHECK (v <> ''))",
    )
    .await;
    exec(
        &a,
        "CREATE TABLE child (id int PRIMARY KEY, tid int REFERENCES t)",
    )
    .await;
    // Rows of each node, sealed on two of them, unsealed on all three.
    exec(
        &a,
        "INSERT INTO t SELECT g, 'a' FROM generate_series(1, 10) g",
    )
    .await;
    exec(
        &b,
        "INSERT INTO t SELECT g, 'b' FROM generate_series(11, 20) g",
    )
    .await;
    exec(&b, "SELECT mosaic.seal('t')").await;
    exec(
        &c,
        "INSERT INTO t SELECT g, 'c' FROM generate_series(21, 30) g",
    )
    .await;
    exec(&c, "SELECT mosaic.seal('t')").await;
    exec(&a, "INSERT INTO t VALUES (31, 'a')").await;
    exec(&b, "INSERT INTO t VALUES (32, 'b')").await;
    exec(
        &c,
        "INSERT INTO t VALUES (33, 'c'); INSERT INTO child VALUES (1, 15)",
    )
    .await;
    let before = totals(&a, "t").await;
    assert_eq!(before, "33/561");

    exec(&a, "ALTER TABLE t RENAME TO u").await;
    for (client, node) in [(&a, "rn-1"), (&b, "rn-2"), (&c, "rn-3")] {
        wait_rows(client, "SELECT count(*) FROM u", &["33"]).await;
        assert_eq!(totals(client, "u").await, before, "{node} reads every row");
        assert_eq!(sqlstate(client, "SELECT * FROM t").await, "42P01", "{node}");
    }
    // Keys and constraints still hold across nodes, under their old names.
    assert_eq!(
        sqlstate(&c, "INSERT INTO u VALUES (15, 'x')").await,
        "23505"
    );
    assert_eq!(
        sqlstate(&b, "INSERT INTO u VALUES (25, 'x')").await,
        "23505"
    );
    assert_eq!(sqlstate(&b, "INSERT INTO u VALUES (40, '')").await, "23514");
    assert_eq!(
        sqlstate(&a, "INSERT INTO child VALUES (2, 99)").await,
        "23503"
    );
    assert_eq!(sqlstate(&a, "DELETE FROM u WHERE id = 15").await, "23503");
    exec(&c, "INSERT INTO child VALUES (2, 5)").await;
    exec(&b, "UPDATE u SET v = 'changed' WHERE id IN (5, 25, 33)").await;
    exec(&a, "DELETE FROM u WHERE id IN (12, 31)").await;
    exec(&c, "INSERT INTO u VALUES (34, 'c')").await;
    for client in [&a, &b, &c] {
        assert_eq!(totals(client, "u").await, "32/552");
        assert_eq!(
            one(
                client,
                "SELECT string_agg(id::text, ',' ORDER BY id) FROM u WHERE v = 'changed'"
            )
            .await,
            "5,25,33"
        );
    }
    // The old name is free again, for a table of its own.
    exec(&b, "CREATE TABLE t (x int); INSERT INTO t VALUES (7)").await;
    wait_rows(&c, "SELECT sum(x) FROM t", &["7"]).await;
    assert_eq!(totals(&c, "u").await, "32/552");

    // Inside the block that renamed it, the table is not used while
    // other nodes know it by its old name; once committed, it is.
    exec(&a, "BEGIN; ALTER TABLE u RENAME TO w").await;
    let got = common::try_simple_rows(&a, "SELECT count(*) FROM w").await;
    assert!(matches!(&got, Err(e) if e.starts_with("0A000")), "{got:?}");
    exec(&a, "ROLLBACK").await;
    // Nor is a key another node holds written again.
    exec(&a, "BEGIN; ALTER TABLE u RENAME TO w").await;
    let got = common::try_simple_rows(&a, "INSERT INTO w VALUES (15, 'again')").await;
    assert!(matches!(&got, Err(e) if e.starts_with("0A000")), "{got:?}");
    exec(&a, "ROLLBACK").await;
    exec(&a, "BEGIN; ALTER TABLE u RENAME TO w").await;
    let got = common::try_simple_rows(&a, "UPDATE w SET v = 'x' WHERE id = 25").await;
    assert!(matches!(&got, Err(e) if e.starts_with("0A000")), "{got:?}");
    exec(&a, "ROLLBACK").await;
    exec(
        &a,
        "BEGIN; ALTER TABLE u RENAME TO w; ALTER TABLE w RENAME TO v; COMMIT",
    )
    .await;
    for client in [&a, &b, &c] {
        wait_rows(client, "SELECT count(*) FROM v", &["32"]).await;
        assert_eq!(totals(client, "v").await, "32/552");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_down_during_a_rename_follows_it_when_back() {
    let (mut nodes, a, b) = two_nodes_with_rows(["rd-1", "rd-2"], &[]).await;
    exec(&b, "SELECT mosaic.seal('t')").await;
    // rd-1 holds a copy of rd-2's shard.
    wait_rows(
        &a,
        "SELECT count(*) FROM mosaic.shards
         WHERE table_name = 't' AND home_node = 'rd-2' AND 'rd-1' = ANY(holders)",
        &["1"],
    )
    .await;
    // And rows of rd-2 not sealed yet, which rd-1 holds a copy of.
    exec(&b, "INSERT INTO t VALUES (30, 'b'), (31, 'b')").await;

    nodes[1].kill9();
    wait_state(&a, "rd-2", "down").await;
    exec(&a, "ALTER TABLE t RENAME TO u").await;
    // rd-2's rows are read from rd-1's copies of its shard and of its
    // unsealed rows, under the new name, once rd-1 has taken them up
    // (until then the read names what it cannot reach, 58000, and never
    // answers without it).
    answers(&a, "u", "22/271").await;
    exec(&a, "INSERT INTO u VALUES (21, 'a')").await;

    nodes[1].restart();
    let b = nodes[1].client().await;
    wait_state(&a, "rd-2", "alive").await;
    wait_rows(&b, "SELECT count(*) FROM u", &["23"]).await;
    assert_eq!(totals(&b, "u").await, "23/292");
    assert_eq!(sqlstate(&b, "SELECT * FROM t").await, "42P01");
    assert_eq!(
        sqlstate(&b, "INSERT INTO u VALUES (15, 'x')").await,
        "23505"
    );
    exec(&b, "INSERT INTO u VALUES (22, 'b')").await;
    for client in [&a, &b] {
        wait_rows(client, "SELECT count(*) FROM u", &["24"]).await;
        assert_eq!(totals(client, "u").await, "24/314");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_of_a_down_node_stay_named_after_a_rename() {
    // No copy of unsealed rows is kept elsewhere: while rd-2 is down its
    // unsealed rows cannot be read, and a read says so.
    let args = ["--unsealed-copies", "false"];
    let (mut nodes, a, _) = two_nodes_with_rows(["rm-1", "rm-2"], &args).await;
    // Give rm-2's announcement that it holds unsealed rows of t a moment
    // to land (as tests/replication.rs does).
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    nodes[1].kill9();
    wait_state(&a, "rm-2", "down").await;
    assert_eq!(sqlstate(&a, "SELECT count(*) FROM t").await, "58000");
    exec(&a, "ALTER TABLE t RENAME TO u").await;
    let got = common::try_simple_rows(&a, "SELECT count(*) FROM u").await;
    assert!(
        matches!(&got, Err(e) if e.starts_with("58000") && e.contains("rm-2")),
        "{got:?}"
    );
    nodes[1].restart();
    let b = nodes[1].client().await;
    wait_state(&a, "rm-2", "alive").await;
    wait_rows(&b, "SELECT count(*) FROM u", &["20"]).await;
    wait_rows(&a, "SELECT count(*) FROM u", &["20"]).await;
    assert_eq!(totals(&a, "u").await, "20/210");
}
