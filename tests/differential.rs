//! Differential test: random typed tables and random SELECTs, run on a
//! throwaway PostgreSQL 15, on one MosaicDB node with default settings and
//! on a three-node MosaicDB cluster with tiny shards (`--shard-max-rows
//! 10`; rows inserted and queries sent through different nodes). Every
//! answer is compared with PostgreSQL's as the text of the simple query
//! protocol, and counts as:
//!
//! - the same: the same rows, in the same order when the statement orders
//!   by every output column, as sorted multisets otherwise;
//! - a MosaicDB error: allowed (a refusal, or an error where PostgreSQL
//!   failed too), counted by SQLSTATE;
//! - allowed too, and counted: PostgreSQL failed while planning, on a
//!   constant subexpression MosaicDB never evaluated; or the rows differ
//!   only in the sign of a zero (see `outcome::Verdict`);
//! - a difference: other rows, rows where PostgreSQL failed, a dropped
//!   connection or a timeout. Any difference fails the test, which lists
//!   the statements with both answers.
//!
//! The grammar leaves out what triggers known MosaicDB bugs, each with a
//! comment naming the bug where it is left out.
//!
//! `MOSAIC_DIFF_SEED` (default [`DEFAULT_SEED`], decimal or 0x-hex) fixes
//! everything generated; `MOSAIC_DIFF_STATEMENTS` (default
//! [`DEFAULT_STATEMENTS`]) is the number of queries;
//! `MOSAIC_DIFF_KNOWN_BUGS=1` generates what is left out too;
//! `MOSAIC_DIFF_REPORT=FILE` writes every difference, every MosaicDB error
//! and each round's tables and rows there.

#[path = "differential/aggregate.rs"]
mod aggregate;
mod common;
#[path = "differential/expr.rs"]
mod expr;
#[path = "differential/outcome.rs"]
mod outcome;
#[path = "differential/pred.rs"]
mod pred;
#[path = "differential/query.rs"]
mod query;
#[path = "differential/rng.rs"]
mod rng;
#[path = "differential/schema.rs"]
mod schema;

use std::time::{Duration, Instant};

use common::postgres::Postgres;
use common::TestNode;
use expr::Gen;
use outcome::{Answer, Tally};
use rng::Rng;

const DEFAULT_SEED: u64 = 20_240_229;
const DEFAULT_STATEMENTS: u64 = 600;
/// Queries per round. Each round starts fresh MosaicDB nodes (the harness
/// kills a node five minutes after it started) on new random tables.
const ROUND_STATEMENTS: u64 = 150;
const TABLES: usize = 3;
/// A statement still running after this long counts as a difference.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(60);
/// Differences shown in the failure message.
const SHOWN: usize = 20;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => {
            let v = v.trim();
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => v.parse(),
            };
            parsed.unwrap_or_else(|e| panic!("{name}={v}: {e}"))
        }
        Err(_) => default,
    }
}

/// The servers of one round: PostgreSQL (a fresh database), one MosaicDB
/// node, and the three nodes of a cluster.
struct Targets {
    pg: tokio_postgres::Client,
    single: tokio_postgres::Client,
    cluster: Vec<tokio_postgres::Client>,
    /// The cluster node the next statement goes to.
    next: usize,
}

async fn run(client: &tokio_postgres::Client, sql: &str) -> Answer {
    match tokio::time::timeout(STATEMENT_TIMEOUT, common::try_simple_rows(client, sql)).await {
        Ok(answer) => answer,
        Err(_) => Err(format!("(timeout after {STATEMENT_TIMEOUT:?})")),
    }
}

impl Targets {
    fn cluster_client(&mut self) -> &tokio_postgres::Client {
        let c = &self.cluster[self.next];
        self.next = (self.next + 1) % self.cluster.len();
        c
    }

    /// A setup statement, which must succeed everywhere.
    async fn setup(&mut self, sql: &str) {
        let pg = run(&self.pg, sql).await;
        let single = run(&self.single, sql).await;
        let cluster = run(self.cluster_client(), sql).await;
        for (who, answer) in [
            ("PostgreSQL", pg),
            ("single node", single),
            ("cluster", cluster),
        ] {
            if let Err(e) = answer {
                panic!("setup statement failed on {who}: {e}\n  {sql}");
            }
        }
    }

    /// One query everywhere, judged and tallied.
    async fn query(&mut self, q: &query::Query, tally: &mut Tally) {
        let pg = run(&self.pg, &q.sql).await;
        tally.statements += 1;
        if pg.is_err() {
            tally.pg_errors += 1;
        }
        // A data exception (class 22) that EXPLAIN raises too comes from
        // planning: PostgreSQL folded a constant subexpression.
        let folded = match &pg {
            Err(e) if e.starts_with("22") => {
                run(&self.pg, &format!("EXPLAIN {}", q.sql))
                    .await
                    .as_ref()
                    .err()
                    == Some(e)
            }
            _ => false,
        };
        let single = run(&self.single, &q.sql).await;
        tally.record("single node", &q.sql, &pg, single, q.ordered, folded);
        let cluster = run(self.cluster_client(), &q.sql).await;
        tally.record("cluster", &q.sql, &pg, cluster, q.ordered, folded);
    }
}

