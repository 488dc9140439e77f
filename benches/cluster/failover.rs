//! The failover phase (`--failover`), run last, on the cluster setup: seal
//! at the first node and wait until every shard of bench_kv has a copy on a
//! second node; record the healthy answers; SIGKILL the last node; time the
//! first GROUP BY after the kill (it finds the dead peer and runs again on
//! the copies), how long the first node takes to see the dead one `down`,
//! then the GROUP BY and top-k medians with the node dead, and how long
//! until every shard has two live holders again. Every query is issued at
//! the first node. No CPU accounting here: the killed pid is gone.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use tokio_postgres::{Client, Row};

use crate::server::{self, Outcome};
use crate::{server_error, timed_runs, Setup, Timed, GROUP_SQL, TOPK_SQL};

/// Copies each sealed shard should have (the nodes' default
/// --replication-factor).
const HOLDERS: usize = 2;
/// How often the registry and the membership are polled.
const POLL: Duration = Duration::from_millis(100);
/// How long copies get to catch up (before the kill and after it), s.
pub const CATCH_UP_SECS: u64 = 120;
const CATCH_UP_LIMIT: Duration = Duration::from_secs(CATCH_UP_SECS);
/// How long the first node gets to declare the killed one down.
const DETECT_LIMIT: Duration = Duration::from_secs(60);
/// The first query after the kill; it may wait on the dead peer.
const FIRST_QUERY_LIMIT: Duration = Duration::from_secs(120);

/// Shards of bench_kv with at least [`HOLDERS`] holders, as the first
/// node's `mosaic.shards` lists them.
pub struct CatchUp {
    pub shards: usize,
    pub bytes: i64,
    /// Shards that still had fewer than [`HOLDERS`] holders at the end.
    pub short: usize,
    /// Fewest and most holders of a shard at the end (copies beyond
    /// [`HOLDERS`] are the edge cache).
    pub holders: (usize, usize),
    /// Looks at `mosaic.shards`; 1: caught up at the first.
    pub polls: usize,
    /// Seconds from the start until none was short; None: gave up.
    pub seconds: Option<f64>,
}

/// The first GROUP BY after the kill.
pub struct FirstQuery {
    pub ms: f64,
    pub rows: Vec<Row>,
}

/// Everything the failover phase measured.
pub struct Failover {
    /// `node_name` of the killed node and its pid.
    pub killed: Outcome<(String, u32)>,
    /// `mosaic.seal('bench_kv')`, seconds (it returns once announced).
    pub seal_s: Outcome<f64>,
    /// From the seal until every shard has two holders.
    pub catch_up: Outcome<CatchUp>,
    /// GROUP BY and top-k answers at the first node before the kill.
    pub healthy_group: Outcome<Vec<Row>>,
    pub healthy_topk: Outcome<Vec<Row>>,
    pub first_query: Outcome<FirstQuery>,
    /// Seconds from the kill until the first node lists the node `down`.
    pub detect_s: Outcome<f64>,
    /// Medians with the node dead (after it is declared down).
    pub group: Outcome<Timed>,
    pub topk: Outcome<Timed>,
    /// After the timed runs: from `down` until every shard again has two
    /// holders, all live.
    pub recopied: Outcome<CatchUp>,
}

impl Failover {
    fn failed(e: String) -> Failover {
        Failover {
            killed: Err(e.clone()),
            seal_s: Err(e.clone()),
            catch_up: Err(e.clone()),
            healthy_group: Err(e.clone()),
            healthy_topk: Err(e.clone()),
            first_query: Err(e.clone()),
            detect_s: Err(e.clone()),
            group: Err(e.clone()),
            topk: Err(e.clone()),
            recopied: Err(e),
        }
    }
}

