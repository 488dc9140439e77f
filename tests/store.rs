//! Storage as a client sees it on one node: durability across `kill -9`
//! with rows both sealed and open, content-addressed shard ids, UPDATE and
//! DELETE over sealed shards (tombstones), COPY FROM STDIN at volume, and
//! malformed input that must cost a session an error, never the node.
//! Expectations follow PostgreSQL 15.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use common::{simple_rows, TestNode};
use futures::SinkExt;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, SimpleQueryMessage};

type Rows = Vec<Vec<Option<String>>>;

/// Runs one statement with the simple protocol; returns its rows and the
/// row count of its command tag.
async fn rows_and_tag(client: &Client, sql: &str) -> (Rows, u64) {
    let messages = client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut rows = Vec::new();
    let mut tag = None;
    for message in messages {
        match message {
            SimpleQueryMessage::Row(row) => rows.push(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            SimpleQueryMessage::CommandComplete(n) => tag = Some(n),
            _ => {}
        }
    }
    (
        rows,
        tag.unwrap_or_else(|| panic!("{sql}: no CommandComplete")),
    )
}

/// The single value of a one-row, one-column query, as text.
async fn scalar(client: &Client, sql: &str) -> String {
    let rows = simple_rows(client, sql).await;
    assert_eq!(rows.len(), 1, "{sql}: expected one row, got {rows:?}");
    rows[0][0].clone().unwrap_or_else(|| panic!("{sql}: NULL"))
}

/// The SQLSTATE a statement fails with; panics if it succeeds.
async fn sqlstate_of(client: &Client, sql: &str) -> SqlState {
    match client.simple_query(sql).await {
        Ok(_) => panic!("{}: succeeded, expected an error", shorten(sql)),
        Err(e) => e
            .code()
            .unwrap_or_else(|| panic!("{}: error without SQLSTATE: {e}", shorten(sql)))
            .clone(),
    }
}

fn shorten(sql: &str) -> String {
    if sql.len() <= 120 {
        sql.to_string()
    } else {
        format!("{}… ({} bytes)", &sql[..120], sql.len())
    }
}

/// The sealed shard ids of `table`, as listed by `mosaic.shards`.
async fn shard_ids(client: &Client, table: &str) -> BTreeSet<String> {
    simple_rows(
        client,
        &format!("SELECT shard_id FROM mosaic.shards WHERE table_name = '{table}' AND sealed"),
    )
    .await
    .into_iter()
    .map(|row| row[0].clone().expect("shard_id is not NULL"))
    .collect()
}

async fn seal(client: &Client, table: &str) {
    client
        .simple_query(&format!("SELECT mosaic.seal('{table}')"))
        .await
        .unwrap_or_else(|e| panic!("seal {table}: {e}"));
}

// ---------------------------------------------------------------------------
// 1. Durability
// ---------------------------------------------------------------------------

/// `tests/protocol.rs` covers committed rows in the open segment; this one
/// mixes sealed shards, tombstones over them and open rows.
#[tokio::test]
async fn sealed_and_open_rows_survive_kill_9() {
    let mut node = TestNode::start_with(&["--shard-max-rows", "10"]);
    let before;
    {
        let client = node.client().await;
        client
            .batch_execute("CREATE TABLE durable (id integer PRIMARY KEY, note text)")
            .await
            .unwrap();
        client
            .batch_execute(
                "INSERT INTO durable SELECT g, 'sealed ' || g FROM generate_series(1, 30) AS g",
            )
            .await
            .unwrap();
        seal(&client, "durable").await;
        before = shard_ids(&client, "durable").await;
        assert_eq!(before.len(), 3, "30 rows at 10 per shard");
        client
            .batch_execute(
                "INSERT INTO durable VALUES (31, 'open 31'), (32, 'open 32'), (33, 'open 33')",
            )
            .await
            .unwrap();
        // Workaround: UPDATE/DELETE of sealed rows fails with 42P01 on a
        // connection that has not read the table yet (see
        // update_and_delete_of_sealed_rows_on_a_fresh_connection), so read first.
        client.batch_execute("SELECT * FROM durable").await.unwrap();
        for sql in [
            "UPDATE durable SET note = 'updated 5' WHERE id = 5",
            "DELETE FROM durable WHERE id = 12",
            "DELETE FROM durable WHERE id = 32",
        ] {
            client.batch_execute(sql).await.unwrap();
        }

        // Open when the process dies: all of it must vanish.
        client
            .batch_execute(
                "BEGIN;
                 INSERT INTO durable VALUES (1000, 'uncommitted');
                 UPDATE durable SET note = 'uncommitted' WHERE id = 1;
                 DELETE FROM durable WHERE id = 2;
                 DELETE FROM durable WHERE id = 31",
            )
            .await
            .unwrap();
        node.kill9();
    }

    node.restart();
    let client = node.client().await;
    let mut expected: Rows = (1..=33)
        .filter(|id| ![12, 32].contains(id))
        .map(|id| {
            let note = match id {
                5 => "updated 5".to_string(),
                31..=33 => format!("open {id}"),
                _ => format!("sealed {id}"),
            };
            vec![Some(id.to_string()), Some(note)]
        })
        .collect();
    assert_eq!(
        simple_rows(&client, "SELECT id, note FROM durable ORDER BY id").await,
        expected
    );
    assert_eq!(
        shard_ids(&client, "durable").await,
        before,
        "the sealed shards after restart"
    );
    // The shards still prune after restart.
    let plan = simple_rows(&client, "EXPLAIN SELECT * FROM durable WHERE id = 25").await;
    let reads = plan
        .iter()
        .filter(|r| r[0].as_deref().unwrap_or("").contains("read shard"))
        .count();
    assert_eq!(reads, 1, "{plan:?}");

    // A seal that has returned is durable, even with no graceful stop.
    seal(&client, "durable").await;
    let after_seal = shard_ids(&client, "durable").await;
    assert!(after_seal.len() > before.len(), "sealing the open rows");
    drop(client);
    node.kill9();
    node.restart();
    let client = node.client().await;
    assert_eq!(shard_ids(&client, "durable").await, after_seal);
    assert_eq!(
        simple_rows(&client, "SELECT id, note FROM durable ORDER BY id").await,
        expected
    );

    // And the node keeps writing after all that.
    client
        .batch_execute("INSERT INTO durable VALUES (12, 'again')")
        .await
        .unwrap();
    expected.insert(11, vec![Some("12".into()), Some("again".into())]);
    assert_eq!(
        simple_rows(&client, "SELECT id, note FROM durable ORDER BY id").await,
        expected
    );
}

/// A sequence never hands out a value twice, even across `kill -9`: it
/// resumes past every value it gave (skipping at most a block, as
/// PostgreSQL may), and setval is durable at once.
#[tokio::test]
async fn sequences_resume_past_what_they_gave_after_kill_9() {
    let mut node = TestNode::start();
    let given: i64;
    {
        let client = node.client().await;
        client
            .batch_execute("CREATE SEQUENCE durable_seq; CREATE SEQUENCE durable_set")
            .await
            .unwrap();
        let mut last = 0;
        for _ in 0..40 {
            last = scalar(&client, "SELECT nextval('durable_seq')")
                .await
                .parse::<i64>()
                .unwrap();
        }
        given = last;
        assert_eq!(given, 40);
        scalar(&client, "SELECT setval('durable_set', 500)").await;
        node.kill9();
    }
    node.restart();
    let client = node.client().await;
    let next: i64 = scalar(&client, "SELECT nextval('durable_seq')")
        .await
        .parse()
        .unwrap();
    assert!(next > given, "{next} after {given}");
    assert_eq!(
        scalar(&client, "SELECT nextval('durable_set')").await,
        "501"
    );
}

/// After ALTER SEQUENCE … RESTART, the new run is as durable as the
/// first: a node killed with -9 resumes past every value of the new run
/// it gave, not past the old run's record and not at the restart value.
#[tokio::test]
async fn a_restarted_sequence_resumes_past_its_new_run_after_kill_9() {
    let mut node = TestNode::start();
    {
        let client = node.client().await;
        client
            .batch_execute(
                "CREATE SEQUENCE restarted_seq;
                 SELECT nextval('restarted_seq') FROM generate_series(1, 100);
                 ALTER SEQUENCE restarted_seq RESTART WITH 1000 INCREMENT BY -1 MINVALUE 1",
            )
            .await
            .unwrap();
        let mut last = 0;
        for _ in 0..40 {
            last = scalar(&client, "SELECT nextval('restarted_seq')")
                .await
                .parse::<i64>()
                .unwrap();
        }
        assert_eq!(last, 961);
        node.kill9();
    }
    node.restart();
    let client = node.client().await;
    let next: i64 = scalar(&client, "SELECT nextval('restarted_seq')")
        .await
        .parse()
        .unwrap();
    assert!(next < 961 && next > 900, "{next} after 961");
}

// ---------------------------------------------------------------------------
// 2. Content addressing
// ---------------------------------------------------------------------------

const ADDR_SCHEMA: &str =
    "CREATE TABLE addressed (id integer PRIMARY KEY, name text, score float8, flag boolean)";

fn addressed_row(id: i32) -> String {
    let name = if id % 7 == 0 {
        "NULL".to_string()
    } else {
        format!("'name {id}'")
    };
    format!("({id}, {name}, {}, {})", f64::from(id) * 0.5, id % 2 == 0)
}

/// A shard's id is a function of its content: the schema, the rows with
/// the versions of the writes that made them, and the node that sealed
/// them. So the same values written again after their shard went (here
/// TRUNCATE) make a new id, never the old one, which other nodes may still
/// know with its tombstones; and the id names the shard's file.
#[tokio::test]
async fn rows_written_again_make_a_new_shard_id() {
    let a = TestNode::start_with(&["--node-name", "origin"]);
    let ca = a.client().await;
    ca.batch_execute(ADDR_SCHEMA).await.unwrap();
    let values: Vec<String> = (1..=60).map(addressed_row).collect();
    let insert = format!("INSERT INTO addressed VALUES {}", values.join(", "));
    let q = "SELECT id, name, score, flag FROM addressed ORDER BY id";

    ca.batch_execute(&insert).await.unwrap();
    let before = simple_rows(&ca, q).await;
    seal(&ca, "addressed").await;
    let first = shard_ids(&ca, "addressed").await;
    assert_eq!(first.len(), 1, "{first:?}");

    ca.batch_execute("TRUNCATE addressed").await.unwrap();
    assert!(shard_ids(&ca, "addressed").await.is_empty());
    ca.batch_execute(&insert).await.unwrap();
    seal(&ca, "addressed").await;
    let second = shard_ids(&ca, "addressed").await;
    assert_eq!(second.len(), 1, "{second:?}");
    assert!(first.is_disjoint(&second), "{first:?} came back");
    assert_eq!(simple_rows(&ca, q).await, before);

    for id in first.iter().chain(&second) {
        assert!(
            id.len() == 52
                && id
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ('2'..='7').contains(&ch)),
            "shard id {id} is not lowercase base32"
        );
    }
    assert_eq!(
        scalar(
            &ca,
            "SELECT row_count FROM mosaic.shards WHERE table_name = 'addressed'"
        )
        .await,
        "60"
    );
    // The shard is a file named by its id.
    let path = a
        .data_dir()
        .join("shards")
        .join(format!("{}.db", second.iter().next().expect("one shard")));
    assert!(path.exists(), "{} is missing", path.display());
}

