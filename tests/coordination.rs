//! LISTEN/NOTIFY and advisory locks: the same script of notifications on
//! PostgreSQL 15 and on a MosaicDB node delivers the same notifications;
//! on three nodes a notification from any node reaches the listeners of
//! every node in order; an advisory lock held on one node excludes the
//! same key on every node, and a node's death releases its locks.

mod common;

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::postgres::Postgres;
use common::{simple_rows, start_cluster, try_simple_rows, TestNode};
use tokio::sync::mpsc::UnboundedReceiver;

/// A notification as received: channel, payload, sender's pid.
type Received = (String, String, i32);

/// Connect and collect the notifications the connection receives.
async fn listener(conn: &str) -> (tokio_postgres::Client, UnboundedReceiver<Received>) {
    let (client, mut messages) = common::connect_with_messages(conn).await;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(m) = messages.recv().await {
            if let tokio_postgres::AsyncMessage::Notification(n) = m {
                let _ = tx.send((n.channel().into(), n.payload().into(), n.process_id()));
            }
        }
    });
    (client, rx)
}

/// Everything that arrives within `wait` after the last arrival.
async fn drain(rx: &mut UnboundedReceiver<Received>, wait: Duration) -> Vec<Received> {
    let mut out = Vec::new();
    while let Ok(Some(n)) = tokio::time::timeout(wait, rx.recv()).await {
        out.push(n);
    }
    out
}

async fn pid(c: &tokio_postgres::Client) -> i32 {
    c.query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0)
}

/// The script: what the listener receives (pids as "sender"/"listener")
/// and the errors and answers along the way.
async fn notify_script(conn: &str) -> Vec<String> {
    let (sender, _) = listener(conn).await;
    let (listening, mut rx) = listener(conn).await;
    let (sender_pid, listener_pid) = (pid(&sender).await, pid(&listening).await);
    let mut log = Vec::new();
    for s in [
        "LISTEN alpha",
        "LISTEN \"Beta\"",
        "BEGIN; LISTEN gamma; ROLLBACK",
        "LISTEN alpha",
    ] {
        listening.batch_execute(s).await.unwrap();
    }
    let steps = [
        "NOTIFY alpha, 'one'",
        "NOTIFY Beta, 'lower-case channel: nobody listens'",
        "NOTIFY \"Beta\", 'two'",
        "NOTIFY gamma, 'rolled back LISTEN'",
        "BEGIN; NOTIFY alpha, 'dup'; NOTIFY alpha, 'dup'; NOTIFY alpha, 'three'; COMMIT",
        "BEGIN; NOTIFY alpha, 'never'; ROLLBACK",
        "BEGIN; NOTIFY alpha, 'kept'; SAVEPOINT s; NOTIFY alpha, 'undone'; ROLLBACK TO s; COMMIT",
        "SELECT pg_notify('alpha', 'from pg_notify')",
        "SELECT pg_notify('alpha', NULL)",
        "NOTIFY alpha",
    ];
    for s in steps {
        sender.batch_execute(s).await.unwrap();
    }
    for s in [
        "SELECT pg_notify('alpha', repeat('x', 8000))",
        "SELECT pg_notify('', 'x')",
        "SELECT * FROM pg_listening_channels()",
    ] {
        log.push(format!("{s}: {:?}", try_simple_rows(&listening, s).await));
    }
    let got = drain(&mut rx, Duration::from_millis(500)).await;
    // The listener's own notifications come to it too.
    listening
        .batch_execute("NOTIFY alpha, 'self'")
        .await
        .unwrap();
    listening.batch_execute("UNLISTEN alpha").await.unwrap();
    sender
        .batch_execute("NOTIFY alpha, 'after UNLISTEN'")
        .await
        .unwrap();
    let later = drain(&mut rx, Duration::from_millis(500)).await;
    for (ch, payload, from) in got.into_iter().chain(later) {
        let who = match from {
            p if p == sender_pid => "sender",
            p if p == listener_pid => "listener",
            _ => "someone else",
        };
        log.push(format!("{ch} {payload:?} from {who}"));
    }
    log
}

