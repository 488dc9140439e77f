//! Shards that stay sound: a shard file damaged on disk is found (when a
//! statement first reads it, when a read finds its file changed since it
//! was verified, or by the periodic scrub), never answers a query, and is
//! replaced by a healthy copy from another holder.

mod common;

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{simple_rows, start_cluster, wait_rows, TestNode, CLUSTER_TIMEOUT};

/// Overwrite a stretch in the middle of a file with other bytes.
fn damage(path: &PathBuf) {
    let mut bytes = std::fs::read(path).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(path, bytes).unwrap();
}

fn shard_file(node: &TestNode, id: &str) -> PathBuf {
    node.data_dir().join("shards").join(format!("{id}.db"))
}

async fn shard_ids(client: &tokio_postgres::Client, home: &str) -> Vec<String> {
    let rows = simple_rows(
        client,
        &format!(
            "SELECT shard_id FROM mosaic.shards WHERE table_name = 't' AND home_node = '{home}' \
             ORDER BY 1"
        ),
    )
    .await;
    rows.into_iter().filter_map(|r| r[0].clone()).collect()
}

const SUM: &str = "SELECT count(*)::text || ' ' || sum(id)::text FROM t";

#[tokio::test]
async fn a_damaged_shard_on_a_lone_node_is_refused_not_read() {
    let mut node = TestNode::start_with(&[
        "--shard-max-rows",
        "100",
        "--node-name",
        "solo",
        "--metrics-addr",
        "127.0.0.1:0",
    ]);
    let c = node.client().await;
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, pad text); \
         INSERT INTO t SELECT i, repeat('x', 200) FROM generate_series(1, 100) i",
    )
    .await
    .unwrap();
    let ids = shard_ids(&c, "solo").await;
    assert_eq!(ids.len(), 1);
    drop(c);
    node.stop();
    damage(&shard_file(&node, &ids[0]));
    node.restart();
    let c = node.client().await;
    let err = c.simple_query(SUM).await.unwrap_err();
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "XX001", "{db:?}");
    assert!(db.message().contains(&ids[0]), "{}", db.message());
    // Still refused, and the node goes on serving what is sound.
    assert_eq!(common::sqlstate(&c, SUM).await, "XX001");
    assert_eq!(common::sqlstate(&c, "SELECT 1").await, "ok");
    let (status, scrape) = common::http_get(&common::metrics_addr(&node), "/metrics")
        .await
        .expect("metrics answer");
    assert_eq!(status, 200);
    assert_eq!(
        common::metric_value(&scrape, "mosaic_damaged_shards"),
        Some(1.0)
    );
}

/// t's two shards, sealed on the second node (`names[1]`, which `home`
/// is connected to), once the first node holds a copy of each: their ids
/// and the healthy bytes of each file.
async fn copied_to_first(
    nodes: &[TestNode],
    home: &tokio_postgres::Client,
    names: [&str; 2],
) -> (Vec<String>, Vec<Vec<u8>>) {
    let ids = shard_ids(home, names[1]).await;
    assert_eq!(ids.len(), 2);
    let c1 = nodes[0].client().await;
    wait_rows(
        &c1,
        &format!(
            "SELECT count(*) FROM mosaic.shards WHERE table_name = 't' AND holders = '{{{},{}}}'",
            names[0], names[1]
        ),
        &["2"],
    )
    .await;
    let healthy = ids
        .iter()
        .map(|id| std::fs::read(shard_file(&nodes[0], id)).unwrap())
        .collect();
    (ids, healthy)
}

