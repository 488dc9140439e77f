//! Spatial queries over points on MosaicDB against PostgreSQL 15 with
//! PostGIS (a GiST index, as its users create) and against in-process
//! SQLite with an R*Tree over the same points (the floor: one file, no
//! protocol). Two queries: the 10 nearest points (`ORDER BY geom <-> $1
//! LIMIT 10`) and the points within a distance (`count(*) WHERE
//! ST_DWithin(geom, $1, r)`). The same seeded points go into each, loaded
//! in order of x (data that arrives in a sweep, so MosaicDB's shards each
//! cover a band and prune by their bounding box); every query's answer
//! must agree between the systems, and the median latency is reported.
//!
//! benches/geometry-knn.sh starts the servers and runs this. Without a
//! server to talk to (as under `cargo test --all-targets`) it exits at once.

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
#[command(about = "spatial queries: MosaicDB vs PostgreSQL+PostGIS vs SQLite with an R*Tree")]
struct Args {
    /// MosaicDB connection string.
    #[arg(long)]
    mosaic: Option<String>,
    /// PostgreSQL connection string (a database where PostGIS can be created).
    #[arg(long)]
    pg: Option<String>,
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// The distance of the within-distance query (points lie in a
    /// 1000 × 1000 square).
    #[arg(long, default_value_t = 5.0)]
    radius: f64,
    /// Query points timed (one untimed query first).
    #[arg(long, default_value_t = 21)]
    queries: usize,
    /// Folder for the SQLite floor's file.
    #[arg(long, default_value = "/tmp")]
    dir: PathBuf,
    /// Ignored: what `cargo bench` passes.
    #[arg(long)]
    bench: bool,
}

/// Points on a 1/1000 grid of a 1000 × 1000 square, so every distance is
/// computed from exact coordinates the same way everywhere.
fn points(n: usize, seed: u64) -> Vec<(f64, f64)> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            (
                rng.gen_range(0..1_000_000) as f64 / 1000.0,
                rng.gen_range(0..1_000_000) as f64 / 1000.0,
            )
        })
        .collect()
}

/// Load the rows with COPY (in x order, as given); seconds taken.
async fn load(client: &Client, rows: &[(i64, (f64, f64))], mosaic: bool) -> f64 {
    client
        .batch_execute(
            "CREATE EXTENSION IF NOT EXISTS postgis; DROP TABLE IF EXISTS pts; \
             CREATE TABLE pts (id int PRIMARY KEY, geom geometry(Point))",
        )
        .await
        .expect("create table");
    let start = Instant::now();
    let lines = rows
        .iter()
        .map(|(id, (x, y))| format!("{id}\tPOINT({x} {y})\n"));
    copy_lines(client, "COPY pts (id, geom) FROM STDIN", lines).await;
    let finish: &[&str] = if mosaic {
        &["SELECT mosaic.seal('pts')"]
    } else {
        // Two statements: VACUUM cannot run in the block one batch makes.
        &[
            "CREATE INDEX ON pts USING gist (geom)",
            "VACUUM ANALYZE pts",
        ]
    };
    for sql in finish {
        client.batch_execute(sql).await.expect("seal or index");
    }
    start.elapsed().as_secs_f64()
}

/// Each query's answer (the nearest ids, or the count within the
/// distance) and the median time of each kind.
struct Answers {
    nearest: Vec<Vec<i64>>,
    within: Vec<i64>,
    nearest_ms: f64,
    within_ms: f64,
}

async fn server_queries(client: &Client, queries: &[(f64, f64)], args: &Args) -> Answers {
    let point = "ST_MakePoint($1::float8, $2::float8)";
    let nearest = client
        .prepare(&format!(
            "SELECT id FROM pts ORDER BY geom <-> {point} LIMIT {}",
            args.k
        ))
        .await
        .expect("prepare");
    let within = client
        .prepare(&format!(
            "SELECT count(*) FROM pts WHERE ST_DWithin(geom, {point}, {})",
            args.radius
        ))
        .await
        .expect("prepare");
    let mut out = Answers {
        nearest: vec![],
        within: vec![],
        nearest_ms: 0.0,
        within_ms: 0.0,
    };
    let (mut tn, mut tw) = (vec![], vec![]);
    for (i, (x, y)) in queries.iter().enumerate() {
        let start = Instant::now();
        let rows = client.query(&nearest, &[x, y]).await.expect("nearest");
        if i > 0 {
            tn.push(start.elapsed());
        }
        out.nearest
            .push(rows.iter().map(|r| i64::from(r.get::<_, i32>(0))).collect());
        let start = Instant::now();
        let row = client.query_one(&within, &[x, y]).await.expect("within");
        if i > 0 {
            tw.push(start.elapsed());
        }
        out.within.push(row.get::<_, i64>(0));
    }
    out.nearest_ms = median_ms(tn);
    out.within_ms = median_ms(tw);
    out
}

