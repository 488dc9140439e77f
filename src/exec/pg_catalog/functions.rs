//! The catalog rows of SQL functions (CREATE FUNCTION): pg_proc.

use super::objects::namespace_oid;
use super::rows::{b, i, row, t};
use crate::exec::Session;
use crate::types::function::Returns;
use crate::types::table::TableDef;
use crate::types::{Datum, PgType};

type Rows = Vec<Vec<Datum>>;

/// pg_language.oid of `sql`.
const SQL_LANGUAGE: i64 = 14;
/// pg_type.oid of `record`.
const RECORD: i64 = 2249;

pub(super) fn proc_rows(sess: &Session, def: &TableDef) -> Rows {
    let roles = super::role_oids(&sess.store).unwrap_or_default();
    let domains = sess.catalog().domain_types();
    // A domain's oid where the argument or result is of one.
    let oid_of = |ty: &PgType, domain: &Option<String>| {
        let d = domain
            .as_ref()
            .and_then(|n| domains.iter().find(|d| d.name == *n));
        d.map_or(i64::from(ty.oid()), |d| i64::from(d.oid))
    };
    let mut out = Vec::new();
    for rel in sess.catalog().objects() {
        let Some(f) = rel.function() else {
            continue;
        };
        let ret = match &f.returns {
            Returns::Scalar(t) => oid_of(t, &f.returns_domain),
            Returns::SetOf(t) => i64::from(t.oid()),
            Returns::Table(_) => RECORD,
        };
        let types: Vec<String> = (f.args.iter())
            .map(|a| oid_of(&a.ty, &a.domain).to_string())
            .collect();
        let names: Vec<Option<String>> = f
            .args
            .iter()
            .map(|a| Some(a.name.clone().unwrap_or_default()))
            .collect();
        let named = f.args.iter().any(|a| a.name.is_some());
        out.push(row(
            def,
            vec![
                ("oid", i(rel.oid)),
                ("proname", t(crate::types::schema::split(&f.name).1)),
                (
                    "pronamespace",
                    i(namespace_oid(crate::types::schema::split(&f.name).0)),
                ),
                ("proowner", i(super::roles::owner_oid(&roles, &rel))),
                ("prolang", i(SQL_LANGUAGE)),
                ("prokind", t("f")),
                ("prorettype", i(ret)),
                ("proargtypes", t(types.join(" "))),
                ("proretset", b(f.returns_set())),
                ("prosrc", t(f.body.clone())),
                ("provolatile", t(f.volatility.to_string())),
                ("proisstrict", b(f.strict)),
                ("pronargs", i(f.args.len() as i64)),
                (
                    "proargnames",
                    match named {
                        true => PgType::Array(Box::new(PgType::Text))
                            .parse_text(&crate::types::array::format_array(&names))
                            .unwrap_or(Datum::Null),
                        false => Datum::Null,
                    },
                ),
            ],
        ));
    }
    out
}
