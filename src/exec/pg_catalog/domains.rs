//! The catalog rows of domains: pg_type (the domain, typtype `d`, and its
//! array type) and pg_constraint (each CHECK, `contypid` the domain's).

use super::objects::{derived_oid, namespace_oid};
use super::rows::{array_type_row, b, builtin, check_bin, i, row, storage, t, typmod, ArrayType};
use crate::exec::Session;
use crate::types::domain::DomainType;
use crate::types::table::TableDef;
use crate::types::Datum;

type Rows = Vec<Vec<Datum>>;

pub(super) fn type_rows(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    let roles = super::oids_of(sess.roles());
    let objects = sess.catalog().objects();
    let domains = objects
        .iter()
        .filter_map(|o| o.domain_type().map(|d| (o, d)));
    for (object, d) in domains {
        let owner = super::roles::owner_oid(&roles, object);
        let (schema, name) = crate::types::schema::split(&d.name);
        let base = d.base.oid();
        let bt = builtin(base);
        let len = bt.map_or(-1, |x| x.len);
        let fixed = len > 0;
        out.push(row(
            def,
            vec![
                ("oid", i(d.oid)),
                ("typname", t(name)),
                ("typnamespace", i(namespace_oid(schema))),
                ("typowner", i(owner)),
                ("typlen", i(len)),
                ("typbyval", b(fixed && len <= 8)),
                ("typtype", t("d")),
                ("typcategory", t(bt.map_or("U", |x| x.category))),
                ("typisdefined", b(true)),
                ("typdelim", t(",")),
                ("typarray", i(d.array_oid)),
                ("typinput", t("domain_in")),
                (
                    "typoutput",
                    t(bt.map_or("textout".into(), |x| format!("{}out", x.name))),
                ),
                ("typreceive", t("domain_recv")),
                (
                    "typsend",
                    t(bt.map_or("textsend".into(), |x| format!("{}send", x.name))),
                ),
                ("typalign", t(if fixed && len < 4 { "c" } else { "i" })),
                ("typstorage", t(storage(i64::from(base), len))),
                ("typnotnull", b(d.not_null)),
                ("typbasetype", i(base)),
                ("typtypmod", i(typmod(&d.base))),
                ("typcollation", i(bt.map_or(0, |x| x.collation))),
                (
                    "typdefault",
                    d.default.clone().map_or(Datum::Null, Datum::Text),
                ),
            ],
        ));
        out.push(array_type_row(
            def,
            ArrayType {
                oid: i64::from(d.array_oid),
                elem: i64::from(d.oid),
                name,
                namespace: namespace_oid(schema),
                owner,
                collation: 0,
            },
        ));
    }
    out
}

/// A domain's CHECK constraints: (oid, name, definition, validated).
pub(crate) fn checks(d: &DomainType) -> Vec<(i64, String, String, bool)> {
    d.checks
        .iter()
        .map(|c| {
            let mut text = format!("CHECK ({})", c.expr);
            if c.not_valid {
                text.push_str(" NOT VALID");
            }
            let oid = derived_oid("domain constraint", &format!("{}.{}", d.oid, c.name));
            (oid, c.name.clone(), text, !c.not_valid)
        })
        .collect()
}

pub(super) fn constraint_rows(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    for d in sess.catalog().domain_types() {
        for (oid, name, text, validated) in checks(&d) {
            let bin = check_bin(&text);
            out.push(row(
                def,
                vec![
                    ("oid", i(oid)),
                    ("conname", t(name)),
                    (
                        "connamespace",
                        i(namespace_oid(crate::types::schema::split(&d.name).0)),
                    ),
                    ("contype", t("c")),
                    ("convalidated", b(validated)),
                    ("conrelid", i(0)),
                    ("contypid", i(d.oid)),
                    ("conindid", i(0)),
                    ("confupdtype", t(" ")),
                    ("confdeltype", t(" ")),
                    ("confmatchtype", t(" ")),
                    ("conislocal", b(true)),
                    ("connoinherit", b(false)),
                    ("conbin", t(bin)),
                ],
            ));
        }
    }
    out
}
