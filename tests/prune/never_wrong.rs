//! Pruning is never wrong: whenever `prune` says Prune, the predicate,
//! evaluated by SQLite over the shard's rows, matches no row.

use proptest::prelude::*;
use rusqlite::params_from_iter;

use super::*;
use mosaic::store::shard::{open_read_only, shard_path};

#[derive(Debug, Clone)]
enum Pred {
    /// column, operator, constant (SQL text, same in both dialects)
    Cmp(&'static str, &'static str, String),
    In(&'static str, Vec<String>),
    Between(&'static str, String, String, bool),
    IsNull(&'static str, bool),
    /// column, pattern, ilike, negated
    Like(&'static str, String, bool, bool),
    /// `id = $1` with the parameter's value
    Param(i64),
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
    Not(Box<Pred>),
}

impl Pred {
    fn pg(&self) -> String {
        match self {
            Pred::Cmp(c, op, v) => format!("{c} {op} {v}"),
            Pred::In(c, vs) => format!("{c} IN ({})", vs.join(", ")),
            Pred::Between(c, a, b, neg) => {
                format!("{c} {}BETWEEN {a} AND {b}", if *neg { "NOT " } else { "" })
            }
            Pred::IsNull(c, neg) => format!("{c} IS {}NULL", if *neg { "NOT " } else { "" }),
            Pred::Like(c, p, ilike, neg) => format!(
                "{c} {}{} '{p}'",
                if *neg { "NOT " } else { "" },
                if *ilike { "ILIKE" } else { "LIKE" }
            ),
            Pred::Param(_) => "id = $1".into(),
            Pred::And(a, b) => format!("({}) AND ({})", a.pg(), b.pg()),
            Pred::Or(a, b) => format!("({}) OR ({})", a.pg(), b.pg()),
            Pred::Not(a) => format!("NOT ({})", a.pg()),
        }
    }

    /// The same predicate in SQLite, with PostgreSQL's LIKE semantics
    /// (the connection runs with `case_sensitive_like`).
    fn sqlite(&self) -> String {
        match self {
            Pred::Like(c, p, ilike, neg) => {
                let not = if *neg { "NOT " } else { "" };
                if *ilike {
                    format!("lower({c}) {not}LIKE lower('{p}') ESCAPE '\\'")
                } else {
                    format!("{c} {not}LIKE '{p}' ESCAPE '\\'")
                }
            }
            Pred::Param(_) => "id = ?1".into(),
            Pred::And(a, b) => format!("({}) AND ({})", a.sqlite(), b.sqlite()),
            Pred::Or(a, b) => format!("({}) OR ({})", a.sqlite(), b.sqlite()),
            Pred::Not(a) => format!("NOT ({})", a.sqlite()),
            other => other.pg(),
        }
    }

    fn params(&self) -> Vec<Datum> {
        match self {
            Pred::Param(v) => vec![Datum::Int(*v)],
            Pred::And(a, b) | Pred::Or(a, b) => {
                let mut p = a.params();
                if p.is_empty() {
                    p = b.params();
                }
                p
            }
            Pred::Not(a) => a.params(),
            _ => vec![],
        }
    }
}

fn num() -> impl Strategy<Value = String> {
    prop_oneof![
        (-12i64..12).prop_map(|i| i.to_string()),
        (-12i64..12).prop_map(|i| format!("'{i}'")),
        (-24i64..24).prop_map(|i| format!("{}", i as f64 / 2.0)),
        (-12i64..12).prop_map(|i| format!("{i}::bigint")),
        Just("NULL".to_string()),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[abAB_x]{0,5}".prop_map(|s| format!("'{s}'")),
        Just("NULL".to_string()),
    ]
}

fn pattern() -> impl Strategy<Value = String> {
    "[abAB_%x\\\\]{0,6}"
}

fn numeric_col() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("id"), Just("score"), Just("extra")]
}

fn text_col() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("name"), Just("note")]
}