/// A new empty database on the reference server, connected.
async fn fresh_database(server: &Postgres, round: u64) -> tokio_postgres::Client {
    let admin = common::connect(&server.conn_string())
        .await
        .expect("connect to PostgreSQL");
    let name = format!("diff_{round}");
    common::simple_rows(&admin, &format!("CREATE DATABASE {name}")).await;
    let conn = server
        .conn_string()
        .replace("dbname=postgres", &format!("dbname={name}"));
    common::connect(&conn).await.expect("connect to PostgreSQL")
}

/// One round: fresh nodes and tables, then `statements` queries.
async fn round(
    server: &Postgres,
    rng: &mut Rng,
    round: u64,
    statements: u64,
    known_bugs: bool,
    tally: &mut Tally,
) {
    let node = TestNode::start();
    let nodes = common::start_cluster(&["d1", "d2", "d3"], &["--shard-max-rows", "10"]).await;
    let mut cluster = Vec::new();
    for n in &nodes {
        cluster.push(n.client().await);
    }
    let mut targets = Targets {
        pg: fresh_database(server, round).await,
        single: node.client().await,
        cluster,
        next: 0,
    };
    let tables = schema::tables(rng, TABLES);
    tally.round = round;
    tally.setup_log.push(format!("-- round {round}"));
    for t in &tables {
        let rows = rng.range(20, 60) as usize;
        let per_statement = rng.range(3, 10) as usize;
        let inserts = t.insert_sql(rng, rows, per_statement, known_bugs);
        for sql in std::iter::once(t.create_sql()).chain(inserts) {
            targets.setup(&sql).await;
            tally.setup_log.push(format!("{sql};"));
        }
    }
    let shards =
        common::simple_rows(&targets.cluster[0], "SELECT count(*) FROM mosaic.shards").await;
    tally.shards += shards[0][0]
        .as_deref()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    let mut gen = Gen {
        rng,
        tables: &tables,
        known_bugs,
        sub_depth: 1,
        aliases: 0,
        projecting: false,
    };
    for _ in 0..statements {
        let q = gen.query();
        targets.query(&q, tally).await;
    }
}

/// Writes every difference and MosaicDB error to `MOSAIC_DIFF_REPORT`.
fn write_report(tally: &Tally, summary: &str) {
    let Ok(path) = std::env::var("MOSAIC_DIFF_REPORT") else {
        return;
    };
    let mut text = format!("{summary}\n\n# differences\n\n");
    for d in &tally.differences {
        text.push_str(&d.describe());
        text.push_str("\n\n");
    }
    text.push_str("# MosaicDB errors\n\n");
    for e in &tally.error_log {
        text.push_str(e);
        text.push('\n');
    }
    text.push_str("\n# tables\n\n");
    for sql in &tally.setup_log {
        text.push_str(sql);
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {path}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosaic_answers_like_postgresql() {
    let seed = env_u64("MOSAIC_DIFF_SEED", DEFAULT_SEED);
    let statements = env_u64("MOSAIC_DIFF_STATEMENTS", DEFAULT_STATEMENTS);
    let known_bugs = std::env::var("MOSAIC_DIFF_KNOWN_BUGS").is_ok_and(|v| v == "1");
    let started = Instant::now();
    let server = Postgres::start();
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    let mut done = 0;
    let mut r = 0;
    while done < statements {
        let n = ROUND_STATEMENTS.min(statements - done);
        round(&server, &mut rng, r, n, known_bugs, &mut tally).await;
        done += n;
        r += 1;
    }
    let summary = format!("{} in {:.0?}", tally.summary(seed), started.elapsed());
    println!("{summary}");
    write_report(&tally, &summary);
    let shown: Vec<String> = tally
        .differences
        .iter()
        .take(SHOWN)
        .map(|d| d.describe())
        .collect();
    assert!(
        tally.differences.is_empty(),
        "{} answers differ from PostgreSQL's (seed {seed}; first {}):\n\n{}\n\n{summary}",
        tally.differences.len(),
        shown.len(),
        shown.join("\n\n")
    );
    // Not vacuous: PostgreSQL answers most generated statements, the
    // cluster reads sealed shards, and MosaicDB answers most statements
    // the same.
    assert!(
        tally.pg_errors * 4 <= tally.statements,
        "PostgreSQL rejected too many generated statements: {summary}"
    );
    assert!(tally.shards > 0, "the cluster sealed no shard: {summary}");
    for (target, counts) in &tally.targets {
        assert!(
            counts.same * 2 >= counts.total(),
            "{target} answered fewer than half the statements: {summary}"
        );
    }
}
