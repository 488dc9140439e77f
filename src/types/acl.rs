//! Privileges as PostgreSQL keeps them: the role that owns a relation and
//! its access control list (`pg_class.relacl`), whose items read
//! `grantee=privileges/grantor` (`alice=arw/admin`; an empty grantee is
//! PUBLIC). No list means the default: the owner holds every privilege
//! the object has, nobody else any.
//!
//! Roles are named, not numbered, in MosaicDB's catalog; their oids are
//! derived from the names (see `exec::pg_catalog`).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const INSERT: u32 = 1;
pub const SELECT: u32 = 1 << 1;
pub const UPDATE: u32 = 1 << 2;
pub const DELETE: u32 = 1 << 3;
pub const TRUNCATE: u32 = 1 << 4;
pub const REFERENCES: u32 = 1 << 5;
pub const TRIGGER: u32 = 1 << 6;
pub const USAGE: u32 = 1 << 8;
pub const CREATE: u32 = 1 << 9;
/// The database's (`has_database_privilege`; databases have no ACL here).
pub const TEMPORARY: u32 = 1 << 10;
pub const CONNECT: u32 = 1 << 11;

/// What the owner of each kind of object holds by default, and what
/// `ALL PRIVILEGES` grants on it.
pub const TABLE_ALL: u32 = INSERT | SELECT | UPDATE | DELETE | TRUNCATE | REFERENCES | TRIGGER;
pub const SEQUENCE_ALL: u32 = SELECT | UPDATE | USAGE;

/// Each privilege: its bit, its letter in an ACL item, its SQL name.
const PRIVILEGES: [(u32, char, &str); 11] = [
    (INSERT, 'a', "INSERT"),
    (SELECT, 'r', "SELECT"),
    (UPDATE, 'w', "UPDATE"),
    (DELETE, 'd', "DELETE"),
    (TRUNCATE, 'D', "TRUNCATE"),
    (REFERENCES, 'x', "REFERENCES"),
    (TRIGGER, 't', "TRIGGER"),
    (USAGE, 'U', "USAGE"),
    (CREATE, 'C', "CREATE"),
    (TEMPORARY, 'T', "TEMPORARY"),
    (CONNECT, 'c', "CONNECT"),
];

/// The privilege a SQL keyword names (`SELECT`, …).
pub fn privilege(name: &str) -> Option<u32> {
    if name.eq_ignore_ascii_case("TEMP") {
        return Some(TEMPORARY);
    }
    PRIVILEGES
        .iter()
        .find(|(_, _, n)| n.eq_ignore_ascii_case(name))
        .map(|(bit, _, _)| *bit)
}

/// The SQL name of one privilege bit.
pub fn privilege_name(bit: u32) -> &'static str {
    PRIVILEGES
        .iter()
        .find(|(b, _, _)| *b == bit)
        .map_or("?", |(_, _, n)| n)
}

/// One item of an access control list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclItem {
    /// The role granted to; empty for PUBLIC.
    pub grantee: String,
    pub grantor: String,
    pub privs: u32,
}

impl AclItem {
    /// PostgreSQL's text form, `grantee=privileges/grantor`.
    pub fn to_text(&self) -> String {
        let letters: String = PRIVILEGES
            .iter()
            .filter(|(bit, _, _)| self.privs & bit != 0)
            .map(|(_, c, _)| *c)
            .collect();
        format!(
            "{}={letters}/{}",
            quote_role(&self.grantee),
            quote_role(&self.grantor)
        )
    }
}

/// A role name as an ACL item prints it: double-quoted unless it is only
/// letters, digits and underscores.
fn quote_role(name: &str) -> String {
    if name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Who owns an object and who else may do what with it. An owner of
/// `None` is the bootstrap superuser (objects made before roles existed).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Access {
    #[serde(default)]
    pub owner: Option<String>,
    /// `None`: the default list (the owner holds everything).
    #[serde(default)]
    pub acl: Option<Vec<AclItem>>,
}

impl Access {
    /// The list in force: the explicit one, or the owner's default of
    /// `all` privileges.
    pub fn items(&self, owner: &str, all: u32) -> Vec<AclItem> {
        match &self.acl {
            Some(items) => items.clone(),
            None => vec![AclItem {
                grantee: owner.to_string(),
                grantor: owner.to_string(),
                privs: all,
            }],
        }
    }

