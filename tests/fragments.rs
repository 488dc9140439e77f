//! The fragment/merge split (partial aggregates, top-k) must give exactly
//! what the gather path gives, on random data spread over many shards with
//! tombstones and an open segment, for random queries of the shapes it
//! handles. `SET mosaic.fragments = off` forces the gather path.

mod common;

use common::TestNode;
use tokio_postgres::{Client, SimpleQueryMessage};

/// A small deterministic generator, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

async fn rows(client: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    let messages = client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
            }
            _ => None,
        })
        .collect()
}

async fn load(client: &Client, rng: &mut Rng) {
    client
        .batch_execute(
            "CREATE TABLE f (id integer PRIMARY KEY, g integer, h text, v double precision, n numeric(10, 2))",
        )
        .await
        .unwrap();
    let mut values = Vec::new();
    for id in 1..=900 {
        let g = if rng.below(10) == 0 {
            "NULL".to_string()
        } else {
            rng.below(6).to_string()
        };
        let h = match rng.below(5) {
            0 => "NULL".to_string(),
            k => format!("'h{k}'"),
        };
        let v = if rng.below(12) == 0 {
            "NULL".to_string()
        } else {
            format!("{}", rng.below(400) as f64 * 0.25 - 20.0)
        };
        let n = format!("{}.{:02}", rng.below(500), rng.below(100));
        values.push(format!("({id}, {g}, {h}, {v}, {n})"));
        if values.len() == 100 {
            client
                .batch_execute(&format!("INSERT INTO f VALUES {}", values.join(", ")))
                .await
                .unwrap();
            values.clear();
        }
    }
    // Tombstones in sealed shards, and rows left in the open segment.
    client
        .batch_execute(
            "DELETE FROM f WHERE id % 17 = 0; UPDATE f SET v = v + 1 WHERE id % 23 = 0; \
             INSERT INTO f VALUES (901, 1, 'h1', 2.5, 1.25), (902, NULL, NULL, NULL, 0.5)",
        )
        .await
        .unwrap();
}

fn random_query(rng: &mut Rng) -> String {
    let filters = [
        "",
        " WHERE id > 200",
        " WHERE g = 2",
        " WHERE h LIKE 'h%' AND v > 0",
        " WHERE id BETWEEN 100 AND 400 OR g IS NULL",
        " WHERE n < 250",
    ];
    let filter = rng.pick(&filters);
    if rng.below(2) == 0 {
        let keys = ["g", "h", "g, h", ""];
        let key = rng.pick(&keys);
        let aggs = [
            "count(*)",
            "count(v)",
            "sum(v)",
            "min(v)",
            "max(h)",
            "avg(id)",
            "avg(v)",
            "sum(n)",
            "max(n)",
            "sum(id) + count(*)",
            "bit_and(id)",
            "bit_or(g)",
            "bit_xor(id)",
        ];
        let a1 = rng.pick(&aggs);
        let a2 = rng.pick(&aggs);
        if key.is_empty() {
            format!("SELECT {a1}, {a2} FROM f{filter}")
        } else {
            let having = if rng.below(3) == 0 {
                " HAVING count(*) > 5"
            } else {
                ""
            };
            let limit = if rng.below(2) == 0 { " LIMIT 4" } else { "" };
            format!(
                "SELECT {key}, {a1}, {a2} FROM f{filter} GROUP BY {key}{having} ORDER BY {key}{limit}"
            )
        }
    } else if rng.below(4) == 0 {
        let cols = ["g", "h", "g, h", "h, g"];
        let cols = rng.pick(&cols);
        let tail = match rng.below(3) {
            0 => String::new(),
            1 => format!(" ORDER BY {cols}"),
            _ => format!(" ORDER BY {cols} LIMIT {}", 1 + rng.below(6)),
        };
        let order = if tail.is_empty() {
            format!(" ORDER BY {cols}")
        } else {
            tail
        };
        format!("SELECT DISTINCT {cols} FROM f{filter}{order}")
    } else {
        let orders = ["v DESC, id", "h, id DESC", "n, id", "id", "g DESC, v, id"];
        let order = rng.pick(&orders);
        let cols = ["*", "id, v", "id, h, n"];
        let cols = rng.pick(&cols);
        let offset = if rng.below(2) == 0 { " OFFSET 3" } else { "" };
        format!(
            "SELECT {cols} FROM f{filter} ORDER BY {order} LIMIT {}{offset}",
            1 + rng.below(15)
        )
    }
}

