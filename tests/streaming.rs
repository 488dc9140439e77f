//! A statement's rows go to its client as the client takes them: a client
//! that reads slowly holds its own statement back (the node keeps a few
//! batches of its rows, not the result), other clients are served
//! meanwhile, and a client that goes away mid-result ends its statement
//! and its session. A connection and its session share one thread, so
//! this is what shows that the thread polls its connection while a
//! statement's rows wait.

mod common;

use std::time::Duration;

use common::{wait_rows, TestNode};
use futures::{pin_mut, TryStreamExt};

/// Rows of the big result, each about 1 KiB: 400 MiB in all.
const ROWS: i64 = 400_000;
const BIG: &str = "SELECT g, repeat('x', 1000) FROM generate_series(1, 400000) g";

/// The node's resident memory, in KiB.
fn rss_kib(node: &TestNode) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", node.pid()))
        .expect("the node's /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc status")
}

#[tokio::test]
async fn a_slow_reader_holds_its_statement_not_the_node() {
    let node = TestNode::start();
    let slow = node.client().await;
    let other = node.client().await;

    let rows = slow
        .query_raw(BIG, std::iter::empty::<i32>())
        .await
        .expect("the big query starts");
    pin_mut!(rows);
    let mut seen = 0i64;
    for _ in 0..10 {
        let next = tokio::time::timeout(Duration::from_secs(60), rows.try_next());
        let row = next
            .await
            .expect("rows come")
            .expect("a row")
            .expect("more rows");
        seen += 1;
        assert_eq!(row.get::<_, i32>(0) as i64, seen);
    }
    // The client stops reading: the statement waits for it, holding a
    // few batches, and the node serves others meanwhile.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let answered = tokio::time::timeout(
        Duration::from_secs(20),
        other.query_one("SELECT count(*) FROM generate_series(1, 1000)", &[]),
    )
    .await
    .expect("another client is answered while the slow one waits")
    .expect("its query succeeds");
    assert_eq!(answered.get::<_, i64>(0), 1000);
    let rss = rss_kib(&node);
    assert!(
        rss < 200 * 1024,
        "the node holds {rss} KiB while its client reads a 400 MiB result slowly"
    );

    // The rest arrives, in order, complete.
    let rest = async {
        while let Some(row) = rows.try_next().await.expect("a row") {
            seen += 1;
            assert_eq!(row.get::<_, i32>(0) as i64, seen);
        }
    };
    tokio::time::timeout(Duration::from_secs(120), rest)
        .await
        .expect("the rest of the rows within two minutes");
    assert_eq!(seen, ROWS);
    let after = slow
        .query_one("SELECT 2 + 2", &[])
        .await
        .expect("next query");
    assert_eq!(after.get::<_, i32>(0), 4);
}

#[tokio::test]
async fn a_client_gone_mid_result_ends_its_session() {
    let node = TestNode::start();
    let watcher = node.client().await;
    // The client's socket closes when its connection task is aborted, as
    // when a client process dies.
    let (leaving, connection) = tokio_postgres::connect(&node.conn_string(), tokio_postgres::NoTls)
        .await
        .expect("connect");
    let socket = tokio::spawn(connection);
    let pid: i32 = leaving
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .expect("pid")
        .get(0);

    let rows = leaving
        .query_raw(BIG, std::iter::empty::<i32>())
        .await
        .expect("the big query starts");
    pin_mut!(rows);
    rows.try_next().await.expect("a row").expect("a first row");
    wait_rows(
        &watcher,
        &format!("SELECT state FROM pg_stat_activity WHERE pid = {pid}"),
        &["active"],
    )
    .await;
    socket.abort();
    wait_rows(
        &watcher,
        &format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}"),
        &["0"],
    )
    .await;
}
