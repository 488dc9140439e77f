//! Test harness: real `mosaic` processes on loopback ports with a fresh
//! temp data dir each. Tests talk to them only through public surfaces: the
//! Postgres protocol, `DATA/node.json`, signals.
//!
//! Each integration test crate includes this module and uses a different
//! subset of it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod postgres;
pub mod raw;
pub mod rng;

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The password every test node is started with.
pub const PASSWORD: &str = "mosaic-test-password";
/// The login user (the node's default).
pub const USER: &str = "mosaic";

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
const LOG_TAIL_BYTES: u64 = 8 * 1024;
/// A node still running this long after it started is killed, so a hung
/// query fails its test (the connection drops) instead of hanging the suite.
const WATCHDOG: Duration = Duration::from_secs(300);

/// One running `mosaic` node. Dropping it kills the process and removes its
/// data dir; if the thread is panicking (a failed assertion, or a harness
/// step such as start or stop that panicked), the node's log tail is printed
/// first, so panics here don't repeat it.
pub struct TestNode {
    child: Option<Child>,
    /// Set when the current process is gone; stops its watchdog.
    exited: Arc<AtomicBool>,
    args: Vec<String>,
    /// Extra environment of the process (`start_with_env`).
    env: Vec<(String, String)>,
    pg_addr: String,
    cluster_addr: String,
    // Declared last so the directory outlives every use of it.
    dir: tempfile::TempDir,
}

impl TestNode {
    /// Starts a node with default settings.
    pub fn start() -> TestNode {
        TestNode::start_with(&[])
    }

    /// Starts a node with extra flags, e.g. `&["--shard-max-rows", "10"]`.
    pub fn start_with(args: &[&str]) -> TestNode {
        TestNode::start_with_env(args, &[])
    }

    /// Starts a node with extra flags and environment variables (kept
    /// across restarts).
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> TestNode {
        let dir = tempfile::Builder::new()
            .prefix("mosaic-test-")
            .tempdir()
            .expect("create temp dir");
        let mut node = TestNode {
            child: None,
            exited: Arc::new(AtomicBool::new(true)),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            pg_addr: String::new(),
            cluster_addr: String::new(),
            dir,
        };
        node.launch();
        node
    }

