//! Exact nearest-neighbour search (`ORDER BY v <-> $1 LIMIT k`) on one
//! MosaicDB node and on a three-node cluster, against PostgreSQL 15 with
//! pgvector (a sequential scan, no index: the exact answer), numpy brute
//! force, and in-process SQLite: sqlite-vec's `vec0` (the floor of
//! MosaicDB's stack: one file, no protocol) and a plain scan with
//! MosaicDB's own distance function. The same seeded vectors go into
//! each; every query's ids must agree between them all, and the median
//! latency per query is reported.
//!
//! benches/vector-knn.sh starts the servers and runs this. Without a server
//! to talk to (as under `cargo test --all-targets`) it exits at once.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio_postgres::Client;

#[path = "shared/client.rs"]
mod client;
use client::{connect, copy_lines, median_ms};

#[derive(Parser)]
#[command(about = "nearest-neighbour search: MosaicDB vs PostgreSQL+pgvector vs SQLite")]
struct Args {
    /// MosaicDB connection string.
    #[arg(long)]
    mosaic: Option<String>,
    /// PostgreSQL connection string (a database where pgvector is installed).
    #[arg(long)]
    pg: Option<String>,
    /// Connection strings of the nodes of a cluster (given once per node):
    /// each loads and seals a third of the rows, the first is asked.
    #[arg(long)]
    cluster: Vec<String>,
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    #[arg(long, default_value_t = 128)]
    dims: usize,
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Query vectors timed (one untimed query first).
    #[arg(long, default_value_t = 21)]
    queries: usize,
    /// Folder for the SQLite floor's file.
    #[arg(long, default_value = "/tmp")]
    dir: PathBuf,
    /// Ignored: what `cargo bench` passes.
    #[arg(long)]
    bench: bool,
}

fn vectors(n: usize, dims: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..dims).map(|_| rng.gen_range(-1.0f32..1.0)).collect())
        .collect()
}

fn text(v: &[f32]) -> String {
    let items: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", items.join(","))
}