// ---------------------------------------------------------------------------
// 4. UPDATE / DELETE across sealed shards
// ---------------------------------------------------------------------------

type Model = BTreeMap<i32, (i32, String)>;

fn model_rows(model: &Model) -> Rows {
    model
        .iter()
        .map(|(id, (v, tag))| vec![Some(id.to_string()), Some(v.to_string()), Some(tag.clone())])
        .collect()
}

async fn assert_matches(client: &Client, model: &Model, when: &str) {
    assert_eq!(
        simple_rows(client, "SELECT id, v, tag FROM kv ORDER BY id").await,
        model_rows(model),
        "{when}"
    );
    let sum: i64 = model.values().map(|(v, _)| i64::from(*v)).sum();
    let agg = simple_rows(client, "SELECT count(*), sum(v) FROM kv").await;
    assert_eq!(
        agg,
        vec![vec![Some(model.len().to_string()), Some(sum.to_string())]],
        "{when}: aggregates"
    );
}

/// RETURNING rows sorted by their first column (an id).
fn sorted_by_id(mut rows: Rows) -> Rows {
    rows.sort_by_key(|r| r[0].as_deref().map(|s| s.parse::<i64>().unwrap()));
    rows
}

#[tokio::test]
async fn update_and_delete_across_sealed_shards_match_a_model() {
    let node = TestNode::start_with(&["--shard-max-rows", "10"]);
    let client = node.client().await;
    client
        .batch_execute("CREATE TABLE kv (id integer PRIMARY KEY, v integer NOT NULL, tag text)")
        .await
        .unwrap();
    client
        .batch_execute("INSERT INTO kv SELECT g, g * 10, 'orig' FROM generate_series(1, 50) AS g")
        .await
        .unwrap();
    seal(&client, "kv").await;
    assert_eq!(shard_ids(&client, "kv").await.len(), 5);
    client
        .batch_execute("INSERT INTO kv SELECT g, g * 10, 'open' FROM generate_series(51, 55) AS g")
        .await
        .unwrap();
    let mut model: Model = (1..=55)
        .map(|id| {
            (
                id,
                (id * 10, if id <= 50 { "orig" } else { "open" }.to_string()),
            )
        })
        .collect();
    assert_matches(&client, &model, "after load").await;

    // UPDATE hitting five shards and the open segment.
    let (rows, n) = rows_and_tag(
        &client,
        "UPDATE kv SET v = v + 1, tag = 'upd' WHERE id % 6 = 0 RETURNING id, v, tag",
    )
    .await;
    let hit: Vec<i32> = model.keys().copied().filter(|id| id % 6 == 0).collect();
    assert_eq!(n, hit.len() as u64, "UPDATE tag");
    for id in &hit {
        let entry = model.get_mut(id).unwrap();
        *entry = (entry.0 + 1, "upd".into());
    }
    let expected: Rows = hit
        .iter()
        .map(|id| {
            let (v, tag) = &model[id];
            vec![Some(id.to_string()), Some(v.to_string()), Some(tag.clone())]
        })
        .collect();
    assert_eq!(sorted_by_id(rows), expected, "UPDATE … RETURNING");
    assert_matches(&client, &model, "after update").await;

    // Updating rows a second time: their live versions are in the open
    // segment now, the originals are tombstoned.
    let (_, n) = rows_and_tag(
        &client,
        "UPDATE kv SET v = v * 2 WHERE id IN (6, 12, 13, 54)",
    )
    .await;
    assert_eq!(n, 4);
    for id in [6, 12, 13, 54] {
        model.get_mut(&id).unwrap().0 *= 2;
    }
    assert_matches(&client, &model, "after second update").await;

    // DELETE spanning three shards and the open segment.
    let (rows, n) = rows_and_tag(
        &client,
        "DELETE FROM kv WHERE id BETWEEN 8 AND 23 OR id = 53 RETURNING id",
    )
    .await;
    let gone: Vec<i32> = (8..=23).chain([53]).collect();
    assert_eq!(n, gone.len() as u64, "DELETE tag");
    assert_eq!(
        sorted_by_id(rows),
        gone.iter()
            .map(|id| vec![Some(id.to_string())])
            .collect::<Rows>()
    );
    for id in &gone {
        model.remove(id);
    }
    assert_matches(&client, &model, "after delete").await;

    // Deleting what is already deleted touches nothing.
    let (_, n) = rows_and_tag(&client, "DELETE FROM kv WHERE id BETWEEN 8 AND 23").await;
    assert_eq!(n, 0, "second DELETE of the same keys");

    // Deleted keys are free again, in a sealed range and in the open one.
    client
        .batch_execute("INSERT INTO kv VALUES (10, 1, 'again'), (53, 2, 'again')")
        .await
        .unwrap();
    model.insert(10, (1, "again".into()));
    model.insert(53, (2, "again".into()));
    assert_matches(&client, &model, "after re-insert").await;

    // A primary key moved onto a live key in another shard collides ...
    for sql in [
        "UPDATE kv SET id = 30 WHERE id = 5",
        "UPDATE kv SET id = 51 WHERE id = 45",
        "UPDATE kv SET id = 10 WHERE id = 40",
    ] {
        assert_eq!(
            sqlstate_of(&client, sql).await,
            SqlState::UNIQUE_VIOLATION,
            "{sql}"
        );
    }
    assert_matches(&client, &model, "after failed key updates").await;
    // ... but onto a deleted one it moves.
    let (_, n) = rows_and_tag(&client, "UPDATE kv SET id = 9 WHERE id = 45").await;
    assert_eq!(n, 1);
    let moved = model.remove(&45).unwrap();
    model.insert(9, moved);
    assert_matches(&client, &model, "after key move").await;

    // Inside BEGIN/ROLLBACK the changes are visible, then vanish.
    client
        .batch_execute(
            "BEGIN;
             UPDATE kv SET v = -1 WHERE id > 0;
             DELETE FROM kv WHERE id % 2 = 1;
             INSERT INTO kv VALUES (100, 100, 'tx')",
        )
        .await
        .unwrap();
    let inside = simple_rows(&client, "SELECT count(*), min(v), max(v) FROM kv").await;
    let evens = model.keys().filter(|id| *id % 2 == 0).count() + 1;
    assert_eq!(
        inside,
        vec![vec![
            Some(evens.to_string()),
            Some("-1".into()),
            Some("100".into())
        ]]
    );
    client.batch_execute("ROLLBACK").await.unwrap();
    assert_matches(&client, &model, "after rollback").await;

    // Sealing again folds the new versions into shards; nothing changes.
    seal(&client, "kv").await;
    assert_matches(&client, &model, "after second seal").await;
    let (_, n) = rows_and_tag(&client, "DELETE FROM kv WHERE tag = 'upd'").await;
    let upd: Vec<i32> = model
        .iter()
        .filter(|(_, (_, tag))| tag == "upd")
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(n, upd.len() as u64);
    for id in upd {
        model.remove(&id);
    }
    assert_matches(&client, &model, "after delete of sealed new versions").await;
}

