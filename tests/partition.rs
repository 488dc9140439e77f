//! Real partitions: one node's cluster traffic dropped with iptables on
//! loopback, writes of the same keys on both sides, then the heal. After
//! it every node holds one version per primary key, the newest by hybrid
//! logical clock (a delete counting as a version), and `mosaic.conflicts`
//! names what lost, on every node.
//!
//! Needs root and iptables (`scripts/install-test-deps.sh` installs it);
//! a machine where the rules cannot be made fails this test, it does not
//! skip it.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{simple_rows, start_cluster, wait_rows, wait_state, TestNode};

/// iptables rules dropping every packet to or from one node's cluster
/// port (UDP gossip both ways, TCP connections to its RPC), removed on
/// drop.
struct Cut {
    rules: Vec<Vec<String>>,
}

impl Cut {
    fn node(node: &TestNode) -> Cut {
        let port = node
            .cluster_addr()
            .rsplit(':')
            .next()
            .expect("cluster port")
            .to_string();
        let rule = |proto: &str, dir: &str| {
            ["INPUT", "-p", proto, dir, &port, "-j", "DROP"]
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        };
        let rules = vec![
            rule("udp", "--dport"),
            rule("udp", "--sport"),
            rule("tcp", "--dport"),
        ];
        for r in &rules {
            iptables("-I", r);
        }
        Cut { rules }
    }
}

impl Drop for Cut {
    fn drop(&mut self) {
        for r in &self.rules {
            let _ = Command::new("iptables").arg("-D").args(r).status();
        }
    }
}

