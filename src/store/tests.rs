//! Tests of the store as a whole: orphan tombstones, concurrent catalog
//! versions.

use super::*;

/// A store in `dir` sealing shards of ten rows and keeping no results.
pub(super) fn open_small(dir: &Path) -> Arc<Store> {
    let options = StoreOptions {
        shard_max_rows: 10,
        result_cache_bytes: 0,
        vector_cache_bytes: 0,
        clock_skew_ms: 0,
        unsealed_copies: true,
    };
    Store::open(dir, options, None).unwrap()
}

#[test]
fn tombstones_of_shards_nobody_holds_go_at_the_second_look() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_small(dir.path());
    store
        .with_writer(|w| {
            w.execute_batch(
                "INSERT INTO _mosaic_tombstones VALUES ('gone', 1), ('gone', 2), ('elsewhere', 1)",
            )
            .map_err(Error::from)
        })
        .unwrap();
    let known: std::collections::HashSet<String> = ["elsewhere".to_string()].into();
    assert_eq!(
        store.forget_orphan_tombstones(&known).unwrap(),
        0,
        "first look"
    );
    assert_eq!(
        store.forget_orphan_tombstones(&known).unwrap(),
        1,
        "second look"
    );
    let left: Vec<String> = store
        .with_writer(|w| {
            w.prepare("SELECT DISTINCT shard_id FROM _mosaic_tombstones")
                .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                .map_err(Error::from)
        })
        .unwrap();
    assert_eq!(left, vec!["elsewhere".to_string()]);
}

/// Versions of one table arriving together (a peer's push and a
/// gossip pull) must leave the newest, whichever finishes last.
#[test]
fn the_newest_of_concurrent_versions_stays() {
    use crate::types::table::Column;
    use crate::types::PgType;
    let dir = tempfile::tempdir().unwrap();
    let store = open_small(dir.path());
    let version = |columns: usize, hlc: i64| Entry::Table {
        name: "t".into(),
        def: Some(Box::new(TableDef {
            name: "t".into(),
            columns: (0..columns)
                .map(|i| Column::new(format!("c{i}"), PgType::Int8, false))
                .collect(),
            ..Default::default()
        })),
        hlc,
    };
    for round in 0..40 {
        let base = 1000 * (round + 1);
        let (older, newer) = (version(2, base + 1), version(3, base + 2));
        std::thread::scope(|s| {
            s.spawn(|| store.apply_entry(&older).unwrap());
            s.spawn(|| store.apply_entry(&newer).unwrap());
        });
        let def = store.catalog.table("t").unwrap();
        assert_eq!(def.columns.len(), 3, "round {round}: an older version won");
        assert_eq!(store.catalog.hlc_of(&newer).unwrap(), base + 2);
    }
}

/// A rename made on another node arrives as two entries, the new name's
/// definition (the same oid) and the old name's drop, in either order:
/// the table's rows here, sealed and not, follow it to the new name.
#[test]
fn a_rename_from_elsewhere_moves_the_rows_in_either_order() {
    use crate::types::table::Column;
    use crate::types::PgType;
    for drop_first in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let store = open_small(dir.path());
        let def = TableDef {
            name: "t".into(),
            oid: 20000,
            columns: vec![Column::new("c0", PgType::Int8, false)],
            ..Default::default()
        };
        let created = store.hlc.now();
        let entry = |name: &str, def: Option<TableDef>, hlc| Entry::Table {
            name: name.into(),
            def: def.map(Box::new),
            hlc,
        };
        assert!(store
            .apply_entry(&entry("t", Some(def.clone()), created))
            .unwrap());
        let insert = |from: i64, to: i64| {
            store
                .with_writer(|w| {
                    w.execute_batch(&format!(
                        "WITH RECURSIVE g(x) AS (SELECT {from} UNION ALL SELECT x + 1 FROM g WHERE x < {to})
                         INSERT INTO t(c0) SELECT x FROM g"
                    ))
                    .map_err(Error::from)
                })
                .unwrap()
        };
        insert(1, 15);
        assert_eq!(store.seal("t").unwrap().len(), 2);
        insert(16, 18);
        let renamed_at = store.hlc.now();
        let mut entries = vec![
            entry(
                "u",
                Some(TableDef {
                    name: "u".into(),
                    ..def.clone()
                }),
                renamed_at,
            ),
            entry("t", None, renamed_at),
        ];
        if drop_first {
            entries.reverse();
        }
        for e in &entries {
            store.apply_entry(e).unwrap();
        }
        assert!(
            store.catalog.table("t").is_none(),
            "drop first: {drop_first}"
        );
        assert_eq!(store.catalog.table("u").unwrap().oid, 20000);
        let (sealed, open, left) = store
            .with_writer(|w| {
                let sealed = segment::live_shards(w, Some("u"))?.len();
                Ok((
                    sealed,
                    segment::count_rows(w, "u")?,
                    segment::live_shards(w, Some("t"))?.len(),
                ))
            })
            .unwrap();
        assert_eq!((sealed, open, left), (2, 3, 0), "drop first: {drop_first}");
        let rows: u64 = (store
            .with_writer(|w| segment::live_shards(w, Some("u")))
            .unwrap())
        .iter()
        .map(|s| store.meta(&s.id).unwrap().row_count)
        .sum();
        assert_eq!(rows, 15, "drop first: {drop_first}");
        assert_eq!(
            store.take_renamed(),
            vec![("t".to_string(), "u".to_string())]
        );
    }
}
