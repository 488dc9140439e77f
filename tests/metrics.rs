//! `--metrics-addr`: Prometheus metrics that move when a node does what
//! they count, and /healthz and /readyz flipping as a node starts and
//! stops.

mod common;

use std::time::{Duration, Instant};

use common::{http_get as get, metric_value as value, metrics_addr};
use common::{start_cluster, wait_state, TestNode, CLUSTER_TIMEOUT};

const WITH_METRICS: [&str; 2] = ["--metrics-addr", "127.0.0.1:0"];

/// Every metric the endpoint must serve from its first scrape.
const ALWAYS: &[&str] = &[
    "mosaic_connections",
    "mosaic_connections_total",
    "mosaic_peer_requests_total{outcome=\"sent\"}",
    "mosaic_peer_requests_total{outcome=\"retried\"}",
    "mosaic_peer_requests_total{outcome=\"failed\"}",
    "mosaic_shards_pruned_total",
    "mosaic_shards_read_total",
    "mosaic_fragment_cache_hits_total",
    "mosaic_fragment_cache_misses_total",
    "mosaic_result_cache_hits_total",
    "mosaic_result_cache_misses_total",
    "mosaic_replicated_bytes_total",
    "mosaic_edge_cache_hits_total",
    "mosaic_edge_cache_evictions_total",
    "mosaic_members{state=\"alive\"}",
    "mosaic_members{state=\"suspect\"}",
    "mosaic_members{state=\"down\"}",
    "mosaic_gossip_packets_dropped_total",
    "mosaic_open_segment_rows",
    "mosaic_damaged_shards",
    "mosaic_seals_total",
    "mosaic_compactions_total",
];

async fn scrape(addr: &str) -> String {
    let (status, body) = get(addr, "/metrics").await.expect("metrics answer");
    assert_eq!(status, 200);
    body
}

async fn metric(addr: &str, series: &str) -> f64 {
    let s = scrape(addr).await;
    value(&s, series).unwrap_or_else(|| panic!("no {series} in:\n{s}"))
}

