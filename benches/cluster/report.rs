//! The markdown report: timings side by side, server CPU per query, the
//! shard layout, the pruning fractions, whether every setup gave the same
//! answers, and (with `--failover`) the cluster with one node killed.

use std::fmt::Write;

use tokio_postgres::Row;

use crate::failover::{CatchUp, Failover};
use crate::server::Outcome;
use crate::{Args, Measured, Setup, Timed, GROUP_SQL, TOPK_SQL};

/// Relative tolerance for float aggregates summed in different orders.
const FLOAT_TOLERANCE: f64 = 1e-9;

/// `failed_over`: the index of the setup the failover phase ran on, and
/// what it measured.
pub fn render(
    args: &Args,
    setups: &[Setup],
    measured: &[Measured],
    failed_over: Option<&(usize, Failover)>,
) -> String {
    let mut out = String::new();
    let mut errors = Vec::new();
    timings(&mut out, &mut errors, setups, measured);
    cpu(&mut out, setups, measured);
    layout(&mut out, args, setups, measured);
    pruning(&mut out, &mut errors, setups, measured);
    answers(&mut out, setups, measured);
    if let Some((i, f)) = failed_over {
        failover(&mut out, &mut errors, args, &setups[*i], &measured[*i], f);
    }
    if !errors.is_empty() {
        out.push_str("\nErrors:\n");
        for (i, e) in errors.iter().enumerate() {
            let _ = writeln!(out, "[{}] {e}", i + 1);
        }
    }
    out
}

type Pick = fn(&Measured) -> Outcome<f64>;

