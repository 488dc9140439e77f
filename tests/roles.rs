//! Roles across a cluster, with real logins: a role made on one node logs
//! in on the other at once, its privileges hold there, a password changed
//! or a login taken away anywhere counts everywhere, a pre-hashed SCRAM
//! verifier (what psql's `\password` sends) is a password like any other,
//! and psql's `\du` and `\dp` read the roles and access lists. The SQL
//! semantics themselves are compared with PostgreSQL in
//! `sql/slt/privileges.slt`.

mod common;

use std::process::Command;

use common::{as_user, login_error, sqlstate, start_cluster, TestNode, PASSWORD, USER};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_made_on_one_node_logs_in_on_another() {
    let nodes = start_cluster(&["r1", "r2"], &[]).await;
    let (n1, n2) = (&nodes[0], &nodes[1]);
    let admin = n1.client().await;
    admin
        .batch_execute(
            "CREATE ROLE app LOGIN PASSWORD 'app-pw';
             CREATE TABLE items (id int PRIMARY KEY, name text);
             INSERT INTO items VALUES (1, 'one'), (2, 'two');
             GRANT SELECT ON items TO app;",
        )
        .await
        .expect("make a role and grant it");

    // On the other node, at once.
    let app = common::connect(&as_user(n2, "app", "app-pw"))
        .await
        .expect("the new role logs in on the other node");
    let rows = common::simple_rows(&app, "SELECT count(*), current_user FROM items").await;
    assert_eq!(rows, [[Some("2".into()), Some("app".into())]]);
    // is_superuser and session_authorization are the session's own
    // (clients and admin tools read them); SET ROLE changes is_superuser.
    let rows = common::simple_rows(
        &app,
        "SELECT current_setting('is_superuser'), current_setting('session_authorization')",
    )
    .await;
    assert_eq!(rows, [[Some("off".into()), Some("app".into())]]);
    let rows = common::simple_rows(
        &admin,
        "SET ROLE app; SELECT current_setting('is_superuser'); RESET ROLE",
    )
    .await;
    assert_eq!(rows, [[Some("off".into())]]);
    let rows = common::simple_rows(&admin, "SHOW is_superuser").await;
    assert_eq!(rows, [[Some("on".into())]]);
    assert_eq!(sqlstate(&app, "SET is_superuser = on").await, "55P02");
    assert_eq!(
        sqlstate(&app, "INSERT INTO items VALUES (3, 'three')").await,
        "42501"
    );
    assert_eq!(sqlstate(&app, "DROP TABLE items").await, "42501");
    assert_eq!(sqlstate(&app, "CREATE TABLE mine (a int)").await, "42501");
    assert_eq!(
        login_error(n2, "app", "wrong").await.as_deref(),
        Some("28P01")
    );
    assert_eq!(
        login_error(n1, "nobody", "x").await.as_deref(),
        Some("28P01")
    );

    // A grant made on the second node holds on the first.
    let admin2 = n2.client().await;
    admin2
        .batch_execute("GRANT INSERT ON items TO app")
        .await
        .expect("grant on the second node");
    let app1 = common::connect(&as_user(n1, "app", "app-pw"))
        .await
        .expect("log in on the first node");
    assert_eq!(
        sqlstate(&app1, "INSERT INTO items VALUES (3, 'three')").await,
        "ok"
    );

    // A verifier as psql's \password computes it is a password.
    let verifier = postgres_protocol::password::scram_sha_256(b"new-pw");
    app1.batch_execute(&format!("ALTER ROLE app PASSWORD '{verifier}'"))
        .await
        .expect("a role changes its own password");
    assert_eq!(
        login_error(n2, "app", "app-pw").await.as_deref(),
        Some("28P01")
    );
    assert_eq!(login_error(n2, "app", "new-pw").await, None);
    let stored = common::simple_rows(
        &admin,
        "SELECT rolpassword IS NOT NULL, rolcanlogin FROM pg_roles WHERE rolname = 'app'",
    )
    .await;
    assert_eq!(stored, [[Some("t".into()), Some("t".into())]]);

    // NOLOGIN, made on one node, refuses the login on the other.
    admin2
        .batch_execute("ALTER ROLE app NOLOGIN")
        .await
        .expect("take the login away");
    assert_eq!(
        login_error(n1, "app", "new-pw").await.as_deref(),
        Some("28000")
    );

    // Role changes are transactional: rolled back, they never reach any
    // node; committed, they log in everywhere.
    admin
        .batch_execute("BEGIN; CREATE ROLE in_block LOGIN PASSWORD 'b'; ROLLBACK")
        .await
        .expect("a rolled-back CREATE ROLE");
    assert_eq!(
        login_error(n2, "in_block", "b").await.as_deref(),
        Some("28P01")
    );
    admin
        .batch_execute(
            "BEGIN; CREATE ROLE in_block LOGIN PASSWORD 'b'; SAVEPOINT s;
             ALTER ROLE in_block PASSWORD 'c'; ROLLBACK TO s; COMMIT",
        )
        .await
        .expect("a committed CREATE ROLE");
    assert_eq!(
        login_error(n2, "in_block", "c").await.as_deref(),
        Some("28P01")
    );
    assert_eq!(login_error(n2, "in_block", "b").await, None);

    // Dropped anywhere, gone everywhere.
    assert_eq!(sqlstate(&admin, "DROP ROLE app").await, "2BP01");
    admin
        .batch_execute("REVOKE ALL ON items FROM app; DROP ROLE app")
        .await
        .expect("drop the role once nothing depends on it");
    let gone = common::simple_rows(
        &admin2,
        "SELECT count(*) FROM pg_roles WHERE rolname = 'app'",
    )
    .await;
    assert_eq!(gone, [[Some("0".into())]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_outlive_a_restart_and_psql_lists_them() {
    let mut node = TestNode::start();
    let admin = node.client().await;
    admin
        .batch_execute(
            "CREATE ROLE reporting;
             CREATE USER analyst PASSWORD 'a-pw' IN ROLE reporting;
             CREATE TABLE sales (n int);
             GRANT SELECT ON sales TO reporting;",
        )
        .await
        .expect("make roles");
    drop(admin);
    node.restart();
    let analyst = common::connect(&as_user(&node, "analyst", "a-pw"))
        .await
        .expect("a role logs in after a restart");
    assert_eq!(sqlstate(&analyst, "SELECT * FROM sales").await, "ok");
    assert_eq!(sqlstate(&analyst, "DELETE FROM sales").await, "42501");

    let (host, port) = node.pg_addr().rsplit_once(':').expect("host:port");
    let psql = |meta: &str| {
        let out = Command::new("psql")
            .args([
                "-h", host, "-p", port, "-U", USER, "-d", "mosaic", "-X", "-c", meta,
            ])
            .env("PGPASSWORD", PASSWORD)
            .output()
            .expect("run psql (scripts/install-test-deps.sh installs it)");
        assert!(
            out.status.success(),
            "psql {meta}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let du = psql("\\du");
    let line = |name: &str| {
        du.lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing from \\du:\n{du}"))
            .to_string()
    };
    assert!(line("reporting").contains("Cannot login"), "{du}");
    assert!(line("analyst").contains("{reporting}"), "{du}");
    assert!(line(USER).contains("Superuser"), "{du}");
    let dp = psql("\\dp sales");
    assert!(dp.contains("reporting=r/"), "{dp}");
}
