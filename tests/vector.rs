//! pgvector's `vector` across a cluster: rows written through every node
//! into many small shards, and `ORDER BY v <-> $1 LIMIT k` asked of every
//! node, in the simple protocol and with the query vector as a binary
//! parameter in pgvector's format. Each answer must be the exact global
//! top-k computed here by brute force (distances as pgvector computes
//! them), ties at the cut broken the same way on every node, and EXPLAIN
//! must say the query ran as top-k fragments.

mod common;

use common::rng::Rng;
use common::{simple_rows, start_cluster};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

const DIMS: usize = 8;
const ROWS: usize = 240;

/// A query vector sent as a binary parameter: pgvector's `vector_send`
/// layout (int16 dimensions, int16 unused, big-endian float4s).
#[derive(Debug)]
struct Vector(Vec<f32>);

impl ToSql for Vector {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&(self.0.len() as u16).to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
        for x in &self.0 {
            out.extend_from_slice(&x.to_be_bytes());
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "vector"
    }

    to_sql_checked!();
}

fn text(v: &[f32]) -> String {
    let items: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", items.join(","))
}

/// pgvector's L2 distance: a float32 sum of squares, its root in double.
fn l2(a: &[f32], b: &[f32]) -> f64 {
    let s = a.iter().zip(b).fold(0.0f32, |s, (x, y)| {
        let d = x - y;
        s + d * d
    });
    f64::from(s).sqrt()
}

