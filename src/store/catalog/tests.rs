use super::*;
use crate::types::table::Column;
use crate::types::PgType;

fn def(name: &str) -> TableDef {
    TableDef {
        name: name.into(),
        oid: 1,
        columns: vec![Column {
            name: "a".into(),
            ty: PgType::Int4,
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
        }],
        primary_key: vec![],
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

/// A block whose SQLite commit happened but whose publication did not
/// (a crash in between) is published at the next start; one that never
/// committed leaves nothing.
#[test]
fn the_journal_publishes_committed_ddl_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let segments = Connection::open(dir.path().join("segments.db")).unwrap();
    init_journal(&segments).unwrap();
    {
        let catalog = Catalog::open(&dir.path().join("catalog.db")).unwrap();
        catalog.put_table(def("dropped"), 5).unwrap();
        segments.execute_batch("BEGIN").unwrap();
        catalog
            .journal_on(
                &segments,
                "made",
                Object::Table(Some(Arc::new(def("made")))),
                10,
            )
            .unwrap();
        catalog
            .journal_on(&segments, "dropped", Object::Table(None), 11)
            .unwrap();
        catalog
            .journal_on(
                &segments,
                "app",
                Object::Role(Some(Arc::new(Role::new("app", true)))),
                12,
            )
            .unwrap();
        segments.execute_batch("COMMIT").unwrap();
        segments.execute_batch("BEGIN").unwrap();
        catalog
            .journal_on(
                &segments,
                "never",
                Object::Table(Some(Arc::new(def("never")))),
                13,
            )
            .unwrap();
        segments.execute_batch("ROLLBACK").unwrap();
    }
    let catalog = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    assert!(catalog.table("made").is_none());
    catalog.replay_journal(&segments).unwrap();
    assert!(catalog.table("made").is_some());
    assert!(catalog.table("dropped").is_none());
    assert!(catalog.table("never").is_none());
    assert!(
        catalog.role("app").is_some(),
        "a committed role change is published"
    );
    let left: i64 = segments
        .query_row("SELECT count(*) FROM _mosaic_ddl", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
    // Replaying an older change after a newer one does nothing.
    catalog.put_table(def("made"), 20).unwrap();
    catalog
        .publish(&[Change {
            seq: 1,
            name: "made".into(),
            object: Object::Table(None),
            hlc: 10,
        }])
        .unwrap();
    assert!(catalog.table("made").is_some());
}

#[test]
fn staged_definitions_are_seen_through_their_view_only() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Arc::new(Catalog::open(&dir.path().join("catalog.db")).unwrap());
    catalog.put_table(def("old"), 1).unwrap();
    let staged: Staged = [
        ("new".to_string(), Some(Arc::new(def("new")))),
        ("old".to_string(), None),
    ]
    .into_iter()
    .collect();
    let view = catalog.view(&staged);
    assert!(view.table("new").is_some());
    assert!(view.table("old").is_none());
    assert_eq!(view.tables().len(), 1);
    assert!(catalog.table("new").is_none());
    assert!(catalog.table("old").is_some());
    let none = Staged::new();
    assert!(catalog.view(&none).table("old").is_some());
}

/// The built-in types that are extensions' in PostgreSQL have oids above
/// 16383, in a range no object id is ever given.
#[test]
fn object_ids_step_over_the_reserved_type_oids() {
    use crate::types::builtin::RESERVED_OIDS;
    for oid in [
        crate::types::vector::OID,
        crate::types::vector::ARRAY_OID,
        crate::types::geometry::OID,
        crate::types::geometry::ARRAY_OID,
    ] {
        assert!(
            oid >= 16384 && RESERVED_OIDS.contains(&i64::from(oid)),
            "{oid}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    // The counter just below the range: the next id is past it.
    let below = *RESERVED_OIDS.start() - 16384 - 1;
    catalog
        .db
        .lock()
        .execute(
            "INSERT OR REPLACE INTO meta(k, v) VALUES ('oid_counter', ?1)",
            [below.to_string()],
        )
        .unwrap();
    assert_eq!(
        i64::from(catalog.next_oid(None).unwrap()),
        *RESERVED_OIDS.start() - 1
    );
    assert_eq!(
        i64::from(catalog.next_oid(None).unwrap()),
        *RESERVED_OIDS.end() + 1
    );
    // Three nodes counting in their residue classes skip it too.
    assert!(!RESERVED_OIDS.contains(&i64::from(catalog.next_oid(Some((2, 3))).unwrap())));
}
