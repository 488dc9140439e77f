//! PgBouncer in transaction pooling mode in front of a real node: several
//! client connections run many short transactions through a small pool of
//! server connections, the way applications behind PgBouncer do (simple
//! queries, and parameterized queries on the unnamed statement, since
//! transaction pooling in PgBouncer before 1.21 breaks named prepared
//! statements). The test asserts the results, that the server connections
//! were shared (backend pids and PgBouncer's admin console), and that
//! what PgBouncer sends on its own (SET for tracked parameters such as
//! application_name) works.
//!
//! PgBouncer comes from scripts/install-test-deps.sh; when it is missing
//! this test fails rather than skipping.

mod common;

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{connect, simple_rows, TestNode, PASSWORD, USER};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, SimpleQueryMessage};

/// Server connections PgBouncer may open to the node.
const POOL_SIZE: usize = 3;
/// Client connections to PgBouncer, more than the pool holds.
const CLIENTS: usize = 8;
/// Committed transactions per client.
const ROUNDS: i64 = 12;

/// A PgBouncer process on a free loopback port, killed on drop.
struct Pgbouncer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Pgbouncer {
    /// Starts PgBouncer in the foreground with `pool_mode` and at most
    /// `pool_size` server connections in front of the node at `upstream`
    /// (HOST:PORT), and waits until it accepts connections.
    fn start(upstream: &str, pool_mode: &str, pool_size: usize) -> Pgbouncer {
        let (host, port) = upstream.rsplit_once(':').expect("pg_addr is HOST:PORT");
        let dir = tempfile::Builder::new()
            .prefix("mosaic-pgbouncer-")
            .tempdir()
            .expect("create temp dir");
        let listen_port = free_port();
        let userlist = dir.path().join("userlist.txt");
        // A plaintext password: PgBouncer answers the client's SCRAM exchange
        // and logs in to the node with SCRAM itself.
        std::fs::write(&userlist, format!("\"{USER}\" \"{PASSWORD}\"\n")).expect("write userlist");
        let ini = dir.path().join("pgbouncer.ini");
        std::fs::write(
            &ini,
            format!(
                "[databases]\n\
                 mosaic = host={host} port={port} dbname=mosaic\n\
                 [pgbouncer]\n\
                 listen_addr = 127.0.0.1\n\
                 listen_port = {listen_port}\n\
                 unix_socket_dir =\n\
                 auth_type = scram-sha-256\n\
                 auth_file = {userlist}\n\
                 admin_users = {USER}\n\
                 pool_mode = {pool_mode}\n\
                 default_pool_size = {pool_size}\n\
                 max_client_conn = 100\n\
                 server_login_retry = 1\n",
                userlist = userlist.display(),
            ),
        )
        .expect("write pgbouncer.ini");
        let log = File::create(dir.path().join("pgbouncer.log")).expect("create pgbouncer log");
        let mut command = Command::new(pgbouncer_binary());
        // PgBouncer refuses to run as root; -u makes it drop to another user
        // once it has read its files.
        if running_as_root() {
            command.args(["-u", "nobody"]);
        }
        let child = command
            .arg(&ini)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run pgbouncer ({e}); install it with scripts/install-test-deps.sh")
            });
        let mut bouncer = Pgbouncer {
            child,
            port: listen_port,
            dir,
        };
        bouncer.wait_ready();
        bouncer
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Some(status) = self.child.try_wait().expect("poll pgbouncer") {
                panic!("pgbouncer exited at start: {status}\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "pgbouncer not listening\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn conn_string(&self, dbname: &str, application_name: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={USER} password={PASSWORD} dbname={dbname} \
             application_name={application_name}",
            self.port
        )
    }

    async fn client(&self, application_name: &str) -> Client {
        let conn = self.conn_string("mosaic", application_name);
        connect(&conn)
            .await
            .unwrap_or_else(|e| panic!("connect through pgbouncer: {e}\n{}", self.log()))
    }

    /// A connection to PgBouncer's admin console (simple queries only).
    async fn admin(&self) -> Client {
        connect(&self.conn_string("pgbouncer", "admin"))
            .await
            .unwrap_or_else(|e| panic!("connect to the pgbouncer console: {e}\n{}", self.log()))
    }

    fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = File::open(self.dir.path().join("pgbouncer.log")) {
            let _ = f.read_to_string(&mut text);
        }
        format!("---- pgbouncer log ----\n{text}\n---- end of pgbouncer log ----")
    }
}

impl Drop for Pgbouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("{}", self.log());
        }
    }
}

