//! CREATE ROLE / USER, ALTER ROLE, DROP ROLE, and GRANT / REVOKE of role
//! membership. A change is staged in the transaction's DDL block (the
//! session sees it at once, a savepoint or a rollback takes it back) and
//! written to the catalog and pushed to every node at COMMIT: a role
//! made on one node logs in on every node once its transaction commits.

use sqlparser::ast::{
    AlterRoleOperation, CreateRole, Expr, GrantRole, Grantee, GranteeName, GranteesType, Ident,
    ObjectName, Password, RevokeRole, RoleGrantOptionValue, RoleOption, Statement, Value,
};

use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
use crate::sql::{ident_name, object_name};
use crate::types::role::{check_name, Membership, Role};

/// Whether `stmt` changes roles (and runs here rather than as table DDL).
pub fn is_role_statement(stmt: &Statement) -> bool {
    matches!(
        stmt,
        Statement::CreateRole(_)
            | Statement::AlterRole { .. }
            | Statement::GrantRole(_)
            | Statement::RevokeRole(_)
            | Statement::Drop {
                object_type: sqlparser::ast::ObjectType::Role | sqlparser::ast::ObjectType::User,
                ..
            }
    )
}

pub fn run(sess: &mut Session, stmt: &Statement) -> Result<Outcome> {
    let tag = match stmt {
        Statement::CreateRole(cr) => create(sess, cr)?,
        Statement::AlterRole { name, operation } => alter(sess, name, operation)?,
        Statement::GrantRole(g) => grant(sess, g)?,
        Statement::RevokeRole(r) => revoke(sess, r)?,
        Statement::Drop {
            names, if_exists, ..
        } => drop(sess, names, *if_exists)?,
        _ => return Err(Error::Internal("not a role statement".into())),
    };
    Ok(Outcome::Command(tag.into()))
}

/// Stage roles' new states (`None`: dropped) in the transaction, and
/// journal them in its SQLite transaction, as table DDL is: a COMMIT that
/// returned is not lost to a crash before the catalog is written.
fn put(sess: &mut Session, changes: Vec<(String, Option<Role>)>) -> Result<()> {
    changes
        .into_iter()
        .try_for_each(|(name, role)| crate::exec::ddl::record_role(sess, name, role))
}

fn no_such_role(name: &str) -> Error {
    Error::NoSuchObject(format!("role \"{name}\" does not exist"))
}

fn existing(sess: &Session, name: &str) -> Result<Role> {
    sess.role(name).ok_or_else(|| no_such_role(name))
}

/// The current role's own entry (it always exists while it is logged in).
fn me(sess: &Session) -> Result<Role> {
    existing(sess, &sess.current_role())
}

fn create(sess: &mut Session, cr: &CreateRole) -> Result<&'static str> {
    let me = me(sess)?;
    if !me.superuser && !me.create_role {
        return Err(Error::PermissionDenied(
            "permission denied to create role".into(),
        ));
    }
    let mut roles = Vec::new();
    for name in &cr.names {
        let name = object_name(name);
        check_name(&name)?;
        if sess.role(&name).is_some() {
            if cr.if_not_exists {
                continue;
            }
            return Err(Error::ObjectExists(format!(
                "role \"{name}\" already exists"
            )));
        }
        let mut role = Role::new(&name, cr.login.unwrap_or(false));
        let mut options = Vec::new();
        let flags = [
            (
                cr.superuser,
                RoleOption::SuperUser as fn(bool) -> RoleOption,
            ),
            (cr.create_db, RoleOption::CreateDB),
            (cr.create_role, RoleOption::CreateRole),
            (cr.inherit, RoleOption::Inherit),
            (cr.replication, RoleOption::Replication),
            (cr.bypassrls, RoleOption::BypassRLS),
        ];
        for (value, option) in flags {
            if let Some(v) = value {
                options.push(option(v));
            }
        }
        if let Some(p) = &cr.password {
            options.push(RoleOption::Password(p.clone()));
        }
        if let Some(e) = &cr.connection_limit {
            options.push(RoleOption::ConnectionLimit(e.clone()));
        }
        if let Some(e) = &cr.valid_until {
            options.push(RoleOption::ValidUntil(e.clone()));
        }
        apply_options(&me, &mut role, &options)?;
        roles.push(role);
    }
    let grantor = me.name.clone();
    let mut changes: Vec<(String, Option<Role>)> = Vec::new();
    for mut role in roles {
        for parent in cr.in_role.iter().chain(&cr.in_group) {
            let parent = ident_name(parent);
            existing(sess, &parent)?;
            join(&mut role, &parent, false, &grantor);
        }
        for (members, admin) in [(&cr.role, false), (&cr.user, false), (&cr.admin, true)] {
            for m in members {
                let mut member = existing(sess, &ident_name(m))?;
                join(&mut member, &role.name, admin, &grantor);
                changes.push((member.name.clone(), Some(member)));
            }
        }
        changes.insert(0, (role.name.clone(), Some(role)));
    }
    put(sess, changes)?;
    Ok("CREATE ROLE")
}

