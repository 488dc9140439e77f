//! Shard pruning (`plan::prune`) on real shard files: what each filter
//! keeps and prunes, and (in `never_wrong`) that a pruned shard never
//! holds a matching row, as SQLite itself evaluates the filter.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use mosaic::plan::prune::{conjuncts, prune, Verdict};
use mosaic::store::shard::{write_shard, Row};
use mosaic::types::shard::ShardMeta;
use mosaic::types::table::{Column, TableDef};
use mosaic::types::{Datum, PgType};
use sqlparser::ast::{Expr, Ident};

fn col(name: &str, ty: PgType, default: Option<&str>) -> Column {
    Column {
        name: name.into(),
        ty,
        not_null: false,
        default: default.map(String::from),
        identity: None,
        comment: None,
        missing: None,
        former_names: vec![],
        sequence: None,
        generated: None,
        earlier_types: vec![],
        domain: None,
    }
}

/// The table as the shard was sealed with it.
fn sealed_table() -> TableDef {
    TableDef {
        name: "t".into(),
        oid: 1,
        columns: vec![
            col("id", PgType::Int8, None),
            col("name", PgType::Text, None),
            col("score", PgType::Float8, None),
            col("flag", PgType::Bool, None),
            col("email", PgType::Text, None),
        ],
        primary_key: vec![0],
        unique: vec![],
        checks: vec![],
        indexes: vec![],
        foreign_keys: vec![],
        comment: None,
        kind: Default::default(),
        altered: Default::default(),
        temp: None,
        access: Default::default(),
    }
}

/// The table now: two columns added after the shard was sealed.
fn current_table() -> TableDef {
    let mut t = sealed_table();
    t.columns.push(col("extra", PgType::Int4, Some("7")));
    t.columns.push(col("note", PgType::Text, None));
    t.columns.push(col("made", PgType::Int8, Some("random()")));
    t
}

/// ids 1..=100, names `person-N`, score N/2, flag false, email NULL but for id 1.
fn shard() -> (tempfile::TempDir, ShardMeta) {
    let dir = tempfile::tempdir().unwrap();
    let rows = (1..=100)
        .map(|i| Row {
            ver: i,
            values: vec![
                Datum::Int(i),
                Datum::Text(format!("person-{i}")),
                Datum::Real(i as f64 / 2.0),
                Datum::Int(0),
                if i == 1 {
                    Datum::Text("a@b.c".into())
                } else {
                    Datum::Null
                },
            ],
        })
        .collect();
    let meta = write_shard(dir.path(), "", &sealed_table(), rows).unwrap();
    (dir, meta)
}

fn parse(sql: &str) -> Expr {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .unwrap()
        .parse_expr()
        .unwrap()
}

fn resolver(table: &TableDef) -> impl Fn(&[Ident]) -> Option<usize> + '_ {
    move |parts: &[Ident]| match parts {
        [c] => table.column_index(&c.value),
        [t, c] if t.value == table.name => table.column_index(&c.value),
        _ => None,
    }
}

fn check(meta: &ShardMeta, sql: &str, params: &[Datum]) -> Verdict {
    let table = current_table();
    let resolve = resolver(&table);
    prune(meta, &table, &parse(sql), &resolve, params)
}

#[track_caller]
fn keeps(meta: &ShardMeta, sql: &str) {
    assert_eq!(check(meta, sql, &[]), Verdict::Keep, "{sql}");
}

#[track_caller]
fn prunes(meta: &ShardMeta, sql: &str, reason: &str) {
    match check(meta, sql, &[]) {
        Verdict::Prune(r) => assert_eq!(r, reason, "{sql}"),
        Verdict::Keep => panic!("kept for {sql}, expected: {reason}"),
    }
}

#[test]
fn conjuncts_flatten_and() {
    let e = parse("a = 1 AND (b = 2 AND c = 3) AND (d = 4 OR e = 5)");
    let parts: Vec<String> = conjuncts(&e).iter().map(|c| c.to_string()).collect();
    assert_eq!(parts, vec!["a = 1", "b = 2", "c = 3", "d = 4 OR e = 5"]);
}

