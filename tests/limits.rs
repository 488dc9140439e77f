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
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let fresh = loop {
        match common::connect(&node.conn_string()).await {
            Ok(c) => break c,
            Err(e) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no slot came free: {e}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert_eq!(
        common::simple_rows(&fresh, "SELECT 2").await[0][0].as_deref(),
        Some("2")
    );
}
