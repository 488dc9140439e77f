//! Exact nearest-neighbour search (`ORDER BY v <-> $1 LIMIT k`) on MosaicDB
//! against PostgreSQL 15 with pgvector (a sequential scan, no index: the
//! exact answer) and against in-process SQLite running MosaicDB's own
//! distance function over the same rows (the floor: one file, no protocol).
//! The same seeded vectors go into each; every query's ids must agree
//! between the three, and the median latency per query is reported.
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

/// Load the rows with COPY; seconds taken.
async fn load(client: &Client, rows: &[Vec<f32>], dims: usize, seal: bool) -> f64 {
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS knn; CREATE TABLE knn (id int PRIMARY KEY, v vector({dims}))"
        ))
        .await
        .expect("create table");
    let start = Instant::now();
    let lines = (rows.iter().enumerate()).map(|(i, v)| format!("{}\t{}\n", i + 1, text(v)));
    copy_lines(client, "COPY knn (id, v) FROM STDIN", lines).await;
    if seal {
        client
            .batch_execute("SELECT mosaic.seal('knn')")
            .await
            .expect("seal");
    } else {
        client
            .batch_execute("VACUUM ANALYZE knn")
            .await
            .expect("vacuum");
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

/// In-process SQLite: the rows as MosaicDB stores them (little-endian f32
/// BLOBs) in a file in WAL mode, scanned with MosaicDB's `pg_vector_l2`.
fn floor(
    dir: &std::path::Path,
    rows: &[Vec<f32>],
    queries: &[Vec<f32>],
    k: usize,
) -> (Vec<Vec<i64>>, f64) {
    let path = dir.join("vector-knn-floor.db");
    let _ = std::fs::remove_file(&path);
    let conn = rusqlite::Connection::open(&path).expect("sqlite");
    mosaic::store::udf::register(&conn).expect("udfs");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.execute_batch("CREATE TABLE knn (id INTEGER PRIMARY KEY, v BLOB) STRICT")
        .expect("table");
    let tx = conn.unchecked_transaction().expect("tx");
    {
        let mut ins = tx
            .prepare("INSERT INTO knn VALUES (?1, ?2)")
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
    let mut stmt = conn
        .prepare(&format!(
            "SELECT id FROM knn ORDER BY pg_vector_l2(v, ?1) LIMIT {k}"
        ))
        .expect("prepare");
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
    let _ = std::fs::remove_file(&path);
    (ids, median_ms(times))
}

#[tokio::main]
async fn main() {
    let servers_given =
        std::env::args().any(|a| a.starts_with("--mosaic") || a.starts_with("--pg"));
    if !servers_given {
        eprintln!("vector_knn: no servers given; run benches/vector-knn.sh (skipping)");
        return;
    }
    let args = Args::parse();
    let rows = vectors(args.rows, args.dims, 42);
    let queries = vectors(args.queries + 1, args.dims, 7);
    let mut table = Vec::new();
    let mut answers = Vec::new();
    for (name, conn, seal) in [
        ("MosaicDB", &args.mosaic, true),
        ("PostgreSQL 15 + pgvector (no index)", &args.pg, false),
    ] {
        let Some(conn) = conn else { continue };
        eprintln!("==> {name}: loading {} rows", args.rows);
        let client = connect(conn).await;
        let load_s = load(&client, &rows, args.dims, seal).await;
        let (ids, ms) = server_queries(&client, &queries, args.k).await;
        table.push((name, format!("{load_s:.2}"), format!("{ms:.1}")));
        answers.push((name, ids));
    }
    eprintln!("==> SQLite in process");
    let start = Instant::now();
    let (ids, ms) = floor(&args.dir, &rows, &queries, args.k);
    let load_s = start.elapsed().as_secs_f64();
    table.push((
        "SQLite in process (MosaicDB's pg_vector_l2)",
        format!("{load_s:.2}"),
        format!("{ms:.1}"),
    ));
    answers.push(("SQLite", ids));
    let agree = answers.windows(2).all(|w| w[0].1 == w[1].1);
    println!(
        "{} rows of vector({}), top {} by L2 distance, median of {} queries; \
         every query's ids {} between the systems",
        args.rows,
        args.dims,
        args.k,
        args.queries,
        if agree { "agree" } else { "DISAGREE" }
    );
    println!();
    println!("| system | load + seal/vacuum (s) | query (ms) |");
    println!("|---|---:|---:|");
    for (name, load_s, ms) in &table {
        println!("| {name} | {load_s} | {ms} |");
    }
    if !agree {
        std::process::exit(1);
    }
}
