//! GRANT and REVOKE of privileges on relations, and OWNER TO: changes of
//! a relation's definition (its `access`), transactional and spread like
//! any other DDL. As in PostgreSQL, a grant by the owner or a superuser is
//! recorded as granted by the owner.

use sqlparser::ast::{
    Action, GrantObjects, Grantee, GranteeName, GranteesType, ObjectName, ObjectType, Privileges,
    Statement,
};

use super::record;
use crate::error::{Error, Result};
use crate::exec::privileges::{all_privileges, noun};
use crate::exec::{Outcome, Session};
use crate::sql::object_name;
use crate::types::acl;
use crate::types::table::{RelKind, TableDef};

/// GRANT or REVOKE of privileges on relations.
pub(super) fn statement(sess: &mut Session, stmt: &Statement) -> Result<Outcome> {
    match stmt {
        Statement::Grant(g) if g.with_grant_option => {
            Err(Error::Unsupported("WITH GRANT OPTION".into()))
        }
        Statement::Grant(g) => run(sess, true, &g.privileges, g.objects.as_ref(), &g.grantees),
        Statement::Revoke(r) if r.grant_option_for => {
            Err(Error::Unsupported("REVOKE GRANT OPTION FOR".into()))
        }
        Statement::Revoke(r) => run(sess, false, &r.privileges, r.objects.as_ref(), &r.grantees),
        _ => Err(Error::Internal("not a GRANT or REVOKE".into())),
    }
}

/// GRANT (`grant` true) or REVOKE of `privileges` on `objects`.
fn run(
    sess: &mut Session,
    grant: bool,
    privileges: &Privileges,
    objects: Option<&GrantObjects>,
    grantees: &[Grantee],
) -> Result<Outcome> {
    let (defs, kind) = relations(sess, objects)?;
    let grantees = grantees
        .iter()
        .map(|g| grantee(sess, g))
        .collect::<Result<Vec<_>>>()?;
    for def in defs {
        let all = all_privileges(&def);
        let privs = match privileges {
            Privileges::All { .. } => all,
            Privileges::Actions(actions) => {
                let mut p = 0;
                for a in actions {
                    p |= action(a)?;
                }
                acl::check_applicable(p, all, kind)?;
                p
            }
        };
        if !sess.acts_as(&sess.owner_of(&def.access)) {
            return Err(acl::denied(
                noun(&def),
                crate::exec::privileges::label(&def),
            ));
        }
        let owner = sess.owner_of(&def.access);
        let mut new = (*def).clone();
        for g in &grantees {
            if grant {
                new.access.grant(&owner, all, g, &owner, privs);
            } else {
                new.access.revoke(&owner, all, g, &owner, privs);
            }
        }
        if new != *def {
            record(sess, &def.name, Some(new))?;
        }
    }
    Ok(Outcome::Command(
        if grant { "GRANT" } else { "REVOKE" }.into(),
    ))
}