#[tokio::test]
async fn fragments_agree_with_gather_on_random_queries() {
    let node = TestNode::start_with(&["--shard-max-rows", "60"]);
    let client = node.client().await;
    // MOSAIC_TEST_SEED explores other data and queries.
    let seed = std::env::var("MOSAIC_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_f4a6);
    let mut rng = Rng(seed);
    load(&client, &mut rng).await;
    let shards = rows(
        &client,
        "SELECT count(*) FROM mosaic.shards WHERE table_name = 'f'",
    )
    .await;
    let shards: u64 = shards[0][0].as_deref().unwrap_or("0").parse().unwrap();
    assert!(shards >= 10, "expected many shards, got {shards}");

    let (mut split, mut empty) = (0, 0);
    for _ in 0..60 {
        let sql = random_query(&mut rng);
        let plan = rows(&client, &format!("EXPLAIN {sql}")).await;
        if plan[0][0]
            .as_deref()
            .is_some_and(|l| l.starts_with("Fragments"))
        {
            split += 1;
        }
        let fragmented = rows(&client, &sql).await;
        client
            .batch_execute("SET mosaic.fragments = off")
            .await
            .unwrap();
        let gathered = rows(&client, &sql).await;
        client
            .batch_execute("RESET mosaic.fragments")
            .await
            .unwrap();
        assert_eq!(fragmented, gathered, "{sql}");
        if gathered.is_empty() {
            empty += 1;
        }
    }
    // An empty answer compares nothing; the generator must mostly avoid them.
    assert!(empty <= 6, "{empty} of 60 queries returned no rows");
    // Most of the random queries must actually take the fragment path.
    assert!(split >= 40, "only {split} of 60 queries were split");
}

#[tokio::test]
async fn explain_shows_fragments_and_merge() {
    let node = TestNode::start_with(&["--shard-max-rows", "50"]);
    let client = node.client().await;
    client
        .batch_execute(
            "CREATE TABLE e (id integer PRIMARY KEY, g integer); \
             INSERT INTO e SELECT i, i % 3 FROM generate_series(1, 300) i",
        )
        .await
        .unwrap();
    let plan: Vec<String> = rows(
        &client,
        "EXPLAIN SELECT g, count(*) FROM e WHERE id > 120 GROUP BY g ORDER BY g",
    )
    .await
    .into_iter()
    .filter_map(|r| r[0].clone())
    .collect();
    let text = plan.join("\n");
    assert!(
        plan[0].starts_with("Fragments (partial aggregates)"),
        "{text}"
    );
    assert!(text.contains("pruned shard"), "{text}");
    assert!(
        text.contains("fragment SQL: SELECT g AS _mosaic_g1, count(*)"),
        "{text}"
    );
    assert!(text.contains("Merge on node"), "{text}");
    assert_eq!(
        rows(
            &client,
            "SELECT g, count(*) FROM e WHERE id > 120 GROUP BY g ORDER BY g"
        )
        .await,
        vec![
            vec![Some("0".into()), Some("60".into())],
            vec![Some("1".into()), Some("60".into())],
            vec![Some("2".into()), Some("60".into())],
        ]
    );
}

/// The count of `"…: 5 rows in …"`.
fn rows_in(line: &str) -> Option<u64> {
    let before = &line[..line.find(" rows")?];
    before.rsplit(' ').next()?.parse().ok()
}

/// The number in `line` after `key` (`"Rows: 3"`).
fn number_after(line: &str, key: &str) -> Option<u64> {
    let rest = &line[line.find(key)? + key.len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[tokio::test]
async fn explain_analyze_runs_the_query_and_counts_each_part() {
    let node = TestNode::start_with(&["--shard-max-rows", "50"]);
    let client = node.client().await;
    client
        .batch_execute(
            "CREATE TABLE ea (id integer PRIMARY KEY, g integer); \
             INSERT INTO ea SELECT i, i % 7 FROM generate_series(1, 320) i",
        )
        .await
        .unwrap();
    let lines = |sql: &'static str| {
        let client = &client;
        async move {
            rows(client, sql)
                .await
                .into_iter()
                .filter_map(|r| r[0].clone())
                .collect::<Vec<String>>()
        }
    };
    // The fragment path: every shard's partial rows and the open segment's.
    let plan = lines("EXPLAIN ANALYZE SELECT g, count(*) FROM ea GROUP BY g ORDER BY g").await;
    let text = plan.join("\n");
    assert!(
        plan[0].starts_with("Fragments (partial aggregates)"),
        "{text}"
    );
    let shards: Vec<u64> = plan
        .iter()
        .filter(|l| l.starts_with("Actual: shard "))
        .filter_map(|l| rows_in(l))
        .collect();
    assert_eq!(shards.len(), 6, "{text}");
    assert!(shards.iter().all(|&n| n == 7), "7 groups per shard: {text}");
    assert!(text.contains("Actual: open segment: 7 rows"), "{text}");
    let rows_line = plan.iter().find(|l| l.starts_with("Rows: ")).expect(&text);
    assert_eq!(number_after(rows_line, "Rows: "), Some(7), "{text}");
    assert!(
        plan.last()
            .is_some_and(|l| l.starts_with("Execution Time: ")),
        "{text}"
    );
    // The gather path: pruned shards, the rows SQLite returned.
    let plan = lines("EXPLAIN (ANALYZE, COSTS OFF) SELECT * FROM ea WHERE id <= 12").await;
    let text = plan.join("\n");
    assert!(text.contains("pruned shard"), "{text}");
    assert!(
        plan.iter()
            .any(|l| l.starts_with("Actual: SQLite on node") && l.contains(": 12 rows")),
        "{text}"
    );
    assert!(text.contains("Rows: 12"), "{text}");
    // Only queries; other formats are refused rather than answered as text.
    for (sql, state) in [
        ("EXPLAIN ANALYZE DELETE FROM ea", "0A000"),
        ("EXPLAIN (FORMAT JSON) SELECT 1", "0A000"),
        ("EXPLAIN (BOGUS) SELECT 1", "42601"),
    ] {
        let err = client.simple_query(sql).await.unwrap_err();
        assert_eq!(err.code().map(|c| c.code()), Some(state), "{sql}");
    }
    let n: i64 = client
        .query_one("SELECT count(*) FROM ea", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 320, "EXPLAIN ANALYZE DELETE deleted nothing");
}

/// The lines of `EXPLAIN ANALYZE sql`.
async fn analyzed(client: &Client, sql: &str) -> String {
    rows(client, &format!("EXPLAIN ANALYZE {sql}"))
        .await
        .into_iter()
        .filter_map(|r| r[0].clone())
        .collect::<Vec<_>>()
        .join("\n")
}

/// How EXPLAIN ANALYZE tells a shard's rows kept from an earlier statement.
const KEPT: &str = "kept from an earlier statement";

/// A change to `f` that leaves some kept results stale: deletes (enough of
/// one shard's rows to compact it, sometimes), updates, inserts, seals.
async fn change(client: &Client, rng: &mut Rng, round: u64) {
    let sql = match rng.below(5) {
        0 => format!("DELETE FROM f WHERE id % {} = {}", 7 + round, rng.below(7)),
        1 => {
            let from = 1 + rng.below(840);
            format!("DELETE FROM f WHERE id BETWEEN {from} AND {}", from + 45)
        }
        2 => format!(
            "UPDATE f SET v = v + 1, n = n + 1, h = 'h9' WHERE g = {}",
            rng.below(6)
        ),
        3 => {
            let base = 1000 * (round + 1);
            format!(
                "INSERT INTO f SELECT {base} + i, i % 6, 'h' || (i % 4), i * 0.5, i FROM generate_series(1, 70) i"
            )
        }
        _ => "SELECT mosaic.seal('f')".to_string(),
    };
    client
        .batch_execute(&sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Queries answered with kept results must answer exactly as with none
/// kept (`SET mosaic.result_cache = off`), through every kind of change;
/// a query calling a function that reads the clock or chance is never
/// answered from kept rows. `clients[0]` asks; changes go through all.
async fn kept_results_agree_with_fresh_ones(clients: &[Client]) {
    let asker = &clients[0];
    let seed = std::env::var("MOSAIC_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_cace);
    let mut rng = Rng(seed);
    load(asker, &mut rng).await;
    // The same queries every round, so rows kept before a change would
    // be found after it if their key missed what changed.
    let probe = "SELECT g, count(*), sum(v), max(h) FROM f GROUP BY g ORDER BY g";
    let mut queries: Vec<String> = (0..10).map(|_| random_query(&mut rng)).collect();
    queries.push(probe.to_string());
    let mut reused = 0;
    for round in 0..8 {
        for sql in &queries {
            let first = rows(asker, sql).await;
            asker
                .batch_execute("SET mosaic.result_cache = off")
                .await
                .unwrap();
            let fresh = rows(asker, sql).await;
            asker
                .batch_execute("RESET mosaic.result_cache")
                .await
                .unwrap();
            let again = rows(asker, sql).await;
            assert_eq!(first, fresh, "round {round}: {sql}");
            assert_eq!(again, fresh, "round {round}, asked again: {sql}");
        }
        // The probe ran just before over unchanged shards: its shards'
        // rows are kept now.
        if analyzed(asker, probe).await.contains(KEPT) {
            reused += 1;
        }
        let writer = &clients[rng.below(clients.len() as u64) as usize];
        change(writer, &mut rng, round).await;
    }
    assert!(reused >= 6, "kept rows reused in only {reused} of 8 rounds");
    // clock_timestamp() and statement_timestamp() differ between
    // statements: their rows are never kept.
    asker
        .batch_execute("SELECT mosaic.seal('f')")
        .await
        .unwrap();
    for sql in [
        "SELECT g, count(*), max(clock_timestamp()) FROM f GROUP BY g ORDER BY g",
        "SELECT g, max(statement_timestamp()) FROM f GROUP BY g ORDER BY g",
    ] {
        let plan = analyzed(asker, sql).await;
        assert!(plan.starts_with("Fragments"), "{sql} is not split:\n{plan}");
        let first = rows(asker, sql).await;
        let plan = analyzed(asker, sql).await;
        assert!(!plan.contains(KEPT), "{sql}:\n{plan}");
        assert_ne!(rows(asker, sql).await, first, "{sql}");
    }
}

#[tokio::test]
async fn kept_results_agree_with_fresh_ones_on_one_node() {
    let node = TestNode::start_with(&["--shard-max-rows", "60"]);
    kept_results_agree_with_fresh_ones(&[node.client().await]).await;
}

#[tokio::test]
async fn kept_results_agree_with_fresh_ones_on_three_nodes() {
    let nodes = common::start_cluster(&["k1", "k2", "k3"], &["--shard-max-rows", "60"]).await;
    let mut clients = Vec::new();
    for n in &nodes {
        clients.push(n.client().await);
    }
    kept_results_agree_with_fresh_ones(&clients).await;
}
