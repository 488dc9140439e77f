//! Python drivers (psycopg 3, psycopg2, asyncpg) against a real node: the
//! pytest suite in tests/compat/python does what an application does and
//! asserts what comes back; its row lock, LISTEN/NOTIFY and advisory lock
//! tests also run on three nodes, their sessions spread over the nodes. Python and the modules come from
//! scripts/install-test-deps.sh; when they are missing this test fails
//! rather than skipping.

mod common;

use std::process::Command;

use common::{start_cluster, TestNode, PASSWORD, USER};

/// A URL, since asyncpg takes no libpq key=value strings; psycopg and
/// psycopg2 accept both.
fn dsn(node: &TestNode) -> String {
    format!("postgresql://{USER}:{PASSWORD}@{}/mosaic", node.pg_addr())
}

/// Run pytest on `paths` (under tests/compat/python) against `nodes`.
fn pytest(paths: &[&str], nodes: &[TestNode]) {
    let suite = paths
        .iter()
        .map(|p| format!("{}/tests/compat/python/{p}", env!("CARGO_MANIFEST_DIR")));
    let dsns: Vec<String> = nodes.iter().map(dsn).collect();
    let output = Command::new("python3")
        // -p no:cacheprovider: no .pytest_cache written into the source tree.
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .args(suite)
        .env("MOSAIC_TEST_DSN", &dsns[0])
        .env("MOSAIC_TEST_DSNS", dsns.join(","))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run python3 ({e}); install it with scripts/install-test-deps.sh")
        });
    assert!(
        output.status.success(),
        "pytest failed ({}); the drivers come from scripts/install-test-deps.sh\n\
         ---- stdout ----\n{}\n---- stderr ----\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn python_drivers() {
    pytest(&[""], &[TestNode::start()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn locks_and_notifications_on_three_nodes() {
    let nodes = start_cluster(&["py1", "py2", "py3"], &["--shard-max-rows", "10"]).await;
    let files = ["test_row_locks.py", "test_notify.py"];
    tokio::task::spawn_blocking(move || pytest(&files, &nodes))
        .await
        .unwrap();
}