#[test]
fn equality() {
    let (_d, m) = shard();
    keeps(&m, "id = 42");
    keeps(&m, "42 = id");
    keeps(&m, "t.id = '42'");
    keeps(&m, "id = 42::bigint");
    keeps(&m, "score = 21");
    keeps(&m, "score = 21.5");
    keeps(&m, "name = 'person-7'");
    keeps(&m, "other.id = 500");
    keeps(&m, "id = 'x'");
    keeps(&m, "id + 0 = 500");
    prunes(&m, "id = 500", "zone map: id in [1, 100] excludes id = 500");
    prunes(&m, "id = -5", "zone map: id in [1, 100] excludes id = -5");
    prunes(
        &m,
        "500 = t.id",
        "zone map: id in [1, 100] excludes 500 = t.id",
    );
    prunes(
        &m,
        "id = '500'::int",
        "zone map: id in [1, 100] excludes id = '500'::INT",
    );
    prunes(&m, "id = 41.5", "bloom filter excludes id = 41.5");
    prunes(
        &m,
        "name = 'person-5x'",
        "bloom filter excludes name = 'person-5x'",
    );
    prunes(
        &m,
        "name = 'zebra'",
        "zone map: name in ['person-1', 'person-99'] excludes name = 'zebra'",
    );
    prunes(&m, "score = 21.25", "bloom filter excludes score = 21.25");
    prunes(&m, "id = NULL", "id = NULL is never true");
    prunes(
        &m,
        "flag = true",
        "zone map: flag in [0, 0] excludes flag = true",
    );
    prunes(&m, "flag", "zone map: flag in [0, 0] excludes flag");
    keeps(&m, "NOT flag");
    keeps(&m, "flag = false");
    // A bloom false positive or two among 100 absent ids, never a miss.
    let kept = (1000..1100)
        .filter(|i| check(&m, &format!("name = 'person-{i}'"), &[]) == Verdict::Keep)
        .count();
    assert!(kept < 10, "{kept}");
}

#[test]
fn parameters() {
    let (_d, m) = shard();
    assert_eq!(check(&m, "id = $1", &[Datum::Int(5)]), Verdict::Keep);
    assert_eq!(
        check(&m, "id = $1", &[Datum::Int(500)]),
        Verdict::Prune("zone map: id in [1, 100] excludes id = $1".into())
    );
    assert_eq!(
        check(&m, "id = $1", &[Datum::Text("500".into())]),
        Verdict::Prune("zone map: id in [1, 100] excludes id = $1".into())
    );
    assert_eq!(check(&m, "id = $2", &[Datum::Int(500)]), Verdict::Keep);
    assert_eq!(
        check(&m, "name = $1", &[Datum::Text("person-5x".into())]),
        Verdict::Prune("bloom filter excludes name = $1".into())
    );
}

#[test]
fn in_lists() {
    let (_d, m) = shard();
    keeps(&m, "id IN (500, 7)");
    keeps(&m, "id NOT IN (500, 600)");
    prunes(
        &m,
        "id IN (500, 600)",
        "zone map: id in [1, 100] excludes id IN (500, 600)",
    );
    prunes(
        &m,
        "id IN (500, 41.5)",
        "zone map: id in [1, 100] and bloom filter exclude id IN (500, 41.5)",
    );
    prunes(
        &m,
        "name IN ('person-5x', 'person-6x')",
        "bloom filter excludes name IN ('person-5x', 'person-6x')",
    );
    prunes(&m, "id IN (NULL)", "id IN (NULL) is never true");
    keeps(&m, "id IN (500, abs(-7))");
}

#[test]
fn ranges() {
    let (_d, m) = shard();
    keeps(&m, "id > 99");
    keeps(&m, "id >= 100");
    keeps(&m, "id < 2");
    keeps(&m, "id <= 1");
    keeps(&m, "id <> 5");
    prunes(&m, "id > 500", "zone map: id in [1, 100] excludes id > 500");
    prunes(&m, "id > 100", "zone map: id in [1, 100] excludes id > 100");
    prunes(
        &m,
        "id >= 101",
        "zone map: id in [1, 100] excludes id >= 101",
    );
    prunes(&m, "id < 1", "zone map: id in [1, 100] excludes id < 1");
    prunes(
        &m,
        "id <= 0.5",
        "zone map: id in [1, 100] excludes id <= 0.5",
    );
    prunes(&m, "0 >= id", "zone map: id in [1, 100] excludes 0 >= id");
    prunes(
        &m,
        "score > 50",
        "zone map: score in [0.5, 50] excludes score > 50",
    );
    keeps(&m, "score > 49.9");
    prunes(
        &m,
        "name > 'z'",
        "zone map: name in ['person-1', 'person-99'] excludes name > 'z'",
    );
    keeps(&m, "name > 'person-5'");
    keeps(&m, "id BETWEEN 90 AND 200");
    keeps(&m, "id NOT BETWEEN 1 AND 100");
    prunes(
        &m,
        "id BETWEEN 200 AND 300",
        "zone map: id in [1, 100] excludes id BETWEEN 200 AND 300",
    );
    prunes(
        &m,
        "id BETWEEN -5 AND 0",
        "zone map: id in [1, 100] excludes id BETWEEN -5 AND 0",
    );
    prunes(
        &m,
        "id BETWEEN 50 AND 40",
        "id BETWEEN 50 AND 40 is never true",
    );
    prunes(
        &m,
        "flag <> 0",
        "zone map: flag in [0, 0] excludes flag <> 0",
    );
}

