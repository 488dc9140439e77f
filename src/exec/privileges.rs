//! Who may do what: the session's current role checked against the
//! catalog's roles and each relation's owner and access list
//! (`types::acl`), every time a statement runs, as PostgreSQL checks
//! them. A superuser passes every check. What a statement needs is
//! worked out when it is prepared (`sql::privileges`).

use crate::error::{Error, Result};
use crate::exec::Session;
use crate::sql::privileges::Need;
use crate::store::Store;
use crate::types::acl::{self, Access};
use crate::types::role::Roles;
use crate::types::table::{RelKind, TableDef};

/// The noun PostgreSQL's messages give a relation of this kind.
pub fn noun(def: &TableDef) -> &'static str {
    match def.kind {
        RelKind::Table => "table",
        RelKind::View { .. } => "view",
        RelKind::MatView { .. } => "materialized view",
        RelKind::Sequence(_) => "sequence",
        RelKind::Enum(_) | RelKind::Domain(_) => "type",
        RelKind::Function(_) => "function",
        RelKind::Schema(_) => "schema",
    }
}

/// The name PostgreSQL's messages give an object: a schema's own name, a
/// relation's name within its schema.
pub fn label(def: &TableDef) -> &str {
    match &def.kind {
        RelKind::Schema(name) => name,
        _ => def.rel_name(),
    }
}

/// Every privilege a relation of this kind has.
pub fn all_privileges(def: &TableDef) -> u32 {
    match def.kind {
        RelKind::Sequence(_) => acl::SEQUENCE_ALL,
        RelKind::Enum(_) | RelKind::Domain(_) => acl::USAGE,
        RelKind::Function(_) => 0,
        RelKind::Schema(_) => acl::USAGE | acl::CREATE,
        _ => acl::TABLE_ALL,
    }
}

/// The bootstrap superuser's name (the first by name, should several
/// nodes have been started with different `--user`s): the owner of
/// objects whose owner is not recorded.
pub fn bootstrap_role(store: &Store) -> Option<String> {
    let mut boots: Vec<String> = store
        .catalog
        .roles()
        .into_values()
        .filter(|r| r.bootstrap)
        .map(|r| r.name)
        .collect();
    boots.sort();
    boots.into_iter().next()
}

/// The privileges `role` holds on `def` (every one for a superuser), in
/// `roles`; `owner` stands for an owner that is not recorded.
pub fn held(roles: &Roles, owner: &str, role: &str, def: &TableDef) -> u32 {
    if roles.is_superuser(role) {
        return u32::MAX;
    }
    let owner = def.access.owner.as_deref().unwrap_or(owner);
    let items = def.access.items(owner, all_privileges(def));
    acl::mask(&items, |grantee| roles.has_privs_of(role, grantee))
}

/// What a session that logged in with a `read` token gets for a change.
pub fn read_token_refusal() -> Error {
    Error::PermissionDenied("permission denied: this session's token allows reading only".into())
}

/// A `has_…_privilege` function's privilege text: a comma-separated list
/// of the privileges in `applicable`, any of which will do; and whether
/// it asks `WITH GRANT OPTION` (which only the owner holds here: grants
/// carry none).
pub fn parse_privilege_list(text: &str, applicable: u32) -> Result<(u32, bool)> {
    let mut any = 0;
    let mut grant_option = false;
    for part in text.split(',') {
        let word = part.trim();
        let (word, option) = match word.to_ascii_uppercase().strip_suffix(" WITH GRANT OPTION") {
            Some(w) => (w.trim().to_string(), true),
            None => (word.to_ascii_uppercase(), false),
        };
        grant_option |= option;
        match acl::privilege(&word).filter(|p| applicable & p != 0) {
            Some(p) => any |= p,
            None => {
                return Err(Error::InvalidParameter(format!(
                    "unrecognized privilege type: \"{}\"",
                    part.trim()
                )))
            }
        }
    }
    Ok((any, grant_option))
}

impl Session {
    /// A role as this session sees it: its transaction's role changes
    /// over the catalog's.
    pub fn role(&self, name: &str) -> Option<crate::types::role::Role> {
        match self.ddl.roles.iter().rev().find(|(n, _)| n == name) {
            Some((_, staged)) => staged.clone(),
            None => self.store.catalog.role(name),
        }
    }

