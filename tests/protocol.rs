//! The wire protocol as a real driver (tokio-postgres) sees it: login,
//! simple and extended queries, text and binary values, SQLSTATEs, COPY,
//! transactions, and durability across `kill -9`. Every expectation here is
//! what PostgreSQL 15 does.

mod common;

use bytes::Bytes;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use common::{simple_rows, TestNode};
use futures::SinkExt;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, GenericClient, SimpleQueryMessage};

/// The SQLSTATE a statement fails with; panics if it succeeds.
async fn sqlstate_of(client: &Client, sql: &str) -> SqlState {
    match client.simple_query(sql).await {
        Ok(_) => panic!("{sql}: succeeded, expected an error"),
        Err(e) => e
            .code()
            .unwrap_or_else(|| panic!("{sql}: error without SQLSTATE: {e}"))
            .clone(),
    }
}

async fn count(client: &impl GenericClient, table: &str) -> i64 {
    client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap_or_else(|e| panic!("count {table}: {e}"))
        .get(0)
}

#[tokio::test]
async fn select_one_in_both_protocols() {
    let node = TestNode::start();
    let client = node.client().await;

    assert_eq!(
        simple_rows(&client, "SELECT 1").await,
        vec![vec![Some("1".to_string())]]
    );
    let row = client.query_one("SELECT 1", &[]).await.unwrap();
    assert_eq!(row.columns()[0].type_(), &Type::INT4);
    assert_eq!(row.get::<_, i32>(0), 1);
}

#[tokio::test]
async fn prepared_statements_take_parameters() {
    let node = TestNode::start();
    let client = node.client().await;

    let sum = client.prepare("SELECT $1::int4 + $2::int4").await.unwrap();
    for (a, b) in [(1, 2), (40, 2), (-5, 5)] {
        let row = client.query_one(&sum, &[&a, &b]).await.unwrap();
        assert_eq!(row.get::<_, i32>(0), a + b);
    }

    client
        .batch_execute("CREATE TABLE params (id integer PRIMARY KEY, name text, score bigint)")
        .await
        .unwrap();
    // Parameter types come from the target columns, as in PostgreSQL.
    let insert = client
        .prepare("INSERT INTO params (id, name, score) VALUES ($1, $2, $3)")
        .await
        .unwrap();
    assert_eq!(insert.params(), &[Type::INT4, Type::TEXT, Type::INT8]);
    for id in 1..=20i32 {
        let name = format!("name-{id}");
        let score = i64::from(id) * 1_000_000_000;
        let n = client
            .execute(&insert, &[&id, &name, &score])
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
    let by_id = client
        .prepare("SELECT name, score FROM params WHERE id = $1")
        .await
        .unwrap();
    assert_eq!(by_id.params(), &[Type::INT4]);
    let row = client.query_one(&by_id, &[&7i32]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "name-7");
    assert_eq!(row.get::<_, i64>(1), 7_000_000_000);

    let range = client
        .query(
            "SELECT id FROM params WHERE id BETWEEN $1 AND $2 AND name LIKE $3 ORDER BY id",
            &[&5i32, &12i32, &"name-1%"],
        )
        .await
        .unwrap();
    let ids: Vec<i32> = range.iter().map(|r| r.get(0)).collect();
    assert_eq!(ids, vec![10, 11, 12]);

    // A NULL parameter.
    client
        .execute(&insert, &[&21i32, &None::<String>, &None::<i64>])
        .await
        .unwrap();
    let row = client.query_one(&by_id, &[&21i32]).await.unwrap();
    assert_eq!(row.get::<_, Option<String>>(0), None);
    assert_eq!(row.get::<_, Option<i64>>(1), None);
}

const TYPES_TABLE: &str = "CREATE TABLE types_rt (
    id integer PRIMARY KEY,
    s smallint, i integer, b bigint, r real, d double precision, n numeric(10, 2),
    t text, v varchar(10), c char(3), ok boolean, raw bytea,
    day date, ts timestamp, tstz timestamptz, j json, jb jsonb, u uuid)";