    /// The node's data directory (`--data`).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Where the node's stderr goes (appended to across restarts).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("node.log")
    }

    /// The Postgres address the node bound, as `127.0.0.1:PORT`.
    pub fn pg_addr(&self) -> &str {
        &self.pg_addr
    }

    /// The cluster address the node bound (gossip on UDP, RPC on TCP).
    pub fn cluster_addr(&self) -> &str {
        &self.cluster_addr
    }

    /// A libpq-style connection string for this node.
    pub fn conn_string(&self) -> String {
        self.conn_string_with_password(PASSWORD)
    }

    /// Like [`TestNode::conn_string`] but with another password.
    pub fn conn_string_with_password(&self, password: &str) -> String {
        let (host, port) = self.pg_addr.rsplit_once(':').expect("pg_addr is HOST:PORT");
        format!("host={host} port={port} user={USER} password={password} dbname=mosaic")
    }

    /// Connects with tokio-postgres; the connection task is spawned on the
    /// current runtime.
    pub async fn client(&self) -> tokio_postgres::Client {
        match connect(&self.conn_string()).await {
            Ok(client) => client,
            Err(e) => panic!("connect to {}: {e}", self.pg_addr),
        }
    }

    /// Kills the process with SIGKILL and waits for it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.exited.store(true, Ordering::SeqCst);
    }

    /// Sends SIGTERM and waits for a graceful exit. Panics (with the log
    /// tail) if the node does not exit in time.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("node is not running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill -TERM");
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("wait for node") {
                self.exited.store(true, Ordering::SeqCst);
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                self.exited.store(true, Ordering::SeqCst);
                panic!("node did not exit within {STOP_TIMEOUT:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the node again on the same data dir (stopping it with SIGTERM
    /// first if it is still running) and waits for its new `node.json`.
    /// The Postgres port may change.
    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
        self.launch();
    }

    /// The OS process id of the running node.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("node is not running").id()
    }

    /// The last few KiB of the node's log.
    pub fn log_tail(&self) -> String {
        let Ok(mut file) = File::open(self.log_path()) else {
            return "(no node log)".into();
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL_BYTES)));
        let mut bytes = Vec::new();
        let _ = file.read_to_end(&mut bytes);
        format!(
            "---- tail of {} ----\n{}\n---- end of node log ----",
            self.log_path().display(),
            String::from_utf8_lossy(&bytes)
        )
    }

    fn launch(&mut self) {
        let data = self.data_dir();
        let node_json = data.join("node.json");
        // A stale node.json from the previous run would look ready at once.
        let _ = std::fs::remove_file(&node_json);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("open node log");
        let mut defaults = vec![];
        if !self.args.iter().any(|a| a == "--listen") {
            defaults.extend(["--listen", "127.0.0.1:0"]);
        }
        if !self.args.iter().any(|a| a == "--cluster-addr") {
            defaults.extend(["--cluster-addr", "127.0.0.1:0"]);
        }
        let child = Command::new(env!("CARGO_BIN_EXE_mosaic"))
            .arg("--data")
            .arg(&data)
            .args(defaults)
            .args(&self.args)
            .env("MOSAIC_PASSWORD", PASSWORD)
            .env_remove("MOSAIC_USER")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or("info".into()),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .expect("spawn the mosaic binary");
        self.exited = watchdog(child.id());
        self.child = Some(child);
        (self.pg_addr, self.cluster_addr) = self.wait_ready(&node_json);
    }

    /// Polls for `node.json` (written atomically by the node once it is
    /// ready) and returns its `pg_addr` and `cluster_addr`.
    fn wait_ready(&mut self, node_json: &Path) -> (String, String) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(text) = std::fs::read_to_string(node_json) {
                let info: serde_json::Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("node.json is not JSON ({e}): {text}"));
                match (info["pg_addr"].as_str(), info["cluster_addr"].as_str()) {
                    (Some(pg), Some(cluster)) => return (pg.to_string(), cluster.to_string()),
                    _ => panic!("node.json lacks pg_addr or cluster_addr: {text}"),
                }
            }
            let child = self.child.as_mut().expect("node was launched");
            if let Some(status) = child.try_wait().expect("poll node process") {
                self.child = None;
                self.exited.store(true, Ordering::SeqCst);
                panic!("node exited before it was ready: {status}");
            }
            if Instant::now() > deadline {
                panic!(
                    "node wrote no {} within {READY_TIMEOUT:?}",
                    node_json.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Kills `pid` with SIGKILL after [`WATCHDOG`] unless the returned flag is
/// set first. The pid can't be reused meanwhile: the child is not reaped
/// before the flag is set.
fn watchdog(pid: u32) -> Arc<AtomicBool> {
    let exited = Arc::new(AtomicBool::new(false));
    let flag = exited.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + WATCHDOG;
        while Instant::now() < deadline {
            if flag.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        if !flag.load(Ordering::SeqCst) {
            eprintln!("watchdog: node {pid} still running after {WATCHDOG:?}; killing it");
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    });
    exited
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.kill9();
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail());
            // MOSAIC_TEST_KEEP=1 keeps a failed test's data dirs and
            // whole logs for a look afterwards.
            if std::env::var_os("MOSAIC_TEST_KEEP").is_some() {
                let dir = std::mem::replace(
                    &mut self.dir,
                    tempfile::TempDir::new().expect("create temp dir"),
                );
                eprintln!("kept {}", dir.keep().display());
            }
        }
    }
}

/// Connects to any Postgres-protocol server with tokio-postgres, spawning
/// the connection task on the current runtime.
pub async fn connect(conn_string: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(conn_string, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("connection closed with error: {e}");
        }
    });
    Ok(client)
}

