//! Shard replication: every sealed shard is kept on `--replication-factor`
//! live nodes (its home plus the next ones in rendezvous order), so a query
//! over sealed rows still answers when their home is down; deletes reach
//! every holder, the home too once it is back; `mosaic.replicate` copies a
//! shard on demand; rows a dead node never sealed are named as missing.
//!
//! Node names carry a hyphen, which no shard id (lowercase base32) has, so
//! a name found in a message is the node's and not part of an id.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{
    client_with_notices, start_cluster, try_simple_rows, wait_alive, wait_rows, wait_state,
    TestNode, CLUSTER_TIMEOUT,
};

/// Create `t (id int PRIMARY KEY, v text)` through the first node, insert
/// ids 1..=`rows` through `nodes[home]` (named `name`) and seal them there.
async fn sealed_table_on(nodes: &[TestNode], home: usize, name: &str, rows: i32) {
    nodes[0]
        .client()
        .await
        .batch_execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        .await
        .unwrap();
    let c = nodes[home].client().await;
    c.execute(
        "INSERT INTO t SELECT g, 'on ' || $2::text FROM generate_series(1, $1::int) g",
        &[&rows, &name],
    )
    .await
    .unwrap();
    must_answer(&c, name, "SELECT mosaic.seal('t')").await;
}

/// One row of `mosaic.shards`, holders parsed from the text[] text form.
#[derive(Debug, Clone)]
struct Shard {
    id: String,
    home: String,
    row_count: i64,
    holders: Vec<String>,
}

/// The elements of a one-dimensional text[] in PostgreSQL's text form
/// (`{a,"b c"}`); NULL and `{}` are empty.
fn parse_text_array(text: Option<&str>) -> Vec<String> {
    let Some(text) = text else {
        return vec![];
    };
    let inner = text
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or_else(|| panic!("not a text[] in text form: {text:?}"));
    if inner.is_empty() {
        return vec![];
    }
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => cur.extend(chars.next()),
            ',' if !quoted => items.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    items.push(cur);
    items
}

/// The shards of `table` that `client`'s node knows, by shard id.
async fn shards_of(client: &tokio_postgres::Client, table: &str) -> Result<Vec<Shard>, String> {
    let rows = try_simple_rows(
        client,
        &format!(
            "SELECT shard_id, home_node, row_count, holders FROM mosaic.shards \
             WHERE table_name = '{table}' ORDER BY shard_id"
        ),
    )
    .await?;
    rows.into_iter()
        .map(|r| {
            let text = |i: usize| r[i].clone().unwrap_or_else(|| "NULL".into());
            Ok(Shard {
                id: text(0),
                home: text(1),
                row_count: text(2)
                    .parse()
                    .map_err(|e| format!("row_count {:?}: {e} in {r:?}", r[2]))?,
                holders: parse_text_array(r[3].as_deref()),
            })
        })
        .collect()
}