// ---------------------------------------------------------------------------
// 6. COPY FROM STDIN
// ---------------------------------------------------------------------------

async fn copy(client: &Client, sql: &str, data: String) -> Result<u64, tokio_postgres::Error> {
    let sink = client.copy_in(sql).await?;
    futures::pin_mut!(sink);
    // Several CopyData messages, split mid-row.
    let bytes = data.into_bytes();
    for chunk in bytes.chunks(64 * 1024 + 7) {
        sink.send(Bytes::copy_from_slice(chunk)).await?;
    }
    sink.as_mut().finish().await
}

async fn totals(client: &Client) -> Rows {
    simple_rows(
        client,
        "SELECT count(*), sum(id), sum(amount), count(name), sum(price) FROM copied",
    )
    .await
}

#[tokio::test]
async fn copy_twenty_thousand_rows_in_text_and_csv() {
    // Small enough that a 20k-row COPY crosses several seal thresholds.
    let node = TestNode::start_with(&["--shard-max-rows", "5000"]);
    let client = node.client().await;
    client
        .batch_execute(
            "CREATE TABLE copied (id integer PRIMARY KEY, name text, amount bigint, price float8)",
        )
        .await
        .unwrap();

    let mut text = String::new();
    for id in 1..=20_000i64 {
        if id % 100 == 0 {
            text.push_str(&format!("{id}\t\\N\t{}\t{}\n", id * 3, id as f64 / 4.0));
        } else {
            text.push_str(&format!(
                "{id}\tname\\t{id}\t{}\t{}\n",
                id * 3,
                id as f64 / 4.0
            ));
        }
    }
    let n = copy(&client, "COPY copied FROM STDIN", text).await.unwrap();
    assert_eq!(n, 20_000);

    let mut csv = String::from("id,name,amount,price\n");
    for id in 20_001..=40_000i64 {
        if id % 100 == 0 {
            csv.push_str(&format!("{id},,{},{}\n", id * 3, id as f64 / 4.0));
        } else {
            csv.push_str(&format!(
                "{id},\"n, \"\"{id}\"\"\",{},{}\n",
                id * 3,
                id as f64 / 4.0
            ));
        }
    }
    let n = copy(
        &client,
        "COPY copied (id, name, amount, price) FROM STDIN WITH (FORMAT csv, HEADER true)",
        csv,
    )
    .await
    .unwrap();
    assert_eq!(n, 20_000);

    let sum_id: i64 = (1..=40_000).sum();
    let expected = vec![vec![
        Some("40000".to_string()),
        Some(sum_id.to_string()),
        Some((sum_id * 3).to_string()),
        Some("39600".to_string()),
        Some((sum_id as f64 / 4.0).to_string()),
    ]];
    assert_eq!(totals(&client).await, expected);
    assert_eq!(
        simple_rows(
            &client,
            "SELECT id, name FROM copied WHERE id IN (7, 100, 20007, 20100) ORDER BY id"
        )
        .await,
        vec![
            vec![Some("7".into()), Some("name\t7".into())],
            vec![Some("100".into()), None],
            vec![Some("20007".into()), Some("n, \"20007\"".into())],
            vec![Some("20100".into()), None],
        ]
    );

    // A bad row deep in a big COPY fails it whole, even past a seal
    // threshold, and leaves no rows behind.
    let mut bad = String::new();
    for id in 50_001..=57_000i64 {
        bad.push_str(&format!("{id}\tx\t1\t1\n"));
    }
    bad.push_str("57001\tx\tnot-a-number\t1\n58000\tx\t1\t1\n");
    let err = copy(&client, "COPY copied FROM STDIN", bad)
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&SqlState::INVALID_TEXT_REPRESENTATION),
        "{err}"
    );
    assert_eq!(totals(&client).await, expected, "after the failed COPY");
    assert_eq!(
        scalar(&client, "SELECT count(*) FROM copied WHERE id > 50000").await,
        "0"
    );

    // Keys that collide with sealed rows fail the COPY with 23505.
    seal(&client, "copied").await;
    assert!(!shard_ids(&client, "copied").await.is_empty());
    let collide = "60001\tfresh\t1\t1\n60002\tfresh\t1\t1\n123\tdup\t1\t1\n".to_string();
    let err = copy(&client, "COPY copied FROM STDIN", collide)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNIQUE_VIOLATION), "{err}");
    let collide_csv = "70001,fresh,1,1\n39999,dup,1,1\n".to_string();
    let err = copy(
        &client,
        "COPY copied FROM STDIN WITH (FORMAT csv)",
        collide_csv,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNIQUE_VIOLATION), "{err}");
    // Duplicates within one COPY collide too.
    let err = copy(
        &client,
        "COPY copied FROM STDIN",
        "80001\ta\t1\t1\n80001\tb\t1\t1\n".to_string(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNIQUE_VIOLATION), "{err}");
    assert_eq!(totals(&client).await, expected, "after the failed COPYs");

    // The session is fine, and a clean COPY still works.
    let n = copy(
        &client,
        "COPY copied FROM STDIN",
        "90001\tlast\t3\t0.5\n".to_string(),
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        scalar(&client, "SELECT count(*) FROM copied").await,
        "40001"
    );
}