fn timings(out: &mut String, errors: &mut Vec<String>, setups: &[Setup], measured: &[Measured]) {
    let lines: [(&str, Pick, usize); 6] = [
        (
            "bulk COPY, each node its share at once (s)",
            |m| m.load.as_ref().map(|l| l.copy_s).map_err(Clone::clone),
            2,
        ),
        (
            "after load: `mosaic.seal` / `VACUUM ANALYZE` (s)",
            |m| m.load.as_ref().map(|l| l.post_load_s).map_err(Clone::clone),
            3,
        ),
        (
            "`GROUP BY grp` count/sum/avg, median of runs (ms)",
            |m| m.group.as_ref().map(|t| t.ms).map_err(Clone::clone),
            1,
        ),
        (
            "top-10 `ORDER BY val DESC LIMIT 10`, median of runs (ms)",
            |m| m.topk.as_ref().map(|t| t.ms).map_err(Clone::clone),
            1,
        ),
        (
            "point select by PK, prepared, median latency (ms)",
            |m| m.points.as_ref().map(|p| p.median_ms).map_err(Clone::clone),
            3,
        ),
        (
            "point select by PK, 90th percentile latency (ms)",
            |m| m.points.as_ref().map(|p| p.p90_ms).map_err(Clone::clone),
            3,
        ),
    ];
    let single = setups.iter().position(|s| s.mosaic && s.conns.len() == 1);
    let multi = setups.iter().position(|s| s.mosaic && s.conns.len() > 1);
    let pg = setups.iter().position(|s| !s.mosaic);

    out.push_str("| measurement |");
    for s in setups {
        let _ = write!(out, " {} |", s.label);
    }
    let ratios = [
        (multi, single, "3 nodes / 1 node"),
        (single, pg, "1 node / PG"),
    ];
    let ratios: Vec<_> = ratios
        .into_iter()
        .filter_map(|(a, b, name)| Some((a?, b?, name)))
        .collect();
    for (_, _, name) in &ratios {
        let _ = write!(out, " {name} |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(setups.len() + ratios.len()));
    out.push('\n');
    for (name, pick, decimals) in lines {
        let _ = write!(out, "| {name} |");
        let values: Vec<Outcome<f64>> = measured.iter().map(pick).collect();
        for v in &values {
            let cell = match v {
                Ok(x) => format!("{x:.decimals$}"),
                Err(e) => {
                    errors.push(e.clone());
                    format!("error [{}]", errors.len())
                }
            };
            let _ = write!(out, " {cell} |");
        }
        for (a, b, _) in &ratios {
            let cell = match (&values[*a], &values[*b]) {
                (Ok(x), Ok(y)) if *y > 0.0 => format!("{:.2}×", x / y),
                _ => "–".into(),
            };
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
}

/// Server CPU per run of the two scans, per process: where the time goes.
fn cpu(out: &mut String, setups: &[Setup], measured: &[Measured]) {
    out.push_str("\nServer CPU per run (ms, utime+stime of each server process and its children, over the timed runs):\n");
    for (what, pick) in [
        (
            "GROUP BY",
            (|m| &m.group) as fn(&Measured) -> &Outcome<Timed>,
        ),
        ("top-10", |m| &m.topk),
    ] {
        let parts: Vec<String> = setups
            .iter()
            .zip(measured)
            .map(|(s, m)| match pick(m) {
                Ok(t) if t.cpu_ms.len() > 1 => {
                    let each: Vec<String> = t
                        .cpu_ms
                        .iter()
                        .enumerate()
                        .map(|(i, ms)| format!("node {} {ms:.1}", i + 1))
                        .collect();
                    let total: f64 = t.cpu_ms.iter().sum();
                    format!("{}: {} (total {total:.1})", s.label, each.join(", "))
                }
                Ok(t) => format!("{}: {:.1}", s.label, t.cpu_ms.iter().sum::<f64>()),
                Err(_) => format!("{}: –", s.label),
            })
            .collect();
        let _ = writeln!(out, "- {what}: {}", parts.join("; "));
    }
    let parts: Vec<String> = setups
        .iter()
        .zip(measured)
        .map(|(s, m)| match &m.points {
            Ok(p) => {
                let each: Vec<String> = p.cpu_us.iter().map(|us| format!("{us:.0}")).collect();
                format!("{}: {}", s.label, each.join(" + "))
            }
            Err(_) => format!("{}: –", s.label),
        })
        .collect();
    let _ = writeln!(
        out,
        "- point select by PK, per query (µs; node 1 + node 2 + node 3): {}",
        parts.join("; ")
    );
}

fn layout(out: &mut String, args: &Args, setups: &[Setup], measured: &[Measured]) {
    let _ = writeln!(
        out,
        "\nShards of bench_kv after sealing ({} rows COPYed {}, --shard-max-rows {}), per home node: count, rows:",
        args.rows,
        if args.shuffle { "in a random order" } else { "in id order, split into consecutive id ranges per node" },
        args.shard_max_rows.map_or("default".into(), |n| n.to_string())
    );
    for (s, m) in setups.iter().zip(measured) {
        if let (true, Ok(l)) = (s.mosaic, &m.load) {
            let per: Vec<String> = l
                .shards
                .iter()
                .map(|(node, n, rows)| format!("{node} {n} ({rows} rows)"))
                .collect();
            let _ = writeln!(out, "- {}: {}", s.label, per.join(", "));
        }
    }
}

fn pruning(out: &mut String, errors: &mut Vec<String>, setups: &[Setup], measured: &[Measured]) {
    out.push_str(
        "\nShards skipped by pruning: EXPLAIN of each statement on every node of the setup, \
         shards each node's planner considered and skipped, summed:\n\n",
    );
    out.push_str(
        "| setup | statements | shards considered | skipped | fraction skipped | by zone map | by bloom filter | by trigram bloom | other |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (s, m) in setups.iter().zip(measured) {
        for (what, tally) in &m.pruning {
            match tally {
                Ok(t) => {
                    let _ = writeln!(
                        out,
                        "| {} | {what} | {} | {} | {:.1}% | {} | {} | {} | {} |",
                        s.label,
                        t.shards,
                        t.pruned,
                        t.fraction() * 100.0,
                        t.by_zone_map,
                        t.by_bloom,
                        t.by_trigram,
                        t.by_other
                    );
                }
                Err(e) => {
                    errors.push(e.clone());
                    let _ = writeln!(
                        out,
                        "| {} | {what} | error [{}] | | | | | | |",
                        s.label,
                        errors.len()
                    );
                }
            }
        }
    }
}

fn answers(out: &mut String, setups: &[Setup], measured: &[Measured]) {
    out.push_str("\nAnswers compared with the first setup's:\n");
    let Some((base_setup, base)) = setups.iter().zip(measured).next() else {
        return;
    };
    for (s, m) in setups.iter().zip(measured).skip(1) {
        for (sql, a, b, cmp) in [
            (
                GROUP_SQL,
                &base.group,
                &m.group,
                same_groups as fn(&[Row], &[Row]) -> Result<(), String>,
            ),
            (TOPK_SQL, &base.topk, &m.topk, same_topk),
        ] {
            let verdict = match (a, b) {
                (Ok(a), Ok(b)) => match cmp(&a.rows, &b.rows) {
                    Ok(()) => format!("same ({} rows)", a.rows.len()),
                    Err(e) => format!("DIFFERENT: {e}"),
                },
                _ => "not compared (error)".into(),
            };
            let _ = writeln!(
                out,
                "- `{sql}`: {} vs {}: {verdict}",
                s.label, base_setup.label
            );
        }
    }
}

/// Copies caught up, the first query after the kill, detection, the two
/// scans healthy and with the node dead, and whether the answers held.
fn failover(
    out: &mut String,
    errors: &mut Vec<String>,
    args: &Args,
    s: &Setup,
    m: &Measured,
    f: &Failover,
) {
    // One number per distinct error: a failure before the kill fills
    // every field with the same one.
    let mut error = |e: &String| {
        let n = match errors.iter().position(|x| x == e) {
            Some(i) => i + 1,
            None => {
                errors.push(e.clone());
                errors.len()
            }
        };
        format!("error [{n}]")
    };
    let (name, pid) = match &f.killed {
        Ok((name, pid)) => (name.clone(), pid.to_string()),
        Err(e) => ("the last node".into(), error(e)),
    };
    let _ = writeln!(
        out,
        "\n### Failover: {}, one node killed\n\n\
         After everything above: `SELECT mosaic.seal('bench_kv')` at node 1 and a wait \
         until node 1's `mosaic.shards` lists every sealed shard of bench_kv with 2 holders; \
         then `kill -9` of {name} (the last node, pid {pid}); every query at node 1.\n",
        s.label
    );
    let catch_up = |c: &Outcome<CatchUp>, error: &mut dyn FnMut(&String) -> String| match c {
        Ok(c) => {
            let holders = match c.holders {
                (lo, hi) if lo == hi => format!("{lo} holders each"),
                (lo, hi) => format!("{lo} to {hi} holders"),
            };
            match c.seconds {
                Some(secs) if c.polls == 1 => {
                    format!("{secs:.2}, caught up at the first look ({holders})")
                }
                Some(secs) => format!("{secs:.2} ({holders})"),
                None => format!(
                    "**not caught up** after {} s: {} of {} shards with fewer than 2 holders",
                    crate::failover::CATCH_UP_SECS,
                    c.short,
                    c.shards
                ),
            }
        }
        Err(e) => error(e),
    };
    out.push_str("| measurement | value |\n|---|---:|\n");
    let cell = match &f.catch_up {
        Ok(c) => format!("{} ({:.1} MB)", c.shards, c.bytes as f64 / 1e6),
        Err(e) => error(e),
    };
    let _ = writeln!(out, "| sealed shards of bench_kv (total size) | {cell} |");
    let cell = match &f.seal_s {
        Ok(secs) => format!("{secs:.2}"),
        Err(e) => error(e),
    };
    let _ = writeln!(
        out,
        "| `mosaic.seal` again (every row was sealed at load) (s) | {cell} |"
    );
    let cell = catch_up(&f.catch_up, &mut error);
    let _ = writeln!(
        out,
        "| copies caught up: from `mosaic.seal` until every shard has 2 holders (s) | {cell} |"
    );
    let cell = match &f.first_query {
        Ok(q) => format!("{:.1}", q.ms),
        Err(e) => format!("**FAILED** {}", error(e)),
    };
    let _ = writeln!(
        out,
        "| first `GROUP BY` after the kill, finding the dead peer and reading copies (ms) | {cell} |"
    );
    let cell = match &f.detect_s {
        Ok(secs) => format!("{secs:.2}"),
        Err(e) => error(e),
    };
    let _ = writeln!(
        out,
        "| {name} `down` in node 1's `mosaic.nodes`, from the kill (s) | {cell} |"
    );
    let cell = catch_up(&f.recopied, &mut error);
    let _ = writeln!(
        out,
        "| copies made again: from `down` until every shard has 2 live holders, \
         during the timed runs below (s) | {cell} |"
    );

    let _ = writeln!(
        out,
        "\n| median of {} runs at node 1 (ms) | {} nodes healthy | {name} down | down / healthy |\n|---|---:|---:|---:|",
        args.runs,
        s.conns.len()
    );
    for (what, healthy, down) in [
        ("`GROUP BY grp` count/sum/avg", &m.group, &f.group),
        ("top-10 `ORDER BY val DESC LIMIT 10`", &m.topk, &f.topk),
    ] {
        let healthy_ms = healthy.as_ref().map(|t| t.ms);
        let down_ms = down.as_ref().map(|t| t.ms);
        let ratio = match (&healthy_ms, &down_ms) {
            (Ok(h), Ok(d)) if *h > 0.0 => format!("{:.2}×", d / h),
            _ => "–".into(),
        };
        let healthy_cell = match &healthy_ms {
            Ok(ms) => format!("{ms:.1}"),
            // Already numbered in the table above.
            Err(_) => "error".into(),
        };
        let down_cell = match &down_ms {
            Ok(ms) => format!("{ms:.1}"),
            Err(e) => format!("**FAILED** {}", error(e)),
        };
        let _ = writeln!(out, "| {what} | {healthy_cell} | {down_cell} | {ratio} |");
    }

    out.push_str("\nAnswers with the node dead compared with node 1's just before the kill:\n");
    for (what, sql, healthy, down, cmp) in [
        (
            "first after the kill",
            GROUP_SQL,
            &f.healthy_group,
            f.first_query.as_ref().map(|q| &q.rows[..]).map_err(|_| ()),
            same_groups as fn(&[Row], &[Row]) -> Result<(), String>,
        ),
        (
            "timed runs",
            GROUP_SQL,
            &f.healthy_group,
            timed_rows(&f.group),
            same_groups,
        ),
        (
            "timed runs",
            TOPK_SQL,
            &f.healthy_topk,
            timed_rows(&f.topk),
            same_topk,
        ),
    ] {
        let verdict = match (healthy, down) {
            (Ok(h), Ok(d)) => match cmp(h, d) {
                Ok(()) => format!("same ({} rows)", h.len()),
                Err(e) => format!("**FAILED**: DIFFERENT: {e}"),
            },
            (Err(e), _) => format!("not compared: healthy answer {}", error(e)),
            (_, Err(())) => "**FAILED**: no answer (error above)".into(),
        };
        let _ = writeln!(out, "- `{sql}`, {what}: {verdict}");
    }
}

fn timed_rows(t: &Outcome<Timed>) -> Result<&[Row], ()> {
    t.as_ref().map(|t| &t.rows[..]).map_err(|_| ())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= FLOAT_TOLERANCE * a.abs().max(b.abs()).max(1.0)
}

/// (grp, count, sum, avg) per group, in any order.
fn same_groups(a: &[Row], b: &[Row]) -> Result<(), String> {
    let key = |rows: &[Row]| -> Result<Vec<(i32, i64, f64, f64)>, String> {
        let mut v = rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get(0).map_err(|e| format!("grp: {e}"))?,
                    r.try_get(1).map_err(|e| format!("count: {e}"))?,
                    r.try_get(2).map_err(|e| format!("sum: {e}"))?,
                    r.try_get(3).map_err(|e| format!("avg: {e}"))?,
                ))
            })
            .collect::<Result<Vec<_>, String>>()?;
        v.sort_by_key(|g| g.0);
        Ok(v)
    };
    let (a, b) = (key(a)?, key(b)?);
    if a.len() != b.len() {
        return Err(format!("{} groups vs {}", a.len(), b.len()));
    }
    for (x, y) in a.iter().zip(&b) {
        if x.0 != y.0 || x.1 != y.1 || !close(x.2, y.2) || !close(x.3, y.3) {
            return Err(format!("group {x:?} vs {y:?}"));
        }
    }
    Ok(())
}

/// The same values in the same order; the same ids except where the last
/// value is tied (any of the tied rows is a right answer there).
fn same_topk(a: &[Row], b: &[Row]) -> Result<(), String> {
    let pairs = |rows: &[Row]| -> Result<Vec<(i64, f64)>, String> {
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0).map_err(|e| format!("id: {e}"))?,
                    r.try_get(1).map_err(|e| format!("val: {e}"))?,
                ))
            })
            .collect()
    };
    let (a, b) = (pairs(a)?, pairs(b)?);
    if a.len() != b.len() {
        return Err(format!("{} rows vs {}", a.len(), b.len()));
    }
    let last = a.last().map_or(f64::NAN, |r| r.1);
    for (x, y) in a.iter().zip(&b) {
        if x.1 != y.1 {
            return Err(format!("{a:?} vs {b:?}"));
        }
    }
    let ids = |v: &[(i64, f64)]| {
        let mut ids: Vec<i64> = v.iter().filter(|r| r.1 != last).map(|r| r.0).collect();
        ids.sort();
        ids
    };
    if ids(&a) != ids(&b) {
        return Err(format!("{a:?} vs {b:?}"));
    }
    Ok(())
}