#[tokio::test]
async fn every_type_round_trips_in_text() {
    let node = TestNode::start();
    let client = node.client().await;
    client.batch_execute(TYPES_TABLE).await.unwrap();
    client
        .batch_execute(
            "SET TIME ZONE 'UTC';
             INSERT INTO types_rt VALUES (1, -7, 2147483647, -9223372036854775808, 1.5, -0.125, 12.5,
               'hé''llo', 'short', 'ab', true, '\\xdeadbeef', '2024-02-29', '2024-02-29 23:59:58.25',
               '2024-02-29 12:00:00+02', '{\"k\": [1, 2]}', '{\"b\": 2, \"a\": 1}',
               'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11');
             INSERT INTO types_rt (id) VALUES (2)",
        )
        .await
        .unwrap();

    let rows = simple_rows(&client, "SELECT * FROM types_rt ORDER BY id").await;
    let expected = [
        "1",
        "-7",
        "2147483647",
        "-9223372036854775808",
        "1.5",
        "-0.125",
        "12.50",
        "hé'llo",
        "short",
        "ab ",
        "t",
        "\\xdeadbeef",
        "2024-02-29",
        "2024-02-29 23:59:58.25",
        "2024-02-29 10:00:00+00",
        "{\"k\": [1, 2]}",
        "{\"a\": 1, \"b\": 2}",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    ];
    let first: Vec<&str> = rows[0].iter().map(|v| v.as_deref().unwrap()).collect();
    assert_eq!(first, expected);
    assert_eq!(rows[1][0].as_deref(), Some("2"));
    assert!(rows[1][1..].iter().all(Option::is_none), "{:?}", rows[1]);
}

#[tokio::test]
async fn every_type_round_trips_in_binary() {
    let node = TestNode::start();
    let client = node.client().await;
    client.batch_execute(TYPES_TABLE).await.unwrap();

    let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let ts: NaiveDateTime = day.and_hms_micro_opt(23, 59, 58, 250_000).unwrap();
    let tstz: DateTime<Utc> = day.and_hms_opt(10, 0, 0).unwrap().and_utc();
    let json = serde_json::json!({"k": [1, 2], "s": "x"});
    let raw = vec![0u8, 1, 2, 255];

    let insert = client
        .prepare(
            "INSERT INTO types_rt (id, s, i, b, r, d, t, v, c, ok, raw, day, ts, tstz, j, jb)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .await
        .unwrap();
    assert_eq!(
        insert.params(),
        &[
            Type::INT4,
            Type::INT2,
            Type::INT4,
            Type::INT8,
            Type::FLOAT4,
            Type::FLOAT8,
            Type::TEXT,
            Type::VARCHAR,
            Type::BPCHAR,
            Type::BOOL,
            Type::BYTEA,
            Type::DATE,
            Type::TIMESTAMP,
            Type::TIMESTAMPTZ,
            Type::JSON,
            Type::JSONB,
        ]
    );
    client
        .execute(
            &insert,
            &[
                &1i32,
                &i16::MIN,
                &i32::MAX,
                &i64::MIN,
                &1.5f32,
                &-0.125f64,
                &"hé'llo",
                &"short",
                &"abc",
                &true,
                &raw,
                &day,
                &ts,
                &tstz,
                &json,
                &json,
            ],
        )
        .await
        .unwrap();

    let row = client
        .query_one(
            "SELECT s, i, b, r, d, t, v, c, ok, raw, day, ts, tstz, j, jb, n FROM types_rt WHERE id = $1",
            &[&1i32],
        )
        .await
        .unwrap();
    let types: Vec<&Type> = row.columns().iter().map(|c| c.type_()).collect();
    assert_eq!(
        types,
        [
            &Type::INT2,
            &Type::INT4,
            &Type::INT8,
            &Type::FLOAT4,
            &Type::FLOAT8,
            &Type::TEXT,
            &Type::VARCHAR,
            &Type::BPCHAR,
            &Type::BOOL,
            &Type::BYTEA,
            &Type::DATE,
            &Type::TIMESTAMP,
            &Type::TIMESTAMPTZ,
            &Type::JSON,
            &Type::JSONB,
            &Type::NUMERIC,
        ]
    );
    assert_eq!(row.get::<_, i16>("s"), i16::MIN);
    assert_eq!(row.get::<_, i32>("i"), i32::MAX);
    assert_eq!(row.get::<_, i64>("b"), i64::MIN);
    assert_eq!(row.get::<_, f32>("r"), 1.5);
    assert_eq!(row.get::<_, f64>("d"), -0.125);
    assert_eq!(row.get::<_, String>("t"), "hé'llo");
    assert_eq!(row.get::<_, String>("v"), "short");
    assert_eq!(row.get::<_, String>("c"), "abc");
    assert!(row.get::<_, bool>("ok"));
    assert_eq!(row.get::<_, Vec<u8>>("raw"), raw);
    assert_eq!(row.get::<_, NaiveDate>("day"), day);
    assert_eq!(row.get::<_, NaiveDateTime>("ts"), ts);
    assert_eq!(row.get::<_, DateTime<Utc>>("tstz"), tstz);
    assert_eq!(row.get::<_, serde_json::Value>("j"), json);
    assert_eq!(row.get::<_, serde_json::Value>("jb"), json);

    // Numeric and uuid have no Rust type here: they travel as text casts.
    let row = client
        .query_one(
            "SELECT $1::text::numeric(10, 2) = 12.5, $2::text::uuid::text",
            &[&"12.5", &"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert_eq!(
        row.get::<_, String>(1),
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    );

    // Extremes of each integer type, and NULLs of every type.
    let row = client
        .query_one(
            "SELECT $1::int2, $2::int4, $3::int8, $4::float8, $5::bool, $6::text",
            &[
                &i16::MAX,
                &i32::MIN,
                &i64::MAX,
                &f64::MAX,
                &None::<bool>,
                &None::<String>,
            ],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i16>(0), i16::MAX);
    assert_eq!(row.get::<_, i32>(1), i32::MIN);
    assert_eq!(row.get::<_, i64>(2), i64::MAX);
    assert_eq!(row.get::<_, f64>(3), f64::MAX);
    assert_eq!(row.get::<_, Option<bool>>(4), None);
    assert_eq!(row.get::<_, Option<String>>(5), None);
}

#[tokio::test]
async fn errors_carry_their_sqlstate() {
    let node = TestNode::start();
    let client = node.client().await;
    client
        .batch_execute("CREATE TABLE errs (id integer PRIMARY KEY, name text NOT NULL)")
        .await
        .unwrap();
    client
        .batch_execute("INSERT INTO errs VALUES (1, 'one'), (2, 'two')")
        .await
        .unwrap();

    let cases = [
        ("SELEC 1", SqlState::SYNTAX_ERROR),
        ("SELECT * FROM no_such_table", SqlState::UNDEFINED_TABLE),
        (
            "SELECT no_such_column FROM errs",
            SqlState::UNDEFINED_COLUMN,
        ),
        ("CREATE TABLE errs (x integer)", SqlState::DUPLICATE_TABLE),
        (
            "INSERT INTO errs VALUES (1, 'again')",
            SqlState::UNIQUE_VIOLATION,
        ),
        (
            "INSERT INTO errs VALUES (3, NULL)",
            SqlState::NOT_NULL_VIOLATION,
        ),
        (
            "SELECT 'abc'::integer",
            SqlState::INVALID_TEXT_REPRESENTATION,
        ),
        (
            "INSERT INTO errs VALUES ('x', 'y')",
            SqlState::INVALID_TEXT_REPRESENTATION,
        ),
        ("SELECT 1 / 0", SqlState::DIVISION_BY_ZERO),
    ];
    for (sql, expected) in cases {
        assert_eq!(sqlstate_of(&client, sql).await, expected, "{sql}");
    }

    // The extended protocol reports the same codes.
    let err = client
        .query("SELECT * FROM no_such_table WHERE id = $1", &[&1i32])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNDEFINED_TABLE));
    let err = client
        .execute("INSERT INTO errs VALUES ($1, $2)", &[&2i32, &"dup"])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNIQUE_VIOLATION));

    // The session survives its errors.
    assert_eq!(count(&client, "errs").await, 2);
}