/// Make `member` a member of `parent` (or give it the admin option).
fn join(member: &mut Role, parent: &str, admin: bool, grantor: &str) {
    match member.member_of.iter_mut().find(|m| m.role == parent) {
        Some(m) => m.admin |= admin,
        None => member.member_of.push(Membership {
            role: parent.to_string(),
            admin,
            grantor: grantor.to_string(),
        }),
    }
}

/// Apply role options as `me` may (superuser-only ones refused to others).
fn apply_options(me: &Role, role: &mut Role, options: &[RoleOption]) -> Result<()> {
    for option in options {
        let needs_superuser = match option {
            RoleOption::SuperUser(_) => Some("superusers"),
            RoleOption::Replication(_) => Some("replication users"),
            RoleOption::BypassRLS(_) => Some("bypassrls users"),
            _ => None,
        };
        if let (Some(what), false) = (needs_superuser, me.superuser) {
            return Err(Error::PermissionDenied(format!(
                "must be superuser to create {what}"
            )));
        }
        match option {
            RoleOption::SuperUser(v) => role.superuser = *v,
            RoleOption::CreateDB(v) => role.create_db = *v,
            RoleOption::CreateRole(v) => role.create_role = *v,
            RoleOption::Inherit(v) => role.inherit = *v,
            RoleOption::Login(v) => role.login = *v,
            RoleOption::Replication(v) => role.replication = *v,
            RoleOption::BypassRLS(v) => role.bypass_rls = *v,
            RoleOption::ConnectionLimit(e) => role.connection_limit = connection_limit(e)?,
            RoleOption::Password(Password::NullPassword) => role.verifier = None,
            RoleOption::Password(Password::Password(e)) => {
                role.verifier = match string(e) {
                    Some(p) => Some(verifier(p)?),
                    None if matches!(e, Expr::Value(v) if v.value == Value::Null) => None,
                    None => return Err(Error::Syntax(format!("syntax error at or near \"{e}\""))),
                }
            }
            RoleOption::ValidUntil(_) => {
                return Err(Error::Unsupported("VALID UNTIL of a role".into()))
            }
        }
    }
    Ok(())
}

fn string(e: &Expr) -> Option<&str> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// What a PASSWORD option stores: a SCRAM verifier as given (psql's
/// `\password` sends one), else the verifier of the password. An MD5 hash
/// cannot be used for SCRAM logins.
fn verifier(password: &str) -> Result<String> {
    if password.starts_with("SCRAM-SHA-256$") {
        if crate::auth::parse_verifier(password).is_none() {
            return Err(Error::InvalidParameter(
                "invalid SCRAM-SHA-256 verifier".into(),
            ));
        }
        return Ok(password.to_string());
    }
    let md5 = password.len() == 35
        && password.starts_with("md5")
        && password[3..].bytes().all(|b| b.is_ascii_hexdigit());
    if md5 {
        return Err(Error::Unsupported(
            "MD5 password hashes (give the password or its SCRAM-SHA-256 verifier)".into(),
        ));
    }
    if password.is_empty() {
        return Err(Error::InvalidParameter("empty password".into()));
    }
    Ok(crate::auth::make_verifier(password))
}

fn connection_limit(e: &Expr) -> Result<i32> {
    let text = match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.clone(),
            _ => String::new(),
        },
        Expr::UnaryOp {
            op: sqlparser::ast::UnaryOperator::Minus,
            expr,
        } => format!("-{expr}"),
        _ => String::new(),
    };
    match text.parse::<i32>() {
        Ok(n) if n >= -1 => Ok(n),
        Ok(n) => Err(Error::InvalidParameter(format!(
            "invalid connection limit: {n}"
        ))),
        Err(_) => Err(Error::Syntax(format!("syntax error at or near \"{e}\""))),
    }
}