    /// Every role as this session sees it.
    pub fn roles(&self) -> std::collections::HashMap<String, crate::types::role::Role> {
        let mut roles = self.store.catalog.roles();
        for (name, role) in &self.ddl.roles {
            match role {
                Some(r) => roles.insert(name.clone(), r.clone()),
                None => roles.remove(name),
            };
        }
        roles
    }

    /// Ask `f` about the roles as this session sees them.
    pub fn with_roles<T>(&self, f: impl FnOnce(&crate::types::role::Roles) -> T) -> T {
        if self.ddl.roles.is_empty() {
            return self.store.catalog.with_roles(f);
        }
        f(&crate::types::role::Roles(&self.roles()))
    }

    /// A role as GRANT and REVOKE name it: CURRENT_USER, CURRENT_ROLE and
    /// SESSION_USER stand for the session's roles.
    pub fn role_spec(&self, name: String) -> String {
        match name.as_str() {
            "current_user" | "current_role" => self.current_role(),
            "session_user" => self.session_user(),
            _ => name,
        }
    }

    /// `current_user`: the session user, or the role SET ROLE chose.
    pub fn current_role(&self) -> String {
        self.functions.role.read().clone()
    }

    /// `session_user`.
    pub fn session_user(&self) -> String {
        self.functions.user.read().clone()
    }

    /// The role that owns objects whose owner is not recorded (made
    /// before roles had owners): the bootstrap superuser.
    pub fn bootstrap_role(&self) -> String {
        bootstrap_role(&self.store).unwrap_or_else(|| self.user.clone())
    }

    /// The owner of `access`'s object.
    pub fn owner_of(&self, access: &Access) -> String {
        access
            .owner
            .clone()
            .unwrap_or_else(|| self.bootstrap_role())
    }

    pub fn is_superuser(&self) -> bool {
        let role = self.current_role();
        self.with_roles(|r| r.is_superuser(&role))
    }

    /// Whether the current role has the privileges of `role`.
    pub fn acts_as(&self, role: &str) -> bool {
        let me = self.current_role();
        self.with_roles(|r| r.has_privs_of(&me, role))
    }

    /// A session that logged in with a token: perms `read` run queries
    /// only, `write` no DDL (42501 otherwise).
    pub fn set_token_perms(&self, perms: Option<crate::auth::token::Perms>) {
        *self.token_perms.write() = perms;
    }