/// The rows of the last result of a simple query, as text, NULL as `None`;
/// an error as `SQLSTATE message` (the server's own message).
pub async fn try_simple_rows(
    client: &tokio_postgres::Client,
    sql: &str,
) -> Result<Vec<Vec<Option<String>>>, String> {
    use tokio_postgres::SimpleQueryMessage;
    let messages = client
        .simple_query(sql)
        .await
        .map_err(|e| match e.as_db_error() {
            Some(db) => format!("{} {}", db.code().code(), db.message()),
            None => format!("(no SQLSTATE) {e}"),
        })?;
    let mut rows = Vec::new();
    for message in messages {
        match message {
            SimpleQueryMessage::RowDescription(_) => rows.clear(),
            SimpleQueryMessage::Row(row) => rows.push(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => {}
        }
    }
    Ok(rows)
}

/// [`try_simple_rows`], panicking on an error.
pub async fn simple_rows(client: &tokio_postgres::Client, sql: &str) -> Vec<Vec<Option<String>>> {
    try_simple_rows(client, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

// ---------------------------------------------------------------------------
// Clusters
// ---------------------------------------------------------------------------

/// How long a cluster test waits for membership or data to settle.
pub const CLUSTER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Start `names.len()` nodes, the others joining the first through it as
/// seed, each with `args`; returns when every node sees all the others alive.
pub async fn start_cluster(names: &[&str], args: &[&str]) -> Vec<TestNode> {
    let mut first_args = vec!["--node-name", names[0]];
    first_args.extend_from_slice(args);
    let first = TestNode::start_with(&first_args);
    let seed = first.cluster_addr().to_string();
    let mut nodes = vec![first];
    for name in &names[1..] {
        let mut a = vec!["--node-name", name, "--join", &seed];
        a.extend_from_slice(args);
        nodes.push(TestNode::start_with(&a));
    }
    for n in &nodes {
        wait_alive(n, names.len() - 1).await;
    }
    nodes
}

/// Wait until `node` sees `peers` other nodes alive; returns how long it took.
pub async fn wait_alive(node: &TestNode, peers: usize) -> std::time::Duration {
    let client = node.client().await;
    let start = std::time::Instant::now();
    wait_rows(
        &client,
        "SELECT count(*) FROM mosaic.nodes WHERE state = 'alive' AND NOT is_self",
        &[&peers.to_string()],
    )
    .await;
    start.elapsed()
}

/// Wait until `client`'s node sees the node `name` in `state`.
pub async fn wait_state(client: &tokio_postgres::Client, name: &str, state: &str) {
    wait_rows(
        client,
        &format!("SELECT state FROM mosaic.nodes WHERE node_name = '{name}'"),
        &[state],
    )
    .await;
}

/// Poll `sql` until its first row is `want` (NULL as "NULL"); errors
/// meanwhile are retried. Panics after [`CLUSTER_TIMEOUT`] with the last
/// answer.
pub async fn wait_rows(client: &tokio_postgres::Client, sql: &str, want: &[&str]) {
    let start = std::time::Instant::now();
    loop {
        let got = try_simple_rows(client, sql).await;
        if let Ok(rows) = &got {
            let first: Option<Vec<&str>> = rows
                .first()
                .map(|r| r.iter().map(|v| v.as_deref().unwrap_or("NULL")).collect());
            if first.as_deref() == Some(want) {
                return;
            }
        }
        assert!(
            start.elapsed() < CLUSTER_TIMEOUT,
            "{sql} gave {got:?}, not {want:?}, after {CLUSTER_TIMEOUT:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Connect to `conn` and pass on the connection's asynchronous messages
/// (notices, notifications) on a channel.
pub async fn connect_with_messages(
    conn: &str,
) -> (
    tokio_postgres::Client,
    tokio::sync::mpsc::UnboundedReceiver<tokio_postgres::AsyncMessage>,
) {
    use futures::StreamExt;
    let (client, mut connection) = tokio_postgres::connect(conn, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(m)) = messages.next().await {
            let _ = tx.send(m);
        }
    });
    (client, rx)
}

/// Connect and collect the server's notices (WARNINGs) on a channel, as
/// `SEVERITY: message`.
pub async fn client_with_notices(
    node: &TestNode,
) -> (
    tokio_postgres::Client,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    let (client, mut messages) = connect_with_messages(&node.conn_string()).await;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(m) = messages.recv().await {
            if let tokio_postgres::AsyncMessage::Notice(n) = m {
                let _ = tx.send(format!("{}: {}", n.severity(), n.message()));
            }
        }
    });
    (client, rx)
}

/// A connection string to `node` as `user` with `password`.
pub fn as_user(node: &TestNode, user: &str, password: &str) -> String {
    let (host, port) = node.pg_addr().rsplit_once(':').expect("host:port");
    format!("host={host} port={port} user={user} password='{password}' dbname=mosaic")
}

/// The SQLSTATE a login as `user` fails with, or `None` when it succeeds.
pub async fn login_error(node: &TestNode, user: &str, password: &str) -> Option<String> {
    match connect(&as_user(node, user, password)).await {
        Ok(_) => None,
        Err(e) => Some(
            e.code()
                .map_or_else(|| format!("{e}"), |c| c.code().to_string()),
        ),
    }
}

/// "ok", or the SQLSTATE `sql` fails with.
pub async fn sqlstate(client: &tokio_postgres::Client, sql: &str) -> String {
    match client.simple_query(sql).await {
        Ok(_) => "ok".into(),
        Err(e) => e
            .code()
            .map_or_else(|| format!("{e}"), |c| c.code().to_string()),
    }
}

/// The metrics address a node wrote into its node.json.
pub fn metrics_addr(node: &TestNode) -> String {
    let text = std::fs::read_to_string(node.data_dir().join("node.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["metrics_addr"]
        .as_str()
        .expect("metrics_addr")
        .to_string()
}

/// GET `path` from `addr`: the status code and body; `None` when nothing
/// answers.
pub async fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.ok()?;
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

/// The value of the sample `series` (name with its labels, as rendered).
pub fn metric_value(scrape: &str, series: &str) -> Option<f64> {
    scrape.lines().find_map(|l| {
        let rest = l.strip_prefix(series)?.strip_prefix(' ')?;
        rest.trim().parse().ok()
    })
}
