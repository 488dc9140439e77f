//! The measurements that run over the Postgres protocol, identical for
//! MosaicDB and PostgreSQL: same client library, same statements, same rows.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::SinkExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio_postgres::{Client, NoTls};

use crate::cpu;

/// A statement that runs longer than this is reported as failed.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(600);

/// Which server is on the other end; decides only the post-load step.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Mosaic,
    Postgres,
}

/// One server under test.
pub struct Server {
    pub kind: Kind,
    pub conn: String,
    /// The server's root process; its CPU is summed with its descendants.
    pub pid: u32,
}

/// Throughput and server cost of a point-select run.
pub struct PointRun {
    pub qps: f64,
    /// Server CPU microseconds per query.
    pub server_cpu_us: f64,
    /// This (client) process's CPU microseconds per query.
    pub client_cpu_us: f64,
}

pub type Outcome<T> = Result<T, String>;

async fn timed<T, E: std::fmt::Display>(
    what: &str,
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Outcome<T> {
    match tokio::time::timeout(STATEMENT_TIMEOUT, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: timed out after {STATEMENT_TIMEOUT:?}")),
    }
}

/// The server's SQLSTATE and message when there is one, not just "db error".
fn db_error(e: tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("ERROR {}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// Opens one connection; its driver task lives on the current runtime.
pub async fn connect(conn: &str) -> Outcome<Client> {
    let (client, connection) = tokio_postgres::connect(conn, NoTls)
        .await
        .map_err(|e| format!("connect: {}", db_error(e)))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("connection closed with error: {e}");
        }
    });
    Ok(client)
}

/// Creates `bench_kv` and COPYs the chunks in; returns the COPY's seconds
/// (from the COPY statement to the server's CommandComplete).
pub async fn load(client: &Client, create: &str, chunks: &[Bytes]) -> Outcome<(f64, u64)> {
    timed("CREATE TABLE", async {
        client.batch_execute(create).await.map_err(db_error)
    })
    .await?;
    let start = Instant::now();
    let copied = timed("COPY bench_kv FROM STDIN", async {
        let sink = client
            .copy_in("COPY bench_kv (id, name, grp, val) FROM STDIN")
            .await
            .map_err(db_error)?;
        futures::pin_mut!(sink);
        for chunk in chunks {
            sink.send(chunk.clone()).await.map_err(db_error)?;
        }
        sink.finish().await.map_err(db_error)
    })
    .await?;
    Ok((start.elapsed().as_secs_f64(), copied))
}

/// What a server needs after a bulk load before it is read: MosaicDB seals
/// the open segment into shards; PostgreSQL gets VACUUM ANALYZE (so its
/// planner has statistics and autovacuum does not start mid-benchmark).
pub async fn post_load(client: &Client, kind: Kind) -> Outcome<f64> {
    let sql = match kind {
        Kind::Mosaic => "SELECT mosaic.seal('bench_kv')",
        Kind::Postgres => "VACUUM ANALYZE bench_kv",
    };
    let start = Instant::now();
    timed(sql, async {
        client.simple_query(sql).await.map_err(db_error)
    })
    .await?;
    Ok(start.elapsed().as_secs_f64())
}

/// `SELECT count(*) FROM bench_kv`, to check the load.
pub async fn count_rows(client: &Client) -> Outcome<i64> {
    let sql = "SELECT count(*) FROM bench_kv";
    let row = timed(sql, async {
        client.query_one(sql, &[]).await.map_err(db_error)
    })
    .await?;
    row.try_get(0).map_err(|e| format!("{sql}: {e}"))
}

/// Each row of a simple-protocol query as its columns' text joined by " | ".
pub async fn text_rows(client: &Client, sql: &str) -> Outcome<Vec<String>> {
    let msgs = timed(sql, async {
        client.simple_query(sql).await.map_err(db_error)
    })
    .await?;
    Ok(msgs
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(
                (0..r.len())
                    .map(|i| r.get(i).unwrap_or("NULL"))
                    .collect::<Vec<_>>()
                    .join(" | "),
            ),
            _ => None,
        })
        .collect())
}

/// Prepared point selects by primary key on `clients` connections for
/// `duration`, ids drawn uniformly from `1..=rows`.
pub async fn point_selects(
    server: &Server,
    clients: usize,
    rows: u64,
    duration: Duration,
    seed: u64,
) -> Outcome<PointRun> {
    const SQL: &str = "SELECT name, val FROM bench_kv WHERE id = $1";
    let mut conns = Vec::new();
    for _ in 0..clients {
        let client = connect(&server.conn).await?;
        let stmt = timed("PREPARE", async {
            client.prepare(SQL).await.map_err(db_error)
        })
        .await?;
        conns.push((client, stmt));
    }
    // Warm-up, untimed: first executions, caches, lazy connections.
    let warm = Instant::now() + duration.min(Duration::from_secs(1));
    for (i, (client, stmt)) in conns.iter().enumerate() {
        let mut rng = StdRng::seed_from_u64(seed ^ (i as u64 + 1000));
        while Instant::now() < warm {
            point_select(client, stmt, rng.gen_range(1..=rows as i64)).await?;
        }
    }

    let server_before = cpu::tree_seconds(server.pid);
    let client_before = cpu::self_seconds();
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for (i, (client, stmt)) in conns.into_iter().enumerate() {
        let mut rng = StdRng::seed_from_u64(seed ^ i as u64);
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                point_select(&client, &stmt, rng.gen_range(1..=rows as i64)).await?;
                done += 1;
            }
            Ok::<_, String>((done, client))
        }));
    }
    let mut total = 0u64;
    let mut keep = Vec::new();
    for task in tasks {
        let (done, client) = task.await.map_err(|e| e.to_string())??;
        total += done;
        keep.push(client);
    }
    let elapsed = start.elapsed().as_secs_f64();
    // Sampled before the connections close: their backends still exist.
    let server_cpu = cpu::tree_seconds(server.pid) - server_before;
    let client_cpu = cpu::self_seconds() - client_before;
    drop(keep);
    let n = total.max(1) as f64;
    Ok(PointRun {
        qps: total as f64 / elapsed,
        server_cpu_us: server_cpu * 1e6 / n,
        client_cpu_us: client_cpu * 1e6 / n,
    })
}

async fn point_select(client: &Client, stmt: &tokio_postgres::Statement, id: i64) -> Outcome<()> {
    let row = tokio::time::timeout(Duration::from_secs(30), client.query_one(stmt, &[&id]))
        .await
        .map_err(|_| format!("point select id={id}: timed out"))?
        .map_err(|e| format!("point select id={id}: {}", db_error(e)))?;
    let name: &str = row.try_get(0).map_err(|e| format!("name: {e}"))?;
    let _val: f64 = row.try_get(1).map_err(|e| format!("val: {e}"))?;
    if name.is_empty() {
        return Err(format!("point select id={id}: empty name"));
    }
    Ok(())
}

/// Runs `sql` once untimed, then `runs` times; the median in milliseconds
/// and the last result's rows.
pub async fn median_ms(
    client: &Client,
    sql: &str,
    runs: usize,
) -> Outcome<(f64, Vec<tokio_postgres::Row>)> {
    let mut last = timed(sql, async {
        client.query(sql, &[]).await.map_err(db_error)
    })
    .await?;
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        last = timed(sql, async {
            client.query(sql, &[]).await.map_err(db_error)
        })
        .await?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok((median(&mut times), last))
}

/// The median of `xs` (sorted in place); NaN when empty.
pub fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}
