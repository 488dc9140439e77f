//! Roles as PostgreSQL has them: attributes, a SCRAM verifier (never a
//! password) and membership in other roles, whose privileges a member
//! has when it INHERITs.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A role of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    /// `SCRAM-SHA-256$…`; `None` when the role has no password (it cannot
    /// log in with one).
    pub verifier: Option<String>,
    pub superuser: bool,
    pub login: bool,
    pub create_role: bool,
    pub create_db: bool,
    pub inherit: bool,
    pub replication: bool,
    pub bypass_rls: bool,
    /// `CONNECTION LIMIT`; -1 for none.
    pub connection_limit: i32,
    /// The node's bootstrap user (`--user`): pg_authid's oid 10, owner of
    /// objects made before roles had owners.
    #[serde(default)]
    pub bootstrap: bool,
    /// The roles this one is a member of.
    #[serde(default)]
    pub member_of: Vec<Membership>,
}

/// Membership of a role in another (`GRANT parent TO member`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub role: String,
    pub admin: bool,
    pub grantor: String,
}

impl Role {
    /// A role as CREATE ROLE makes it before its options apply.
    pub fn new(name: &str, login: bool) -> Role {
        Role {
            name: name.to_string(),
            verifier: None,
            superuser: false,
            login,
            create_role: false,
            create_db: false,
            inherit: true,
            replication: false,
            bypass_rls: false,
            connection_limit: -1,
            bootstrap: false,
            member_of: Vec::new(),
        }
    }

    /// The node's bootstrap superuser.
    pub fn bootstrap(name: &str, verifier: String) -> Role {
        Role {
            verifier: Some(verifier),
            superuser: true,
            create_role: true,
            create_db: true,
            replication: true,
            bypass_rls: true,
            bootstrap: true,
            ..Role::new(name, true)
        }
    }
}

/// Check a name CREATE ROLE or ALTER ROLE … RENAME may give (42939 for
/// the reserved ones).
pub fn check_name(name: &str) -> Result<()> {
    if name.starts_with("pg_") {
        return Err(
            Error::ReservedName(format!("role name \"{name}\" is reserved"))
                .with_detail("Role names starting with \"pg_\" are reserved."),
        );
    }
    if matches!(name, "public" | "none") {
        return Err(Error::ReservedName(format!(
            "role name \"{name}\" is reserved"
        )));
    }
    Ok(())
}

/// The roles by name, for membership questions.
pub struct Roles<'a>(pub &'a HashMap<String, Role>);

impl Roles<'_> {
    pub fn get(&self, name: &str) -> Option<&Role> {
        self.0.get(name)
    }

    pub fn is_superuser(&self, name: &str) -> bool {
        self.get(name).is_some_and(|r| r.superuser)
    }

    /// Whether `member` has the privileges of `role`: it is that role, a
    /// superuser, or a member of it through a chain of INHERIT roles
    /// (PostgreSQL's `has_privs_of_role`).
    pub fn has_privs_of(&self, member: &str, role: &str) -> bool {
        member == role || self.is_superuser(member) || self.reaches(member, role, true)
    }

    /// Whether `member` is a member of `role`, directly or not, inheriting
    /// or not (what SET ROLE needs: `is_member_of_role`).
    pub fn is_member_of(&self, member: &str, role: &str) -> bool {
        member == role || self.is_superuser(member) || self.reaches(member, role, false)
    }

    fn reaches(&self, member: &str, role: &str, inheriting: bool) -> bool {
        let mut seen = vec![member.to_string()];
        let mut next = vec![member.to_string()];
        while let Some(m) = next.pop() {
            let Some(r) = self.get(&m) else { continue };
            if inheriting && !r.inherit {
                continue;
            }
            for parent in &r.member_of {
                if parent.role == role {
                    return true;
                }
                if !seen.contains(&parent.role) {
                    seen.push(parent.role.clone());
                    next.push(parent.role.clone());
                }
            }
        }
        false
    }

    /// Whether `member` may grant membership in `role`: a superuser, a
    /// CREATEROLE role (for non-superuser roles), or a member WITH ADMIN
    /// OPTION.
    pub fn may_administer(&self, member: &str, role: &str) -> bool {
        let Some(m) = self.get(member) else {
            return false;
        };
        if m.superuser {
            return true;
        }
        if m.create_role && !self.is_superuser(role) {
            return true;
        }
        m.member_of.iter().any(|p| p.role == role && p.admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privileges_flow_through_inheriting_members_only() {
        let mut map = HashMap::new();
        let mut alice = Role::new("alice", true);
        alice.member_of.push(Membership {
            role: "staff".into(),
            admin: false,
            grantor: "admin".into(),
        });
        let mut staff = Role::new("staff", false);
        staff.member_of.push(Membership {
            role: "readers".into(),
            admin: false,
            grantor: "admin".into(),
        });
        let mut bob = Role::new("bob", true);
        bob.inherit = false;
        bob.member_of = staff.member_of.clone();
        for r in [alice, staff, Role::new("readers", false), bob] {
            map.insert(r.name.clone(), r);
        }
        map.insert("admin".into(), Role::bootstrap("admin", String::new()));
        let roles = Roles(&map);
        assert!(roles.has_privs_of("alice", "readers"));
        assert!(!roles.has_privs_of("readers", "alice"));
        assert!(!roles.has_privs_of("bob", "readers"));
        assert!(roles.is_member_of("bob", "readers"));
        assert!(roles.has_privs_of("admin", "alice"));
        assert!(check_name("pg_x").is_err() && check_name("public").is_err());
        assert!(check_name("alice").is_ok());
    }
}