// ---------------------------------------------------------------------------
// 7. Errors never kill the node
// ---------------------------------------------------------------------------

async fn assert_alive(client: &Client, after: &str) {
    match client.simple_query("SELECT 1").await {
        Ok(_) => {}
        Err(e) => panic!("SELECT 1 failed after {}: {e}", shorten(after)),
    }
}

#[tokio::test]
async fn malformed_input_gets_an_error_and_the_session_lives_on() {
    let node = TestNode::start();
    let client = node.client().await;
    client
        .batch_execute("CREATE TABLE victim (id integer PRIMARY KEY, name text)")
        .await
        .unwrap();
    client
        .batch_execute("INSERT INTO victim VALUES (1, 'one')")
        .await
        .unwrap();

    let deep_unbalanced = format!("SELECT {}1", "(".repeat(500));
    let garbage = "\u{1}\u{7f}ÿ💥 ;; DROP EVERYTHING ))) ((".to_string();
    let long_string = format!("SELECT '{}", "x".repeat(100_000));
    let cases: Vec<(String, SqlState)> = vec![
        ("SELEC 1".into(), SqlState::SYNTAX_ERROR),
        (garbage, SqlState::SYNTAX_ERROR),
        ("SELECT FROM WHERE GROUP".into(), SqlState::SYNTAX_ERROR),
        ("SELECT 'abc".into(), SqlState::SYNTAX_ERROR),
        (long_string, SqlState::SYNTAX_ERROR),
        ("SELECT \"unterminated".into(), SqlState::SYNTAX_ERROR),
        ("SELECT 1 +".into(), SqlState::SYNTAX_ERROR),
        (deep_unbalanced, SqlState::SYNTAX_ERROR),
        ("SELECT 1/0".into(), SqlState::DIVISION_BY_ZERO),
        (
            "SELECT id / (id - 1) FROM victim".into(),
            SqlState::DIVISION_BY_ZERO,
        ),
        ("SELECT 5 % 0".into(), SqlState::DIVISION_BY_ZERO),
        (
            "SELECT 'abc'::integer".into(),
            SqlState::INVALID_TEXT_REPRESENTATION,
        ),
        (
            "SELECT 'yes please'::boolean".into(),
            SqlState::INVALID_TEXT_REPRESENTATION,
        ),
        (
            "SELECT '1.5x'::float8".into(),
            SqlState::INVALID_TEXT_REPRESENTATION,
        ),
        (
            "SELECT name::integer FROM victim".into(),
            SqlState::INVALID_TEXT_REPRESENTATION,
        ),
        (
            "SELECT '99999999999'::integer".into(),
            SqlState::NUMERIC_VALUE_OUT_OF_RANGE,
        ),
        (
            format!("SELECT * FROM {}", "t".repeat(10_000)),
            SqlState::UNDEFINED_TABLE,
        ),
        (
            format!("SELECT {} FROM victim", "c".repeat(10_000)),
            SqlState::UNDEFINED_COLUMN,
        ),
    ];
    for (sql, expected) in &cases {
        let got = sqlstate_of(&client, sql).await;
        assert_eq!(&got, expected, "{}", shorten(sql));
        assert_alive(&client, sql).await;
    }
    // The data is untouched and other sessions still connect.
    assert_eq!(
        simple_rows(&node.client().await, "SELECT id, name FROM victim").await,
        vec![vec![Some("1".into()), Some("one".into())]]
    );
}

