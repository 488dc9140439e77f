use super::*;
use crate::types::shard::{encode_value, load_bloom, trigrams};
use crate::types::table::{Column, Index};

pub(crate) fn table() -> TableDef {
    let col = |name: &str, ty: PgType| Column {
        name: name.into(),
        ty,
        not_null: false,
        default: None,
        identity: None,
        comment: None,
        missing: None,
        former_names: vec![],
        sequence: None,
        generated: None,
        earlier_types: vec![],
        domain: None,
    };
    TableDef {
        name: "people".into(),
        oid: 16384,
        columns: vec![
            col("id", PgType::Int8),
            col("name", PgType::Text),
            col("score", PgType::Float8),
            col("photo", PgType::Bytea),
        ],
        primary_key: vec![0],
        unique: vec![],
        checks: vec![],
        indexes: vec![Index {
            name: "people_name_idx".into(),
            columns: vec!["name".into()],
            unique: false,
            ..Default::default()
        }],
        foreign_keys: vec![],
        comment: None,
        kind: Default::default(),
        altered: Default::default(),
        temp: None,
        access: Default::default(),
    }
}

fn row(ver: i64, id: i64, name: Option<&str>, score: f64) -> Row {
    Row {
        ver,
        values: vec![
            Datum::Int(id),
            name.map_or(Datum::Null, |n| Datum::Text(n.into())),
            Datum::Real(score),
            Datum::Blob(vec![id as u8]),
        ],
    }
}

fn rows() -> Vec<Row> {
    vec![
        row(10, 3, Some("carol"), 2.5),
        row(11, 1, Some("alice"), 1.0),
        row(12, 2, None, -0.0),
        row(13, -7, Some("Zed"), 100.0),
    ]
}

#[test]
fn id_ignores_insertion_order_but_not_versions() {
    let t = table();
    let mut shuffled = rows();
    shuffled.reverse();
    let id = shard_id(&t, "", &rows());
    assert_eq!(id, shard_id(&t, "", &shuffled));
    // The same values written again (after a TRUNCATE) are a new seal.
    let mut rewritten = rows();
    rewritten[0].ver += 1000;
    assert_ne!(id, shard_id(&t, "", &rewritten));
    assert_eq!(id.0.len(), 52);
    assert!(id
        .0
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
}

#[test]
fn id_depends_on_content_and_schema() {
    let t = table();
    let id = shard_id(&t, "", &rows());
    let mut other = rows();
    other[0].values[1] = Datum::Text("caro1".into());
    assert_ne!(id, shard_id(&t, "", &other));
    assert_ne!(id, shard_id(&t, "", &rows()[1..]));
    let mut renamed = table();
    renamed.name = "persons".into();
    assert_ne!(id, shard_id(&renamed, "", &rows()));
    let mut retyped = table();
    retyped.columns[0].ty = PgType::Int4;
    assert_ne!(id, shard_id(&retyped, "", &rows()));
}

#[test]
fn negative_zero_and_int_in_real_column_normalize() {
    let t = table();
    let mut a = rows();
    let mut b = rows();
    a[2].values[2] = Datum::Real(-0.0);
    b[2].values[2] = Datum::Real(0.0);
    assert_eq!(shard_id(&t, "", &a), shard_id(&t, "", &b));
    b[2].values[2] = Datum::Int(0);
    assert_eq!(shard_id(&t, "", &a), shard_id(&t, "", &b));
}

#[test]
fn write_then_read_meta_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let t = table();
    let meta = write_shard(dir.path(), "", &t, rows()).unwrap();
    assert_eq!(meta.id, shard_id(&t, "", &rows()));
    assert_eq!(meta.row_count, 4);
    let path = shard_path(dir.path(), &meta.id);
    assert_eq!(meta.byte_size, fs::metadata(&path).unwrap().len());
    let read = read_meta(&path).unwrap();
    assert_eq!(
        serde_json::to_value(&read).unwrap(),
        serde_json::to_value(&meta).unwrap()
    );

    let id = read.column("id").unwrap();
    assert_eq!(
        (id.min.clone(), id.max.clone()),
        (Some(Datum::Int(-7)), Some(Datum::Int(3)))
    );
    assert_eq!(id.null_count, 0);
    assert!(id.trigrams.is_none());
    let name = read.column("name").unwrap();
    assert_eq!(name.min, Some(Datum::Text("Zed".into())));
    assert_eq!(name.max, Some(Datum::Text("carol".into())));
    assert_eq!(name.null_count, 1);
    assert!(name.trigrams.is_some());
    let score = read.column("score").unwrap();
    assert_eq!(score.min, Some(Datum::Real(0.0)));
    assert_eq!(score.max, Some(Datum::Real(100.0)));
    // No leftover temporary files.
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn file_holds_rows_in_canonical_order() {
    let dir = tempfile::tempdir().unwrap();
    let meta = write_shard(dir.path(), "", &table(), rows()).unwrap();
    let conn = open_read_only(&shard_path(dir.path(), &meta.id)).unwrap();
    let got: Vec<(i64, i64, i64, Option<String>, f64)> = conn
        .prepare("SELECT _rid, _ver, id, name, score FROM data ORDER BY _rid")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    // Primary key encodings sort as big-endian two's complement: -7 last.
    assert_eq!(
        got,
        vec![
            (1, 11, 1, Some("alice".into()), 1.0),
            (2, 12, 2, None, 0.0),
            (3, 10, 3, Some("carol".into()), 2.5),
            (4, 13, -7, Some("Zed".into()), 100.0),
        ]
    );
    let indexes: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        indexes,
        vec!["_pk".to_string(), "people_name_idx".to_string()]
    );
    // Writes are refused: the file is immutable.
    assert!(conn.execute("DELETE FROM data", []).is_err());
}