#[tokio::test]
async fn unique_violation_is_detected_in_sealed_shards() {
    let node = TestNode::start();
    let client = node.client().await;
    client
        .batch_execute(
            "CREATE TABLE sealed_keys (id integer PRIMARY KEY, email text UNIQUE);
             INSERT INTO sealed_keys SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 50) AS g",
        )
        .await
        .unwrap();
    client
        .simple_query("SELECT mosaic.seal('sealed_keys')")
        .await
        .unwrap();
    let sealed = client
        .query_one(
            "SELECT count(*) FROM mosaic.shards WHERE table_name = 'sealed_keys' AND sealed",
            &[],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert!(sealed >= 1, "mosaic.seal left no sealed shard");

    for sql in [
        "INSERT INTO sealed_keys VALUES (7, 'new@example.com')",
        "INSERT INTO sealed_keys VALUES (51, 'user7@example.com')",
        "UPDATE sealed_keys SET id = 8 WHERE id = 9",
    ] {
        assert_eq!(
            sqlstate_of(&client, sql).await,
            SqlState::UNIQUE_VIOLATION,
            "{sql}"
        );
    }
    // A deleted key is free again, even though its row sits in a sealed shard.
    client
        .batch_execute("DELETE FROM sealed_keys WHERE id = 7; INSERT INTO sealed_keys VALUES (7, 'again@example.com')")
        .await
        .unwrap();
    assert_eq!(count(&client, "sealed_keys").await, 50);
}

