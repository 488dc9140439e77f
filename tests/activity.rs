//! `pg_stat_activity` lists what each client session of a node is doing,
//! `pg_cancel_backend` stops another session's statement and
//! `pg_terminate_backend` ends another session, with PostgreSQL's rules
//! for who may signal whom.

mod common;

use std::time::{Duration, Instant};

use common::{as_user, simple_rows, TestNode};
use tokio_postgres::error::SqlState;

/// A client whose connection task's end (and error) the test can see.
async fn watched(
    conn: &str,
) -> (
    tokio_postgres::Client,
    tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>,
) {
    let (client, connection) = tokio_postgres::connect(conn, tokio_postgres::NoTls)
        .await
        .unwrap();
    (client, tokio::spawn(connection))
}

/// `column` of pg_stat_activity for `pid`, as text.
async fn activity(client: &tokio_postgres::Client, pid: i32, column: &str) -> Option<String> {
    let sql = format!("SELECT ({column})::text FROM pg_stat_activity WHERE pid = {pid}");
    let rows = simple_rows(client, &sql).await;
    rows.into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten())
}

/// Waits until pid's `column` reads `want`.
async fn wait_for(client: &tokio_postgres::Client, pid: i32, column: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = activity(client, pid, column).await;
        if got.as_deref() == Some(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{column} of {pid} is {got:?}, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn pid_of(client: &tokio_postgres::Client) -> i32 {
    client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn pg_stat_activity_follows_a_session_and_pg_cancel_backend_stops_its_statement() {
    let node = TestNode::start();
    let (worker, _conn) = watched(&format!("{} application_name=worker", node.conn_string())).await;
    let watcher = node.client().await;
    let pid = pid_of(&worker).await;
    let me = pid_of(&watcher).await;
    assert_ne!(pid, me);

    // Idle: waiting for its client.
    wait_for(&watcher, pid, "state", "idle").await;
    let row = simple_rows(
        &watcher,
        &format!(
            "SELECT usename, application_name, client_addr, backend_type, wait_event_type, \
             wait_event, query, xact_start IS NULL, datname \
             FROM pg_stat_activity WHERE pid = {pid}"
        ),
    )
    .await;
    let want = [
        "mosaic",
        "worker",
        "127.0.0.1",
        "client backend",
        "Client",
        "ClientRead",
        "SELECT pg_backend_pid()",
        "t",
        "mosaic",
    ];
    let got: Vec<&str> = row[0]
        .iter()
        .map(|c| c.as_deref().unwrap_or("NULL"))
        .collect();
    assert_eq!(got, want);

    // The watcher's own statement, as it runs.
    let own = simple_rows(
        &watcher,
        "SELECT state, query, query_start = statement_timestamp(), xact_start = now() \
         FROM pg_stat_activity WHERE pid = pg_backend_pid()",
    )
    .await;
    assert_eq!(own[0][0].as_deref(), Some("active"));
    assert!(own[0][1].as_deref().unwrap().contains("pg_stat_activity"));
    assert_eq!(own[0][2].as_deref(), Some("t"));
    assert_eq!(own[0][3].as_deref(), Some("t"));

    // A running statement: active, its text, its wait; then cancelled.
    let sleeper = tokio::spawn(async move {
        let r = worker.simple_query("SELECT pg_sleep(60)").await;
        (worker, r)
    });
    wait_for(&watcher, pid, "wait_event", "PgSleep").await;
    assert_eq!(
        activity(&watcher, pid, "state").await.as_deref(),
        Some("active")
    );
    assert_eq!(
        activity(&watcher, pid, "query").await.as_deref(),
        Some("SELECT pg_sleep(60)")
    );
    assert_eq!(
        activity(&watcher, pid, "wait_event_type").await.as_deref(),
        Some("Timeout")
    );
    assert_eq!(
        activity(&watcher, pid, "xact_start <= query_start")
            .await
            .as_deref(),
        Some("true")
    );
    let started = Instant::now();
    let sent: bool = watcher
        .query_one("SELECT pg_cancel_backend($1)", &[&pid])
        .await
        .unwrap()
        .get(0);
    assert!(sent);
    let (worker, r) = sleeper.await.unwrap();
    let err = r.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::QUERY_CANCELED), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));

    // The session goes on; its transaction states show.
    worker.batch_execute("BEGIN; SELECT 1").await.unwrap();
    wait_for(&watcher, pid, "state", "idle in transaction").await;
    assert_eq!(
        activity(&watcher, pid, "xact_start IS NOT NULL")
            .await
            .as_deref(),
        Some("true")
    );
    assert!(worker.simple_query("SELECT 1/0").await.is_err());
    wait_for(&watcher, pid, "state", "idle in transaction (aborted)").await;
    worker.batch_execute("ROLLBACK").await.unwrap();
    wait_for(&watcher, pid, "state", "idle").await;
    assert_eq!(
        activity(&watcher, pid, "xact_start IS NULL")
            .await
            .as_deref(),
        Some("true")
    );
    worker
        .batch_execute("SET application_name = 'renamed'")
        .await
        .unwrap();
    wait_for(&watcher, pid, "application_name", "renamed").await;

    // No such backend: false with PostgreSQL's WARNING.
    let none: bool = watcher
        .query_one("SELECT pg_cancel_backend(1)", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!none);
}

