//! What one client cannot do to a node: open more connections than
//! `--max-connections` (the next gets PostgreSQL's 53300 and the node
//! serves a fresh connection once one closes; a cancel request still gets
//! through when every slot is taken).

mod common;

use std::time::Duration;

use common::TestNode;

#[tokio::test(flavor = "multi_thread")]
async fn connections_beyond_the_limit_get_53300() {
    let node = TestNode::start_with(&["--max-connections", "3"]);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(node.client().await);
    }
    assert_eq!(
        common::simple_rows(&held[0], "SHOW max_connections").await[0][0].as_deref(),
        Some("3")
    );
    let refused = common::connect(&node.conn_string())
        .await
        .expect_err("a fourth connection is refused");
    let db = refused.as_db_error().expect("an ErrorResponse");
    assert_eq!(db.code().code(), "53300");
    assert_eq!(db.message(), "sorry, too many clients already");
    // Every slot taken: a cancel request still reaches its session.
    let sleeper = held.pop().unwrap();
    let cancel = sleeper.cancel_token();
    let sleeping = tokio::spawn(async move {
        let r = sleeper.simple_query("SELECT pg_sleep(30)").await;
        (sleeper, r)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    cancel
        .cancel_query(tokio_postgres::NoTls)
        .await
        .expect("cancel");
    let (sleeper, r) = tokio::time::timeout(Duration::from_secs(10), sleeping)
        .await
        .expect("the cancel reached the sleeping session")
        .unwrap();
    let e = r.expect_err("cancelled");
    assert_eq!(e.code().map(|c| c.code()), Some("57014"));
    // The connections held keep working; once one closes, a new one is
    // served.
    for c in &held {
        assert_eq!(
            common::simple_rows(c, "SELECT 1").await[0][0].as_deref(),
            Some("1")
        );
    }
    drop(sleeper);
    let fresh = once_a_slot_is_free(&node).await;
    assert_eq!(
        common::simple_rows(&fresh, "SELECT 2").await[0][0].as_deref(),
        Some("2")
    );
}

/// A new connection to `node`, retried until a slot comes free (a closed
/// connection's slot is given back once the node sees the close); fails
/// after 20 s.
async fn once_a_slot_is_free(node: &TestNode) -> tokio_postgres::Client {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        match common::connect(&node.conn_string()).await {
            Ok(c) => return c,
            Err(e) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no slot came free: {e}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Three hundred clients at once against the default limit of 100: each
/// is served or gets 53300, none hangs or gets anything else, at most 100
/// are served, and once they are gone a fresh connection is served.
#[tokio::test(flavor = "multi_thread")]
async fn three_hundred_clients_at_once_get_service_or_53300() {
    let node = TestNode::start();
    let attempts: Vec<_> = (0..300)
        .map(|_| {
            let conn = node.conn_string();
            tokio::spawn(async move {
                let connected =
                    tokio::time::timeout(Duration::from_secs(60), common::connect(&conn)).await;
                match connected.expect("every attempt is answered within a minute") {
                    Ok(client) => {
                        let rows = common::simple_rows(&client, "SELECT 1").await;
                        assert_eq!(rows[0][0].as_deref(), Some("1"));
                        Ok(client)
                    }
                    Err(e) => Err(e
                        .as_db_error()
                        .map(|d| d.code().code().to_string())
                        .unwrap_or_else(|| format!("no ErrorResponse: {e}"))),
                }
            })
        })
        .collect();
    let mut served = Vec::new();
    let mut refused = 0;
    for attempt in attempts {
        match attempt.await.expect("the attempt ran") {
            Ok(client) => served.push(client),
            Err(code) => {
                assert_eq!(code, "53300");
                refused += 1;
            }
        }
    }
    assert!(served.len() <= 100, "{} served", served.len());
    assert_eq!(served.len() + refused, 300);
    drop(served);
    let fresh = once_a_slot_is_free(&node).await;
    assert_eq!(
        common::simple_rows(&fresh, "SELECT 3").await[0][0].as_deref(),
        Some("3")
    );
}

/// Connect and return the client with the SQLSTATE of the first error the
/// connection itself ends with (a FATAL sent while the client was idle).
async fn watched(
    node: &TestNode,
) -> (
    tokio_postgres::Client,
    tokio::sync::oneshot::Receiver<Option<String>>,
) {
    use futures::StreamExt;
    let (client, mut connection) =
        tokio_postgres::connect(&node.conn_string(), tokio_postgres::NoTls)
            .await
            .expect("connect");
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        let mut code = None;
        while let Some(m) = messages.next().await {
            if let Err(e) = m {
                code = e.as_db_error().map(|d| d.code().code().to_string());
                break;
            }
        }
        let _ = tx.send(code);
    });
    (client, rx)
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_timeouts_end_the_session() {
    let node = TestNode::start();
    let admin = node.client().await;
    admin
        .batch_execute("CREATE TABLE idle_t (id int PRIMARY KEY)")
        .await
        .unwrap();
    // Idle inside a block that wrote: the session ends with 25P03, its
    // block rolls back, and the node's write lock is free again.
    let (c, ended) = watched(&node).await;
    c.batch_execute(
        "SET idle_in_transaction_session_timeout = '300ms'; BEGIN; INSERT INTO idle_t VALUES (1)",
    )
    .await
    .unwrap();
    let code = tokio::time::timeout(Duration::from_secs(10), ended)
        .await
        .expect("the idle session ended")
        .unwrap();
    assert_eq!(code.as_deref(), Some("25P03"));
    assert!(c.batch_execute("SELECT 1").await.is_err());
    admin
        .batch_execute("INSERT INTO idle_t VALUES (2)")
        .await
        .unwrap();
    assert_eq!(
        common::simple_rows(&admin, "SELECT id FROM idle_t").await,
        [[Some("2".to_string())]]
    );
    // Outside a block only idle_session_timeout counts.
    let (c, ended) = watched(&node).await;
    c.batch_execute("SET idle_in_transaction_session_timeout = '100ms'")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    c.batch_execute("SET idle_session_timeout = 300")
        .await
        .unwrap();
    let code = tokio::time::timeout(Duration::from_secs(10), ended)
        .await
        .expect("the idle session ended")
        .unwrap();
    assert_eq!(code.as_deref(), Some("57P05"));
}

#[tokio::test(flavor = "multi_thread")]
async fn timeouts_from_the_startup_packet_hold() {
    let node = TestNode::start();
    let conn = format!("{} options='-c statement_timeout=200'", node.conn_string());
    let c = common::connect(&conn).await.unwrap();
    let e = c.batch_execute("SELECT pg_sleep(5)").await.unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("57014"));
    assert_eq!(
        e.as_db_error().map(|d| d.message()),
        Some("canceling statement due to statement timeout")
    );
}

/// SET and SHOW of the timeouts, as PostgreSQL prints them.
async fn timeout_script(conn: &str) -> Vec<String> {
    let c = common::connect(conn).await.unwrap();
    let mut out = Vec::new();
    for (name, value) in [
        ("statement_timeout", "'5s'"),
        ("statement_timeout", "300"),
        ("statement_timeout", "'2min'"),
        ("statement_timeout", "'1500ms'"),
        ("statement_timeout", "0"),
        ("idle_in_transaction_session_timeout", "'90s'"),
        ("idle_session_timeout", "'1h'"),
    ] {
        let sql = format!("SET {name} = {value}; SHOW {name}");
        out.push(format!(
            "{sql}: {:?}",
            common::try_simple_rows(&c, &sql).await
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn timeout_settings_show_as_postgresql_shows_them() {
    let pg = common::postgres::Postgres::start();
    let node = TestNode::start();
    let want = timeout_script(&pg.conn_string()).await;
    assert_eq!(timeout_script(&node.conn_string()).await, want);
}

/// Raw bytes sent as a text parameter (binary format, which for text is
/// the bytes themselves).
#[derive(Debug)]
struct RawText(&'static [u8]);

impl tokio_postgres::types::ToSql for RawText {
    fn to_sql(
        &self,
        _: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0);
        Ok(tokio_postgres::types::IsNull::No)
    }

    tokio_postgres::types::accepts!(TEXT, VARCHAR);
    tokio_postgres::types::to_sql_checked!();
}

async fn bad_text_script(conn: &str) -> Vec<String> {
    let c = common::connect(conn).await.unwrap();
    let mut out = Vec::new();
    for (sql, v) in [
        ("SELECT $1::text", RawText(b"a\0b")),
        ("SELECT $1::varchar", RawText(b"a\xffb")),
        ("SELECT $1::text", RawText(b"a\xe2\x28\xa1")),
        ("SELECT $1::text", RawText("fine \u{e9}".as_bytes())),
    ] {
        let r = c.query_one(sql, &[&v]).await;
        out.push(match r {
            Ok(row) => format!("{sql} {v:?}: {:?}", row.get::<_, String>(0)),
            Err(e) => format!(
                "{sql} {v:?}: {:?}",
                e.as_db_error().map(|d| (d.code().code(), d.message()))
            ),
        });
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn text_parameters_that_are_no_text_get_22021() {
    let pg = common::postgres::Postgres::start();
    let node = TestNode::start();
    let want = bad_text_script(&pg.conn_string()).await;
    assert_eq!(bad_text_script(&node.conn_string()).await, want);
    assert!(want[0].contains("22021"), "{want:?}");
}
