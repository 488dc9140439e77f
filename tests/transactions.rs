//! Transaction blocks take the node's write lock at their first write, not
//! at BEGIN: a block that only reads never holds up a writer.

mod common;

use std::time::{Duration, Instant};

use common::TestNode;
use tokio_postgres::error::SqlState;

#[tokio::test]
async fn a_reading_block_does_not_block_writers() {
    let node = TestNode::start();
    let a = node.client().await;
    let b = node.client().await;
    a.batch_execute(
        "CREATE TABLE tx (id integer PRIMARY KEY, v integer); INSERT INTO tx VALUES (1, 10)",
    )
    .await
    .unwrap();

    a.batch_execute("BEGIN").await.unwrap();
    let n: i64 = a
        .query_one("SELECT count(*) FROM tx", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    let started = Instant::now();
    b.batch_execute("INSERT INTO tx VALUES (2, 20)")
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the writer waited on a reader"
    );
    // The reader keeps its snapshot until it ends.
    let n: i64 = a
        .query_one("SELECT count(*) FROM tx", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    // Writing on a snapshot another commit replaced is a serialization failure.
    let err = a
        .batch_execute("UPDATE tx SET v = v + 1 WHERE id = 1")
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&SqlState::T_R_SERIALIZATION_FAILURE),
        "{err}"
    );
    a.batch_execute("ROLLBACK").await.unwrap();

    // A block that writes first holds the lock; the other writer waits for it.
    a.batch_execute("BEGIN; UPDATE tx SET v = v + 1 WHERE id = 1")
        .await
        .unwrap();
    let writer = tokio::spawn(async move {
        b.batch_execute("UPDATE tx SET v = v + 100 WHERE id = 1")
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !writer.is_finished(),
        "the second writer must wait for the block"
    );
    a.batch_execute("COMMIT").await.unwrap();
    writer.await.unwrap().unwrap();
    let v: i32 = a
        .query_one("SELECT v FROM tx WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(v, 111);
}

#[tokio::test]
async fn a_read_only_block_refuses_writes() {
    let node = TestNode::start();
    let client = node.client().await;
    client
        .batch_execute("CREATE TABLE ro (id integer PRIMARY KEY)")
        .await
        .unwrap();
    client.batch_execute("BEGIN READ ONLY").await.unwrap();
    let n: i64 = client
        .query_one("SELECT count(*) FROM ro", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    let err = client
        .batch_execute("INSERT INTO ro VALUES (1)")
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&SqlState::READ_ONLY_SQL_TRANSACTION),
        "{err}"
    );
    client.batch_execute("ROLLBACK").await.unwrap();
    client
        .batch_execute("INSERT INTO ro VALUES (1)")
        .await
        .unwrap();
}

#[tokio::test]
async fn savepoints_roll_back_part_of_a_block() {
    let node = TestNode::start_with(&["--shard-max-rows", "2"]);
    let mut client = node.client().await;
    client
        .batch_execute("CREATE TABLE sp (id integer PRIMARY KEY, v text); INSERT INTO sp VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        .await
        .unwrap();
    // Simple protocol, as psql and psycopg send them.
    client
        .batch_execute(
            "BEGIN; INSERT INTO sp VALUES (4, 'd'); SAVEPOINT s1; DELETE FROM sp WHERE id <= 2; \
             ROLLBACK TO SAVEPOINT s1; UPDATE sp SET v = 'c2' WHERE id = 3; RELEASE SAVEPOINT s1; COMMIT",
        )
        .await
        .unwrap();
    let rows = common::simple_rows(&client, "SELECT id, v FROM sp ORDER BY id").await;
    let got: Vec<String> = rows.iter().map(|r| r[1].clone().unwrap()).collect();
    assert_eq!(got, vec!["a", "b", "c2", "d"]);

    // A failed statement inside a savepoint: ROLLBACK TO recovers the block.
    client.batch_execute("BEGIN; SAVEPOINT s2").await.unwrap();
    let err = client
        .batch_execute("INSERT INTO sp VALUES (1, 'dup')")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNIQUE_VIOLATION));
    let err = client.batch_execute("SELECT 1").await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::IN_FAILED_SQL_TRANSACTION));
    client.batch_execute("ROLLBACK TO s2").await.unwrap();
    client
        .batch_execute("INSERT INTO sp VALUES (5, 'e'); COMMIT")
        .await
        .unwrap();
    let n: i64 = client
        .query_one("SELECT count(*) FROM sp", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 5);

    // tokio-postgres savepoints (the extended protocol).
    let mut tx = client.transaction().await.unwrap();
    {
        let nested = tx.savepoint("inner").await.unwrap();
        nested.execute("DELETE FROM sp", &[]).await.unwrap();
        nested.rollback().await.unwrap();
    }
    tx.execute("INSERT INTO sp VALUES (6, 'f')", &[])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let n: i64 = client
        .query_one("SELECT count(*) FROM sp", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 6);

    let err = client.batch_execute("SAVEPOINT outside").await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::NO_ACTIVE_SQL_TRANSACTION));
}