/// The ids of the k nearest rows, ties broken by the row's values as the
/// merge breaks them (by id, here, since each row's id is its first output).
fn nearest(rows: &[(i64, Vec<f32>)], q: &[f32], k: usize) -> Vec<String> {
    let mut by: Vec<(f64, i64)> = rows.iter().map(|(id, v)| (l2(v, q), *id)).collect();
    by.sort_by(|a, b| a.partial_cmp(b).expect("finite distances"));
    by.into_iter()
        .take(k)
        .map(|(_, id)| id.to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn nearest_neighbours_are_the_exact_global_top_k_on_every_node() {
    let nodes = start_cluster(&["v1", "v2", "v3"], &["--shard-max-rows", "16"]).await;
    let mut clients = Vec::new();
    for n in &nodes {
        clients.push(n.client().await);
    }
    clients[0]
        .batch_execute(&format!(
            "CREATE EXTENSION IF NOT EXISTS vector; CREATE TABLE emb (id bigint PRIMARY KEY, v vector({DIMS}))"
        ))
        .await
        .unwrap();
    // Small integers: every distance is exact, and many rows tie.
    let mut rng = Rng(0x5eed_cafe);
    let mut rows = Vec::new();
    for id in 1..=ROWS as i64 {
        let v: Vec<f32> = (0..DIMS).map(|_| rng.below(7) as f32 - 3.0).collect();
        rows.push((id, v));
    }
    // Every tenth row repeats an earlier one: exact ties.
    for i in (9..ROWS).step_by(10) {
        rows[i].1 = rows[i - 9].1.clone();
    }
    for (i, chunk) in rows.chunks(20).enumerate() {
        let values: Vec<String> = chunk
            .iter()
            .map(|(id, v)| format!("({id}, '{}')", text(v)))
            .collect();
        clients[i % 3]
            .batch_execute(&format!("INSERT INTO emb VALUES {}", values.join(", ")))
            .await
            .unwrap();
    }
    for q in [
        vec![0.0; DIMS],
        rows[9].1.clone(),
        (0..DIMS)
            .map(|i| i as f32 * 0.5 - 1.0)
            .collect::<Vec<f32>>(),
    ] {
        for k in [1, 5, 12] {
            let want = nearest(&rows, &q, k);
            let sql = format!("SELECT id FROM emb ORDER BY v <-> '{}' LIMIT {k}", text(&q));
            for (n, c) in clients.iter().enumerate() {
                let got: Vec<String> = simple_rows(c, &sql)
                    .await
                    .into_iter()
                    .map(|r| r[0].clone().unwrap_or_default())
                    .collect();
                assert_eq!(got, want, "node {n}: {sql}");
                let bound = c
                    .query(
                        &format!("SELECT id FROM emb ORDER BY v <-> $1 LIMIT {k}"),
                        &[&Vector(q.clone())],
                    )
                    .await
                    .unwrap();
                let got: Vec<String> = bound
                    .iter()
                    .map(|r| r.get::<_, i64>(0).to_string())
                    .collect();
                assert_eq!(got, want, "node {n}, binary parameter, k = {k}");
            }
        }
    }
    // A filter and the distance as a column.
    let q = vec![1.0; DIMS];
    let filtered: Vec<(i64, Vec<f32>)> =
        rows.iter().filter(|(id, _)| id % 2 == 0).cloned().collect();
    let want = nearest(&filtered, &q, 7);
    let got: Vec<String> = simple_rows(
        &clients[2],
        &format!(
            "SELECT id, v <-> '{}' AS d FROM emb WHERE id % 2 = 0 ORDER BY d LIMIT 7",
            text(&q)
        ),
    )
    .await
    .into_iter()
    .map(|r| r[0].clone().unwrap_or_default())
    .collect();
    assert_eq!(got, want);
    let plan = simple_rows(
        &clients[1],
        "EXPLAIN SELECT id FROM emb ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 3",
    )
    .await;
    let plan: Vec<String> = plan.into_iter().filter_map(|r| r[0].clone()).collect();
    assert!(
        plan.iter().any(|l| l.starts_with("Fragments (top-k)")),
        "{plan:#?}"
    );
    // A wrong dimension is an error naming both, from any node.
    let err = clients[1]
        .query(
            "SELECT id FROM emb ORDER BY v <-> $1 LIMIT 1",
            &[&Vector(vec![1.0; 3])],
        )
        .await
        .unwrap_err();
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "22000");
    assert_eq!(db.message(), "different vector dimensions 8 and 3");
}

/// The distance of each operator as pgvector computes it: float32 sums in
/// element order, the root or the cosine in double.
fn distance(op: &str, a: &[f32], b: &[f32]) -> f64 {
    let pairs = a.iter().zip(b);
    match op {
        "<->" => l2(a, b),
        "<#>" => -f64::from(pairs.fold(0.0f32, |s, (x, y)| s + x * y)),
        "<+>" => f64::from(pairs.fold(0.0f32, |s, (x, y)| s + (x - y).abs())),
        _ => {
            let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
            for (x, y) in pairs {
                dot += x * y;
                na += x * x;
                nb += y * y;
            }
            let sim = f64::from(dot) / (f64::from(na) * f64::from(nb)).sqrt();
            1.0 - sim.clamp(-1.0, 1.0)
        }
    }
}

/// The first `k` live rows passing `keep` by distance `op` to `q`, as
/// (id, distance), ties broken by id (the query's first output).
fn brute_force(
    rows: &[(i64, Option<Vec<f32>>)],
    op: &str,
    q: &[f32],
    k: usize,
    keep: impl Fn(i64) -> bool,
) -> Vec<(i64, f64)> {
    let mut by: Vec<(f64, i64)> = rows
        .iter()
        .filter(|(id, _)| keep(*id))
        .filter_map(|(id, v)| Some((distance(op, v.as_ref()?, q), *id)))
        .collect();
    by.sort_by(|a, b| a.partial_cmp(b).expect("finite distances"));
    by.into_iter().take(k).map(|(d, id)| (id, d)).collect()
}

/// The two ways a shard lists its nearest rows (`plan::nearest`): exact
/// distances over its vectors kept in memory (the default), or its vec0
/// index (when the node keeps no vectors: `--vector-cache-bytes 0`).
#[derive(Clone, Copy)]
enum Way {
    Memory,
    Vec0,
}

impl Way {
    fn flags(self) -> &'static [&'static str] {
        match self {
            Way::Memory => &[],
            Way::Vec0 => &["--vector-cache-bytes", "0"],
        }
    }

    /// What EXPLAIN ANALYZE says of a shard answered this way.
    fn through(self) -> &'static str {
        match self {
            Way::Memory => "(through the shard's vectors in memory, ",
            Way::Vec0 => "(through the vec0 index, ",
        }
    }

    /// What EXPLAIN ANALYZE says of a shard read whole.
    fn whole(self) -> &'static str {
        match self {
            Way::Memory => "(the vectors in memory could not prove them: every row read)",
            Way::Vec0 => "(the vec0 index could not prove them: every row read)",
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_operator_gives_the_exact_top_k_through_vectors_in_memory() {
    every_operator_gives_the_exact_top_k(Way::Memory).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_operator_gives_the_exact_top_k_through_vec0_indexes() {
    every_operator_gives_the_exact_top_k(Way::Vec0).await;
}

/// Random vectors of three lengths (some repeated, so that rows tie; some
/// NULL) written through three nodes into 64-row shards, each shard with
/// its vec0 index.
/// Every operator's top-k, with and without a filter, before and after a
/// delete, asked of every node, must equal a brute force here: ids
/// exactly, distances within 1e-5. EXPLAIN ANALYZE shows shards answering
/// `way` and, under a filter the candidates cannot satisfy, reading every
/// row instead.
async fn every_operator_gives_the_exact_top_k(way: Way) {
    const DIMS: usize = 16;
    let flags = [&["--shard-max-rows", "64"], way.flags()].concat();
    let nodes = start_cluster(&["w1", "w2", "w3"], &flags).await;
    let mut clients = Vec::new();
    for n in &nodes {
        clients.push(n.client().await);
    }
    clients[0]
        .batch_execute(&format!(
            "CREATE TABLE emb (id bigint PRIMARY KEY, v vector({DIMS}), g int)"
        ))
        .await
        .unwrap();
    let mut rng = Rng(0xfeed_f00d);
    let mut unit = move || (rng.below(2_000_001) as f32 - 1_000_000.0) / 1_000_000.0;
    let mut rows: Vec<(i64, Option<Vec<f32>>)> = Vec::new();
    for id in 1..=900i64 {
        let v = match id {
            _ if id % 101 == 0 => None,
            _ if id % 13 == 0 => rows[id as usize - 8].1.clone(),
            _ => {
                // Lengths far apart, so that each distance ranks the rows
                // its own way (a shard narrowed by another distance's
                // order gives wrong rows).
                let scale = [0.05, 1.0, 20.0][id as usize % 3];
                Some((0..DIMS).map(|_| unit() * scale).collect())
            }
        };
        rows.push((id, v));
    }
    for (i, chunk) in rows.chunks(150).enumerate() {
        let values: Vec<String> = chunk
            .iter()
            .map(|(id, v)| {
                let v = v
                    .as_ref()
                    .map_or("NULL".into(), |v| format!("'{}'", text(v)));
                format!("({id}, {v}, {})", id % 7)
            })
            .collect();
        clients[i % 3]
            .batch_execute(&format!("INSERT INTO emb VALUES {}", values.join(", ")))
            .await
            .unwrap();
    }
    for c in &clients {
        c.batch_execute("SELECT mosaic.seal('emb')").await.unwrap();
    }
    let queries: Vec<Vec<f32>> = (0..4)
        .map(|i| match i {
            0 => rows[40].1.clone().expect("a vector"),
            _ => (0..DIMS).map(|_| unit()).collect(),
        })
        .collect();
    let check = |rows: Vec<(i64, Option<Vec<f32>>)>, round: &'static str| {
        let (clients, queries) = (&clients, &queries);
        async move {
            let mut asked = 0;
            for (qi, q) in queries.iter().enumerate() {
                for op in ["<->", "<=>", "<#>", "<+>"] {
                    for (filter, keep) in [("", None), ("WHERE g = 3", Some(3))] {
                        for k in [1usize, 10, 40] {
                            let want =
                                brute_force(&rows, op, q, k, |id| keep.is_none_or(|g| id % 7 == g));
                            let c = &clients[asked % 3];
                            asked += 1;
                            let sql = format!(
                                "SELECT id, v {op} $1 FROM emb {filter} ORDER BY v {op} $1 LIMIT {k}"
                            );
                            let got: Vec<(i64, f64)> = c
                                .query(&sql, &[&Vector(q.clone())])
                                .await
                                .unwrap()
                                .iter()
                                .map(|r| (r.get(0), r.get(1)))
                                .collect();
                            let ids = |v: &[(i64, f64)]| v.iter().map(|r| r.0).collect::<Vec<_>>();
                            assert_eq!(ids(&got), ids(&want), "{round}, query {qi}: {sql}");
                            for (g, w) in got.iter().zip(&want) {
                                assert!(
                                    (g.1 - w.1).abs() <= 1e-5,
                                    "{round}: {sql}: {g:?} vs {w:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    };
    check(rows.clone(), "before the delete").await;
    clients[1]
        .batch_execute("DELETE FROM emb WHERE id % 5 = 0 OR id BETWEEN 30 AND 60")
        .await
        .unwrap();
    rows.retain(|(id, _)| id % 5 != 0 && !(30..=60).contains(id));
    check(rows.clone(), "after the delete").await;

    let analyze = |sql: String| {
        let c = &clients[0];
        async move {
            simple_rows(c, &format!("EXPLAIN ANALYZE {sql}"))
                .await
                .into_iter()
                .filter_map(|r| r[0].clone())
                .collect::<Vec<String>>()
        }
    };
    let q = text(&queries[1]);
    let plan = analyze(format!("SELECT id FROM emb ORDER BY v <-> '{q}' LIMIT 5")).await;
    assert!(plan.iter().any(|l| l.contains(way.through())), "{plan:#?}");
    // A query vector cast from a text parameter, as drivers send it.
    let plan: Vec<String> = clients[0]
        .query(
            "EXPLAIN ANALYZE SELECT id FROM emb ORDER BY v <-> $1::text::vector LIMIT 5",
            &[&q],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(plan.iter().any(|l| l.contains(way.through())), "{plan:#?}");
    // The other distances narrow through the vectors in memory only.
    for op in ["<=>", "<#>", "<+>"] {
        let plan = analyze(format!("SELECT id FROM emb ORDER BY v {op} '{q}' LIMIT 5")).await;
        let narrowed = plan.iter().any(|l| l.contains(Way::Memory.through()));
        assert_eq!(narrowed, matches!(way, Way::Memory), "{op}: {plan:#?}");
    }
    // Only one row in a hundred passes: the candidates cannot prove five.
    let plan = analyze(format!(
        "SELECT id FROM emb WHERE id % 100 = 1 ORDER BY v <-> '{q}' LIMIT 5"
    ))
    .await;
    assert!(plan.iter().any(|l| l.contains(way.whole())), "{plan:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_tied_at_the_edge_of_the_candidates_in_memory_are_read_whole() {
    rows_tied_at_the_edge_of_the_candidates_are_read_whole(Way::Memory).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_tied_at_the_edge_of_the_vec0_candidates_are_read_whole() {
    rows_tied_at_the_edge_of_the_candidates_are_read_whole(Way::Vec0).await;
}

/// Rows tied at the edge of the candidates: 1200 rows hold the same
/// vector, so the candidates (35, then 560) are any of them, while the
/// tie is broken by the rows' values (`g` first, which falls as `id`
/// rises; PostgreSQL may return any of the tied rows, MosaicDB orders
/// them by their values). No candidate's exact distance is below the
/// bound, so the shard is read whole; a bound that let the tied
/// candidates through would answer with other rows.
async fn rows_tied_at_the_edge_of_the_candidates_are_read_whole(way: Way) {
    let nodes = start_cluster(&["t1"], way.flags()).await;
    let c = nodes[0].client().await;
    c.batch_execute(
        "CREATE TABLE dup (id int PRIMARY KEY, g int, v vector(3));
         INSERT INTO dup SELECT i, 1199 - i, '[1,2,3]' FROM generate_series(0, 1199) i;
         INSERT INTO dup VALUES (5000, 5000, '[9,9,9]');
         SELECT mosaic.seal('dup');",
    )
    .await
    .unwrap();
    // The inner product of the zero vector ties every row, [9,9,9] too.
    for op in ["<->", "<+>", "<#>"] {
        let sql = format!("SELECT g, id FROM dup ORDER BY v {op} '[0,0,0]' LIMIT 3");
        let got: Vec<Vec<Option<String>>> = simple_rows(&c, &sql).await;
        let want: Vec<Vec<Option<String>>> = [(0, 1199), (1, 1198), (2, 1197)]
            .iter()
            .map(|(g, id)| vec![Some(g.to_string()), Some(id.to_string())])
            .collect();
        assert_eq!(got, want, "{sql}");
        let plan: Vec<String> = simple_rows(&c, &format!("EXPLAIN ANALYZE {sql}"))
            .await
            .into_iter()
            .filter_map(|r| r[0].clone())
            .collect();
        // vec0 narrows `<->` only.
        let narrowed = matches!(way, Way::Memory) || op == "<->";
        let whole = plan.iter().any(|l| l.contains(way.whole()));
        assert_eq!(whole, narrowed, "{sql}: {plan:#?}");
    }
}
