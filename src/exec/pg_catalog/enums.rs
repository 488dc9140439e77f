//! The catalog rows of enum types: pg_type (the type, typtype `e`, and
//! its array type) and pg_enum (one row per label).

use super::objects::{derived_oid, namespace_oid, OWNER_OID};
use super::rows::{array_type_row, b, i, row, t, ArrayType};
use crate::exec::Session;
use crate::types::table::TableDef;
use crate::types::Datum;

type Rows = Vec<Vec<Datum>>;

pub(super) fn type_rows(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    for e in sess.catalog().enum_types() {
        let (schema, name) = crate::types::schema::split(&e.name);
        out.push(row(
            def,
            vec![
                ("oid", i(e.oid)),
                ("typname", t(name)),
                ("typnamespace", i(namespace_oid(schema))),
                ("typowner", i(OWNER_OID)),
                ("typlen", i(4)),
                ("typbyval", b(true)),
                ("typtype", t("e")),
                ("typcategory", t("E")),
                ("typispreferred", b(false)),
                ("typisdefined", b(true)),
                ("typdelim", t(",")),
                ("typrelid", i(0)),
                ("typelem", i(0)),
                ("typarray", i(e.array_oid)),
                ("typinput", t("enum_in")),
                ("typoutput", t("enum_out")),
                ("typreceive", t("enum_recv")),
                ("typsend", t("enum_send")),
                ("typalign", t("i")),
                ("typstorage", t("p")),
                ("typnotnull", b(false)),
                ("typbasetype", i(0)),
                ("typtypmod", i(-1)),
                ("typndims", i(0)),
                ("typcollation", i(0)),
            ],
        ));
        out.push(array_type_row(
            def,
            ArrayType {
                oid: i64::from(e.array_oid),
                elem: i64::from(e.oid),
                name,
                namespace: namespace_oid(schema),
                owner: OWNER_OID,
                collation: 0,
            },
        ));
    }
    out
}

pub(super) fn enum_rows(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    for e in sess.catalog().enum_types() {
        for (label, order) in e.labels.iter().zip(e.sort_orders()) {
            out.push(row(
                def,
                vec![
                    ("oid", i(derived_oid("enum", &format!("{}.{label}", e.oid)))),
                    ("enumtypid", i(e.oid)),
                    ("enumsortorder", Datum::Real(order as f64)),
                    ("enumlabel", t(label.clone())),
                ],
            ));
        }
    }
    out
}