#[test]
fn nulls() {
    let (_d, m) = shard();
    prunes(&m, "id IS NULL", "no NULLs in id");
    keeps(&m, "email IS NULL");
    keeps(&m, "email IS NOT NULL");
    keeps(&m, "id IS NOT NULL");
    prunes(
        &m,
        "email = 'x@y.z'",
        "zone map: email in ['a@b.c', 'a@b.c'] excludes email = 'x@y.z'",
    );
}

#[test]
fn like_and_ilike() {
    let (_d, m) = shard();
    keeps(&m, "name LIKE '%son-4%'");
    keeps(&m, "name LIKE 'person-4_'");
    keeps(&m, "name ILIKE '%PERSON%'");
    keeps(&m, "name LIKE 'person-42'");
    keeps(&m, "name NOT LIKE '%zebra%'");
    keeps(&m, "name LIKE '%ze%'");
    prunes(
        &m,
        "name LIKE '%zebra%'",
        "trigram bloom excludes name LIKE '%zebra%'",
    );
    prunes(
        &m,
        "name ILIKE '%ZEBRA%'",
        "trigram bloom excludes name ILIKE '%ZEBRA%'",
    );
    prunes(
        &m,
        "name LIKE 'per%zebra'",
        "trigram bloom excludes name LIKE 'per%zebra'",
    );
    // Case matters to LIKE, not to ILIKE or the trigrams.
    prunes(
        &m,
        "name LIKE 'PERSON-42'",
        "zone map: name in ['person-1', 'person-99'] excludes name LIKE 'PERSON-42'",
    );
    keeps(&m, "name ILIKE 'PERSON-42'");
    prunes(
        &m,
        "name LIKE 'a%'",
        "zone map: name in ['person-1', 'person-99'] excludes name LIKE 'a%'",
    );
    prunes(
        &m,
        "name LIKE 'q%'",
        "zone map: name in ['person-1', 'person-99'] excludes name LIKE 'q%'",
    );
    keeps(&m, "name LIKE 'pers%'");
    // `\_` is a literal underscore, `!` a chosen escape.
    prunes(
        &m,
        "name LIKE 'person\\_1'",
        "trigram bloom excludes name LIKE 'person\\_1'",
    );
    keeps(&m, "name LIKE 'person!-1' ESCAPE '!'");
    keeps(&m, "name LIKE 'person-1\\'");
    prunes(&m, "name LIKE NULL", "name LIKE NULL is never true");
}

#[test]
fn columns_added_later_hold_their_default() {
    let (_d, m) = shard();
    keeps(&m, "extra = 7");
    keeps(&m, "extra > 6");
    prunes(
        &m,
        "extra = 8",
        "extra is 7 in every row (its default) excludes extra = 8",
    );
    prunes(
        &m,
        "extra < 7",
        "extra is 7 in every row (its default) excludes extra < 7",
    );
    prunes(&m, "extra IS NULL", "no NULLs in extra");
    prunes(&m, "note = 'x'", "note is NULL in every row");
    prunes(&m, "note IS NOT NULL", "note is NULL in every row");
    prunes(&m, "note LIKE '%x%'", "note is NULL in every row");
    keeps(&m, "note IS NULL");
    keeps(&m, "made = 3");
    keeps(&m, "made IS NULL");
}

#[test]
fn or_and_not() {
    let (_d, m) = shard();
    keeps(&m, "id = 500 OR id = 5");
    keeps(&m, "NOT id = 500");
    prunes(
        &m,
        "id = 500 OR name = 'person-5x'",
        "every branch of the OR is excluded (zone map: id in [1, 100] excludes id = 500; \
         bloom filter excludes name = 'person-5x')",
    );
    prunes(
        &m,
        "(id = 5 AND name = 'person-5x') OR id IS NULL",
        "every branch of the OR is excluded (bloom filter excludes name = 'person-5x'; \
         no NULLs in id)",
    );
    prunes(
        &m,
        "id = 5 AND id > 500",
        "zone map: id in [1, 100] excludes id > 500",
    );
    keeps(&m, "id = 5 AND abs(id) > 500");
    prunes(&m, "false", "false is never true");
}

#[test]
fn empty_shard_prunes() {
    let dir = tempfile::tempdir().unwrap();
    let m = write_shard(dir.path(), "", &sealed_table(), vec![]).unwrap();
    assert_eq!(
        check(&m, "true", &[]),
        Verdict::Prune("shard has no rows".into())
    );
}

#[test]
fn damaged_blooms_keep() {
    let (_d, mut m) = shard();
    for c in &mut m.columns {
        c.bloom = vec![1, 2, 3];
        c.trigrams = Some(vec![]);
    }
    keeps(&m, "id = 41.5");
    keeps(&m, "name LIKE '%zebra%'");
    prunes(&m, "id = 500", "zone map: id in [1, 100] excludes id = 500");
}

#[path = "prune/never_wrong.rs"]
mod never_wrong;
