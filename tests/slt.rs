//! SQL semantics: every `sql/slt/*.slt` file, run over the wire with the
//! simple query protocol, against a fresh node with default settings,
//! against a fresh node with `--shard-max-rows 10` (many tiny shards),
//! against three such nodes forming a cluster, with the statements spread
//! over the nodes, and against a throwaway PostgreSQL 15.
//!
//! The expected answers are PostgreSQL's, and the PostgreSQL run proves it:
//! every file runs there too, each in a fresh database, and must pass. What
//! MosaicDB refuses (0A000) sits under `onlyif mosaic`, next to PostgreSQL's
//! own answer under `onlyif postgresql`, so each file records both.
//! `MOSAIC_SLT_FILTER=substring` runs only the files whose name contains it.
//!
//! Files must not call MosaicDB-only functions such as `mosaic.seal()`
//! outside `onlyif mosaic`; the tiny-shards run is what exercises sealing.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use sqllogictest::{DBOutput, DefaultColumnType};
use tokio_postgres::SimpleQueryMessage;

/// A driver error whose text includes the server's message (tokio-postgres
/// alone prints just "db error"), so `statement error <regex>` can match it.
#[derive(Debug)]
struct SqlError(tokio_postgres::Error);

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_db_error() {
            Some(db) => write!(f, "{db}"),
            None => match std::error::Error::source(&self.0) {
                Some(cause) => write!(f, "{}: {cause}", self.0),
                None => write!(f, "{}", self.0),
            },
        }
    }
}

impl std::error::Error for SqlError {}

impl From<tokio_postgres::Error> for SqlError {
    fn from(e: tokio_postgres::Error) -> Self {
        SqlError(e)
    }
}

/// The result of the last statement in a (possibly multi-statement) query.
fn last_result(messages: &[SimpleQueryMessage]) -> DBOutput<DefaultColumnType> {
    let mut last = DBOutput::StatementComplete(0);
    let mut columns: Option<usize> = None;
    let mut rows = Vec::new();
    for message in messages {
        match message {
            SimpleQueryMessage::RowDescription(cols) => columns = Some(cols.len()),
            SimpleQueryMessage::Row(row) => rows.push(
                (0..row.len())
                    .map(|i| match row.get(i) {
                        None => "NULL".to_string(),
                        Some("") => "(empty)".to_string(),
                        Some(v) => v.to_string(),
                    })
                    .collect::<Vec<_>>(),
            ),
            SimpleQueryMessage::CommandComplete(n) => {
                last = match columns.take() {
                    Some(n_cols) => DBOutput::Rows {
                        types: vec![DefaultColumnType::Any; n_cols],
                        rows: std::mem::take(&mut rows),
                    },
                    None => DBOutput::StatementComplete(*n),
                };
            }
            _ => {}
        }
    }
    last
}

fn slt_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/slt"));
    let filter = std::env::var("MOSAIC_SLT_FILTER").unwrap_or_default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("read dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(&filter))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .slt files under {}", dir.display());
    files
}

/// The database as sqllogictest sees it: one connection per node (one node,
/// or the nodes of a cluster), every value rendered as the text the server
/// sent, NULL as `NULL` and the empty string as `(empty)`. Statements go to
/// the nodes in turn (so rows are inserted, changed and read through
/// different nodes), except that a transaction block stays on the node
/// that began it and SET/RESET outside a block reach every node.
struct Conn {
    clients: Vec<tokio_postgres::Client>,
    next: usize,
    /// The node an open transaction block runs on.
    block: Option<usize>,
}