/// In-process SQLite: the points as MosaicDB stores them (EWKB BLOBs) in
/// a file in WAL mode with an R*Tree of their boxes; the nearest by a scan
/// with MosaicDB's distance, those within the distance by the R*Tree and
/// then MosaicDB's `st_dwithin`.
fn floor(
    dir: &std::path::Path,
    rows: &[(i64, (f64, f64))],
    queries: &[(f64, f64)],
    args: &Args,
) -> Answers {
    use mosaic::types::geometry::{encode, Coord, Geometry, Shape};
    let blob = |x: f64, y: f64| {
        encode(&Geometry {
            srid: 0,
            shape: Shape::Point(Some(Coord { x, y })),
        })
    };
    let path = dir.join("geometry-knn-floor.db");
    let _ = std::fs::remove_file(&path);
    let conn = rusqlite::Connection::open(&path).expect("sqlite");
    mosaic::store::udf::register(&conn).expect("udfs");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.execute_batch(
        "CREATE TABLE pts (id INTEGER PRIMARY KEY, geom BLOB) STRICT; \
         CREATE VIRTUAL TABLE pts_box USING rtree(id, minx, maxx, miny, maxy)",
    )
    .expect("tables");
    let tx = conn.unchecked_transaction().expect("tx");
    {
        let mut ins = tx
            .prepare("INSERT INTO pts VALUES (?1, ?2)")
            .expect("insert");
        let mut boxes = tx
            .prepare("INSERT INTO pts_box VALUES (?1, ?2, ?2, ?3, ?3)")
            .expect("insert");
        for (id, (x, y)) in rows {
            ins.execute(rusqlite::params![id, blob(*x, *y)])
                .expect("row");
            boxes.execute(rusqlite::params![id, x, y]).expect("box");
        }
    }
    tx.commit().expect("commit");
    let mut nearest = conn
        .prepare(&format!(
            "SELECT id FROM pts ORDER BY st_distance(geom, ?1) LIMIT {}",
            args.k
        ))
        .expect("prepare");
    let mut within = conn
        .prepare(
            "SELECT count(*) FROM pts WHERE id IN (SELECT id FROM pts_box \
             WHERE maxx >= ?2 AND minx <= ?3 AND maxy >= ?4 AND miny <= ?5) \
             AND st_dwithin(geom, ?1, ?6)",
        )
        .expect("prepare");
    let mut out = Answers {
        nearest: vec![],
        within: vec![],
        nearest_ms: 0.0,
        within_ms: 0.0,
    };
    let (mut tn, mut tw) = (vec![], vec![]);
    let r = args.radius;
    for (i, (x, y)) in queries.iter().enumerate() {
        let q = blob(*x, *y);
        let start = Instant::now();
        let got: Vec<i64> = nearest
            .query_map([&q], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        if i > 0 {
            tn.push(start.elapsed());
        }
        out.nearest.push(got);
        let start = Instant::now();
        let n: i64 = within
            .query_row(rusqlite::params![q, x - r, x + r, y - r, y + r, r], |row| {
                row.get(0)
            })
            .expect("within");
        if i > 0 {
            tw.push(start.elapsed());
        }
        out.within.push(n);
    }
    out.nearest_ms = median_ms(tn);
    out.within_ms = median_ms(tw);
    let _ = std::fs::remove_file(&path);
    out
}

#[tokio::main]
async fn main() {
    let servers_given =
        std::env::args().any(|a| a.starts_with("--mosaic") || a.starts_with("--pg"));
    if !servers_given {
        eprintln!("geometry_knn: no servers given; run benches/geometry-knn.sh (skipping)");
        return;
    }
    let args = Args::parse();
    let mut rows: Vec<(i64, (f64, f64))> = points(args.rows, 42)
        .into_iter()
        .enumerate()
        .map(|(i, p)| (i as i64 + 1, p))
        .collect();
    rows.sort_by(|a, b| a.1 .0.total_cmp(&b.1 .0).then(a.0.cmp(&b.0)));
    let queries = points(args.queries + 1, 7);
    let mut table = Vec::new();
    let mut answers = Vec::new();
    for (name, conn, mosaic) in [
        ("MosaicDB", &args.mosaic, true),
        ("PostgreSQL 15 + PostGIS 3.3 (GiST index)", &args.pg, false),
    ] {
        let Some(conn) = conn else { continue };
        eprintln!("==> {name}: loading {} points", args.rows);
        let client = connect(conn).await;
        let load_s = load(&client, &rows, mosaic).await;
        let a = server_queries(&client, &queries, &args).await;
        table.push((name, load_s, a.nearest_ms, a.within_ms));
        answers.push(a);
    }
    eprintln!("==> SQLite in process");
    let start = Instant::now();
    let a = floor(&args.dir, &rows, &queries, &args);
    let load_s = start.elapsed().as_secs_f64();
    table.push((
        "SQLite in process (R*Tree; MosaicDB's st_distance, st_dwithin)",
        load_s,
        a.nearest_ms,
        a.within_ms,
    ));
    answers.push(a);
    // Ties at the k-th distance could make two right answers differ; the
    // grid of a million points in a square of 10^12 cells makes them rare,
    // and a disagreement is reported, not hidden.
    let agree = answers
        .windows(2)
        .all(|w| w[0].nearest == w[1].nearest && w[0].within == w[1].within);
    let mean_within =
        answers[0].within.iter().sum::<i64>() as f64 / answers[0].within.len().max(1) as f64;
    println!(
        "{} points in a 1000 x 1000 square (loaded in x order), {} nearest by <->, \
         and count(*) within {} (about {mean_within:.0} points), median of {} queries; \
         every answer {} between the systems",
        args.rows,
        args.k,
        args.radius,
        args.queries,
        if agree { "agrees" } else { "DISAGREES" }
    );
    println!();
    println!(
        "| system | load + seal/index (s) | nearest {} (ms) | within {} (ms) |",
        args.k, args.radius
    );
    println!("|---|---:|---:|---:|");
    for (name, load_s, n, w) in &table {
        println!("| {name} | {load_s:.2} | {n:.1} | {w:.2} |");
    }
    if !agree {
        std::process::exit(1);
    }
}
