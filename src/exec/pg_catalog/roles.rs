//! The roles' catalogs (`pg_roles`, `pg_user`, `pg_auth_members`) and
//! what `pg_class` says of a relation's owner and access list.

use super::relations::Rows;
use super::rows::{b, i, row, t};
use super::{derived_oid, oids_of};
use crate::error::Result;
use crate::exec::Session;
use crate::types::table::TableDef;
use crate::types::Datum;

pub(super) fn roles(sess: &Session, def: &TableDef) -> Result<Rows> {
    Ok(oids_of(sess.roles())
        .into_iter()
        .map(|(oid, r)| {
            let password = if r.verifier.is_some() {
                t("********")
            } else {
                Datum::Null
            };
            row(
                def,
                vec![
                    ("rolname", t(r.name.clone())),
                    ("usename", t(r.name)),
                    ("rolsuper", b(r.superuser)),
                    ("usesuper", b(r.superuser)),
                    ("rolinherit", b(r.inherit)),
                    ("rolcreaterole", b(r.create_role)),
                    ("rolcreatedb", b(r.create_db)),
                    ("usecreatedb", b(r.create_db)),
                    ("rolcanlogin", b(r.login)),
                    ("rolreplication", b(r.replication)),
                    ("userepl", b(r.replication)),
                    ("rolbypassrls", b(r.bypass_rls)),
                    ("usebypassrls", b(r.bypass_rls)),
                    ("rolconnlimit", i(r.connection_limit)),
                    ("rolpassword", password.clone()),
                    ("passwd", password),
                    ("oid", i(oid)),
                    ("usesysid", i(oid)),
                ],
            )
        })
        .collect())
}

/// pg_auth_members: one row per membership of a role in another.
pub(super) fn auth_members(sess: &Session, def: &TableDef) -> Result<Rows> {
    let oids = oids_of(sess.roles());
    let oid_of = |name: &str| {
        oids.iter()
            .find(|(_, r)| r.name == name)
            .map_or(Datum::Null, |(o, _)| i(*o))
    };
    let mut out = Vec::new();
    for (member, r) in &oids {
        for m in &r.member_of {
            out.push(row(
                def,
                vec![
                    (
                        "oid",
                        i(derived_oid("membership", &format!("{}/{}", r.name, m.role))),
                    ),
                    ("roleid", oid_of(&m.role)),
                    ("member", i(*member)),
                    ("grantor", oid_of(&m.grantor)),
                    ("admin_option", b(m.admin)),
                ],
            ));
        }
    }
    Ok(out)
}

/// The oid of the role that owns a relation, among the roles' `oids`
/// (see `oids_of`).
pub(super) fn owner_oid(oids: &[(i64, crate::store::catalog::Role)], rel: &TableDef) -> i64 {
    match &rel.access.owner {
        None => super::objects::OWNER_OID,
        Some(name) => oids
            .iter()
            .find_map(|(oid, r)| (r.name == *name).then_some(*oid))
            .unwrap_or(0),
    }
}

/// `relacl`: NULL for the default list, else its items as text.
pub(super) fn acl_datum(rel: &TableDef) -> Datum {
    match &rel.access.acl {
        None => Datum::Null,
        Some(items) => {
            let texts: Vec<Option<String>> = items.iter().map(|i| Some(i.to_text())).collect();
            t(crate::types::array::format_array(&texts))
        }
    }
}