#[tokio::test]
async fn deeply_nested_parentheses_evaluate() {
    // FAILS: 500 nested parentheses are rejected with 42601 "statement is nested too deeply"; PostgreSQL 15 returns 1
    let node = TestNode::start();
    let client = node.client().await;
    let sql = format!("SELECT {}1{}", "(".repeat(500), ")".repeat(500));
    let result = client.simple_query(&sql).await;
    assert_alive(&client, &sql).await;
    let messages = result.unwrap_or_else(|e| panic!("500 nested parentheses: {e:?}"));
    let value = messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
        _ => None,
    });
    assert_eq!(value.as_deref(), Some("1"));

    // Far deeper input must still be a clean error, not a crash.
    let sql = format!("SELECT {}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let err = client.simple_query(&sql).await.unwrap_err();
    assert!(err.code().is_some(), "no SQLSTATE: {err}");
    assert_alive(&client, "100000 nested parentheses").await;
}

#[tokio::test]
async fn long_identifiers_are_truncated_to_63_bytes() {
    // FAILS: identifiers are not truncated to NAMEDATALEN-1 (63 bytes); the column comes back 100 characters long
    let node = TestNode::start();
    let client = node.client().await;
    let long = "a".repeat(100);
    let rows = client
        .simple_query(&format!("SELECT 1 AS {long}"))
        .await
        .unwrap();
    assert_alive(&client, "long alias").await;
    let name = rows
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::RowDescription(cols) => Some(cols[0].name().to_string()),
            _ => None,
        })
        .expect("a RowDescription");
    assert_eq!(name, "a".repeat(63));

    // PostgreSQL truncates names in DDL too, so both spellings hit one table.
    let table = format!("t{}", "b".repeat(99));
    client
        .batch_execute(&format!("CREATE TABLE {table} (x integer)"))
        .await
        .unwrap();
    client
        .batch_execute(&format!("INSERT INTO {} VALUES (7)", &table[..63]))
        .await
        .unwrap();
    assert_eq!(
        scalar(&client, &format!("SELECT x FROM {table}")).await,
        "7"
    );
}

