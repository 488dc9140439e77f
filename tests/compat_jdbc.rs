//! The PostgreSQL JDBC driver against a real node: tests/compat/jdbc/
//! Compat.java runs PreparedStatements, a batch, transactions, SQLSTATEs
//! and the DatabaseMetaData calls BI tools make, and asserts what comes
//! back. The JDK and Debian's driver jar come from
//! scripts/install-test-deps.sh; when they are missing this test fails
//! rather than skipping.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{TestNode, PASSWORD, USER};

/// Where Debian's libpostgresql-jdbc-java puts the driver.
const DRIVER_JAR: &str = "/usr/share/java/postgresql.jar";

fn run(command: &mut Command, what: &str) -> Output {
    let output = command.output().unwrap_or_else(|e| {
        panic!("cannot run {what} ({e}); install a JDK with scripts/install-test-deps.sh")
    });
    assert!(
        output.status.success(),
        "{what} failed ({})\n---- stdout ----\n{}\n---- stderr ----\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn jdbc_driver() {
    assert!(
        Path::new(DRIVER_JAR).is_file(),
        "{DRIVER_JAR} is missing; run scripts/install-test-deps.sh"
    );
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/compat/jdbc/Compat.java");
    let classes = tempfile::tempdir().expect("temp dir");
    run(
        Command::new("javac")
            .args(["-encoding", "UTF-8", "-d"])
            .arg(classes.path())
            .arg(source),
        "javac",
    );

    let node = TestNode::start();
    let classpath = format!("{}:{DRIVER_JAR}", classes.path().display());
    let output = run(
        Command::new("java")
            // UTF-8 stdout for the test's messages; the driver itself
            // always talks UTF-8.
            .args(["-Dfile.encoding=UTF-8", "-cp", &classpath, "Compat"])
            .env(
                "MOSAIC_JDBC_URL",
                format!("jdbc:postgresql://{}/mosaic", node.pg_addr()),
            )
            .env("MOSAIC_USER", USER)
            .env("MOSAIC_PASSWORD", PASSWORD),
        "java Compat",
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("all checks passed"), "{stdout}");
}