/// The relations named, with the noun PostgreSQL's "invalid privilege
/// type" message gives their kind.
fn relations(
    sess: &Session,
    objects: Option<&GrantObjects>,
) -> Result<(Vec<std::sync::Arc<TableDef>>, &'static str)> {
    let named = |names: &[ObjectName], want: Option<&str>| -> Result<Vec<_>> {
        names
            .iter()
            .map(|n| {
                let name = object_name(n);
                let bare = name.strip_prefix("public.").unwrap_or(&name).to_string();
                let def = sess
                    .catalog()
                    .relation(&bare)
                    .ok_or_else(|| Error::NoSuchTable(bare.clone()))?;
                if let (Some(what), false) = (want, def.sequence().is_some()) {
                    return Err(Error::WrongObjectType(format!(
                        "\"{bare}\" is not a {what}"
                    )));
                }
                Ok(def)
            })
            .collect()
    };
    match objects {
        Some(GrantObjects::Tables(names)) => Ok((named(names, None)?, "table")),
        Some(GrantObjects::Sequences(names)) => Ok((named(names, Some("sequence"))?, "sequence")),
        Some(GrantObjects::AllTablesInSchema { schemas }) => {
            let mut names = Vec::new();
            for s in schemas {
                let s = object_name(s);
                if s != "public" && sess.catalog().schema(&s).is_none() {
                    return Err(Error::NoSuchSchema(s));
                }
                names.push(s);
            }
            let mut defs: Vec<_> = sess
                .catalog()
                .relations()
                .into_iter()
                .filter(|d| !d.is_temp() && !matches!(d.kind, RelKind::Sequence(_)))
                .filter(|d| names.iter().any(|s| s == d.schema_name()))
                .collect();
            defs.sort_by(|a, b| a.name.cmp(&b.name));
            Ok((defs, "table"))
        }
        Some(GrantObjects::Schemas(names)) => {
            let defs = names
                .iter()
                .map(|n| {
                    let name = object_name(n);
                    let def = crate::exec::pg_catalog::schema_def(
                        &sess.catalog(),
                        &name,
                        &sess.bootstrap_role(),
                    );
                    match def {
                        // Of the built-in schemas only public changes.
                        _ if crate::types::schema::fixed(&name) => Err(Error::Unsupported(
                            format!("GRANT or REVOKE ON SCHEMA {name}"),
                        )),
                        Some(def) => Ok(def),
                        None => Err(Error::NoSuchSchema(name)),
                    }
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((defs, "schema"))
        }
        Some(other) => Err(Error::Unsupported(format!("GRANT or REVOKE ON {other}"))),
        None => Err(Error::Unsupported("GRANT or REVOKE without ON".into())),
    }
}

/// The privilege bit of one action; column lists are not built.
fn action(a: &Action) -> Result<u32> {
    let columns = match a {
        Action::Select { columns }
        | Action::Insert { columns }
        | Action::Update { columns }
        | Action::References { columns } => columns.is_some(),
        _ => false,
    };
    if columns {
        return Err(Error::Unsupported("column privileges".into()));
    }
    let name = match a {
        Action::Select { .. } => "SELECT",
        Action::Insert { .. } => "INSERT",
        Action::Update { .. } => "UPDATE",
        Action::Delete => "DELETE",
        Action::Truncate => "TRUNCATE",
        Action::References { .. } => "REFERENCES",
        Action::Trigger => "TRIGGER",
        Action::Usage => "USAGE",
        Action::Create { obj_type: None } => "CREATE",
        other => return Err(Error::Unsupported(format!("privilege {other}"))),
    };
    acl::privilege(name).ok_or_else(|| Error::Internal(format!("privilege {name}")))
}

/// A grantee's role name, empty for PUBLIC; it must exist.
fn grantee(sess: &Session, g: &Grantee) -> Result<String> {
    let name = match (&g.grantee_type, &g.name) {
        (GranteesType::Public, _) => return Ok(String::new()),
        (_, Some(GranteeName::ObjectName(n))) => sess.role_spec(object_name(n)),
        _ => return Err(Error::Unsupported(format!("grantee {g}"))),
    };
    if name == "public" {
        return Ok(String::new());
    }
    match sess.role(&name) {
        Some(_) => Ok(name),
        None => Err(Error::NoSuchObject(format!(
            "role \"{name}\" does not exist"
        ))),
    }
}

/// The role an `OWNER TO` names.
pub(super) fn owner_name(sess: &Session, owner: &sqlparser::ast::Owner) -> String {
    use sqlparser::ast::Owner;
    match owner {
        Owner::Ident(i) => crate::sql::ident_name(i),
        Owner::CurrentRole | Owner::CurrentUser => sess.current_role(),
        Owner::SessionUser => sess.session_user(),
    }
}

/// `ALTER TABLE / VIEW / SEQUENCE … OWNER TO role`: only the owner (who
/// must be able to become the new owner) or a superuser; the owner's
/// entries in the access list pass to the new owner.
pub(super) fn owner_to(sess: &mut Session, def: &TableDef, new_owner: &str) -> Result<TableDef> {
    if sess.role(new_owner).is_none() {
        return Err(Error::NoSuchObject(format!(
            "role \"{new_owner}\" does not exist"
        )));
    }
    sess.check_owner(def)?;
    let me = sess.current_role();
    let may_become = sess.with_roles(|r| r.is_member_of(&me, new_owner));
    if !may_become {
        return Err(Error::PermissionDenied(format!(
            "must be member of role \"{new_owner}\""
        )));
    }
    let old = sess.owner_of(&def.access);
    let mut new = def.clone();
    if let Some(items) = &mut new.access.acl {
        for i in items.iter_mut() {
            if i.grantee == old {
                i.grantee = new_owner.to_string();
            }
            if i.grantor == old {
                i.grantor = new_owner.to_string();
            }
        }
    }
    new.access.owner = Some(new_owner.to_string());
    Ok(new)
}

/// The checks PostgreSQL makes before DDL runs: CREATE in schema public
/// for a new relation or type, ownership of the object for ALTER, DROP,
/// COMMENT, CREATE INDEX, REFRESH and CREATE OR REPLACE VIEW.
pub(super) fn authorize(sess: &Session, stmt: &Statement) -> Result<()> {
    if sess.is_superuser() {
        return Ok(());
    }
    let owns = |name: &ObjectName| -> Result<()> {
        let name = object_name(name);
        let bare = name.strip_prefix("public.").unwrap_or(&name);
        match sess.catalog().object(bare) {
            Some(def) => sess.check_owner(&def),
            None => Ok(()),
        }
    };
    let owns_index = |name: &ObjectName| -> Result<()> {
        match super::schema::find_index(sess, &object_name(name)) {
            Some((def, _)) => sess.check_owner(&def),
            None => Ok(()),
        }
    };
    match stmt {
        Statement::CreateTable(ct) if ct.temporary => Ok(()),
        Statement::CreateTable(ct) => super::schema::check_creatable(sess, &object_name(&ct.name)),
        Statement::CreateType { name, .. } => {
            super::schema::check_creatable(sess, &object_name(name))
        }
        Statement::CreateFunction(cf) => {
            super::schema::check_creatable(sess, &object_name(&cf.name))
        }
        Statement::CreateSequence {
            temporary, name, ..
        } if !temporary => super::schema::check_creatable(sess, &object_name(name)),
        Statement::Query(_) if super::create_as::is_select_into(stmt) => sess.check_create(),
        Statement::CreateView(cv) => {
            if !cv.temporary {
                super::schema::check_creatable(sess, &object_name(&cv.name))?;
            }
            match sess.catalog().relation(&object_name(&cv.name)) {
                Some(def) if cv.or_replace => sess.check_owner(&def),
                _ => Ok(()),
            }
        }
        Statement::CreateIndex(ci) => owns(&ci.table_name),
        Statement::AlterIndex { name, .. } => owns_index(name),
        Statement::Drop {
            object_type: ObjectType::Index,
            names,
            ..
        } => names.iter().try_for_each(owns_index),
        Statement::Drop {
            object_type:
                ObjectType::Table
                | ObjectType::View
                | ObjectType::MaterializedView
                | ObjectType::Sequence
                | ObjectType::Type,
            names,
            ..
        } => names.iter().try_for_each(owns),
        Statement::AlterTable(at) => owns(&at.name),
        Statement::AlterView(av) => owns(&av.name),
        Statement::AlterType(at) => owns(&at.name),
        Statement::RefreshMaterializedView(r) => owns(&r.name),
        Statement::Comment {
            object_type,
            object_name: name,
            ..
        } => {
            let mut name = name.clone();
            if *object_type == sqlparser::ast::CommentObject::Column && name.0.len() > 1 {
                name.0.pop();
            }
            owns(&name)
        }
        _ => Ok(()),
    }
}
