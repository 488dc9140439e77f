//! node-postgres (`pg` from npm) against a real node: tests/compat/node/
//! pg.test.js runs a Pool of concurrent clients through parameterized
//! queries, transactions and errors, and asserts what comes back. Node, npm
//! and the locked `pg` package (`npm ci` into tests/compat/node/node_modules)
//! come from scripts/install-test-deps.sh; when they are missing this test
//! fails rather than skipping.

mod common;

use std::path::Path;
use std::process::Command;

use common::{TestNode, PASSWORD, USER};

#[test]
fn node_postgres() {
    let project = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/compat/node"));
    assert!(
        project.join("node_modules/pg/package.json").is_file(),
        "{}/node_modules has no pg; run scripts/install-test-deps.sh (it runs npm ci there)",
        project.display()
    );
    let node = TestNode::start();
    let url = format!("postgresql://{USER}:{PASSWORD}@{}/mosaic", node.pg_addr());
    let output = Command::new("node")
        .args(["--test", "pg.test.js"])
        .current_dir(project)
        .env("MOSAIC_TEST_URL", &url)
        // pg reads timestamps without a zone as local time.
        .env("TZ", "UTC")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run node ({e}); install it with scripts/install-test-deps.sh")
        });
    assert!(
        output.status.success(),
        "node --test failed ({})\n---- stdout ----\n{}\n---- stderr ----\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
