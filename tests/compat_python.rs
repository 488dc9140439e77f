//! Python drivers (psycopg 3, psycopg2, asyncpg) against a real node: the
//! pytest suite in tests/compat/python does what an application does and
//! asserts what comes back. Python and the modules come from
//! scripts/install-test-deps.sh; when they are missing this test fails
//! rather than skipping.

mod common;

use std::process::Command;

use common::{TestNode, PASSWORD, USER};

#[test]
fn python_drivers() {
    let node = TestNode::start();
    // A URL, since asyncpg takes no libpq key=value strings; psycopg and
    // psycopg2 accept both.
    let dsn = format!("postgresql://{USER}:{PASSWORD}@{}/mosaic", node.pg_addr());
    let suite = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/compat/python");
    let output = Command::new("python3")
        // -p no:cacheprovider: no .pytest_cache written into the source tree.
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", suite])
        .env("MOSAIC_TEST_DSN", &dsn)
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