/// Load the rows with COPY, through each client in turn a slice of them
/// (then sealed there, or vacuumed); seconds taken.
async fn load(clients: &[Client], rows: &[Vec<f32>], dims: usize, seal: bool) -> f64 {
    clients[0]
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS knn; CREATE TABLE knn (id int PRIMARY KEY, v vector({dims}))"
        ))
        .await
        .expect("create table");
    // The other nodes learn of the table from the first.
    for client in &clients[1..] {
        let mut tries = 0;
        while client
            .simple_query("SELECT 1 FROM knn LIMIT 0")
            .await
            .is_err()
        {
            tries += 1;
            assert!(tries < 200, "the table did not reach every node");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    let start = Instant::now();
    let per = rows.len().div_ceil(clients.len());
    for (n, client) in clients.iter().enumerate() {
        let lines = (rows.iter().enumerate())
            .skip(n * per)
            .take(per)
            .map(|(i, v)| format!("{}\t{}\n", i + 1, text(v)));
        copy_lines(client, "COPY knn (id, v) FROM STDIN", lines).await;
        let after = if seal {
            "SELECT mosaic.seal('knn')"
        } else {
            "VACUUM ANALYZE knn"
        };
        client.batch_execute(after).await.expect("seal or vacuum");
    }
    start.elapsed().as_secs_f64()
}

/// The ids of each query's k nearest rows, and the median time per query.
async fn server_queries(client: &Client, queries: &[Vec<f32>], k: usize) -> (Vec<Vec<i64>>, f64) {
    let sql = format!("SELECT id FROM knn ORDER BY v <-> $1::text::vector LIMIT {k}");
    let stmt = client.prepare(&sql).await.expect("prepare");
    let mut ids = Vec::new();
    let mut times = Vec::new();
    for (i, q) in queries.iter().enumerate() {
        let start = Instant::now();
        let rows = client.query(&stmt, &[&text(q)]).await.expect("query");
        if i > 0 {
            times.push(start.elapsed());
        }
        ids.push(rows.iter().map(|r| i64::from(r.get::<_, i32>(0))).collect());
    }
    (ids, median_ms(times))
}

/// How in-process SQLite answers: sqlite-vec's `vec0`, or a scan of a
/// plain table with MosaicDB's `pg_vector_l2`.
#[derive(Clone, Copy)]
enum Floor {
    Vec0,
    Scan,
}

/// In-process SQLite: the rows as MosaicDB stores them (little-endian f32
/// BLOBs) in a file in WAL mode; seconds to load, ids, median ms.
fn floor(
    how: Floor,
    dir: &std::path::Path,
    rows: &[Vec<f32>],
    queries: &[Vec<f32>],
    k: usize,
) -> (f64, Vec<Vec<i64>>, f64) {
    let path = dir.join("vector-knn-floor.db");
    let _ = std::fs::remove_file(&path);
    let start = Instant::now();
    let conn = rusqlite::Connection::open(&path).expect("sqlite");
    // MosaicDB's functions, and sqlite-vec with them.
    mosaic::store::udf::register(&conn).expect("udfs");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    let (create, query) = match how {
        Floor::Vec0 => (
            format!(
                "CREATE VIRTUAL TABLE knn USING vec0(v float[{}])",
                rows[0].len()
            ),
            format!("SELECT rowid FROM knn WHERE v MATCH ?1 AND k = {k} ORDER BY distance"),
        ),
        Floor::Scan => (
            "CREATE TABLE knn (id INTEGER PRIMARY KEY, v BLOB) STRICT".to_string(),
            format!("SELECT id FROM knn ORDER BY pg_vector_l2(v, ?1) LIMIT {k}"),
        ),
    };
    conn.execute_batch(&create).expect("table");
    let tx = conn.unchecked_transaction().expect("tx");
    {
        let mut ins = tx
            .prepare("INSERT INTO knn(rowid, v) VALUES (?1, ?2)")
            .expect("insert");
        for (i, v) in rows.iter().enumerate() {
            ins.execute(rusqlite::params![
                i as i64 + 1,
                mosaic::types::vector::to_blob(v)
            ])
            .expect("row");
        }
    }
    tx.commit().expect("commit");
    let load_s = start.elapsed().as_secs_f64();
    let mut stmt = conn.prepare(&query).expect("prepare");
    let mut ids = Vec::new();
    let mut times = Vec::new();
    for (i, q) in queries.iter().enumerate() {
        let start = Instant::now();
        let got: Vec<i64> = stmt
            .query_map([mosaic::types::vector::to_blob(q)], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        if i > 0 {
            times.push(start.elapsed());
        }
        ids.push(got);
    }
    drop(stmt);
    drop(conn);
    let _ = std::fs::remove_file(&path);
    (load_s, ids, median_ms(times))
}

/// numpy brute force (benches/vector_knn_numpy.py) over the same vectors,
/// handed over as raw little-endian f32 files; `None` without python3 and
/// numpy.
fn numpy(
    dir: &std::path::Path,
    rows: &[Vec<f32>],
    queries: &[Vec<f32>],
    k: usize,
) -> Option<(Vec<Vec<i64>>, f64)> {
    let raw = |vs: &[Vec<f32>]| -> Vec<u8> {
        vs.iter()
            .flat_map(|v| mosaic::types::vector::to_blob(v))
            .collect()
    };
    std::fs::write(dir.join("rows.f32"), raw(rows)).expect("rows file");
    std::fs::write(dir.join("queries.f32"), raw(queries)).expect("queries file");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/vector_knn_numpy.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(dir)
        .args([rows.len(), rows[0].len(), k].map(|n| n.to_string()))
        .output()
        .ok()
        .filter(|o| o.status.success());
    let _ = std::fs::remove_file(dir.join("rows.f32"));
    let _ = std::fs::remove_file(dir.join("queries.f32"));
    let Some(out) = out else {
        eprintln!(
            "numpy brute force did not run (python3 with numpy needed): its line is left out"
        );
        return None;
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    let ms: f64 = lines.next()?.trim().parse().ok()?;
    let ids = lines
        .map(|l| {
            l.split_whitespace()
                .filter_map(|i| i.parse().ok())
                .collect()
        })
        .collect();
    Some((ids, ms))
}

#[tokio::main]
async fn main() {
    let servers_given = std::env::args()
        .any(|a| a.starts_with("--mosaic") || a.starts_with("--pg") || a.starts_with("--cluster"));
    if !servers_given {
        eprintln!("vector_knn: no servers given; run benches/vector-knn.sh (skipping)");
        return;
    }
    let args = Args::parse();
    let rows = vectors(args.rows, args.dims, 42);
    let queries = vectors(args.queries + 1, args.dims, 7);
    let mut table = Vec::new();
    let mut answers = Vec::new();
    let one = |c: &Option<String>| c.iter().cloned().collect::<Vec<_>>();
    for (name, conns, seal) in [
        ("MosaicDB, one node", one(&args.mosaic), true),
        (
            "MosaicDB, three nodes (asked: the first)",
            args.cluster.clone(),
            true,
        ),
        ("PostgreSQL 15 + pgvector (no index)", one(&args.pg), false),
    ] {
        if conns.is_empty() {
            continue;
        }
        eprintln!("==> {name}: loading {} rows", args.rows);
        let mut clients = Vec::new();
        for c in &conns {
            clients.push(connect(c).await);
        }
        let load_s = load(&clients, &rows, args.dims, seal).await;
        let (ids, ms) = server_queries(&clients[0], &queries, args.k).await;
        table.push((name, format!("{load_s:.2}"), ms));
        answers.push((name, ids));
    }
    eprintln!("==> numpy");
    if let Some((ids, ms)) = numpy(&args.dir, &rows, &queries, args.k) {
        table.push(("numpy brute force (float32)", "–".into(), ms));
        answers.push(("numpy", ids));
    }
    for (how, name) in [
        (Floor::Vec0, "SQLite in process, sqlite-vec vec0"),
        (
            Floor::Scan,
            "SQLite in process, scan with MosaicDB's pg_vector_l2",
        ),
    ] {
        eprintln!("==> {name}");
        let (load_s, ids, ms) = floor(how, &args.dir, &rows, &queries, args.k);
        table.push((name, format!("{load_s:.2}"), ms));
        answers.push((name, ids));
    }
    let disagree: Vec<&str> = answers
        .iter()
        .filter(|(_, ids)| *ids != answers[0].1)
        .map(|(name, _)| *name)
        .collect();
    println!(
        "{} rows of vector({}), top {} by L2 distance, median of {} queries; \
         every query's ids {}",
        args.rows,
        args.dims,
        args.k,
        args.queries,
        if disagree.is_empty() {
            format!("agree between the {} systems", answers.len())
        } else {
            format!(
                "of {} DISAGREE with {}'s",
                disagree.join(", "),
                answers[0].0
            )
        }
    );
    println!();
    let floor_ms = table
        .iter()
        .find(|(name, ..)| name.contains("vec0"))
        .map_or(f64::NAN, |(.., ms)| *ms);
    println!("| system | load + seal/vacuum (s) | query (ms) | × sqlite-vec |");
    println!("|---|---:|---:|---:|");
    for (name, load_s, ms) in &table {
        println!("| {name} | {load_s} | {ms:.1} | {:.2} |", ms / floor_ms);
    }
    if !disagree.is_empty() {
        std::process::exit(1);
    }
}
