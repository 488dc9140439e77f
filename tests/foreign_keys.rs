//! FOREIGN KEYs across nodes: parent rows on one node, child rows on
//! another, sealed and unsealed, with no copies (replication factor 1, no
//! edge cache), so every check has to reach the other node.

mod common;

use common::{simple_rows, start_cluster};

/// The SQLSTATE, message and DETAIL of a statement that must fail.
async fn failure(client: &tokio_postgres::Client, sql: &str) -> (String, String, String) {
    let e = client
        .simple_query(sql)
        .await
        .err()
        .unwrap_or_else(|| panic!("{sql}: did not fail"));
    let db = e
        .as_db_error()
        .unwrap_or_else(|| panic!("{sql}: not a server error: {e}"));
    (
        db.code().code().to_string(),
        db.message().to_string(),
        db.detail().unwrap_or_default().to_string(),
    )
}

async fn copy_rows(
    client: &tokio_postgres::Client,
    sql: &str,
    data: &str,
) -> Result<u64, tokio_postgres::Error> {
    use futures::SinkExt;
    let sink = client.copy_in(sql).await?;
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from(data.to_string())).await?;
    sink.as_mut().finish().await
}

async fn count(client: &tokio_postgres::Client, sql: &str) -> String {
    simple_rows(client, sql).await[0][0]
        .clone()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn parents_and_children_on_different_nodes() {
    let nodes = start_cluster(
        &["f1", "f2"],
        &[
            "--shard-max-rows",
            "1000",
            "--replication-factor",
            "1",
            "--edge-cache-bytes",
            "0",
        ],
    )
    .await;
    let (a, b) = (nodes[0].client().await, nodes[1].client().await);
    a.batch_execute(
        "CREATE TABLE fk_parent (id int PRIMARY KEY, name text);
         CREATE TABLE fk_child (id int PRIMARY KEY, pid int REFERENCES fk_parent ON DELETE CASCADE ON UPDATE CASCADE);
         CREATE TABLE fk_strict (id int PRIMARY KEY, pid int REFERENCES fk_parent)",
    )
    .await
    .unwrap();
    // f1 holds parents 1..=10 sealed and 11..=13 unsealed.
    a.batch_execute("INSERT INTO fk_parent SELECT g, 'p' || g FROM generate_series(1, 10) g")
        .await
        .unwrap();
    simple_rows(&a, "SELECT mosaic.seal('fk_parent')").await;
    a.batch_execute("INSERT INTO fk_parent SELECT g, 'p' || g FROM generate_series(11, 13) g")
        .await
        .unwrap();

    // Children inserted on f2 find their parents on f1, sealed or not.
    b.batch_execute("INSERT INTO fk_child VALUES (1, 5), (2, 12), (3, NULL)")
        .await
        .unwrap();
    b.batch_execute("INSERT INTO fk_strict VALUES (1, 3), (2, 11)")
        .await
        .unwrap();
    simple_rows(&b, "SELECT mosaic.seal('fk_strict')").await;
    b.batch_execute("INSERT INTO fk_strict VALUES (3, 13)")
        .await
        .unwrap();
    // A missing parent fails, on either node.
    for c in [&a, &b] {
        let (code, message, detail) = failure(c, "INSERT INTO fk_child VALUES (9, 99)").await;
        assert_eq!(code, "23503");
        assert_eq!(
            message,
            "insert or update on table \"fk_child\" violates foreign key constraint \"fk_child_pid_fkey\""
        );
        assert_eq!(
            detail,
            "Key (pid)=(99) is not present in table \"fk_parent\"."
        );
    }
    let (code, _, detail) = failure(&b, "UPDATE fk_strict SET pid = 77 WHERE id = 1").await;
    assert_eq!(
        (code.as_str(), detail.as_str()),
        (
            "23503",
            "Key (pid)=(77) is not present in table \"fk_parent\"."
        )
    );

    // COPY FROM checks its rows too.
    copy_rows(&b, "COPY fk_strict FROM STDIN", "4\t7\n5\t12\n")
        .await
        .expect("COPY of rows whose parents are on f1");
    let e = copy_rows(&b, "COPY fk_strict FROM STDIN", "6\t1000\n")
        .await
        .expect_err("COPY of a row without its parent");
    let db = e.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "23503");
    assert_eq!(
        db.detail(),
        Some("Key (pid)=(1000) is not present in table \"fk_parent\".")
    );
    b.batch_execute("DELETE FROM fk_strict WHERE id IN (4, 5)")
        .await
        .unwrap();

    // Deleting a parent on f1 that f2's rows reference fails, whether the
    // child row is sealed there (3, 11) or not (13), and from either node.
    for (c, id) in [(&a, 3), (&a, 11), (&b, 13), (&b, 3)] {
        let (code, message, detail) =
            failure(c, &format!("DELETE FROM fk_parent WHERE id = {id}")).await;
        assert_eq!(code, "23503");
        assert_eq!(
            message,
            "update or delete on table \"fk_parent\" violates foreign key constraint \"fk_strict_pid_fkey\" on table \"fk_strict\""
        );
        assert_eq!(
            detail,
            format!("Key (id)=({id}) is still referenced from table \"fk_strict\".")
        );
    }
    assert_eq!(count(&b, "SELECT count(*) FROM fk_parent").await, "13");

    // An unreferenced parent goes; a referenced one cascades to f2's rows.
    a.batch_execute("DELETE FROM fk_parent WHERE id IN (1, 2)")
        .await
        .unwrap();
    a.batch_execute("UPDATE fk_parent SET id = 105 WHERE id = 5")
        .await
        .unwrap();
    assert_eq!(
        count(&b, "SELECT pid FROM fk_child WHERE id = 1").await,
        "105"
    );
    b.batch_execute("DELETE FROM fk_parent WHERE id IN (105, 12)")
        .await
        .unwrap();
    for c in [&a, &b] {
        assert_eq!(count(c, "SELECT count(*) FROM fk_child").await, "1");
        assert_eq!(count(c, "SELECT count(*) FROM fk_parent").await, "9");
    }
}