#[tokio::test]
async fn wrong_password_is_rejected() {
    let node = TestNode::start();
    let err = common::connect(&node.conn_string_with_password("not-the-password"))
        .await
        .expect_err("login with a wrong password succeeded");
    assert_eq!(err.code(), Some(&SqlState::INVALID_PASSWORD), "{err}");

    let wrong_user = node.conn_string().replace("user=mosaic", "user=intruder");
    let err = common::connect(&wrong_user)
        .await
        .expect_err("login as an unknown user succeeded");
    assert_eq!(err.code(), Some(&SqlState::INVALID_PASSWORD), "{err}");

    // The right password still works afterwards.
    node.client().await;
}

#[tokio::test]
async fn committed_rows_survive_kill_9() {
    let mut node = TestNode::start();
    {
        let mut client = node.client().await;
        client
            .batch_execute("CREATE TABLE durable (id integer PRIMARY KEY, note text)")
            .await
            .unwrap();
        for id in 1..=25i32 {
            client
                .execute("INSERT INTO durable VALUES ($1, 'autocommit')", &[&id])
                .await
                .unwrap();
        }
        let tx = client.transaction().await.unwrap();
        tx.execute(
            "INSERT INTO durable SELECT g, 'tx' FROM generate_series(26, 40) AS g",
            &[],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        client
            .batch_execute("DELETE FROM durable WHERE id = 1; UPDATE durable SET note = 'updated' WHERE id = 2")
            .await
            .unwrap();

        // Left open when the process dies: must vanish.
        client
            .batch_execute("BEGIN; INSERT INTO durable VALUES (1000, 'uncommitted')")
            .await
            .unwrap();
        node.kill9();
    }

    node.restart();
    let client = node.client().await;
    let row = client
        .query_one("SELECT count(*), sum(id) FROM durable", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 39);
    assert_eq!(row.get::<_, i64>(1), (2..=40).sum::<i64>());
    let note: String = client
        .query_one("SELECT note FROM durable WHERE id = 2", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(note, "updated");

    // And a graceful stop keeps them too.
    assert!(node.stop().success(), "SIGTERM should exit cleanly");
    node.restart();
    assert_eq!(count(&node.client().await, "durable").await, 39);
}

#[tokio::test]
async fn transactions_commit_and_roll_back() {
    let node = TestNode::start();
    let mut client = node.client().await;
    let other = node.client().await;
    client
        .batch_execute("CREATE TABLE txs (id integer PRIMARY KEY, v integer)")
        .await
        .unwrap();

    let tx = client.transaction().await.unwrap();
    tx.execute("INSERT INTO txs VALUES (1, 10), (2, 20)", &[])
        .await
        .unwrap();
    assert_eq!(
        count(&tx, "txs").await,
        2,
        "a transaction sees its own rows"
    );
    assert_eq!(count(&other, "txs").await, 0, "others don't, yet");
    tx.commit().await.unwrap();
    assert_eq!(count(&other, "txs").await, 2);

    let tx = client.transaction().await.unwrap();
    tx.execute("INSERT INTO txs VALUES (3, 30)", &[])
        .await
        .unwrap();
    tx.execute("UPDATE txs SET v = 0", &[]).await.unwrap();
    tx.execute("DELETE FROM txs WHERE id = 1", &[])
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let rows = client
        .query("SELECT id, v FROM txs ORDER BY id", &[])
        .await
        .unwrap();
    let rows: Vec<(i32, i32)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(rows, vec![(1, 10), (2, 20)]);

    // A failed statement aborts the transaction until ROLLBACK.
    client.batch_execute("BEGIN").await.unwrap();
    client
        .batch_execute("INSERT INTO txs VALUES (4, 40)")
        .await
        .unwrap();
    assert_eq!(
        sqlstate_of(&client, "INSERT INTO txs VALUES (1, 0)").await,
        SqlState::UNIQUE_VIOLATION
    );
    assert_eq!(
        sqlstate_of(&client, "SELECT 1").await,
        SqlState::IN_FAILED_SQL_TRANSACTION
    );
    client.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(count(&client, "txs").await, 2);
}

#[tokio::test]
async fn copy_from_stdin_in_text_and_csv() {
    let node = TestNode::start();
    let client = node.client().await;
    client
        .batch_execute(
            "CREATE TABLE copied (id integer PRIMARY KEY, name text, amount numeric, day date)",
        )
        .await
        .unwrap();

    let sink = client
        .copy_in("COPY copied (id, name, amount, day) FROM STDIN")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    let mut text = String::new();
    for id in 1..=30 {
        text.push_str(&format!(
            "{id}\tname {id}\t{id}.5\t2024-01-{:02}\n",
            id % 28 + 1
        ));
    }
    text.push_str("31\t\\N\t\\N\t\\N\n32\ttab\\there\t0\t2024-12-31\n");
    // Rows may be split across CopyData messages anywhere.
    let (a, b) = text.split_at(text.len() / 2);
    sink.send(Bytes::from(a.to_string())).await.unwrap();
    sink.send(Bytes::from(b.to_string())).await.unwrap();
    assert_eq!(sink.as_mut().finish().await.unwrap(), 32);

    let sink = client
        .copy_in("COPY copied FROM STDIN WITH (FORMAT csv, HEADER true)")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    let csv = "id,name,amount,day\n\
               40,\"comma, inside\",1.25,2024-02-01\n\
               41,\"quote \"\"inside\"\"\",2,2024-02-02\n\
               42,,3,\n\
               43,\"\",4,2024-02-04\n";
    sink.send(Bytes::from(csv)).await.unwrap();
    assert_eq!(sink.as_mut().finish().await.unwrap(), 4);

    // The pre-9.0 spelling psql scripts and older tools send.
    let sink = client
        .copy_in("COPY copied FROM STDIN WITH CSV HEADER QUOTE AS '|'")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    sink.send(Bytes::from(
        "id,name,amount,day
44,|a,b|,5,2024-02-05
",
    ))
    .await
    .unwrap();
    assert_eq!(sink.as_mut().finish().await.unwrap(), 1);

    let rows = simple_rows(
        &client,
        "SELECT id, name, amount, day FROM copied WHERE id IN (1, 30, 31, 32, 40, 41, 42, 43) ORDER BY id",
    )
    .await;
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        rows,
        vec![
            vec![s("1"), s("name 1"), s("1.5"), s("2024-01-02")],
            vec![s("30"), s("name 30"), s("30.5"), s("2024-01-03")],
            vec![s("31"), None, None, None],
            vec![s("32"), s("tab\there"), s("0"), s("2024-12-31")],
            vec![s("40"), s("comma, inside"), s("1.25"), s("2024-02-01")],
            vec![s("41"), s("quote \"inside\""), s("2"), s("2024-02-02")],
            vec![s("42"), None, s("3"), None],
            vec![s("43"), s(""), s("4"), s("2024-02-04")],
        ]
    );
    assert_eq!(count(&client, "copied").await, 37);
    assert_eq!(
        simple_rows(&client, "SELECT name FROM copied WHERE id = 44").await,
        vec![vec![Some("a,b".to_string())]]
    );

    // A bad row fails the whole COPY with the input's SQLSTATE.
    let sink = client.copy_in("COPY copied FROM STDIN").await.unwrap();
    futures::pin_mut!(sink);
    sink.send(Bytes::from(
        "100\tok\t1\t2024-01-01\nnot-a-number\tx\t1\t2024-01-01\n",
    ))
    .await
    .unwrap();
    let err = sink.as_mut().finish().await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::INVALID_TEXT_REPRESENTATION));
    assert_eq!(count(&client, "copied").await, 37);
}