fn alter(sess: &mut Session, name: &Ident, op: &AlterRoleOperation) -> Result<&'static str> {
    let name = ident_name(name);
    let me = me(sess)?;
    let mut role = existing(sess, &name)?;
    match op {
        AlterRoleOperation::WithOptions { options } => {
            // A role may change its own password; anything else takes
            // CREATEROLE, and superuser-only attributes a superuser.
            let own_password =
                name == me.name && options.iter().all(|o| matches!(o, RoleOption::Password(_)));
            if !me.superuser {
                let superuser_only = options.iter().find_map(|o| match o {
                    RoleOption::SuperUser(_) => {
                        Some("superuser roles or change superuser attribute")
                    }
                    RoleOption::Replication(_) => {
                        Some("replication roles or change replication attribute")
                    }
                    _ => None,
                });
                let touches = superuser_only.or(role
                    .superuser
                    .then_some("superuser roles or change superuser attribute"));
                if let Some(what) = touches {
                    return Err(Error::PermissionDenied(format!(
                        "must be superuser to alter {what}"
                    )));
                }
                if options
                    .iter()
                    .any(|o| matches!(o, RoleOption::BypassRLS(_)))
                {
                    return Err(Error::PermissionDenied(
                        "must be superuser to change bypassrls attribute".into(),
                    ));
                }
                if !me.create_role && !own_password {
                    return Err(Error::PermissionDenied("permission denied".into()));
                }
            }
            apply_options(&me, &mut role, options)?;
            if role.bootstrap && !role.superuser {
                return Err(Error::PermissionDenied(
                    "permission denied: bootstrap user must be superuser".into(),
                ));
            }
            put(sess, vec![(name, Some(role))])?;
            Ok("ALTER ROLE")
        }
        AlterRoleOperation::RenameRole { .. } => {
            Err(Error::Unsupported("ALTER ROLE … RENAME TO".into()))
        }
        other => Err(Error::Unsupported(format!("ALTER ROLE … {other}"))),
    }
}

fn drop(sess: &mut Session, names: &[ObjectName], if_exists: bool) -> Result<&'static str> {
    let me = me(sess)?;
    let mut gone = Vec::new();
    for name in names {
        let name = object_name(name);
        let Some(role) = sess.role(&name) else {
            if if_exists {
                crate::exec::ddl::missing_skipped(sess, "role", &name);
                continue;
            }
            return Err(no_such_role(&name));
        };
        if name == sess.current_role() {
            return Err(Error::ObjectInUse("current user cannot be dropped".into()));
        }
        if name == sess.session_user() {
            return Err(Error::ObjectInUse("session user cannot be dropped".into()));
        }
        if role.bootstrap {
            return Err(Error::DependentObjects(format!(
                "cannot drop role {name} because it is required by the database system"
            )));
        }
        if !me.superuser {
            if role.superuser {
                return Err(Error::PermissionDenied(
                    "must be superuser to drop superusers".into(),
                ));
            }
            if !me.create_role {
                return Err(Error::PermissionDenied(
                    "permission denied to drop role".into(),
                ));
            }
        }
        dependents(sess, &name)?;
        gone.push(name);
    }
    // Memberships in the dropped roles go with them.
    let mut changes: Vec<(String, Option<Role>)> = Vec::new();
    for mut r in sess.roles().into_values() {
        if gone.contains(&r.name) {
            continue;
        }
        let before = r.member_of.len();
        r.member_of.retain(|m| !gone.contains(&m.role));
        if r.member_of.len() != before {
            changes.push((r.name.clone(), Some(r)));
        }
    }
    changes.extend(gone.into_iter().map(|n| (n, None)));
    put(sess, changes)?;
    Ok("DROP ROLE")
}

/// 2BP01 when relations are owned by `role` or name it in their lists.
fn dependents(sess: &Session, role: &str) -> Result<()> {
    let mut detail = Vec::new();
    let mut relations = sess.catalog().objects();
    relations.sort_by(|a, b| a.name.cmp(&b.name));
    for def in relations {
        let noun = crate::exec::privileges::noun(&def);
        // A function by its signature, not its catalog key.
        let name = def.function().map_or(def.name.clone(), |f| f.signature());
        let owns = def.access.owner.as_deref() == Some(role);
        if owns {
            detail.push(format!("owner of {noun} {name}"));
        }
        // The owner's own entries are no dependency of their own.
        if !owns && def.access.mentions(role) {
            detail.push(format!("privileges for {noun} {name}"));
        }
    }
    if detail.is_empty() {
        return Ok(());
    }
    Err(Error::DependentObjects(format!(
        "role \"{role}\" cannot be dropped because some objects depend on it"
    ))
    .with_detail(detail.join("\n")))
}