    pub(crate) fn check_token(&self, kind: &crate::exec::Kind) -> Result<()> {
        use crate::auth::token::Perms;
        use crate::exec::Kind;
        let Some(perms) = *self.token_perms.read() else {
            return Ok(());
        };
        let ddl = matches!(
            kind,
            Kind::Ddl
                | Kind::PreParsedDdl(_)
                | Kind::Seal(_)
                | Kind::Replicate(_)
                | Kind::ForgetNode(_)
                | Kind::Backup(..)
        );
        let write = matches!(
            kind,
            Kind::Insert
                | Kind::Update
                | Kind::Delete
                | Kind::Merge(_)
                | Kind::WithWrites(_)
                | Kind::CopyFrom(_)
                | Kind::LockingQuery(_)
        );
        match perms {
            Perms::Read if ddl || write => Err(read_token_refusal()),
            Perms::Write if ddl => Err(Error::PermissionDenied(
                "permission denied: this session's token does not allow DDL".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Check what a prepared statement needs (42501 for the first
    /// privilege missing).
    pub fn check_needs(&self, needs: &[Need]) -> Result<()> {
        if needs.is_empty() || self.is_superuser() {
            return Ok(());
        }
        let me = self.current_role();
        let boot = self.bootstrap_role();
        let catalog = self.catalog();
        for need in needs {
            let Some(def) = catalog.relation(&need.relation) else {
                continue;
            };
            if def.is_temp() {
                continue;
            }
            self.check_schema(def.schema_name(), acl::USAGE)?;
            let role = match &need.via {
                Some(view) => match catalog.relation(view) {
                    Some(v) => self.owner_of(&v.access),
                    None => continue,
                },
                None => me.clone(),
            };
            let privs = self.with_roles(|roles| held(roles, &boot, &role, &def));
            if need.privs & !privs != 0 {
                return Err(acl::denied(noun(&def), def.rel_name()));
            }
        }
        Ok(())
    }

    /// Only the owner (or a member of the owning role, or a superuser)
    /// may ALTER, DROP, COMMENT ON, index, GRANT on or REFRESH a relation.
    pub fn check_owner(&self, def: &TableDef) -> Result<()> {
        if def.is_temp() || self.acts_as(&self.owner_of(&def.access)) {
            return Ok(());
        }
        Err(acl::not_owner(noun(def), label(def)))
    }

    /// 42501 unless the current role holds `privs` (USAGE, CREATE) on
    /// created schema `name`; the built-in ones are checked elsewhere.
    pub fn check_schema(&self, name: &str, privs: u32) -> Result<()> {
        let Some(def) = self.catalog().schema(name) else {
            return Ok(());
        };
        if self.is_superuser() {
            return Ok(());
        }
        let (me, boot) = (self.current_role(), self.bootstrap_role());
        let held = self.with_roles(|roles| held(roles, &boot, &me, &def));
        if privs & !held != 0 {
            return Err(acl::denied("schema", name));
        }
        Ok(())
    }

    /// CREATE in schema public: as in PostgreSQL 15, only its owner (the
    /// database owner, here the bootstrap superuser) and superusers, unless
    /// GRANT CREATE ON SCHEMA public gave it (the schema is then recorded,
    /// and `check_schema` reads its access list).
    pub fn check_create(&self) -> Result<()> {
        if self.is_superuser() || self.acts_as(&self.bootstrap_role()) {
            return Ok(());
        }
        if self
            .catalog()
            .schema(crate::types::schema::PUBLIC)
            .is_some()
        {
            return self.check_schema(crate::types::schema::PUBLIC, acl::CREATE);
        }
        Err(acl::denied("schema", "public"))
    }

    /// SET ROLE (`None`: NONE, back to the session user).
    pub fn set_role(&mut self, role: Option<&str>) -> Result<()> {
        let session = self.session_user();
        let role = match role {
            None => session,
            Some(r) => {
                let known = self.role(r).is_some();
                if !known {
                    return Err(Error::InvalidParameter(format!(
                        "role \"{r}\" does not exist"
                    )));
                }
                let allowed = self.with_roles(|roles| roles.is_member_of(&session, r));
                if !allowed {
                    return Err(Error::PermissionDenied(format!(
                        "permission denied to set role \"{r}\""
                    )));
                }
                r.to_string()
            }
        };
        *self.functions.role.write() = role;
        self.identity_settings();
        Ok(())
    }

    /// `is_superuser` (of the current role) and `session_authorization`
    /// (the session user) as SHOW gives them and ParameterStatus reports
    /// them: at login, after SET ROLE and SET SESSION AUTHORIZATION.
    pub fn identity_settings(&self) {
        let on = if self.is_superuser() { "on" } else { "off" };
        self.settings().server_fact("is_superuser", on.to_string());
        self.settings()
            .server_fact("session_authorization", self.session_user());
    }

    /// SET SESSION AUTHORIZATION (`None`: DEFAULT, the role that logged
    /// in); only a superuser who logged in may.
    pub fn set_session_authorization(&mut self, role: Option<&str>) -> Result<()> {
        let login = self.user.clone();
        let target = role.unwrap_or(&login).to_string();
        if target != login {
            let allowed = self.with_roles(|r| r.is_superuser(&login));
            if !allowed {
                return Err(Error::PermissionDenied(format!(
                    "permission denied to set session authorization \"{target}\""
                )));
            }
            if self.role(&target).is_none() {
                return Err(Error::InvalidParameter(format!(
                    "role \"{target}\" does not exist"
                )));
            }
        }
        *self.functions.user.write() = target.clone();
        *self.functions.role.write() = target;
        self.identity_settings();
        Ok(())
    }
}
