//! `mosaic backup` and `mosaic restore`, run as a user runs them: the
//! binary, connecting to a node as psql does. A three-node cluster is
//! backed up, destroyed and restored into a fresh cluster, and every row,
//! object, role and sequence comes back; a second backup copies nothing
//! new; a damaged backup file is refused, naming its shard.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use common::{simple_rows, start_cluster, TestNode, PASSWORD, USER};

/// `mosaic ARGS`, with `env` set and the PG* variables of the test's own
/// environment removed.
fn mosaic(args: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mosaic"));
    for var in ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"] {
        cmd.env_remove(var);
    }
    cmd.args(args)
        .envs(env.iter().map(|(k, v)| (k, v.as_str())))
        .output()
        .expect("run the mosaic binary")
}

fn url(node: &TestNode) -> String {
    format!("postgresql://{USER}:{PASSWORD}@{}/mosaic", node.pg_addr())
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "mosaic failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What the data looks like, read through one node: every query's rows.
async fn contents(node: &TestNode) -> Vec<Vec<Vec<Option<String>>>> {
    let client = node.client().await;
    let mut out = Vec::new();
    for sql in [
        "SELECT id, v, n FROM t ORDER BY id",
        "SELECT id, v FROM tv ORDER BY id",
        "SELECT k, m FROM u ORDER BY k",
        "SELECT relname FROM pg_class WHERE relname IN ('t', 'tv', 'u', 's') ORDER BY 1",
    ] {
        out.push(simple_rows(&client, sql).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_backed_up_and_destroyed_comes_back_whole_in_a_fresh_one() {
    let args = ["--replication-factor", "2", "--shard-max-rows", "50"];
    let old = start_cluster(&["a1", "a2", "a3"], &args).await;
    let a1 = old[0].client().await;
    a1.batch_execute(
        "CREATE TABLE t (id serial PRIMARY KEY, v text, n numeric(10,2));
         CREATE SEQUENCE s;
         CREATE VIEW tv AS SELECT id, v FROM t WHERE id % 2 = 0;
         CREATE TYPE mood AS ENUM ('sad', 'happy');
         CREATE TABLE u (k int PRIMARY KEY, m mood);
         CREATE ROLE reader LOGIN PASSWORD 'reader-pw';
         GRANT SELECT ON t TO reader;",
    )
    .await
    .unwrap();
    // Rows written through every node, sealed into shards on each; then
    // deletes and updates that tombstone some, and rows left unsealed.
    let mut last_s = 0;
    for (i, node) in old.iter().enumerate() {
        let c = node.client().await;
        c.batch_execute(&format!(
            "INSERT INTO t (v, n) SELECT 'row ' || g, g / 3.0 FROM generate_series(1, 120) g;
             INSERT INTO u VALUES ({i}, 'happy');"
        ))
        .await
        .unwrap();
        last_s = c
            .query_one("SELECT nextval('s')", &[])
            .await
            .unwrap()
            .get(0);
    }
    a1.batch_execute(
        "DELETE FROM t WHERE id % 7 = 0;
         UPDATE t SET v = v || '!' WHERE id % 5 = 0;
         UPDATE u SET m = 'sad' WHERE k = 1;",
    )
    .await
    .unwrap();
    old[2]
        .client()
        .await
        .batch_execute("INSERT INTO t (v) VALUES ('not sealed yet')")
        .await
        .unwrap();
    let max_id: i32 = a1
        .query_one("SELECT max(id) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    let want = contents(&old[1]).await;
    assert_eq!(want[0].len(), 360 - 360 / 7 + 1, "rows before the backup");

    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("backup");
    let to_arg = to.to_str().unwrap();
    let first = stdout(&mosaic(
        &["backup", "--to", to_arg, "--url", &url(&old[1])],
        &[],
    ));
    assert!(first.contains("copied now"), "{first}");
    let shards = std::fs::read_dir(to.join("shards")).unwrap().count();
    assert!(shards >= 8, "{shards} shard files: {first}");
    // The same backup again, connecting through the PG* variables: every
    // shard is in the folder already, none is copied twice.
    let (host, port) = old[2].pg_addr().rsplit_once(':').unwrap();
    let env = [
        ("PGHOST", host.to_string()),
        ("PGPORT", port.to_string()),
        ("PGUSER", USER.to_string()),
        ("PGPASSWORD", PASSWORD.to_string()),
    ];
    let again = stdout(&mosaic(&["backup", "--to", to_arg], &env));
    assert!(again.contains("(0 copied now, 0 bytes"), "{again}");
    drop(a1);
    drop(old);

    let fresh = start_cluster(&["b1", "b2", "b3"], &args).await;
    let restored = stdout(&mosaic(
        &["restore", "--from", to_arg, "--url", &url(&fresh[1])],
        &[],
    ));
    assert!(restored.contains("shards"), "{restored}");
    for node in &fresh {
        assert_eq!(contents(node).await, want, "through {}", node.pg_addr());
    }
    // The roles came back with their passwords and privileges.
    let reader = common::connect(&format!(
        "host={host} port={port} user=reader password=reader-pw dbname=mosaic",
        host = "127.0.0.1",
        port = fresh[0].pg_addr().rsplit_once(':').unwrap().1
    ))
    .await
    .expect("the restored role logs in");
    let n: i64 = reader
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n as usize, want[0].len());
    // No node hands out a sequence value the old cluster handed out, and
    // new rows get new keys on every node.
    for node in &fresh {
        let c = node.client().await;
        let s: i64 = c
            .query_one("SELECT nextval('s')", &[])
            .await
            .unwrap()
            .get(0);
        assert!(s > last_s, "nextval('s') gave {s} after {last_s}");
        let id: i32 = c
            .query_one("INSERT INTO t (v) VALUES ('after') RETURNING id", &[])
            .await
            .unwrap()
            .get(0);
        assert!(
            id > max_id,
            "a new row got id {id}, at most {max_id} before"
        );
    }
    // A cluster with tables is not restored into.
    let refused = mosaic(
        &["restore", "--from", to_arg, "--url", &url(&fresh[0])],
        &[],
    );
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("55000"), "{err}");
}

/// Flip 64 bytes in the middle of every shard file under `dir`.
fn damage(dir: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(dir.join("shards")).unwrap() {
        let path = entry.unwrap().path();
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        for b in &mut bytes[mid..mid + 64] {
            *b ^= 0x5a;
        }
        std::fs::write(&path, bytes).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        ids.push(name.trim_end_matches(".db").to_string());
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_node_is_backed_up_and_a_damaged_backup_is_refused() {
    let node = TestNode::start();
    let c = node.client().await;
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, v text);
         INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 500) g;
         CREATE ROLE plain LOGIN PASSWORD 'plain-pw';",
    )
    .await
    .unwrap();
    // Only a superuser backs up.
    let plain = format!("postgresql://plain:plain-pw@{}/mosaic", node.pg_addr());
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("b");
    let to_arg = to.to_str().unwrap();
    let out = mosaic(&["backup", "--to", to_arg, "--url", &plain], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("42501"));
    let sqlstate = common::sqlstate(&c, "BEGIN; SELECT mosaic.backup_manifest()").await;
    assert_eq!(sqlstate, "25001");
    c.batch_execute("ROLLBACK").await.unwrap();

    stdout(&mosaic(
        &["backup", "--to", to_arg, "--url", &url(&node)],
        &[],
    ));
    let damaged = damage(&to);
    assert_eq!(damaged.len(), 1);
    let target = TestNode::start();
    let out = mosaic(&["restore", "--from", to_arg, "--url", &url(&target)], &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not hold the content its id names") && err.contains(&damaged[0]),
        "restoring a damaged shard: {err}"
    );
    // The backup was checked before the cluster was touched.
    let t = target.client().await;
    assert_eq!(
        common::sqlstate(&t, "SELECT count(*) FROM t").await,
        "42P01"
    );
    // The node checks what it is sent as well.
    let id = &damaged[0];
    let bytes = std::fs::read(to.join("shards").join(format!("{id}.db"))).unwrap();
    let sent: i64 = t
        .query_one(
            "SELECT mosaic.restore_chunk($1::text, 0, $2::bytea)",
            &[id, &bytes],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(sent as usize, bytes.len());
    let e = t
        .query_one("SELECT mosaic.restore_shard($1::text, '[]')", &[id])
        .await
        .unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("XX001"), "{e}");
    // A shard id names a file, so nothing but an id passes.
    assert_eq!(
        common::sqlstate(&t, "SELECT mosaic.backup_chunk('../catalog', 0)").await,
        "22023"
    );
}

/// What every row of `t` starts with in the backup-under-load test; the
/// transfers between rows keep `sum(v)` at 300 times this.
const START: i64 = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_updates_on_every_node_holds_each_row_once() {
    let args = ["--replication-factor", "2", "--shard-max-rows", "40"];
    let old = start_cluster(&["c1", "c2", "c3"], &args).await;
    let c1 = old[0].client().await;
    c1.batch_execute("CREATE TABLE t (id int PRIMARY KEY, v int)")
        .await
        .unwrap();
    // Rows 1-100 homed on c1, 101-200 on c2, 201-300 on c3.
    for (i, node) in old.iter().enumerate() {
        let lo = i as i32 * 100 + 1;
        node.client()
            .await
            .batch_execute(&format!(
                "INSERT INTO t SELECT g, {START} FROM generate_series({lo}, {}) g",
                lo + 99
            ))
            .await
            .unwrap();
    }
    c1.batch_execute("SELECT mosaic.seal('t')").await.unwrap();
    // Every node moves amounts between a row first homed on one node and
    // a row first homed on another, both updates in one transaction
    // (tombstones travel between the nodes), while the backups run: a
    // backup that caught half a transfer, or one node's state before a
    // commit and another's after it, has a sum other than 300 * START.
    let stop = Arc::new(AtomicBool::new(false));
    let committed = Arc::new(AtomicU64::new(0));
    let mut writers = Vec::new();
    for (i, node) in old.iter().enumerate() {
        let conn = node.conn_string();
        let (stop, committed) = (stop.clone(), committed.clone());
        writers.push(tokio::spawn(async move {
            let c = common::connect(&conn).await.unwrap();
            let mut k = i as i32;
            while !stop.load(Ordering::SeqCst) {
                k = (k * 7 + 13) % 300;
                let from = k + 1;
                let to = (k + 100 * (1 + k % 2)) % 300 + 1;
                let amount = k % 9 + 1;
                let r = c
                    .batch_execute(&format!(
                        "BEGIN; \
                         UPDATE t SET v = v - {amount} WHERE id = {from}; \
                         UPDATE t SET v = v + {amount} WHERE id = {to}; \
                         COMMIT"
                    ))
                    .await;
                match r {
                    Ok(()) => {
                        committed.fetch_add(1, Ordering::SeqCst);
                    }
                    // A test that failed took the nodes away: stop, rather
                    // than spin on a closed connection.
                    Err(_) if c.is_closed() => break,
                    // A conflict with another node's transfer: undone whole.
                    Err(_) => {
                        let _ = c.batch_execute("ROLLBACK").await;
                    }
                }
            }
        }));
    }
    let dir = tempfile::tempdir().unwrap();
    let mut backups = Vec::new();
    let before = committed.load(Ordering::SeqCst);
    for (round, node) in old.iter().cycle().take(6).enumerate() {
        let to = dir.path().join(format!("b{round}"));
        stdout(&mosaic(
            &["backup", "--to", to.to_str().unwrap(), "--url", &url(node)],
            &[],
        ));
        backups.push(to);
    }
    let during = committed.load(Ordering::SeqCst) - before;
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    assert!(during > 0, "no transfer committed while the backups ran");
    let total = (300 * START).to_string();
    let mut moved = 0;
    for to in backups {
        let fresh = TestNode::start();
        stdout(&mosaic(
            &[
                "restore",
                "--from",
                to.to_str().unwrap(),
                "--url",
                &url(&fresh),
            ],
            &[],
        ));
        let rows = simple_rows(
            &fresh.client().await,
            &format!(
                "SELECT count(*), count(DISTINCT id), min(id), max(id), sum(v), \
                 sum(CASE WHEN v = {START} THEN 0 ELSE 1 END) FROM t"
            ),
        )
        .await;
        assert_eq!(
            rows[0][..5],
            ["300", "300", "1", "300", &total].map(|s| Some(s.to_string())),
            "backup {}",
            to.display()
        );
        moved += rows[0][5].as_deref().unwrap_or("0").parse::<i64>().unwrap();
    }
    // The backups caught transfers, not only the rows as first written.
    assert!(moved > 0, "no backup holds a transfer");
}