/// A grantee's role name; PUBLIC is not a role one can be a member of.
fn grantee_name(sess: &Session, g: &Grantee) -> Result<String> {
    match (&g.grantee_type, &g.name) {
        (GranteesType::Public, _) => {
            Err(Error::NoSuchObject("role \"public\" does not exist".into()))
        }
        (_, Some(GranteeName::ObjectName(n))) => Ok(sess.role_spec(object_name(n))),
        _ => Err(Error::Unsupported(format!("grantee {g}"))),
    }
}

fn grant(sess: &mut Session, g: &GrantRole) -> Result<&'static str> {
    if g.granted_by.is_some() {
        return Err(Error::Unsupported("GRANTED BY".into()));
    }
    let mut admin = false;
    for o in &g.options {
        match (ident_name(&o.name).as_str(), &o.value) {
            ("admin", RoleGrantOptionValue::Option | RoleGrantOptionValue::True) => admin = true,
            ("admin", RoleGrantOptionValue::False) => {}
            _ => return Err(Error::Unsupported(format!("GRANT … WITH {o}"))),
        }
    }
    let me = sess.current_role();
    memberships(sess, &g.roles, &g.grantees, |sess, member, parent| {
        let name = member.name.clone();
        if sess.with_roles(|r| parent == name || reaches(r, parent, &name)) {
            return Err(Error::InvalidGrantOperation(format!(
                "role \"{parent}\" is a member of role \"{name}\""
            )));
        }
        join(member, parent, admin, &me);
        Ok(())
    })?;
    Ok("GRANT ROLE")
}

/// Change each grantee's membership in each of `parents` with `change`,
/// where the current role may administer the parent; staged together.
fn memberships(
    sess: &mut Session,
    parents: &[Ident],
    grantees: &[Grantee],
    mut change: impl FnMut(&Session, &mut Role, &str) -> Result<()>,
) -> Result<()> {
    let me = sess.current_role();
    let mut changes: Vec<(String, Option<Role>)> = Vec::new();
    for parent in parents {
        let parent = ident_name(parent);
        existing(sess, &parent)?;
        if !sess.with_roles(|r| r.may_administer(&me, &parent)) {
            return Err(Error::PermissionDenied(format!(
                "must have admin option on role \"{parent}\""
            )));
        }
        for grantee in grantees {
            let name = grantee_name(sess, grantee)?;
            let mut member = match changes.iter().position(|(n, _)| *n == name) {
                Some(i) => changes.remove(i).1.ok_or_else(|| no_such_role(&name))?,
                None => existing(sess, &name)?,
            };
            change(sess, &mut member, &parent)?;
            changes.push((name, Some(member)));
        }
    }
    put(sess, changes)
}

/// Whether `member` is already, directly or not, a member of `role`,
/// ignoring superuser status (what would make a membership circular).
fn reaches(roles: &crate::types::role::Roles, member: &str, role: &str) -> bool {
    let mut next = vec![member.to_string()];
    let mut seen = next.clone();
    while let Some(m) = next.pop() {
        for p in roles
            .get(&m)
            .map(|r| r.member_of.clone())
            .unwrap_or_default()
        {
            if p.role == role {
                return true;
            }
            if !seen.contains(&p.role) {
                seen.push(p.role.clone());
                next.push(p.role);
            }
        }
    }
    false
}

fn revoke(sess: &mut Session, r: &RevokeRole) -> Result<&'static str> {
    if r.granted_by.is_some() {
        return Err(Error::Unsupported("GRANTED BY".into()));
    }
    let admin_only = match &r.option_for {
        None => false,
        Some(o) if ident_name(o) == "admin" => true,
        Some(o) => return Err(Error::Unsupported(format!("REVOKE {o} OPTION FOR"))),
    };
    memberships(sess, &r.roles, &r.grantees, |sess, member, parent| {
        match member.member_of.iter().position(|m| m.role == parent) {
            None => sess.shared.warn(format!(
                "role \"{}\" is not a member of role \"{parent}\"",
                member.name
            )),
            Some(i) if admin_only => member.member_of[i].admin = false,
            Some(i) => {
                member.member_of.remove(i);
            }
        }
        Ok(())
    })?;
    Ok("REVOKE ROLE")
}