/// Poll the shards of `table` on `client`'s node until `ok` holds for
/// them; returns them. Panics after [`CLUSTER_TIMEOUT`] naming `what` and showing
/// the last answer.
async fn wait_shards(
    client: &tokio_postgres::Client,
    node: &str,
    table: &str,
    what: &str,
    ok: impl Fn(&[Shard]) -> bool,
) -> Vec<Shard> {
    let start = Instant::now();
    loop {
        let got = shards_of(client, table).await;
        if let Ok(shards) = &got {
            if ok(shards) {
                return shards.clone();
            }
        }
        assert!(
            start.elapsed() < CLUSTER_TIMEOUT,
            "on {node}, the shards of {table} never got {what} within {CLUSTER_TIMEOUT:?}; last: {got:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The names of the nodes `client`'s node sees alive (itself included).
async fn alive_names(client: &tokio_postgres::Client) -> BTreeSet<String> {
    let sql = "SELECT node_name FROM mosaic.nodes WHERE state = 'alive'";
    try_simple_rows(client, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|r| r[0].clone())
        .collect()
}

/// Run `sql`, which must succeed, and return its rows.
async fn must_answer(
    client: &tokio_postgres::Client,
    node: &str,
    sql: &str,
) -> Vec<Vec<Option<String>>> {
    try_simple_rows(client, sql)
        .await
        .unwrap_or_else(|e| panic!("on {node}, {sql} failed: {e}"))
}

fn row(values: &[&str]) -> Vec<Vec<Option<String>>> {
    vec![values.iter().map(|v| Some(v.to_string())).collect()]
}

#[tokio::test(flavor = "multi_thread")]
async fn sealed_shards_get_copies_and_outlive_their_home() {
    let names = ["copy-1", "copy-2", "copy-3"];
    let mut nodes = start_cluster(&names, &["--shard-max-rows", "5"]).await;
    let a = nodes[0].client().await;
    let b = nodes[1].client().await;
    sealed_table_on(&nodes, 2, "copy-3", 20).await;

    // Every shard of t, all homed on copy-3, gets a second holder; both
    // survivors-to-be know it before copy-3 dies.
    let mut before = Vec::new();
    for (client, name) in [(&a, names[0]), (&b, names[1])] {
        before = wait_shards(client, name, "t", "20 rows, each shard on 2+ nodes", |s| {
            !s.is_empty()
                && s.iter().map(|x| x.row_count).sum::<i64>() == 20
                && s.iter().all(|x| x.holders.len() >= 2)
        })
        .await;
        for s in &before {
            assert_eq!(s.home, "copy-3", "home of a shard on {name}: {before:#?}");
            assert!(
                s.holders.iter().any(|h| h == "copy-3"),
                "the home is among the holders on {name}: {before:#?}"
            );
        }
    }
    eprintln!("shards of t before the kill: {before:#?}");

    nodes[2].kill9();
    let killed = Instant::now();
    // At once, before membership notices: the query finds copy-3 silent
    // and runs again, reading copy-3's shards from their copies.
    let sql = "SELECT count(*), sum(id) FROM t";
    let rows = must_answer(&a, names[0], sql).await;
    assert_eq!(
        rows,
        row(&["20", "210"]),
        "{sql} right after kill -9 of copy-3"
    );
    // A write at that moment too: the UPDATE finds copy-3 silent, and runs
    // again over the copies.
    let n = b
        .execute("UPDATE t SET v = 'moved' WHERE id = 20", &[])
        .await
        .unwrap_or_else(|e| panic!("UPDATE right after kill -9 of copy-3: {e:?}"));
    assert_eq!(n, 1, "rows updated right after kill -9 of copy-3");
    for client in [&a, &b] {
        assert!(
            alive_names(client).await.contains("copy-3"),
            "this checks the moment before membership notices; it noticed already"
        );
    }
    wait_state(&a, "copy-3", "down").await;
    wait_state(&b, "copy-3", "down").await;
    eprintln!(
        "copy-3 declared down on both survivors {:.1} s after kill -9",
        killed.elapsed().as_secs_f64()
    );

    // Every row of copy-3 was sealed and copied: the replicas answer.
    let sql = "SELECT count(*), sum(id) FROM t";
    for (client, name) in [(&a, names[0]), (&b, names[1])] {
        let rows = must_answer(client, name, sql).await;
        assert_eq!(
            rows,
            row(&["20", "210"]),
            "{sql} on {name} with copy-3 down"
        );
    }

    // EXPLAIN names the copies read in place of copy-3's shards.
    let plan: Vec<String> = must_answer(&a, names[0], "EXPLAIN SELECT * FROM t WHERE v <> 'x'")
        .await
        .into_iter()
        .map(|r| r[0].clone().unwrap_or_default())
        .collect();
    let plan = plan.join("\n");
    assert!(
        plan.contains("copies read on node") && plan.contains("their home is not live"),
        "EXPLAIN with copy-3 down:\n{plan}"
    );

    // A DELETE while the home is down is applied on the replicas at once.
    let n = a
        .execute("DELETE FROM t WHERE id <= 4", &[])
        .await
        .unwrap_or_else(|e| panic!("DELETE with copy-3 down: {e:?}"));
    assert_eq!(n, 4, "rows deleted with copy-3 down");
    for (client, name) in [(&a, names[0]), (&b, names[1])] {
        let rows = must_answer(client, name, sql).await;
        assert_eq!(rows, row(&["16", "200"]), "{sql} on {name} after DELETE");
    }

    // The next nodes in rendezvous order pull copies: with copy-3 gone,
    // every shard of t is again on 2 live nodes.
    let start = Instant::now();
    loop {
        let alive = alive_names(&a).await;
        let got = shards_of(&a, "t").await;
        if let Ok(shards) = &got {
            let short: Vec<&Shard> = shards
                .iter()
                .filter(|s| s.holders.iter().filter(|h| alive.contains(*h)).count() < 2)
                .collect();
            if !shards.is_empty() && short.is_empty() {
                break;
            }
        }
        assert!(
            start.elapsed() < CLUSTER_TIMEOUT,
            "some shard of t is not on 2 alive nodes (alive: {alive:?}) after {CLUSTER_TIMEOUT:?}: {got:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // copy-3 comes back and learns of the DELETE it missed.
    nodes[2].restart();
    wait_alive(&nodes[2], 2).await;
    wait_state(&a, "copy-3", "alive").await;
    let c = nodes[2].client().await;
    wait_rows(&c, "SELECT count(*) FROM t", &["16"]).await;
    let rows = must_answer(&c, names[2], "SELECT sum(id), min(id) FROM t").await;
    assert_eq!(rows, row(&["200", "5"]), "copy-3 after its restart");
    let sql_v = "SELECT v FROM t WHERE id = 20";
    for (client, name) in [(&a, names[0]), (&c, names[2])] {
        let rows = must_answer(client, name, sql_v).await;
        assert_eq!(rows, row(&["moved"]), "{sql_v} on {name} after the restart");
    }
    for (client, name) in [(&a, names[0]), (&b, names[1])] {
        let rows = must_answer(client, name, sql).await;
        assert_eq!(
            rows,
            row(&["16", "200"]),
            "{sql} on {name} after copy-3 is back"
        );
    }

    // SQL's own count of holders agrees with the text[] as parsed here
    // (one query: copies may come and go between two).
    let rows = must_answer(
        &a,
        names[0],
        "SELECT holders, array_length(holders, 1) FROM mosaic.shards WHERE table_name = 't'",
    )
    .await;
    assert!(!rows.is_empty());
    for r in &rows {
        let parsed = parse_text_array(r[0].as_deref());
        assert_eq!(
            r[1].as_deref(),
            Some(parsed.len().to_string().as_str()),
            "array_length(holders, 1) vs {parsed:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn replicate_copies_a_shard_here_on_demand() {
    let mut nodes = start_cluster(
        &["ondemand-1", "ondemand-2"],
        &["--replication-factor", "1", "--shard-max-rows", "5"],
    )
    .await;
    let a = nodes[0].client().await;
    sealed_table_on(&nodes, 1, "ondemand-2", 10).await;

    // With one copy wanted, nothing is copied: the shards stay on their
    // home alone.
    let only_home = |s: &[Shard]| {
        !s.is_empty()
            && s.iter().map(|x| x.row_count).sum::<i64>() == 10
            && s.iter()
                .all(|x| x.home == "ondemand-2" && x.holders == ["ondemand-2"])
    };
    let shards = wait_shards(
        &a,
        "ondemand-1",
        "t",
        "10 rows on ondemand-2 only",
        only_home,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let later = shards_of(&a, "t").await.unwrap();
    assert!(
        only_home(&later),
        "with --replication-factor 1 a shard was copied: {later:#?}"
    );

    // mosaic.replicate copies each one here now, and only once.
    for s in &shards {
        let sql = format!("SELECT mosaic.replicate('{}')", s.id);
        let rows = must_answer(&a, "ondemand-1", &sql).await;
        assert_eq!(rows, row(&["t"],), "{sql}: first copy");
        let rows = must_answer(&a, "ondemand-1", &sql).await;
        assert_eq!(rows, row(&["f"]), "{sql}: already held");
    }
    let copied = shards_of(&a, "t").await.unwrap();
    assert_eq!(
        copied.iter().map(|s| &s.id).collect::<Vec<_>>(),
        shards.iter().map(|s| &s.id).collect::<Vec<_>>(),
        "the same shards after mosaic.replicate: {copied:#?}"
    );
    for s in &copied {
        assert_eq!(s.home, "ondemand-2", "home after a copy: {copied:#?}");
        assert!(
            s.holders.iter().any(|h| h == "ondemand-1")
                && s.holders.iter().any(|h| h == "ondemand-2"),
            "both nodes hold every shard after mosaic.replicate: {copied:#?}"
        );
    }

    let err = a
        .simple_query("SELECT mosaic.replicate('nosuchshard')")
        .await
        .expect_err("mosaic.replicate of an unknown shard");
    assert_eq!(
        err.code().map(|c| c.code()),
        Some("22023"),
        "mosaic.replicate('nosuchshard'): {err:?}"
    );

    // The home dies: the copies here answer.
    nodes[1].kill9();
    wait_state(&a, "ondemand-2", "down").await;
    let rows = must_answer(&a, "ondemand-1", "SELECT count(*), sum(id) FROM t").await;
    assert_eq!(
        rows,
        row(&["10", "55"]),
        "served from the copies on ondemand-1"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unsealed_rows_of_a_dead_node_are_named() {
    // Nothing seals on its own during the test: not by size, not by
    // idling; and no copy of the unsealed rows is kept elsewhere.
    let args = ["--seal-idle-secs", "3600", "--unsealed-copies", "false"];
    let mut nodes = start_cluster(&["unsealed-1", "unsealed-2"], &args).await;
    let a = nodes[0].client().await;
    a.batch_execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        .await
        .unwrap();
    {
        let b = nodes[1].client().await;
        b.batch_execute("INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, 'z')")
            .await
            .unwrap();
    }
    let rows = must_answer(&a, "unsealed-1", "SELECT count(*) FROM t").await;
    assert_eq!(rows, row(&["3"]), "count with both nodes up");
    let shards = shards_of(&a, "t").await.unwrap();
    assert!(shards.is_empty(), "nothing was sealed: {shards:#?}");

    // A node announces that it holds unsealed rows of a table as soon as
    // the first of them commits; give the announcement a moment to land
    // (a node that dies within that moment leaves its rows unnamed).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let err = try_simple_rows(&a, "SELECT mosaic.forget_node('unsealed-2')")
        .await
        .expect_err("forgetting a live node");
    assert!(err.starts_with("55000 "), "{err}");
    nodes[1].kill9();
    wait_state(&a, "unsealed-2", "down").await;

    // Open rows not copied: a query needing them fails and says whose.
    let got = try_simple_rows(&a, "SELECT count(*) FROM t").await;
    let err = got.expect_err("count(*) over the unsealed rows of a dead node");
    assert!(err.starts_with("58000 "), "SQLSTATE: {err}");
    assert!(
        err.contains("unsealed rows on node unsealed-2"),
        "the message names the unsealed rows on unsealed-2: {err}"
    );

    // With partial results on: what can be read (nothing), and a WARNING.
    let (p, mut notices) = client_with_notices(&nodes[0]).await;
    p.batch_execute("SET mosaic.partial_results = on")
        .await
        .unwrap();
    let rows = must_answer(&p, "unsealed-1", "SELECT count(*) FROM t").await;
    assert_eq!(rows, row(&["0"]), "partial count with unsealed-2 down");
    let warning = tokio::time::timeout(Duration::from_secs(5), notices.recv())
        .await
        .expect("a WARNING within 5 s")
        .expect("a WARNING");
    assert!(warning.starts_with("WARNING"), "{warning}");
    assert!(
        warning.contains("unsealed-2"),
        "the WARNING names unsealed-2: {warning}"
    );

    // A node gone for good is forgotten: its unsealed rows are given up
    // and queries stop failing for them. Only a node that is down can be.
    let err = try_simple_rows(&a, "SELECT mosaic.forget_node('unsealed-1')")
        .await
        .expect_err("a node forgetting itself");
    assert!(err.starts_with("22023 "), "{err}");
    let rows = must_answer(&a, "unsealed-1", "SELECT mosaic.forget_node('unsealed-2')").await;
    assert_eq!(rows, row(&["t"]), "forgetting unsealed-2");
    let rows = must_answer(&a, "unsealed-1", "SELECT count(*) FROM t").await;
    assert_eq!(rows, row(&["0"]), "count once unsealed-2 is forgotten");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_read_often_is_cached_where_it_is_read() {
    let args = ["--replication-factor", "1", "--shard-max-rows", "5"];
    let mut nodes = start_cluster(&["cache-1", "cache-2"], &args).await;
    // A third node with no room for cached copies.
    let seed = nodes[0].cluster_addr().to_string();
    let mut third = vec!["--node-name", "cache-3", "--join", &seed];
    third.extend_from_slice(&args);
    third.extend_from_slice(&["--edge-cache-bytes", "0"]);
    nodes.push(TestNode::start_with(&third));
    for n in &nodes {
        wait_alive(n, 2).await;
    }
    let a = nodes[0].client().await;
    let c = nodes[2].client().await;
    sealed_table_on(&nodes, 1, "cache-2", 10).await;
    let only_home = |s: &[Shard]| {
        !s.is_empty()
            && s.iter().map(|x| x.row_count).sum::<i64>() == 10
            && s.iter().all(|x| x.holders == ["cache-2"])
    };
    wait_shards(&a, "cache-1", "t", "one holder each, cache-2", only_home).await;

    // cache-1 and cache-3 keep reading t through cache-2.
    for _ in 0..10 {
        for (client, name) in [(&a, "cache-1"), (&c, "cache-3")] {
            let rows = must_answer(client, name, "SELECT count(*) FROM t").await;
            assert_eq!(rows, row(&["10"]), "count on {name}");
        }
    }
    // cache-1 takes copies of t's shards; cache-3 has no room for any.
    wait_shards(&a, "cache-1", "t", "a cached copy on cache-1", |s| {
        !s.is_empty() && s.iter().all(|x| x.holders.iter().any(|h| h == "cache-1"))
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let shards = shards_of(&a, "t").await.unwrap();
    assert!(
        shards
            .iter()
            .all(|x| !x.holders.iter().any(|h| h == "cache-3")),
        "cache-3 has --edge-cache-bytes 0: {shards:#?}"
    );

    // Cut off from cache-2, cache-1 answers from its cache; cache-3 cannot.
    nodes[1].kill9();
    wait_state(&a, "cache-2", "down").await;
    wait_state(&c, "cache-2", "down").await;
    let rows = must_answer(&a, "cache-1", "SELECT count(*), sum(id) FROM t").await;
    assert_eq!(rows, row(&["10", "55"]), "cache-1 answers from its cache");
    let rows = must_answer(&c, "cache-3", "SELECT count(*), sum(id) FROM t").await;
    assert_eq!(
        rows,
        row(&["10", "55"]),
        "cache-3 reads cache-1's copies of cache-2's shards"
    );
}

/// A node reads its own copies of other nodes' shards first; deletes,
/// compaction at the home and TRUNCATE keep the answers right.
#[tokio::test(flavor = "multi_thread")]
async fn local_copies_are_read_first_and_stay_right() {
    let names = ["local-1", "local-2"];
    let nodes = start_cluster(&names, &["--shard-max-rows", "10"]).await;
    let a = nodes[0].client().await;
    let b = nodes[1].client().await;
    sealed_table_on(&nodes, 1, names[1], 40).await;
    // With 2 nodes and a replication factor of 2, local-1 copies every shard.
    wait_shards(&a, names[0], "t", "a copy of every shard on local-1", |s| {
        s.iter().map(|x| x.row_count).sum::<i64>() == 40
            && s.iter().all(|x| x.holders.iter().any(|h| h == names[0]))
    })
    .await;
    let plan: Vec<String> = must_answer(&a, names[0], "EXPLAIN SELECT v FROM t WHERE id = 15")
        .await
        .into_iter()
        .map(|r| r[0].clone().unwrap_or_default())
        .collect();
    let plan = plan.join("\n");
    assert!(
        plan.contains("none asked") || !plan.contains("Remote t"),
        "a point query on a copied shard asks no peer:\n{plan}"
    );

    // Deletes through either node are seen through the copies at once.
    let n = b.execute("DELETE FROM t WHERE id <= 5", &[]).await.unwrap();
    assert_eq!(n, 5);
    let rows = must_answer(&a, names[0], "SELECT count(*), sum(id) FROM t").await;
    assert_eq!(rows, row(&["35", "805"]), "after a DELETE on local-2");
    // Deleting most of a shard makes its home compact it into a new one:
    // the copy, read first, must still agree.
    for id in 11..=19 {
        b.execute("DELETE FROM t WHERE id = $1", &[&id])
            .await
            .unwrap();
        let rows = must_answer(
            &a,
            names[0],
            "SELECT count(*) FROM t WHERE id BETWEEN 11 AND 20",
        )
        .await;
        assert_eq!(
            rows,
            row(&[&(19 - id + 1).to_string()]),
            "after deleting {id}"
        );
    }
    let rows = must_answer(&a, names[0], "SELECT count(*), sum(id) FROM t").await;
    assert_eq!(rows, row(&["26", "670"]), "after the compaction");
    // Unsealed rows on local-2 make local-1 ask it: local-2 leaves out the
    // shards local-1 reads from its copies, so nothing is counted twice.
    b.batch_execute("INSERT INTO t VALUES (100, 'u'), (101, 'u'), (102, 'u')")
        .await
        .unwrap();
    for sql in [
        "SELECT count(*), sum(id) FROM t",
        "SELECT count(*), sum(id) FROM (SELECT id FROM t ORDER BY id) s",
    ] {
        let rows = must_answer(&a, names[0], sql).await;
        assert_eq!(
            rows,
            row(&["29", "973"]),
            "{sql} with unsealed rows on local-2"
        );
    }

    // TRUNCATE in a block on the node holding copies: nothing comes back.
    a.batch_execute("BEGIN; TRUNCATE t; INSERT INTO t VALUES (1, 'new'); COMMIT")
        .await
        .unwrap();
    for (client, name) in [(&a, names[0]), (&b, names[1])] {
        let rows = must_answer(client, name, "SELECT count(*), sum(id) FROM t").await;
        assert_eq!(rows, row(&["1", "1"]), "after TRUNCATE on {name}");
    }
}
