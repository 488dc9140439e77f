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