fn iptables(action: &str, rule: &[String]) {
    let out = Command::new("iptables")
        .arg(action)
        .args(rule)
        .output()
        .unwrap_or_else(|e| panic!("cannot make a partition: iptables did not run: {e}"));
    assert!(
        out.status.success(),
        "cannot make a partition: iptables {action} {rule:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn exec(client: &tokio_postgres::Client, sql: &str) {
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    // Versions a few milliseconds apart order the same way on every clock.
    tokio::time::sleep(Duration::from_millis(20)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_on_both_sides_of_a_split_settle_to_the_newest() {
    let names = ["split-1", "split-2", "split-3"];
    let nodes = start_cluster(&names, &["--replication-factor", "3"]).await;
    let a = nodes[0].client().await;
    let b = nodes[1].client().await;
    let c = nodes[2].client().await;
    exec(&a, "CREATE TABLE t (id int PRIMARY KEY, v text)").await;
    exec(
        &a,
        "INSERT INTO t SELECT g, 'base' FROM generate_series(1, 6) g",
    )
    .await;
    exec(&a, "SELECT mosaic.seal('t')").await;
    exec(&a, "CREATE TABLE u (id int PRIMARY KEY, email text UNIQUE)").await;
    // The cut-off node reads the rows from its own copy.
    for r in simple_rows(
        &a,
        "SELECT shard_id FROM mosaic.shards WHERE table_name = 't'",
    )
    .await
    {
        let id = r[0].clone().expect("shard id");
        exec(&c, &format!("SELECT mosaic.replicate('{id}')")).await;
    }

    let cut = Cut::node(&nodes[2]);
    wait_state(&a, "split-3", "down").await;
    wait_state(&b, "split-3", "down").await;
    wait_state(&c, "split-1", "down").await;
    wait_state(&c, "split-2", "down").await;

    // id 1: both update, split-3 last; id 2: both update, split-1 last;
    // id 3: split-1 deletes, then split-3 updates; id 4: split-3 updates,
    // then split-1 deletes; id 10: both insert, split-3 last; id 11 and
    // 12: one side only.
    exec(&a, "UPDATE t SET v = 'a' WHERE id = 1").await;
    exec(&c, "UPDATE t SET v = 'c' WHERE id = 1").await;
    exec(&c, "UPDATE t SET v = 'c' WHERE id = 2").await;
    exec(&b, "UPDATE t SET v = 'b' WHERE id = 2").await;
    exec(&a, "DELETE FROM t WHERE id = 3").await;
    exec(&c, "UPDATE t SET v = 'c' WHERE id = 3").await;
    exec(&c, "UPDATE t SET v = 'c' WHERE id = 4").await;
    exec(&b, "DELETE FROM t WHERE id = 4").await;
    exec(&a, "INSERT INTO t VALUES (10, 'a')").await;
    exec(&c, "INSERT INTO t VALUES (10, 'c')").await;
    exec(&b, "INSERT INTO t VALUES (11, 'b')").await;
    exec(&c, "INSERT INTO t VALUES (12, 'c')").await;
    // A UNIQUE column: two rows with one email, split-3's last.
    exec(
        &a,
        "INSERT INTO u VALUES (1, 'x@example.com'), (3, 'z@example.com')",
    )
    .await;
    exec(&c, "INSERT INTO u VALUES (2, 'x@example.com')").await;
    // One table name created on both sides, split-3's last: it replaces
    // split-1's everywhere, and split-1's rows are kept as conflicts.
    exec(&a, "CREATE TABLE d (id int PRIMARY KEY, a int)").await;
    exec(&a, "INSERT INTO d VALUES (1, 10), (2, 20)").await;
    exec(&c, "CREATE TABLE d (id int PRIMARY KEY, b text)").await;
    exec(&c, "INSERT INTO d VALUES (1, 'x')").await;
    // Each side sees its own writes.
    wait_rows(&c, "SELECT v FROM t WHERE id = 1", &["c"]).await;
    wait_rows(&a, "SELECT count(*) FROM t WHERE id = 10", &["1"]).await;

    drop(cut);
    for client in [&a, &b, &c] {
        wait_rows(
            client,
            "SELECT count(*) FROM mosaic.nodes WHERE state = 'alive' AND NOT is_self",
            &["2"],
        )
        .await;
    }
    let want = "1:c,2:b,3:c,5:base,6:base,10:c,11:b,12:c";
    for client in [&a, &b, &c] {
        wait_rows(
            client,
            "SELECT string_agg(id || ':' || v, ',' ORDER BY id), count(*) = count(DISTINCT id) FROM t",
            &[want, "t"],
        )
        .await;
    }

    for client in [&a, &b, &c] {
        wait_rows(
            client,
            "SELECT string_agg(id || ':' || email, ',' ORDER BY id) FROM u",
            &["2:x@example.com,3:z@example.com"],
        )
        .await;
    }

    for client in [&a, &b, &c] {
        wait_rows(
            client,
            "SELECT (SELECT string_agg(column_name, ',' ORDER BY ordinal_position) \
             FROM information_schema.columns WHERE table_name = 'd'), \
             (SELECT string_agg(id || ':' || b, ',') FROM d), \
             (SELECT string_agg(loser_row::text || ' ' || loser_node || ' ' || reason, '; ' \
                 ORDER BY loser_row->>'id') FROM mosaic.conflicts WHERE table_name = 'd')",
            &[
                "id,b",
                "1:x",
                r#"{"a": 10, "id": 1} split-1 table created again; {"a": 20, "id": 2} split-1 table created again"#,
            ],
        )
        .await;
    }

    // What lost, as every node lists it: split-1's id 1 and id 10,
    // split-3's id 2 and id 4, and split-1's delete of id 3.
    let conflicts = "SELECT string_agg(key->>'id' || ':' || loser_node || ':' \
        || coalesce(loser_row->>'v', 'deleted') || '>' || winner_node || ':' \
        || coalesce(winner_row->>'v', 'deleted'), ',' ORDER BY (key->>'id')::int) \
        FROM mosaic.conflicts WHERE table_name = 't'";
    let lost = "1:split-1:a>split-3:c,2:split-3:c>split-2:b,3:split-1:deleted>split-3:c,\
        4:split-3:c>split-2:deleted,10:split-1:a>split-3:c";
    for client in [&a, &b, &c] {
        wait_rows(client, conflicts, &[lost]).await;
    }
    let unique = "SELECT key::text || ' ' || loser_row::text || ' ' || winner_node \
        FROM mosaic.conflicts WHERE table_name = 'u'";
    for client in [&a, &b, &c] {
        wait_rows(
            client,
            unique,
            &[r#"{"email": "x@example.com"} {"id": 1, "email": "x@example.com"} split-3"#],
        )
        .await;
    }
    // The versions are ordered as the writes were.
    let order = simple_rows(
        &b,
        "SELECT bool_and(loser_version < winner_version) FROM mosaic.conflicts",
    )
    .await;
    assert_eq!(order, vec![vec![Some("t".to_string())]]);
}

/// Two nodes inserting the same keys at the same moment (all members up):
/// each key ends up once, holding the value of the one insert that was
/// acknowledged; the other got PostgreSQL's 23505 or, when both asked each
/// other at once, 40001.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_inserts_of_one_key_on_two_nodes_keep_one_row() {
    let nodes = start_cluster(&["race-1", "race-2"], &[]).await;
    let a = nodes[0].client().await;
    exec(&a, "CREATE TABLE r (id int PRIMARY KEY, v text)").await;
    const KEYS: i32 = 150;
    let mut runs = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let client = node.client().await;
        let tag = ["a", "b"][i];
        runs.push(tokio::spawn(async move {
            let mut won = Vec::new();
            for k in 0..KEYS {
                match client
                    .execute("INSERT INTO r VALUES ($1, $2)", &[&k, &tag])
                    .await
                {
                    Ok(_) => won.push(k),
                    Err(e) => {
                        let code = e.code().map(|c| c.code().to_string());
                        assert!(
                            matches!(code.as_deref(), Some("23505" | "40001")),
                            "insert of {k} on {tag}: {e:?}"
                        );
                    }
                }
            }
            (tag, won)
        }));
    }
    let mut acknowledged = std::collections::BTreeMap::new();
    for run in runs {
        let (tag, won) = run.await.expect("inserting task");
        for k in won {
            let before = acknowledged.insert(k, tag);
            assert!(before.is_none(), "key {k} acknowledged on both nodes");
        }
    }
    let want: String = acknowledged
        .iter()
        .map(|(k, t)| format!("{k}:{t}"))
        .collect::<Vec<_>>()
        .join(",");
    for node in &nodes {
        let client = node.client().await;
        wait_rows(
            &client,
            "SELECT coalesce(string_agg(id || ':' || v, ',' ORDER BY id), ''), count(*) = count(DISTINCT id) FROM r",
            &[&want, "t"],
        )
        .await;
    }
}