#[tokio::test(flavor = "multi_thread")]
async fn notifications_are_postgresqls() {
    let pg = Postgres::start();
    let node = TestNode::start();
    let want = notify_script(&pg.conn_string()).await;
    let got = notify_script(&node.conn_string()).await;
    assert_eq!(got, want);
    assert!(
        want.iter().filter(|l| l.contains("from sender")).count() >= 6
            && want.iter().any(|l| l.contains("from listener")),
        "the script must deliver something: {want:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn notifications_reach_every_node_in_order() {
    let nodes = start_cluster(&["cn1", "cn2", "cn3"], &[]).await;
    let mut listeners = Vec::new();
    for n in &nodes {
        let (c, rx) = listener(&n.conn_string()).await;
        c.batch_execute("LISTEN work").await.unwrap();
        listeners.push((c, rx));
    }
    let (other, mut other_rx) = listener(&nodes[2].conn_string()).await;
    other.batch_execute("LISTEN elsewhere").await.unwrap();
    let sender = nodes[0].client().await;
    for i in 0..20 {
        sender
            .batch_execute(&format!("NOTIFY work, '{i}'"))
            .await
            .unwrap();
    }
    let want: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    for (i, (_, rx)) in listeners.iter_mut().enumerate() {
        let got: Vec<String> = drain(rx, Duration::from_secs(2))
            .await
            .into_iter()
            .map(|(_, p, _)| p)
            .collect();
        assert_eq!(got, want, "listener on node {}", i + 1);
    }
    assert!(drain(&mut other_rx, Duration::from_millis(300))
        .await
        .is_empty());
    // One that stops listening hears no more; the others still do.
    listeners[1].0.batch_execute("UNLISTEN *").await.unwrap();
    nodes[2]
        .client()
        .await
        .batch_execute("SELECT pg_notify('work', 'last')")
        .await
        .unwrap();
    let mut counts = Vec::new();
    for (_, rx) in listeners.iter_mut() {
        counts.push(drain(rx, Duration::from_secs(1)).await.len());
    }
    assert_eq!(counts, [1, 0, 1]);
    // A node that restarts hears again who listens where.
    let mut nodes = nodes;
    nodes[1].restart();
    common::wait_alive(&nodes[0], 2).await;
    common::wait_alive(&nodes[1], 2).await;
    // The peers tell it when they see it come up, which may be a moment
    // after it sees them.
    let restarted = nodes[1].client().await;
    let deadline = std::time::Instant::now() + common::CLUSTER_TIMEOUT;
    let mut heard = [false, false];
    while heard != [true, true] {
        assert!(std::time::Instant::now() < deadline, "heard only {heard:?}");
        restarted
            .batch_execute("NOTIFY work, 'after restart'")
            .await
            .unwrap();
        for (h, i) in heard.iter_mut().zip([0, 2]) {
            let got = drain(&mut listeners[i].1, Duration::from_millis(300)).await;
            *h |= got.iter().any(|n| n.1 == "after restart");
        }
    }
}

async fn one(c: &tokio_postgres::Client, sql: &str) -> Option<String> {
    simple_rows(c, sql).await.remove(0).remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn advisory_locks_hold_across_nodes() {
    // co1 arbitrates (first by name) and restarts, joining through co2;
    // the holder that dies is on co3.
    let mut nodes = start_cluster(&["co2", "co1", "co3"], &[]).await;
    let a = nodes[2].client().await;
    let b = nodes[0].client().await;
    let c = nodes[1].client().await;
    let t = Some("t".to_string());
    let f = Some("f".to_string());
    assert_eq!(one(&a, "SELECT pg_try_advisory_lock(7)").await, t);
    assert_eq!(one(&b, "SELECT pg_try_advisory_lock(7)").await, f);
    assert_eq!(one(&c, "SELECT pg_try_advisory_lock_shared(7)").await, f);
    // Every node's pg_locks lists the cluster's advisory locks.
    let listed = "SELECT mode, granted FROM pg_locks \
                  WHERE locktype = 'advisory' AND classid = 0 AND objid = 7 AND objsubid = 1";
    assert_eq!(
        simple_rows(&b, listed).await,
        [[Some("ExclusiveLock".to_string()), t.clone()]]
    );
    // The two-key form is another lock.
    assert_eq!(one(&b, "SELECT pg_try_advisory_lock(0, 7)").await, t);
    // Shared holders on several nodes coexist and keep exclusive out.
    assert_eq!(one(&b, "SELECT pg_try_advisory_lock_shared(8)").await, t);
    assert_eq!(one(&c, "SELECT pg_try_advisory_lock_shared(8)").await, t);
    assert_eq!(one(&a, "SELECT pg_try_advisory_lock(8)").await, f);
    // A waiter on another node gets the lock when the holder lets go.
    let waiter = tokio::spawn(async move {
        simple_rows(&c, "SELECT pg_advisory_lock(7)").await;
        c
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "the lock is held on another node");
    assert_eq!(one(&a, "SELECT pg_advisory_unlock(7)").await, t);
    let c = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("the waiter got the lock")
        .unwrap();
    assert_eq!(one(&a, "SELECT pg_try_advisory_lock(7)").await, f);
    assert_eq!(one(&c, "SELECT pg_advisory_unlock(7)").await, t);
    // A wait ends with the statement's timeout, and leaves nothing held.
    assert_eq!(one(&b, "SELECT pg_try_advisory_lock(12)").await, t);
    let r = try_simple_rows(
        &c,
        "SET statement_timeout = 300; SELECT pg_advisory_lock(12)",
    )
    .await;
    assert_eq!(
        r,
        Err("57014 canceling statement due to statement timeout".to_string())
    );
    c.batch_execute("RESET statement_timeout").await.unwrap();
    assert_eq!(one(&b, "SELECT pg_advisory_unlock(12)").await, t);
    assert_eq!(one(&a, "SELECT pg_try_advisory_lock(12)").await, t);
    assert_eq!(one(&a, "SELECT pg_advisory_unlock(12)").await, t);
    // A transaction-level lock ends with its transaction.
    a.batch_execute("BEGIN; SELECT pg_advisory_xact_lock(9)")
        .await
        .unwrap();
    assert_eq!(one(&b, "SELECT pg_try_advisory_lock(9)").await, f);
    a.batch_execute("COMMIT").await.unwrap();
    assert_eq!(one(&b, "SELECT pg_try_advisory_lock(9)").await, t);
    assert_eq!(one(&b, "SELECT pg_advisory_unlock(9)").await, t);
    // The arbiter restarts (its table starts empty): the holders tell it
    // what they hold, and it grants that to no one else.
    assert_eq!(one(&b, "SELECT pg_try_advisory_lock(11)").await, t);
    drop(c);
    nodes[1].restart();
    // The restarted arbiter has a new cluster address: every node must know
    // it (and route locks to it) before the next locks are taken.
    let seen = format!(
        "SELECT state FROM mosaic.nodes WHERE node_name = 'co1' AND cluster_addr = '{}'",
        nodes[1].cluster_addr()
    );
    common::wait_rows(&a, &seen, &["alive"]).await;
    common::wait_rows(&b, &seen, &["alive"]).await;
    let c = nodes[1].client().await;
    common::wait_rows(
        &c,
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 11",
        &["1"],
    )
    .await;
    assert_eq!(one(&c, "SELECT pg_try_advisory_lock(11)").await, f);
    // The holder's node dies: once membership says so, the lock is free.
    assert_eq!(one(&a, "SELECT pg_try_advisory_lock(10)").await, t);
    assert_eq!(one(&b, "SELECT pg_try_advisory_lock(10)").await, f);
    nodes[2].kill9();
    common::wait_state(&b, "co3", "down").await;
    common::wait_rows(&b, "SELECT pg_try_advisory_lock(10)", &["t"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_holder_at_a_time_across_nodes() {
    let nodes = start_cluster(&["cx1", "cx2", "cx3"], &[]).await;
    let inside = Arc::new(AtomicI32::new(0));
    let mut workers = Vec::new();
    for w in 0..6 {
        let conn = nodes[w % nodes.len()].conn_string();
        let inside = inside.clone();
        workers.push(tokio::spawn(async move {
            let c = common::connect(&conn).await.unwrap();
            for _ in 0..8 {
                c.batch_execute("SELECT pg_advisory_lock(1, 2)")
                    .await
                    .unwrap();
                assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders");
                tokio::time::sleep(Duration::from_millis(3)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
                c.batch_execute("SELECT pg_advisory_unlock(1, 2)")
                    .await
                    .unwrap();
            }
        }));
    }
    for w in workers {
        tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .expect("workers finish")
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mosaic_channels_announce_shards_and_nodes() {
    let mut nodes = start_cluster(&["cs1", "cs2", "cs3"], &[]).await;
    let (l, mut rx) = listener(&nodes[0].conn_string()).await;
    l.batch_execute("LISTEN mosaic_shards; LISTEN mosaic_nodes")
        .await
        .unwrap();
    let writer = nodes[1].client().await;
    writer
        .batch_execute(
            "CREATE TABLE cs_t (id int PRIMARY KEY); INSERT INTO cs_t VALUES (1), (2); \
             SELECT mosaic.seal('cs_t')",
        )
        .await
        .unwrap();
    let events = |got: Vec<Received>| -> Vec<serde_json::Value> {
        got.into_iter()
            .map(|(ch, p, pid)| {
                assert_eq!(pid, 0, "system events come from no session");
                let mut v: serde_json::Value = serde_json::from_str(&p).unwrap();
                v["channel"] = ch.into();
                v
            })
            .collect()
    };
    let got = events(drain(&mut rx, Duration::from_secs(3)).await);
    let sealed = got
        .iter()
        .find(|e| e["channel"] == "mosaic_shards" && e["event"] == "sealed" && e["node"] == "cs2")
        .unwrap_or_else(|| panic!("no sealed shard of cs2 in {got:#?}"));
    assert_eq!(sealed["table"], "cs_t");
    assert_eq!(sealed["rows"], 2);
    // Replication copies the shard elsewhere.
    assert!(
        got.iter()
            .any(|e| e["event"] == "replicated" && e["shard"] == sealed["shard"])
            || events(drain(&mut rx, Duration::from_secs(5)).await)
                .iter()
                .any(|e| e["event"] == "replicated" && e["shard"] == sealed["shard"]),
        "no copy of {} announced",
        sealed["shard"]
    );
    nodes[2].kill9();
    let deadline = std::time::Instant::now() + common::CLUSTER_TIMEOUT;
    let mut seen = Vec::new();
    loop {
        let got = events(drain(&mut rx, Duration::from_secs(1)).await);
        seen.extend(
            got.iter()
                .filter(|e| e["channel"] == "mosaic_nodes" && e["node"] == "cs3")
                .map(|e| (e["event"].to_string(), e["seen_by"].to_string())),
        );
        if seen.iter().any(|(e, _)| e == "\"down\"") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "cs3 never announced down: {seen:?}"
        );
    }
    // Suspected first, then down, as cs1 saw it.
    let order: Vec<&str> = seen.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(order, ["\"suspect\"", "\"down\""]);
    assert!(seen.iter().all(|(_, by)| by == "\"cs1\""));
}

/// Advisory locks, pg_locks, sleeping and transaction ids on one session.
async fn session_script(conn: &str) -> Vec<String> {
    let c = common::connect(conn).await.expect("connect");
    let mut log = Vec::new();
    for s in [
        "SELECT pg_try_advisory_lock(1, 2), pg_try_advisory_lock(-1), pg_advisory_lock_shared(5)",
        "SELECT pg_advisory_lock(1, 2), pg_try_advisory_lock_shared(5)",
        "SELECT locktype, database IS NOT NULL, relation, classid, objid, objsubid, mode, granted, \
         fastpath FROM pg_locks WHERE locktype = 'advisory' ORDER BY objsubid, classid, objid",
        "SELECT pg_advisory_unlock(1, 2), pg_advisory_unlock(1, 2), pg_advisory_unlock(1, 2)",
        "SELECT pg_advisory_unlock_shared(5), pg_advisory_unlock(5)",
        "SELECT pg_advisory_unlock_all()",
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'",
        "SELECT pg_try_advisory_lock(NULL), pg_advisory_unlock(NULL, 1), pg_sleep(NULL)",
        "BEGIN; SELECT pg_advisory_xact_lock(3); SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'",
        "COMMIT; SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'",
        "BEGIN; SELECT pg_advisory_xact_lock(20); SAVEPOINT s; \
         SELECT pg_advisory_xact_lock(21), pg_advisory_xact_lock(20), pg_advisory_lock(22); \
         ROLLBACK TO s; SELECT objid FROM pg_locks WHERE locktype = 'advisory' ORDER BY objid",
        "COMMIT; SELECT objid FROM pg_locks WHERE locktype = 'advisory' ORDER BY objid",
        "SELECT pg_advisory_unlock_all()",
        "SELECT pg_advisory_lock(2147483648, 1)",
        "SELECT pg_sleep(0.01), pg_sleep_for('10 ms'), pg_sleep_for('00:00:00.01'), \
         pg_sleep_until('2020-01-01 00:00:00+00')",
        "SELECT pg_sleep_for('soon')",
        "SELECT pg_typeof(txid_current()), pg_typeof(pg_current_xact_id())",
        "BEGIN; SELECT txid_current() = txid_current(), \
         pg_current_xact_id()::text = txid_current()::text; COMMIT",
        "SELECT pg_backend_pid() > 0",
    ] {
        log.push(format!("{s}: {:?}", try_simple_rows(&c, s).await));
    }
    log
}

#[tokio::test(flavor = "multi_thread")]
async fn session_functions_are_postgresqls() {
    let pg = Postgres::start();
    let node = TestNode::start();
    let want = session_script(&pg.conn_string()).await;
    let got = session_script(&node.conn_string()).await;
    assert_eq!(got, want);
}