#[test]
fn writing_twice_reuses_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let first = write_shard(dir.path(), "", &table(), rows()).unwrap();
    let path = shard_path(dir.path(), &first.id);
    let modified = fs::metadata(&path).unwrap().modified().unwrap();
    let mut again = rows();
    again.rotate_left(2);
    let second = write_shard(dir.path(), "", &table(), again).unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), modified);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn damaged_existing_file_is_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let id = shard_id(&table(), "", &rows());
    fs::write(shard_path(dir.path(), &id), b"not a database").unwrap();
    let meta = write_shard(dir.path(), "", &table(), rows()).unwrap();
    assert!(verify(&shard_path(dir.path(), &meta.id), &id).unwrap());
}

#[test]
fn verify_detects_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let meta = write_shard(dir.path(), "", &table(), rows()).unwrap();
    let path = shard_path(dir.path(), &meta.id);
    assert!(verify(&path, &meta.id).unwrap());
    assert!(!verify(&path, &ShardId("nope".into())).unwrap());

    let tamper = |sql: &str| {
        let copy = dir.path().join("copy.db");
        fs::copy(&path, &copy).unwrap();
        Connection::open(&copy).unwrap().execute_batch(sql).unwrap();
        verify(&copy, &meta.id).unwrap()
    };
    assert!(tamper("SELECT 1"), "an untouched copy verifies");
    assert!(!tamper("UPDATE data SET name = 'mallory' WHERE id = 1"));
    assert!(!tamper("UPDATE data SET score = 7 WHERE id = 1"));
    assert!(!tamper("DELETE FROM data WHERE id = 2"));
    assert!(!tamper("UPDATE data SET _rid = 10 WHERE _rid = 1"));
    assert!(!tamper(
        "UPDATE data SET id = 3 WHERE _rid = 1; UPDATE data SET id = 1 WHERE _rid = 3"
    ));
    assert!(!tamper("DROP TABLE _meta"));
    // Metadata that lies about the stats (would prune wrongly) is caught too.
    let mut lying = meta.clone();
    lying.columns[0].max = Some(Datum::Int(2));
    let json = serde_json::to_vec(&lying).unwrap();
    let copy = dir.path().join("copy.db");
    fs::copy(&path, &copy).unwrap();
    Connection::open(&copy)
        .unwrap()
        .execute("UPDATE _meta SET v = ?1 WHERE k = 'meta'", [&json])
        .unwrap();
    assert!(!verify(&copy, &meta.id).unwrap());
    assert!(verify(&dir.path().join("missing.db"), &meta.id).is_err());
}