/// Polls until `series` satisfies `ok`.
async fn wait_metric(addr: &str, series: &str, ok: impl Fn(f64) -> bool) -> f64 {
    let start = Instant::now();
    loop {
        let v = value(&scrape(addr).await, series);
        if let Some(v) = v.filter(|v| ok(*v)) {
            return v;
        }
        assert!(
            start.elapsed() < CLUSTER_TIMEOUT,
            "{series} stayed at {v:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_nodes_metrics_move_with_what_it_does() {
    let node = TestNode::start_with(&[WITH_METRICS[0], WITH_METRICS[1], "--shard-max-rows", "100"]);
    let m = metrics_addr(&node);
    let first = scrape(&m).await;
    for series in ALWAYS {
        assert!(
            value(&first, series).is_some(),
            "{series} missing:\n{first}"
        );
    }
    assert_eq!(get(&m, "/healthz").await.map(|r| r.0), Some(200));
    assert_eq!(get(&m, "/nothing").await.map(|r| r.0), Some(404));

    let a = node.client().await;
    let b = node.client().await;
    assert_eq!(metric(&m, "mosaic_connections").await, 2.0);
    assert!(metric(&m, "mosaic_connections_total").await >= 2.0);
    drop(b);
    wait_metric(&m, "mosaic_connections", |v| v == 1.0).await;

    // 1000 rows sealed into ten shards of 100, then 5 rows left open.
    let seals = metric(&m, "mosaic_seals_total").await;
    a.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, v text); \
         INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 1000) i",
    )
    .await
    .unwrap();
    assert!(metric(&m, "mosaic_seals_total").await >= seals + 10.0);
    a.batch_execute("INSERT INTO t SELECT i, 'w' FROM generate_series(1001, 1005) i")
        .await
        .unwrap();
    assert_eq!(metric(&m, "mosaic_open_segment_rows").await, 5.0);

    // A point query reads one shard and skips the others by their blooms.
    let (pruned, read) = (
        metric(&m, "mosaic_shards_pruned_total").await,
        metric(&m, "mosaic_shards_read_total").await,
    );
    let got: i64 = a
        .query_one("SELECT count(*) FROM t WHERE id = 500", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(got, 1);
    assert!(metric(&m, "mosaic_shards_pruned_total").await >= pruned + 9.0);
    assert!(metric(&m, "mosaic_shards_read_total").await >= read + 1.0);

    // A prepared statement run again reuses its compiled SQL.
    let hits = metric(&m, "mosaic_fragment_cache_hits_total").await;
    let stmt = a.prepare("SELECT v FROM t WHERE id = $1").await.unwrap();
    for id in [1i32, 2, 3] {
        a.query_one(&stmt, &[&id]).await.unwrap();
    }
    assert!(metric(&m, "mosaic_fragment_cache_hits_total").await >= hits + 2.0);

    // An aggregate over the ten shards, asked twice: the second time each
    // shard's rows are found kept.
    let (hits, misses) = (
        metric(&m, "mosaic_result_cache_hits_total").await,
        metric(&m, "mosaic_result_cache_misses_total").await,
    );
    for _ in 0..2 {
        a.simple_query("SELECT count(*), max(v) FROM t")
            .await
            .unwrap();
    }
    assert!(metric(&m, "mosaic_result_cache_misses_total").await >= misses + 10.0);
    assert!(metric(&m, "mosaic_result_cache_hits_total").await >= hits + 10.0);

    // Statements by kind and outcome, with their latency.
    let select_ok = "mosaic_statements_total{kind=\"select\",outcome=\"ok\"}";
    let select_err = "mosaic_statements_total{kind=\"select\",outcome=\"error\"}";
    let ok_before = metric(&m, select_ok).await;
    let err_before = value(&scrape(&m).await, select_err).unwrap_or(0.0);
    a.simple_query("SELECT 1").await.unwrap();
    assert!(a.simple_query("SELECT 1/0").await.is_err());
    assert_eq!(metric(&m, select_ok).await, ok_before + 1.0);
    assert_eq!(metric(&m, select_err).await, err_before + 1.0);
    let count = "mosaic_statement_duration_seconds_count{kind=\"select\"}";
    let inf = "mosaic_statement_duration_seconds_bucket{kind=\"select\",le=\"+Inf\"}";
    assert_eq!(metric(&m, count).await, metric(&m, inf).await);
    assert!(metric(&m, count).await >= ok_before + 2.0);
}

