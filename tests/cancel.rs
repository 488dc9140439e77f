//! A statement stops when its client cancels it or its statement_timeout
//! passes (57014), including fragments running on worker threads, and the
//! session goes on.

mod common;

use std::time::{Duration, Instant};

use common::TestNode;
use tokio_postgres::error::SqlState;

const ENDLESS: &str = "SELECT count(*) FROM generate_series(1, 10000000000)";

#[tokio::test]
async fn statement_timeout_stops_a_long_query() {
    let node = TestNode::start();
    let client = node.client().await;
    client
        .batch_execute("SET statement_timeout = 300")
        .await
        .unwrap();
    let started = Instant::now();
    let err = client.simple_query(ENDLESS).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::QUERY_CANCELED), "{err}");
    let message = err
        .as_db_error()
        .map(|e| e.message().to_string())
        .unwrap_or_default();
    assert!(message.contains("statement timeout"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(20));
    client
        .batch_execute("RESET statement_timeout")
        .await
        .unwrap();
    let one: i32 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);
}

#[tokio::test]
async fn a_cancel_request_stops_fragments_on_every_shard() {
    let node = TestNode::start_with(&["--shard-max-rows", "1000"]);
    let client = node.client().await;
    client
        .batch_execute(
            "CREATE TABLE big (id integer PRIMARY KEY, g integer); \
             INSERT INTO big SELECT i, i % 10 FROM generate_series(1, 5000) i",
        )
        .await
        .unwrap();
    // A per-shard aggregate that runs for a very long time on each worker.
    let slow =
        "SELECT g, count(*) FROM big WHERE length(repeat('x', 20000000 + id)) > id GROUP BY g";
    let plan = client
        .simple_query(&format!("EXPLAIN {slow}"))
        .await
        .unwrap();
    let first = plan.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
        _ => None,
    });
    assert!(
        first.as_deref().is_some_and(|l| l.starts_with("Fragments")),
        "{first:?}"
    );
    let token = client.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        token.cancel_query(tokio_postgres::NoTls).await
    });
    let started = Instant::now();
    let err = client.simple_query(slow).await.unwrap_err();
    canceller.await.unwrap().unwrap();
    assert_eq!(err.code(), Some(&SqlState::QUERY_CANCELED), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
    let n: i64 = client
        .query_one("SELECT count(*) FROM big", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 5000);
}