#[tokio::test]
async fn several_statements_in_one_simple_query() {
    let node = TestNode::start();
    let client = node.client().await;
    let messages = client
        .simple_query(
            "CREATE TABLE multi (id integer PRIMARY KEY, v text);
             INSERT INTO multi VALUES (1, 'a'), (2, 'b');
             SELECT v FROM multi ORDER BY id;
             UPDATE multi SET v = 'c' WHERE id = 2;
             SELECT count(*) FROM multi",
        )
        .await
        .unwrap();
    let mut summary = Vec::new();
    for message in &messages {
        match message {
            SimpleQueryMessage::Row(row) => summary.push(format!("row {}", row.get(0).unwrap())),
            SimpleQueryMessage::CommandComplete(n) => summary.push(format!("done {n}")),
            _ => {}
        }
    }
    assert_eq!(
        summary,
        ["done 0", "done 2", "row a", "row b", "done 2", "done 1", "row 2", "done 1"]
    );
}

#[tokio::test]
async fn a_failing_statement_rolls_back_its_whole_simple_query() {
    // Outside BEGIN, a multi-statement simple query is one implicit
    // transaction in PostgreSQL: a later failure undoes the earlier parts.
    let node = TestNode::start();
    let client = node.client().await;
    client
        .batch_execute("CREATE TABLE implicit (id integer PRIMARY KEY)")
        .await
        .unwrap();
    let err = client
        .simple_query("INSERT INTO implicit VALUES (1); INSERT INTO implicit VALUES (1)")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNIQUE_VIOLATION));
    assert_eq!(count(&client, "implicit").await, 0);
}

