//! MosaicDB on one node against MosaicDB on three nodes of one cluster, with
//! the same rows: a GROUP BY aggregate and a top-k query issued at the first
//! node (median of a few runs, with each server's CPU per query), point
//! selects by primary key, and the fraction of shards that pruning skips
//! for point and LIKE queries, summed over every node's EXPLAIN. PostgreSQL
//! 15 runs the same statements when given. Prints a markdown report on
//! stdout, progress on stderr.
//!
//! Then NOTIFY's delivery latency within a node and between nodes
//! (`notify.rs`).
//!
//! With `--failover`, after everything else, a failover phase on the
//! cluster (`failover.rs`): wait until every shard has a copy, kill -9 the
//! last cluster node, and time the first query after the kill, how long
//! until the node is declared down, and the scans with it dead.
//!
//! benches/run-cluster.sh starts the servers and runs this; it takes
//! connection strings and pids and never starts a server itself, nor stops
//! one, except that `--failover` kills the last cluster node at the end.
//! Without servers (as under `cargo test --all-targets`) it exits at once.

#[path = "../mosaic_vs_pg/cpu.rs"]
mod cpu;
// Shared with mosaic_vs_pg, which also uses the typed values.
#[allow(dead_code)]
#[path = "../mosaic_vs_pg/data.rs"]
mod data;
mod failover;
mod load;
mod notify;
mod prune;
mod report;
// Shared with mosaic_vs_pg, which uses more of it than this bench does.
#[allow(dead_code)]
#[path = "../mosaic_vs_pg/server.rs"]
mod server;

use std::time::{Duration, Instant};

use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio_postgres::{Client, Row};

use prune::Tally;
use server::Outcome;

pub const GROUP_SQL: &str = "SELECT grp, count(*), sum(val), avg(val) FROM bench_kv GROUP BY grp";
pub const TOPK_SQL: &str = "SELECT id, val FROM bench_kv ORDER BY val DESC LIMIT 10";
pub const POINT_SQL: &str = "SELECT id, val FROM bench_kv WHERE id = $1";
pub const LIKE_SQL: &str = "SELECT count(*) FROM bench_kv WHERE name LIKE '%x123%'";
/// No name holds `qqq`: what the trigram blooms can do at best.
pub const LIKE_ABSENT_SQL: &str = "SELECT count(*) FROM bench_kv WHERE name LIKE '%qqq%'";