// ---------------------------------------------------------------------------
// Found while writing the tests above
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_table_created_earlier_in_the_same_simple_query_is_usable() {
    // FAILS: CREATE TABLE then INSERT into it in one simple query fails with 42P01 "relation does not exist"; PostgreSQL runs both
    let node = TestNode::start();
    let client = node.client().await;
    let result = client
        .batch_execute(
            "CREATE TABLE made_here (id integer PRIMARY KEY, v text);
             INSERT INTO made_here VALUES (1, 'a'), (2, 'b')",
        )
        .await;
    assert_alive(&client, "CREATE + INSERT").await;
    result.unwrap_or_else(|e| panic!("CREATE TABLE; INSERT in one query: {e:?}"));
    assert_eq!(scalar(&client, "SELECT count(*) FROM made_here").await, "2");
}

#[tokio::test]
async fn update_and_delete_of_sealed_rows_on_a_fresh_connection() {
    // FAILS: UPDATE/DELETE of a sealed row fails with 42P01 relation "s_<shard id>.data" does not exist unless this connection already read that shard (fresh connection, or a shard sealed after the connection's last read)
    let node = TestNode::start();
    let setup = node.client().await;
    setup
        .batch_execute("CREATE TABLE fresh (id integer PRIMARY KEY, v integer)")
        .await
        .unwrap();
    setup
        .batch_execute("INSERT INTO fresh SELECT g, g FROM generate_series(1, 20) AS g")
        .await
        .unwrap();
    seal(&setup, "fresh").await;

    let mut wrong = Vec::new();
    for sql in [
        "UPDATE fresh SET v = 0 WHERE id = 5",
        "DELETE FROM fresh WHERE id = 6",
        "BEGIN; UPDATE fresh SET v = 0 WHERE id = 7; COMMIT",
    ] {
        let client = node.client().await;
        if let Err(e) = client.batch_execute(sql).await {
            wrong.push(format!("{sql} on a new connection: {e:?}"));
            let _ = client.batch_execute("ROLLBACK").await;
        }
        assert_alive(&client, sql).await;
    }

    // A connection that read the table before another one sealed new rows.
    let reader = node.client().await;
    simple_rows(&reader, "SELECT * FROM fresh").await;
    setup
        .batch_execute("INSERT INTO fresh VALUES (21, 21)")
        .await
        .unwrap();
    seal(&setup, "fresh").await;
    let sql = "UPDATE fresh SET v = 0 WHERE id = 21";
    if let Err(e) = reader.batch_execute(sql).await {
        wrong.push(format!("{sql} after a newer seal: {e:?}"));
    }
    assert_alive(&reader, sql).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(
        simple_rows(
            &setup,
            "SELECT id, v FROM fresh WHERE id BETWEEN 5 AND 7 OR id = 21 ORDER BY id"
        )
        .await,
        vec![
            vec![Some("5".into()), Some("0".into())],
            vec![Some("7".into()), Some("0".into())],
            vec![Some("21".into()), Some("0".into())],
        ]
    );
}