/// An error at Parse (an unknown table is found while preparing) aborts the
/// transaction block just like one at Execute, in both protocols.
#[tokio::test]
async fn parse_error_aborts_the_transaction_block() {
    let node = TestNode::start();
    let client = node.client().await;
    for failing in ["prepare", "simple"] {
        client.batch_execute("BEGIN").await.expect("begin");
        let err = if failing == "prepare" {
            client.prepare("SELECT * FROM no_such_table").await.err()
        } else {
            client
                .simple_query("SELECT * FROM no_such_table")
                .await
                .err()
        };
        let err = err.expect("a missing table is an error");
        assert_eq!(err.code(), Some(&SqlState::UNDEFINED_TABLE), "{failing}");
        let err = client.query("SELECT 1", &[]).await.expect_err(failing);
        assert_eq!(
            err.code(),
            Some(&SqlState::IN_FAILED_SQL_TRANSACTION),
            "{failing}"
        );
        client.batch_execute("ROLLBACK").await.expect("rollback");
        let row = client
            .query_one("SELECT 1", &[])
            .await
            .expect("after rollback");
        assert_eq!(row.get::<_, i32>(0), 1);
    }
}

/// COPY data in many small CopyData messages (the driver groups the lines
/// fed to it into messages of about 4 KiB; pgbench, in `tests/pgbench.rs`,
/// sends one per line), which the node hands the session 256 KiB at a
/// time: an error far into
/// the data still names its line and loses every row, a copy the client
/// abandons (CopyFail) leaves nothing behind for the next one, and a whole
/// copy keeps every row exactly once.
#[tokio::test]
async fn copy_in_many_small_messages() {
    let node = TestNode::start();
    let client = node.client().await;
    client
        .batch_execute("CREATE TABLE lines (id integer, tag text)")
        .await
        .unwrap();
    let rows = 40_000;
    let line = |id: i32| format!("{id}\ttag number {id}\n");
    let send = |bad: Option<i32>, finish: bool| {
        let client = &client;
        async move {
            let sink = client.copy_in("COPY lines FROM STDIN").await?;
            futures::pin_mut!(sink);
            for id in 1..=rows {
                let text = match bad {
                    Some(b) if b == id => format!("{id}x\tbad\n"),
                    _ => line(id),
                };
                sink.feed(Bytes::from(text)).await?;
                if !finish && id == 1_000 {
                    // Dropped unfinished: the driver sends CopyFail.
                    return Ok(0);
                }
            }
            sink.as_mut().finish().await
        }
    };

    let err = send(Some(30_000), true).await.expect_err("a bad integer");
    assert_eq!(err.code(), Some(&SqlState::INVALID_TEXT_REPRESENTATION));
    let msg = err.as_db_error().map(|e| e.message().to_string());
    assert!(
        format!("{err:?}").contains("line 30000"),
        "the error names its line: {msg:?} / {err:?}"
    );
    assert_eq!(count(&client, "lines").await, 0);

    let abandoned = send(None, false).await;
    assert!(abandoned.is_ok(), "{abandoned:?}");
    assert_eq!(count(&client, "lines").await, 0);

    let n = send(None, true).await.expect("the whole copy");
    assert_eq!(n, rows as u64);
    let row = client
        .query_one(
            "SELECT count(*), count(DISTINCT id), sum(id), min(tag) FROM lines",
            &[],
        )
        .await
        .unwrap();
    let total = (rows as i64) * (rows as i64 + 1) / 2;
    assert_eq!(row.get::<_, i64>(0), rows as i64);
    assert_eq!(row.get::<_, i64>(1), rows as i64);
    assert_eq!(row.get::<_, i64>(2), total);
    assert_eq!(row.get::<_, &str>(3), "tag number 1");
}

