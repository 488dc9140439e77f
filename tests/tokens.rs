//! Tokens (`mosaic.issue_token`) used as a password by ordinary clients
//! (tokio-postgres, psql over TLS with channel binding): a token issued on
//! one node logs in on another, its perms hold (`read` runs queries only,
//! `write` no DDL, neither issues more than it has), and a tampered,
//! expired, revoked or other user's token is refused with 28P01. Rotating
//! the signing key leaves live tokens valid.

mod common;

use std::process::Command;

use common::{as_user, login_error, sqlstate, start_cluster, TestNode};

async fn one(client: &tokio_postgres::Client, sql: &str) -> String {
    common::simple_rows(client, sql).await[0][0]
        .clone()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_log_in_everywhere_within_their_perms() {
    let nodes = start_cluster(&["t1", "t2"], &[]).await;
    let (n1, n2) = (&nodes[0], &nodes[1]);
    let admin = n1.client().await;
    admin
        .batch_execute(
            "CREATE ROLE app LOGIN PASSWORD 'app-pw';
             CREATE ROLE other LOGIN PASSWORD 'other-pw';
             CREATE TABLE items (id int);
             CREATE SEQUENCE item_ids;
             GRANT SELECT, INSERT ON items TO app;
             GRANT USAGE ON SEQUENCE item_ids TO app;",
        )
        .await
        .expect("set up roles");
    let read = one(&admin, "SELECT mosaic.issue_token('app', 'read', 3600)").await;
    assert!(read.starts_with("mosaic1."), "{read}");

    // A read token logs in on the other node and may only read.
    let reader = common::connect(&as_user(n2, "app", &read))
        .await
        .expect("a read token logs in on another node");
    assert_eq!(one(&reader, "SELECT current_user").await, "app");
    assert_eq!(sqlstate(&reader, "SELECT count(*) FROM items").await, "ok");
    assert_eq!(
        sqlstate(&reader, "INSERT INTO items VALUES (1)").await,
        "42501"
    );
    assert_eq!(
        sqlstate(&reader, "SELECT mosaic.issue_token('app', 'read', 60)").await,
        "42501"
    );
    // Drawing from a sequence changes it: refused too, though the role
    // itself may.
    assert_eq!(
        sqlstate(&reader, "SELECT nextval('item_ids')").await,
        "42501"
    );
    let with_password = common::connect(&as_user(n2, "app", "app-pw"))
        .await
        .expect("the password logs in");
    assert_eq!(
        sqlstate(&with_password, "SELECT nextval('item_ids')").await,
        "ok"
    );
    // The password still works beside it.
    assert_eq!(login_error(n2, "app", "app-pw").await, None);

    // A write token writes, but makes no DDL and issues nothing above write.
    let app = common::connect(&as_user(n1, "app", "app-pw"))
        .await
        .expect("log in");
    let write = one(&app, "SELECT mosaic.issue_token('app', 'write', 3600)").await;
    let writer = common::connect(&as_user(n2, "app", &write))
        .await
        .expect("a write token logs in");
    assert_eq!(
        sqlstate(&writer, "INSERT INTO items VALUES (1)").await,
        "ok"
    );
    assert_eq!(
        sqlstate(&writer, "CREATE INDEX ON items (id)").await,
        "42501"
    );
    assert_eq!(
        sqlstate(&writer, "SELECT mosaic.issue_token('app', 'admin', 60)").await,
        "42501"
    );
    // A token never covers more than its issuer: app cannot issue for
    // another role, nor rotate the key.
    assert_eq!(
        sqlstate(&app, "SELECT mosaic.issue_token('other', 'read', 60)").await,
        "42501"
    );
    assert_eq!(
        sqlstate(&app, "SELECT mosaic.rotate_token_key()").await,
        "42501"
    );
    assert_eq!(
        sqlstate(&admin, "SELECT mosaic.issue_token('app', 'root', 60)").await,
        "22023"
    );
    assert_eq!(
        sqlstate(&admin, "SELECT mosaic.issue_token('app', 'read', 0)").await,
        "22023"
    );

    // Tampered, another user's, and garbage tokens are refused.
    let (head, mac) = read.rsplit_once('.').expect("token has a MAC");
    let flipped = if mac.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{head}.{flipped}{}", &mac[1..]);
    assert_eq!(
        login_error(n1, "app", &tampered).await.as_deref(),
        Some("28P01")
    );
    assert_eq!(
        login_error(n1, "other", &read).await.as_deref(),
        Some("28P01")
    );
    assert_eq!(
        login_error(n1, "app", "mosaic1.x.y").await.as_deref(),
        Some("28P01")
    );

    // Rotating the key leaves live tokens valid and signs new ones.
    let key = one(&admin, "SELECT mosaic.rotate_token_key()").await;
    assert!(!key.is_empty());
    assert_eq!(login_error(n2, "app", &read).await, None);
    let after = one(&admin, "SELECT mosaic.issue_token('app', 'read', 3600)").await;
    assert_eq!(login_error(n2, "app", &after).await, None);

    // Revoked on one node, refused on the other; a second revoke is false.
    assert_eq!(
        one(&admin, &format!("SELECT mosaic.revoke_token('{read}')")).await,
        "t"
    );
    assert_eq!(
        login_error(n2, "app", &read).await.as_deref(),
        Some("28P01")
    );
    assert_eq!(
        one(&admin, &format!("SELECT mosaic.revoke_token('{read}')")).await,
        "f"
    );
    assert_eq!(
        sqlstate(&admin, &format!("SELECT mosaic.revoke_token('{tampered}')")).await,
        "22023"
    );

    // An expired token is refused.
    let short = one(&admin, "SELECT mosaic.issue_token('app', 'read', 1)").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        login_error(n1, "app", &short).await.as_deref(),
        Some("28P01")
    );
    // Issuing a token clears the verifiers of the expired ones.
    let expired = || {
        let db = rusqlite::Connection::open_with_flags(
            n1.data_dir().join("catalog.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open the catalog");
        let mut st = db
            .prepare("SELECT value FROM cluster_settings WHERE name LIKE 'token/%' AND value IS NOT NULL")
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        st.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|v| serde_json::from_str::<serde_json::Value>(&v.unwrap()).unwrap())
            .filter(|t| t["expires"].as_i64().unwrap() <= now)
            .count()
    };
    assert_eq!(
        expired(),
        1,
        "the short token's verifier is kept until then"
    );
    one(&admin, "SELECT mosaic.issue_token('app', 'read', 60)").await;
    assert_eq!(expired(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_logs_in_with_a_token_over_tls_with_channel_binding() {
    let node = TestNode::start_with(&["--tls", "self-signed"]);
    let admin = node.client().await;
    admin
        .batch_execute("CREATE ROLE svc LOGIN")
        .await
        .expect("a role without a password");
    let token = one(&admin, "SELECT mosaic.issue_token('svc', 'read', 600)").await;
    let (host, port) = node.pg_addr().rsplit_once(':').expect("host:port");
    let conn = format!(
        "host={host} port={port} user=svc dbname=mosaic sslmode=require channel_binding=require"
    );
    let out = Command::new("psql")
        .args([&conn, "-X", "-A", "-t", "-c", "SELECT current_user"])
        .env("PGPASSWORD", &token)
        .output()
        .expect("run psql (scripts/install-test-deps.sh installs it)");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "svc");
}