pub async fn run(s: &Setup, runs: usize) -> Failover {
    let (Some(first_conn), Some(last_conn), Some(&pid)) =
        (s.conns.first(), s.conns.last(), s.pids.last())
    else {
        return Failover::failed("no cluster nodes".into());
    };
    if s.conns.len() < 2 {
        return Failover::failed("failover needs at least 2 nodes".into());
    }
    eprintln!("{}: failover: connecting", s.label);
    let first = match server::connect(first_conn).await {
        Ok(c) => c,
        Err(e) => return Failover::failed(e),
    };
    // The killed node's name, from itself; the connection is closed before
    // the kill.
    let name = match self_name(last_conn).await {
        Ok(n) => n,
        Err(e) => return Failover::failed(e),
    };

    eprintln!("{}: failover: seal, wait for copies", s.label);
    let start = Instant::now();
    let seal_s = server::text_rows(&first, "SELECT mosaic.seal('bench_kv')")
        .await
        .map(|_| start.elapsed().as_secs_f64());
    let catch_up = wait_for_copies(&first, start, None).await;

    let healthy_group = query(&first, GROUP_SQL).await;
    let healthy_topk = query(&first, TOPK_SQL).await;

    eprintln!("{}: failover: kill -9 {name} (pid {pid})", s.label);
    let killed_at = match kill(pid) {
        Ok(()) => Instant::now(),
        Err(e) => {
            return Failover {
                killed: Err(e.clone()),
                seal_s,
                catch_up,
                healthy_group,
                healthy_topk,
                ..Failover::failed(e)
            }
        }
    };
    let start = Instant::now();
    let first_query =
        match tokio::time::timeout(FIRST_QUERY_LIMIT, first.query(GROUP_SQL, &[])).await {
            Ok(Ok(rows)) => Ok(FirstQuery {
                ms: start.elapsed().as_secs_f64() * 1e3,
                rows,
            }),
            Ok(Err(e)) => Err(format!(
                "{GROUP_SQL} (first after the kill, {:.0} ms): {}",
                start.elapsed().as_secs_f64() * 1e3,
                server_error(&e)
            )),
            Err(_) => Err(format!(
                "{GROUP_SQL} (first after the kill): no answer after {FIRST_QUERY_LIMIT:?}"
            )),
        };

    eprintln!("{}: failover: waiting for {name} to be down", s.label);
    let detect_s = wait_for_down(&first, &name, killed_at).await;
    let down_at = Instant::now();

    eprintln!("{}: failover: GROUP BY with {name} down", s.label);
    let group = timed_runs(&first, GROUP_SQL, runs, &[]).await;
    eprintln!("{}: failover: top-k with {name} down", s.label);
    let topk = timed_runs(&first, TOPK_SQL, runs, &[]).await;

    let recopied = match &detect_s {
        Ok(_) => {
            eprintln!("{}: failover: waiting for copies on live nodes", s.label);
            wait_for_copies(&first, down_at, Some(&name)).await
        }
        Err(_) => Err(format!("{name} never declared down")),
    };

    Failover {
        killed: Ok((name, pid)),
        seal_s,
        catch_up,
        healthy_group,
        healthy_topk,
        first_query,
        detect_s,
        group,
        topk,
        recopied,
    }
}

async fn self_name(conn: &str) -> Outcome<String> {
    let client = server::connect(conn).await?;
    let sql = "SELECT node_name FROM mosaic.nodes WHERE is_self";
    let rows = server::text_rows(&client, sql).await?;
    match &rows[..] {
        [name] => Ok(name.clone()),
        _ => Err(format!("{sql}: {rows:?}, not one name")),
    }
}

async fn query(client: &Client, sql: &str) -> Outcome<Vec<Row>> {
    tokio::time::timeout(Duration::from_secs(600), client.query(sql, &[]))
        .await
        .map_err(|_| format!("{sql}: timed out"))?
        .map_err(|e| format!("{sql}: {}", server_error(&e)))
}

/// SIGKILL by way of kill(1): the crate depends on neither libc nor nix.
fn kill(pid: u32) -> Outcome<()> {
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .map_err(|e| format!("kill -9 {pid}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("kill -9 {pid}: {status}"))
    }
}

/// Polls the first node's `mosaic.shards` until every shard of bench_kv
/// has [`HOLDERS`] distinct holders (none of them `not`), or
/// [`CATCH_UP_LIMIT`] has passed since `start`.
async fn wait_for_copies(client: &Client, start: Instant, not: Option<&str>) -> Outcome<CatchUp> {
    let sql = "SELECT shard_id, byte_size, holders FROM mosaic.shards \
               WHERE table_name = 'bench_kv' AND sealed";
    let mut polls = 0;
    loop {
        let rows = server::text_rows(client, sql).await?;
        polls += 1;
        let mut state = CatchUp {
            shards: rows.len(),
            bytes: 0,
            short: 0,
            holders: (usize::MAX, 0),
            polls,
            seconds: None,
        };
        for row in &rows {
            let f: Vec<&str> = row.split(" | ").collect();
            let [_, bytes, holders] = f[..] else {
                return Err(format!("{sql}: row {row:?}"));
            };
            state.bytes += bytes.parse::<i64>().unwrap_or(0);
            let holders: BTreeSet<&str> = holders
                .trim_matches(|c| c == '{' || c == '}')
                .split(',')
                .map(|h| h.trim_matches('"'))
                .filter(|h| !h.is_empty() && Some(*h) != not)
                .collect();
            if holders.len() < HOLDERS {
                state.short += 1;
            }
            state.holders.0 = state.holders.0.min(holders.len());
            state.holders.1 = state.holders.1.max(holders.len());
        }
        state.holders.0 = state.holders.0.min(state.holders.1);
        if state.shards > 0 && state.short == 0 {
            state.seconds = Some(start.elapsed().as_secs_f64());
            return Ok(state);
        }
        if start.elapsed() > CATCH_UP_LIMIT {
            return Ok(state);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Seconds from `killed_at` until the first node lists `name` as `down`.
async fn wait_for_down(client: &Client, name: &str, killed_at: Instant) -> Outcome<f64> {
    let sql = format!(
        "SELECT state FROM mosaic.nodes WHERE node_name = '{}'",
        name.replace('\'', "''")
    );
    let mut last = Vec::new();
    while killed_at.elapsed() < DETECT_LIMIT {
        last = server::text_rows(client, &sql).await?;
        if last.first().map(String::as_str) == Some("down") {
            return Ok(killed_at.elapsed().as_secs_f64());
        }
        tokio::time::sleep(POLL).await;
    }
    Err(format!(
        "{name} not down after {DETECT_LIMIT:?} (state {last:?})"
    ))
}
