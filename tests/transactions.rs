//! Transaction blocks take the node's write lock at their first write, not
//! at BEGIN: a block that only reads never holds up a writer. READ
//! COMMITTED blocks see each commit from the next statement on; REPEATABLE
//! READ and SERIALIZABLE ones keep their first snapshot. DDL inside a
//! block is part of it: invisible to other sessions until COMMIT, undone
//! by ROLLBACK, and gone after a crash unless it committed.

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

    // READ COMMITTED (the default): each statement sees what committed
    // before it, and a write after another commit goes ahead.
    a.batch_execute("BEGIN").await.unwrap();
    assert_eq!(count_tx(&a).await, 1);
    let started = Instant::now();
    b.batch_execute("INSERT INTO tx VALUES (2, 20)")
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the writer waited on a reader"
    );
    assert_eq!(count_tx(&a).await, 2, "READ COMMITTED sees the new commit");
    a.batch_execute("UPDATE tx SET v = v + 1 WHERE id = 2")
        .await
        .unwrap();
    a.batch_execute("COMMIT").await.unwrap();

    // REPEATABLE READ keeps the block's first snapshot; writing on a
    // snapshot another commit replaced is a serialization failure. This is
    // MosaicDB's rule, stricter than PostgreSQL's (which fails only when
    // the row itself changed): the snapshot covers the whole node.
    a.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        .await
        .unwrap();
    assert_eq!(count_tx(&a).await, 2);
    b.batch_execute("INSERT INTO tx VALUES (3, 30)")
        .await
        .unwrap();
    assert_eq!(count_tx(&a).await, 2, "REPEATABLE READ keeps its snapshot");
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

    // A READ COMMITTED block with a savepoint keeps it across the fresh
    // snapshots its statements take.
    a.batch_execute("BEGIN; SAVEPOINT s; SELECT 1")
        .await
        .unwrap();
    b.batch_execute("DELETE FROM tx WHERE id = 3")
        .await
        .unwrap();
    assert_eq!(count_tx(&a).await, 2);
    a.batch_execute("INSERT INTO tx VALUES (4, 40); ROLLBACK TO s; COMMIT")
        .await
        .unwrap();
    assert_eq!(count_tx(&a).await, 2);

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

