//! Row locks across three real nodes: a job queue worked with
//! `FOR UPDATE SKIP LOCKED` from workers on every node hands each job to
//! exactly one of them, a locker on one node waits for the holder on
//! another and then reads what it committed, and NOWAIT fails with 55P03.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{simple_rows, start_cluster};

const JOBS: i64 = 45;
const WORKERS_PER_NODE: usize = 2;

/// One worker: take the first job not done, mark it, commit; until none
/// is left. A 40001 (a lock wait that ran out, or locks let go) is retried
/// as an application would. Returns the jobs it took.
async fn work(conn: String, worker: i64) -> Vec<i64> {
    let client = common::connect(&conn).await.expect("connect");
    let mut taken = Vec::new();
    loop {
        let attempt = async {
            client.batch_execute("BEGIN").await?;
            let rows = client
                .query(
                    "SELECT id FROM rl_jobs WHERE worker IS NULL ORDER BY id \
                     LIMIT 1 FOR UPDATE SKIP LOCKED",
                    &[],
                )
                .await?;
            let Some(row) = rows.first() else {
                client.batch_execute("COMMIT").await?;
                return Ok(None);
            };
            let id: i64 = row.get(0);
            client
                .execute(
                    "UPDATE rl_jobs SET worker = $1 WHERE id = $2",
                    &[&worker, &id],
                )
                .await?;
            client.batch_execute("COMMIT").await?;
            Ok::<_, tokio_postgres::Error>(Some(id))
        };
        match attempt.await {
            Ok(Some(id)) => taken.push(id),
            Ok(None) => return taken,
            Err(e) if e.code().map(|c| c.code()) == Some("40001") => {
                let _ = client.batch_execute("ROLLBACK").await;
            }
            Err(e) => panic!("worker {worker}: {e:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn row_locks_hold_across_nodes() {
    let mut nodes = start_cluster(&["rl1", "rl2", "rl3"], &["--shard-max-rows", "10"]).await;
    let admin = nodes[0].client().await;
    admin
        .batch_execute("CREATE TABLE rl_jobs (id int8 PRIMARY KEY, worker int8)")
        .await
        .unwrap();
    // Jobs inserted through every node: some sealed, some in open segments.
    for (i, node) in nodes.iter().enumerate() {
        let c = node.client().await;
        let values: Vec<String> = (0..JOBS)
            .filter(|j| *j as usize % nodes.len() == i)
            .map(|j| format!("({j})"))
            .collect();
        c.batch_execute(&format!(
            "INSERT INTO rl_jobs (id) VALUES {}",
            values.join(", ")
        ))
        .await
        .unwrap();
    }

    // The queue: each job taken by exactly one worker.
    let mut handles = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        for w in 0..WORKERS_PER_NODE {
            let worker = (i * WORKERS_PER_NODE + w) as i64;
            handles.push(tokio::spawn(work(node.conn_string(), worker)));
        }
    }
    let mut took: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (worker, h) in handles.into_iter().enumerate() {
        let jobs = tokio::time::timeout(Duration::from_secs(240), h)
            .await
            .expect("the queue drains")
            .expect("worker");
        for j in jobs {
            took.entry(j).or_default().push(worker as i64);
        }
    }
    let twice: Vec<_> = took.iter().filter(|(_, w)| w.len() > 1).collect();
    assert!(twice.is_empty(), "jobs taken more than once: {twice:?}");
    assert_eq!(took.len() as i64, JOBS, "every job taken: {took:?}");
    for node in &nodes {
        let c = node.client().await;
        let rows = simple_rows(
            &c,
            "SELECT count(*), count(DISTINCT id), count(worker) FROM rl_jobs",
        )
        .await;
        let n = JOBS.to_string();
        assert_eq!(
            rows[0],
            vec![Some(n.clone()), Some(n.clone()), Some(n)],
            "one version of each job, each with its worker"
        );
        for (job, workers) in &took {
            let rows =
                simple_rows(&c, &format!("SELECT worker FROM rl_jobs WHERE id = {job}")).await;
            assert_eq!(rows, vec![vec![Some(workers[0].to_string())]]);
        }
    }

    // A locker on another node waits for the holder, then reads its write.
    let (a, b, c) = (
        nodes[0].client().await,
        nodes[1].client().await,
        nodes[2].client().await,
    );
    a.batch_execute("BEGIN").await.unwrap();
    a.query("SELECT id FROM rl_jobs WHERE id = 0 FOR UPDATE", &[])
        .await
        .unwrap();
    let e = c
        .query("SELECT id FROM rl_jobs WHERE id = 0 FOR UPDATE NOWAIT", &[])
        .await
        .unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("55P03"), "{e:?}");
    let waiter = tokio::spawn(async move {
        b.batch_execute("BEGIN").await.unwrap();
        let rows = b
            .query("SELECT worker FROM rl_jobs WHERE id = 0 FOR UPDATE", &[])
            .await
            .unwrap();
        b.batch_execute("COMMIT").await.unwrap();
        rows[0].get::<_, Option<i64>>(0)
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !waiter.is_finished(),
        "the second locker waits for the first"
    );
    // The holder locks again without queueing behind the waiter.
    tokio::time::timeout(
        Duration::from_secs(5),
        a.query("SELECT id FROM rl_jobs WHERE id = 1 FOR UPDATE", &[]),
    )
    .await
    .expect("the holder does not wait for its own waiter")
    .unwrap();
    a.batch_execute("UPDATE rl_jobs SET worker = 100 WHERE id = 0; COMMIT")
        .await
        .unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(30), waiter)
        .await
        .expect("the waiter goes on once the holder commits")
        .unwrap();
    assert_eq!(
        seen,
        Some(100),
        "the waiter reads what the holder committed"
    );

    // A holder that goes away without a word lets go too.
    let d = nodes[1].client().await;
    d.batch_execute("BEGIN").await.unwrap();
    d.query("SELECT id FROM rl_jobs FOR SHARE", &[])
        .await
        .unwrap();
    drop(d);
    let rows = tokio::time::timeout(Duration::from_secs(15), async {
        c.query("SELECT id FROM rl_jobs FOR UPDATE", &[])
            .await
            .unwrap()
    })
    .await
    .expect("a closed session's locks are let go");
    assert_eq!(rows.len() as i64, JOBS);

    // Without the node that arbitrates (the first by name), rows cannot be
    // locked, and the statement says so; plain reads go on.
    nodes[0].kill9();
    common::wait_state(&c, "rl1", "down").await;
    let e = c
        .query("SELECT id FROM rl_jobs WHERE id = 1 FOR UPDATE", &[])
        .await
        .unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("58000"), "{e:?}");
    let message = e.as_db_error().map(|d| d.message().to_string());
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("arbitrates row locks")),
        "{message:?}"
    );
}
