//! The floor: the same table and statements on rusqlite in this process, a
//! file-backed database in WAL mode with SQLite's default (FULL) sync. No
//! network, no protocol, no planner cache misses: what a single SQLite file
//! costs, which is the least a MosaicDB shard read can cost.

use std::path::Path;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;

use crate::cpu;
use crate::data;
use crate::server::Outcome;

/// What the floor measured.
pub struct Floor {
    /// Seconds for all rows through one prepared INSERT in one transaction.
    pub load_s: Outcome<f64>,
    pub point_qps: Outcome<f64>,
    /// This process's CPU microseconds per point select.
    pub point_cpu_us: Outcome<f64>,
    pub group_ms: Outcome<f64>,
    pub like_ms: Outcome<f64>,
}

pub fn run(
    dir: &Path,
    rows: u64,
    seed: u64,
    duration: Duration,
    runs: usize,
    group_sql: &str,
    like_sql: &str,
) -> Outcome<Floor> {
    let conn = Connection::open(dir.join("floor.db")).map_err(|e| e.to_string())?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| e.to_string())?;
    conn.execute_batch(data::CREATE_TABLE)
        .map_err(|e| e.to_string())?;

    let load_s = load(&conn, rows, seed);
    let point = point_selects(&conn, rows, seed, duration);
    Ok(Floor {
        load_s,
        point_qps: point.as_ref().map(|p| p.0).map_err(Clone::clone),
        point_cpu_us: point.map(|p| p.1),
        group_ms: median_ms(&conn, group_sql, runs),
        like_ms: median_ms(&conn, like_sql, runs),
    })
}

fn load(conn: &Connection, rows: u64, seed: u64) -> Outcome<f64> {
    let start = Instant::now();
    let tx = conn.unchecked_transaction().map_err(|e| e.to_string())?;
    {
        let mut insert = tx
            .prepare("INSERT INTO bench_kv (id, name, grp, val) VALUES (?1, ?2, ?3, ?4)")
            .map_err(|e| e.to_string())?;
        for r in data::rows(rows, seed) {
            insert
                .execute(rusqlite::params![r.id, r.name, r.grp, r.val()])
                .map_err(|e| e.to_string())?;
        }
    }
    tx.commit().map_err(|e| e.to_string())?;
    Ok(start.elapsed().as_secs_f64())
}

/// (queries per second, CPU microseconds per query).
fn point_selects(
    conn: &Connection,
    rows: u64,
    seed: u64,
    duration: Duration,
) -> Outcome<(f64, f64)> {
    let mut stmt = conn
        .prepare("SELECT name, val FROM bench_kv WHERE id = ?1")
        .map_err(|e| e.to_string())?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut one = |id: i64| -> Outcome<()> {
        let (name, _val): (String, f64) = stmt
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| format!("id={id}: {e}"))?;
        if name.is_empty() {
            return Err(format!("id={id}: empty name"));
        }
        Ok(())
    };
    let warm = Instant::now() + duration.min(Duration::from_secs(1));
    while Instant::now() < warm {
        one(rng.gen_range(1..=rows as i64))?;
    }
    let cpu_before = cpu::self_seconds();
    let start = Instant::now();
    let deadline = start + duration;
    let mut done = 0u64;
    while Instant::now() < deadline {
        one(rng.gen_range(1..=rows as i64))?;
        done += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = cpu::self_seconds() - cpu_before;
    let n = done.max(1) as f64;
    Ok((done as f64 / elapsed, cpu * 1e6 / n))
}

fn median_ms(conn: &Connection, sql: &str, runs: usize) -> Outcome<f64> {
    let run = || -> Outcome<usize> {
        let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
        let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
        let mut n = 0;
        while rows.next().map_err(|e| e.to_string())?.is_some() {
            n += 1;
        }
        Ok(n)
    };
    run()?;
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        run()?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(crate::server::median(&mut times))
}