    /// Give `grantee` (empty: PUBLIC) `privs`, granted by `grantor`.
    pub fn grant(&mut self, owner: &str, all: u32, grantee: &str, grantor: &str, privs: u32) {
        let mut items = self.items(owner, all);
        match items
            .iter_mut()
            .find(|i| i.grantee == grantee && i.grantor == grantor)
        {
            Some(item) => item.privs |= privs,
            None => items.push(AclItem {
                grantee: grantee.to_string(),
                grantor: grantor.to_string(),
                privs,
            }),
        }
        self.acl = Some(items);
    }

    /// Take back from `grantee` the `privs` that `grantor` gave it.
    pub fn revoke(&mut self, owner: &str, all: u32, grantee: &str, grantor: &str, privs: u32) {
        let mut items = self.items(owner, all);
        for item in items
            .iter_mut()
            .filter(|i| i.grantee == grantee && i.grantor == grantor)
        {
            item.privs &= !privs;
        }
        items.retain(|i| i.privs != 0);
        self.acl = Some(items);
    }

    /// Whether the list names `role` as grantee or grantor (what DROP ROLE
    /// must not leave dangling).
    pub fn mentions(&self, role: &str) -> bool {
        self.acl
            .iter()
            .flatten()
            .any(|i| i.grantee == role || i.grantor == role)
    }
}

/// The privileges a role holds through `items`: those granted to PUBLIC
/// and to every role whose privileges it has (`holds`).
pub fn mask(items: &[AclItem], holds: impl Fn(&str) -> bool) -> u32 {
    items
        .iter()
        .filter(|i| i.grantee.is_empty() || holds(&i.grantee))
        .fold(0, |m, i| m | i.privs)
}

/// The bits of `privs` one at a time, in PostgreSQL's order.
pub fn each(privs: u32) -> impl Iterator<Item = u32> {
    PRIVILEGES
        .iter()
        .map(|(bit, _, _)| *bit)
        .filter(move |bit| privs & bit != 0)
}

/// `permission denied for table t` (42501), the noun being the object's
/// kind (`table`, `view`, `sequence`, `materialized view`, `schema`).
pub fn denied(noun: &str, name: &str) -> Error {
    Error::PermissionDenied(format!("permission denied for {noun} {name}"))
}

/// `must be owner of table t` (42501).
pub fn not_owner(noun: &str, name: &str) -> Error {
    Error::PermissionDenied(format!("must be owner of {noun} {name}"))
}

/// Check that `privs` are among what a kind of object can be granted.
pub fn check_applicable(privs: u32, all: u32, noun: &str) -> Result<()> {
    match each(privs).find(|p| all & p == 0) {
        Some(p) => Err(Error::InvalidGrantOperation(format!(
            "invalid privilege type {} for {noun}",
            privilege_name(p)
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_print_as_postgresql_prints_them() {
        let mut a = Access::default();
        a.grant("admin", TABLE_ALL, "alice", "admin", SELECT | INSERT);
        a.grant("admin", TABLE_ALL, "", "admin", SELECT);
        a.grant("admin", TABLE_ALL, "Bob X", "admin", UPDATE);
        let text: Vec<String> = a.acl.iter().flatten().map(AclItem::to_text).collect();
        assert_eq!(
            text,
            [
                "admin=arwdDxt/admin",
                "alice=ar/admin",
                "=r/admin",
                "\"Bob X\"=w/admin"
            ]
        );
        a.revoke("admin", TABLE_ALL, "alice", "admin", SELECT | INSERT);
        assert!(!a.mentions("alice"));
        assert!(a.mentions("Bob X"));
    }

    #[test]
    fn a_mask_is_what_public_and_held_roles_were_given() {
        let mut a = Access::default();
        a.grant("o", TABLE_ALL, "", "o", SELECT);
        a.grant("o", TABLE_ALL, "readers", "o", INSERT);
        let items = a.items("o", TABLE_ALL);
        assert_eq!(mask(&items, |r| r == "readers"), SELECT | INSERT);
        assert_eq!(mask(&items, |_| false), SELECT);
        assert_eq!(mask(&items, |r| r == "o"), TABLE_ALL);
        assert!(check_applicable(USAGE, TABLE_ALL, "relation").is_err());
        assert!(check_applicable(SELECT | UPDATE, SEQUENCE_ALL, "sequence").is_ok());
    }
}