fn starts_with_word(sql: &str, word: &str) -> bool {
    let s = sql.trim_start();
    s.len() >= word.len()
        && s[..word.len()].eq_ignore_ascii_case(word)
        && s[word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_')
}

#[async_trait]
impl sqllogictest::AsyncDB for Conn {
    type Error = SqlError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, Self::Error> {
        // Session state reaches every node's connection; inside a block it
        // belongs to the block's node (a ROLLBACK takes it back there).
        let session_state = starts_with_word(sql, "SET")
            || starts_with_word(sql, "RESET")
            || sql.to_ascii_lowercase().contains("set_config(");
        if session_state && self.block.is_none() {
            let mut last = None;
            for c in &self.clients {
                last = Some(c.simple_query(sql).await.map_err(SqlError)?);
            }
            return Ok(last
                .map(|m| last_result(&m))
                .unwrap_or(DBOutput::StatementComplete(0)));
        }
        let node = match self.block {
            Some(n) => n,
            None => {
                let n = self.next;
                self.next = (self.next + 1) % self.clients.len();
                n
            }
        };
        let begins = starts_with_word(sql, "BEGIN") || starts_with_word(sql, "START");
        let upper = sql.to_ascii_uppercase();
        let ends = |s: &str| {
            let t = s.trim_end().trim_end_matches(';').trim_end();
            (t.ends_with("COMMIT")
                || t.ends_with("ROLLBACK")
                || t.ends_with("END")
                || t.ends_with("ABORT"))
                && !t.contains("ROLLBACK TO")
        };
        if begins && !ends(&upper) {
            self.block = Some(node);
        } else if self.block.is_some() && ends(&upper) {
            self.block = None;
        }
        let messages = self.clients[node]
            .simple_query(sql)
            .await
            .map_err(SqlError)?;
        Ok(last_result(&messages))
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "postgres"
    }

    async fn sleep(dur: Duration) {
        tokio::time::sleep(dur).await
    }

    fn error_sql_state(err: &Self::Error) -> Option<String> {
        err.0.code().map(|c| c.code().to_string())
    }
}

/// Who answers: MosaicDB nodes, or the reference PostgreSQL.
#[derive(Clone, Copy, PartialEq)]
enum Server {
    Mosaic,
    Postgres,
}

/// Runs every file, each on fresh connections to every node of
/// `conn_strings`, and panics listing every failing record of every file
/// (a file goes on after a failure, so one run shows them all). Labels:
/// `mosaic` or `postgresql` for the server, and `cluster` with several
/// nodes, for what differs there by design (serial values come from a
/// residue class per node).
async fn run_all(conn_strings: &[String], server: Server) {
    let mut failures = Vec::new();
    let files = slt_files();
    for (i, file) in files.iter().enumerate() {
        let nodes = match server {
            Server::Mosaic => conn_strings.to_vec(),
            Server::Postgres => vec![fresh_database(&conn_strings[0], i).await],
        };
        let mut runner = sqllogictest::Runner::new(move || {
            let conn_strings = nodes.clone();
            async move {
                let mut clients = Vec::new();
                for c in &conn_strings {
                    clients.push(common::connect(c).await.map_err(SqlError)?);
                }
                Ok(Conn {
                    clients,
                    next: 0,
                    block: None,
                })
            }
        });
        runner.add_label(match server {
            Server::Mosaic => "mosaic",
            Server::Postgres => "postgresql",
        });
        if conn_strings.len() > 1 {
            runner.add_label("cluster");
        }
        runner.with_column_validator(sqllogictest::default_column_validator);
        let records = match sqllogictest::parse_file(file) {
            Ok(records) => records,
            Err(e) => {
                failures.push(format!("{}: {e}", file.display()));
                continue;
            }
        };
        for record in records {
            if matches!(record, sqllogictest::Record::Halt { .. }) {
                break;
            }
            if let Err(e) = runner.run_async(record).await {
                failures.push(format!("{}", e.display(false)));
            }
        }
        runner.shutdown_async().await;
    }
    assert!(
        failures.is_empty(),
        "{} failures in {} slt files on {} server(s):\n\n{}",
        failures.len(),
        files.len(),
        conn_strings.len(),
        failures.join("\n\n")
    );
}

/// A new empty database on the reference server for file number `i`, and
/// the connection string that reaches it.
async fn fresh_database(conn_string: &str, i: usize) -> String {
    let client = common::connect(conn_string)
        .await
        .expect("connect to the reference PostgreSQL");
    let name = format!("slt_{i}");
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a database per slt file");
    conn_string.replace("dbname=postgres", &format!("dbname={name}"))
}

/// Every file against PostgreSQL 15 itself: the expected answers are its.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slt_postgresql() {
    let server = common::postgres::Postgres::start();
    run_all(&[server.conn_string()], Server::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slt_single_node() {
    let node = common::TestNode::start();
    run_all(&[node.conn_string()], Server::Mosaic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slt_tiny_shards() {
    let node = common::TestNode::start_with(&["--shard-max-rows", "10"]);
    run_all(&[node.conn_string()], Server::Mosaic).await;
}

/// The same files on three nodes with tiny shards, statements spread over
/// the nodes: the answers must not depend on which node holds what.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slt_three_node_cluster() {
    let first = common::TestNode::start_with(&["--shard-max-rows", "10", "--node-name", "c1"]);
    let seed = first.cluster_addr().to_string();
    let others: Vec<common::TestNode> = ["c2", "c3"]
        .iter()
        .map(|n| {
            common::TestNode::start_with(&[
                "--shard-max-rows",
                "10",
                "--node-name",
                n,
                "--join",
                &seed,
            ])
        })
        .collect();
    let nodes: Vec<&common::TestNode> = std::iter::once(&first).chain(others.iter()).collect();
    for n in &nodes {
        let client = n.client().await;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let rows = common::simple_rows(
                &client,
                "SELECT count(*) FROM mosaic.nodes WHERE state = 'alive' AND NOT is_self",
            )
            .await;
            if rows[0][0].as_deref() == Some("2") {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the cluster did not form"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let conns: Vec<String> = nodes.iter().map(|n| n.conn_string()).collect();
    run_all(&conns, Server::Mosaic).await;
}