#[test]
fn blooms_hold_every_value_and_are_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let mut many: Vec<Row> = (0..500)
        .map(|i| row(i, i * 3, Some(&format!("name-{i}")), i as f64 / 4.0))
        .collect();
    let ma = write_shard(a.path(), "", &table(), many.clone()).unwrap();
    many.reverse();
    let mb = write_shard(b.path(), "", &table(), many.clone()).unwrap();
    for (x, y) in ma.columns.iter().zip(&mb.columns) {
        assert_eq!(x.bloom, y.bloom, "{}", x.name);
        assert_eq!(x.trigrams, y.trigrams, "{}", x.name);
    }
    let t = table();
    let blooms: Vec<_> = ma
        .columns
        .iter()
        .map(|c| load_bloom(&c.bloom).unwrap())
        .collect();
    for r in &many {
        for (i, v) in r.values.iter().enumerate() {
            let enc = encode_value(t.columns[i].ty.storage(), v);
            assert!(blooms[i].check(&enc), "{v:?}");
        }
    }
    // An integer probed against the REAL column finds the stored real.
    assert!(blooms[2].check(&encode_value(Storage::Real, &Datum::Int(2))));
    let grams = load_bloom(ma.columns[1].trigrams.as_ref().unwrap()).unwrap();
    for g in trigrams("NAME-499") {
        assert!(grams.check(g.as_bytes()), "{g}");
    }
    let absent = (2000..2100)
        .filter(|i| blooms[0].check(&encode_value(Storage::Integer, &Datum::Int(*i))))
        .count();
    assert!(absent < 10, "{absent} false positives of 100");
}

#[test]
fn empty_shard_and_all_null_column() {
    let dir = tempfile::tempdir().unwrap();
    let meta = write_shard(dir.path(), "", &table(), vec![]).unwrap();
    assert_eq!(meta.row_count, 0);
    assert!(meta
        .columns
        .iter()
        .all(|c| c.min.is_none() && c.null_count == 0));
    assert!(verify(&shard_path(dir.path(), &meta.id), &meta.id).unwrap());
    let nulls = vec![row(1, 1, None, 0.0), row(2, 2, None, 0.0)];
    let meta = write_shard(dir.path(), "", &table(), nulls).unwrap();
    let name = meta.column("name").unwrap();
    assert_eq!((name.null_count, name.min.clone()), (2, None));
}

#[test]
fn mismatched_values_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = rows();
    bad[0].values[0] = Datum::Text("3".into());
    assert!(matches!(
        write_shard(dir.path(), "", &table(), bad),
        Err(Error::DatatypeMismatch(_))
    ));
    let mut short = rows();
    short[0].values.pop();
    assert!(write_shard(dir.path(), "", &table(), short).is_err());
}

#[test]
fn odd_directory_names_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("a b?c#d%e");
    fs::create_dir(&odd).unwrap();
    let meta = write_shard(&odd, "", &table(), rows()).unwrap();
    assert!(verify(&shard_path(&odd, &meta.id), &meta.id).unwrap());
}

#[test]
fn the_sealing_node_is_part_of_the_id() {
    let dir = tempfile::tempdir().unwrap();
    let t = table();
    let a = write_shard(dir.path(), "node-a", &t, rows()).unwrap();
    let b = write_shard(dir.path(), "node-b", &t, rows()).unwrap();
    assert_ne!(a.id, b.id, "equal rows sealed on two nodes are two shards");
    assert_eq!(a.id, shard_id(&t, "node-a", &rows()));
    assert_ne!(a.id, shard_id(&t, "", &rows()));
    assert_eq!(
        read_meta(&shard_path(dir.path(), &a.id)).unwrap().origin,
        "node-a"
    );
    assert!(verify(&shard_path(dir.path(), &a.id), &a.id).unwrap());
    // A file copied under another shard's name fails verification.
    let wrong = dir.path().join("copy.db");
    fs::copy(shard_path(dir.path(), &a.id), &wrong).unwrap();
    assert!(!verify(&wrong, &b.id).unwrap());
}