#[tokio::test]
async fn cluster_metrics_follow_peers_gossip_and_replication() {
    let mut nodes = start_cluster(&["m1", "m2"], &WITH_METRICS).await;
    let m2 = metrics_addr(&nodes[1]);
    assert_eq!(metric(&m2, "mosaic_members{state=\"alive\"}").await, 1.0);

    // A datagram that is not gossip is dropped and counted.
    let dropped = metric(&m2, "mosaic_gossip_packets_dropped_total").await;
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.send_to(b"not gossip at all", nodes[1].cluster_addr())
        .unwrap();
    wait_metric(&m2, "mosaic_gossip_packets_dropped_total", |v| v > dropped).await;

    // m1's sealed shard is copied to m2 (replication factor 2).
    let c1 = nodes[0].client().await;
    c1.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY); \
         INSERT INTO t SELECT i FROM generate_series(1, 50) i; \
         SELECT mosaic.seal('t')",
    )
    .await
    .unwrap();
    wait_metric(&m2, "mosaic_replicated_bytes_total", |v| v > 0.0).await;
    // Reading those replicas is no edge-cache hit: replication put them
    // there, not reads.
    let hits = metric(&m2, "mosaic_edge_cache_hits_total").await;

    // A query on m2 asks m1.
    let c2 = nodes[1].client().await;
    let sent = metric(&m2, "mosaic_peer_requests_total{outcome=\"sent\"}").await;
    c1.batch_execute("INSERT INTO t VALUES (51)").await.unwrap();
    assert_eq!(rows_of_t(&c2).await, 51);
    assert!(metric(&m2, "mosaic_peer_requests_total{outcome=\"sent\"}").await > sent);
    // mosaic.health: every shard with its copies, m1's unsealed row named.
    let health = "SELECT shards > 0, under_replicated, unreachable, open_rows->>'m1', \
                  open_rows->>'m2' FROM mosaic.health WHERE table_name = 't'";
    let got = common::simple_rows(&c2, health).await;
    let want = ["t", "0", "0", "1", "0"].map(|s| Some(s.to_string()));
    assert_eq!(got[0], want);
    // mosaic.queries: a running statement with the peer it asked and the
    // rows it sent so far.
    let slow = nodes[1].client().await;
    let running =
        tokio::spawn(async move { slow.simple_query("SELECT id, pg_sleep(0.03) FROM t").await });
    common::wait_rows(
        &c2,
        "SELECT peers, rows_sent > 0, wait_event FROM mosaic.queries \
         WHERE query LIKE '%pg_sleep(0.03)%' AND pid <> pg_backend_pid()",
        &["{m1}", "t", "PgSleep"],
    )
    .await;
    assert!(running.await.unwrap().is_ok());
    let copied = metric(&m2, "mosaic_replicated_bytes_total").await;
    c1.batch_execute("SELECT mosaic.seal('t')").await.unwrap();
    wait_metric(&m2, "mosaic_replicated_bytes_total", |v| v > copied).await;

    // With m1 gone, m2 answers from its replicas: still no edge-cache hit.
    nodes[0].kill9();
    wait_state(&c2, "m1", "down").await;
    assert_eq!(metric(&m2, "mosaic_members{state=\"down\"}").await, 1.0);
    assert_eq!(rows_of_t(&c2).await, 51);
    assert!(metric(&m2, "mosaic_shards_read_total").await > 0.0);
    assert_eq!(metric(&m2, "mosaic_edge_cache_hits_total").await, hits);
    // With m1 down every shard has one copy of the two asked for.
    let got = common::simple_rows(
        &c2,
        "SELECT shards = under_replicated, unreachable FROM mosaic.health WHERE table_name = 't'",
    )
    .await;
    assert_eq!(got[0], ["t", "0"].map(|s| Some(s.to_string())));
}