/// COPY into a table with constraints: rows go into the open segment
/// many to a statement, the rest one by one at the end; every row lands
/// exactly once, and a violation anywhere (in a full batch or among the
/// rest) fails the copy with PostgreSQL's SQLSTATE and constraint name,
/// leaving nothing behind.
#[tokio::test]
async fn copy_in_batches_keeps_constraints() {
    let node = TestNode::start();
    let client = node.client().await;
    client
        .batch_execute(
            "CREATE TABLE dup (id integer PRIMARY KEY, v integer NOT NULL CHECK (v >= 0))",
        )
        .await
        .unwrap();
    let copy = |lines: Vec<String>| {
        let client = &client;
        async move {
            let sink = client.copy_in("COPY dup FROM STDIN").await?;
            futures::pin_mut!(sink);
            sink.feed(Bytes::from(lines.concat())).await?;
            sink.as_mut().finish().await
        }
    };
    let rows = |ids: std::ops::RangeInclusive<i32>| -> Vec<String> {
        ids.map(|i| format!("{i}\t{i}\n")).collect()
    };
    // 150 rows: two full batches and 22 more.
    assert_eq!(copy(rows(1..=150)).await.unwrap(), 150);
    let total = || async {
        let row = client
            .query_one("SELECT count(*), sum(id) FROM dup", &[])
            .await
            .unwrap();
        (row.get::<_, i64>(0), row.get::<_, i64>(1))
    };
    assert_eq!(total().await, (150, 150 * 151 / 2));
    for (at, code, text) in [
        (10, SqlState::UNIQUE_VIOLATION, "\"dup_pkey\""),
        (140, SqlState::UNIQUE_VIOLATION, "\"dup_pkey\""),
        (100, SqlState::CHECK_VIOLATION, "dup_v_check"),
    ] {
        let mut lines = rows(151..=300);
        lines[at] = match code {
            SqlState::CHECK_VIOLATION => format!("{}\t-1\n", 151 + at),
            _ => "5\t5\n".to_string(),
        };
        let err = copy(lines).await.expect_err("a violation");
        assert_eq!(err.code(), Some(&code), "{err:?}");
        let msg = err
            .as_db_error()
            .map(|e| e.message().to_string())
            .unwrap_or_default();
        assert!(msg.contains(text), "row {at}: {msg}");
        assert_eq!(total().await, (150, 150 * 151 / 2));
    }
}

