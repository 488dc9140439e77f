//! MosaicDB against PostgreSQL, side by side in one run with the same client
//! and the same rows: bulk COPY, prepared point selects by primary key (1
//! and 4 clients, with server CPU per query from each server's own process
//! accounting), a full-scan GROUP BY and a LIKE scan; plus in-process
//! rusqlite as the floor. Prints a markdown table on stdout, progress on
//! stderr.
//!
//! benches/run.sh starts both servers and runs this; it takes connection
//! strings and server pids, so it never starts or stops a server itself.
//! Without a server to talk to (as under `cargo test --all-targets`) it
//! prints how to run it and exits 0.

mod cpu;
mod data;
mod floor;
mod server;

use std::time::Duration;

use clap::Parser;

use floor::Floor;
use server::{Kind, Outcome, PointRun, Server};

const GROUP_SQL: &str = "SELECT grp, count(*), sum(val), avg(val) FROM bench_kv GROUP BY grp";
const LIKE_SQL: &str = "SELECT count(*) FROM bench_kv WHERE name LIKE '%x123%'";

#[derive(Parser)]
#[command(about = "MosaicDB vs PostgreSQL vs in-process SQLite; see benches/run.sh")]
struct Args {
    /// MosaicDB connection string (libpq key=value or URL).
    #[arg(long)]
    mosaic: Option<String>,
    /// pid of the mosaic process (node.json `pid`).
    #[arg(long, default_value_t = 0)]
    mosaic_pid: u32,
    /// PostgreSQL connection string.
    #[arg(long)]
    pg: Option<String>,
    /// pid of the postmaster (first line of postmaster.pid).
    #[arg(long, default_value_t = 0)]
    pg_pid: u32,
    /// Rows in bench_kv.
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Seconds per point-select run.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Timed runs per scan (the median is reported; one untimed run first).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Seed for the rows and the point-select ids.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Everything measured on one server.
#[derive(Default)]
struct Measured {
    copy_s: Option<Outcome<f64>>,
    post_load_s: Option<Outcome<f64>>,
    point1: Option<Outcome<PointRun>>,
    point4: Option<Outcome<PointRun>>,
    /// Every shard computed (MosaicDB: `mosaic.result_cache` off).
    group_ms: Option<Outcome<f64>>,
    like_ms: Option<Outcome<f64>>,
    /// The same statements again over unchanged shards, as a dashboard
    /// repeats them (MosaicDB: shard results kept by the last run).
    group_again_ms: Option<Outcome<f64>>,
    like_again_ms: Option<Outcome<f64>>,
    /// Answers compared across systems: (what, value).
    answers: Vec<(String, String)>,
    /// What the server says about its own layout after the load.
    notes: Vec<String>,
}

/// Each server's own account of the loaded table and of how it runs the
/// measured statements (for MosaicDB: its shards and which it prunes; for
/// PostgreSQL: whether it scans in parallel).
fn diagnostics(kind: Kind, rows: u64) -> Vec<String> {
    let mut sqls = Vec::new();
    if kind == Kind::Mosaic {
        sqls.push(
            "SELECT count(*), sum(row_count), min(row_count), max(row_count) \
             FROM mosaic.shards WHERE table_name = 'bench_kv'"
                .to_string(),
        );
    }
    sqls.push(format!(
        "EXPLAIN SELECT name, val FROM bench_kv WHERE id = {}",
        rows / 2
    ));
    sqls.push(format!("EXPLAIN {GROUP_SQL}"));
    sqls.push(format!("EXPLAIN {LIKE_SQL}"));
    sqls
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` runs this binary too, with no servers and
    // possibly libtest flags (`--nocapture`, filters) that are not ours.
    let servers_given =
        std::env::args().any(|a| a.starts_with("--mosaic") || a.starts_with("--pg"));
    if !servers_given {
        eprintln!("mosaic_vs_pg: no servers given; run benches/run.sh (skipping)");
        return;
    }
    let args = Args::parse();
    let mut servers = Vec::new();
    if let Some(conn) = &args.mosaic {
        servers.push(Server {
            kind: Kind::Mosaic,
            conn: conn.clone(),
            pid: args.mosaic_pid,
        });
    }
    if let Some(conn) = &args.pg {
        servers.push(Server {
            kind: Kind::Postgres,
            conn: conn.clone(),
            pid: args.pg_pid,
        });
    }
    // A pid of 0 would make the CPU accounting sum the whole machine.
    if servers.iter().any(|s| s.pid == 0) {
        eprintln!("mosaic_vs_pg: give --mosaic-pid / --pg-pid with each server");
        std::process::exit(2);
    }
    let duration = Duration::from_secs_f64(args.duration);

    eprintln!("generating {} rows", args.rows);
    let chunks = data::copy_text(args.rows, args.seed, 256 * 1024);
    let mut measured: Vec<Measured> = servers.iter().map(|_| Measured::default()).collect();

    for (s, m) in servers.iter().zip(&mut measured) {
        load(s, m, &chunks, args.rows).await;
    }
    drop(chunks);
    for clients in [1, 4] {
        for (s, m) in servers.iter().zip(&mut measured) {
            eprintln!("{}: point selects, {clients} client(s)", label(s.kind));
            let run = server::point_selects(s, clients, args.rows, duration, args.seed).await;
            match clients {
                1 => m.point1 = Some(run),
                _ => m.point4 = Some(run),
            }
        }
    }
    for (s, m) in servers.iter().zip(&mut measured) {
        eprintln!("{}: scans", label(s.kind));
        scans(s, m, args.runs).await;
    }

    eprintln!("sqlite floor");
    let dir = tempfile::Builder::new()
        .prefix("mosaic-bench-floor-")
        .tempdir()
        .expect("temp dir for the SQLite floor");
    let (rows, seed, runs) = (args.rows, args.seed, args.runs);
    let path = dir.path().to_path_buf();
    let floor = tokio::task::spawn_blocking(move || {
        floor::run(&path, rows, seed, duration, runs, GROUP_SQL, LIKE_SQL)
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r);

    print!("{}", report(&args, &servers, &measured, &floor));
}

fn label(kind: Kind) -> &'static str {
    match kind {
        Kind::Mosaic => "MosaicDB",
        Kind::Postgres => "PostgreSQL",
    }
}

async fn load(s: &Server, m: &mut Measured, chunks: &[bytes::Bytes], rows: u64) {
    eprintln!("{}: COPY {rows} rows", label(s.kind));
    let client = match server::connect(&s.conn).await {
        Ok(c) => c,
        Err(e) => {
            m.copy_s = Some(Err(e));
            return;
        }
    };
    let copied = server::load(&client, data::CREATE_TABLE, chunks).await;
    if let Ok((_, n)) = &copied {
        m.answers.push(("COPY row count".into(), n.to_string()));
    }
    m.copy_s = Some(copied.map(|(s, _)| s));
    eprintln!("{}: post-load step", label(s.kind));
    m.post_load_s = Some(server::post_load(&client, s.kind).await);
    let count = server::count_rows(&client).await;
    m.answers.push((
        "count(*) after load".into(),
        count.map_or_else(|e| format!("error: {e}"), |n| n.to_string()),
    ));
    for sql in diagnostics(s.kind, rows) {
        match server::text_rows(&client, &sql).await {
            Ok(rows) => m
                .notes
                .push(format!("`{sql}`:\n    {}", rows.join("\n    "))),
            Err(e) => m.notes.push(format!("`{sql}`: error: {e}")),
        }
    }
}

async fn scans(s: &Server, m: &mut Measured, runs: usize) {
    let client = match server::connect(&s.conn).await {
        Ok(c) => c,
        Err(e) => {
            m.group_ms = Some(Err(e.clone()));
            m.like_ms = Some(Err(e));
            return;
        }
    };
    // First every shard computed (MosaicDB keeps no shard result for this
    // session), then repeated (MosaicDB reuses what the untimed first run
    // of each kept).
    for (setting, again) in [
        ("SET mosaic.result_cache = off", ""),
        ("RESET mosaic.result_cache", ", repeated"),
    ] {
        if s.kind == Kind::Mosaic {
            if let Err(e) = client.batch_execute(setting).await {
                m.group_ms = Some(Err(e.to_string()));
                return;
            }
        }
        let group = server::median_ms(&client, GROUP_SQL, runs).await;
        if let Ok((_, rows)) = &group {
            m.answers
                .push((format!("GROUP BY result{again}"), group_digest(rows)));
        }
        let like = server::median_ms(&client, LIKE_SQL, runs).await;
        if let Ok((_, rows)) = &like {
            m.answers
                .push((format!("LIKE count{again}"), like_count(rows)));
        }
        let (group, like) = (group.map(|(ms, _)| ms), like.map(|(ms, _)| ms));
        match again.is_empty() {
            true => (m.group_ms, m.like_ms) = (Some(group), Some(like)),
            false => (m.group_again_ms, m.like_again_ms) = (Some(group), Some(like)),
        }
    }
}

/// The count a LIKE query answered, or why it cannot be read.
fn like_count(rows: &[tokio_postgres::Row]) -> String {
    match rows.first().map(|r| r.try_get::<_, i64>(0)) {
        Some(Ok(n)) => n.to_string(),
        Some(Err(e)) => format!("undecodable: {e}"),
        None => "no row".into(),
    }
}

/// Group count, total of counts and total of sums (rounded: float sums in a
/// different order differ in the last bits), or the decoding error.
fn group_digest(rows: &[tokio_postgres::Row]) -> String {
    let mut count = 0i64;
    let mut sum = 0f64;
    for r in rows {
        match (r.try_get::<_, i64>(1), r.try_get::<_, f64>(2)) {
            (Ok(c), Ok(s)) => {
                count += c;
                sum += s;
            }
            (c, s) => return format!("undecodable row: count {c:?}, sum {s:?}"),
        }
    }
    format!("{} groups, {count} rows, sum(val) {sum:.1}", rows.len())
}

/// A value with its units, or why there is none.
type Cell = Option<Outcome<f64>>;

struct Line {
    name: String,
    cells: [Cell; 3],
    /// None when the two servers' numbers measure different work.
    higher_is_better: Option<bool>,
    decimals: usize,
}

fn report(
    args: &Args,
    servers: &[Server],
    measured: &[Measured],
    floor: &Outcome<Floor>,
) -> String {
    let pick = |kind: Kind| {
        servers
            .iter()
            .position(|s| s.kind == kind)
            .map(|i| &measured[i])
    };
    let (mosaic, pg) = (pick(Kind::Mosaic), pick(Kind::Postgres));
    let get = |m: Option<&Measured>, f: &dyn Fn(&Measured) -> Cell| m.and_then(f);
    let point = |p: &Option<Outcome<PointRun>>, f: fn(&PointRun) -> f64| -> Cell {
        p.as_ref().map(|r| r.as_ref().map(f).map_err(Clone::clone))
    };
    let fl = |f: fn(&floor::Floor) -> &Outcome<f64>| -> Cell {
        Some(
            floor
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|fl| f(fl).clone()),
        )
    };
    let line =
        |name: String, m: Cell, p: Cell, s: Cell, higher: Option<bool>, decimals: usize| Line {
            name,
            cells: [m, p, s],
            higher_is_better: higher,
            decimals,
        };
    let lines = vec![
        line(
            format!(
                "bulk COPY of {} rows (s; SQLite: prepared INSERT, one transaction)",
                args.rows
            ),
            get(mosaic, &|m| m.copy_s.clone()),
            get(pg, &|m| m.copy_s.clone()),
            fl(|f| &f.load_s),
            Some(false),
            2,
        ),
        line(
            "after load: `mosaic.seal` / `VACUUM ANALYZE` (s)".into(),
            get(mosaic, &|m| m.post_load_s.clone()),
            get(pg, &|m| m.post_load_s.clone()),
            None,
            None,
            3,
        ),
        line(
            "point select by PK, 1 client (queries/s)".into(),
            get(mosaic, &|m| point(&m.point1, |r| r.qps)),
            get(pg, &|m| point(&m.point1, |r| r.qps)),
            fl(|f| &f.point_qps),
            Some(true),
            0,
        ),
        line(
            "point select by PK, 4 clients (queries/s)".into(),
            get(mosaic, &|m| point(&m.point4, |r| r.qps)),
            get(pg, &|m| point(&m.point4, |r| r.qps)),
            None,
            Some(true),
            0,
        ),
        line(
            "server CPU per point select, 1 client (µs; SQLite: whole process)".into(),
            get(mosaic, &|m| point(&m.point1, |r| r.server_cpu_us)),
            get(pg, &|m| point(&m.point1, |r| r.server_cpu_us)),
            fl(|f| &f.point_cpu_us),
            Some(false),
            1,
        ),
        line(
            "server CPU per point select, 4 clients (µs)".into(),
            get(mosaic, &|m| point(&m.point4, |r| r.server_cpu_us)),
            get(pg, &|m| point(&m.point4, |r| r.server_cpu_us)),
            None,
            Some(false),
            1,
        ),
        line(
            format!(
                "`GROUP BY grp` count/sum/avg, full scan, every shard computed (MosaicDB: `mosaic.result_cache = off`), median of {} (ms)",
                args.runs
            ),
            get(mosaic, &|m| m.group_ms.clone()),
            get(pg, &|m| m.group_ms.clone()),
            fl(|f| &f.group_ms),
            Some(false),
            1,
        ),
        line(
            format!(
                "the same `GROUP BY`, repeated over unchanged shards (MosaicDB: shard results kept), median of {} (ms)",
                args.runs
            ),
            get(mosaic, &|m| m.group_again_ms.clone()),
            get(pg, &|m| m.group_again_ms.clone()),
            fl(|f| &f.group_ms),
            Some(false),
            1,
        ),
        line(
            format!(
                "`count(*) WHERE name LIKE '%x123%'`, every shard computed, median of {} (ms)",
                args.runs
            ),
            get(mosaic, &|m| m.like_ms.clone()),
            get(pg, &|m| m.like_ms.clone()),
            fl(|f| &f.like_ms),
            Some(false),
            1,
        ),
        line(
            format!(
                "the same LIKE, repeated over unchanged shards, median of {} (ms)",
                args.runs
            ),
            get(mosaic, &|m| m.like_again_ms.clone()),
            get(pg, &|m| m.like_again_ms.clone()),
            fl(|f| &f.like_ms),
            Some(false),
            1,
        ),
    ];
    render(&lines, servers, measured)
}

fn render(lines: &[Line], servers: &[Server], measured: &[Measured]) -> String {
    let mut out = String::new();
    let mut errors: Vec<String> = Vec::new();
    out.push_str(
        "| benchmark | MosaicDB | PostgreSQL 15 | SQLite in-process | MosaicDB/PG ratio |\n",
    );
    out.push_str("|---|---:|---:|---:|---|\n");
    for l in lines {
        let mut cell_text = |c: &Cell| match c {
            None => "–".to_string(),
            Some(Ok(v)) => format!("{v:.*}", l.decimals),
            Some(Err(e)) => {
                errors.push(e.clone());
                format!("error [{}]", errors.len())
            }
        };
        let texts: Vec<String> = l.cells.iter().map(&mut cell_text).collect();
        let ratio = match (&l.cells[0], &l.cells[1], l.higher_is_better) {
            (Some(Ok(m)), Some(Ok(p)), Some(higher)) if *p > 0.0 => {
                let r = m / p;
                let ahead = if higher { r >= 1.0 } else { r <= 1.0 };
                let verdict = if ahead {
                    "matches or beats PG"
                } else {
                    "behind PG"
                };
                format!("{r:.2}× ({verdict})")
            }
            _ => "–".to_string(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            l.name, texts[0], texts[1], texts[2], ratio
        ));
    }
    if !errors.is_empty() {
        out.push('\n');
        for (i, e) in errors.iter().enumerate() {
            out.push_str(&format!("[{}] {e}\n", i + 1));
        }
    }

    out.push_str("\nClient CPU per point select (this process, µs): ");
    let client: Vec<String> = servers
        .iter()
        .zip(measured)
        .map(|(s, m)| {
            let f = |p: &Option<Outcome<PointRun>>| match p {
                Some(Ok(r)) => format!("{:.1}", r.client_cpu_us),
                _ => "–".into(),
            };
            format!(
                "{} {} (1 client) / {} (4 clients)",
                label(s.kind),
                f(&m.point1),
                f(&m.point4)
            )
        })
        .collect();
    out.push_str(&client.join("; "));
    out.push('\n');

    for (s, m) in servers.iter().zip(measured) {
        if !m.notes.is_empty() {
            out.push_str(&format!("\n{} after the load:\n", label(s.kind)));
            for n in &m.notes {
                out.push_str(&format!("- {n}\n"));
            }
        }
    }

    out.push_str("\nAnswers compared:\n");
    if let [a, b] = measured {
        for (what, va) in &a.answers {
            let vb = b
                .answers
                .iter()
                .find(|(w, _)| w == what)
                .map_or("missing", |(_, v)| v.as_str());
            let verdict = if va == vb { "same" } else { "DIFFERENT" };
            out.push_str(&format!(
                "- {what}: {verdict} ({}: {va}; {}: {vb})\n",
                label(servers[0].kind),
                label(servers[1].kind)
            ));
        }
    } else {
        for (s, m) in servers.iter().zip(measured) {
            for (what, v) in &m.answers {
                out.push_str(&format!("- {} {what}: {v}\n", label(s.kind)));
            }
        }
    }
    out
}