#[test]
fn verify_covers_the_vec0_tables_and_rtrees() {
    let mut t = table();
    t.columns[3].name = "v".into();
    t.columns[3].ty = PgType::Vector(Some(2));
    let mut g = t.columns[3].clone();
    g.name = "g".into();
    g.ty = PgType::Geometry(None);
    t.columns.push(g);
    t.indexes.clear();
    let point = |x: f64, y: f64| {
        let mut b = vec![1u8, 1, 0, 0, 0];
        b.extend_from_slice(&x.to_le_bytes());
        b.extend_from_slice(&y.to_le_bytes());
        Datum::Blob(b)
    };
    let vector = |x: f32, y: f32| Datum::Blob(crate::types::vector::to_blob(&[x, y]));
    let rows: Vec<Row> = (1..=3)
        .map(|i| Row {
            ver: i,
            values: vec![
                Datum::Int(i),
                Datum::Null,
                Datum::Real(0.0),
                vector(i as f32, 0.5),
                point(i as f64, 2.0),
            ],
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let meta = write_shard(dir.path(), "", &t, rows).unwrap();
    assert_eq!(meta.column("v").and_then(|c| c.vectors), Some(2));
    let path = shard_path(dir.path(), &meta.id);
    let tamper = |sql: &str| {
        let copy = dir.path().join("copy.db");
        fs::copy(&path, &copy).unwrap();
        let conn = Connection::open(&copy).unwrap();
        crate::store::udf::register(&conn).unwrap();
        conn.execute_batch(sql).unwrap();
        drop(conn);
        verify(&copy, &meta.id).unwrap()
    };
    assert!(tamper("SELECT 1"), "an untouched copy verifies");
    assert!(
        tamper("UPDATE _rtree_g SET minx = minx - 5 WHERE id = 1"),
        "a larger box still holds its row"
    );
    assert!(!tamper(
        "UPDATE _vec_v SET v = vec_f32('[9, 9]') WHERE rowid = 2"
    ));
    assert!(!tamper("DELETE FROM _vec_v WHERE rowid = 3"));
    assert!(!tamper(
        "INSERT INTO _vec_v(rowid, v) VALUES (9, vec_f32('[1, 1]'))"
    ));
    assert!(!tamper(
        "UPDATE _rtree_g SET minx = minx + 0.5, maxx = maxx + 0.5 WHERE id = 1"
    ));
    assert!(!tamper("DELETE FROM _rtree_g WHERE id = 2"));
    assert!(!tamper("INSERT INTO _rtree_g VALUES (7, 0, 1, 0, 1)"));
}

/// A shard's source reads the same live rows whether its tombstones are
/// gathered into a set or looked up row by row, over all of it and
/// through its primary key.
#[test]
fn tombstones_skip_the_same_rows_gathered_or_probed_per_row() {
    let dir = tempfile::tempdir().unwrap();
    let t = table();
    let meta = write_shard(dir.path(), "", &t, rows()).unwrap();
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(crate::store::segment::TOMBSTONES)
        .unwrap();
    conn.execute(
        &format!(
            "ATTACH DATABASE ?1 AS {}",
            quote(&crate::types::shard::attach_name(&meta.id))
        ),
        [shard_path(dir.path(), &meta.id).to_str().unwrap()],
    )
    .unwrap();
    // Tombstone the rows of ids 1 and 3, whatever their row keys are.
    let plain = source(&t, &meta, 0, true).unwrap();
    conn.execute(
        &format!(
            "INSERT INTO _mosaic_tombstones SELECT ?1, _rid FROM ({plain}) WHERE id IN (1, 3)"
        ),
        [&meta.id.0],
    )
    .unwrap();
    let gathered = source(&t, &meta, 2, true).unwrap();
    let per_row = crate::types::shard::probe_per_row(&gathered, &meta.id.0);
    assert_ne!(gathered, per_row, "the tombstone clause was not rewritten");
    assert!(per_row.contains("NOT EXISTS"), "{per_row}");
    let ids = |src: &str, filter: &str| -> Vec<i64> {
        let mut st = conn
            .prepare(&format!("SELECT id FROM ({src}) {filter} ORDER BY id"))
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    for filter in ["", "WHERE id = 1", "WHERE id = 2", "WHERE id IN (-7, 3)"] {
        assert_eq!(ids(&gathered, filter), ids(&per_row, filter), "{filter}");
    }
    assert_eq!(ids(&per_row, ""), vec![-7, 2]);
    // A source without tombstones has no clause to rewrite.
    assert_eq!(
        crate::types::shard::probe_per_row(&plain, &meta.id.0),
        plain
    );
}