#[tokio::test]
async fn integer_overflow_is_an_error() {
    // FAILS: SELECT 2147483647::integer + 1 returns 2147483648 and SELECT 9223372036854775807::bigint * 2 returns 1.8446744073709552e+19; PostgreSQL raises 22003
    let node = TestNode::start();
    let client = node.client().await;
    let mut wrong = Vec::new();
    for sql in [
        "SELECT 2147483647::integer + 1",
        "SELECT 9223372036854775807::bigint * 2",
        "SELECT 9223372036854775807::bigint + 1",
    ] {
        match client.simple_query(sql).await {
            Ok(messages) => {
                let value = messages.iter().find_map(|m| match m {
                    SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                    _ => None,
                });
                wrong.push(format!("{sql}: returned {value:?}"));
            }
            Err(e) if e.code() != Some(&SqlState::NUMERIC_VALUE_OUT_OF_RANGE) => {
                wrong.push(format!("{sql}: {:?} {e}", e.code()));
            }
            Err(_) => {}
        }
        assert_alive(&client, sql).await;
    }
    assert!(wrong.is_empty(), "expected 22003:\n{}", wrong.join("\n"));
}

/// pg_relation_size and its kin count the table's shard files on this node
/// (they answered a constant 0 before); a name that is no relation is NULL.
#[tokio::test]
async fn relation_sizes_count_the_shards_held_here() {
    let node = TestNode::start();
    let client = node.client().await;
    client
        .batch_execute(
            "CREATE TABLE sizes (id int, t text);
             INSERT INTO sizes SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g",
        )
        .await
        .unwrap();
    let size = "SELECT pg_relation_size('sizes')";
    assert_eq!(
        scalar(&client, size).await,
        "0",
        "open rows are not in a shard yet"
    );
    seal(&client, "sizes").await;
    let sealed: i64 = scalar(&client, size).await.parse().unwrap();
    assert!(sealed > 200_000, "2000 rows of 100 bytes: {sealed}");
    let same = format!(
        "SELECT pg_table_size('sizes'::regclass) = {sealed}, \
         pg_total_relation_size('sizes') = {sealed}, pg_indexes_size('sizes'), \
         pg_relation_size(0) IS NULL"
    );
    assert_eq!(
        simple_rows(&client, &same).await,
        vec![vec![
            Some("t".into()),
            Some("t".into()),
            Some("0".into()),
            Some("t".into())
        ]]
    );
}