#[tokio::test]
async fn a_damaged_shard_is_replaced_from_a_copy_when_read_and_by_the_scrub() {
    let args = [
        "--replication-factor",
        "2",
        "--shard-max-rows",
        "100",
        "--scrub-interval-secs",
        "1",
    ];
    let mut nodes = start_cluster(&["h1", "h2"], &args).await;
    let c2 = nodes[1].client().await;
    c2.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, pad text); \
         INSERT INTO t SELECT i, repeat('x', 200) FROM generate_series(1, 200) i",
    )
    .await
    .unwrap();
    let want = format!("200 {}", (1..=200).sum::<i64>());
    let (ids, healthy) = copied_to_first(&nodes, &c2, ["h1", "h2"]).await;
    drop(c2);

    // Damaged while h2 is down: found when first read after the restart.
    nodes[1].stop();
    damage(&shard_file(&nodes[1], &ids[0]));
    nodes[1].restart();
    common::wait_alive(&nodes[1], 1).await;
    let c2 = nodes[1].client().await;
    let start = Instant::now();
    loop {
        // Never a wrong answer: the right one, or XX001 until repaired.
        match simple_rows_or_code(&c2, SUM).await {
            Ok(got) if got == want => break,
            Ok(got) => panic!("read {got} from a damaged shard, want {want}"),
            Err(code) => assert_eq!(code, "XX001"),
        }
        assert!(start.elapsed() < CLUSTER_TIMEOUT, "never repaired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_file(&shard_file(&nodes[1], &ids[0]), &healthy[0]).await;

    // Damaged while h2 runs, after it was read: the scrub finds it.
    damage(&shard_file(&nodes[1], &ids[1]));
    wait_file(&shard_file(&nodes[1], &ids[1]), &healthy[1]).await;
    assert_eq!(simple_rows_or_code(&c2, SUM).await, Ok(want));
    let log = std::fs::read_to_string(nodes[1].log_path()).unwrap();
    assert!(
        log.contains("damaged shard replaced by a healthy copy"),
        "{log}"
    );
}

/// The first column of `sql`'s rows, joined by commas, or its SQLSTATE.
async fn simple_rows_or_code(client: &tokio_postgres::Client, sql: &str) -> Result<String, String> {
    match common::try_simple_rows(client, sql).await {
        Ok(rows) => Ok(rows
            .iter()
            .map(|r| r[0].clone().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(",")),
        Err(e) => Err(e.split(' ').next().unwrap_or_default().to_string()),
    }
}

/// Waits until the file at `path` holds `bytes` again.
async fn wait_file(path: &PathBuf, bytes: &[u8]) {
    let start = Instant::now();
    while std::fs::read(path).ok().as_deref() != Some(bytes) {
        assert!(
            start.elapsed() < CLUSTER_TIMEOUT,
            "{} not repaired",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Rows whose `pad` names them (`row1NNNN`) and then runs on: a damaged
/// row is easy to find in a shard file, and to tell in an answer.
const PADDED_ROWS: &str = "CREATE TABLE t (id int PRIMARY KEY, pad text); \
     INSERT INTO t SELECT i, 'row' || (10000 + i)::text || repeat('x', 200) \
     FROM generate_series(1, 200) i";

/// Every row counted, and the rows whose `pad` is not what was written.
const CHECKED: &str = "SELECT count(*)::text || ' ' || sum(id)::text || ' ' || \
     sum(CASE WHEN pad LIKE '%y%' THEN 1 ELSE 0 END)::text FROM t";
const SOUND: &str = "200 20100 0";
/// The ids of rows whose `pad` is not what was written: none.
const BAD_ROWS: &str = "SELECT id FROM t WHERE pad LIKE '%y%' ORDER BY id";

/// Overwrite 16 bytes of one row's `pad` inside the table data of the
/// shard file at `path`, in place: same length, other bytes. The row is
/// neither the shard's first nor its last (whose values its metadata
/// keeps), so only the table data changes. With `keep_mtime` the file's
/// modification time is set back to what it was. The row's id.
fn damage_row(path: &Path, keep_mtime: bool) -> i64 {
    let bytes = std::fs::read(path).unwrap();
    let mtime = std::fs::metadata(path).unwrap().modified().unwrap();
    let named: Vec<(usize, i64)> = bytes
        .windows(8)
        .enumerate()
        .filter(|(_, w)| w.starts_with(b"row1") && w[3..].iter().all(u8::is_ascii_digit))
        .filter_map(|(at, w)| Some((at, std::str::from_utf8(&w[3..]).ok()?.parse().ok()?)))
        .collect();
    let mut ids: Vec<i64> = named.iter().map(|(_, n)| *n).collect();
    ids.sort_unstable();
    ids.dedup();
    assert!(
        ids.len() > 2,
        "{} rows named in {}",
        ids.len(),
        path.display()
    );
    let victim = ids[ids.len() / 2];
    let at: Vec<usize> = named
        .iter()
        .filter(|(_, n)| *n == victim)
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(at.len(), 1, "row {victim} found at {at:?}");
    assert_eq!(&bytes[at[0] + 8..at[0] + 24], &[b'x'; 16]);
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.write_all_at(&[b'y'; 16], (at[0] + 8) as u64).unwrap();
    if keep_mtime {
        file.set_modified(mtime).unwrap();
    }
    file.sync_all().unwrap();
    drop(file);
    let after = std::fs::metadata(path).unwrap();
    assert_eq!(after.len(), bytes.len() as u64);
    if keep_mtime {
        assert_eq!(after.modified().unwrap(), mtime);
    }
    victim - 10000
}

/// Queries `CHECKED` until it answers `SOUND`, failing on any other
/// answer: XX001 is all a damaged shard may give until it is repaired.
async fn wait_sound(client: &tokio_postgres::Client) {
    let start = Instant::now();
    loop {
        match simple_rows_or_code(client, CHECKED).await {
            Ok(got) if got == SOUND => return,
            Ok(got) => panic!("read {got} from a damaged shard, want {SOUND}"),
            Err(code) => assert_eq!(code, "XX001"),
        }
        assert!(start.elapsed() < CLUSTER_TIMEOUT, "never repaired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_shard_damaged_after_it_was_read_is_verified_again_before_it_is_read() {
    // The scrub's one pass at start comes before the table: only reads
    // can find the damage.
    let args = [
        "--replication-factor",
        "2",
        "--shard-max-rows",
        "100",
        "--scrub-interval-secs",
        "3600",
    ];
    let nodes = start_cluster(&["r1", "r2"], &args).await;
    let c2 = nodes[1].client().await;
    c2.batch_execute(PADDED_ROWS).await.unwrap();
    let (ids, healthy) = copied_to_first(&nodes, &c2, ["r1", "r2"]).await;
    // Rows kept from an earlier statement are the shard's true rows; off,
    // so that every statement here reads the files.
    c2.batch_execute("SET mosaic.result_cache = off")
        .await
        .unwrap();
    assert_eq!(
        simple_rows_or_code(&c2, CHECKED).await.as_deref(),
        Ok(SOUND)
    );
    assert_eq!(simple_rows_or_code(&c2, BAD_ROWS).await.as_deref(), Ok(""));

    // Damaged after it was read: the next read finds the file changed
    // since it was verified, verifies it again and refuses it; so too when
    // the damage sets the modification time back (the status-change time
    // still moves).
    for (i, keep_mtime) in [(0, false), (1, true)] {
        let path = shard_file(&nodes[1], &ids[i]);
        let row = damage_row(&path, keep_mtime);
        let err = common::try_simple_rows(&c2, BAD_ROWS)
            .await
            .expect_err(&format!("row {row} of a damaged shard read"));
        assert!(
            err.starts_with("XX001") && err.contains(&ids[i]),
            "damaged with keep_mtime {keep_mtime}: {err}"
        );
        // Replaced from r1's copy, and then read again.
        wait_sound(&c2).await;
        wait_file(&path, &healthy[i]).await;
        assert_eq!(simple_rows_or_code(&c2, BAD_ROWS).await.as_deref(), Ok(""));
        assert_eq!(
            simple_rows_or_code(&c2, CHECKED).await.as_deref(),
            Ok(SOUND)
        );
    }
}

#[tokio::test]
async fn every_scrub_pass_verifies_shards_verified_before() {
    let mut node = TestNode::start_with(&[
        "--shard-max-rows",
        "100",
        "--node-name",
        "lone",
        "--scrub-interval-secs",
        "1",
        "--metrics-addr",
        "127.0.0.1:0",
    ]);
    let c = node.client().await;
    c.batch_execute(PADDED_ROWS).await.unwrap();
    c.batch_execute("SET mosaic.result_cache = off")
        .await
        .unwrap();
    assert_eq!(simple_rows_or_code(&c, CHECKED).await.as_deref(), Ok(SOUND));
    let ids = shard_ids(&c, "lone").await;
    assert_eq!(ids.len(), 2);
    // Let a pass find both shards sound first.
    wait_log(&node, &["scrub: every shard sound", "shards=2"]).await;

    // Damage that keeps the file's length and modification time, and no
    // read after it: only the scrub can find it.
    damage_row(&shard_file(&node, &ids[0]), true);
    let addr = common::metrics_addr(&node);
    let start = Instant::now();
    loop {
        let (_, scrape) = common::http_get(&addr, "/metrics").await.unwrap();
        if common::metric_value(&scrape, "mosaic_damaged_shards") == Some(1.0) {
            break;
        }
        assert!(
            start.elapsed() < CLUSTER_TIMEOUT,
            "the scrub never found it"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_log(&node, &["scrub: damaged shards found", "damaged=1"]).await;
    // No other holder: refused from now on, never read.
    let err = common::try_simple_rows(&c, BAD_ROWS).await.unwrap_err();
    assert!(err.starts_with("XX001") && err.contains(&ids[0]), "{err}");
    assert_eq!(
        simple_rows_or_code(&c, CHECKED).await,
        Err("XX001".to_string())
    );
    drop(c);
    node.stop();
}

/// Waits until a line of the node's log has every one of `parts`.
async fn wait_log(node: &TestNode, parts: &[&str]) {
    let start = Instant::now();
    loop {
        let log = std::fs::read_to_string(node.log_path()).unwrap_or_default();
        if log.lines().any(|l| parts.iter().all(|p| l.contains(p))) {
            return;
        }
        assert!(start.elapsed() < CLUSTER_TIMEOUT, "no {parts:?} in\n{log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