async fn count_tx(client: &tokio_postgres::Client) -> i64 {
    client
        .query_one("SELECT count(*) FROM tx", &[])
        .await
        .unwrap()
        .get(0)
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

fn count(rows: &[Vec<Option<String>>]) -> i64 {
    rows[0][0].as_deref().unwrap().parse().unwrap()
}

#[tokio::test]
async fn uncommitted_ddl_is_invisible_to_other_sessions() {
    let node = TestNode::start_with(&["--shard-max-rows", "10"]);
    let a = node.client().await;
    let b = node.client().await;
    a.batch_execute(
        "CREATE TABLE old_t (id integer PRIMARY KEY, v integer); \
         INSERT INTO old_t SELECT g, g FROM generate_series(1, 35) AS g; \
         CREATE TABLE wide (id integer PRIMARY KEY); INSERT INTO wide VALUES (1)",
    )
    .await
    .unwrap();
    a.batch_execute("SELECT mosaic.seal('old_t')")
        .await
        .unwrap();

    // The block's statements go through the simple protocol, as psql,
    // psycopg2 and SQLAlchemy over it send them.
    a.batch_execute(
        "BEGIN; CREATE TABLE new_t (id serial PRIMARY KEY, name text); \
         INSERT INTO new_t (name) VALUES ('x'), ('y'); DROP TABLE old_t; \
         ALTER TABLE wide ADD COLUMN extra integer DEFAULT 7",
    )
    .await
    .unwrap();
    assert_eq!(
        count(&common::simple_rows(&a, "SELECT count(*) FROM new_t").await),
        2
    );

    // The other session sees the committed catalog, and keeps reading the
    // table being dropped, shards included.
    let err = b.query("SELECT * FROM new_t", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNDEFINED_TABLE), "{err}");
    let (n, sum): (i64, i64) = {
        let row = b
            .query_one("SELECT count(*), sum(v) FROM old_t", &[])
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!((n, sum), (35, 630));
    let err = b.query("SELECT extra FROM wide", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNDEFINED_COLUMN), "{err}");
    let n: i64 = b
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relname IN ('new_t', 'new_t_pkey')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);

    a.batch_execute("COMMIT").await.unwrap();
    let rows = common::simple_rows(&b, "SELECT id, name FROM new_t ORDER BY id").await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0].as_deref(), Some("1"));
    let err = b.query("SELECT * FROM old_t", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNDEFINED_TABLE), "{err}");
    let extra: i32 = b
        .query_one("SELECT extra FROM wide", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(extra, 7);
    let shards: i64 = b
        .query_one(
            "SELECT count(*) FROM mosaic.shards WHERE table_name = 'old_t'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(shards, 0);
}

#[tokio::test]
async fn ddl_in_a_block_survives_a_crash_only_once_committed() {
    let mut node = TestNode::start_with(&["--shard-max-rows", "10"]);
    let a = node.client().await;
    a.batch_execute(
        "CREATE TABLE kept (id serial PRIMARY KEY, v integer); \
         INSERT INTO kept (v) SELECT g FROM generate_series(1, 25) AS g",
    )
    .await
    .unwrap();
    a.batch_execute("SELECT mosaic.seal('kept')").await.unwrap();
    a.batch_execute(
        "BEGIN; CREATE TABLE made (id integer PRIMARY KEY, CONSTRAINT uq_made UNIQUE (id)); \
         INSERT INTO made VALUES (1), (2); CREATE INDEX kept_v ON kept (v); COMMIT",
    )
    .await
    .unwrap();
    // A block left open when the node dies.
    let b = node.client().await;
    b.batch_execute(
        "BEGIN; CREATE TABLE lost (id integer); INSERT INTO lost VALUES (1); \
         DROP TABLE made; ALTER TABLE kept ADD COLUMN note text; DROP INDEX kept_v",
    )
    .await
    .unwrap();
    node.kill9();
    node.restart();

    let c = node.client().await;
    let err = c.query("SELECT * FROM lost", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNDEFINED_TABLE), "{err}");
    let err = c.query("SELECT note FROM kept", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNDEFINED_COLUMN), "{err}");
    let n: i64 = c
        .query_one("SELECT count(*) FROM made", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
    let names = common::simple_rows(
        &c,
        "SELECT conname FROM pg_constraint WHERE conrelid = 'made'::regclass ORDER BY conname",
    )
    .await;
    let names: Vec<&str> = names.iter().map(|r| r[0].as_deref().unwrap()).collect();
    assert_eq!(names, ["made_pkey", "uq_made"]);
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'kept_v'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    let row = c
        .query_one("SELECT count(*), sum(v) FROM kept", &[])
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (25, 325));
    // The serial sequence carries on above the rows that survived.
    let id: i32 = c
        .query_one("INSERT INTO kept (v) VALUES (0) RETURNING id", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(id, 26);

    // A committed DROP survives too, and the name is free again.
    c.batch_execute("BEGIN; DROP TABLE made; COMMIT")
        .await
        .unwrap();
    node.kill9();
    node.restart();
    let d = node.client().await;
    let err = d.query("SELECT * FROM made", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNDEFINED_TABLE), "{err}");
    d.batch_execute("CREATE TABLE made (id integer)")
        .await
        .unwrap();
}

/// Poll `sql` on `client` until its single value is `want` (30 s at most).
async fn wait_value(client: &tokio_postgres::Client, sql: &str, want: &str) {
    let start = Instant::now();
    loop {
        let rows = common::simple_rows(client, sql).await;
        if rows.first().and_then(|r| r[0].as_deref()) == Some(want) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{sql} gave {rows:?}, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn peers_get_a_blocks_ddl_at_commit_only() {
    let a = TestNode::start_with(&["--node-name", "tx1"]);
    let seed = a.cluster_addr().to_string();
    let b = TestNode::start_with(&["--node-name", "tx2", "--join", &seed]);
    let ca = a.client().await;
    let cb = b.client().await;
    for c in [&ca, &cb] {
        wait_value(
            c,
            "SELECT count(*) FROM mosaic.nodes WHERE state = 'alive' AND NOT is_self",
            "1",
        )
        .await;
    }
    ca.batch_execute("BEGIN; CREATE TABLE undone (id integer); ROLLBACK")
        .await
        .unwrap();
    ca.batch_execute(
        "BEGIN; CREATE TABLE spread (id integer PRIMARY KEY); \
         ALTER TABLE spread ADD COLUMN v text; INSERT INTO spread VALUES (1, 'a')",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sql = "SELECT count(*) FROM pg_class WHERE relname IN ('spread', 'undone')";
    assert_eq!(count(&common::simple_rows(&cb, sql).await), 0);
    ca.batch_execute("COMMIT").await.unwrap();
    wait_value(&cb, sql, "1").await;
    wait_value(&cb, "SELECT v FROM spread WHERE id = 1", "a").await;
    cb.batch_execute("INSERT INTO spread VALUES (2, 'b')")
        .await
        .unwrap();
    wait_value(&ca, "SELECT count(*) FROM spread", "2").await;
}
