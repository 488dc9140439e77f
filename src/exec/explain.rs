//! EXPLAIN: the shards each table reference reads and skips (and why),
//! the peers asked, how the sources are combined, and the SQLite SQL that
//! runs. EXPLAIN ANALYZE runs the query too and adds what each part did:
//! the rows and time of every shard fragment, the rows each peer sent,
//! the rows and time of the final SQLite query, and the whole run's time.

use std::time::{Duration, Instant};

use sqlparser::ast::{Expr, Statement, UtilityOption};

use crate::error::{Error, Result};
use crate::exec::query::compile;
use crate::exec::{Outcome, RowSink, Session};
use crate::plan::{self, ReadPlan};
use crate::types::Datum;

/// Milliseconds, as EXPLAIN ANALYZE prints them.
pub fn millis(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Whether the parenthesized options ask ANALYZE; FORMAT other than TEXT
/// is refused (the plan is MosaicDB's own lines), unknown options are
/// PostgreSQL's 42601.
fn analyze_option(options: &[UtilityOption]) -> Result<bool> {
    let mut analyze = false;
    for o in options {
        let name = o.name.value.to_lowercase();
        let arg = o.arg.as_ref().map(|a| match a {
            Expr::Value(v) => v.value.to_string().trim_matches('\'').to_lowercase(),
            other => other.to_string().to_lowercase(),
        });
        let on = || match arg.as_deref() {
            None | Some("true" | "on" | "1") => Ok(true),
            Some("false" | "off" | "0") => Ok(false),
            Some(other) => Err(
                Error::InvalidParameter(format!("{name} requires a Boolean value"))
                    .with_detail(other.to_string()),
            ),
        };
        match name.as_str() {
            "analyze" => analyze = on()?,
            "format" if arg.as_deref() == Some("text") => {}
            "format" => {
                return Err(Error::Unsupported(format!(
                    "EXPLAIN (FORMAT {})",
                    arg.unwrap_or_default().to_uppercase()
                )))
            }
            "verbose" | "costs" | "settings" | "buffers" | "wal" | "timing" | "summary" => {
                on()?;
            }
            _ => {
                return Err(Error::Syntax(format!(
                    "unrecognized EXPLAIN option \"{name}\""
                )))
            }
        }
    }
    Ok(analyze)
}

/// EXPLAIN as one statement; EXPLAIN EXECUTE explains the prepared
/// statement with its arguments, which are evaluated first (outside the
/// statement, as EXECUTE evaluates them).
pub(super) fn run_explain(
    sess: &mut Session,
    mut stmt: Statement,
    params: &[Datum],
    sink: &mut RowSink,
) -> Result<Outcome> {
    let mut bound = params.to_vec();
    if let Statement::Explain { statement, .. } = &mut stmt {
        if let Some(Ok(crate::exec::Kind::Execute(spec))) = super::statements::classify(statement) {
            let (prepared, args) = super::statements::bound(sess, &spec)?;
            if let Some(inner) = prepared.stmt.clone() {
                **statement = inner;
                bound = args;
            }
        }
    }
    sess.in_statement(false, |sess| explain(sess, stmt, &bound, sink))
}

pub fn explain(
    sess: &mut Session,
    stmt: Statement,
    params: &[Datum],
    sink: &mut RowSink,
) -> Result<Outcome> {
    let Statement::Explain {
        statement,
        analyze,
        options,
        format,
        ..
    } = stmt
    else {
        return Err(Error::Internal("not an EXPLAIN".into()));
    };
    if let Some(f) = format {
        return Err(Error::Unsupported(format!("EXPLAIN FORMAT {f}")));
    }
    let analyze = analyze | analyze_option(options.as_deref().unwrap_or_default())?;
    let inner = *statement;
    if !matches!(inner, Statement::Query(_)) {
        return Err(Error::Unsupported(format!(
            "EXPLAIN{} of a statement other than a query",
            if analyze { " ANALYZE" } else { "" }
        )));
    }
    let lines = if analyze {
        *sess.analyze.lock() = Some(vec![]);
        let started = Instant::now();
        let ran = run(sess, inner, params);
        let recorded = sess.analyze.lock().take().unwrap_or_default();
        let (mut lines, rows) = ran?;
        lines.extend(recorded.into_iter().map(|l| format!("Actual: {l}")));
        lines.push(format!("Rows: {rows}"));
        lines.push(format!("Execution Time: {}", millis(started.elapsed())));
        lines
    } else {
        plan_only(sess, inner, params)?
    };
    let mut count = 0;
    for l in lines {
        sink(vec![Datum::Text(l)])?;
        count += 1;
    }
    Ok(Outcome::Rows { count })
}

fn split_of(sess: &Session, inner: &Statement) -> Option<crate::plan::fragment::Split> {
    match sess.touches_temp(inner) {
        true => None,
        false => crate::plan::fragment::split(inner, &sess.catalog()),
    }
}

fn plan_only(sess: &mut Session, inner: Statement, params: &[Datum]) -> Result<Vec<String>> {
    if let Some(split) = split_of(sess, &inner) {
        if let Some(lines) = crate::exec::fragment::explain(sess, &split, params)? {
            return Ok(lines);
        }
    }
    let (sql, plan) = compile(sess, inner, params)?;
    Ok(plan_lines(sess, &plan, &sql))
}

/// Run the query as EXPLAIN ANALYZE does: the plan's lines and the
/// number of rows, the rows themselves dropped.
fn run(sess: &mut Session, inner: Statement, params: &[Datum]) -> Result<(Vec<String>, u64)> {
    let mut rows = 0u64;
    let mut counting = |_: Vec<Datum>| -> Result<()> {
        rows += 1;
        Ok(())
    };
    if let Some(split) = split_of(sess, &inner) {
        if let Some(lines) = crate::exec::fragment::explain(sess, &split, params)? {
            let started = Instant::now();
            crate::exec::fragment::run(sess, &split, params, &mut counting)?;
            sess.analyzed(|| format!("fragments and merge: {}", millis(started.elapsed())));
            return Ok((lines, rows));
        }
    }
    let started = Instant::now();
    let (sql, plan) = compile(sess, inner, params)?;
    sess.analyzed(|| format!("planning and gathering: {}", millis(started.elapsed())));
    let lines = plan_lines(sess, &plan, &sql);
    let started = Instant::now();
    let count = sess.conn.query(&sql, params, &mut counting)?;
    let node = sess.store.node_name.clone();
    sess.analyzed(|| {
        format!(
            "SQLite on node {node}: {count} rows in {}",
            millis(started.elapsed())
        )
    });
    Ok((lines, rows))
}

/// The lines of a gather-path plan.
fn plan_lines(sess: &Session, plan: &ReadPlan, sql: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let node = &sess.store.node_name;
    for scan in &plan.scans {
        lines.push(format!(
            "Scan {}: open segment + {} of {} shards on node {node} ({} pruned)",
            scan.table,
            scan.kept.len(),
            scan.shards_total,
            scan.pruned.len()
        ));
        for id in &scan.kept {
            lines.push(format!("  read shard {id}"));
        }
        for (id, why) in &scan.pruned {
            lines.push(format!("  pruned shard {id}: {why}"));
        }
    }
    if let Some(c) = sess.cluster.as_ref().filter(|_| sess.has_peers()) {
        for scan in &plan.scans {
            if !plan.remotes.iter().any(|r| r.table.name == scan.table) {
                lines.push(format!(
                    "Peers {}: none asked, their holdings of {} cannot match",
                    crate::exec::fragment::peer_names(c),
                    scan.table
                ));
            }
        }
        for r in &plan.remotes {
            lines.push(format!(
                "Remote {}: peers {} each scan their own open segment and shards{}",
                r.table.name,
                r.peers.join(", "),
                r.filter
                    .as_ref()
                    .map(|f| format!(" for {f}"))
                    .unwrap_or_default()
            ));
            lines.extend(crate::exec::remote::explain_copies(sess, &r.table.name));
        }
    }
    for g in &plan.gathers {
        lines.push(format!(
            "Gather {}: {} shards copied into temp.{} (more than {} to attach)",
            g.table.name,
            g.shards.len(),
            g.temp,
            plan::GATHER_ABOVE
        ));
    }
    lines.push(
        "Merge: UNION ALL of each table's sources, then the query runs in SQLite on this node"
            .into(),
    );
    lines.push(format!("SQLite: {sql}"));
    lines
}