#[tokio::test]
async fn pg_terminate_backend_ends_an_idle_or_a_busy_session() {
    let node = TestNode::start();
    let admin = node.client().await;

    // Idle: the client is told 57P01 and the connection ends.
    let (idle, conn) = watched(&node.conn_string()).await;
    let pid = pid_of(&idle).await;
    let sent: bool = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap()
        .get(0);
    assert!(sent);
    let ended = tokio::time::timeout(Duration::from_secs(20), conn)
        .await
        .expect("the terminated connection ends")
        .unwrap();
    let err = ended.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::ADMIN_SHUTDOWN), "{err}");
    assert!(idle.is_closed());

    // Busy: its statement fails with 57P01, then the connection ends; with
    // a timeout, the call waits until the session is gone.
    let (busy, conn) = watched(&node.conn_string()).await;
    let pid = pid_of(&busy).await;
    let sleeper = tokio::spawn(async move { busy.simple_query("SELECT pg_sleep(60)").await });
    wait_for(&admin, pid, "wait_event", "PgSleep").await;
    let gone: bool = admin
        .query_one("SELECT pg_terminate_backend($1, 10000)", &[&pid])
        .await
        .unwrap()
        .get(0);
    assert!(gone);
    let err = sleeper.await.unwrap().unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::ADMIN_SHUTDOWN), "{err}");
    let _ = tokio::time::timeout(Duration::from_secs(20), conn)
        .await
        .expect("the terminated connection ends");
    assert_eq!(activity(&admin, pid, "pid").await, None);

    let err = admin
        .query_one("SELECT pg_terminate_backend(pg_backend_pid(), -1)", &[])
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&SqlState::INVALID_PARAMETER_VALUE),
        "{err}"
    );
    assert_eq!(
        err.as_db_error().unwrap().message(),
        "\"timeout\" must not be negative"
    );
}

#[tokio::test]
async fn only_a_member_of_the_role_or_a_superuser_may_see_and_signal_a_session() {
    let node = TestNode::start();
    let admin = node.client().await;
    admin
        .batch_execute(
            "CREATE ROLE alice LOGIN PASSWORD 'pw1'; CREATE ROLE bob LOGIN PASSWORD 'pw2'",
        )
        .await
        .unwrap();
    let alice = common::connect(&as_user(&node, "alice", "pw1"))
        .await
        .unwrap();
    let (alice2, _c) = watched(&as_user(&node, "alice", "pw1")).await;
    let bob = common::connect(&as_user(&node, "bob", "pw2"))
        .await
        .unwrap();
    let admin_pid = pid_of(&admin).await;
    let alice2_pid = pid_of(&alice2).await;

    // Another role's session: its query is hidden.
    assert_eq!(
        activity(&bob, alice2_pid, "query").await.as_deref(),
        Some("<insufficient privilege>")
    );
    assert_eq!(
        activity(&bob, alice2_pid, "usename").await.as_deref(),
        Some("alice")
    );
    assert_eq!(activity(&bob, alice2_pid, "state").await, None);
    assert_eq!(
        activity(&alice, alice2_pid, "query").await.as_deref(),
        Some("SELECT pg_backend_pid()")
    );

    // A superuser's session may be signalled by superusers only.
    let err = alice
        .query_one("SELECT pg_cancel_backend($1)", &[&admin_pid])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));
    assert_eq!(
        err.as_db_error().unwrap().message(),
        "must be a superuser to cancel superuser query"
    );
    let err = alice
        .query_one("SELECT pg_terminate_backend($1)", &[&admin_pid])
        .await
        .unwrap_err();
    assert_eq!(
        err.as_db_error().unwrap().message(),
        "must be a superuser to terminate superuser process"
    );
    // Another ordinary role's session: members of that role only.
    let err = bob
        .query_one("SELECT pg_cancel_backend($1)", &[&alice2_pid])
        .await
        .unwrap_err();
    assert_eq!(
        err.as_db_error().unwrap().message(),
        "must be a member of the role whose query is being canceled or member of pg_signal_backend"
    );
    admin.batch_execute("GRANT alice TO bob").await.unwrap();
    let sent: bool = bob
        .query_one("SELECT pg_cancel_backend($1)", &[&alice2_pid])
        .await
        .unwrap()
        .get(0);
    assert!(sent);
    // Its own role's other session: allowed.
    let sent: bool = alice
        .query_one("SELECT pg_terminate_backend($1)", &[&alice2_pid])
        .await
        .unwrap()
        .get(0);
    assert!(sent);
}