/// COPY in PostgreSQL's binary format (what asyncpg's
/// copy_records_to_table sends), with tuples split across CopyData
/// messages anywhere, and a truncated stream rejected.
#[tokio::test]
async fn copy_from_stdin_in_binary() {
    let node = TestNode::start();
    let client = node.client().await;
    client
        .batch_execute("CREATE TABLE bin (id integer, name text)")
        .await
        .unwrap();
    let mut data = b"PGCOPY\n\xff\r\n\0".to_vec();
    data.extend_from_slice(&0i32.to_be_bytes()); // flags
    data.extend_from_slice(&0i32.to_be_bytes()); // no header extension
    for (id, name) in [(1i32, Some("one")), (2, None), (3, Some("tab\there"))] {
        data.extend_from_slice(&2i16.to_be_bytes());
        data.extend_from_slice(&4i32.to_be_bytes());
        data.extend_from_slice(&id.to_be_bytes());
        match name {
            Some(n) => {
                data.extend_from_slice(&(n.len() as i32).to_be_bytes());
                data.extend_from_slice(n.as_bytes());
            }
            None => data.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
    let body = data.clone();
    data.extend_from_slice(&(-1i16).to_be_bytes());

    let sink = client
        .copy_in("COPY bin FROM STDIN (FORMAT binary)")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    for chunk in data.chunks(3) {
        sink.send(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    assert_eq!(sink.as_mut().finish().await.unwrap(), 3);
    let rows = simple_rows(&client, "SELECT id, name FROM bin ORDER BY id").await;
    assert_eq!(
        rows,
        vec![
            vec![Some("1".into()), Some("one".into())],
            vec![Some("2".into()), None],
            vec![Some("3".into()), Some("tab\there".into())],
        ]
    );

    // Cut off in the middle of a tuple: nothing is copied.
    let sink = client
        .copy_in("COPY bin FROM STDIN (FORMAT binary)")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    sink.send(Bytes::copy_from_slice(&body[..body.len() - 2]))
        .await
        .unwrap();
    let err = sink.as_mut().finish().await.expect_err("truncated data");
    assert_eq!(err.code(), Some(&SqlState::BAD_COPY_FILE_FORMAT), "{err}");
    assert_eq!(count(&client, "bin").await, 3);
}

/// COPY … TO STDOUT in text and CSV, from a table and from a query; what
/// goes out comes back in unchanged.
#[tokio::test]
async fn copy_to_stdout_round_trips() {
    use futures::TryStreamExt;
    let node = TestNode::start_with(&["--shard-max-rows", "2"]);
    let client = node.client().await;
    client
        .batch_execute(
            "CREATE TABLE outbound (id integer PRIMARY KEY, name text, v double precision); \
             INSERT INTO outbound VALUES (1, 'plain', 1.5), (2, E'tab\\there', NULL), \
             (3, 'q\"uote,comma', 3), (4, E'line\\nbreak', -0.25)",
        )
        .await
        .unwrap();
    async fn copy_out(client: &Client, sql: &str) -> String {
        let chunks: Vec<Bytes> = client
            .copy_out(sql)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        String::from_utf8(chunks.concat()).unwrap()
    }
    let text = copy_out(&client, "COPY outbound TO STDOUT").await;
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        vec![
            "1\tplain\t1.5",
            "2\ttab\\there\t\\N",
            "3\tq\"uote,comma\t3",
            "4\tline\\nbreak\t-0.25"
        ]
    );
    let csv = copy_out(
        &client,
        "COPY (SELECT id, name FROM outbound WHERE id >= 3 ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER true)",
    )
    .await;
    assert_eq!(csv, "id,name\n3,\"q\"\"uote,comma\"\n4,\"line\nbreak\"\n");

    // What went out loads back.
    client
        .batch_execute(
            "CREATE TABLE inbound (id integer PRIMARY KEY, name text, v double precision)",
        )
        .await
        .unwrap();
    let sink = client.copy_in("COPY inbound FROM STDIN").await.unwrap();
    futures::pin_mut!(sink);
    sink.send(Bytes::from(text)).await.unwrap();
    assert_eq!(sink.finish().await.unwrap(), 4);
    assert_eq!(
        simple_rows(&client, "SELECT id, name, v FROM inbound ORDER BY id").await,
        simple_rows(&client, "SELECT id, name, v FROM outbound ORDER BY id").await
    );
}

/// NUMERIC in the binary format, as raw bytes (tokio-postgres has no
/// decimal type here).
#[derive(Debug)]
struct RawNumeric(Vec<u8>);

impl tokio_postgres::types::ToSql for RawNumeric {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&self.0);
        Ok(tokio_postgres::types::IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
    tokio_postgres::types::to_sql_checked!();
}

impl<'a> tokio_postgres::types::FromSql<'a> for RawNumeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawNumeric(raw.to_vec()))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

#[tokio::test]
async fn numeric_round_trips_exactly_in_binary() {
    use mosaic::types::numeric::Numeric;
    let node = TestNode::start();
    let client = node.client().await;
    client
        .batch_execute("CREATE TABLE exact (id integer PRIMARY KEY, v numeric(20, 2), w numeric)")
        .await
        .unwrap();
    let insert = client
        .prepare("INSERT INTO exact VALUES ($1, $2, $3)")
        .await
        .unwrap();
    let values = [
        ("12345678901234567.89", "0.1"),
        ("-0.01", "NaN"),
        (
            "1.005",
            "123456789012345678901234567890.000000000000000000001",
        ),
        ("0.00", "-Infinity"),
    ];
    for (i, (v, w)) in values.iter().enumerate() {
        let v = RawNumeric(Numeric::parse(v).unwrap().to_binary());
        let w = RawNumeric(Numeric::parse(w).unwrap().to_binary());
        client
            .execute(&insert, &[&(i as i32), &v, &w])
            .await
            .unwrap();
    }
    let rows = client
        .query("SELECT v, w, v::text, w::text FROM exact ORDER BY id", &[])
        .await
        .unwrap();
    let want = [
        ("12345678901234567.89", "0.1"),
        ("-0.01", "NaN"),
        (
            "1.01",
            "123456789012345678901234567890.000000000000000000001",
        ),
        ("0.00", "-Infinity"),
    ];
    for (row, (v, w)) in rows.iter().zip(want) {
        assert_eq!(row.columns()[0].type_(), &Type::NUMERIC);
        let got_v = row.get::<_, RawNumeric>(0).0;
        let got_w = row.get::<_, RawNumeric>(1).0;
        assert_eq!(got_v, Numeric::parse(v).unwrap().to_binary(), "{v}");
        assert_eq!(got_w, Numeric::parse(w).unwrap().to_binary(), "{w}");
        assert_eq!(Numeric::from_binary(&got_v).unwrap().to_string(), v);
        assert_eq!(row.get::<_, String>(2), v);
        assert_eq!(row.get::<_, String>(3), w);
    }
}
