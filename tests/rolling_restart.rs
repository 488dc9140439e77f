//! A rolling restart: three nodes with replication factor 2 stopped with
//! SIGTERM and started again one at a time, while a client keeps reading
//! through another node. A stopping node seals its open segments and has
//! its shards copied to the others first, so no read fails and no row is
//! lost, the rows it had not sealed included.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{wait_alive, TestNode};

/// A loopback address whose port is free for both UDP and TCP now.
fn free_port() -> String {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = udp.local_addr().unwrap();
        if std::net::TcpListener::bind(addr).is_ok() {
            return addr.to_string();
        }
    }
}

/// Reads `SELECT count(*), sum(id)` through `node` until `stop`, checking
/// each answer against `want`; returns (reads, failures with their text).
fn reader(
    node: &TestNode,
    want: (i64, i64),
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(usize, Vec<String>)> {
    let conn = node.conn_string();
    tokio::spawn(async move {
        let client = common::connect(&conn).await.unwrap();
        let (mut reads, mut failures) = (0, Vec::new());
        while !stop.load(Ordering::SeqCst) {
            match client
                .query_one("SELECT count(*), sum(id)::bigint FROM t", &[])
                .await
            {
                Ok(row) => {
                    let got: (i64, i64) = (row.get(0), row.get(1));
                    if got != want {
                        failures.push(format!("read {got:?}, want {want:?}"));
                    }
                }
                Err(e) => failures.push(match e.as_db_error() {
                    Some(db) => format!("{}: {}", db.code().code(), db.message()),
                    None => e.to_string(),
                }),
            }
            reads += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (reads, failures)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_loses_no_row_and_fails_no_read() {
    // Fixed cluster addresses, every node a seed of the others, as a real
    // deployment has them: a node restarted anywhere finds the rest.
    let addrs: Vec<String> = (0..3).map(|_| free_port()).collect();
    let join = addrs.join(",");
    let mut nodes: Vec<TestNode> = ["r1", "r2", "r3"]
        .iter()
        .zip(&addrs)
        .map(|(name, addr)| {
            TestNode::start_with(&[
                "--node-name",
                name,
                "--cluster-addr",
                addr,
                "--join",
                &join,
                "--replication-factor",
                "2",
                "--shard-max-rows",
                "50",
            ])
        })
        .collect();
    for n in &nodes {
        wait_alive(n, 2).await;
    }
    let c1 = nodes[0].client().await;
    c1.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY); \
         INSERT INTO t SELECT i FROM generate_series(1, 300) i",
    )
    .await
    .unwrap();
    let mut want: (i64, i64) = (300, (1..=300).sum());
    let mut next = 301;
    for i in [1usize, 2, 0] {
        // Rows the stopping node has not sealed: they must survive too.
        let ci = nodes[i].client().await;
        ci.batch_execute(&format!(
            "INSERT INTO t SELECT i FROM generate_series({next}, {}) i",
            next + 9
        ))
        .await
        .unwrap();
        want = (want.0 + 10, want.1 + (next..next + 10).sum::<i64>());
        next += 10;
        drop(ci);
        let through = if i == 0 { 1 } else { 0 };
        let stop = Arc::new(AtomicBool::new(false));
        let reading = reader(&nodes[through], want, stop.clone());
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut node = nodes.remove(i);
        let node = tokio::task::spawn_blocking(move || {
            assert!(node.stop().success(), "{}", node.log_tail());
            // Away for a while: reads go on without it.
            std::thread::sleep(Duration::from_secs(2));
            node.restart();
            node
        })
        .await
        .unwrap();
        nodes.insert(i, node);
        for n in &nodes {
            wait_alive(n, 2).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, Ordering::SeqCst);
        let (reads, failures) = reading.await.unwrap();
        assert!(reads > 10, "only {reads} reads while node {i} restarted");
        assert!(
            failures.is_empty(),
            "restarting node {i}: {} of {reads} reads failed: {:?}",
            failures.len(),
            &failures[..failures.len().min(5)]
        );
    }
    for n in &nodes {
        let c = n.client().await;
        let row = c
            .query_one("SELECT count(*), sum(id)::bigint FROM t", &[])
            .await
            .unwrap();
        assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), want);
    }
}