fn op() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("="),
        Just("<>"),
        Just("<"),
        Just("<="),
        Just(">"),
        Just(">=")
    ]
}

fn leaf() -> impl Strategy<Value = Pred> {
    prop_oneof![
        (numeric_col(), op(), num()).prop_map(|(c, o, v)| Pred::Cmp(c, o, v)),
        (text_col(), op(), text()).prop_map(|(c, o, v)| Pred::Cmp(c, o, v)),
        (numeric_col(), prop::collection::vec(num(), 1..4)).prop_map(|(c, v)| Pred::In(c, v)),
        (text_col(), prop::collection::vec(text(), 1..4)).prop_map(|(c, v)| Pred::In(c, v)),
        (numeric_col(), num(), num(), any::<bool>())
            .prop_map(|(c, a, b, n)| Pred::Between(c, a, b, n)),
        (prop_oneof![numeric_col(), text_col()], any::<bool>())
            .prop_map(|(c, n)| Pred::IsNull(c, n)),
        (
            text_col(),
            pattern(),
            any::<bool>(),
            prop::bool::weighted(0.2)
        )
            .prop_map(|(c, p, i, n)| Pred::Like(c, p, i, n)),
        (-12i64..12).prop_map(Pred::Param),
    ]
}

fn pred() -> impl Strategy<Value = Pred> {
    leaf().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Pred::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Pred::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Pred::Not(Box::new(a))),
        ]
    })
}

type RowSpec = (Option<i64>, Option<String>, Option<i64>);

fn rows() -> impl Strategy<Value = Vec<RowSpec>> {
    prop::collection::vec(
        (
            prop::option::weighted(0.9, -10i64..10),
            prop::option::weighted(0.9, "[abAB_x]{0,5}"),
            prop::option::weighted(0.9, -20i64..20),
        ),
        1..10,
    )
}

fn sealed() -> TableDef {
    TableDef {
        name: "t".into(),
        oid: 1,
        columns: vec![
            col("id", PgType::Int8, None),
            col("name", PgType::Text, None),
            col("score", PgType::Float8, None),
        ],
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

fn current() -> TableDef {
    let mut t = sealed();
    t.columns.push(col("extra", PgType::Int4, Some("3")));
    t.columns.push(col("note", PgType::Text, None));
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn prune_is_never_wrong(rows in rows(), preds in prop::collection::vec(pred(), 1..8)) {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<Row> = rows
            .into_iter()
            .enumerate()
            .map(|(i, (id, name, score))| Row {
                ver: i as i64,
                values: vec![
                    id.map_or(Datum::Null, Datum::Int),
                    name.map_or(Datum::Null, Datum::Text),
                    score.map_or(Datum::Null, |s| Datum::Real(s as f64 / 2.0)),
                ],
            })
            .collect();
        let meta = write_shard(dir.path(), "", &sealed(), rows).unwrap();
        let conn = open_read_only(&shard_path(dir.path(), &meta.id)).unwrap();
        conn.execute_batch("PRAGMA case_sensitive_like = ON").unwrap();
        let table = current();
        let resolve = resolver(&table);
        for p in preds {
            let params = p.params();
            let verdict = prune(&meta, &table, &parse(&p.pg()), &resolve, &params);
            let Verdict::Prune(reason) = verdict else { continue };
            let sql = format!(
                "SELECT count(*) FROM (SELECT id, name, score, CAST(3 AS INTEGER) AS extra, \
                 CAST(NULL AS TEXT) AS note FROM data) \
                 WHERE {}",
                p.sqlite()
            );
            // A pattern SQLite rejects (a trailing escape) matches nothing.
            let Ok(n) = conn.query_row(&sql, params_from_iter(params.iter()), |r| r.get::<_, i64>(0))
            else { continue };
            prop_assert_eq!(n, 0, "{} pruned ({}) but {} rows match", p.pg(), reason, n);
        }
    }
}