/// Debian installs pgbouncer in /usr/sbin, which a non-root PATH may lack.
fn pgbouncer_binary() -> PathBuf {
    let sbin = PathBuf::from("/usr/sbin/pgbouncer");
    if sbin.is_file() {
        sbin
    } else {
        PathBuf::from("pgbouncer")
    }
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// The first column of the first row of a simple query, as text.
async fn one(client: &Client, sql: &str) -> String {
    let rows = simple_rows(client, sql).await;
    rows.first()
        .and_then(|r| r.first().cloned().flatten())
        .unwrap_or_else(|| panic!("{sql}: no value in {rows:?}"))
}

/// The admin console's rows for `command` as (column name, value) maps.
async fn console(admin: &Client, command: &str) -> Vec<Vec<(String, Option<String>)>> {
    let messages = admin
        .simple_query(command)
        .await
        .unwrap_or_else(|e| panic!("{command}: {e}"));
    messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                row.columns()
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.name().to_string(), row.get(i).map(str::to_string)))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

fn field<'a>(row: &'a [(String, Option<String>)], name: &str) -> &'a str {
    row.iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| v.as_deref())
        .unwrap_or_else(|| panic!("no {name} in {row:?}"))
}

/// One client's work: ROUNDS committed transactions, each bumping its own
/// counter and logging a row, with a rolled-back one every third round.
/// Returns the backend pids it saw.
async fn client_work(client: Client, id: i32) -> BTreeSet<String> {
    let mut pids = BTreeSet::new();
    for round in 0..ROUNDS {
        client.simple_query("BEGIN").await.expect("BEGIN");
        client
            .simple_query(&format!("UPDATE counters SET n = n + 1 WHERE id = {id}"))
            .await
            .expect("UPDATE");
        // query_typed: Parse/Bind/Execute on the unnamed statement, in the
        // same server transaction as the UPDATE.
        let note = format!("client {id} round {round}");
        let inserted = client
            .execute_typed(
                "INSERT INTO events (client, round, note) VALUES ($1, $2, $3)",
                &[
                    (&id, Type::INT4),
                    (&(round as i32), Type::INT4),
                    (&note, Type::TEXT),
                ],
            )
            .await
            .expect("INSERT through the unnamed statement");
        assert_eq!(inserted, 1);
        // The pid is the server connection's, stable inside the transaction.
        let pid = one(&client, "SELECT pg_backend_pid()").await;
        assert_eq!(one(&client, "SELECT pg_backend_pid()").await, pid);
        pids.insert(pid);
        client.simple_query("COMMIT").await.expect("COMMIT");

        if round % 3 == 0 {
            client.simple_query("BEGIN").await.expect("BEGIN");
            client
                .simple_query(&format!("UPDATE counters SET n = n + 1000 WHERE id = {id}"))
                .await
                .expect("UPDATE");
            client.simple_query("ROLLBACK").await.expect("ROLLBACK");
        }

        // Outside a transaction each statement may land on another server
        // connection; this one sees every commit.
        let row = client
            .query_typed_one("SELECT n FROM counters WHERE id = $1", &[(&id, Type::INT4)])
            .await
            .expect("SELECT through the unnamed statement");
        assert_eq!(row.get::<_, i64>(0), round + 1, "client {id} round {round}");
        // PgBouncer sets application_name on whichever server connection
        // the client lands on, from the client's startup packet.
        assert_eq!(
            one(&client, "SHOW application_name").await,
            format!("client{id}"),
            "client {id} round {round}"
        );
    }
    pids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pgbouncer_transaction_pooling() {
    let node = TestNode::start();
    let direct = node.client().await;
    direct
        .batch_execute(
            "CREATE TABLE counters (id integer PRIMARY KEY, n bigint NOT NULL);
             CREATE TABLE events (client integer, round integer, note text,
                                  PRIMARY KEY (client, round))",
        )
        .await
        .expect("create tables");
    for id in 0..CLIENTS as i32 {
        direct
            .execute("INSERT INTO counters VALUES ($1, 0)", &[&id])
            .await
            .expect("insert counter");
    }

    let bouncer = Pgbouncer::start(node.pg_addr(), "transaction", POOL_SIZE);
    let mut clients = Vec::new();
    for id in 0..CLIENTS as i32 {
        clients.push(bouncer.client(&format!("client{id}")).await);
    }
    let mut tasks = Vec::new();
    for (id, client) in clients.into_iter().enumerate() {
        tasks.push(tokio::spawn(client_work(client, id as i32)));
    }
    let mut pids = BTreeSet::new();
    for task in tasks {
        pids.extend(task.await.expect("client task"));
    }

    // Every commit landed, no rollback did.
    let counts = simple_rows(&direct, "SELECT id, n FROM counters ORDER BY id").await;
    let expected: Vec<Vec<Option<String>>> = (0..CLIENTS)
        .map(|id| vec![Some(id.to_string()), Some(ROUNDS.to_string())])
        .collect();
    assert_eq!(counts, expected);
    let events = simple_rows(
        &direct,
        "SELECT count(*), count(DISTINCT client), max(round) FROM events",
    )
    .await;
    assert_eq!(
        events,
        vec![vec![
            Some((CLIENTS as i64 * ROUNDS).to_string()),
            Some(CLIENTS.to_string()),
            Some((ROUNDS - 1).to_string()),
        ]]
    );

    // Eight clients shared at most three server connections.
    assert!(
        !pids.is_empty() && pids.len() <= POOL_SIZE,
        "backend pids seen through pgbouncer: {pids:?}"
    );
    let admin = bouncer.admin().await;
    let servers: Vec<_> = console(&admin, "SHOW SERVERS")
        .await
        .into_iter()
        .filter(|row| field(row, "database") == "mosaic")
        .collect();
    assert!(
        !servers.is_empty() && servers.len() <= POOL_SIZE,
        "SHOW SERVERS: {servers:?}"
    );
    let stats = console(&admin, "SHOW STATS").await;
    let mosaic = stats
        .iter()
        .find(|row| field(row, "database") == "mosaic")
        .unwrap_or_else(|| panic!("no mosaic row in SHOW STATS: {stats:?}"));
    let xacts: i64 = field(mosaic, "total_xact_count")
        .parse()
        .expect("total_xact_count is a number");
    // ROUNDS commits, the rollbacks, and the autocommit statements.
    assert!(
        xacts >= CLIENTS as i64 * ROUNDS,
        "total_xact_count {xacts} in {mosaic:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbouncer_errors_and_aborted_transactions() {
    let node = TestNode::start();
    let direct = node.client().await;
    direct
        .batch_execute("CREATE TABLE items (id integer PRIMARY KEY, v text NOT NULL)")
        .await
        .expect("create table");
    let bouncer = Pgbouncer::start(node.pg_addr(), "transaction", POOL_SIZE);
    let a = bouncer.client("a").await;
    let b = bouncer.client("b").await;

    a.simple_query("INSERT INTO items VALUES (1, 'one')")
        .await
        .expect("insert");
    a.simple_query("BEGIN").await.expect("BEGIN");
    a.simple_query("INSERT INTO items VALUES (2, 'two')")
        .await
        .expect("insert in block");
    let err = a
        .simple_query("INSERT INTO items VALUES (1, 'dup')")
        .await
        .expect_err("duplicate key");
    assert_eq!(err.code(), Some(&SqlState::UNIQUE_VIOLATION), "{err}");
    let err = a.simple_query("SELECT 1").await.expect_err("aborted block");
    assert_eq!(
        err.code(),
        Some(&SqlState::IN_FAILED_SQL_TRANSACTION),
        "{err}"
    );
    // Another client meanwhile gets another server connection.
    assert_eq!(one(&b, "SELECT count(*) FROM items").await, "1");
    a.simple_query("ROLLBACK").await.expect("ROLLBACK");

    let err = b
        .query_typed(
            "SELECT * FROM no_such_table WHERE id = $1",
            &[(&1i32, Type::INT4)],
        )
        .await
        .expect_err("missing table");
    assert_eq!(err.code(), Some(&SqlState::UNDEFINED_TABLE), "{err}");
    // Both connections, and the pool, are fine after the errors.
    assert_eq!(one(&a, "SELECT count(*) FROM items").await, "1");
    assert_eq!(one(&b, "SELECT v FROM items WHERE id = 1").await, "one");
}

/// Session pooling: PgBouncer sends its server_reset_query (DISCARD ALL)
/// when a client leaves, and the next client on that server connection
/// starts from the defaults again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbouncer_session_pooling_resets_settings() {
    let node = TestNode::start();
    let bouncer = Pgbouncer::start(node.pg_addr(), "session", 1);

    let first = bouncer.client("first").await;
    let pid = one(&first, "SELECT pg_backend_pid()").await;
    first
        .simple_query("SET statement_timeout = '5s'; SET application_name = 'renamed'")
        .await
        .expect("SET");
    assert_eq!(one(&first, "SHOW statement_timeout").await, "5s");
    assert_eq!(one(&first, "SHOW application_name").await, "renamed");
    drop(first);

    // The pool holds one server connection, so the next client gets the
    // same one once PgBouncer has reset it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let second = loop {
        let client = bouncer.client("second").await;
        if one(&client, "SELECT pg_backend_pid()").await == pid {
            break client;
        }
        assert!(
            Instant::now() < deadline,
            "pgbouncer did not reuse the server connection"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(one(&second, "SHOW statement_timeout").await, "0");
    assert_eq!(one(&second, "SHOW application_name").await, "second");
}
