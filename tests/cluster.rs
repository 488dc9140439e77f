//! Several real `mosaic` nodes on loopback forming one cluster: they find
//! each other (seed, DNS), spread DDL, answer queries over every node's
//! rows, notice a killed node, name what it held, and take it back after a
//! restart with nothing lost. Nodes with another cluster secret are kept
//! out, on gossip and on the RPC port.

mod common;

use std::time::{Duration, Instant};

use common::{
    client_with_notices, simple_rows, start_cluster, wait_alive, wait_rows, TestNode,
    CLUSTER_TIMEOUT as MEMBERSHIP_TIMEOUT,
};

fn value(v: i64) -> i64 {
    (v * 7) % 13
}

fn group(v: i64) -> &'static str {
    ["a", "b", "c"][(v % 3) as usize]
}

async fn insert_items(client: &tokio_postgres::Client, ids: std::ops::RangeInclusive<i64>) {
    for id in ids {
        client
            .execute(
                "INSERT INTO items (id, grp, v) VALUES ($1, $2, $3)",
                &[&(id as i32), &group(id), &(value(id) as i32)],
            )
            .await
            .unwrap_or_else(|e| panic!("insert {id}: {e}"));
    }
}

/// The answers every node must give over ids 1..=n.
async fn check_items(client: &tokio_postgres::Client, n: i64, node: &str) {
    let row = client
        .query_one("SELECT count(*), sum(v), min(id), max(id) FROM items", &[])
        .await
        .unwrap();
    let sum: i64 = (1..=n).map(value).sum();
    assert_eq!(row.get::<_, i64>(0), n, "count on {node}");
    assert_eq!(row.get::<_, i64>(1), sum, "sum on {node}");
    assert_eq!(row.get::<_, i32>(2), 1, "min on {node}");
    assert_eq!(row.get::<_, i32>(3), n as i32, "max on {node}");

    let rows = simple_rows(
        client,
        "SELECT grp, count(*), max(v) FROM items GROUP BY grp ORDER BY grp",
    )
    .await;
    let want: Vec<Vec<Option<String>>> = ["a", "b", "c"]
        .iter()
        .map(|g| {
            let ids: Vec<i64> = (1..=n).filter(|i| group(*i) == *g).collect();
            vec![
                Some(g.to_string()),
                Some(ids.len().to_string()),
                Some(ids.iter().map(|i| value(*i)).max().unwrap().to_string()),
            ]
        })
        .collect();
    assert_eq!(rows, want, "GROUP BY on {node}");

    let rows = simple_rows(client, "SELECT id FROM items ORDER BY v DESC, id LIMIT 4").await;
    let mut ids: Vec<i64> = (1..=n).collect();
    ids.sort_by_key(|i| (-value(*i), *i));
    let want: Vec<Vec<Option<String>>> =
        ids[..4].iter().map(|i| vec![Some(i.to_string())]).collect();
    assert_eq!(rows, want, "top-k on {node}");

    let rows = simple_rows(client, "SELECT DISTINCT grp FROM items ORDER BY 1").await;
    assert_eq!(rows.len(), 3, "DISTINCT on {node}");

    let rows = simple_rows(
        client,
        "SELECT g.label, count(*) FROM items i JOIN groups g ON g.grp = i.grp GROUP BY g.label ORDER BY 1",
    )
    .await;
    assert_eq!(rows.len(), 3, "join on {node}: {rows:?}");
    let total: i64 = rows
        .iter()
        .map(|r| r[1].as_deref().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(total, n, "join on {node}");

    let v: i32 = client
        .query_one("SELECT v FROM items WHERE id = $1", &[&((n / 2) as i32)])
        .await
        .unwrap()
        .get(0);
    assert_eq!(v as i64, value(n / 2), "point query on {node}");
    let c: i64 = client
        .query_one(
            "SELECT count(*) FROM items WHERE id > $1 AND grp = 'a'",
            &[&10i32],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        c,
        (11..=n).filter(|i| group(*i) == "a").count() as i64,
        "filtered count on {node}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn three_nodes_answer_as_one() {
    let nodes = start_cluster(&["n1", "n2", "n3"], &["--shard-max-rows", "10"]).await;
    let (a, b, c) = (
        nodes[0].client().await,
        nodes[1].client().await,
        nodes[2].client().await,
    );
    // DDL on one node is usable on the others at once.
    a.batch_execute(
        "CREATE TABLE items (id int PRIMARY KEY, grp text NOT NULL, v int NOT NULL);
         CREATE TABLE groups (grp text PRIMARY KEY, label text)",
    )
    .await
    .unwrap();
    insert_items(&b, 1..=35).await;
    insert_items(&c, 36..=70).await;
    insert_items(&a, 71..=100).await;
    c.batch_execute("INSERT INTO groups VALUES ('a', 'Alpha'), ('b', 'Beta'), ('c', 'Gamma')")
        .await
        .unwrap();
    for (client, name) in [(&a, "n1"), (&b, "n2"), (&c, "n3")] {
        check_items(client, 100, name).await;
    }

    // EXPLAIN names the peers a query goes to.
    let plan: Vec<String> = simple_rows(&a, "EXPLAIN SELECT grp, count(*) FROM items GROUP BY grp")
        .await
        .into_iter()
        .map(|r| r[0].clone().unwrap_or_default())
        .collect();
    let text = plan.join("\n");
    let asked: Vec<&String> = plan.iter().filter(|l| l.contains(" peers ")).collect();
    assert!(
        asked.iter().any(|l| l.contains("n2")) && asked.iter().any(|l| l.contains("n3")),
        "{text}"
    );

    // mosaic.seal seals every node's rows and returns once the registry
    // lists the new shards.
    simple_rows(&a, "SELECT mosaic.seal('items')").await;
    let rows = simple_rows(
        &a,
        "SELECT home_node, count(*), sum(row_count) FROM mosaic.shards WHERE table_name = 'items' GROUP BY home_node ORDER BY 1",
    )
    .await;
    let want: Vec<Vec<Option<String>>> = [("n1", 3, 30), ("n2", 4, 35), ("n3", 4, 35)]
        .iter()
        .map(|(n, c, r)| {
            vec![
                Some(n.to_string()),
                Some(c.to_string()),
                Some(r.to_string()),
            ]
        })
        .collect();
    assert_eq!(rows, want, "mosaic.shards after mosaic.seal");
    let holders = simple_rows(
        &a,
        "SELECT holders FROM mosaic.shards WHERE home_node = 'n3' LIMIT 1",
    )
    .await;
    // Its home holds it; copies (replication) may have joined it already.
    let holders = holders[0][0].clone().unwrap_or_default();
    assert!(
        holders
            .trim_matches(|c| c == '{' || c == '}')
            .split(',')
            .any(|h| h == "n3"),
        "{holders}"
    );

    // UPDATE and DELETE on any node reach rows wherever they live.
    let a_rows = (1..=100).filter(|i| group(*i) == "a").count() as u64;
    let n = a
        .execute("UPDATE items SET v = v + 100 WHERE grp = 'a'", &[])
        .await
        .unwrap();
    assert_eq!(n, a_rows);
    let n = c
        .execute("DELETE FROM items WHERE id <= 10", &[])
        .await
        .unwrap();
    assert_eq!(n, 10);
    let want_sum: i64 = (11..=100)
        .map(|i| value(i) + if group(i) == "a" { 100 } else { 0 })
        .sum();
    for (client, name) in [(&a, "n1"), (&b, "n2"), (&c, "n3")] {
        let row = client
            .query_one(
                "SELECT count(*), sum(v), count(*) FILTER (WHERE v >= 100) FROM items",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            row.get::<_, i64>(0),
            90,
            "count after UPDATE/DELETE on {name}"
        );
        assert_eq!(
            row.get::<_, i64>(1),
            want_sum,
            "sum after UPDATE/DELETE on {name}"
        );
        let updated = (11..=100).filter(|i| group(*i) == "a").count() as i64;
        assert_eq!(row.get::<_, i64>(2), updated, "updated rows on {name}");
    }

    // Inside a block: the block sees its own change at once, nobody else
    // does, and ROLLBACK takes it back.
    b.batch_execute("BEGIN; UPDATE items SET v = -1 WHERE id = 50")
        .await
        .unwrap();
    let rows = simple_rows(
        &b,
        "SELECT v, (SELECT count(*) FROM items) FROM items WHERE id = 50",
    )
    .await;
    assert_eq!(rows, vec![vec![Some("-1".into()), Some("90".into())]]);
    let n: i64 = b
        .query_one("SELECT count(*) FROM items", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 90, "no row twice inside the block");
    let v50: i32 = a
        .query_one("SELECT v FROM items WHERE id = 50", &[])
        .await
        .unwrap()
        .get(0);
    assert_ne!(v50, -1, "another node does not see an uncommitted UPDATE");
    b.batch_execute("ROLLBACK").await.unwrap();
    let again: i32 = b
        .query_one("SELECT v FROM items WHERE id = 50", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(again, v50);
    b.batch_execute("BEGIN; DELETE FROM items WHERE id = 60; COMMIT")
        .await
        .unwrap();
    for client in [&a, &b, &c] {
        let n: i64 = client
            .query_one("SELECT count(*) FROM items WHERE id BETWEEN 55 AND 65", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 10, "a committed DELETE is seen everywhere");
    }

    // serial columns hand out cluster-unique values on every node.
    a.batch_execute("CREATE TABLE serials (id serial PRIMARY KEY, note text)")
        .await
        .unwrap();
    for (client, name) in [(&a, "n1"), (&b, "n2"), (&c, "n3")] {
        for _ in 0..5 {
            client
                .execute("INSERT INTO serials (note) VALUES ($1)", &[&name])
                .await
                .unwrap_or_else(|e| panic!("serial insert on {name}: {:?}", e.as_db_error()));
        }
    }
    let rows = simple_rows(
        &b,
        "SELECT count(DISTINCT id), count(*), min(id) > 0 FROM serials",
    )
    .await;
    assert_eq!(
        rows,
        vec![vec![Some("15".into()), Some("15".into()), Some("t".into())]]
    );

    // TRUNCATE empties the table on every node.
    b.batch_execute("TRUNCATE items").await.unwrap();
    for client in [&a, &b, &c] {
        let n: i64 = client
            .query_one("SELECT count(*) FROM items", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_node_is_detected_named_and_rejoins() {
    // One copy of each shard: k3's shards are unreachable while it is down.
    let mut nodes = start_cluster(
        &["k1", "k2", "k3"],
        &["--shard-max-rows", "5", "--replication-factor", "1"],
    )
    .await;
    let a = nodes[0].client().await;
    a.batch_execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        .await
        .unwrap();
    {
        let c = nodes[2].client().await;
        for i in 1..=12 {
            c.execute("INSERT INTO t VALUES ($1, 'on k3')", &[&i])
                .await
                .unwrap();
        }
    }
    for i in 101..=105 {
        a.execute("INSERT INTO t VALUES ($1, 'on k1')", &[&i])
            .await
            .unwrap();
    }
    wait_rows(
        &a,
        "SELECT count(*) FROM mosaic.shards WHERE home_node = 'k3'",
        &["2"],
    )
    .await;
    let k3_shards: Vec<String> = simple_rows(
        &a,
        "SELECT shard_id FROM mosaic.shards WHERE home_node = 'k3'",
    )
    .await
    .into_iter()
    .map(|r| r[0].clone().unwrap())
    .collect();

    nodes[2].kill9();
    let killed = Instant::now();
    wait_rows(
        &a,
        "SELECT state FROM mosaic.nodes WHERE node_name = 'k3'",
        &["down"],
    )
    .await;
    eprintln!(
        "k3 was declared down {:.1} s after kill -9",
        killed.elapsed().as_secs_f64()
    );

    // A query needing k3's shards fails and names them.
    let err = a
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap_err();
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "58000", "{db:?}");
    for id in &k3_shards {
        assert!(
            db.message().contains(id.as_str()),
            "{} lacks {id}",
            db.message()
        );
    }
    // A query k3 has nothing for still works.
    let n: i64 = a
        .query_one("SELECT count(*) FROM mosaic.nodes", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 3);

    // With partial results on: what can be read, and a WARNING.
    let (p, mut notices) = client_with_notices(&nodes[0]).await;
    p.batch_execute("SET mosaic.partial_results = on")
        .await
        .unwrap();
    let n: i64 = p
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    // k1's five, and k3's two unsealed rows from the copy its buddy k1 keeps.
    assert_eq!(n, 7, "k1's rows and k3's unsealed ones are reachable");
    let warning = tokio::time::timeout(Duration::from_secs(5), notices.recv())
        .await
        .expect("a WARNING")
        .expect("a WARNING");
    assert!(warning.starts_with("WARNING"), "{warning}");
    assert!(warning.contains(&k3_shards[0]), "{warning}");

    // A node restarted while k3 is still down remembers what k3 held.
    nodes[1].restart();
    wait_alive(&nodes[1], 1).await;
    let b = nodes[1].client().await;
    let err = b
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap_err();
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "58000", "{db:?}");
    assert!(db.message().contains(&k3_shards[0]), "{}", db.message());

    // k3 comes back and nothing it committed is lost.
    nodes[2].restart();
    wait_rows(
        &a,
        "SELECT state FROM mosaic.nodes WHERE node_name = 'k3'",
        &["alive"],
    )
    .await;
    let n: i64 = a
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 17);
}

/// A loopback port free for both TCP and UDP right now.
fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn late_nodes_join_through_a_seed_and_through_dns() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let a = TestNode::start_with(&["--node-name", "d1", "--cluster-addr", &addr]);
    let b = TestNode::start_with(&[
        "--node-name",
        "d2",
        "--join",
        &addr,
        "--shard-max-rows",
        "4",
    ]);
    wait_alive(&a, 1).await;
    let ca = a.client().await;
    let cb = b.client().await;
    ca.batch_execute("CREATE TABLE late (id int, note text)")
        .await
        .unwrap();
    cb.batch_execute("INSERT INTO late SELECT g, 'from d2' FROM generate_series(1, 9) g")
        .await
        .unwrap();
    ca.batch_execute("INSERT INTO late VALUES (100, 'from d1')")
        .await
        .unwrap();

    // d3 knows no seed, only a DNS name that resolves to d1.
    let dns = format!("dns:localhost:{port}");
    let started = Instant::now();
    let c = TestNode::start_with(&["--node-name", "d3", "--discover", &dns]);
    wait_alive(&c, 2).await;
    eprintln!(
        "d3 started and found the cluster through DNS in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let cc = c.client().await;
    // The catalog caught up, and the whole cluster's rows are visible.
    wait_rows(&cc, "SELECT count(*) FROM late", &["10"]).await;
    // DDL on the newcomer reaches the others.
    cc.batch_execute("CREATE TABLE from_d3 (x int); INSERT INTO from_d3 VALUES (1), (2)")
        .await
        .unwrap();
    let n: i64 = cb
        .query_one("SELECT sum(x) FROM from_d3", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_bound_to_every_interface_advertises_the_address_peers_dial() {
    let port = free_port();
    let advertised = format!("127.0.0.1:{port}");
    let secret = "advertised secret";
    let a = TestNode::start_with(&[
        "--node-name",
        "w1",
        "--cluster-addr",
        &format!("0.0.0.0:{port}"),
        "--advertise-addr",
        &advertised,
        "--cluster-secret",
        secret,
    ]);
    let b = TestNode::start_with(&[
        "--node-name",
        "w2",
        "--join",
        &advertised,
        "--cluster-secret",
        secret,
    ]);
    wait_alive(&a, 1).await;
    wait_alive(&b, 1).await;
    let cb = b.client().await;
    let rows = simple_rows(
        &cb,
        "SELECT cluster_addr FROM mosaic.nodes WHERE node_name = 'w1'",
    )
    .await;
    assert_eq!(rows[0][0].as_deref(), Some(advertised.as_str()));
    cb.batch_execute("CREATE TABLE wide (x int)").await.unwrap();
    let ca = a.client().await;
    wait_rows(&ca, "SELECT count(*) FROM wide", &["0"]).await;
    ca.batch_execute("INSERT INTO wide VALUES (1), (2)")
        .await
        .unwrap();
    wait_rows(&cb, "SELECT sum(x) FROM wide", &["3"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nodes_without_the_secret_are_kept_out() {
    let a = TestNode::start_with(&["--node-name", "s1", "--cluster-secret", "right secret"]);
    let intruder = TestNode::start_with(&[
        "--node-name",
        "s2",
        "--cluster-secret",
        "wrong secret",
        "--join",
        a.cluster_addr(),
    ]);
    let ca = a.client().await;
    ca.batch_execute("CREATE TABLE secret_rows (x int); INSERT INTO secret_rows VALUES (42)")
        .await
        .unwrap();
    // Several probe periods: gossip from the intruder never makes it a member.
    tokio::time::sleep(Duration::from_secs(4)).await;
    for node in [&a, &intruder] {
        let rows = simple_rows(&node.client().await, "SELECT count(*) FROM mosaic.nodes").await;
        assert_eq!(
            rows[0][0].as_deref(),
            Some("1"),
            "{} has company",
            node.pg_addr()
        );
    }
    let err = intruder
        .client()
        .await
        .query_one("SELECT * FROM secret_rows", &[])
        .await
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("42P01"));

    // An RPC connection that cannot prove the secret is closed.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(a.cluster_addr())
        .await
        .unwrap();
    let mut hello = vec![0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut hello)).await;
    let mut forged = vec![0u8, 0, 0, 64];
    forged.extend([7u8; 64]);
    let _ = tcp.write_all(&forged).await;
    let mut buf = vec![0u8; 4096];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert_eq!(
        closed,
        Ok(true),
        "the node kept a connection without the secret"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_and_statement_timeout_reach_the_peers() {
    let nodes = start_cluster(&["t1", "t2"], &[]).await;
    let (a, b) = (nodes[0].client().await, nodes[1].client().await);
    a.batch_execute("CREATE TABLE big (id int, note text)")
        .await
        .unwrap();
    // All rows on t2: the work of the query below is t2's.
    b.batch_execute("INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, 150000) g")
        .await
        .unwrap();
    let slow = "SELECT count(*) FROM big WHERE (id * 7) % 13 = 5 AND note LIKE '%row%'";
    let want = (1..=150000i64).filter(|i| (i * 7) % 13 == 5).count() as i64;

    a.batch_execute("SET statement_timeout = 20").await.unwrap();
    let err = a.query_one(slow, &[]).await.unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("57014"), "{err}");

    a.batch_execute("RESET statement_timeout").await.unwrap();
    // A cancel sent 30 ms into the query; on a loaded machine it may come
    // after the query ended (then the answer must be right), so a few
    // tries, one of which must be canceled.
    let mut canceled = false;
    for _ in 0..5 {
        let cancel = a.cancel_token();
        let canceller = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            cancel.cancel_query(tokio_postgres::NoTls).await
        });
        let r = a.query_one(slow, &[]).await;
        canceller.await.unwrap().unwrap();
        match r {
            Ok(row) => assert_eq!(row.get::<_, i64>(0), want),
            Err(err) => {
                assert_eq!(err.code().map(|c| c.code()), Some("57014"), "{err}");
                canceled = true;
                break;
            }
        }
    }
    assert!(canceled, "no cancel reached the query in five tries");

    // Both nodes are fine afterwards, and the query completes untimed.
    for client in [&a, &b] {
        let n: i64 = client.query_one(slow, &[]).await.unwrap().get(0);
        assert_eq!(n, want);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delete_committed_while_the_rows_node_is_down_reaches_it_later() {
    let mut nodes = start_cluster(&["q1", "q2"], &["--shard-max-rows", "5"]).await;
    let a = nodes[0].client().await;
    a.batch_execute("CREATE TABLE kept (id int PRIMARY KEY, v text)")
        .await
        .unwrap();
    {
        let b = nodes[1].client().await;
        b.batch_execute("INSERT INTO kept SELECT g, 'on q2' FROM generate_series(1, 10) g")
            .await
            .unwrap();
    }
    // The block deletes q2's rows, then q2 dies before COMMIT: the
    // tombstones commit on q1 and wait there for q2.
    a.batch_execute("BEGIN; DELETE FROM kept WHERE id <= 3")
        .await
        .unwrap();
    nodes[1].kill9();
    a.batch_execute("COMMIT").await.unwrap();
    nodes[1].restart();
    wait_rows(
        &a,
        "SELECT state FROM mosaic.nodes WHERE node_name = 'q2'",
        &["alive"],
    )
    .await;
    // q2 itself, asked directly, learns of the delete once the queued
    // tombstones are delivered (within an anti-entropy round).
    let b = nodes[1].client().await;
    wait_rows(&b, "SELECT count(*) FROM kept", &["7"]).await;
    let rows = simple_rows(&b, "SELECT min(id) FROM kept").await;
    assert_eq!(rows[0][0].as_deref(), Some("4"));
    let n: i64 = a
        .query_one("SELECT count(*) FROM kept", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_point_query_asks_only_the_peers_that_may_hold_the_row() {
    // No copies anywhere: each shard is read where it was sealed.
    let nodes = start_cluster(
        &["p1", "p2", "p3"],
        &[
            "--shard-max-rows",
            "10",
            "--replication-factor",
            "1",
            "--edge-cache-bytes",
            "0",
        ],
    )
    .await;
    let clients = [
        nodes[0].client().await,
        nodes[1].client().await,
        nodes[2].client().await,
    ];
    clients[0]
        .batch_execute("CREATE TABLE pts (id int PRIMARY KEY, v text)")
        .await
        .unwrap();
    // Node i holds ids 100*i+1 ..= 100*i+30, sealed.
    for (i, c) in clients.iter().enumerate() {
        let lo = 100 * i as i32 + 1;
        c.execute(
            "INSERT INTO pts SELECT g, 'v' || g FROM generate_series($1::int, $1::int + 29) g",
            &[&lo],
        )
        .await
        .unwrap();
    }
    simple_rows(&clients[0], "SELECT mosaic.seal('pts')").await;

    // Once p1 has the shards' metadata, a point query on p2's rows asks
    // p2 alone.
    let explain = "EXPLAIN SELECT v FROM pts WHERE id = 115";
    let start = Instant::now();
    let plan = loop {
        let plan: Vec<String> = simple_rows(&clients[0], explain)
            .await
            .into_iter()
            .map(|r| r[0].clone().unwrap_or_default())
            .collect();
        let plan = plan.join("\n");
        if plan.contains("Remote pts: peers p2 ") {
            break plan;
        }
        assert!(
            start.elapsed() < MEMBERSHIP_TIMEOUT,
            "p1 still asks more than p2:\n{plan}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // (Shard ids, which the plan prints too, may hold "p3" by chance.)
    let asked: Vec<&str> = plan.lines().filter(|l| l.contains(" peers ")).collect();
    assert!(!asked.iter().any(|l| l.contains("p3")), "{plan}");
    // An id no node holds asks no peer at all.
    let plan: Vec<String> = simple_rows(&clients[0], "EXPLAIN SELECT v FROM pts WHERE id = 5000")
        .await
        .into_iter()
        .map(|r| r[0].clone().unwrap_or_default())
        .collect();
    assert!(
        plan.iter().any(|l| l.contains("none asked")),
        "{}",
        plan.join("\n")
    );

    // Every node finds every row, and the aggregates agree.
    for c in &clients {
        for id in [1, 30, 101, 115, 230, 5000] {
            let rows = c
                .query("SELECT v FROM pts WHERE id = $1", &[&id])
                .await
                .unwrap();
            let want = (id % 100 >= 1 && id % 100 <= 30 && id < 300) as usize;
            assert_eq!(rows.len(), want, "id {id}");
        }
        let n: i64 = c
            .query_one("SELECT count(*) FROM pts WHERE id > 100", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 60);
    }

    // EXPLAIN ANALYZE runs it: the rows of each peer asked, and all of them.
    let plan: Vec<String> = simple_rows(
        &clients[0],
        "EXPLAIN ANALYZE SELECT v FROM pts WHERE id > 100",
    )
    .await
    .into_iter()
    .map(|r| r[0].clone().unwrap_or_default())
    .collect();
    let text = plan.join("\n");
    assert!(plan.iter().any(|l| l == "Rows: 60"), "{text}");
    for remote in plan.iter().filter(|l| l.starts_with("Remote pts: peers ")) {
        let rest = &remote["Remote pts: peers ".len()..];
        let peers = &rest[..rest.find(" each").unwrap_or(rest.len())];
        for p in peers.split(", ") {
            assert!(
                plan.iter()
                    .any(|l| l.starts_with(&format!("Actual: peer {p}: "))),
                "{p} asked, no rows counted:\n{text}"
            );
        }
    }

    // A row inserted on p3 is found through p1 at once. (p3 tells its peers
    // it holds unsealed rows of pts before the INSERT returns; on loopback
    // gossip is usually as quick, so this checks the answer, not which of
    // the two delivered the news.)
    for id in 1000..1010 {
        clients[2]
            .execute("INSERT INTO pts VALUES ($1, 'fresh')", &[&id])
            .await
            .unwrap();
        let rows = clients[0]
            .query("SELECT v FROM pts WHERE id = $1", &[&id])
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "fresh row {id} through p1");
        clients[2]
            .batch_execute("SELECT mosaic.seal('pts')")
            .await
            .unwrap();
    }
}