#[derive(Parser)]
#[command(about = "MosaicDB 1 node vs 3 nodes (and PostgreSQL); see benches/run-cluster.sh")]
pub struct Args {
    /// Connection string of the single MosaicDB node.
    #[arg(long)]
    single: Option<String>,
    /// pid of the single node's process (node.json `pid`).
    #[arg(long, default_value_t = 0)]
    single_pid: u32,
    /// Connection string of one cluster node; give it once per node, the
    /// node queries are issued at first.
    #[arg(long)]
    cluster: Vec<String>,
    /// pid of each cluster node, in the order of --cluster.
    #[arg(long)]
    cluster_pid: Vec<u32>,
    /// PostgreSQL connection string (optional).
    #[arg(long)]
    pg: Option<String>,
    /// pid of the postmaster.
    #[arg(long, default_value_t = 0)]
    pg_pid: u32,
    /// Rows in bench_kv.
    #[arg(long, default_value_t = 600_000)]
    pub rows: u64,
    /// Timed runs per query (the median is reported; one untimed run first).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Point queries for latency and for the pruning counts.
    #[arg(long, default_value_t = 1000)]
    pub point_queries: usize,
    /// Seed for the rows and the point-query ids.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// COPY the rows in a seeded random order instead of by id, so each
    /// shard's zone maps span (nearly) all ids and only the blooms can prune.
    #[arg(long)]
    pub shuffle: bool,
    /// The --shard-max-rows the MosaicDB nodes run with (for the report).
    #[arg(long)]
    pub shard_max_rows: Option<u64>,
    /// After all else, kill -9 the last --cluster node and measure how the
    /// cluster answers without it (see failover.rs).
    #[arg(long)]
    pub failover: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// One system under test: one or more server processes, queried at the first.
pub struct Setup {
    pub label: String,
    pub conns: Vec<String>,
    pub pids: Vec<u32>,
    pub mosaic: bool,
}

/// A query's median time and what each server process spent on it.
pub struct Timed {
    pub ms: f64,
    /// Server CPU milliseconds per run, one per process in `Setup::pids`.
    pub cpu_ms: Vec<f64>,
    pub rows: Vec<Row>,
}

/// Point selects by primary key, one at a time on one connection.
pub struct Points {
    pub median_ms: f64,
    pub p90_ms: f64,
    /// Server CPU microseconds per query, one per process in `Setup::pids`.
    pub cpu_us: Vec<f64>,
}

/// Everything measured on one setup.
pub struct Measured {
    pub load: Outcome<load::Loaded>,
    pub group: Outcome<Timed>,
    pub topk: Outcome<Timed>,
    pub points: Outcome<Points>,
    /// (what, tally) for each pruning probe; MosaicDB only.
    pub pruning: Vec<(String, Outcome<Tally>)>,
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` runs this binary too, with no servers and
    // perhaps libtest flags that are not ours.
    let servers_given =
        std::env::args().any(|a| a.starts_with("--single") || a.starts_with("--cluster"));
    if !servers_given {
        eprintln!("cluster bench: no servers given; run benches/run-cluster.sh (skipping)");
        return;
    }
    let args = Args::parse();
    let setups = setups(&args).unwrap_or_else(|e| {
        eprintln!("cluster bench: {e}");
        std::process::exit(2);
    });

    eprintln!("generating {} rows", args.rows);
    let chunks = data::copy_text(args.rows, args.seed, usize::MAX);
    let mut all = chunks.first().cloned().unwrap_or_default();
    drop(chunks);
    if args.shuffle {
        all = shuffled(&all, args.seed);
    }
    let ids = point_ids(&args);
    let names = names_of(&args, &ids);

    let mut measured = Vec::new();
    for s in &setups {
        let parts = load::split(&all, args.rows, s.conns.len());
        measured.push(measure(&args, s, &parts, &ids, &names).await);
    }
    let notify = notify::section(&setups, args.point_queries.min(500)).await;
    // Last, so that nothing else runs beside a cluster that lost a node
    // and is copying shards again.
    let mut failed_over = None;
    if args.failover {
        match setups.iter().position(|s| s.mosaic && s.conns.len() > 1) {
            Some(i) if measured[i].load.is_ok() => {
                failed_over = Some((i, failover::run(&setups[i], args.runs).await));
            }
            Some(_) => eprintln!("--failover: the cluster did not load; skipping"),
            None => eprintln!("--failover: no cluster of 2 or more nodes; skipping"),
        }
    }
    print!(
        "{}{notify}",
        report::render(&args, &setups, &measured, failed_over.as_ref())
    );
}

fn setups(args: &Args) -> Result<Vec<Setup>, String> {
    let mut setups = Vec::new();
    if let Some(conn) = &args.single {
        setups.push(Setup {
            label: "MosaicDB, 1 node".into(),
            conns: vec![conn.clone()],
            pids: vec![args.single_pid],
            mosaic: true,
        });
    }
    if !args.cluster.is_empty() {
        setups.push(Setup {
            label: format!("MosaicDB, {} nodes", args.cluster.len()),
            conns: args.cluster.clone(),
            pids: args.cluster_pid.clone(),
            mosaic: true,
        });
    }
    if let Some(conn) = &args.pg {
        setups.push(Setup {
            label: "PostgreSQL 15".into(),
            conns: vec![conn.clone()],
            pids: vec![args.pg_pid],
            mosaic: false,
        });
    }
    // A pid of 0 would make the CPU accounting sum the whole machine.
    for s in &setups {
        if s.pids.len() != s.conns.len() || s.pids.contains(&0) {
            return Err(format!("{}: give one non-zero pid per connection", s.label));
        }
    }
    Ok(setups)
}

/// The COPY text's lines in a seeded random order.
fn shuffled(text: &bytes::Bytes, seed: u64) -> bytes::Bytes {
    use rand::seq::SliceRandom;
    let mut lines: Vec<&[u8]> = text.split_inclusive(|b| *b == b'\n').collect();
    lines.shuffle(&mut StdRng::seed_from_u64(seed ^ 0x5eed));
    bytes::Bytes::from(lines.concat())
}

/// Uniform ids in `1..=rows`, the same for every setup.
fn point_ids(args: &Args) -> Vec<i64> {
    let mut rng = StdRng::seed_from_u64(args.seed ^ 0x9e37);
    (0..args.point_queries)
        .map(|_| rng.gen_range(1..=args.rows as i64))
        .collect()
}

/// The `name` of each id, for equality probes that zone maps cannot help
/// with (names of one shard span most of the text range).
fn names_of(args: &Args, ids: &[i64]) -> Vec<String> {
    let wanted: std::collections::HashSet<i64> = ids.iter().copied().collect();
    let by_id: std::collections::HashMap<i64, String> = data::rows(args.rows, args.seed)
        .filter(|r| wanted.contains(&r.id))
        .map(|r| (r.id, r.name))
        .collect();
    ids.iter().map(|id| by_id[id].clone()).collect()
}

async fn measure(
    args: &Args,
    s: &Setup,
    parts: &[Vec<bytes::Bytes>],
    ids: &[i64],
    names: &[String],
) -> Measured {
    eprintln!("{}: connecting", s.label);
    let mut clients = Vec::new();
    for conn in &s.conns {
        match server::connect(conn).await {
            Ok(c) => clients.push(c),
            Err(e) => return Measured::failed(e),
        }
    }
    let loaded = load::run(s, &clients, parts, args.rows).await;
    if let Err(e) = &loaded {
        return Measured::failed(e.clone());
    }
    let first = &clients[0];
    eprintln!("{}: GROUP BY", s.label);
    let group = timed_runs(first, GROUP_SQL, args.runs, &s.pids).await;
    eprintln!("{}: top-k", s.label);
    let topk = timed_runs(first, TOPK_SQL, args.runs, &s.pids).await;
    eprintln!("{}: {} point selects", s.label, ids.len());
    let points = point_selects(first, ids, &s.pids).await;
    let mut pruning = Vec::new();
    if s.mosaic {
        eprintln!("{}: EXPLAIN on every node", s.label);
        pruning = pruning_probes(&clients, ids, names).await;
    }
    Measured {
        load: loaded,
        group,
        topk,
        points,
        pruning,
    }
}

impl Measured {
    fn failed(e: String) -> Measured {
        Measured {
            load: Err(e.clone()),
            group: Err(e.clone()),
            topk: Err(e.clone()),
            points: Err(e),
            pruning: Vec::new(),
        }
    }
}

/// One untimed run, then `runs` timed ones; server CPU is sampled around
/// the timed runs for every process of the setup.
async fn timed_runs(client: &Client, sql: &str, runs: usize, pids: &[u32]) -> Outcome<Timed> {
    let query = || async {
        tokio::time::timeout(Duration::from_secs(600), client.query(sql, &[]))
            .await
            .map_err(|_| format!("{sql}: timed out"))?
            .map_err(|e| format!("{sql}: {}", server_error(&e)))
    };
    let mut rows = query().await?;
    let before: Vec<f64> = pids.iter().map(|p| cpu::tree_seconds(*p)).collect();
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        rows = query().await?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let cpu_ms = pids
        .iter()
        .zip(&before)
        .map(|(p, b)| (cpu::tree_seconds(*p) - b) * 1e3 / runs.max(1) as f64)
        .collect();
    Ok(Timed {
        ms: server::median(&mut times),
        cpu_ms,
        rows,
    })
}

async fn point_selects(client: &Client, ids: &[i64], pids: &[u32]) -> Outcome<Points> {
    let stmt = client
        .prepare(POINT_SQL)
        .await
        .map_err(|e| format!("PREPARE {POINT_SQL}: {}", server_error(&e)))?;
    let one = |id: i64| {
        let stmt = &stmt;
        async move {
            let rows = client
                .query(stmt, &[&id])
                .await
                .map_err(|e| format!("id = {id}: {}", server_error(&e)))?;
            match rows.len() {
                1 => Ok(()),
                n => Err(format!("id = {id}: {n} rows, not 1")),
            }
        }
    };
    for id in ids.iter().take(50) {
        one(*id).await?;
    }
    let before: Vec<f64> = pids.iter().map(|p| cpu::tree_seconds(*p)).collect();
    let mut times = Vec::with_capacity(ids.len());
    for id in ids {
        let start = Instant::now();
        one(*id).await?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let cpu_us = pids
        .iter()
        .zip(&before)
        .map(|(p, b)| (cpu::tree_seconds(*p) - b) * 1e6 / ids.len().max(1) as f64)
        .collect();
    let median_ms = server::median(&mut times);
    let p90_ms = times
        .get((times.len() * 9 / 10).min(times.len().saturating_sub(1)))
        .copied()
        .unwrap_or(f64::NAN);
    Ok(Points {
        median_ms,
        p90_ms,
        cpu_us,
    })
}

async fn pruning_probes(
    clients: &[Client],
    ids: &[i64],
    names: &[String],
) -> Vec<(String, Outcome<Tally>)> {
    let mut out = Vec::new();
    let mut by_id = Tally::default();
    let mut r = Ok(());
    for id in ids {
        r = prune::explain_everywhere(
            clients,
            &format!("SELECT id, val FROM bench_kv WHERE id = {id}"),
            &mut by_id,
        )
        .await;
        if r.is_err() {
            break;
        }
    }
    out.push((
        format!("{} point queries `WHERE id = X`", ids.len()),
        r.map(|_| by_id),
    ));
    let mut by_name = Tally::default();
    let mut r = Ok(());
    for name in names {
        let sql = format!("SELECT id, val FROM bench_kv WHERE name = '{name}'");
        r = prune::explain_everywhere(clients, &sql, &mut by_name).await;
        if r.is_err() {
            break;
        }
    }
    out.push((
        format!("{} point queries `WHERE name = 'item-X-xY'`", names.len()),
        r.map(|_| by_name),
    ));
    for sql in [LIKE_SQL, LIKE_ABSENT_SQL] {
        let mut t = Tally::default();
        let r = prune::explain_everywhere(clients, sql, &mut t).await;
        out.push((format!("`{sql}`"), r.map(|_| t)));
    }
    out
}

/// The server's SQLSTATE and message when there is one, not just "db error".
pub fn server_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("ERROR {}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}
