//! now() and its kin are the start of the transaction, as in PostgreSQL:
//! the same value for every call in a statement and for every statement of
//! a block, column DEFAULTs included; statement_timestamp() is fixed per
//! statement and clock_timestamp() reads the clock. A fragment run on a
//! peer answers with its coordinator's times, not the peer's clock.

mod common;

use std::time::Duration;

use common::{simple_rows, start_cluster, TestNode};
use tokio_postgres::Client;

async fn one(client: &Client, sql: &str) -> String {
    let rows = simple_rows(client, sql).await;
    rows.first()
        .and_then(|r| r.first().cloned().flatten())
        .unwrap_or_else(|| panic!("{sql} gave {rows:?}"))
}

async fn pause() {
    tokio::time::sleep(Duration::from_millis(20)).await;
}

/// Two INSERTs taking DEFAULT now() in one block get one value; a later
/// transaction gets another. Statement and clock times move on.
async fn check_block(c: &Client, table: &str) {
    c.batch_execute(&format!(
        "CREATE TABLE {table} (id int, created_at timestamptz DEFAULT now())"
    ))
    .await
    .unwrap();
    assert_eq!(
        one(
            c,
            "SELECT now() = now() AND now() = current_timestamp AND now() = transaction_timestamp() \
             AND current_date = now()::date"
        )
        .await,
        "t"
    );
    c.batch_execute("BEGIN").await.unwrap();
    let start = one(c, "SELECT now()").await;
    pause().await;
    c.batch_execute(&format!("INSERT INTO {table} (id) VALUES (1)"))
        .await
        .unwrap();
    pause().await;
    c.batch_execute(&format!("INSERT INTO {table} (id) VALUES (2)"))
        .await
        .unwrap();
    pause().await;
    assert_eq!(one(c, "SELECT now()").await, start);
    assert_eq!(
        one(
            c,
            "SELECT statement_timestamp() > now() AND clock_timestamp() > statement_timestamp()"
        )
        .await,
        "t"
    );
    c.batch_execute("COMMIT").await.unwrap();
    pause().await;
    c.batch_execute(&format!("INSERT INTO {table} (id) VALUES (3)"))
        .await
        .unwrap();
    let rows = simple_rows(
        c,
        &format!("SELECT id, created_at = '{start}' FROM {table} ORDER BY id"),
    )
    .await;
    let got: Vec<Option<String>> = rows.into_iter().map(|r| r[1].clone()).collect();
    let want = ["t", "t", "f"].map(|s| Some(s.to_string()));
    assert_eq!(got, want);
}

/// The first column of every row a simple query's statements return.
async fn first_values(c: &tokio_postgres::Client, sql: &str) -> Vec<String> {
    c.simple_query(sql)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn now_is_the_transactions_start() {
    let node = TestNode::start();
    let c = node.client().await;
    check_block(&c, "stamps").await;
    // A multi-statement query is one transaction.
    let values = first_values(&c, "SELECT now(); SELECT pg_catalog.now()").await;
    assert_eq!(values.len(), 2);
    assert_eq!(values[0], values[1]);
    // Its statements share the query's start, as statement_timestamp().
    let values = first_values(
        &c,
        "SELECT statement_timestamp(); SELECT count(*) FROM generate_series(1, 100000); \
         SELECT statement_timestamp()",
    )
    .await;
    assert_eq!(values.len(), 3);
    assert_eq!(values[0], values[2]);
}

#[tokio::test(flavor = "multi_thread")]
async fn peers_answer_with_the_coordinators_times() {
    let nodes = start_cluster(&["t1", "t2", "t3"], &[]).await;
    let (a, b, c) = (
        nodes[0].client().await,
        nodes[1].client().await,
        nodes[2].client().await,
    );
    check_block(&b, "stamps").await;
    a.batch_execute("CREATE TABLE spread (id int)")
        .await
        .unwrap();
    for (client, id) in [(&a, 1), (&b, 2), (&c, 3)] {
        client
            .batch_execute(&format!("INSERT INTO spread VALUES ({id})"))
            .await
            .unwrap();
    }
    assert_eq!(one(&a, "SELECT count(*) FROM spread").await, "3");
    a.batch_execute("BEGIN").await.unwrap();
    let start = one(&a, "SELECT now()").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Every node's rows see the coordinator's transaction start.
    assert_eq!(
        one(
            &a,
            &format!("SELECT count(*) FROM spread WHERE now() = '{start}'::timestamptz")
        )
        .await,
        "3"
    );
    assert_eq!(
        one(&a, "SELECT count(DISTINCT now()) FROM spread").await,
        "1"
    );
    a.batch_execute("COMMIT").await.unwrap();
}