#[tokio::test]
async fn readiness_waits_for_the_catalog_and_ends_before_a_drained_shutdown() {
    // A seed nobody answers at: not ready until the grace period passes.
    let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let seed = dead.local_addr().unwrap().to_string();
    let mut node = TestNode::start_with(&[WITH_METRICS[0], WITH_METRICS[1], "--join", &seed]);
    let m = metrics_addr(&node);
    assert_eq!(get(&m, "/healthz").await.map(|r| r.0), Some(200));
    assert_eq!(get(&m, "/readyz").await.map(|r| r.0), Some(503));
    let start = Instant::now();
    while get(&m, "/readyz").await.map(|r| r.0) != Some(200) {
        assert!(start.elapsed() < CLUSTER_TIMEOUT, "never ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // SIGTERM: not ready at once, alive while a running statement finishes,
    // and that statement's answer still reaches its client.
    let busy = node.client().await;
    let watcher = node.client().await;
    let sleeper = tokio::spawn(async move {
        busy.query_one("SELECT pg_sleep(1.5)::text", &[])
            .await
            .map(|r| r.get::<_, String>(0))
    });
    common::wait_rows(
        &watcher,
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'",
        &["1"],
    )
    .await;
    let pid = node.pid().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let start = Instant::now();
    while get(&m, "/readyz").await.map(|r| r.0) != Some(503) {
        assert!(start.elapsed() < Duration::from_secs(1), "still ready");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(get(&m, "/healthz").await.map(|r| r.0), Some(200));
    let answer = sleeper.await.unwrap();
    assert_eq!(answer.unwrap(), "");
    assert!(node.stop().success());
    assert_eq!(get(&m, "/healthz").await, None);
}

#[tokio::test]
async fn compactions_count_shards_rewritten_without_their_deleted_rows() {
    let node = TestNode::start_with(&[WITH_METRICS[0], WITH_METRICS[1], "--shard-max-rows", "50"]);
    let m = metrics_addr(&node);
    let c = node.client().await;
    c.batch_execute(
        "CREATE TABLE c (id int PRIMARY KEY, v text); \
         INSERT INTO c SELECT i, 'v' || i FROM generate_series(1, 100) i",
    )
    .await
    .unwrap();
    let shards = "SELECT count(*) FROM mosaic.shards WHERE table_name = 'c'";
    assert_eq!(
        common::simple_rows(&c, shards).await[0][0].as_deref(),
        Some("2")
    );
    let before = metric(&m, "mosaic_compactions_total").await;

    // 10 of a shard's 50 rows deleted: tombstones, no compaction.
    c.batch_execute("DELETE FROM c WHERE id <= 10")
        .await
        .unwrap();
    assert_eq!(metric(&m, "mosaic_compactions_total").await, before);
    // 30 of 50: that shard is rewritten with its 20 live rows.
    c.batch_execute("DELETE FROM c WHERE id <= 30")
        .await
        .unwrap();
    wait_metric(&m, "mosaic_compactions_total", |v| v == before + 1.0).await;
    // Every row of the other shard: it goes, and no shard takes its place.
    c.batch_execute("DELETE FROM c WHERE id > 50")
        .await
        .unwrap();
    wait_metric(&m, "mosaic_compactions_total", |v| v == before + 2.0).await;
    assert_eq!(
        common::simple_rows(&c, shards).await[0][0].as_deref(),
        Some("1")
    );
}

#[tokio::test]
async fn the_edge_cache_evicts_copies_beyond_its_budget() {
    // e1 holds t's four shards; no copies are asked for (factor 1).
    let common_args = ["--replication-factor", "1", "--shard-max-rows", "5"];
    let mut a = vec!["--node-name", "e1"];
    a.extend_from_slice(&common_args);
    let e1 = TestNode::start_with(&a);
    let c1 = e1.client().await;
    c1.batch_execute(T_ROWS).await.unwrap();
    let sizes: Vec<u64> = common::simple_rows(
        &c1,
        "SELECT byte_size FROM mosaic.shards WHERE table_name = 't'",
    )
    .await
    .iter()
    .map(|r| r[0].as_deref().unwrap_or_default().parse().unwrap())
    .collect();
    assert_eq!(sizes.len(), 4, "{sizes:?}");
    let (smallest, largest) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
    assert!(smallest * 2 > *largest, "{sizes:?}");
    // e2 has room for two of them, not all four.
    let budget = (largest * 2).to_string();
    let seed = e1.cluster_addr().to_string();
    let mut b = vec![
        "--node-name",
        "e2",
        "--join",
        &seed,
        "--edge-cache-bytes",
        &budget,
    ];
    b.extend_from_slice(&common_args);
    b.extend_from_slice(&WITH_METRICS);
    let e2 = TestNode::start_with(&b);
    common::wait_alive(&e2, 1).await;
    let m2 = metrics_addr(&e2);
    let c2 = e2.client().await;

    // Reading t through e1 again and again makes it hot on e2, which
    // copies what fits of it: nothing is evicted to make room.
    common::wait_rows(&c2, "SELECT count(*) FROM t", &["20"]).await;
    for _ in 0..10 {
        assert_eq!(rows_of_t(&c2).await, 20);
    }
    let held_on_e2 = "SELECT shard_id, byte_size FROM mosaic.shards \
                      WHERE table_name = 't' AND holders LIKE '%e2%'";
    let start = Instant::now();
    while common::simple_rows(&c2, held_on_e2).await.is_empty() {
        assert!(start.elapsed() < CLUSTER_TIMEOUT, "e2 cached nothing");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(metric(&m2, "mosaic_edge_cache_evictions_total").await, 0.0);
    // e2 now reads t's cached shards from its own copies: edge-cache hits.
    let hits = metric(&m2, "mosaic_edge_cache_hits_total").await;
    assert_eq!(rows_of_t(&c2).await, 20);
    assert!(metric(&m2, "mosaic_edge_cache_hits_total").await > hits);

    // A copy of every shard, taken by hand, is more than the budget: the
    // cache lets copies go until the rest fit.
    copy_every_shard_of_t(&c2).await;
    wait_metric(&m2, "mosaic_edge_cache_evictions_total", |v| v >= 1.0).await;
    let budget: u64 = budget.parse().unwrap();
    let start = Instant::now();
    loop {
        let held = common::simple_rows(&c2, held_on_e2).await;
        let bytes: u64 = held
            .iter()
            .map(|r| r[1].as_deref().unwrap_or_default().parse::<u64>().unwrap())
            .sum();
        if bytes <= budget && held.len() < 4 {
            break;
        }
        assert!(
            start.elapsed() < CLUSTER_TIMEOUT,
            "e2 still holds {bytes} bytes of copies, over {budget}: {held:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rows_of_t(&c2).await, 20);
}

/// `kill -SIG pid` of a test node.
fn signal(node: &TestNode, sig: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &node.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{sig}");
}

#[tokio::test]
async fn a_peer_that_stops_answering_fails_requests_and_the_statement_is_retried() {
    // f1 holds t; f3 keeps a copy of each shard (taken by hand, kept in
    // its edge cache); f2 asks, and caches nothing itself.
    let common_args = ["--replication-factor", "1", "--shard-max-rows", "5"];
    let mut a = vec!["--node-name", "f1"];
    a.extend_from_slice(&common_args);
    let mut f1 = TestNode::start_with(&a);
    let seed = f1.cluster_addr().to_string();
    let mut b = vec![
        "--node-name",
        "f2",
        "--join",
        &seed,
        "--edge-cache-bytes",
        "0",
    ];
    b.extend_from_slice(&common_args);
    b.extend_from_slice(&WITH_METRICS);
    let f2 = TestNode::start_with(&b);
    let mut c = vec!["--node-name", "f3", "--join", &seed];
    c.extend_from_slice(&common_args);
    let f3 = TestNode::start_with(&c);
    for n in [&f1, &f2, &f3] {
        common::wait_alive(n, 2).await;
    }
    let c1 = f1.client().await;
    c1.batch_execute(T_ROWS).await.unwrap();
    let c3 = f3.client().await;
    common::wait_rows(
        &c3,
        "SELECT count(*) FROM mosaic.shards WHERE table_name = 't'",
        &["4"],
    )
    .await;
    copy_every_shard_of_t(&c3).await;
    let c2 = f2.client().await;
    common::wait_rows(
        &c2,
        "SELECT count(*) FROM mosaic.shards WHERE table_name = 't' \
         AND holders LIKE '%f3%' AND holders NOT LIKE '%f2%'",
        &["4"],
    )
    .await;
    common::wait_rows(&c2, "SELECT count(*) FROM t", &["20"]).await;
    let m2 = metrics_addr(&f2);
    let failed = "mosaic_peer_requests_total{outcome=\"failed\"}";
    let retried = "mosaic_peer_requests_total{outcome=\"retried\"}";
    let (failed_before, retried_before) = (metric(&m2, failed).await, metric(&m2, retried).await);

    // f1 stops answering while f2's statement waits for it, then dies: the
    // request it had sent fails, so does asking again, and the statement
    // runs once more, reading f3's copies.
    signal(&f1, "STOP");
    let asking = f2.client().await;
    let running = tokio::spawn(async move { rows_of_t(&asking).await });
    common::wait_rows(
        &c2,
        "SELECT count(*) FROM mosaic.queries WHERE wait_event = 'MosaicPeers'",
        &["1"],
    )
    .await;
    f1.kill9();
    assert_eq!(running.await.unwrap(), 20);
    // The request that got no answer and the one that could not connect.
    assert!(metric(&m2, failed).await >= failed_before + 2.0);
    assert_eq!(metric(&m2, retried).await, retried_before + 1.0);
}

#[tokio::test]
async fn a_peer_that_stops_answering_is_suspect_before_it_is_down() {
    let nodes = start_cluster(&["s1", "s2"], &WITH_METRICS).await;
    let m1 = metrics_addr(&nodes[0]);
    let alive = "mosaic_members{state=\"alive\"}";
    let suspect = "mosaic_members{state=\"suspect\"}";
    let down = "mosaic_members{state=\"down\"}";
    assert_eq!(metric(&m1, suspect).await, 0.0);
    signal(&nodes[1], "STOP");
    // Suspected for about half a second before it is declared down:
    // scraped often enough to see it.
    let start = Instant::now();
    let mut seen_suspect = false;
    loop {
        let s = scrape(&m1).await;
        let (a, su, d) = (value(&s, alive), value(&s, suspect), value(&s, down));
        if su == Some(1.0) {
            assert_eq!((a, d), (Some(0.0), Some(0.0)), "{s}");
            seen_suspect = true;
        }
        if d == Some(1.0) {
            assert_eq!(su, Some(0.0), "{s}");
            break;
        }
        assert!(
            start.elapsed() < CLUSTER_TIMEOUT,
            "s2 never went down:\n{s}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(seen_suspect, "s2 went down without being suspect first");
    signal(&nodes[1], "CONT");
}

#[tokio::test]
async fn a_joining_node_is_ready_once_it_knows_the_seeds_tables() {
    let seed = TestNode::start_with(&["--node-name", "r1"]);
    let c1 = seed.client().await;
    let mut ddl = String::new();
    for i in 0..40 {
        ddl.push_str(&format!(
            "CREATE TABLE ready_{i} (id int PRIMARY KEY, v text); "
        ));
    }
    c1.batch_execute(&ddl).await.unwrap();
    let joiner = TestNode::start_with(&[
        "--node-name",
        "r2",
        "--join",
        seed.cluster_addr(),
        WITH_METRICS[0],
        WITH_METRICS[1],
    ]);
    let m = metrics_addr(&joiner);
    let start = Instant::now();
    while get(&m, "/readyz").await.map(|r| r.0) != Some(200) {
        assert!(start.elapsed() < CLUSTER_TIMEOUT, "r2 never ready");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Ready: every table of the seed's is known here, at once.
    let c2 = joiner.client().await;
    let known = common::simple_rows(
        &c2,
        "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'ready%'",
    )
    .await;
    assert_eq!(known[0][0].as_deref(), Some("40"));
}

/// Table t of the edge-cache and peer tests: 20 rows, four shards of five.
const T_ROWS: &str = "CREATE TABLE t (id int PRIMARY KEY, v text); \
                      INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 20) i";

/// Have the node `client` is connected to take a copy of every shard of t
/// (`mosaic.replicate`), kept in its edge cache.
async fn copy_every_shard_of_t(client: &tokio_postgres::Client) {
    let ids = common::simple_rows(
        client,
        "SELECT shard_id FROM mosaic.shards WHERE table_name = 't'",
    )
    .await;
    for r in &ids {
        let id = r[0].as_deref().unwrap_or_default();
        common::simple_rows(client, &format!("SELECT mosaic.replicate('{id}')")).await;
    }
}

async fn rows_of_t(client: &tokio_postgres::Client) -> i64 {
    let row = client.query_one("SELECT count(*) FROM t", &[]).await;
    row.unwrap().get(0)
}
